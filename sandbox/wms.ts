/**
 * The sandbox WMS, in the shape of Extensiv 3PL Warehouse Manager's REST API. One
 * implementation, two instances: the distributor's own WMS (EAST, CENTRAL, WEST) and the
 * 3PL's (3PL-SOUTH), chosen by `options.system`.
 *
 *   POST /AuthServer/api/Token          Basic client credentials + {grant_type, user_login|user_login_id, tpl?}
 *   GET  /properties/facilities         HAL, rel http://api.3plCentral.com/rels/properties/facility
 *   GET  /inventory/stocksummaries      {totalResults, summaries}, no _embedded; sorted by sku, facilityId
 *   GET  /orders                        HAL, rel http://api.3plCentral.com/rels/orders/order; `detail`
 *   GET  /orders/{id}                   one order with ETag; 404 when unknown
 *   POST /orders                        201 + ETag; allocates stock; duplicate referenceNum → 400 Duplicate
 *   POST /orders/{id}/canceler          If-Match, {reason} → 204; releases the allocated stock
 *   POST /orders/{id}/confirmer         If-Match, {trackingNumber?} → 204; ships the allocated stock
 *   GET  /inventory/receivers           HAL, rel http://api.3plCentral.com/rels/inventory/receiver
 *   GET  /inventory/receivers/{id}      one receiver; 404 when unknown
 *   POST /inventory/receivers           201 + ETag; an expected receipt; duplicate referenceNum → 400 Duplicate
 *   POST /inventory/adjustments         {facilityId, adjustmentItems[{itemIdentifier{sku}, qty (signed, ≠ 0), reason}]}
 *                                       → 201; on hand and available move by qty; below zero → 400 Incompatible
 *   GET  /events/webhook/key            {publicKey (PEM, SPKI), retrievalDateISO}; 304 when
 *                                       `previousRetrievalDateISO` names the current key
 *
 * Control plane (no auth; besides faults.ts's): `POST /_webhooks/rotate-key` (a new RSA key
 * pair), `POST /_carrier/{orderId}/delivered` (the carrier delivered a shipped order: sets
 * `readOnly.deliveredDate`; 409 unless the order is closed and not yet delivered).
 *
 * Webhooks (Extensiv's event notifications; webhook signing: shared/reference/wms-apis-and-webhooks.md §4): one event per
 * delivery, `Signature` = base64 RSA-SHA256 of the raw body with the instance's RSA-2048 key
 * (made at start, replaced by rotate-key), envelope `tplId`, `wmsEventId` (same on retries),
 * `eventDateTimeUtc` (7 fractional digits, no offset), `eventType`, `tags`, `resource{rel, href,
 * body}`, `links`/`data` as escaped JSON strings. OrderCreate (POST /orders), OrderConfirm
 * (confirmer), OrderCancel (canceler), OrderDelivered (carrier feed) carry the order as
 * `GET /orders/{id}?detail=All&itemdetail=All` shows it; Adjustment (one per adjusted item)
 * the stock summary row after the change. Delivery, retries and faults: webhooks.ts.
 *
 * Orders with `detail=All` (or `OrderItems`) carry `orderItems`, each with Extensiv's
 * `readOnly.{orderItemId, fullyAllocated}`; `itemdetail=All` (or `Allocations`) adds
 * `readOnly.allocations[{receiveItemId, qty}]`, the stock the line holds. A short line holds
 * less than its `qty` and the stock row's `orderedNotAllocated` carries the rest.
 *
 * Operators check, in order: the order exists (404), `If-Match` is present (428) and current
 * (412), the body (400), then the order's state (403 OperationException): canceling or
 * confirming a Closed order is `OrderConfirmed`, a Canceled one `AlreadyCanceled` (the
 * sandbox's choice: Extensiv's answer to a second cancel is UNCONFIRMED), confirming a short
 * one `NotFullyAllocated`. A receiver stays Open (expected): no confirmer, stock unchanged.
 *
 * `readOnly.deliveredDate` on orders (null until the carrier feed delivers) is a sandbox
 * addition: Extensiv has no delivery tracking. `/inventory/adjustments` is the sandbox's own
 * shape for what Extensiv does through its inventory adjustment screens and events.
 *
 * Deliberately left out (Extensiv has them; Crossdock does not read them yet): `sort=`,
 * `/inventory/stockdetails` (locations, lots, serials), customers and items, the allocator and
 * completer, PUT of orders, receiver confirmers, packages, `=hv=` on nested objects,
 * facility-local times; of webhooks: the UI setup per customer and event type, the https-only
 * rule, Receipt/Assembly/Order Item/Item/Inventory Summary events, adjustments by location or
 * lot, the 6-hour retry window and dead-letter queue (the sandbox retries on its schedule).
 *
 * Orders list in order-id order. Values compare case-sensitively. Injected errors answer 503
 * plain text (Extensiv's 5xx are text); `malformed` answers 200 with a body that has no
 * `summaries`, no `_embedded` and no `access_token`. A body that is not JSON answers 400
 * before faults and statistics see it.
 */
import type { Express, NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { WMS_SANDBOX } from './credentials.js';
import { createSystemApp, type SystemControl } from './faults.js';
import { createWebhookDispatcher, extensivSigner, type WebhookOptions } from './webhooks.js';
import type { SeedWarehouse, SeedWorld } from './seed.js';
import { createTokenServer } from './wms/auth.js';
import {
  checkIfMatch,
  fromIndex,
  listPage,
  notFound,
  queryParam,
  refuseOperation,
  rejectModel,
} from './wms/http.js';
import {
  adjustmentRefusal,
  adjustStock,
  cancelOrder,
  confirmOrder,
  createOrder,
  createReceiver,
  deliverOrder,
  stockRow,
} from './wms/operations.js';
import type { RqlField, RqlFields } from './wms/rql.js';
import {
  buildWmsStore,
  compareStock,
  orderEtag,
  WMS_CUSTOMER,
  wmsDate,
  type StockSummary,
  type WmsOrder,
  type WmsReceiver,
  type WmsStore,
} from './wms/store.js';
import { createWebhookKeyRing, createWmsEvents } from './wms/webhooks.js';

/** Options of {@link createWmsApp}. */
export interface WmsSandboxOptions {
  /** Which instance: the distributor's own WMS or the 3PL's. */
  readonly system: SeedWarehouse['system'];
  /**
   * Lifetime of a bearer token, in seconds (`expires_in`). 0 issues tokens that are already expired.
   * @default 1800 // 30 minutes
   */
  readonly tokenTtlSeconds?: number;
  /**
   * The clock tokens expire and orders are stamped by (tests move it to expire tokens).
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Outbound webhook delivery (retry schedule, timeout).
   * @default {} // DEFAULT_RETRY_DELAYS_MS, 3 s timeout (Extensiv's)
   */
  readonly webhooks?: WebhookOptions;
}

/** Default bearer lifetime (Extensiv's tokens last 30–60 minutes). */
export const DEFAULT_WMS_TOKEN_TTL_SECONDS = 1800;

/**
 * Largest `pgsiz` of `/inventory/stocksummaries`. Extensiv documents 500; the sandbox allows
 * 1000 so one request serves a 250-SKU page across three facilities (750 rows).
 */
export const STOCK_SUMMARIES_MAX_PAGE_SIZE = 1000;

/** Largest `pgsiz` of `/orders` (as Extensiv documents). */
export const ORDERS_MAX_PAGE_SIZE = 1000;

/** Largest `pgsiz` of `/properties/facilities`. */
export const FACILITIES_MAX_PAGE_SIZE = 100;

/** HAL rel of a facility. */
export const FACILITY_REL = 'http://api.3plCentral.com/rels/properties/facility';
/** HAL rel of an order. */
export const ORDER_REL = 'http://api.3plCentral.com/rels/orders/order';
/** HAL rel of a receiver. */
export const RECEIVER_REL = 'http://api.3plCentral.com/rels/inventory/receiver';

/** First id of each instance's inventory adjustments. */
const FIRST_ADJUSTMENT_ID: Readonly<Record<SeedWarehouse['system'], number>> = {
  wms: 30_001,
  tpl: 90_001,
};

/** Largest `pgsiz` of `/inventory/receivers`. */
export const RECEIVERS_MAX_PAGE_SIZE = 1000;

const field = <T>(type: RqlField<T>['type'], get: RqlField<T>['get']): RqlField<T> => ({
  type,
  get,
});

const STOCK_FIELDS: RqlFields<StockSummary> = new Map([
  ['itemidentifier.sku', field<StockSummary>('string', (r) => r.itemIdentifier.sku)],
  ['itemidentifier.id', field<StockSummary>('number', (r) => r.itemIdentifier.id)],
  ['qualifier', field<StockSummary>('string', (r) => r.qualifier)],
  ['facilityid', field<StockSummary>('number', (r) => r.facilityId)],
  ['totalreceived', field<StockSummary>('number', (r) => r.totalReceived)],
  ['onhand', field<StockSummary>('number', (r) => r.onHand)],
  ['available', field<StockSummary>('number', (r) => r.available)],
  ['allocated', field<StockSummary>('number', (r) => r.allocated)],
  ['onhold', field<StockSummary>('number', (r) => r.onHold)],
  ['orderednotallocated', field<StockSummary>('number', (r) => r.orderedNotAllocated)],
  ['lastmodifieddate', field<StockSummary>('date', (r) => r.lastModifiedDate)],
]);

const ORDER_FIELDS: RqlFields<WmsOrder> = new Map([
  ['referencenum', field<WmsOrder>('string', (o) => o.referenceNum)],
  ['readonly.orderid', field<WmsOrder>('number', (o) => o.readOnly.orderId)],
  ['readonly.status', field<WmsOrder>('number', (o) => o.readOnly.status)],
  ['readonly.isclosed', field<WmsOrder>('boolean', (o) => o.readOnly.isClosed)],
  ['readonly.fullyallocated', field<WmsOrder>('boolean', (o) => o.readOnly.fullyAllocated)],
  [
    'readonly.facilityidentifier.id',
    field<WmsOrder>('number', (o) => o.readOnly.facilityIdentifier.id),
  ],
  ['readonly.creationdate', field<WmsOrder>('date', (o) => o.readOnly.creationDate)],
  ['readonly.pickdonedate', field<WmsOrder>('date', (o) => o.readOnly.pickDoneDate)],
  ['readonly.packdonedate', field<WmsOrder>('date', (o) => o.readOnly.packDoneDate)],
  ['readonly.processdate', field<WmsOrder>('date', (o) => o.readOnly.processDate)],
  ['readonly.lastmodifieddate', field<WmsOrder>('date', (o) => o.readOnly.lastModifiedDate)],
  ['readonly.delivereddate', field<WmsOrder>('date', (o) => o.readOnly.deliveredDate)],
  ['routinginfo.carrier', field<WmsOrder>('string', (o) => o.routingInfo.carrier)],
  ['routinginfo.trackingnumber', field<WmsOrder>('string', (o) => o.routingInfo.trackingNumber)],
]);

const RECEIVER_FIELDS: RqlFields<WmsReceiver> = new Map([
  ['referencenum', field<WmsReceiver>('string', (r) => r.referenceNum)],
  ['ponum', field<WmsReceiver>('string', (r) => r.poNum)],
  ['readonly.receiverid', field<WmsReceiver>('number', (r) => r.readOnly.receiverId)],
  ['readonly.status', field<WmsReceiver>('number', (r) => r.readOnly.status)],
  [
    'readonly.facilityidentifier.id',
    field<WmsReceiver>('number', (r) => r.readOnly.facilityIdentifier.id),
  ],
  ['readonly.creationdate', field<WmsReceiver>('date', (r) => r.readOnly.creationDate)],
  ['readonly.lastmodifieddate', field<WmsReceiver>('date', (r) => r.readOnly.lastModifiedDate)],
]);

type FacilityView = { id: number; name: string; code: string; address: Record<string, string> };
const FACILITY_FIELDS: RqlFields<FacilityView> = new Map([
  ['id', field<FacilityView>('number', (f) => f.id)],
  ['name', field<FacilityView>('string', (f) => f.name)],
  ['code', field<FacilityView>('string', (f) => f.code)],
]);

const byOrderId = (a: WmsOrder, b: WmsOrder): number => a.readOnly.orderId - b.readOnly.orderId;
const byReceiverId = (a: WmsReceiver, b: WmsReceiver): number =>
  a.readOnly.receiverId - b.readOnly.receiverId;

/** Whether a `detail`/`itemdetail` list asks for `part` (or `All`). */
function wants(list: string | undefined, part: string): boolean {
  if (list === undefined) return false;
  return list.split(',').some((p) => ['all', part].includes(p.trim().toLowerCase()));
}

function orderView(order: WmsOrder, items: boolean, allocations: boolean): Record<string, unknown> {
  const { orderItems, ...rest } = order;
  const shown = orderItems.map((item) =>
    allocations
      ? item
      : {
          ...item,
          readOnly: {
            orderItemId: item.readOnly.orderItemId,
            fullyAllocated: item.readOnly.fullyAllocated,
          },
        },
  );
  return {
    ...rest,
    ...(items ? { orderItems: shown } : {}),
    _links: { self: { href: `/orders/${order.readOnly.orderId}` } },
  };
}

function receiverView(receiver: WmsReceiver, items: boolean): Record<string, unknown> {
  const { receiveItems, ...rest } = receiver;
  return {
    ...rest,
    ...(items ? { receiveItems } : {}),
    _links: { self: { href: `/inventory/receivers/${receiver.readOnly.receiverId}` } },
  };
}

/** A receiver's ETag: it never changes in the sandbox (no receiver operators). */
const receiverEtag = (receiver: WmsReceiver): string => `"${receiver.readOnly.receiverId}-1"`;

const Identifier = z.object({ id: z.number().int().optional(), name: z.string().optional() });
const Line = z.object({
  itemIdentifier: z.object({ sku: z.string().min(1) }),
  qty: z.number().int().positive(),
});
const text = z.string().optional();

const CreateOrderBody = z.object({
  customerIdentifier: Identifier,
  facilityIdentifier: Identifier,
  referenceNum: z.string().min(1),
  shipTo: z
    .object({
      companyName: text,
      name: text,
      address1: text,
      address2: text,
      city: text,
      state: text,
      zip: text,
      country: text,
      phoneNumber: text,
      emailAddress: text,
    })
    .optional(),
  routingInfo: z.object({ carrier: text, mode: text, trackingNumber: text }).optional(),
  orderItems: z.array(Line).min(1),
});

const CreateReceiverBody = z.object({
  customerIdentifier: Identifier,
  facilityIdentifier: Identifier,
  referenceNum: z.string().min(1),
  poNum: text,
  notes: text,
  receiveItems: z.array(Line).min(1),
});

const AdjustmentBody = z.object({
  facilityId: z.number().int(),
  adjustmentItems: z
    .array(
      z.object({
        itemIdentifier: z.object({ sku: z.string().min(1) }),
        qty: z.number().int(),
        reason: z.string().min(1),
      }),
    )
    .min(1),
});

const CancelBody = z.object({ reason: z.string().min(1) });
const ConfirmBody = z.object({ trackingNumber: text, confirmDate: text, billOfLading: text });

/** Parses a body with `schema`; answers 400 itself (ModelValidationException) and returns null. */
function parseBody<S extends z.ZodType>(
  req: Request,
  res: Response,
  schema: S,
): z.output<S> | null {
  const parsed = schema.safeParse(req.body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  rejectModel(res, where, 'Required', `${where}: ${issue?.message ?? 'invalid'}`);
  return null;
}

/** True for body-parser's error on a body that is not JSON. */
function isBodyParseError(error: unknown): error is Error {
  return error instanceof Error && (error as { type?: unknown }).type === 'entity.parse.failed';
}

/** Builds the sandbox WMS instance `options.system` over `world`. */
export function createWmsApp(
  world: SeedWorld,
  options: WmsSandboxOptions,
): { app: Express; control: SystemControl } {
  const now = options.now ?? Date.now;
  const ttl = options.tokenTtlSeconds ?? DEFAULT_WMS_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 0) {
    throw new RangeError(`tokenTtlSeconds: expected an integer >= 0, got ${ttl}`);
  }
  const store: WmsStore = buildWmsStore(world, options.system);
  const credentials = WMS_SANDBOX[options.system];
  const tokens = createTokenServer(credentials, ttl, now);
  const keys = createWebhookKeyRing(now);
  const webhooks = createWebhookDispatcher(
    extensivSigner(() => keys.current().privateKey),
    options.webhooks,
    now,
  );
  const events = createWmsEvents(webhooks, credentials.tplGuid, now);
  let adjustmentIds = FIRST_ADJUSTMENT_ID[options.system];
  const facilityViews: FacilityView[] = store.facilities.map((f) => ({
    id: f.facilityId,
    name: f.name,
    code: f.code,
    address: { ...f.address },
  }));

  const { app, control } = createSystemApp({
    system: options.system,
    onInjectedError: (res) => {
      res.status(503).type('text/plain').send('Service Unavailable');
    },
    onMalformed: (res) => {
      res.status(200).json({ totalResults: 1, _links: {} });
    },
    webhooks,
    controlPlane: (control) => {
      control.post('/_webhooks/rotate-key', (_req, res) => {
        const key = keys.rotate();
        res.json({ publicKey: key.publicKeyPem, retrievalDateISO: key.retrievalDateISO });
      });
      // The carrier feed Extensiv does not have (a sandbox addition): the parcel arrived.
      control.post('/_carrier/:orderId/delivered', (req, res) => {
        const raw = String(req.params['orderId']);
        const order = store.ordersById.get(/^\d{1,12}$/.test(raw) ? Number(raw) : NaN);
        if (!order) {
          res.status(404).json({ error: `no order with id ${JSON.stringify(raw)}` });
          return;
        }
        const id = order.readOnly.orderId;
        if (order.readOnly.status !== 1) {
          res.status(409).json({
            error: `order ${id} is ${order.readOnly.status === 2 ? 'canceled' : 'open (not shipped)'}; expected a closed (shipped) order`,
          });
          return;
        }
        if (order.readOnly.deliveredDate !== null) {
          res.status(409).json({
            error: `order ${id} was already delivered at ${order.readOnly.deliveredDate}`,
          });
          return;
        }
        deliverOrder(store, order, wmsDate(now()));
        const body = orderView(order, true, true);
        events.order('OrderDelivered', order, body);
        res.json(body);
      });
    },
  });

  app.post('/AuthServer/api/Token', (req, res) => tokens.token(req, res));

  app.use((req: Request, res: Response, next) => {
    if (tokens.authorized(req)) {
      res.type('application/hal+json');
      next();
      return;
    }
    res
      .status(401)
      .set('www-authenticate', 'Bearer')
      .json({ Message: 'Authorization has been denied for this request.' });
  });

  app.get('/events/webhook/key', (req, res) => {
    const key = keys.current();
    if (queryParam(req, 'previousretrievaldateiso') === key.retrievalDateISO) {
      res.status(304).end();
      return;
    }
    res
      .type('application/json')
      .json({ publicKey: key.publicKeyPem, retrievalDateISO: key.retrievalDateISO });
  });

  app.get('/properties/facilities', (req, res) => {
    const page = listPage(req, res, {
      maxPageSize: FACILITIES_MAX_PAGE_SIZE,
      fields: FACILITY_FIELDS,
      all: () => facilityViews,
    });
    if (!page) return;
    res.json({
      totalResults: page.totalResults,
      _links: page.links,
      _embedded: { [FACILITY_REL]: page.items },
    });
  });

  app.get('/inventory/stocksummaries', (req, res) => {
    const page = listPage(req, res, {
      maxPageSize: STOCK_SUMMARIES_MAX_PAGE_SIZE,
      fields: STOCK_FIELDS,
      all: () => store.stock,
      candidates: (tree) =>
        fromIndex(tree, 'itemidentifier.sku', (s) => s, store.stockBySku, compareStock),
    });
    if (!page) return;
    // Extensiv's stock summaries are the one listing without a HAL envelope.
    res.type('application/json').json({ totalResults: page.totalResults, summaries: page.items });
  });

  app.post('/inventory/adjustments', (req, res) => {
    const body = parseBody(req, res, AdjustmentBody);
    if (!body) return;
    const facilityId = body.facilityId;
    if (!store.facilitiesById.has(facilityId)) {
      rejectModel(
        res,
        'facilityId',
        'DoesNotExist',
        `this warehouse runs facilities ${store.facilities.map((f) => f.facilityId).join(', ')}; got ${facilityId}`,
      );
      return;
    }
    // Checked as a whole before anything moves: one bad item refuses the adjustment.
    const after = new Map<string, { onHand: number; available: number }>();
    for (const [i, item] of body.adjustmentItems.entries()) {
      const sku = item.itemIdentifier.sku;
      if (item.qty === 0) {
        rejectModel(
          res,
          `adjustmentItems.${i}.qty`,
          'ValueNotSupported',
          `qty must be a non-zero integer (positive adds stock, negative removes it); got 0 for ${JSON.stringify(sku)}`,
        );
        return;
      }
      if (!store.itemIds.has(sku)) {
        rejectModel(
          res,
          `adjustmentItems.${i}.itemIdentifier.sku`,
          'DoesNotExist',
          `no item ${JSON.stringify(sku)}`,
        );
        return;
      }
      const row = stockRow(store, sku, facilityId);
      const current = after.get(sku) ?? {
        onHand: row?.onHand ?? 0,
        available: row?.available ?? 0,
      };
      const refusal = adjustmentRefusal(current, item.qty);
      if (refusal !== null) {
        rejectModel(
          res,
          `adjustmentItems.${i}.qty`,
          'Incompatible',
          `${sku} in facility ${facilityId} cannot go below zero: ${refusal}`,
        );
        return;
      }
      after.set(sku, {
        onHand: current.onHand + item.qty,
        available: current.available + item.qty,
      });
    }
    const stamp = wmsDate(now());
    const adjustmentItems = body.adjustmentItems.map((item) => {
      const row = adjustStock(store, facilityId, item.itemIdentifier.sku, item.qty, stamp);
      events.adjustment(row, item.qty, item.reason);
      return { itemIdentifier: { ...row.itemIdentifier }, qty: item.qty, reason: item.reason };
    });
    res.status(201).json({
      readOnly: { adjustmentId: adjustmentIds++, creationDate: stamp },
      facilityId,
      adjustmentItems,
    });
  });

  app.get('/orders', (req, res) => {
    const page = listPage(req, res, {
      maxPageSize: ORDERS_MAX_PAGE_SIZE,
      fields: ORDER_FIELDS,
      all: () => store.orders,
      candidates: (tree) =>
        fromIndex(tree, 'referencenum', (s) => s, store.ordersByReference, byOrderId) ??
        fromIndex(tree, 'readonly.orderid', Number, store.ordersById, byOrderId),
    });
    if (!page) return;
    const items = wants(queryParam(req, 'detail'), 'orderitems');
    const allocations = wants(queryParam(req, 'itemdetail'), 'allocations');
    res.json({
      totalResults: page.totalResults,
      _links: page.links,
      _embedded: {
        [ORDER_REL]: page.items.map((order) => orderView(order, items, allocations)),
      },
    });
  });

  const orderOf = (req: Request, res: Response): WmsOrder | undefined => {
    const raw = String(req.params['id']);
    const order = store.ordersById.get(/^\d{1,12}$/.test(raw) ? Number(raw) : NaN);
    if (!order) notFound(res, `no order with id ${JSON.stringify(raw)}`);
    return order;
  };

  app.get('/orders/:id', (req, res) => {
    const order = orderOf(req, res);
    if (!order) return;
    res
      .set('etag', orderEtag(store, order))
      .json(
        orderView(
          order,
          wants(queryParam(req, 'detail') ?? 'All', 'orderitems'),
          wants(queryParam(req, 'itemdetail'), 'allocations'),
        ),
      );
  });

  /** The customer and facility a create names, or null after answering 400 DoesNotExist. */
  const ownerOf = (
    res: Response,
    customer: z.output<typeof Identifier>,
    facility: z.output<typeof Identifier>,
  ): SeedWarehouse | null => {
    if (customer.id !== WMS_CUSTOMER.id && customer.name !== WMS_CUSTOMER.name) {
      rejectModel(
        res,
        'customerIdentifier',
        'DoesNotExist',
        `expected customer ${WMS_CUSTOMER.id} (${WMS_CUSTOMER.name}), got ${JSON.stringify(customer)}`,
      );
      return null;
    }
    const found = store.facilities.find(
      (f) => f.facilityId === facility.id || f.name === facility.name,
    );
    if (!found) {
      rejectModel(
        res,
        'facilityIdentifier',
        'DoesNotExist',
        `this warehouse runs facilities ${store.facilities.map((f) => `${f.facilityId} (${f.name})`).join(', ')}; got ${JSON.stringify(facility)}`,
      );
      return null;
    }
    return found;
  };

  /** False after answering 400 DoesNotExist for the first SKU the WMS does not know. */
  const knownItems = (
    res: Response,
    property: string,
    lines: readonly z.output<typeof Line>[],
  ): boolean => {
    const unknown = lines.find((line) => !store.itemIds.has(line.itemIdentifier.sku));
    if (!unknown) return true;
    rejectModel(
      res,
      `${property}.itemIdentifier.sku`,
      'DoesNotExist',
      `no item ${JSON.stringify(unknown.itemIdentifier.sku)}`,
    );
    return false;
  };

  app.post('/orders', (req, res) => {
    const body = parseBody(req, res, CreateOrderBody);
    if (!body) return;
    const facility = ownerOf(res, body.customerIdentifier, body.facilityIdentifier);
    if (!facility) return;
    if (store.ordersByReference.has(body.referenceNum)) {
      rejectModel(
        res,
        'referenceNum',
        'Duplicate',
        `an order with referenceNum ${JSON.stringify(body.referenceNum)} already exists`,
      );
      return;
    }
    if (!knownItems(res, 'orderItems', body.orderItems)) return;
    const to = body.shipTo ?? {};
    const order = createOrder(store, {
      facility,
      referenceNum: body.referenceNum,
      shipTo: {
        companyName: to.companyName ?? null,
        name: to.name ?? null,
        address1: to.address1 ?? null,
        address2: to.address2 ?? null,
        city: to.city ?? null,
        state: to.state ?? null,
        zip: to.zip ?? null,
        country: to.country ?? null,
        phoneNumber: to.phoneNumber ?? null,
        emailAddress: to.emailAddress ?? null,
      },
      routingInfo: {
        carrier: body.routingInfo?.carrier ?? null,
        mode: body.routingInfo?.mode ?? null,
        trackingNumber: body.routingInfo?.trackingNumber ?? null,
      },
      lines: body.orderItems.map((item) => ({ sku: item.itemIdentifier.sku, qty: item.qty })),
      stamp: wmsDate(now()),
    });
    const created = orderView(order, true, true);
    events.order('OrderCreate', order, created);
    res
      .status(201)
      .set('etag', orderEtag(store, order))
      .set('location', `/orders/${order.readOnly.orderId}`)
      .json(created);
  });

  /** The order an operator acts on, once its If-Match holds; undefined after answering. */
  const operand = (req: Request, res: Response): WmsOrder | undefined => {
    const order = orderOf(req, res);
    if (!order) return undefined;
    const what = `order ${order.readOnly.orderId}`;
    return checkIfMatch(req, res, orderEtag(store, order), what) ? order : undefined;
  };

  /** Refuses an operator on a Closed or Canceled order; true when it answered. */
  const refusedByState = (res: Response, order: WmsOrder, verb: string): boolean => {
    const id = order.readOnly.orderId;
    switch (order.readOnly.status) {
      case 0:
        return false;
      case 1:
        refuseOperation(
          res,
          'OrderConfirmed',
          `order ${id} is closed (confirmed as shipped); it cannot be ${verb}`,
        );
        return true;
      case 2:
        refuseOperation(res, 'AlreadyCanceled', `order ${id} is canceled; it cannot be ${verb}`);
        return true;
      default: {
        const never: never = order.readOnly.status;
        throw new Error(`unknown order status ${String(never)}`);
      }
    }
  };

  app.post('/orders/:id/canceler', (req, res) => {
    const order = operand(req, res);
    if (!order || !parseBody(req, res, CancelBody) || refusedByState(res, order, 'canceled')) {
      return;
    }
    cancelOrder(store, order, wmsDate(now()));
    events.order('OrderCancel', order, orderView(order, true, true));
    res.status(204).end();
  });

  app.post('/orders/:id/confirmer', (req, res) => {
    const order = operand(req, res);
    if (!order) return;
    const body = parseBody(req, res, ConfirmBody);
    if (!body || refusedByState(res, order, 'confirmed')) return;
    if (!order.readOnly.fullyAllocated) {
      refuseOperation(
        res,
        'NotFullyAllocated',
        `order ${order.readOnly.orderId} is not fully allocated; allocate it before confirming`,
      );
      return;
    }
    confirmOrder(store, order, wmsDate(now()), body.trackingNumber ?? null);
    events.order('OrderConfirm', order, orderView(order, true, true));
    res.status(204).end();
  });

  app.get('/inventory/receivers', (req, res) => {
    const page = listPage(req, res, {
      maxPageSize: RECEIVERS_MAX_PAGE_SIZE,
      fields: RECEIVER_FIELDS,
      all: () => store.receivers,
      candidates: (tree) =>
        fromIndex(tree, 'referencenum', (s) => s, store.receiversByReference, byReceiverId) ??
        fromIndex(tree, 'readonly.receiverid', Number, store.receiversById, byReceiverId),
    });
    if (!page) return;
    const items = wants(queryParam(req, 'detail'), 'receiveitems');
    res.json({
      totalResults: page.totalResults,
      _links: page.links,
      _embedded: { [RECEIVER_REL]: page.items.map((r) => receiverView(r, items)) },
    });
  });

  app.get('/inventory/receivers/:id', (req, res) => {
    const raw = String(req.params['id']);
    const receiver = store.receiversById.get(/^\d{1,12}$/.test(raw) ? Number(raw) : NaN);
    if (!receiver) {
      notFound(res, `no receiver with id ${JSON.stringify(raw)}`);
      return;
    }
    res.set('etag', receiverEtag(receiver)).json(receiverView(receiver, true));
  });

  app.post('/inventory/receivers', (req, res) => {
    const body = parseBody(req, res, CreateReceiverBody);
    if (!body) return;
    const facility = ownerOf(res, body.customerIdentifier, body.facilityIdentifier);
    if (!facility) return;
    if (store.receiversByReference.has(body.referenceNum)) {
      rejectModel(
        res,
        'referenceNum',
        'Duplicate',
        `a receiver with referenceNum ${JSON.stringify(body.referenceNum)} already exists`,
      );
      return;
    }
    if (!knownItems(res, 'receiveItems', body.receiveItems)) return;
    const receiver = createReceiver(store, {
      facility,
      referenceNum: body.referenceNum,
      poNum: body.poNum ?? null,
      notes: body.notes ?? null,
      lines: body.receiveItems.map((item) => ({ sku: item.itemIdentifier.sku, qty: item.qty })),
      stamp: wmsDate(now()),
    });
    res
      .status(201)
      .set('etag', receiverEtag(receiver))
      .set('location', `/inventory/receivers/${receiver.readOnly.receiverId}`)
      .json(receiverView(receiver, true));
  });

  // Registered last: body-parser fails before any route, and an express error handler sees it.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (isBodyParseError(error)) {
      rejectModel(res, '(body)', 'ValueNotSupported', `the body is not JSON: ${error.message}`);
      return;
    }
    next(error);
  });

  return { app, control };
}

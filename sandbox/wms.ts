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
 *
 * Deliberately left out (Extensiv has them; Crossdock does not read them yet): `sort=`,
 * `/inventory/stockdetails` (locations, lots, serials), customers and items, receivers,
 * order operators (confirmer, canceler, allocator) with If-Match/428/412, packages,
 * webhooks with RSA signatures, `=hv=` on nested objects, facility-local times. Orders list in
 * order-id order. Values compare case-sensitively. Injected errors answer 503 plain text
 * (Extensiv's 5xx are text); `malformed` answers 200 with a body that has no `summaries`,
 * no `_embedded` and no `access_token`.
 */
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { WMS_SANDBOX } from './credentials.js';
import { createSystemApp, type SystemControl } from './faults.js';
import type { SeedWarehouse, SeedWorld } from './seed.js';
import { createTokenServer } from './wms/auth.js';
import { fromIndex, listPage, notFound, queryParam, rejectModel } from './wms/http.js';
import type { RqlField, RqlFields } from './wms/rql.js';
import {
  addOrder,
  buildWmsStore,
  compareStock,
  WMS_CUSTOMER,
  wmsDate,
  type StockSummary,
  type WmsOrder,
  type WmsStore,
} from './wms/store.js';

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
  ['routinginfo.carrier', field<WmsOrder>('string', (o) => o.routingInfo.carrier)],
  ['routinginfo.trackingnumber', field<WmsOrder>('string', (o) => o.routingInfo.trackingNumber)],
]);

type FacilityView = { id: number; name: string; code: string; address: Record<string, string> };
const FACILITY_FIELDS: RqlFields<FacilityView> = new Map([
  ['id', field<FacilityView>('number', (f) => f.id)],
  ['name', field<FacilityView>('string', (f) => f.name)],
  ['code', field<FacilityView>('string', (f) => f.code)],
]);

const byOrderId = (a: WmsOrder, b: WmsOrder): number => a.readOnly.orderId - b.readOnly.orderId;

/** Whether `detail` asks for order items (`All` or a list naming `OrderItems`). */
function wantsItems(detail: string | undefined): boolean {
  if (detail === undefined) return false;
  return detail.split(',').some((part) => /^(all|orderitems)$/i.test(part.trim()));
}

function orderView(order: WmsOrder, items: boolean): Record<string, unknown> {
  const { orderItems, ...rest } = order;
  return {
    ...rest,
    ...(items ? { orderItems } : {}),
    _links: { self: { href: `/orders/${order.readOnly.orderId}` } },
  };
}

function etagOf(order: WmsOrder): string {
  return `"${order.readOnly.orderId}-${Date.parse(`${order.readOnly.lastModifiedDate.slice(0, 23)}Z`)}"`;
}

const CreateOrderBody = z.object({
  customerIdentifier: z.object({ id: z.number().int().optional(), name: z.string().optional() }),
  facilityIdentifier: z.object({ id: z.number().int().optional(), name: z.string().optional() }),
  referenceNum: z.string().min(1),
  routingInfo: z
    .object({
      carrier: z.string().optional(),
      mode: z.string().optional(),
      trackingNumber: z.string().optional(),
    })
    .optional(),
  orderItems: z
    .array(
      z.object({
        itemIdentifier: z.object({ sku: z.string().min(1) }),
        qty: z.number().int().positive(),
      }),
    )
    .min(1),
});

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
  const tokens = createTokenServer(WMS_SANDBOX[options.system], ttl, now);
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
    const items = wantsItems(queryParam(req, 'detail'));
    res.json({
      totalResults: page.totalResults,
      _links: page.links,
      _embedded: { [ORDER_REL]: page.items.map((order) => orderView(order, items)) },
    });
  });

  app.get('/orders/:id', (req, res) => {
    const id = /^\d{1,12}$/.test(req.params.id) ? Number(req.params.id) : NaN;
    const order = store.ordersById.get(id);
    if (!order) {
      notFound(res, `no order with id ${JSON.stringify(req.params.id)}`);
      return;
    }
    res
      .set('etag', etagOf(order))
      .json(orderView(order, wantsItems(queryParam(req, 'detail') ?? 'All')));
  });

  app.post('/orders', (req, res) => {
    const parsed = CreateOrderBody.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
      rejectModel(res, where, 'Required', `${where}: ${issue?.message ?? 'invalid'}`);
      return;
    }
    const body = parsed.data;
    const customer = body.customerIdentifier;
    if (customer.id !== WMS_CUSTOMER.id && customer.name !== WMS_CUSTOMER.name) {
      rejectModel(
        res,
        'customerIdentifier',
        'DoesNotExist',
        `expected customer ${WMS_CUSTOMER.id} (${WMS_CUSTOMER.name}), got ${JSON.stringify(customer)}`,
      );
      return;
    }
    const facility = store.facilities.find(
      (f) => f.facilityId === body.facilityIdentifier.id || f.name === body.facilityIdentifier.name,
    );
    if (!facility) {
      rejectModel(
        res,
        'facilityIdentifier',
        'DoesNotExist',
        `this warehouse runs facilities ${store.facilities.map((f) => `${f.facilityId} (${f.name})`).join(', ')}; got ${JSON.stringify(body.facilityIdentifier)}`,
      );
      return;
    }
    if (store.ordersByReference.has(body.referenceNum)) {
      rejectModel(
        res,
        'referenceNum',
        'Duplicate',
        `an order with referenceNum ${JSON.stringify(body.referenceNum)} already exists`,
      );
      return;
    }
    const unknown = body.orderItems.find((item) => !store.itemIds.has(item.itemIdentifier.sku));
    if (unknown) {
      rejectModel(
        res,
        'orderItems.itemIdentifier.sku',
        'DoesNotExist',
        `no item ${JSON.stringify(unknown.itemIdentifier.sku)}`,
      );
      return;
    }
    const stamp = wmsDate(now());
    let fullyAllocated = true;
    for (const item of body.orderItems) {
      const row = store.stockBySku
        .get(item.itemIdentifier.sku)
        ?.find((r) => r.facilityId === facility.facilityId);
      const allocate = Math.min(item.qty, Math.max(0, row?.available ?? 0));
      if (allocate < item.qty) fullyAllocated = false;
      if (!row) continue;
      row.allocated += allocate;
      row.available -= allocate;
      row.orderedNotAllocated += item.qty - allocate;
      row.lastModifiedDate = stamp;
    }
    const last = store.orders[store.orders.length - 1];
    const order: WmsOrder = {
      readOnly: {
        orderId: (last?.readOnly.orderId ?? 0) + 1,
        status: 0,
        isClosed: false,
        facilityIdentifier: { id: facility.facilityId, name: facility.name },
        customerIdentifier: { ...WMS_CUSTOMER },
        creationDate: stamp,
        pickDoneDate: null,
        packDoneDate: null,
        processDate: null,
        lastModifiedDate: stamp,
        fullyAllocated,
      },
      referenceNum: body.referenceNum,
      routingInfo: {
        carrier: body.routingInfo?.carrier ?? null,
        mode: body.routingInfo?.mode ?? null,
        trackingNumber: body.routingInfo?.trackingNumber ?? null,
      },
      orderItems: body.orderItems.map((item) => ({
        itemIdentifier: {
          sku: item.itemIdentifier.sku,
          id: store.itemIds.get(item.itemIdentifier.sku) ?? 0,
        },
        qty: item.qty,
      })),
    };
    addOrder(store, order);
    res
      .status(201)
      .set('etag', etagOf(order))
      .set('location', `/orders/${order.readOnly.orderId}`)
      .json(orderView(order, true));
  });

  return { app, control };
}

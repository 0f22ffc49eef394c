/**
 * The WMS connector, for Extensiv 3PL Warehouse Manager's REST API (and the sandbox WMS that
 * speaks it). One instance per WMS tenant: the distributor's own WMS and the 3PL's run the
 * same code with different options.
 *
 * Requests, per contract method (after the shared token and facility caches are warm):
 *   warehouses()          GET properties/facilities?pgsiz=100&pgnum=1 (cached, see facilityTtlMs)
 *   positions(skus, whs)  GET inventory/stocksummaries?rql=itemIdentifier.sku=in=(…)[;facilityId=in=(…)]&pgsiz=1000&pgnum=1
 *                         one per 250 SKUs; further pages only when totalResults exceeds pgsiz
 *   shipmentsByOrder(ns)  GET orders?rql=referenceNum=in=(…)&detail=All&pgsiz=1000&pgnum=1, one per 250 numbers
 *   shipmentsById(ids)    GET orders?rql=readOnly.orderId=in=(…)&detail=All&pgsiz=1000&pgnum=1, one per 250 ids
 * Facility ids in answers map to warehouse codes through the facility cache, so the first call
 * of a connector's life (and the first after the TTL) costs one facilities request more.
 *
 * Changes (the ChangeFeed of a polled WMS; see changes.ts):
 *   changesSince(null)    GET orders?pgsiz=1&pgnum=1 (its Date header is the first checkpoint)
 *   changesSince(cp)      GET orders?rql=readOnly.lastModifiedDate=ge=…&detail=All and
 *                         GET inventory/stocksummaries?rql=lastModifiedDate=ge=…, each paged to the end
 *
 * Webhooks (a WMS that sends them; see webhooks.ts):
 *   receiveWebhook(d)     GET events/webhook/key once, then cached; again with
 *                         ?previousRetrievalDateISO=… (304 = unchanged) when a signature fails to verify
 *
 * Writes (never cached; Extensiv refuses a second order or receiver with one `referenceNum`,
 * which is what makes them idempotent):
 *   reserve(r)            POST orders {customerIdentifier, facilityIdentifier{id}, referenceNum: r.reference, shipTo, orderItems}
 *                         400 Duplicate → findReservation(r.reference)
 *   findReservation(ref)  GET orders?rql=referenceNum==ref&detail=All&itemdetail=All&pgsiz=1000&pgnum=1
 *   release(ref)          that GET, then GET orders/{id}?detail=All&itemdetail=All (for the ETag),
 *                         POST orders/{id}/canceler {reason} with If-Match; on 412 once more from GET orders/{id}
 *   expectReturn(d)       POST inventory/receivers {customerIdentifier, facilityIdentifier{id}, referenceNum: d.reference, notes, receiveItems}
 *                         400 Duplicate → GET inventory/receivers?rql=referenceNum==ref&pgsiz=1000&pgnum=1
 * A warehouse code maps to its facility id through the facility cache (reloaded once for a
 * code it does not know).
 */
import type { CallObserver } from '../../observability/instruments.js';
import {
  SourceError,
  type Capability,
  type ChangeFeed,
  type InventoryPositionRecord,
  type ReservationRecord,
  type ReturnRecord,
  type ShipmentRecord,
  type WarehouseKind,
  type WarehouseRecord,
  type WmsConnector,
} from '../contract.js';
import { createTokenCache, type IssuedToken } from '../token.js';
import {
  createUpstream,
  type BreakerOptions,
  type UpstreamRequest,
  type UpstreamResponse,
} from '../upstream.js';
import type { z } from 'zod';
import {
  AnyBody,
  FacilitiesResponse,
  OrdersResponse,
  Receiver,
  ReceiversResponse,
  StockSummariesResponse,
  TokenResponse,
  WmsOrder,
  errorCodeOf,
  orderBody,
  receiverBody,
  toPosition,
  toReservation,
  toShipment,
  toWarehouse,
  type Facility,
} from './mapping.js';
import { rqlAnd, rqlEq, rqlIn, rqlValue } from './rql.js';
import { createWmsChangeFeed, DEFAULT_WMS_CHANGE_OVERLAP_MS } from './changes.js';
import { createWmsWebhookReceiver, WebhookKeyResponse } from './webhooks.js';

/** Options of {@link createWmsConnector}. */
export interface WmsConnectorOptions {
  /** Configured source name (`wms`, `tpl`): the `source` of every record and error. */
  readonly name: string;
  /** API root, e.g. `https://secure-wms.com/`. */
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Sent as `user_login` in the token request. */
  readonly userLogin: string;
  /** The 3PL GUID (`{…}`), sent as `tpl` for credential types that need it. Not sent when absent. */
  readonly tplGuid?: string | undefined;
  /** Whether this WMS's facilities are the distributor's own or a 3PL's. */
  readonly warehouseKind: WarehouseKind;
  /**
   * Per-request timeout.
   * @default 2_000 // DEFAULT_TIMEOUT_MS of sources/upstream.ts
   */
  readonly timeoutMs?: number | undefined;
  /** Breaker tuning; @default DEFAULT_BREAKER of sources/upstream.ts */
  readonly breaker?: BreakerOptions | undefined;
  /** Told of every system call and breaker transition (observability/instruments.ts). */
  readonly observer?: CallObserver | undefined;
  /**
   * `pgsiz` of stock summary and order listings. Extensiv allows 500 for stock summaries;
   * set 500 against a real tenant.
   * @default 1000
   */
  readonly pageSize?: number | undefined;
  /**
   * SKUs (and order numbers, order ids) per request. 250 SKUs × 3 facilities fit one page of 1000.
   * @default 250
   */
  readonly keysPerRequest?: number | undefined;
  /**
   * How long the facility list (id ↔ code) is reused.
   * @default 60_000 // 1 minute
   */
  readonly facilityTtlMs?: number | undefined;
  /**
   * A token is replaced this long before it expires (at most half its lifetime).
   * @default 60_000 // 1 minute
   */
  readonly tokenRefreshMarginMs?: number | undefined;
  /**
   * Token endpoint, relative to `baseUrl`.
   * @default 'AuthServer/api/Token'
   */
  readonly tokenPath?: string | undefined;
  /**
   * Clock for token and facility expiry.
   * @default Date.now
   */
  readonly now?: (() => number) | undefined;
  /**
   * The distributor's customer (depositor) id in this WMS: the `customerIdentifier` of the
   * orders and receivers it creates. The sandbox's depositor is 1.
   * @default 1
   */
  readonly customerId?: number | undefined;
  /**
   * The `reason` sent to the canceler when a reservation is released.
   * @default 'Released by Crossdock'
   */
  readonly releaseReason?: string | undefined;
  /**
   * How far before its checkpoint each `changesSince` asks again (timestamps are coarse; the
   * repeats carry the same event ids).
   * @default 5_000 // DEFAULT_WMS_CHANGE_OVERLAP_MS of changes.ts
   */
  readonly changeOverlapMs?: number | undefined;
  /**
   * Whether this WMS sends webhooks to Crossdock (then the connector is a WebhookReceiver,
   * verifying them with the key of `GET events/webhook/key`; see webhooks.ts). False for a WMS
   * that is polled instead.
   * @default true
   */
  readonly receiveWebhooks?: boolean | undefined;
  /**
   * Least time between two key fetches caused by signatures that do not verify (webhooks.ts).
   * @default DEFAULT_WEBHOOK_KEY_REFRESH_MS // 60 s
   */
  readonly webhookKeyRefreshMs?: number | undefined;
}

/** Default `pgsiz` of listings. */
export const DEFAULT_WMS_PAGE_SIZE = 1000;
/** Default keys per request. */
export const DEFAULT_WMS_KEYS_PER_REQUEST = 250;
/** Default facility cache lifetime. */
export const DEFAULT_WMS_FACILITY_TTL_MS = 60_000;
/** Default margin before token expiry at which a token is replaced. */
export const DEFAULT_WMS_TOKEN_REFRESH_MARGIN_MS = 60_000;
/** Default depositor id (the sandbox's one customer). */
export const DEFAULT_WMS_CUSTOMER_ID = 1;
/** Default canceler reason of {@link WmsConnectorOptions.releaseReason}. */
export const DEFAULT_WMS_RELEASE_REASON = 'Released by Crossdock';
/** Default token endpoint. */
export const DEFAULT_WMS_TOKEN_PATH = 'AuthServer/api/Token';
/** `pgsiz` of the facility listing (a tenant has a handful). */
export const WMS_FACILITY_PAGE_SIZE = 100;
/**
 * Longest URL-encoded `rql` sent; a chunk of long SKUs is split further so the request line
 * stays well inside common 8–16 KiB header limits.
 */
export const WMS_MAX_ENCODED_RQL = 6_000;

const CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>([
  'inventory',
  'warehouses',
  'shipments',
  'reservations',
]);
const WAREHOUSE_KINDS: ReadonlySet<string> = new Set<WarehouseKind>(['OWNED', 'THIRD_PARTY']);

interface FacilityIndex {
  readonly at: number;
  readonly list: readonly Facility[];
  readonly byId: ReadonlyMap<number, Facility>;
  readonly byCode: ReadonlyMap<string, Facility>;
}

interface Page<T> {
  readonly totalResults: number;
  readonly items: readonly T[];
}

function positiveInt(option: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1)
    throw new RangeError(`wms connector option ${option}: expected a positive integer, got ${v}`);
  return v;
}

function nonNegative(option: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0)
    throw new RangeError(`wms connector option ${option}: expected a number >= 0, got ${v}`);
  return v;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** Splits keys into groups of at most `max` whose `rql` stays under {@link WMS_MAX_ENCODED_RQL}. */
function chunk(keys: readonly string[], max: number, path: string): string[][] {
  const empty = encodeURIComponent(`${path}=in=()`).length;
  const out: string[][] = [];
  let current: string[] = [];
  let length = empty;
  for (const key of keys) {
    const cost = encodeURIComponent(rqlValue(key)).length + '%2C'.length;
    if (current.length > 0 && (current.length >= max || length + cost > WMS_MAX_ENCODED_RQL)) {
      out.push(current);
      current = [];
      length = empty;
    }
    current.push(key);
    length += cost;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Extensiv's 4xx bodies: `{ErrorCode, Hint}` or OAuth's `{error, error_description}`. */
function describeRejection(body: unknown): string {
  if (body !== null && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b['ErrorCode'] === 'string')
      return `${b['ErrorCode']}${typeof b['Hint'] === 'string' ? `: ${b['Hint']}` : ''}`;
    if (typeof b['error'] === 'string')
      return `${b['error']}${typeof b['error_description'] === 'string' ? `: ${b['error_description']}` : ''}`;
    if (typeof b['Message'] === 'string') return b['Message'];
  }
  return JSON.stringify(body).slice(0, 300);
}

/** Makes the connector of one Extensiv-shaped WMS. */
export function createWmsConnector(options: WmsConnectorOptions): WmsConnector & ChangeFeed {
  const { name } = options;
  if (typeof name !== 'string' || name.length === 0)
    throw new TypeError(
      `wms connector option name: expected a non-empty string, got ${JSON.stringify(name)}`,
    );
  if (!WAREHOUSE_KINDS.has(options.warehouseKind)) {
    throw new TypeError(
      `wms connector option warehouseKind: expected OWNED or THIRD_PARTY, got ${JSON.stringify(options.warehouseKind)}`,
    );
  }
  const pageSize = positiveInt('pageSize', options.pageSize, DEFAULT_WMS_PAGE_SIZE);
  const keysPerRequest = positiveInt(
    'keysPerRequest',
    options.keysPerRequest,
    DEFAULT_WMS_KEYS_PER_REQUEST,
  );
  const facilityTtlMs = nonNegative(
    'facilityTtlMs',
    options.facilityTtlMs,
    DEFAULT_WMS_FACILITY_TTL_MS,
  );
  const refreshMarginMs = nonNegative(
    'tokenRefreshMarginMs',
    options.tokenRefreshMarginMs,
    DEFAULT_WMS_TOKEN_REFRESH_MARGIN_MS,
  );
  const tokenPath = options.tokenPath ?? DEFAULT_WMS_TOKEN_PATH;
  const customerId = positiveInt('customerId', options.customerId, DEFAULT_WMS_CUSTOMER_ID);
  const releaseReason = options.releaseReason ?? DEFAULT_WMS_RELEASE_REASON;
  if (typeof releaseReason !== 'string' || releaseReason.length === 0) {
    throw new TypeError(
      `wms connector option releaseReason: expected a non-empty string, got ${JSON.stringify(releaseReason)}`,
    );
  }
  const now = options.now ?? Date.now;
  const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');

  const upstream = createUpstream({
    name,
    kind: 'wms',
    baseUrl: options.baseUrl,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.observer === undefined ? {} : { observer: options.observer }),
    ...(options.breaker === undefined ? {} : { breaker: options.breaker }),
  });

  const rejected = (what: string, status: number, body: unknown): SourceError =>
    new SourceError(
      'SOURCE_REJECTED',
      `${name}: ${what} answered HTTP ${status} ${describeRejection(body)}`,
      {
        source: name,
        breaker: upstream.state(),
        reason: status === 401 ? 'unauthorized' : `http_${status}`,
        status,
      },
    );

  // --- auth: one token at a time, replaced shortly before expiry or after a 401 -------------
  const fetchToken = async (): Promise<IssuedToken> => {
    const res = await upstream.request(
      {
        method: 'POST',
        path: tokenPath,
        headers: { authorization: `Basic ${basic}` },
        json: {
          grant_type: 'client_credentials',
          user_login: options.userLogin,
          ...(options.tplGuid === undefined ? {} : { tpl: options.tplGuid }),
        },
        what: 'token',
      },
      TokenResponse,
    );
    if (!res.ok) throw rejected('token', res.status, res.body);
    return { accessToken: res.body.access_token, expiresInSeconds: res.body.expires_in };
  };
  const tokens = createTokenCache(fetchToken, { refreshMarginMs, now });

  /** A request with the bearer; a 401 drops the token and retries once with a fresh one. */
  const send = async <S extends z.ZodType>(
    req: UpstreamRequest,
    schema: S,
  ): Promise<UpstreamResponse<z.output<S>>> => {
    const attempt = (value: string) =>
      upstream.request(
        {
          ...req,
          headers: {
            ...req.headers,
            authorization: `Bearer ${value}`,
            accept: 'application/hal+json',
          },
        },
        schema,
      );
    let value = await tokens.get();
    let res = await attempt(value);
    if (!res.ok && res.status === 401) {
      tokens.invalidate(value);
      value = await tokens.get();
      res = await attempt(value);
    }
    return res;
  };

  /** {@link send}, with any answer but a 2xx a SOURCE_REJECTED. */
  const call = async <S extends z.ZodType>(
    req: UpstreamRequest,
    schema: S,
  ): Promise<z.output<S>> => {
    const res = await send(req, schema);
    if (!res.ok) throw rejected(req.what, res.status, res.body);
    return res.body;
  };

  /** Every page of a listing; pages after the first only when `totalResults` asks for them. */
  const walk = async <T>(
    what: string,
    path: string,
    query: Readonly<Record<string, string>>,
    size: number,
    schema: z.ZodType<Page<T>, unknown>,
  ): Promise<T[]> => {
    const out: T[] = [];
    for (let pgnum = 1; ; pgnum++) {
      const page = await call({ path, query: { ...query, pgsiz: size, pgnum }, what }, schema);
      out.push(...page.items);
      if (page.items.length === 0 || pgnum * size >= page.totalResults) return out;
    }
  };

  // --- facilities: id ↔ code, reused for facilityTtlMs ---------------------------------------
  let facilities: FacilityIndex | null = null;
  let facilitiesInFlight: Promise<FacilityIndex> | null = null;

  const loadFacilities = async (): Promise<FacilityIndex> => {
    const list = await walk(
      'facilities',
      'properties/facilities',
      {},
      WMS_FACILITY_PAGE_SIZE,
      FacilitiesResponse,
    );
    const index: FacilityIndex = {
      at: now(),
      list,
      byId: new Map(list.map((f) => [f.id, f])),
      byCode: new Map(list.map((f) => [f.code, f])),
    };
    facilities = index;
    return index;
  };

  const facilityIndex = (force = false): Promise<FacilityIndex> => {
    if (!force && facilities && now() - facilities.at < facilityTtlMs)
      return Promise.resolve(facilities);
    facilitiesInFlight ??= loadFacilities().finally(() => {
      facilitiesInFlight = null;
    });
    return facilitiesInFlight;
  };

  /** Warehouse codes of facility ids; reloads the list once when an id is new to it. */
  const codesOf = async (
    ids: Iterable<number>,
    what: string,
  ): Promise<ReadonlyMap<number, string>> => {
    const wanted = unique([...ids]);
    let index = await facilityIndex();
    if (wanted.some((id) => !index.byId.has(id))) index = await facilityIndex(true);
    const codes = new Map<number, string>();
    for (const id of wanted) {
      const facility = index.byId.get(id);
      if (!facility) {
        throw upstream.error(
          'SOURCE_BAD_RESPONSE',
          `${what} names facility ${id}, which properties/facilities does not list (known: ${[...index.byId.keys()].join(', ')})`,
          'unknown_facility',
        );
      }
      codes.set(id, facility.code);
    }
    return codes;
  };

  const ordersWhere = async (
    path: 'referenceNum' | 'readOnly.orderId',
    keys: readonly string[],
  ): Promise<WmsOrder[]> => {
    const pages = await Promise.all(
      chunk(keys, keysPerRequest, path).map((part) =>
        walk(
          'orders',
          'orders',
          {
            rql: rqlIn(path, path === 'readOnly.orderId' ? part.map(Number) : part),
            detail: 'All',
          },
          pageSize,
          OrdersResponse,
        ),
      ),
    );
    return pages.flat();
  };

  const toShipments = async (orders: readonly WmsOrder[]): Promise<ShipmentRecord[]> => {
    const codes = await codesOf(
      orders.map((o) => o.readOnly.facilityIdentifier.id),
      'orders',
    );
    return orders.map((order) =>
      toShipment(order, codes.get(order.readOnly.facilityIdentifier.id) as string, name),
    );
  };

  const StockPage = StockSummariesResponse.transform((v) => ({
    totalResults: v.totalResults,
    items: v.summaries,
  }));

  // --- writes: reservations (WMS orders) and expected returns (receivers) -------------------
  /** A SourceError of this source that no HTTP answer carries. */
  const refused = (message: string, reason: string, status?: number): SourceError =>
    new SourceError('SOURCE_REJECTED', `${name}: ${message}`, {
      source: name,
      breaker: upstream.state(),
      reason,
      ...(status === undefined ? {} : { status }),
    });

  /** The facility of a warehouse code; the list is reloaded once for a code it does not hold. */
  const facilityFor = async (code: string): Promise<Facility> => {
    let index = await facilityIndex();
    if (!index.byCode.has(code)) index = await facilityIndex(true);
    const facility = index.byCode.get(code);
    if (!facility) {
      throw refused(
        `this WMS runs no warehouse ${JSON.stringify(code)} (it runs ${[...index.byCode.keys()].join(', ')})`,
        'unknown_warehouse',
      );
    }
    return facility;
  };

  /** The order carrying `reference`, the newest when a tenant lets several share it. */
  const orderByReference = async (reference: string): Promise<WmsOrder | null> => {
    const orders = await walk(
      'orders',
      'orders',
      { rql: rqlEq('referenceNum', reference), detail: 'All', itemdetail: 'All' },
      pageSize,
      OrdersResponse,
    );
    const exact = orders.filter((order) => order.referenceNum === reference);
    if (exact.length === 0) return null;
    return exact.reduce((a, b) => (b.readOnly.orderId > a.readOnly.orderId ? b : a));
  };

  const reservationOf = async (order: WmsOrder): Promise<ReservationRecord> => {
    const id = order.readOnly.facilityIdentifier.id;
    const codes = await codesOf([id], 'orders');
    return toReservation(order, codes.get(id) as string, name);
  };

  const findReservation = async (reference: string): Promise<ReservationRecord | null> => {
    const order = await orderByReference(reference);
    return order ? reservationOf(order) : null;
  };

  const alreadyShipped = (reference: string, orderId: number, status?: number): SourceError =>
    refused(
      `reservation ${JSON.stringify(reference)} (order ${orderId}) has shipped; it cannot be released`,
      'already_shipped',
      status,
    );

  const changes = createWmsChangeFeed({
    name,
    pageSize,
    overlapMs: nonNegative(
      'changeOverlapMs',
      options.changeOverlapMs,
      DEFAULT_WMS_CHANGE_OVERLAP_MS,
    ),
    now,
    send,
    rejected,
    codesOf,
  });

  // Webhooks: the key comes from the WMS's own API with this connector's bearer (304 = unchanged).
  const webhooks =
    options.receiveWebhooks === false
      ? null
      : createWmsWebhookReceiver({
          name,
          tplGuid: options.tplGuid,
          keyRefreshMs: options.webhookKeyRefreshMs,
          async fetchKey(previousRetrievalDateISO) {
            const res = await send(
              {
                path: 'events/webhook/key',
                query: { previousRetrievalDateISO },
                what: 'GET events/webhook/key',
              },
              WebhookKeyResponse,
            );
            if (res.ok) return res.body;
            if (res.status === 304 && previousRetrievalDateISO !== undefined) return null;
            throw rejected('GET events/webhook/key', res.status, res.body);
          },
          async warehouseCodeOf(facilityId) {
            return (await codesOf([facilityId], 'webhook')).get(facilityId) as string;
          },
        });

  let closing: Promise<void> | null = null;

  return {
    name,
    kind: 'wms',
    capabilities: CAPABILITIES,

    async warehouses(): Promise<WarehouseRecord[]> {
      const index = await facilityIndex();
      return index.list.map((facility) => toWarehouse(facility, options.warehouseKind, name));
    },

    async positions(skus, warehouses): Promise<InventoryPositionRecord[]> {
      const wanted = unique(skus);
      if (wanted.length === 0) return [];
      let facilityFilter: string | undefined;
      if (warehouses !== undefined) {
        const index = await facilityIndex();
        // Codes another WMS runs are not an error: the caller asks every WMS with one list.
        const ids = unique(warehouses).flatMap((code) => {
          const facility = index.byCode.get(code);
          return facility ? [facility.id] : [];
        });
        if (ids.length === 0) return [];
        facilityFilter = rqlIn('facilityId', ids);
      }
      const pages = await Promise.all(
        chunk(wanted, keysPerRequest, 'itemIdentifier.sku').map((part) => {
          const rql = rqlAnd(
            rqlIn('itemIdentifier.sku', part),
            ...(facilityFilter === undefined ? [] : [facilityFilter]),
          );
          return walk('stocksummaries', 'inventory/stocksummaries', { rql }, pageSize, StockPage);
        }),
      );
      const answeredAt = new Date(now()).toISOString();
      const asked = new Set(wanted);
      const rows = pages.flat().filter((row) => asked.has(row.itemIdentifier.sku));
      const codes = await codesOf(
        rows.map((row) => row.facilityId),
        'stocksummaries',
      );
      return rows.map((row) =>
        toPosition(row, codes.get(row.facilityId) as string, name, answeredAt),
      );
    },

    async shipmentsByOrder(orderNumbers): Promise<ShipmentRecord[][]> {
      const keys = unique(orderNumbers);
      if (keys.length === 0) return [];
      const shipments = await toShipments(await ordersWhere('referenceNum', keys));
      const byOrder = new Map<string, ShipmentRecord[]>();
      for (const shipment of shipments) {
        const list = byOrder.get(shipment.orderNumber);
        if (list) list.push(shipment);
        else byOrder.set(shipment.orderNumber, [shipment]);
      }
      return orderNumbers.map((number) => [...(byOrder.get(number) ?? [])]);
    },

    async shipmentsById(ids): Promise<(ShipmentRecord | null)[]> {
      const prefix = `${name}:`;
      // Ids of another source, or not of the `<name>:<digits>` form, are unknown here.
      const orderIds = ids.map((id) => {
        const rest = id.startsWith(prefix) ? id.slice(prefix.length) : '';
        return /^\d{1,15}$/.test(rest) ? String(Number(rest)) : null;
      });
      const keys = unique(orderIds.filter((id): id is string => id !== null));
      if (keys.length === 0) return ids.map(() => null);
      const shipments = await toShipments(await ordersWhere('readOnly.orderId', keys));
      const byId = new Map(shipments.map((s) => [s.id, s]));
      return orderIds.map((id) => (id === null ? null : (byId.get(`${prefix}${id}`) ?? null)));
    },

    async reserve(request): Promise<ReservationRecord> {
      const facility = await facilityFor(request.warehouseCode);
      const res = await send(
        {
          method: 'POST',
          path: 'orders',
          json: orderBody(request, customerId, facility.id),
          what: 'POST orders',
        },
        WmsOrder,
      );
      if (res.ok) return toReservation(res.body, facility.code, name);
      if (res.status === 400 && errorCodeOf(res.body) === 'Duplicate') {
        // An earlier attempt made it: the reference is the idempotency key.
        const existing = await findReservation(request.reference);
        if (existing) return existing;
        throw refused(
          `POST orders answered Duplicate for referenceNum ${JSON.stringify(request.reference)}, but no order carries it`,
          'duplicate_not_found',
          400,
        );
      }
      throw rejected('POST orders', res.status, res.body);
    },

    findReservation,

    async release(reference): Promise<void> {
      const found = await orderByReference(reference);
      // Unknown: nothing is held under the reference, which is what releasing wants.
      if (!found) return;
      const id = found.readOnly.orderId;
      for (let attempt = 1; ; attempt++) {
        // Only a single order's GET carries the ETag its operators need.
        const current = await send(
          {
            path: `orders/${id}`,
            query: { detail: 'All', itemdetail: 'All' },
            what: 'GET orders/{id}',
          },
          WmsOrder,
        );
        if (!current.ok) {
          if (current.status === 404) return;
          throw rejected('GET orders/{id}', current.status, current.body);
        }
        const etag = current.headers['etag'];
        if (typeof etag !== 'string' || etag === '') {
          throw upstream.error(
            'SOURCE_BAD_RESPONSE',
            `GET orders/${id} answered without an ETag; the canceler needs one for If-Match`,
            'missing_etag',
          );
        }
        switch (current.body.readOnly.status) {
          case 0:
            break;
          case 1:
            throw alreadyShipped(reference, id);
          case 2:
            return;
          default: {
            const unreachable: never = current.body.readOnly.status;
            throw new Error(`unknown Extensiv order status ${String(unreachable)}`);
          }
        }
        const res = await send(
          {
            method: 'POST',
            path: `orders/${id}/canceler`,
            headers: { 'if-match': etag },
            json: { reason: releaseReason },
            what: 'POST orders/{id}/canceler',
          },
          AnyBody,
        );
        if (res.ok || res.status === 404) return;
        const code = errorCodeOf(res.body);
        if (res.status === 403 && code === 'AlreadyCanceled') return;
        if (res.status === 403 && code === 'OrderConfirmed') {
          throw alreadyShipped(reference, id, 403);
        }
        // The order changed between the GET and the canceler: read it again, once.
        if (res.status === 412 && attempt === 1) continue;
        throw rejected('POST orders/{id}/canceler', res.status, res.body);
      }
    },

    async expectReturn(request): Promise<ReturnRecord> {
      const facility = await facilityFor(request.warehouseCode);
      const res = await send(
        {
          method: 'POST',
          path: 'inventory/receivers',
          json: receiverBody(request, customerId, facility.id),
          what: 'POST inventory/receivers',
        },
        Receiver,
      );
      let receiver: Receiver | undefined;
      if (res.ok) {
        receiver = res.body;
      } else if (res.status === 400 && errorCodeOf(res.body) === 'Duplicate') {
        const found = await walk(
          'receivers',
          'inventory/receivers',
          { rql: rqlEq('referenceNum', request.reference) },
          pageSize,
          ReceiversResponse,
        );
        receiver = found.find((r) => r.referenceNum === request.reference);
        if (!receiver) {
          throw refused(
            `POST inventory/receivers answered Duplicate for referenceNum ${JSON.stringify(request.reference)}, but no receiver carries it`,
            'duplicate_not_found',
            400,
          );
        }
      } else {
        throw rejected('POST inventory/receivers', res.status, res.body);
      }
      return {
        reference: request.reference,
        nativeId: String(receiver.readOnly.receiverId),
        number: null,
      };
    },

    changesSince: (checkpoint) => changes.changesSince(checkpoint),

    ...(webhooks === null ? {} : { receiveWebhook: webhooks.receiveWebhook }),

    health: () => upstream.health(),
    onStateChange: (listener) => upstream.onStateChange(listener),

    close(): Promise<void> {
      closing ??= upstream.close();
      return closing;
    },
  };
}

/**
 * The change feed of an Extensiv-shaped WMS (issue #4): what changed since a watermark, for a
 * WMS that is polled rather than trusted to send webhooks (in the embedded configuration the
 * 3PL, `tpl`). It uses the connector's own authenticated client, breaker, paging and mapping.
 *
 * Requests per `changesSince(checkpoint)`, one listing after the other, each paged to the end:
 *   null        GET orders?pgsiz=1&pgnum=1 — read for its `Date` header only: the system's clock
 *   a watermark GET orders?rql=readOnly.lastModifiedDate=ge=<watermark − overlap>&detail=All&pgsiz=…&pgnum=1…
 *               GET inventory/stocksummaries?rql=lastModifiedDate=ge=<watermark − overlap>&pgsiz=…&pgnum=1…
 * plus `properties/facilities` when the connector's facility cache is cold.
 *
 * The checkpoint is an ISO-8601 UTC instant (`2026-11-27T10:00:00.123Z`). The first one is the
 * system's clock (the `Date` header, to the second, of its first answer); after that it is the
 * newest `lastModifiedDate` seen, but never later than the end of the second the system
 * answered the poll in, and never earlier than the checkpoint before. The next poll asks from
 * `overlapMs` before it, because stamps are coarse and a change made while a poll pages may
 * carry a stamp just below the newest one seen; the clock cap keeps a stamp from the future
 * (or a facility-local time ahead of UTC) from jumping the watermark past changes not yet
 * made. Repeats inside the overlap are harmless: event ids are deterministic per change
 * (`<source>:order:<orderId>:<lastModifiedDate>`,
 * `<source>:stock:<facilityId>:<sku>:<lastModifiedDate>`) and de-duplicated downstream.
 *
 * Polling sees states, not transitions: an order created and shipped between two polls is
 * one SHIPPED event. Stock rows come as snapshots (`delta: null`).
 *
 * `lastModifiedDate` on stock summary rows is a sandbox addition (Extensiv's rows carry no
 * timestamp, and an `rql` on it is refused there): against a real tenant stock changes need
 * another source (webhooks, or a periodic reconciliation of `positions`).
 */
import { z } from 'zod';
import type {
  ChangeFeed,
  ShipmentSourceEvent,
  SourceError,
  SourceEvent,
  StockSourceEvent,
} from '../contract.js';
import type { UpstreamRequest, UpstreamResponse } from '../upstream.js';
import {
  ORDER_REL,
  StockSummariesResponse,
  WmsOrder,
  halCollection,
  parseWmsDate,
  toShipment,
  type StockSummary,
} from './mapping.js';
import { rqlGe } from './rql.js';

/** Default of {@link WmsChangeFeedOptions.overlapMs}. */
export const DEFAULT_WMS_CHANGE_OVERLAP_MS = 5_000;

/** A checkpoint: an ISO-8601 UTC instant with milliseconds. */
const CHECKPOINT_FORMAT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** What the feed needs of its connector: the client, the error of a refusal, facility codes. */
export interface WmsChangeFeedOptions {
  /** Configured source name: the `source` of every event and the prefix of its id. */
  readonly name: string;
  /** `pgsiz` of both listings. */
  readonly pageSize: number;
  /**
   * How far before the checkpoint each poll starts again.
   * @default 5_000 // 5 seconds
   */
  readonly overlapMs?: number | undefined;
  /** The system's clock when it sends no `Date` header. @default Date.now */
  readonly now?: (() => number) | undefined;
  /** The connector's authenticated request (bearer, one re-auth on 401, breaker). */
  readonly send: <S extends z.ZodType>(
    req: UpstreamRequest,
    schema: S,
  ) => Promise<UpstreamResponse<z.output<S>>>;
  /** The connector's SourceError for an answer that is not 2xx. */
  readonly rejected: (what: string, status: number, body: unknown) => SourceError;
  /** Warehouse codes of facility ids, as the connector maps them. */
  readonly codesOf: (ids: Iterable<number>, what: string) => Promise<ReadonlyMap<number, string>>;
}

/** An Extensiv datetime, as `readOnly.lastModifiedDate` carries it. */
const Stamp = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?(?:Z|[+-]\d{2}:\d{2})?$/,
    'expected yyyy-MM-ddTHH:mm:ss.fffffff',
  );

/**
 * An order with the read-only date the feed reads and the connector's schema drops:
 * `lastModifiedDate` (Extensiv's), required here because it names the change. Its
 * `deliveredDate` (a sandbox addition) comes from {@link WmsOrder}.
 */
const ChangedOrder = WmsOrder.extend({
  readOnly: WmsOrder.shape.readOnly.extend({ lastModifiedDate: Stamp }),
});
type ChangedOrder = z.output<typeof ChangedOrder>;

/** `GET /orders` with {@link ChangedOrder}s. */
const ChangedOrdersPage = halCollection(ORDER_REL, ChangedOrder);

const StockPage = StockSummariesResponse.transform((value) => ({
  totalResults: value.totalResults,
  items: value.summaries,
}));

interface Page<T> {
  readonly totalResults: number;
  readonly items: readonly T[];
}

/** Epoch ms of an Extensiv datetime; null for none (absent, `0001-01-01`) or unreadable. */
function stampMs(text: string | null | undefined): number | null {
  const iso = parseWmsDate(text);
  return iso === null ? null : Date.parse(iso);
}

/** The instant an RQL filter compares with: Extensiv's format, UTC, no offset. */
function rqlInstant(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23);
}

/** Epoch ms of the answer's `Date` header, or null. */
function dateHeaderOf(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): number | null {
  const value = headers['date'];
  const parsed = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(parsed) ? null : parsed;
}

/** The kind of change an order's current state is. */
function kindOf(order: ChangedOrder): ShipmentSourceEvent['kind'] {
  const status = order.readOnly.status;
  switch (status) {
    case 0:
      return 'CREATED';
    case 1:
      return stampMs(order.readOnly.deliveredDate) === null ? 'SHIPPED' : 'DELIVERED';
    case 2:
      return 'CANCELLED';
    default: {
      const unreachable: never = status;
      throw new Error(`unknown Extensiv order status ${String(unreachable)}`);
    }
  }
}

/** Makes the change feed of one WMS connector. */
export function createWmsChangeFeed(options: WmsChangeFeedOptions): ChangeFeed {
  const { name, pageSize, send, rejected, codesOf } = options;
  const overlapMs = options.overlapMs ?? DEFAULT_WMS_CHANGE_OVERLAP_MS;
  if (!Number.isFinite(overlapMs) || overlapMs < 0) {
    throw new RangeError(
      `wms connector option changeOverlapMs: expected a number >= 0, got ${overlapMs}`,
    );
  }
  const now = options.now ?? Date.now;

  /** Every page of a listing, and the system's clock from the first answer's `Date`. */
  const listAll = async <T>(
    what: string,
    path: string,
    query: Readonly<Record<string, string>>,
    schema: z.ZodType<Page<T>, unknown>,
  ): Promise<{ readonly items: T[]; readonly clock: number | null }> => {
    const items: T[] = [];
    let clock: number | null = null;
    for (let pgnum = 1; ; pgnum++) {
      const res = await send({ path, query: { ...query, pgsiz: pageSize, pgnum }, what }, schema);
      if (!res.ok) throw rejected(what, res.status, res.body);
      if (pgnum === 1) clock = dateHeaderOf(res.headers);
      items.push(...res.body.items);
      // Offset paging over a set that only grows while we read (a stamp only moves forward):
      // a row may be seen twice, never skipped; the ids de-duplicate it below.
      if (res.body.items.length === 0 || pgnum * pageSize >= res.body.totalResults) {
        return { items, clock };
      }
    }
  };

  const parseCheckpoint = (checkpoint: string): number => {
    const ms = CHECKPOINT_FORMAT.test(checkpoint) ? Date.parse(checkpoint) : NaN;
    if (Number.isNaN(ms)) {
      throw new TypeError(
        `${name}: expected a change-feed checkpoint like 2026-11-27T10:00:00.000Z, got ${JSON.stringify(checkpoint)}`,
      );
    }
    return ms;
  };

  const baseline = async (): Promise<string> => {
    const res = await send(
      { path: 'orders', query: { pgsiz: 1, pgnum: 1 }, what: 'orders' },
      ChangedOrdersPage,
    );
    if (!res.ok) throw rejected('orders', res.status, res.body);
    return new Date(dateHeaderOf(res.headers) ?? now()).toISOString();
  };

  const orderEvent = (
    order: ChangedOrder,
    at: number,
    codes: ReadonlyMap<number, string>,
  ): ShipmentSourceEvent => {
    const kind = kindOf(order);
    const shipment = toShipment(
      order,
      codes.get(order.readOnly.facilityIdentifier.id) as string,
      name,
    );
    return {
      type: 'shipment',
      id: `${name}:order:${order.readOnly.orderId}:${order.readOnly.lastModifiedDate}`,
      source: name,
      occurredAt: new Date(at).toISOString(),
      kind,
      // The connector's status knows nothing of delivery (Extensiv does not track it).
      shipment: kind === 'DELIVERED' ? { ...shipment, status: 'DELIVERED' } : shipment,
    };
  };

  const stockEvent = (
    row: StockSummary & { readonly lastModifiedDate: string },
    at: number,
    codes: ReadonlyMap<number, string>,
  ): StockSourceEvent => ({
    type: 'stock',
    id: `${name}:stock:${row.facilityId}:${row.itemIdentifier.sku}:${row.lastModifiedDate}`,
    source: name,
    occurredAt: new Date(at).toISOString(),
    sku: row.itemIdentifier.sku,
    warehouseCode: codes.get(row.facilityId) as string,
    onHand: row.onHand,
    available: row.available,
    allocated: row.allocated,
    // A snapshot of the row, not an adjustment: polling cannot tell what moved it.
    delta: null,
    reason: null,
  });

  return {
    async changesSince(checkpoint) {
      if (checkpoint === null) return { events: [], checkpoint: await baseline() };
      const since = parseCheckpoint(checkpoint);
      const from = since - overlapMs;
      // One after the other, not in parallel: when the breaker is half-open it lets one call
      // through as its probe and refuses the rest, so a parallel second listing would fail the
      // poll that is meant to find the system back.
      const orders = await listAll(
        'orders',
        'orders',
        { rql: rqlGe('readOnly.lastModifiedDate', rqlInstant(from)), detail: 'All' },
        ChangedOrdersPage,
      );
      const stock = await listAll(
        'stocksummaries',
        'inventory/stocksummaries',
        { rql: rqlGe('lastModifiedDate', rqlInstant(from)) },
        StockPage,
      );

      // Filtered here too: a row without a readable stamp cannot be placed in time, and a
      // system that ignored the filter must not replay its whole history.
      const changedOrders = orders.items.flatMap((order) => {
        const at = stampMs(order.readOnly.lastModifiedDate);
        return at !== null && at >= from ? [{ order, at }] : [];
      });
      const changedRows = stock.items.flatMap((row) => {
        const at = stampMs(row.lastModifiedDate);
        const stamp = row.lastModifiedDate;
        return at !== null && at >= from && typeof stamp === 'string'
          ? [{ row: { ...row, lastModifiedDate: stamp }, at }]
          : [];
      });
      const facilityIds = [
        ...changedOrders.map(({ order }) => order.readOnly.facilityIdentifier.id),
        ...changedRows.map(({ row }) => row.facilityId),
      ];
      const codes =
        facilityIds.length === 0
          ? new Map<number, string>()
          : await codesOf(facilityIds, 'changes');

      const byId = new Map<string, { readonly event: SourceEvent; readonly at: number }>();
      for (const { order, at } of changedOrders) {
        const event = orderEvent(order, at, codes);
        byId.set(event.id, { event, at });
      }
      for (const { row, at } of changedRows) {
        const event = stockEvent(row, at, codes);
        byId.set(event.id, { event, at });
      }
      // Oldest first (the systems list by id, not by time); ties in id order, so it is stable.
      const changes = [...byId.values()].sort(
        (a, b) => a.at - b.at || (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0),
      );

      let next = since;
      if (changes.length > 0) {
        const newest = changes.reduce((max, change) => Math.max(max, change.at), since);
        // The system's clock when the poll began: the first answer's Date header, which has
        // whole seconds, so the end of that second (the overlap absorbs the difference).
        const answered = orders.clock ?? stock.clock;
        const clock = answered === null ? newest : answered + 999;
        // Never behind where we were, never ahead of the system's clock at the poll.
        next = Math.max(since, Math.min(newest, clock));
      }
      return {
        events: changes.map((change) => change.event),
        checkpoint: new Date(next).toISOString(),
      };
    },
  };
}

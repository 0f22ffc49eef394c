/**
 * Order: the ERP sales order, its shipments from every warehouse system and its invoices.
 */
import type {
  OrderLineResolvers,
  OrderResolvers,
  OrderStatus,
  QueryResolvers,
} from '../generated/resolvers-types.js';
import { isChannel, type OrderRecord } from '../sources/contract.js';
import type { StoredOrder } from '../store/contract.js';
import { NO_SHIP_TO, isOrderStatus, type OrderData } from '../workflows/model.js';
import { NO_CUSTOMER, canSeeOrder, channelScope, customerScope } from './access.js';
import { listPage, pageRequest, toConnection } from './connection.js';
import type { ResolverContext } from './context.js';
import { badInput, notFound } from './errors.js';
import { fromEveryWarehouseSystem, withErrorSlots } from './fanout.js';
import { keyFromIdArgument, toGlobalId } from './ids.js';
import { CUSTOMER_NUMBER } from './customer.js';
import type { TimelineEntryParent } from './parents.js';

/** Order numbers as the ERP issues them. */
export const ORDER_NUMBER = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/**
 * An order as the graph sees it: the ERP's record, plus Crossdock's own record when Crossdock
 * placed the order or acted on it (status of its workflows, ledger, reservations). An order
 * placed through Crossdock that the ERP does not have yet (PENDING_ERP) is built from that
 * record alone, with `erpId` empty.
 */
export type OrderParent = OrderRecord & { readonly crossdock?: StoredOrder };

const CROSSDOCK_ID = /^XD-[0-9A-F]{16}/;

/** Crossdock's order id within a WMS reservation reference (`XD-…-EAST-1`), if it is one. */
export function crossdockIdOf(reference: string): string | null {
  return CROSSDOCK_ID.exec(reference)?.[0] ?? null;
}

function fromStored(stored: StoredOrder): OrderParent {
  const data = stored.data as unknown as OrderData;
  const money = (amount: string) => ({ amount, currencyCode: data.currencyCode });
  return {
    number: stored.id,
    erpId: '',
    channel: stored.channel,
    customerNumber: stored.customerNumber,
    externalReference: data.externalReference,
    orderDate: new Date(stored.createdAt).toISOString(),
    erpStatus: 'DRAFT',
    fullyShipped: false,
    shipTo: data.shipTo ?? NO_SHIP_TO,
    currencyCode: data.currencyCode,
    totalExcludingTax: money(data.total),
    totalIncludingTax: money(data.total),
    lines: data.lines.map((l, i) => ({
      sequence: (i + 1) * 10_000,
      sku: l.sku,
      description: l.sku,
      quantity: l.quantity,
      unitPrice: money(l.unitPrice),
      lineAmount: money(l.lineAmount),
      shippedQuantity: 0,
      invoicedQuantity: 0,
    })),
    lastModified: new Date(stored.updatedAt).toISOString(),
    crossdock: stored,
  };
}

/**
 * Loads an order by Crossdock order id (XD-…) or ERP number; NOT_FOUND when unknown or outside
 * the caller's channel (reported alike, so nothing leaks).
 */
export async function loadOrder(ctx: ResolverContext, key: string): Promise<OrderParent> {
  const stored = await ctx.loaders.storedOrder.load(key);
  let order: OrderParent | null = null;
  if (stored?.erpNumber) {
    const erp = await ctx.loaders.order.load(stored.erpNumber);
    order = erp ? { ...erp, crossdock: stored } : fromStored(stored);
  } else if (stored) {
    order = fromStored(stored);
  } else {
    order = await ctx.loaders.order.load(key);
  }
  if (!order || !canSeeOrder(ctx, order)) throw notFound('Order', key);
  return order;
}

/** Attaches Crossdock's record to ERP orders of a listing (shadows of orders it acted on). */
async function withCrossdock(
  ctx: ResolverContext,
  orders: readonly OrderRecord[],
): Promise<OrderParent[]> {
  const stored = await ctx.loaders.storedOrder.loadMany(orders.map((o) => o.number));
  return orders.map((o, i) => {
    const s = stored[i];
    return s && !(s instanceof Error) ? { ...o, crossdock: s } : o;
  });
}

/**
 * The canonical status from what the ERP records (line quantities, header status), refined by
 * the warehouse systems for orders released but not yet shipped. Documented in schema/README.md.
 */
export function deriveStatus(order: OrderRecord, releasedToWarehouse: boolean): OrderStatus {
  const lines = order.lines;
  const ordered = lines.reduce((n, l) => n + l.quantity, 0);
  const shipped = lines.reduce((n, l) => n + l.shippedQuantity, 0);
  const invoiced = lines.reduce((n, l) => n + l.invoicedQuantity, 0);
  if (ordered > 0 && invoiced >= ordered) return 'INVOICED';
  if (ordered > 0 && shipped >= ordered) return 'SHIPPED';
  if (shipped > 0) return 'PARTIALLY_SHIPPED';
  if (releasedToWarehouse) return 'RELEASED_TO_WAREHOUSE';
  switch (order.erpStatus) {
    case 'OPEN':
    case 'POSTED':
      return 'ACCEPTED';
    case 'DRAFT':
    case 'IN_REVIEW':
      return 'RECEIVED';
    default: {
      const unreachable: never = order.erpStatus;
      throw new Error(`unknown ERP order status ${String(unreachable)}`);
    }
  }
}

/** WMS references of an order: its reservations (placed through Crossdock) or its ERP number. */
function warehouseReferences(order: OrderParent): string[] {
  const data = order.crossdock?.data as unknown as OrderData | undefined;
  if (data?.origin === 'crossdock') return data.allocations.map((a) => a.reference);
  return [order.number];
}

async function shipmentsOf(ctx: ResolverContext, order: OrderParent) {
  const references = warehouseReferences(order);
  return fromEveryWarehouseSystem(ctx, async (system) =>
    (await system.shipmentsByOrder.loadMany(references)).flatMap((r) => {
      if (r instanceof Error) throw r;
      return r;
    }),
  );
}

/** Resolvers of Order. */
export const Order: OrderResolvers<ResolverContext> = {
  id: (o: OrderParent) => toGlobalId('Order', o.crossdock?.id ?? o.number),
  channel: (o) => {
    // An ERP order outside the channel catalogue is a data fault: masked as an internal error.
    if (!isChannel(o.channel))
      throw new Error(`order ${o.number} has unknown channel ${o.channel}`);
    return o.channel;
  },
  async status(order: OrderParent, _args, ctx) {
    const own = order.crossdock?.status;
    // Crossdock's workflow status rules, unless the systems report the order further along.
    if (own && isOrderStatus(own) && !['ACCEPTED', 'RELEASED_TO_WAREHOUSE'].includes(own))
      return own;
    if (own && order.erpId === '') return own as OrderStatus;
    // Only an order with nothing shipped can be "released": ask the WMS only then.
    if (order.lines.some((l) => l.shippedQuantity > 0) || order.erpStatus !== 'OPEN') {
      return deriveStatus(order, false);
    }
    const fan = await shipmentsOf(ctx, order);
    const released = fan.items.some((s) => s.status !== 'CANCELLED');
    return deriveStatus(order, released);
  },
  customer: (o, _args, ctx) => ctx.loaders.customer.load(o.customerNumber),
  orderedAt: (o) => o.orderDate,
  subtotal: (o) => o.totalExcludingTax,
  total: (o) => o.totalIncludingTax,
  shipments: async (o, _args, ctx) => withErrorSlots(await shipmentsOf(ctx, o)),
  invoices: (o, _args, ctx) => ctx.loaders.invoicesByOrder.load(o.number),
  async externalIds(o, _args, ctx) {
    const fan = await shipmentsOf(ctx, o);
    return withErrorSlots({
      items: [
        // An order still PENDING_ERP has no ERP id yet.
        ...(o.erpId ? [{ source: ctx.sources.erp.name, entity: 'salesOrder', id: o.erpId }] : []),
        // A shipment's canonical id is `<source>:<warehouse order id>`.
        ...fan.items.map((s) => ({
          source: s.source,
          entity: 'order',
          id: s.id.slice(s.source.length + 1),
        })),
      ],
      errors: fan.errors,
    });
  },
  async timeline(order: OrderParent, _args, ctx) {
    if (order.crossdock) return ledgerTimeline(ctx, order.crossdock);
    const [fan, invoices] = await Promise.all([
      shipmentsOf(ctx, order),
      ctx.loaders.invoicesByOrder.load(order.number).catch((error: unknown) => error as Error),
    ]);
    const entries: Omit<TimelineEntryParent, 'sincePreviousMs'>[] = [
      {
        at: order.orderDate,
        status: order.erpStatus === 'DRAFT' ? 'RECEIVED' : 'ACCEPTED',
        step: 'ordered',
        source: ctx.sources.erp.name,
        detail: order.externalReference ? `channel reference ${order.externalReference}` : null,
      },
    ];
    for (const shipment of fan.items) {
      if (shipment.shippedAt) {
        entries.push({
          at: shipment.shippedAt,
          status: 'SHIPPED',
          step: 'shipped',
          source: shipment.source,
          detail: [shipment.warehouseCode, shipment.carrier, shipment.trackingNumber]
            .filter(Boolean)
            .join(' '),
        });
      }
    }
    if (Array.isArray(invoices)) {
      for (const invoice of invoices) {
        entries.push({
          at: invoice.invoiceDate,
          status: 'INVOICED',
          step: 'invoiced',
          source: ctx.sources.erp.name,
          detail: invoice.number,
        });
      }
    }
    const missing = [...fan.errors, ...(invoices instanceof Error ? [invoices] : [])];
    for (const error of missing) {
      ctx.warnings.push({
        code: 'PARTIAL_TIMELINE',
        source: String(
          (error as { extensions?: { source?: unknown } }).extensions?.source ?? 'unknown',
        ),
        message: `timeline of ${order.number} is missing entries: ${error.message}`,
      });
    }
    // Causal order first (an invoice follows its shipment), then time: ERP posting dates are
    // dates without a time, so by time alone an invoice dated the day of shipping sorts first.
    const rank: Record<string, number> = { ordered: 0, shipped: 1, invoiced: 2 };
    entries.sort(
      (a, b) => (rank[a.step] ?? 0) - (rank[b.step] ?? 0) || Date.parse(a.at) - Date.parse(b.at),
    );
    return entries.map((entry, i) => {
      const gap =
        i === 0 ? null : Date.parse(entry.at) - Date.parse(entries[i - 1]?.at ?? entry.at);
      // A negative gap only means a date-only ERP date; it is not a latency.
      return { ...entry, sincePreviousMs: gap === null || gap < 0 ? null : gap };
    });
  },
};

/** The timeline of an order Crossdock worked on: its ledger, with each step's latency. */
async function ledgerTimeline(
  ctx: ResolverContext,
  stored: StoredOrder,
): Promise<TimelineEntryParent[]> {
  const entries = await ctx.store.ledger.list(stored.id);
  let status: OrderStatus = 'RECEIVED';
  let previousAt: number | null = null;
  return entries.map((entry) => {
    if (entry.status && isOrderStatus(entry.status)) status = entry.status;
    const source = /^(reserve|release|return):/.test(entry.step)
      ? String(entry.detail.source ?? 'wms')
      : /erp/.test(entry.step)
        ? ctx.sources.erp.name
        : 'crossdock';
    const timelineEntry: TimelineEntryParent = {
      at: new Date(entry.at).toISOString(),
      status,
      step: `${entry.step} ${entry.outcome.toLowerCase()}`,
      source,
      detail: Object.keys(entry.detail).length > 0 ? JSON.stringify(entry.detail) : null,
      sincePreviousMs: previousAt === null ? null : entry.at - previousAt,
      latencyMs: entry.durationMs,
      correlationId: entry.correlationId,
      caller: entry.caller,
    };
    previousAt = entry.at;
    return timelineEntry;
  });
}

/** Resolvers of OrderLine. */
export const OrderLine: OrderLineResolvers<ResolverContext> = {
  product: (line) => ({ sku: line.sku }),
  lineTotal: (line) => line.lineAmount,
};

/** Query fields of orders. */
export const orderQueries: Pick<QueryResolvers<ResolverContext>, 'order' | 'orders'> = {
  order: (_root, { id }, ctx) => loadOrder(ctx, keyFromIdArgument(id, 'Order', ORDER_NUMBER)),
  async orders(_root, { first, after, filter }, ctx) {
    const scope = channelScope(ctx);
    const channel = filter?.channel ?? undefined;
    if (scope && channel && channel !== scope) {
      throw badInput('filter.channel', `${scope} (the only channel this key may read)`, channel);
    }
    const own = customerScope(ctx);
    const asked =
      filter?.customerId == null
        ? undefined
        : keyFromIdArgument(filter.customerId, 'Customer', CUSTOMER_NUMBER, 'filter.customerId');
    if (own !== null && own !== NO_CUSTOMER && asked !== undefined && asked !== own) {
      throw badInput('filter.customerId', `${own} (the only customer this key may read)`, asked);
    }
    const customerNumber = own ?? asked;
    if (customerNumber === NO_CUSTOMER) {
      // A storefront without a customer session sees no orders.
      pageRequest(first, after);
      return toConnection(
        { items: [], hasNextPage: false },
        (o: OrderRecord) => o.number,
        (o) => o,
      );
    }
    const page = await listPage(pageRequest(first, after), (p) =>
      ctx.sources.erp.listOrders(p, { customerNumber, channel: scope ?? channel }),
    );
    for (const order of page.items) ctx.loaders.order.prime(order.number, order);
    const items = await withCrossdock(ctx, page.items);
    return toConnection(
      { items, hasNextPage: page.hasNextPage },
      (o) => o.number,
      (o) => o,
    );
  },
};

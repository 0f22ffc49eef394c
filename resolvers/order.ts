/**
 * Order: the ERP sales order, its shipments from every warehouse system and its invoices.
 */
import type {
  OrderLineResolvers,
  OrderResolvers,
  QueryResolvers,
} from '../generated/resolvers-types.js';
import { isChannel, type OrderRecord, type PageRequest } from '../sources/contract.js';
import { CUSTOMER_NUMBER_ARGUMENT, ORDER_NUMBER } from '../sources/identifiers.js';
import type { StoredOrder } from '../store/contract.js';
import { NO_SHIP_TO, orderDataOf, warehouseReferencesOf } from '../workflows/model.js';
import { ordersByReference, type ReferenceQuery } from '../workflows/order-lookup.js';
import { orderStatus } from '../workflows/status.js';
import { ledgerTimeline, systemsTimeline } from '../workflows/timeline.js';
import { NO_CUSTOMER, canSeeOrder, channelScope, customerScope } from './access.js';
import { listPage, pageRequest, toConnection } from './connection.js';
import type { ResolverContext } from './context.js';
import { badInput, notFound } from './errors.js';
import { fromEveryWarehouseSystem, withErrorSlots } from './fanout.js';
import { checkExternalReference, keyFromIdArgument, toGlobalId } from './ids.js';

/**
 * An order as the graph sees it: the ERP's record, plus Crossdock's own record when Crossdock
 * placed the order or acted on it (status of its workflows, ledger, reservations). An order
 * placed through Crossdock that the ERP does not have yet (PENDING_ERP) is built from that
 * record alone, with `erpId` empty.
 */
export type OrderParent = OrderRecord & { readonly crossdock?: StoredOrder };

function fromStored(stored: StoredOrder): OrderParent {
  const data = orderDataOf(stored);
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
  const order = stored ? await parentOf(ctx, stored) : await ctx.loaders.order.load(key);
  if (!order || !canSeeOrder(ctx, order)) throw notFound('Order', key);
  return order;
}

/** The order Crossdock keeps `stored` for: the ERP's with it, or its own while the ERP has none. */
async function parentOf(ctx: ResolverContext, stored: StoredOrder): Promise<OrderParent> {
  const erp = stored.erpNumber ? await ctx.loaders.order.load(stored.erpNumber) : null;
  return erp ? { ...erp, crossdock: stored } : fromStored(stored);
}

/**
 * Attaches Crossdock's record to ERP orders of a listing: orders it placed (found by their ERP
 * number) and shadows of ERP orders it acted on.
 */
export async function withCrossdock(
  ctx: ResolverContext,
  orders: readonly OrderRecord[],
): Promise<OrderParent[]> {
  const stored = await ctx.loaders.storedOrder.loadMany(orders.map((o) => o.number));
  return orders.map((o, i) => {
    const s = stored[i];
    return s && !(s instanceof Error) ? { ...o, crossdock: s } : o;
  });
}

/** The order's shipments from every warehouse system (an error per system that failed). */
async function shipmentsOf(ctx: ResolverContext, order: OrderParent) {
  const data = order.crossdock ? orderDataOf(order.crossdock) : null;
  const references = warehouseReferencesOf(data, order.number);
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
    // An order still PENDING_ERP is built from Crossdock's record, with no ERP id.
    const answer = orderStatus({
      own: order.crossdock?.status || null,
      order,
      inErp: order.erpId !== '',
    });
    switch (answer.kind) {
      case 'known':
        return answer.status;
      case 'needs-shipments':
        return answer.decide((await shipmentsOf(ctx, order)).items);
      default: {
        const unreachable: never = answer;
        throw new Error(`unknown status answer ${JSON.stringify(unreachable)}`);
      }
    }
  },
  customer: (o, _args, ctx) => ctx.loaders.customer.load(o.customerNumber),
  // The ERP's externalDocumentNumber of an order Crossdock placed is Crossdock's own id (the
  // idempotency token of its posting); the channel's reference is in Crossdock's record.
  externalReference: (o: OrderParent) =>
    o.crossdock ? orderDataOf(o.crossdock).externalReference : o.externalReference,
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
    const erpSource = ctx.sources.erp.name;
    if (order.crossdock) {
      return ledgerTimeline(await ctx.store.ledger.list(order.crossdock.id), erpSource);
    }
    const [fan, invoices] = await Promise.all([
      shipmentsOf(ctx, order),
      ctx.loaders.invoicesByOrder.load(order.number).catch((error: unknown) => error as Error),
    ]);
    const missing = [...fan.errors, ...(invoices instanceof Error ? [invoices] : [])];
    const timeline = systemsTimeline({
      order,
      erpSource,
      shipments: fan.items,
      invoices: Array.isArray(invoices) ? invoices : null,
      gaps: missing.map((error) => ({
        source: String(
          (error as { extensions?: { source?: unknown } }).extensions?.source ?? 'unknown',
        ),
        reason: error.message,
      })),
    });
    ctx.warnings.push(...timeline.warnings);
    return timeline.entries;
  },
};

/** Resolvers of OrderLine. */
export const OrderLine: OrderLineResolvers<ResolverContext> = {
  product: (line) => ({ sku: line.sku }),
  lineTotal: (line) => line.lineAmount,
};

/** `orders(filter: { externalReference })`: the read model's page, as the graph's orders. */
async function byReference(ctx: ResolverContext, request: PageRequest, query: ReferenceQuery) {
  const page = await listPage(request, (p) =>
    ordersByReference({ erp: ctx.sources.erp, store: ctx.store }, query, p),
  );
  const fromErp = page.items.flatMap((found) => (found.from === 'erp' ? [found.order] : []));
  for (const order of fromErp) ctx.loaders.order.prime(order.number, order);
  const attached = new Map((await withCrossdock(ctx, fromErp)).map((o) => [o.number, o]));
  const items = await Promise.all(
    page.items.map(async (found) => ({
      key: found.key,
      order:
        found.from === 'erp'
          ? (attached.get(found.order.number) ?? found.order)
          : await parentOf(ctx, found.stored),
    })),
  );
  return toConnection(
    { items, hasNextPage: page.hasNextPage },
    (item) => item.key,
    (item) => item.order,
  );
}

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
        : keyFromIdArgument(
            filter.customerId,
            'Customer',
            CUSTOMER_NUMBER_ARGUMENT,
            'filter.customerId',
          );
    if (own !== null && own !== NO_CUSTOMER && asked !== undefined && asked !== own) {
      throw badInput('filter.customerId', `${own} (the only customer this key may read)`, asked);
    }
    const customerNumber = own ?? asked;
    const reference =
      filter?.externalReference == null
        ? undefined
        : checkExternalReference(filter.externalReference, 'filter.externalReference');
    if (customerNumber === NO_CUSTOMER) {
      // A storefront without a customer session sees no orders.
      pageRequest(first, after);
      return toConnection(
        { items: [], hasNextPage: false },
        (o: OrderRecord) => o.number,
        (o) => o,
      );
    }
    if (reference !== undefined) {
      return byReference(ctx, pageRequest(first, after), {
        reference,
        channel: scope ?? channel,
        customerNumber,
      });
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

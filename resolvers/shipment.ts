/**
 * Shipment (WMS) and Invoice (ERP).
 */
import type {
  InvoiceResolvers,
  QueryResolvers,
  ShipmentResolvers,
} from '../generated/resolvers-types.js';
import type { InvoiceRecord, ShipmentRecord } from '../sources/contract.js';
import { ORDER_NUMBER, orderIdWithin } from '../sources/identifiers.js';
import { canSeeOrder, customerScope } from './access.js';
import type { ResolverContext } from './context.js';
import { badInput, notFound } from './errors.js';
import { fromGlobalId, keyFromIdArgument, toGlobalId } from './ids.js';
import { loadOrder } from './order.js';

/** Loads a shipment by canonical id (`<source>:<wms order id>`); NOT_FOUND when unknown. */
export async function loadShipment(ctx: ResolverContext, id: string): Promise<ShipmentRecord> {
  const sourceName = id.slice(0, id.indexOf(':'));
  const system = ctx.loaders.warehouseSystems.find((s) => s.connector.name === sourceName);
  if (!system) throw notFound('Shipment', id);
  const shipment = await system.shipment.load(id);
  if (!shipment) throw notFound('Shipment', id);
  // Scoped callers (a channel, a portal's account) see shipments of their own orders only.
  if (ctx.caller.channel !== null || customerScope(ctx) !== null) {
    const order = await loadOrder(
      ctx,
      orderIdWithin(shipment.orderNumber) ?? shipment.orderNumber,
    ).catch(() => null);
    if (!order || !canSeeOrder(ctx, order)) throw notFound('Shipment', id);
  }
  return shipment;
}

/** Loads an invoice by number; NOT_FOUND when unknown. */
export async function loadInvoice(ctx: ResolverContext, number: string): Promise<InvoiceRecord> {
  const invoice = await ctx.loaders.invoice.load(number);
  if (!invoice) throw notFound('Invoice', number);
  const own = customerScope(ctx);
  if (own !== null && invoice.customerNumber !== own) throw notFound('Invoice', number);
  return invoice;
}

/** Resolvers of Shipment. */
export const Shipment: ShipmentResolvers<ResolverContext> = {
  id: (s) => toGlobalId('Shipment', s.id),
  // A reservation made by Crossdock carries its order id in the WMS reference (XD-…-EAST-1).
  order: (s, _args, ctx) => loadOrder(ctx, orderIdWithin(s.orderNumber) ?? s.orderNumber),
  warehouse: (s) => ({ code: s.warehouseCode, source: s.source }),
};

/** Resolvers of Invoice. */
export const Invoice: InvoiceResolvers<ResolverContext> = {
  id: (i) => toGlobalId('Invoice', i.number),
  order: (i, _args, ctx) => (i.orderNumber ? loadOrder(ctx, i.orderNumber) : null),
  customer: (i, _args, ctx) => ctx.loaders.customer.load(i.customerNumber),
  amountDue: (i) => i.remaining,
  externalIds: (i, _args, ctx) => [
    { source: ctx.sources.erp.name, entity: 'salesInvoice', id: i.erpId },
  ],
  invoicedAt: (i) => i.invoiceDate,
  dueAt: (i) => i.dueDate,
};

/** Query fields of shipments and invoices. */
export const shipmentQueries: Pick<QueryResolvers<ResolverContext>, 'shipment' | 'invoice'> = {
  shipment(_root, { id }, ctx) {
    const global = fromGlobalId(id);
    if (!global || global.type !== 'Shipment') throw badInput('id', 'a Shipment global ID', id);
    return loadShipment(ctx, global.key);
  },
  invoice(_root, { id }, ctx) {
    return loadInvoice(ctx, keyFromIdArgument(id, 'Invoice', ORDER_NUMBER));
  },
};

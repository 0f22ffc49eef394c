/**
 * Finding orders by their channel's reference (`Query.orders(filter: { externalReference })`), as
 * a read model. Where the reference is kept depends on who entered the order:
 *
 * - an order entered in the ERP (EDI, a marketplace integration, by hand) carries it as its
 *   `externalDocumentNumber`: found by a `$filter` the ERP applies;
 * - an order Crossdock placed carries Crossdock's order id there (`XD-…`, the idempotency token
 *   of its posting), and the channel's reference only in Crossdock's record, as the
 *   cross-reference {@link channelReferenceOf} written when it was placed: found in the store,
 *   including an order the ERP does not have yet (PENDING_ERP) or no longer has (cancelled).
 *
 * Both are merged into one keyset page, ordered like the listing by ERP order number (Crossdock's
 * order id for an order the ERP never numbered). Resolvers map the result; nothing here knows
 * GraphQL.
 */
import {
  CHANNELS,
  type OrderRecord,
  type OrderSource,
  type Page,
  type PageRequest,
} from '../sources/contract.js';
import { CROSSDOCK_ORDER_ID } from '../sources/identifiers.js';
import type { CrossReferenceStore, OrderStore, StoredOrder } from '../store/contract.js';
import { channelReferenceOf } from './model.js';

/**
 * Most orders Crossdock placed that one reference is looked up for, per channel: a reference
 * names one order, or a few when a channel sent the same order more than once.
 */
export const MAX_PLACED_PER_REFERENCE = 1_000;

/** What a search by reference reads. */
export interface ReferenceLookupSources {
  readonly erp: Pick<OrderSource, 'listOrders'>;
  readonly store: {
    readonly orders: Pick<OrderStore, 'get'>;
    readonly xrefs: Pick<CrossReferenceStore, 'findKeys'>;
  };
}

/** What to look for, within what the caller may see. */
export interface ReferenceQuery {
  /** The channel's reference, matched exactly (case included). */
  readonly reference: string;
  /** Only this channel's orders (the caller's, or the filter's); every channel when absent. */
  readonly channel?: string | undefined;
  /** Only this customer's orders. */
  readonly customerNumber?: string | undefined;
}

/** One order found: from the ERP's listing, or Crossdock's record of an order it placed. */
export type FoundOrder =
  | { readonly key: string; readonly from: 'erp'; readonly order: OrderRecord }
  | { readonly key: string; readonly from: 'crossdock'; readonly stored: StoredOrder };

/** The orders Crossdock placed under `query.reference`, keyed as the listing orders them. */
async function placedOrders(
  store: ReferenceLookupSources['store'],
  query: ReferenceQuery,
): Promise<FoundOrder[]> {
  const channels: readonly string[] = query.channel === undefined ? CHANNELS : [query.channel];
  const ids = await Promise.all(
    channels.map((channel) => {
      const { source, entity } = channelReferenceOf(channel);
      return store.xrefs.findKeys(
        'Order',
        source,
        entity,
        query.reference,
        MAX_PLACED_PER_REFERENCE,
      );
    }),
  );
  const stored = await Promise.all(ids.flat().map((id) => store.orders.get(id)));
  return stored
    .filter((order): order is StoredOrder => order !== null)
    .filter(
      (order) =>
        query.customerNumber === undefined || order.customerNumber === query.customerNumber,
    )
    .map((order) => ({ key: order.erpNumber ?? order.id, from: 'crossdock', stored: order }));
}

/**
 * One page (`request.first` ≥ 1) of the orders whose channel reference is `query.reference`,
 * after `request.after`: the ERP's page of its own matches merged with every order Crossdock
 * placed under that reference.
 */
export async function ordersByReference(
  sources: ReferenceLookupSources,
  query: ReferenceQuery,
  request: PageRequest,
): Promise<Page<FoundOrder>> {
  // In the ERP, an `XD-…` document number is Crossdock's own id on an order it placed, never a
  // channel's reference: asking the ERP for it would find an order by the wrong reference.
  const [inErp, placed] = await Promise.all([
    CROSSDOCK_ORDER_ID.test(query.reference)
      ? { items: [], hasNextPage: false }
      : sources.erp.listOrders(request, {
          externalReference: query.reference,
          channel: query.channel,
          customerNumber: query.customerNumber,
        }),
    placedOrders(sources.store, query),
  ]);
  const merged: FoundOrder[] = [
    ...inErp.items.map((order): FoundOrder => ({ key: order.number, from: 'erp', order })),
    ...placed.filter((found) => request.after === undefined || found.key > request.after),
  ].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    items: merged.slice(0, request.first),
    // The ERP's page holds its first matches after `after`; more of them, or more merged than
    // asked for, means there is a next page.
    hasNextPage: inErp.hasNextPage || merged.length > request.first,
  };
}

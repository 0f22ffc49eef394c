/**
 * Customer: the ERP customer card with credit standing and price group.
 */
import type { CustomerResolvers, QueryResolvers } from '../generated/resolvers-types.js';
import type { CustomerRecord } from '../sources/contract.js';
import { CUSTOMER_NUMBER_ARGUMENT } from '../sources/identifiers.js';
import { NO_CUSTOMER, channelScope, customerScope } from './access.js';
import { listPage, pageRequest, toConnection } from './connection.js';
import type { ResolverContext } from './context.js';
import { notFound } from './errors.js';
import { withCrossdock } from './order.js';
import { MAX_TEXT_CHARS, boundedText, keyFromIdArgument, toGlobalId } from './ids.js';
import { compareMoney, nonNegative, subtractMoney } from '../workflows/money.js';

/** Loads a customer by global ID or number; NOT_FOUND when unknown. */
export async function loadCustomer(ctx: ResolverContext, id: string): Promise<CustomerRecord> {
  const number = keyFromIdArgument(id, 'Customer', CUSTOMER_NUMBER_ARGUMENT);
  // A portal principal sees its own account only; others are as missing as unknown ones.
  const own = customerScope(ctx);
  if (own !== null && number !== own) throw notFound('Customer', number);
  const customer = await ctx.loaders.customer.load(number);
  if (!customer) throw notFound('Customer', number);
  return customer;
}

/** Resolvers of Customer. */
export const Customer: CustomerResolvers<ResolverContext> = {
  id: (c) => toGlobalId('Customer', c.number),
  type: (c) => c.type,
  paymentTerms: (c) => c.paymentTermsCode,
  externalIds: (c, _args, ctx) => [
    { source: ctx.sources.erp.name, entity: 'customer', id: c.erpId },
  ],
  availableCredit: (c) => nonNegative(subtractMoney(c.creditLimit, c.balanceDue)),
  creditStatus(c) {
    if (c.blocked === 'SHIP' || c.blocked === 'ALL') return 'ON_HOLD';
    return compareMoney(c.balanceDue, c.creditLimit) > 0 ? 'OVER_LIMIT' : 'OK';
  },
  async orders(c, { first, after }, ctx) {
    const scope = channelScope(ctx);
    const page = await listPage(pageRequest(first, after), (p) =>
      ctx.sources.erp.listOrders(p, {
        customerNumber: c.number,
        ...(scope ? { channel: scope } : {}),
      }),
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

/** Query fields of customers. */
export const customerQueries: Pick<QueryResolvers<ResolverContext>, 'customer' | 'customers'> = {
  customer(_root, { id }, ctx) {
    return loadCustomer(ctx, id);
  },
  async customers(_root, { first, after, filter }, ctx) {
    const own = customerScope(ctx);
    if (own !== null) {
      // A portal principal's list is its own account.
      pageRequest(first, after);
      const customer = own === NO_CUSTOMER ? null : await ctx.loaders.customer.load(own);
      return toConnection(
        { items: customer && !after && first !== 0 ? [customer] : [], hasNextPage: false },
        (c) => c.number,
        (c) => c,
      );
    }
    const page = await listPage(pageRequest(first, after), (p) =>
      ctx.sources.erp.listCustomers(p, {
        search: boundedText('filter.search', filter?.search, MAX_TEXT_CHARS),
        blocked: filter?.blocked ?? undefined,
      }),
    );
    for (const customer of page.items) ctx.loaders.customer.prime(customer.number, customer);
    return toConnection(
      page,
      (c) => c.number,
      (c) => c,
    );
  },
};

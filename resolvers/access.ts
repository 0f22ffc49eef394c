/**
 * Who may read what. The principal comes from the caller's API key or token (server/auth.ts,
 * server/identity.ts). Issue #10 moves these checks into one declarative policy; until then:
 *
 * | role       | catalogue, stock | orders                 | customers, invoices | operations data |
 * |------------|------------------|------------------------|---------------------|-----------------|
 * | admin      | yes              | all                    | yes                 | yes             |
 * | operations | yes              | all                    | yes                 | yes             |
 * | service    | yes              | all                    | yes                 | no              |
 * | storefront | yes              | its channel (WEB)      | yes                 | no              |
 * | portal     | yes              | its customer account's | its own account     | no              |
 * | partner    | yes              | its channel only       | no                  | no              |
 *
 * A partner orders and prices only for the customer accounts of its allow-list
 * ({@link mayActFor}); any other customer number is answered as an unknown one.
 */
import type { OrderRecord } from '../sources/contract.js';
import type { ResolverContext } from './context.js';
import { forbidden } from './errors.js';
import { mayUse } from './policy.js';

/** Throws FORBIDDEN unless the policy lets the caller use the field `coordinate`. */
export function requirePolicy(ctx: ResolverContext, coordinate: string, what = coordinate): void {
  if (!mayUse(ctx.caller.role, coordinate)) throw forbidden(what, ctx.caller.role);
}

/** The only channel the caller may see orders of, or null for all. */
export function channelScope(ctx: ResolverContext): string | null {
  return ctx.caller.channel;
}

/** What {@link customerScope} answers for a storefront without a session customer. */
export const NO_CUSTOMER = '';

/**
 * The only customer account the caller may see, or null for all: a portal's account, a
 * storefront session's customer ({@link NO_CUSTOMER}, matching none, when the session names
 * none); every other principal is not bound to one.
 */
export function customerScope(ctx: ResolverContext): string | null {
  const { role, customer } = ctx.caller;
  if (role === 'portal') return customer;
  if (role === 'storefront') return customer ?? NO_CUSTOMER;
  return null;
}

/** Whether the caller may see this order. */
export function canSeeOrder(ctx: ResolverContext, order: OrderRecord): boolean {
  const scope = channelScope(ctx);
  const customer = customerScope(ctx);
  return (
    (scope === null || order.channel === scope) &&
    (customer === null || order.customerNumber === customer)
  );
}

/**
 * Whether the caller may order or price for customer `customerNumber`: a partner for the accounts
 * of its allow-list, a portal or storefront session for its own account, the unbound roles for
 * any.
 */
export function mayActFor(ctx: ResolverContext, customerNumber: string): boolean {
  const own = customerScope(ctx);
  if (own !== null) return customerNumber === own;
  const allowed = ctx.caller.customers;
  return allowed === null || allowed.includes(customerNumber);
}

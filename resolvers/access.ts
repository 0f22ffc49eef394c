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
 */
import type { OrderRecord } from '../sources/contract.js';
import type { ResolverContext, Role } from './context.js';
import { forbidden } from './errors.js';

/** Throws FORBIDDEN unless the caller has one of `roles`. */
export function requireRole(ctx: ResolverContext, roles: readonly Role[], what: string): void {
  if (!roles.includes(ctx.caller.role)) throw forbidden(what, ctx.caller.role);
}

/** The only channel the caller may see orders of, or null for all. */
export function channelScope(ctx: ResolverContext): string | null {
  return ctx.caller.channel;
}

/** The only customer account the caller may see, or null for all (portal principals). */
export function customerScope(ctx: ResolverContext): string | null {
  return ctx.caller.role === 'portal' ? ctx.caller.customer : null;
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

/** Roles that may read customers and invoices (a portal: its own account only). */
export const CUSTOMER_READERS: readonly Role[] = [
  'admin',
  'operations',
  'service',
  'storefront',
  'portal',
];

/** Roles that may read and repair operational data (dead letters, replay, source health). */
export const OPERATORS: readonly Role[] = ['admin', 'operations'];

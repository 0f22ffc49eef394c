/**
 * Who may read what. Roles come from the caller's API key (server/auth.ts).
 *
 * | role       | catalogue, stock | orders              | customers, invoices | sourceHealth |
 * |------------|------------------|---------------------|---------------------|--------------|
 * | admin      | yes              | all                 | yes                 | yes          |
 * | service    | yes              | all                 | yes                 | yes          |
 * | storefront | yes              | its channel (WEB)   | yes                 | no           |
 * | partner    | yes              | its channel only    | no                  | no           |
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

/** Whether the caller may see this order. */
export function canSeeOrder(ctx: ResolverContext, order: OrderRecord): boolean {
  const scope = channelScope(ctx);
  return scope === null || order.channel === scope;
}

/** Roles that may read customers and invoices. */
export const CUSTOMER_READERS: readonly Role[] = ['admin', 'service', 'storefront'];

/** Roles that may read operational data. */
export const OPERATORS: readonly Role[] = ['admin', 'service'];

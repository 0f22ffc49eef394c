/**
 * Mutations: arguments → idempotency key → workflow → payload. Domain failures come back as
 * `userErrors`; the guard's refusals and system failures as GraphQL errors with catalogue codes.
 */
import type {
  AddressInput,
  DeadLetterResolvers,
  MutationResolvers,
  QueryResolvers,
} from '../generated/resolvers-types.js';
import type { AddressRecord, OrderRecord } from '../sources/contract.js';
import {
  CUSTOMER_NUMBER_ARGUMENT,
  MAX_EXTERNAL_REFERENCE_CHARS,
  ORDER_NUMBER,
} from '../sources/identifiers.js';
import { IdempotencyError } from '../workflows/index.js';
import type { UserError } from '../workflows/orders.js';
import { NO_CUSTOMER, customerScope } from './access.js';
import { SENSITIVE_READERS } from './policy.js';
import type { ResolverContext } from './context.js';
import { renewLoaders } from './loaders.js';
import { badInput, crossdockError, forbidden } from './errors.js';
import { boundedText, keyFromIdArgument, requiredText } from './ids.js';
import { checkSku } from './product.js';
import { loadOrder } from './order.js';
import type { OrderPayloadParent } from './parents.js';

/** The key a mutation runs under: the argument, which must match the header when both are sent. */
export function idempotencyKey(ctx: ResolverContext, argument: string): string {
  const header = ctx.idempotencyKeyHeader;
  if (header !== null && header !== argument) {
    throw badInput(
      'idempotencyKey',
      `the same key as the Idempotency-Key header (${JSON.stringify(header)})`,
      argument,
    );
  }
  return argument;
}

/**
 * Runs a workflow call, mapping the guard's refusals to catalogue codes. Whatever happened (done,
 * replayed, refused, failed), the request's loaders are renewed afterwards: the payload, and any
 * later field of the operation, read the state after the mutation, not what was loaded before it
 * (a scope check, an earlier mutation field).
 */
export async function guarded<T extends { outcome: unknown; replayed: boolean }>(
  ctx: ResolverContext,
  key: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    const result = await run();
    ctx.idempotency.push({ key, replayed: result.replayed });
    return result;
  } catch (error) {
    if (error instanceof IdempotencyError) {
      switch (error.code) {
        case 'BAD_IDEMPOTENCY_KEY':
          throw crossdockError('BAD_USER_INPUT', error.message, { argument: 'idempotencyKey' });
        case 'IDEMPOTENCY_KEY_REUSED':
        case 'IDEMPOTENCY_IN_PROGRESS':
          throw crossdockError(error.code, error.message, { idempotencyKey: key });
        default: {
          const unreachable: never = error.code;
          throw new Error(`unknown idempotency error ${String(unreachable)}`);
        }
      }
    }
    throw error;
  } finally {
    renewLoaders(ctx);
  }
}

/** Longest dead-letter id (theirs are `DL-<order id>-<step>`). */
const MAX_DEAD_LETTER_ID_CHARS = 200;
/** Longest reason of a cancellation or return (kept in the ledger, sent to the systems). */
const MAX_REASON_CHARS = 250;

/** A ship-to address within the ERP's field lengths (BC sales order ship-to fields). */
function address(input: AddressInput | null | undefined): AddressRecord | null {
  if (!input) return null;
  const at = (field: string) => `input.shipTo.${field}`;
  if (!/^[A-Z]{2}$/.test(input.countryCode)) {
    throw badInput(
      at('countryCode'),
      'an ISO 3166-1 alpha-2 code of two capital letters',
      input.countryCode,
    );
  }
  return {
    name: boundedText(at('name'), input.name, 100) ?? null,
    line1: requiredText(at('line1'), input.line1, 100),
    line2: boundedText(at('line2'), input.line2, 50) ?? null,
    city: requiredText(at('city'), input.city, 30),
    region: boundedText(at('region'), input.region, 30) ?? null,
    postalCode: requiredText(at('postalCode'), input.postalCode, 20),
    countryCode: input.countryCode,
  };
}

/** The order key an `orderId` argument names: a global ID, an XD id or an ERP number. */
function orderKey(id: string): string {
  return keyFromIdArgument(id, 'Order', ORDER_NUMBER, 'input.orderId');
}

/** A scoped caller (a channel, a portal's account) may act only on its orders; others look missing. */
async function visibleOrder(ctx: ResolverContext, key: string): Promise<UserError | null> {
  if (ctx.caller.channel === null && customerScope(ctx) === null) return null;
  try {
    await loadOrder(ctx, key);
    return null;
  } catch {
    return {
      code: 'ORDER_NOT_FOUND',
      field: ['input', 'orderId'],
      message: `No order with id ${key}`,
    };
  }
}

/** userErrors that quote a customer's credit figures, and what others are told instead. */
const CREDIT_ERRORS: Readonly<Record<string, string>> = {
  CREDIT_LIMIT_EXCEEDED: "The order exceeds the customer's available credit",
};

/**
 * The payload of an order mutation. A userError never quotes credit figures to a principal that
 * may not read credit data (the policy's CREDIT readers, resolvers/policy.ts).
 */
const payload = (
  orderId: string | null,
  userErrors: readonly UserError[],
  ctx?: ResolverContext,
): OrderPayloadParent => ({
  orderId,
  userErrors: userErrors.map((e) => ({
    ...e,
    ...(ctx && CREDIT_ERRORS[e.code] && !SENSITIVE_READERS.CREDIT.includes(ctx.caller.role)
      ? { message: CREDIT_ERRORS[e.code] as string }
      : {}),
    field: e.field ? ['input', ...e.field] : null,
  })),
});

/** Mutation resolvers. */
export const Mutation: MutationResolvers<ResolverContext> = {
  async placeOrder(_root, { input, idempotencyKey: keyArg }, ctx) {
    const key = idempotencyKey(ctx, keyArg);
    if (ctx.caller.channel !== null && input.channel !== ctx.caller.channel) {
      throw forbidden(
        `placeOrder for channel ${input.channel}`,
        `${ctx.caller.role} (channel ${ctx.caller.channel})`,
      );
    }
    const customerNumber = keyFromIdArgument(
      input.customerId,
      'Customer',
      CUSTOMER_NUMBER_ARGUMENT,
      'input.customerId',
    );
    const own = customerScope(ctx);
    if (own !== null && customerNumber !== own) {
      throw forbidden(
        own === NO_CUSTOMER
          ? 'placeOrder without a customer session'
          : `placeOrder for another customer account than ${own}`,
        ctx.caller.role,
      );
    }
    // Shapes are checked here, before any system sees them; counts and quantities are the
    // workflow's userErrors (business rules a client corrects line by line).
    const lines = input.lines.map((l, i) => ({
      sku: checkSku(l.sku, `input.lines[${i}].sku`),
      quantity: l.quantity,
    }));
    const shipTo = address(input.shipTo);
    const externalReference =
      boundedText(
        'input.externalReference',
        input.externalReference,
        MAX_EXTERNAL_REFERENCE_CHARS,
      ) ?? null;
    const posted: { order?: OrderRecord } = {};
    const { outcome } = await guarded(ctx, key, () =>
      ctx.workflows.orders.placeOrder(
        { channel: input.channel, customerNumber, lines, shipTo, externalReference },
        key,
        // A partner's allow-list is checked by the workflow where it looks the customer up, so
        // one outside it gets the unknown customer's answer, after the same checks, word for word.
        {
          id: ctx.caller.id,
          correlationId: ctx.correlationId,
          customers: ctx.caller.customers,
          acceptedByErp: (order) => (posted.order = order),
        },
      ),
    );
    // The payload reads through loaders made after the mutation (guarded): the ERP's reply to
    // this call's posting is the order as the ERP holds it now, so it is not read back.
    if (posted.order) ctx.loaders.order.prime(posted.order.number, posted.order);
    return payload(outcome.orderId, outcome.userErrors, ctx);
  },
  async cancelOrder(_root, { input, idempotencyKey: keyArg }, ctx) {
    const key = idempotencyKey(ctx, keyArg);
    const orderId = orderKey(input.orderId);
    const reason = requiredText('input.reason', input.reason, MAX_REASON_CHARS);
    const hidden = await visibleOrder(ctx, orderId);
    if (hidden) return payload(null, [hidden]);
    const { outcome } = await guarded(ctx, key, () =>
      ctx.workflows.orders.cancelOrder(orderId, reason, key, {
        id: ctx.caller.id,
        correlationId: ctx.correlationId,
      }),
    );
    return payload(outcome.orderId, outcome.userErrors, ctx);
  },
  async createReturn(_root, { input, idempotencyKey: keyArg }, ctx) {
    const key = idempotencyKey(ctx, keyArg);
    const orderId = orderKey(input.orderId);
    const reason = requiredText('input.reason', input.reason, MAX_REASON_CHARS);
    const lines = input.lines
      ? input.lines.map((l, i) => ({
          sku: checkSku(l.sku, `input.lines[${i}].sku`),
          quantity: l.quantity,
        }))
      : null;
    const hidden = await visibleOrder(ctx, orderId);
    if (hidden) return { ...payload(null, [hidden]), returnReference: null };
    const { outcome } = await guarded(ctx, key, () =>
      ctx.workflows.orders.createReturn(orderId, lines, reason, key, {
        id: ctx.caller.id,
        correlationId: ctx.correlationId,
      }),
    );
    return {
      ...payload(outcome.orderId, outcome.userErrors),
      returnReference: outcome.returnReference,
    };
  },
  async replayDeadLetter(_root, { id, idempotencyKey: keyArg }, ctx) {
    requiredText('id', id, MAX_DEAD_LETTER_ID_CHARS);
    const key = idempotencyKey(ctx, keyArg);
    const { outcome } = await guarded(ctx, key, () =>
      ctx.workflows.deadLetters.replay(id, key, {
        id: ctx.caller.id,
        correlationId: ctx.correlationId,
      }),
    );
    return {
      deadLetter: await ctx.store.deadLetters.get(outcome.id),
      userErrors: outcome.userErrors,
    };
  },
};

/** Resolvers of the mutation payloads. */
export const PlaceOrderPayload = {
  order: (p: OrderPayloadParent, _args: unknown, ctx: ResolverContext) =>
    p.orderId ? loadOrder(ctx, p.orderId) : null,
};

/** Resolvers of DeadLetter. */
export const DeadLetter: DeadLetterResolvers<ResolverContext> = {
  order: (d, _args, ctx) => loadOrder(ctx, d.orderId),
  nextAttemptAt: (d) => new Date(d.nextAttemptAt).toISOString(),
  createdAt: (d) => new Date(d.createdAt).toISOString(),
};

/** Query.deadLetters. */
export const deadLetterQueries: Pick<QueryResolvers<ResolverContext>, 'deadLetters'> = {
  async deadLetters(_root, { status, first }, ctx) {
    const limit = first ?? 50;
    if (!Number.isInteger(limit) || limit < 0 || limit > 250)
      throw badInput('first', 'an integer from 0 to 250', first);
    return ctx.store.deadLetters.list({ ...(status ? { status } : {}), limit });
  },
};

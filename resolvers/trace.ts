/**
 * `Query.trace` (issue #11): the ledger's steps of one correlation ID (the store: every
 * replica's) merged with this replica's trail of operations, system calls, events and webhook
 * verdicts (observability/trail.ts), oldest first. Operators only (resolvers/policy.ts).
 */
import type { QueryResolvers } from '../generated/resolvers-types.js';
import type { ResolverContext } from './context.js';
import { badInput } from './errors.js';

/** Most ledger entries one trace reads. */
const MAX_STEPS = 1_000;
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Query.trace. */
export const traceQueries: Pick<QueryResolvers<ResolverContext>, 'trace'> = {
  async trace(_root, { correlationId }, ctx) {
    if (!CORRELATION_ID.test(correlationId)) {
      throw badInput(
        'correlationId',
        'a correlation ID of 1 to 128 letters, digits, . _ : -',
        correlationId,
      );
    }
    const steps = await ctx.store.ledger.byCorrelation(correlationId, MAX_STEPS);
    // This replica's entries first: of two in the same millisecond, an operation started
    // before the steps it ran (the sort is stable).
    const entries = [
      ...ctx.trail.of(correlationId).map((e) => ({ ...e, orderId: null })),
      ...steps.map((s) => ({
        at: s.at,
        kind: 'STEP' as const,
        name: s.step,
        outcome: s.outcome,
        durationMs: s.durationMs,
        orderId: s.orderId,
        detail: s.status,
      })),
    ].sort((a, b) => a.at - b.at);
    return {
      correlationId,
      entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
      orderIds: [...new Set(steps.map((s) => s.orderId))],
    };
  },
};

/**
 * Business views (issue #11, item 7): `Query.stepLatency` and `Query.slaBreaches` over the order
 * ledger. Arguments are checked here (the window, the page); the reading and the arithmetic are
 * the read model's (workflows/business-views.ts, workflows/latency.ts). Operators only
 * (resolvers/policy.ts).
 */
import type { QueryResolvers, SlaBreachResolvers } from '../generated/resolvers-types.js';
import { WindowTooLarge } from '../workflows/index.js';
import type { ViewWindow } from '../workflows/business-views.js';
import type { ResolverContext } from './context.js';
import { badInput, crossdockError } from './errors.js';
import { fromCursor, pageSize, toCursor } from './ids.js';
import { loadOrder } from './order.js';

/** Longest window a view reads: 31 days. */
const MAX_WINDOW_MS = 31 * 86_400_000;

/** The window of `since`/`until` (default now): `since` before `until`, at most 31 days apart. */
function viewWindow(since: string, until: string | null | undefined): ViewWindow {
  const from = Date.parse(since);
  const to = until == null ? Date.now() : Date.parse(until);
  if (to <= from) throw badInput('until', `a time after since (${since})`, until ?? 'now');
  if (to - from > MAX_WINDOW_MS) {
    throw badInput('since', 'a window of at most 31 days before until', since);
  }
  return { since: from, until: to };
}

/** A window over the read model's bound, as the catalogue's BAD_USER_INPUT naming the limit. */
function tooLarge(error: unknown): never {
  if (error instanceof WindowTooLarge) {
    throw crossdockError(
      'BAD_USER_INPUT',
      `since: expected a window of at most ${error.limit} ledger entries, got more; narrow since and until`,
      { argument: 'since', expected: `at most ${error.limit} ledger entries`, limit: error.limit },
    );
  }
  throw error;
}

/** The cursor of a breach: its ledger entry's time and seq. */
const breachCursor = (b: { at: number; seq: number }) => toCursor(`${b.at}:${b.seq}`);

function fromBreachCursor(after: string): { at: number; seq: number } {
  const key = fromCursor(after);
  const match = /^(\d{1,16}):(\d{1,16})$/.exec(key);
  if (!match) throw badInput('after', 'a cursor returned by slaBreaches', after);
  return { at: Number(match[1]), seq: Number(match[2]) };
}

/** Query.stepLatency and Query.slaBreaches. */
export const viewQueries: Pick<QueryResolvers<ResolverContext>, 'stepLatency' | 'slaBreaches'> = {
  async stepLatency(_root, { since, until, groupBy }, ctx) {
    const window = viewWindow(since, until);
    const dimensions = [...new Set(groupBy ?? ['STEP'])];
    const rows = await ctx.workflows.views.stepLatency(window, dimensions).catch(tooLarge);
    // Channels in the store are the channel codes the Channel enum has.
    return rows.map((row) => ({ ...row, channel: row.channel as never }));
  },
  async slaBreaches(_root, { since, until, first, after }, ctx) {
    const window = viewWindow(since, until);
    const limit = pageSize(first, 50);
    const page = await ctx.workflows.views
      .slaBreaches(window, limit, after == null ? null : fromBreachCursor(after))
      .catch(tooLarge);
    const edges = page.items.map((node) => ({ cursor: breachCursor(node), node }));
    return {
      edges,
      nodes: page.items,
      pageInfo: {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: false,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  },
};

/** Resolvers of SlaBreach. */
export const SlaBreach: SlaBreachResolvers<ResolverContext> = {
  order: (b, _args, ctx) => loadOrder(ctx, b.orderId),
  at: (b) => new Date(b.at).toISOString(),
};

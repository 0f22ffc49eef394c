/**
 * Exception queues (issue #11, item 7): `Query.exceptions` and the three actions on an item,
 * `assignException`, `commentOnException`, `resolveException` — each behind the idempotency
 * guard (`guarded`), run by workflows/exceptions.ts, which records them in the order's ledger.
 * Inputs are bounded here, before anything is stored. Operators only (resolvers/policy.ts).
 */
import type {
  ExceptionItemResolvers,
  MutationResolvers,
  QueryResolvers,
} from '../generated/resolvers-types.js';
import type { ExceptionItem } from '../store/contract.js';
import type { ExceptionKind, ExceptionOutcome } from '../workflows/exceptions.js';
import type { ResolverContext } from './context.js';
import { badInput } from './errors.js';
import { fromCursor, pageSize, requiredText, toCursor } from './ids.js';
import { guarded, idempotencyKey } from './mutation.js';
import { loadOrder } from './order.js';
import type { ExceptionPayloadParent } from './parents.js';

/** An exception item id: `EX-` and a ULID. */
const EXCEPTION_ID = /^EX-[0-9A-HJKMNP-TV-Z]{26}$/;
/** Longest assignee (a person's name or handle). */
const MAX_ASSIGNEE_CHARS = 100;
/** Longest comment. */
const MAX_COMMENT_CHARS = 2_000;
/** Longest resolution. */
const MAX_RESOLUTION_CHARS = 500;
/** Control characters, but for tab and line breaks in multi-line text. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function checkId(id: string): string {
  if (!EXCEPTION_ID.test(id))
    throw badInput('id', 'an exception item id (EX- and 26 characters)', id);
  return id;
}

/** Text of 1 to `max` characters without control characters (tab and newlines allowed if `lines`). */
function text(argument: string, value: string, max: number, lines: boolean): string {
  requiredText(argument, value, max);
  const bad = lines ? CONTROL : /[\u0000-\u001f\u007f]/;
  if (bad.test(value) || value.trim() === '') {
    throw badInput(
      argument,
      `1 to ${max} characters, not only spaces, without control characters${lines ? ' (tab and line breaks allowed)' : ''}`,
      value,
    );
  }
  return value;
}

/** The payload of an action: the item as the action left it (a replay shows the same). */
const payload = (outcome: ExceptionOutcome): ExceptionPayloadParent => ({
  exception: outcome.item,
  userErrors: outcome.userErrors.map((e) => ({ ...e, field: e.field ? [...e.field] : null })),
});

/** Query.exceptions. */
export const exceptionQueries: Pick<QueryResolvers<ResolverContext>, 'exceptions'> = {
  async exceptions(_root, { queue, status, first, after }, ctx) {
    const limit = pageSize(first);
    const items = await ctx.store.exceptions.list({
      ...(queue ? { queue } : {}),
      ...(status ? { status } : {}),
      ...(after == null ? {} : { after: fromCursor(after) }),
      // One more than asked answers hasNextPage.
      limit: limit + 1,
    });
    const page = items.slice(0, limit);
    const edges = page.map((node) => ({ cursor: toCursor(node.id), node }));
    return {
      edges,
      nodes: page,
      pageInfo: {
        hasNextPage: items.length > limit,
        hasPreviousPage: false,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  },
};

/** The three actions on exception items. */
export const exceptionMutations: Pick<
  MutationResolvers<ResolverContext>,
  'assignException' | 'commentOnException' | 'resolveException'
> = {
  async assignException(_root, { id, assignee, idempotencyKey: keyArg }, ctx) {
    checkId(id);
    const who = text('assignee', assignee, MAX_ASSIGNEE_CHARS, false);
    const key = idempotencyKey(ctx, keyArg);
    const { outcome } = await guarded(ctx, key, () =>
      ctx.workflows.exceptions.assign(id, who, key, caller(ctx)),
    );
    return payload(outcome);
  },
  async commentOnException(_root, { id, text: comment, idempotencyKey: keyArg }, ctx) {
    checkId(id);
    const body = text('text', comment, MAX_COMMENT_CHARS, true);
    const key = idempotencyKey(ctx, keyArg);
    const { outcome } = await guarded(ctx, key, () =>
      ctx.workflows.exceptions.comment(id, body, key, caller(ctx)),
    );
    return payload(outcome);
  },
  async resolveException(_root, { id, resolution, idempotencyKey: keyArg }, ctx) {
    checkId(id);
    const how = text('resolution', resolution, MAX_RESOLUTION_CHARS, true);
    const key = idempotencyKey(ctx, keyArg);
    const { outcome } = await guarded(ctx, key, () =>
      ctx.workflows.exceptions.resolve(id, how, key, caller(ctx)),
    );
    return payload(outcome);
  },
};

const caller = (ctx: ResolverContext) => ({ id: ctx.caller.id, correlationId: ctx.correlationId });

const iso = (ms: number) => new Date(ms).toISOString();

/** Resolvers of ExceptionItem. */
export const ExceptionItemType: ExceptionItemResolvers<ResolverContext> = {
  kind: (item: ExceptionItem) => item.kind as ExceptionKind,
  order: (item, _args, ctx) => (item.orderId === null ? null : loadOrder(ctx, item.orderId)),
  comments: (item) => item.comments.map((c) => ({ author: c.author, at: iso(c.at), text: c.text })),
  createdAt: (item) => iso(item.createdAt),
  updatedAt: (item) => iso(item.updatedAt),
  resolvedAt: (item) => (item.resolvedAt === null ? null : iso(item.resolvedAt)),
};

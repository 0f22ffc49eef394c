/**
 * Relay connections over sorted arrays: opaque cursors (base64 of `{"last_id","last_value"}`,
 * the shape Shopify's cursors decode to) and keyset paging with `first/after`, `last/before`
 * and `reverse`. A cursor names a position by sort value and id, so it survives inserts and
 * deletes between pages. Filtering scans from the cursor and stops after `first + 1` matches.
 */
import { GraphQLError } from 'graphql';

/** A sort value: strings compare in code-unit order, numbers numerically. */
export type SortValue = string | number;

/** A sort key of a collection: the value records are ordered by (ties broken by id). */
export type SortKeyOf<T> = (record: T) => SortValue;

/** Records that can be paged. */
export interface Identified {
  readonly numericId: number;
}

/** Paging arguments as the schema declares them. */
export interface PageArgs {
  readonly first?: number | null;
  readonly last?: number | null;
  readonly after?: string | null;
  readonly before?: string | null;
  readonly reverse?: boolean | null;
}

/** An edge of a connection. */
export interface Edge<T> {
  readonly cursor: string;
  readonly node: T;
}

/** A Relay connection. */
export interface Connection<T> {
  readonly edges: readonly Edge<T>[];
  readonly nodes: readonly T[];
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    readonly hasPreviousPage: boolean;
    readonly startCursor: string | null;
    readonly endCursor: string | null;
  };
}

/** Ascending bounds on the sort value taken from the search query (`sku:>'X'`). */
export interface KeyRange {
  readonly lower?: { readonly value: SortValue; readonly inclusive: boolean };
  readonly upper?: { readonly value: SortValue; readonly inclusive: boolean };
}

/** What to page over. */
export interface PageSource<T extends Identified> {
  /** Records in ascending order of (`key`, id). */
  readonly sorted: readonly T[];
  readonly key: SortKeyOf<T>;
  readonly predicate: (record: T) => boolean;
  readonly range?: KeyRange | undefined;
}

interface CursorPosition {
  readonly id: number;
  readonly value: SortValue;
}

/** Encodes a cursor for `record` under `key`. */
export function encodeCursor<T extends Identified>(record: T, key: SortKeyOf<T>): string {
  return Buffer.from(
    JSON.stringify({ last_id: record.numericId, last_value: key(record) }),
  ).toString('base64');
}

/** The error a malformed cursor gets. */
export function invalidCursor(argument: 'after' | 'before', cursor: string): GraphQLError {
  return new GraphQLError(
    `Invalid cursor for argument '${argument}': expected a cursor returned by this connection, got ${JSON.stringify(cursor)}`,
    { extensions: { code: 'BAD_REQUEST' } },
  );
}

function decodeCursor(
  argument: 'after' | 'before',
  cursor: string,
  sample: SortValue | undefined,
): CursorPosition {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(cursor)) throw new Error('not base64');
    parsed = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8'));
  } catch {
    throw invalidCursor(argument, cursor);
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalidCursor(argument, cursor);
  const { last_id: id, last_value: value } = parsed as { last_id?: unknown; last_value?: unknown };
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw invalidCursor(argument, cursor);
  if (typeof value !== 'string' && typeof value !== 'number') throw invalidCursor(argument, cursor);
  // A cursor of another sort order (a title where numbers are sorted) is not a position here.
  if (sample !== undefined && typeof sample !== typeof value) throw invalidCursor(argument, cursor);
  return { id, value };
}

function cmp(a: SortValue, b: SortValue): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First index at which the monotone `test` turns true (false…false true…true). */
function firstIndex<T>(sorted: readonly T[], test: (record: T) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (test(sorted[mid] as T)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Pages over `source`; argument limits (250, first with last) are checked before execution. */
export function paginate<T extends Identified>(
  source: PageSource<T>,
  args: PageArgs,
): Connection<T> {
  const { sorted, key, predicate } = source;
  const n = sorted.length;
  const sample = sorted[0] === undefined ? undefined : key(sorted[0]);
  const reverse = args.reverse === true;
  const byPos = (r: T, pos: CursorPosition): number =>
    cmp(key(r), pos.value) || r.numericId - pos.id;
  const abovePos = (pos: CursorPosition): number => firstIndex(sorted, (r) => byPos(r, pos) > 0);
  const atOrAbovePos = (pos: CursorPosition): number =>
    firstIndex(sorted, (r) => byPos(r, pos) >= 0);

  // The window of ascending indexes [lo, hi) that the search range allows.
  let lo = 0;
  let hi = n;
  const { lower, upper } = source.range ?? {};
  if (lower)
    lo = firstIndex(sorted, (r) =>
      lower.inclusive ? cmp(key(r), lower.value) >= 0 : cmp(key(r), lower.value) > 0,
    );
  if (upper)
    hi = firstIndex(sorted, (r) =>
      upper.inclusive ? cmp(key(r), upper.value) > 0 : cmp(key(r), upper.value) >= 0,
    );
  hi = Math.max(lo, hi);

  // The cursors narrow the window to [start, end). Reversed, display order is descending, so
  // "after" the cursor means below it in ascending indexes.
  let start = lo;
  let end = hi;
  const after = args.after == null ? null : decodeCursor('after', args.after, sample);
  const before = args.before == null ? null : decodeCursor('before', args.before, sample);
  if (!reverse) {
    if (after) start = Math.max(start, abovePos(after));
    if (before) end = Math.min(end, atOrAbovePos(before));
  } else {
    if (after) end = Math.min(end, atOrAbovePos(after));
    if (before) start = Math.max(start, abovePos(before));
  }
  end = Math.max(start, end);

  const scan = (from: number, to: number, limit: number): T[] => {
    const out: T[] = [];
    const dir = from <= to ? 1 : -1;
    for (let i = from; i !== to && out.length < limit; i += dir) {
      const record = sorted[i] as T;
      if (predicate(record)) out.push(record);
    }
    return out;
  };
  // Ranges as [from, to) walked in display order: ascending, or descending when reversed.
  const page = (fromStart: boolean): [number, number] =>
    fromStart === !reverse ? [start, end] : [end - 1, start - 1];
  const beforeWindow: [number, number] = !reverse ? [start - 1, lo - 1] : [end, hi];
  const afterWindow: [number, number] = !reverse ? [end, hi] : [start - 1, lo - 1];

  let items: T[];
  let hasNextPage: boolean;
  let hasPreviousPage: boolean;
  if (args.last != null) {
    const [from, to] = page(false);
    const found = scan(from, to, args.last + 1);
    hasPreviousPage = found.length > args.last;
    items = found.slice(0, args.last).reverse();
    hasNextPage = scan(afterWindow[0], afterWindow[1], 1).length > 0;
  } else {
    const first = args.first ?? 0;
    const [from, to] = page(true);
    const found = scan(from, to, first + 1);
    hasNextPage = found.length > first;
    items = found.slice(0, first);
    hasPreviousPage = scan(beforeWindow[0], beforeWindow[1], 1).length > 0;
  }

  const edges = items.map((node) => ({ cursor: encodeCursor(node, key), node }));
  return {
    edges,
    nodes: items,
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

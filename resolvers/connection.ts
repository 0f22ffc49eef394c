/**
 * Relay connections over keyset pages: the cursor of an edge is its canonical key.
 */
import type { Page, PageRequest } from '../sources/contract.js';
import { fromCursor, pageSize, toCursor } from './ids.js';
import type { ConnectionParent } from './parents.js';

/** A connection's page request from its arguments: `first` validated (0 allowed), `after` decoded. */
export function pageRequest(
  first: number | null | undefined,
  after: string | null | undefined,
): PageRequest {
  return { first: pageSize(first), after: after == null ? undefined : fromCursor(after) };
}

/**
 * Reads one page through `list`. Systems are asked for at least one item (the source port takes
 * `first` ≥ 1): `first: 0` asks for one only to answer `hasNextPage` (Relay: whether edges exist
 * after `after`) and returns none.
 */
export async function listPage<R>(
  request: PageRequest,
  list: (request: PageRequest) => Promise<Page<R>>,
): Promise<Page<R>> {
  if (request.first > 0) return list(request);
  const probe = await list({ ...request, first: 1 });
  return { items: [], hasNextPage: probe.items.length > 0 };
}

/** Builds a connection from a page; `keyOf` gives each item's canonical key. */
export function toConnection<R, N>(
  page: Page<R>,
  keyOf: (record: R) => string,
  nodeOf: (record: R) => N,
): ConnectionParent<N> {
  const edges = page.items.map((record) => ({
    cursor: toCursor(keyOf(record)),
    node: nodeOf(record),
  }));
  return {
    edges,
    nodes: edges.map((edge) => edge.node),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

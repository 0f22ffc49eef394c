/**
 * Relay connections over keyset pages: the cursor of an edge is its canonical key.
 */
import type { Page } from '../sources/contract.js';
import { toCursor } from './ids.js';
import type { ConnectionParent } from './parents.js';

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

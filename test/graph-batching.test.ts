/**
 * The batching spy: requests each sandbox system serves for one products page, for page sizes
 * 1, 50 and 200. The count must not grow with the page size (one call per system per query).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type GqlResponse, type Stack } from './support/stack.js';

let stack: Stack;

before(async () => {
  // Cold cache: this counts what a page costs each system when nothing is remembered.
  stack = await startStack({ catalogSize: 600, env: { CONTENT_CACHE_TTL_MS: '0' } });
});

after(() => stack.close());

const PAGE = `query($n: Int!, $after: String) { products(first: $n, after: $after) { edges { node {
  sku name listPrice { amount } inventory { onHand available warehouse { code } source } availableToPromise
} } pageInfo { endCursor } } }`;

describe('batching', () => {
  it('makes one call per system per query whatever the page size', async (t) => {
    // Warm up: tokens and facility lists are fetched once per connector, not per query.
    const warm = await stack.gql(PAGE, { n: 1 });
    assert.equal(warm.body.errors, undefined);
    const table: Record<number, Record<string, number>> = {};
    let after: string | null = null;
    for (const n of [1, 50, 200]) {
      stack.resetCounts();
      const res: GqlResponse<{ products: { edges: unknown[]; pageInfo: { endCursor: string } } }> =
        await stack.gql(PAGE, { n, after });
      assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
      assert.equal(res.body.data?.products.edges.length, n);
      after = res.body.data?.products.pageInfo.endCursor ?? null;
      table[n] = stack.requests();
    }
    t.diagnostic(`requests per system per query: ${JSON.stringify(table)}`);
    for (const n of [1, 50, 200]) {
      assert.deepEqual(table[n], { erp: 1, commerce: 1, wms: 1, tpl: 1 }, `page size ${n}`);
    }
  });

  it('batches order lines, shipments and customers of a whole orders page', async (t) => {
    await stack.gql(`{ orders(first: 1) { nodes { number } } }`);
    stack.resetCounts();
    const res =
      await stack.gql(`{ orders(first: 100) { nodes { number status customer { name } lines { product { name } }
      shipments { status } invoices { number } } } }`);
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const counts = stack.requests();
    t.diagnostic(`orders(first: 100) requests: ${JSON.stringify(counts)}`);
    // ERP: the page, the customers batch (+ their price groups), the invoices batch.
    assert.ok(counts.erp <= 4, `erp ${counts.erp}`);
    assert.equal(counts.commerce, 1);
    assert.equal(counts.wms, 1);
    assert.equal(counts.tpl, 1);
  });
});

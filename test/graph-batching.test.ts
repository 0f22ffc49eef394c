/**
 * The batching spy: requests each sandbox system serves for one products page, for page sizes
 * 1, 50 and 200, and for a page of 100 orders with everything nested in them. The count must not
 * grow with the page size: exact figures per system (one call per system and kind of record).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type GqlResponse, type Stack } from './support/stack.js';

let stack: Stack;

before(async () => {
  stack = await startStack({
    catalogSize: 600,
    env: {
      // Cold cache: this counts what a page costs each system when nothing is remembered.
      CONTENT_CACHE_TTL_MS: '0',
      // Nothing in the background may call a system between a reset and a count.
      POLL_SOURCES: 'none',
    },
  });
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
    const ORDERS = `query($n: Int!) { orders(first: $n) { nodes { number status customer { name }
      lines { product { name } } shipments { status } invoices { number } } } }`;
    // Warm up with the same shape (this test may run alone): tokens and facility lists of both
    // warehouse systems are fetched once per connector, not per query.
    const warm = await stack.gql(ORDERS, { n: 1 });
    assert.equal(warm.body.errors, undefined, JSON.stringify(warm.body.errors));
    stack.resetCounts();
    const res = await stack.gql<{ orders: { nodes: unknown[] } }>(ORDERS, { n: 100 });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    assert.equal(res.body.data?.orders.nodes.length, 100);
    const counts = stack.requests();
    const erpRoutes = stack.sandbox.erp.control.stats().byRoute;
    t.diagnostic(`orders(first: 100) requests: ${JSON.stringify({ counts, erpRoutes })}`);
    assert.deepEqual(counts, { erp: 4, commerce: 1, wms: 1, tpl: 1 });
    // ERP: the page, the customers batch, their price groups, the invoices batch.
    assert.deepEqual(
      Object.entries(erpRoutes)
        .map(([route, n]) => [route.replace(/^GET .*\//, ''), n])
        .sort(),
      [
        ['customerPriceGroups', 1],
        ['customers', 1],
        ['salesInvoices', 1],
        ['salesOrders', 1],
      ],
    );
  });
});

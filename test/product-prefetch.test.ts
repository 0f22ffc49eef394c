/**
 * `product(sku)` asks the warehouse systems alongside the ERP and commerce when its selection
 * reads stock (resolvers/product.ts, issue #13): the query waits for the slowest system, not for
 * the ERP and then the warehouses. Checked by order, not by duration: with the ERP answering
 * 300 ms late, the WMS and 3PL calls (Query.trace) start before the ERP call ends; without stock
 * in the selection no warehouse is asked; either way one call per system.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let stack: Stack;
before(async () => {
  stack = await startStack({
    catalogSize: 50,
    env: { POLL_SOURCES: 'none', CONTENT_CACHE_TTL_MS: '0' },
  });
  // Tokens and facility lists first: fetched once per connector, they would blur the counts.
  await stack.gql(
    `{ product(sku: "SKU-000001") { name listPrice { amount } inventory { available } } }`,
  );
});
after(async () => {
  stack.sandbox.erp.control.setFaults({ latencyMs: 0 });
  await stack?.close();
});

/** Runs `query` under a correlation ID of its own and returns its system calls, oldest first. */
async function calls(query: string) {
  const correlationId = `prefetch-${randomUUID()}`;
  stack.resetCounts();
  const res = await stack.gql<Json>(query, {}, { headers: { 'x-correlation-id': correlationId } });
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  const counts = stack.requests();
  const trace = await stack.gql<Json>(
    `query($id: String!) { trace(correlationId: $id) { entries { kind name at durationMs } } }`,
    { id: correlationId },
    { key: 'demo-operations' },
  );
  const entries = (trace.body.data?.trace.entries as Json[]).filter(
    (e) => e.kind === 'SYSTEM_CALL',
  );
  return {
    counts,
    entries: entries.map((e) => ({
      system: String(e.name).split(' ')[0],
      start: Date.parse(e.at as string),
      end: Date.parse(e.at as string) + Number(e.durationMs),
    })),
  };
}

describe('product(sku) asks the warehouse systems without waiting for the ERP', () => {
  it('with stock selected: the WMS and 3PL calls start before the slow ERP call ends; one call per system', async () => {
    stack.sandbox.erp.control.setFaults({ latencyMs: 300 });
    try {
      const { counts, entries } = await calls(
        `{ product(sku: "SKU-000007") { name listPrice { amount } inventory { warehouse { code } available } availableToPromise } }`,
      );
      assert.deepEqual(counts, { erp: 1, commerce: 1, wms: 1, tpl: 1 });
      const erp = entries.find((e) => e.system === 'erp');
      assert.ok(erp, JSON.stringify(entries));
      for (const system of ['wms', 'tpl']) {
        const call = entries.find((e) => e.system === system);
        assert.ok(call, `${system}: ${JSON.stringify(entries)}`);
        assert.ok(
          call.start < erp.end,
          `${system} started after the ERP answered: ${JSON.stringify(entries)}`,
        );
      }
    } finally {
      stack.sandbox.erp.control.setFaults({ latencyMs: 0 });
    }
  });

  it('through a fragment too; without stock in the selection no warehouse system is asked', async () => {
    const viaFragment = await calls(
      `query { product(sku: "SKU-000008") { ...Stock } } fragment Stock on Product { sku ... on Product { availableToPromise } }`,
    );
    assert.deepEqual(viaFragment.counts, { erp: 1, commerce: 1, wms: 1, tpl: 1 });
    const noStock = await calls(`{ product(sku: "SKU-000009") { name listPrice { amount } } }`);
    assert.deepEqual(noStock.counts, { erp: 1, commerce: 1, wms: 0, tpl: 0 });
  });
});

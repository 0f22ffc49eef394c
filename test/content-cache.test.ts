/**
 * The product content cache in front of the commerce connector: hits, TTL, negative entries,
 * eviction, in-flight coalescing, failures not cached, and the effect end to end, all against
 * the real commerce connector and sandbox (requests counted by the sandbox).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { COMMERCE_SANDBOX } from '../sandbox/credentials.js';
import { createCommerceApp } from '../sandbox/commerce.js';
import { listen, type RunningSystem } from '../sandbox/faults.js';
import { buildWorld } from '../sandbox/seed.js';
import { createCommerceConnector } from '../sources/commerce/index.js';
import { SourceError } from '../sources/contract.js';
import { withContentCache } from '../sources/content-cache.js';
import { startStack, type Stack } from './support/stack.js';

let commerce: RunningSystem;
const world = buildWorld({ catalogSize: 50, orders: 6 });
const sku = (i: number) => world.products[i]?.sku ?? '';

before(async () => {
  const made = createCommerceApp(world, { bucketSize: 1_000_000, restoreRate: 1_000_000 });
  commerce = await listen('commerce', made.app, made.control, 0);
});
after(() => commerce.close());

/** The real commerce connector against the sandbox; `calls()` counts what reached the platform. */
function recording() {
  commerce.control.setFaults({ down: false });
  commerce.control.resetStats();
  const connector = createCommerceConnector({
    baseUrl: commerce.url,
    apiVersion: COMMERCE_SANDBOX.apiVersion,
    accessToken: COMMERCE_SANDBOX.accessToken,
  });
  return { connector, calls: () => commerce.control.stats().requests };
}

describe('content cache', () => {
  it('serves repeated SKUs from memory and caches unknown SKUs as null', async () => {
    const { connector, calls } = recording();
    const cached = withContentCache(connector, { ttlMs: 10_000 });
    const first = await cached.contentBySku([sku(0), 'NOPE-1', sku(1)]);
    assert.deepEqual(
      first.map((r) => r?.sku ?? null),
      [sku(0), null, sku(1)],
    );
    const second = await cached.contentBySku([sku(1), 'NOPE-1', sku(2), sku(0)]);
    assert.deepEqual(
      second.map((r) => r?.sku ?? null),
      [sku(1), null, sku(2), sku(0)],
    );
    assert.equal(calls(), 2, 'the second batch asked only for the one new SKU');
    assert.deepEqual(cached.cacheStats(), { hits: 3, misses: 4, size: 4 });
  });

  it('expires entries after the TTL', async () => {
    let clock = 0;
    const { connector, calls } = recording();
    const cached = withContentCache(connector, { ttlMs: 100, now: () => clock });
    await cached.contentBySku([sku(0)]);
    clock = 99;
    await cached.contentBySku([sku(0)]);
    assert.equal(calls(), 1);
    clock = 100;
    await cached.contentBySku([sku(0)]);
    assert.equal(calls(), 2);
  });

  it('evicts the oldest entries past maxEntries', async () => {
    const { connector, calls } = recording();
    const cached = withContentCache(connector, { ttlMs: 10_000, maxEntries: 2 });
    await cached.contentBySku([sku(0), sku(1), sku(2)]);
    assert.equal(cached.cacheStats().size, 2);
    await cached.contentBySku([sku(2)]);
    assert.equal(calls(), 1, 'the newest entry stayed');
    await cached.contentBySku([sku(0)]);
    assert.equal(calls(), 2, 'the oldest entry was evicted');
  });

  it('evicts the least recently stored entry, however recently it was read', async () => {
    const { connector, calls } = recording();
    const cached = withContentCache(connector, { ttlMs: 10_000, maxEntries: 2 });
    await cached.contentBySku([sku(0)]);
    await cached.contentBySku([sku(1)]);
    await cached.contentBySku([sku(0)]); // a hit: not stored again
    await cached.contentBySku([sku(2)]); // evicts sku 0, stored first
    assert.equal(calls(), 3);
    await cached.contentBySku([sku(1)]);
    assert.equal(calls(), 3, 'sku 1 stayed');
    await cached.contentBySku([sku(0)]);
    assert.equal(calls(), 4, 'sku 0 was evicted');
  });

  it('shares one call between concurrent misses of the same SKU', async () => {
    const { connector, calls } = recording();
    const cached = withContentCache(connector, { ttlMs: 10_000 });
    const answers = await Promise.all([
      cached.contentBySku([sku(0), sku(1)]),
      cached.contentBySku([sku(1), sku(0)]),
      cached.contentBySku([sku(0)]),
    ]);
    assert.equal(calls(), 1);
    assert.deepEqual(
      answers.map((a) => a.map((r) => r?.sku)),
      [[sku(0), sku(1)], [sku(1), sku(0)], [sku(0)]],
    );
  });

  it('does not cache a failure', async () => {
    const { connector } = recording();
    const cached = withContentCache(connector, { ttlMs: 10_000 });
    commerce.control.setFaults({ down: true });
    await assert.rejects(
      cached.contentBySku([sku(0)]),
      (e: unknown) => e instanceof SourceError && e.code === 'SOURCE_UNAVAILABLE',
    );
    commerce.control.setFaults({ down: false });
    assert.equal((await cached.contentBySku([sku(0)]))[0]?.sku, sku(0));
    assert.equal(cached.cacheStats().size, 1);
  });

  it('passes straight through with ttlMs 0', async () => {
    const { connector, calls } = recording();
    const cached = withContentCache(connector, { ttlMs: 0 });
    await cached.contentBySku([sku(0)]);
    await cached.contentBySku([sku(0)]);
    assert.equal(calls(), 2);
  });

  it('rejects bad options with what was expected', () => {
    const { connector } = recording();
    assert.throws(() => withContentCache(connector, { ttlMs: -1 }), {
      message: 'content cache ttlMs: expected an integer >= 0, got -1',
    });
    assert.throws(() => withContentCache(connector, { maxEntries: 0 }), {
      message: 'content cache maxEntries: expected an integer >= 1, got 0',
    });
  });
});

describe('content cache end to end', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ catalogSize: 100 });
  });
  after(() => stack.close());

  it('answers a repeated page without calling commerce, and keeps names while commerce is down', async () => {
    const page = `{ products(first: 20) { nodes { sku name } } }`;
    const first = await stack.gql<{ products: { nodes: { name: string }[] } }>(page);
    assert.equal(first.body.errors, undefined);
    stack.resetCounts();
    stack.sandbox.commerce.control.setFaults({ down: true });
    const again = await stack.gql<{ products: { nodes: { name: string }[] } }>(page);
    assert.equal(again.body.errors, undefined);
    assert.deepEqual(again.body.data, first.body.data);
    assert.equal(stack.requests().commerce, 0);
    stack.sandbox.reset();
  });
});

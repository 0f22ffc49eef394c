/**
 * Partial failure: with one system down or slow, the response keeps every field the other
 * systems own; the missing fields are null and `errors[]` names the source, the code and the
 * breaker state. Once the breaker is open, calls fail fast without reaching the system, and
 * it closes again after the system recovers.
 *
 * Each test has a stack of its own: no breaker opened, failure counted or fault set by another
 * test can change what it sees, whatever runs before it.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { BreakerState, Connector } from '../sources/contract.js';
import { buildWorld, centsToDecimal, type SeedWorld } from '../sandbox/seed.js';
import { startStack, type GqlResponse, type Stack } from './support/stack.js';

let stack: Stack;
let world: SeedWorld;
let opened: Stack | null = null;

/** Failed ERP calls in the rolling window that open its breaker (all failed: 100% ≥ 50%). */
const ERP_BREAKER_VOLUME = 3;
/** How long the ERP breaker stays open: far longer than the few queries made while it is. */
const ERP_BREAKER_RESET_MS = 1_500;

/** Starts this test's own stack (closed after it), with `env` over the settings of the file. */
async function open(env: Record<string, string> = {}): Promise<void> {
  world = buildWorld({ catalogSize: 120 });
  stack = opened = await startStack({
    world,
    env: {
      // Every test here must reach commerce, not its content cache.
      CONTENT_CACHE_TTL_MS: '0',
      ERP_BREAKER_VOLUME_THRESHOLD: String(ERP_BREAKER_VOLUME),
      ERP_BREAKER_RESET_MS: String(ERP_BREAKER_RESET_MS),
      // Nothing in the background calls a system while a test counts requests.
      POLL_SOURCES: 'none',
      ...env,
    },
  });
}

afterEach(async () => {
  await opened?.close();
  opened = null;
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PRODUCT = `query($sku: String!) { product(sku: $sku) {
  sku name listPrice { amount } inventory { warehouse { code } onHand source } availableToPromise } }`;

function stateChange(connector: Connector, wanted: BreakerState): Promise<void> {
  return new Promise((resolve) => {
    if (connector.health().state === wanted) return resolve();
    const off = connector.onStateChange((state) => {
      if (state === wanted) {
        off();
        resolve();
      }
    });
  });
}

describe('partial failure', () => {
  it('keeps ERP and commerce fields when the own WMS is down', async () => {
    await open();
    const p = world.products.find((x) =>
      world.stock.some((s) => s.sku === x.sku && s.warehouse === '3PL-SOUTH'),
    );
    assert.ok(p);
    stack.sandbox.wms.control.setFaults({ down: true });
    const res = await stack.gql<Json>(PRODUCT, { sku: p.sku });
    const product = res.body.data?.product;
    assert.equal(product.name, p.name);
    assert.equal(product.listPrice.amount, centsToDecimal(p.priceCents));
    const slots = product.inventory as (Json | null)[];
    assert.deepEqual(
      slots.filter((s) => s !== null).map((s) => s?.warehouse.code),
      ['3PL-SOUTH'],
      'the 3PL still answers',
    );
    assert.equal(slots.filter((s) => s === null).length, 1, 'one null slot for the failed system');
    assert.equal(product.availableToPromise, null);
    const errors = res.body.errors ?? [];
    assert.equal(errors.length, 2, JSON.stringify(errors));
    for (const error of errors) {
      assert.equal(error.extensions?.code, 'SOURCE_UNAVAILABLE');
      assert.equal(error.extensions?.source, 'wms');
      assert.equal(error.extensions?.breaker, 'CLOSED');
    }
    assert.deepEqual(errors.map((e) => e.path?.join('.')).sort(), [
      'product.availableToPromise',
      'product.inventory.1',
    ]);
  });

  it('calls a failing system once per request, however many fields need it', async () => {
    await open();
    const p = world.products[2];
    assert.ok(p);
    stack.sandbox.erp.control.setFaults({ errorRate: 1 });
    stack.resetCounts();
    const res = await stack.gql<Json>(
      `query($sku: String!) { product(sku: $sku) { name listPrice { amount } category gtin blocked unitOfMeasure } }`,
      { sku: p.sku },
    );
    assert.equal(res.body.data?.product.name, p.name);
    assert.equal(res.body.errors?.length, 5, 'one error per ERP-owned field');
    assert.equal(stack.requests().erp, 1, 'the failed batch is not retried by the next field');
  });

  it('reports SOURCE_TIMEOUT for a slow system and keeps the rest', async () => {
    // A short commerce timeout for this test only: elsewhere a loaded machine could trip it.
    await open({ COMMERCE_TIMEOUT_MS: '150' });
    const p = world.products[9];
    assert.ok(p);
    stack.sandbox.commerce.control.setFaults({ latencyMs: 2_000 });
    const res = await stack.gql<Json>(
      `query($sku: String!) { product(sku: $sku) { name listPrice { amount } } }`,
      { sku: p.sku },
    );
    assert.equal(res.body.data?.product.name, null);
    assert.equal(res.body.data?.product.listPrice.amount, centsToDecimal(p.priceCents));
    const error = res.body.errors?.[0];
    assert.equal(error?.extensions?.code, 'SOURCE_TIMEOUT');
    assert.equal(error?.extensions?.source, 'commerce');
    assert.equal(error?.message, 'commerce: productVariants timed out after 150 ms');
  });

  it('keeps content and stock when the ERP is down, with listPrice null', async () => {
    await open();
    const p = world.products[4];
    assert.ok(p);
    stack.sandbox.erp.control.setFaults({ down: true });
    const res = await stack.gql<Json>(PRODUCT, { sku: p.sku });
    const product = res.body.data?.product;
    assert.equal(product.name, p.name);
    assert.equal(product.listPrice, null);
    assert.ok(
      product.inventory.length > 0 && product.inventory.every((s: Json | null) => s !== null),
    );
    assert.equal(
      product.availableToPromise,
      world.stock
        .filter((s) => s.sku === p.sku)
        .reduce((n, s) => n + s.onHand - s.allocated - s.onHold, 0),
    );
    assert.deepEqual(
      res.body.errors?.map((e) => [
        e.path?.join('.'),
        e.extensions?.code,
        e.extensions?.source,
        e.extensions?.breaker,
      ]),
      [['product.listPrice', 'SOURCE_UNAVAILABLE', 'erp', 'CLOSED']],
    );
  });

  it('lists products from commerce while the ERP is down, and says so', async () => {
    await open();
    stack.sandbox.erp.control.setFaults({ errorRate: 1 });
    const res = await stack.gql<Json>(
      `{ products(first: 3) { nodes { sku name listPrice { amount } } } }`,
    );
    assert.deepEqual(
      res.body.data?.products.nodes.map((n: Json) => [n.sku, n.name, n.listPrice]),
      world.products.slice(0, 3).map((p) => [p.sku, p.name, null]),
    );
    const warnings = res.body.extensions?.warnings as Json[];
    assert.deepEqual(
      warnings.map((w) => [w.code, w.source]),
      [['SOURCE_FALLBACK', 'erp']],
    );
    // The ERP-owned field of each node is null for a reason the response names.
    assert.deepEqual(
      res.body.errors?.map((e) => [e.path?.join('.'), e.extensions?.code, e.extensions?.source]),
      [0, 1, 2].map((i) => [`products.nodes.${i}.listPrice`, 'SOURCE_UNAVAILABLE', 'erp']),
    );
  });

  it('opens the ERP breaker, fails fast without calling the ERP, then closes after recovery', async () => {
    await open();
    const erp = stack.crossdock.sources.erp;
    const p = world.products[20];
    assert.ok(p);
    const query = `query($sku: String!) { product(sku: $sku) { name listPrice { amount } } }`;
    assert.equal(erp.health().state, 'CLOSED', 'a stack of its own starts closed');
    stack.sandbox.erp.control.setFaults({ errorRate: 1 });
    // Each query is one failed ERP call; the one that reaches the volume threshold opens it.
    for (let i = 1; i <= ERP_BREAKER_VOLUME; i++) {
      stack.resetCounts();
      const res: GqlResponse<Json> = await stack.gql(query, { sku: p.sku });
      assert.deepEqual(
        res.body.errors?.map((e) => [
          e.extensions?.code,
          e.extensions?.source,
          e.extensions?.breaker,
        ]),
        [['SOURCE_UNAVAILABLE', 'erp', 'CLOSED']],
        `failed query ${i}`,
      );
      assert.equal(stack.requests().erp, 1, `failed query ${i} called the ERP once`);
      assert.equal(
        erp.health().state,
        i < ERP_BREAKER_VOLUME ? 'CLOSED' : 'OPEN',
        `after failed query ${i}`,
      );
    }
    stack.resetCounts();
    const fast = await stack.gql<Json>(query, { sku: p.sku });
    assert.equal(fast.body.data?.product.name, p.name, 'commerce fields survive');
    assert.deepEqual(
      {
        code: fast.body.errors?.[0]?.extensions?.code,
        reason: fast.body.errors?.[0]?.extensions?.reason,
        breaker: fast.body.errors?.[0]?.extensions?.breaker,
      },
      { code: 'SOURCE_UNAVAILABLE', reason: 'breaker_open', breaker: 'OPEN' },
    );
    assert.equal(stack.requests().erp, 0, 'an open breaker does not call the ERP');
    const health = await stack.gql<Json>(`{ sourceHealth { name state failures } }`);
    assert.equal(health.body.data?.sourceHealth.find((h: Json) => h.name === 'erp').state, 'OPEN');

    stack.sandbox.erp.control.setFaults({ errorRate: 0 });
    await stateChange(erp, 'HALF_OPEN');
    const closed = stateChange(erp, 'CLOSED');
    const probe = await stack.gql<Json>(query, { sku: p.sku });
    assert.equal(probe.body.errors, undefined);
    assert.equal(probe.body.data?.product.listPrice.amount, centsToDecimal(p.priceCents));
    await closed;
  });
});

/**
 * The commerce connector against the commerce sandbox over real HTTP: every method, requests
 * per batch, key order with nulls, search quoting, the cost limit and the throttle, and each
 * failure mapped to the right SourceError.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createCommerceApp, type CommerceSandboxOptions } from '../sandbox/commerce.js';
import { exactValuesOf, parseSearch } from '../sandbox/commerce/search.js';
import { COMMERCE_SANDBOX } from '../sandbox/credentials.js';
import { listen, type RunningSystem } from '../sandbox/faults.js';
import {
  buildWorld,
  centsToDecimal,
  skuOf,
  type SeedOrderLine,
  type SeedWorld,
} from '../sandbox/seed.js';
import {
  createCommerceConnector,
  type CommerceConnectorOptions,
  type ShopifyCommerceConnector,
} from '../sources/commerce/index.js';
import {
  CONTENT_CHUNK,
  ORDER_LINE_ITEMS_FIRST,
  ORDERS_CHUNK,
  skuSearch,
} from '../sources/commerce/queries.js';
import { SourceError, type ProductContentRecord } from '../sources/contract.js';

const world: SeedWorld = buildWorld({ catalogSize: 300 });
const ROUTE = `POST /admin/api/${COMMERCE_SANDBOX.apiVersion}/graphql.json`;
const webOrders = world.orders.filter((o) => o.channel === 'WEB');

const systems: RunningSystem[] = [];
const connectors: ShopifyCommerceConnector[] = [];

async function start(
  options?: CommerceSandboxOptions,
  w: SeedWorld = world,
): Promise<RunningSystem> {
  const { app, control } = createCommerceApp(w, options);
  const system = await listen('commerce', app, control, 0);
  systems.push(system);
  return system;
}

function connect(
  system: RunningSystem,
  options: Partial<CommerceConnectorOptions> = {},
): ShopifyCommerceConnector {
  const connector = createCommerceConnector({
    baseUrl: system.url,
    apiVersion: COMMERCE_SANDBOX.apiVersion,
    accessToken: COMMERCE_SANDBOX.accessToken,
    ...options,
  });
  connectors.push(connector);
  return connector;
}

function requests(system: RunningSystem): number {
  return system.control.stats().byRoute[ROUTE] ?? 0;
}

/** The canonical content the sandbox must yield for a seed SKU (handle and times aside). */
function expectedContent(sku: string) {
  const p = world.products.find((x) => x.sku === sku);
  assert.ok(p, `no seed product ${sku}`);
  return {
    sku,
    productGid: `gid://shopify/Product/${p.index}`,
    title: p.name,
    descriptionHtml: p.description,
    vendor: p.vendor,
    tags: [p.category.toLowerCase(), `uom:${p.unitOfMeasure}`],
    status: p.webStatus,
  };
}

function comparable(record: ProductContentRecord | null) {
  if (record === null) return null;
  assert.match(record.variantGid, /^gid:\/\/shopify\/ProductVariant\/\d+$/);
  assert.ok(!Number.isNaN(Date.parse(record.updatedAt)));
  const { sku, productGid, title, descriptionHtml, vendor, tags, status } = record;
  return { sku, productGid, title, descriptionHtml, vendor, tags, status };
}

/** Awaits a rejection and returns it as a SourceError. */
async function sourceError(promise: Promise<unknown>): Promise<SourceError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SourceError, `expected a SourceError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

after(async () => {
  await Promise.all(connectors.map((c) => c.close()));
  await Promise.all(systems.map((s) => s.close()));
});

describe('commerce connector', () => {
  let system: RunningSystem;
  let commerce: ShopifyCommerceConnector;
  before(async () => {
    system = await start({ bucketSize: 1_000_000, restoreRate: 1_000_000 });
    commerce = connect(system);
  });

  test('declares its kind and capabilities', () => {
    assert.equal(commerce.name, 'commerce');
    assert.equal(commerce.kind, 'commerce');
    assert.deepEqual([...commerce.capabilities].sort(), ['channelOrders', 'content']);
  });

  describe('contentBySku', () => {
    test('250 keys in one request, in key order, with null for unknown SKUs and repeats answered', async () => {
      const keys = [
        ...Array.from({ length: 200 }, (_, i) => skuOf(300 - i)),
        ...Array.from({ length: 48 }, (_, i) => `NOPE-${i}`),
        skuOf(300),
        skuOf(1),
      ];
      assert.equal(keys.length, 250);
      system.control.resetStats();
      const got = await commerce.contentBySku(keys);
      assert.equal(requests(system), 1);
      assert.deepEqual(
        got.map(comparable),
        keys.map((k) => (k.startsWith('NOPE') ? null : expectedContent(k))),
      );
    });

    test('more SKUs than one query may request are chunked by the cost limit', async () => {
      assert.equal(CONTENT_CHUNK, 250);
      const keys = world.products.map((p) => p.sku).reverse();
      system.control.resetStats();
      const got = await commerce.contentBySku(keys);
      assert.equal(requests(system), 2);
      assert.deepEqual(
        got.map((r) => r?.sku ?? null),
        keys,
      );
    });

    test('no keys, no request', async () => {
      system.control.resetStats();
      assert.deepEqual(await commerce.contentBySku([]), []);
      assert.deepEqual(await commerce.contentBySku(['']), [null]);
      assert.equal(requests(system), 0);
    });

    test('SKUs with quotes and backslashes are quoted, not injected: null, no error', async () => {
      const odd = [`AB'C"D`, `back\\slash'`, `x' OR sku:'${skuOf(2)}`, 'star*', 'has space:colon'];
      // What the connector sends parses back to exactly these values.
      assert.deepEqual(exactValuesOf(parseSearch(skuSearch(odd)), 'sku'), odd);
      system.control.resetStats();
      const got = await commerce.contentBySku([...odd, skuOf(5)]);
      assert.equal(requests(system), 1);
      assert.deepEqual(got.map(comparable), [
        null,
        null,
        null,
        null,
        null,
        expectedContent(skuOf(5)),
      ]);
    });

    test('the canonical key is the exact SKU: a case variant is null', async () => {
      system.control.resetStats();
      const got = await commerce.contentBySku([skuOf(9).toLowerCase(), skuOf(9)]);
      assert.deepEqual(
        got.map((r) => r?.sku ?? null),
        [null, skuOf(9)],
      );
      assert.equal(requests(system), 1);
    });
  });

  describe('listContent', () => {
    test('walks the catalogue in SKU order by keyset, first + 1 per page', async () => {
      system.control.resetStats();
      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await commerce.listContent({
          first: 40,
          ...(after === undefined ? {} : { after }),
        });
        assert.ok(page.items.length <= 40);
        seen.push(...page.items.map((r) => r.sku));
        pages++;
        if (!page.hasNextPage) break;
        after = page.items.at(-1)?.sku;
      }
      assert.deepEqual(
        seen,
        world.products.map((p) => p.sku),
      );
      assert.equal(pages, 8);
      assert.equal(requests(system), 8);
    });

    test('pages are capped by pageSize; after the last SKU is an empty last page', async () => {
      system.control.resetStats();
      const capped = connect(system, { pageSize: 30 });
      const page = await capped.listContent({ first: 500 });
      assert.deepEqual(
        page.items.map((r) => r.sku),
        world.products.slice(0, 30).map((p) => p.sku),
      );
      assert.equal(page.hasNextPage, true);
      assert.deepEqual(comparable(page.items[3] ?? null), expectedContent(skuOf(4)));
      assert.deepEqual(await commerce.listContent({ first: 10, after: skuOf(300) }), {
        items: [],
        hasNextPage: false,
      });
      assert.equal(requests(system), 2, 'one request per page');
    });

    test('a bad page size is refused before any request', async () => {
      await assert.rejects(commerce.listContent({ first: 0 }), {
        name: 'RangeError',
        message: `first: expected an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got 0`,
      });
    });
  });

  describe('listChannelOrders', () => {
    test('walks every WEB order by order name with totals, customer number and lines', async () => {
      system.control.resetStats();
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await commerce.listChannelOrders({
          first: 7,
          ...(after === undefined ? {} : { after }),
        });
        for (const order of page.items) {
          const seed = webOrders.find((o) => o.externalReference === order.name);
          assert.ok(seed, `unexpected order ${order.name}`);
          const cents = seed.lines.reduce((s, l) => s + l.quantity * l.unitPriceCents, 0);
          assert.match(order.gid, /^gid:\/\/shopify\/Order\/\d+$/);
          assert.deepEqual(
            { ...order, gid: undefined },
            {
              gid: undefined,
              name: seed.externalReference,
              createdAt: seed.orderDate,
              financialStatus:
                seed.stage === 'OPEN' || seed.stage === 'RELEASED' ? 'AUTHORIZED' : 'PAID',
              fulfillmentStatus: {
                OPEN: 'UNFULFILLED',
                RELEASED: 'IN_PROGRESS',
                SHIPPED: 'FULFILLED',
                INVOICED: 'FULFILLED',
              }[seed.stage],
              total: { amount: centsToDecimal(cents), currencyCode: 'USD' },
              customerNumber: seed.customerNumber,
              lines: seed.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
            },
          );
          seen.push(order.name);
        }
        if (!page.hasNextPage) break;
        after = page.items.at(-1)?.name;
      }
      assert.deepEqual(
        seen,
        webOrders.map((o) => o.externalReference),
      );
      // One request per page of 7: no seed order has more line items than come with it.
      assert.ok(webOrders.every((o) => o.lines.length <= ORDER_LINE_ITEMS_FIRST));
      assert.equal(requests(system), Math.ceil(webOrders.length / 7));
    });

    test('a page is capped so one query stays within the cost limit', async () => {
      system.control.resetStats();
      const page = await commerce.listChannelOrders({ first: 100 });
      assert.equal(ORDERS_CHUNK, 32);
      assert.equal(page.items.length, Math.min(31, webOrders.length));
      assert.equal(requests(system), 1);
    });

    test('line items beyond the first page are fetched for that order', async () => {
      const big: SeedOrderLine[] = Array.from({ length: 60 }, (_, i) => ({
        sequence: (i + 1) * 10000,
        sku: skuOf(i + 1),
        quantity: i + 1,
        unitPriceCents: 100,
        shippedQuantity: 0,
        invoicedQuantity: 0,
      }));
      const bigWorld: SeedWorld = {
        ...world,
        orders: world.orders.map((o) =>
          o.externalReference === '#1001' ? { ...o, lines: big } : o,
        ),
      };
      const bigSystem = await start({}, bigWorld);
      const connector = connect(bigSystem);
      const page = await connector.listChannelOrders({ first: 1 });
      assert.equal(page.items[0]?.name, '#1001');
      assert.deepEqual(
        page.items[0]?.lines,
        big.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      );
      assert.equal(
        page.items[0]?.total.amount,
        centsToDecimal(big.reduce((s, l) => s + l.quantity * 100, 0)),
      );
      // The orders page, then the remaining 35 line items in one more call.
      assert.equal(requests(bigSystem), 2);
    });
  });

  test('tracks the throttle status and reports health', async () => {
    const fresh = connect(system);
    assert.equal(fresh.throttleStatus(), null);
    await fresh.contentBySku([skuOf(1)]);
    const status = fresh.throttleStatus();
    assert.equal(status?.maximumAvailable, 1_000_000);
    assert.equal(status?.restoreRate, 1_000_000);
    const health = fresh.health();
    assert.equal(health.name, 'commerce');
    assert.equal(health.kind, 'commerce');
    assert.equal(health.state, 'CLOSED');
    assert.equal(health.requests, 1);
    assert.equal(health.baseUrl, `${system.url}/`);
  });
});

describe('commerce connector failures', () => {
  let system: RunningSystem;
  before(async () => {
    system = await start({ bucketSize: 1_000_000, restoreRate: 1_000_000 });
  });

  const methods = {
    contentBySku: (c: ShopifyCommerceConnector) => c.contentBySku([skuOf(1)]),
    listContent: (c: ShopifyCommerceConnector) => c.listContent({ first: 5 }),
    listChannelOrders: (c: ShopifyCommerceConnector) => c.listChannelOrders({ first: 5 }),
  } as const;
  const what = {
    contentBySku: 'productVariants',
    listContent: 'productVariants',
    listChannelOrders: 'orders',
  } as const;

  for (const [method, run] of Object.entries(methods) as [
    keyof typeof methods,
    (c: ShopifyCommerceConnector) => Promise<unknown>,
  ][]) {
    const faults: {
      name: string;
      faults: Parameters<RunningSystem['control']['setFaults']>[0];
      code: SourceError['code'];
      reason: string;
      message?: string;
      status?: number;
    }[] = [
      {
        name: '503',
        faults: { errorRate: 1 },
        code: 'SOURCE_UNAVAILABLE',
        reason: 'http_503',
        message: `commerce: ${what[method]} answered HTTP 503`,
        status: 503,
      },
      {
        name: 'down',
        faults: { down: true },
        code: 'SOURCE_UNAVAILABLE',
        reason: 'connection_error',
      },
      {
        name: 'malformed',
        faults: { malformed: true },
        code: 'SOURCE_BAD_RESPONSE',
        reason: 'schema_mismatch',
        message: `commerce: malformed ${what[method]} response at data.${what[method]}.nodes.0.id: Invalid input: expected string, received number`,
      },
      {
        name: 'slow',
        faults: { latencyMs: 400 },
        code: 'SOURCE_TIMEOUT',
        reason: 'timeout',
        message: `commerce: ${what[method]} timed out after 100 ms`,
      },
    ];
    for (const fault of faults) {
      test(`${method} when the platform is ${fault.name} → ${fault.code}`, async () => {
        const connector = connect(system, { timeoutMs: 100 });
        system.control.setFaults(fault.faults);
        try {
          const error = await sourceError(run(connector));
          assert.equal(error.source, 'commerce');
          assert.equal(error.code, fault.code);
          assert.equal(error.reason, fault.reason);
          assert.equal(error.breaker, 'CLOSED');
          if (fault.message !== undefined) assert.equal(error.message, fault.message);
          if (fault.status !== undefined) assert.equal(error.status, fault.status);
        } finally {
          system.control.setFaults({ errorRate: 0, down: false, malformed: false, latencyMs: 0 });
        }
      });
    }
  }

  test('a wrong access token → SOURCE_REJECTED http_401', async () => {
    const error = await sourceError(
      connect(system, { accessToken: 'shpat_wrong' }).contentBySku([skuOf(1)]),
    );
    assert.deepEqual(
      { code: error.code, reason: error.reason, status: error.status, message: error.message },
      {
        code: 'SOURCE_REJECTED',
        reason: 'http_401',
        status: 401,
        message:
          'commerce: productVariants answered HTTP 401: {"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}',
      },
    );
  });

  test('an API version the shop does not serve → SOURCE_REJECTED http_404', async () => {
    const error = await sourceError(
      connect(system, { apiVersion: '2020-01' }).listContent({ first: 1 }),
    );
    assert.deepEqual(
      { code: error.code, reason: error.reason, message: error.message },
      {
        code: 'SOURCE_REJECTED',
        reason: 'http_404',
        message: 'commerce: productVariants answered HTTP 404: {"errors":"Not Found"}',
      },
    );
  });

  test('a GraphQL error in a 200 → SOURCE_REJECTED naming the code', async () => {
    const strict = await start({ maxQueryCost: 100 });
    const error = await sourceError(
      connect(strict).contentBySku(Array.from({ length: 60 }, (_, i) => skuOf(i + 1))),
    );
    assert.deepEqual(
      { code: error.code, reason: error.reason, source: error.source, message: error.message },
      {
        code: 'SOURCE_REJECTED',
        reason: 'graphql_max_cost_exceeded',
        source: 'commerce',
        message:
          'commerce: productVariants answered MAX_COST_EXCEEDED: Query cost is 122, which exceeds the single query max cost limit (100).',
      },
    );
  });

  test('bad options are refused at construction', () => {
    assert.throws(() => connect(system, { apiVersion: 'latest' }), {
      name: 'RangeError',
      message: 'apiVersion: expected YYYY-MM or "unstable", got "latest"',
    });
    assert.throws(() => connect(system, { pageSize: 250 }), {
      name: 'RangeError',
      message: 'pageSize: expected an integer from 1 to 249, got 250',
    });
  });

  test('close is idempotent', async () => {
    const connector = connect(system);
    await connector.close();
    await connector.close();
  });
});

describe('commerce connector and the cost bucket', () => {
  const forty = Array.from({ length: 40 }, (_, i) => skuOf(i + 1));
  // 2 + 40 × 2 = 82 points per call; a bucket of 100 affords one at a time.

  test('THROTTLED is retried once after waiting (requested − available) / restoreRate', async () => {
    const shop = await start({ bucketSize: 100, restoreRate: 100 });
    await connect(shop).contentBySku(forty); // leaves 18
    const fresh = connect(shop); // knows nothing of the bucket, so it is refused first
    const got = await fresh.contentBySku(forty);
    assert.deepEqual(
      got.map((r) => r?.sku),
      forty,
    );
    // 1 draining call, 1 THROTTLED, 1 retry after ~640 ms.
    assert.equal(requests(shop), 3);
  });

  test('a known low bucket is waited for before sending, not hit', async () => {
    // The shop's clock stands still for the first call, so it reports exactly what is left;
    // then it runs, so the bucket restores while the connector waits.
    const clock: { frozen: number | null } = { frozen: Date.now() };
    const shop = await start({
      bucketSize: 100,
      restoreRate: 100,
      now: () => clock.frozen ?? Date.now(),
    });
    const connector = connect(shop);
    await connector.contentBySku(forty);
    clock.frozen = null;
    // 18 left: not enough for another 82.
    assert.equal(connector.throttleStatus()?.currentlyAvailable, 18);
    const got = await connector.contentBySku(forty);
    assert.equal(got.length, 40);
    assert.equal(requests(shop), 2);
  });

  test('a wait beyond the budget → SOURCE_UNAVAILABLE reason throttled', async () => {
    const clock = { now: 0 };
    const shop = await start({ bucketSize: 100, restoreRate: 1, now: () => clock.now });
    await connect(shop).contentBySku(forty);
    const error = await sourceError(connect(shop, { maxThrottleWaitMs: 100 }).contentBySku(forty));
    assert.deepEqual(
      { code: error.code, reason: error.reason, source: error.source, message: error.message },
      {
        code: 'SOURCE_UNAVAILABLE',
        reason: 'throttled',
        source: 'commerce',
        message:
          'commerce: productVariants was throttled: expected 82 cost points available, got 18 (restoring 1/s; a 64000 ms wait exceeds the 100 ms budget)',
      },
    );
    assert.equal(requests(shop), 2);
  });
});

/**
 * The WMS connector against both sandbox WMS instances: every contract method, one request
 * per batch, paging and chunking, token reuse and re-auth, and each failure as a SourceError.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { SourceError, type ShipmentRecord, type WmsConnector } from '../sources/contract.js';
import { createWmsConnector, type WmsConnectorOptions } from '../sources/wms/index.js';
import { parseWmsDate, shipmentStatusOf, type WmsOrder } from '../sources/wms/mapping.js';
import { rqlAnd, rqlIn, rqlValue } from '../sources/wms/rql.js';
import { WMS_SANDBOX } from '../sandbox/credentials.js';
import { listen, type RunningSystem } from '../sandbox/faults.js';
import { buildWorld, skuOf, type SeedOrder, type SeedWorld } from '../sandbox/seed.js';
import { createWmsApp, type WmsSandboxOptions } from '../sandbox/wms.js';
import { parseRql } from '../sandbox/wms/rql.js';

const world: SeedWorld = buildWorld({ catalogSize: 300 });
const OWN = ['EAST', 'CENTRAL', 'WEST'];

const INSTANCES = [
  { system: 'wms', kind: 'OWNED', codes: OWN },
  { system: 'tpl', kind: 'THIRD_PARTY', codes: ['3PL-SOUTH'] },
] as const;

async function startSystem(options: WmsSandboxOptions): Promise<RunningSystem> {
  const made = createWmsApp(world, options);
  return listen(options.system, made.app, made.control, 0);
}

function connectorFor(
  system: RunningSystem,
  instance: 'wms' | 'tpl',
  overrides: Partial<WmsConnectorOptions> = {},
): WmsConnector {
  const creds = WMS_SANDBOX[instance];
  return createWmsConnector({
    name: instance,
    baseUrl: system.url,
    clientId: creds.clientId,
    clientSecret: creds.clientSecret,
    userLogin: creds.userLogin,
    tplGuid: creds.tplGuid,
    warehouseKind: instance === 'wms' ? 'OWNED' : 'THIRD_PARTY',
    // High volume threshold: failure tests must see the system's answer, not an open breaker.
    breaker: { volumeThreshold: 1_000 },
    ...overrides,
  });
}

const routes = (system: RunningSystem): Record<string, number> => ({
  ...system.control.stats().byRoute,
});

function expectedShipmentStatus(order: SeedOrder, orderId: number): ShipmentRecord['status'] {
  if (order.stage === 'SHIPPED' || order.stage === 'INVOICED') return 'SHIPPED';
  // The sandbox spreads released orders over the open stages by order id.
  return (['PENDING', 'PICKING', 'PACKED'] as const)[orderId % 3]!;
}

async function rejects(
  promise: Promise<unknown>,
  expected: Partial<SourceError>,
): Promise<SourceError> {
  const error = await promise.then(
    () => assert.fail('expected a SourceError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof SourceError, `expected a SourceError, got ${String(error)}`);
  for (const [key, value] of Object.entries(expected)) {
    assert.equal((error as unknown as Record<string, unknown>)[key], value, key);
  }
  return error;
}

for (const instance of INSTANCES) {
  describe(`WMS connector against the ${instance.system} instance`, () => {
    let system: RunningSystem;
    let connector: WmsConnector;
    const stockHere = world.stock.filter((s) =>
      (instance.codes as readonly string[]).includes(s.warehouse),
    );
    const ordersHere = world.orders.filter(
      (o) => o.stage !== 'OPEN' && (instance.codes as readonly string[]).includes(o.warehouse),
    );
    const ordersElsewhere = world.orders.filter(
      (o) => o.stage !== 'OPEN' && !(instance.codes as readonly string[]).includes(o.warehouse),
    );

    before(async () => {
      system = await startSystem({ system: instance.system });
      connector = connectorFor(system, instance.system);
      // Token and facilities first, so each test's routes are its own calls whatever ran before.
      await connector.warehouses();
    });
    beforeEach(() => {
      system.control.setFaults({ latencyMs: 0, errorRate: 0, down: false, malformed: false });
      system.control.resetStats();
    });
    after(async () => {
      await connector.close();
      await system.close();
    });

    test('declares itself a WMS serving inventory, warehouses, shipments and reservations', () => {
      assert.equal(connector.name, instance.system);
      assert.equal(connector.kind, 'wms');
      assert.deepEqual([...connector.capabilities].sort(), [
        'inventory',
        'reservations',
        'shipments',
        'warehouses',
      ]);
    });

    test('the first call of its life costs a token and a facilities request, later ones neither', async () => {
      const fresh = connectorFor(system, instance.system);
      try {
        await fresh.positions([skuOf(1)]);
        assert.deepEqual(routes(system), {
          'POST /AuthServer/api/Token': 1,
          'GET /properties/facilities': 1,
          'GET /inventory/stocksummaries': 1,
        });
        system.control.resetStats();
        await fresh.warehouses();
        await fresh.positions([skuOf(2)]);
        assert.deepEqual(routes(system), { 'GET /inventory/stocksummaries': 1 });
      } finally {
        await fresh.close();
      }
    });

    test('warehouses() maps facilities with the configured kind', async () => {
      const warehouses = await connector.warehouses();
      const expected = world.warehouses.filter((w) => w.system === instance.system);
      assert.deepEqual(
        warehouses,
        expected.map((w) => ({
          code: w.code,
          name: w.name,
          kind: instance.kind,
          source: instance.system,
          nativeId: String(w.facilityId),
          address: {
            name: w.name,
            line1: w.address.address1,
            line2: null,
            city: w.address.city,
            region: w.address.state,
            postalCode: w.address.zip,
            countryCode: w.address.country,
          },
        })),
      );
    });

    test('positions() for 250 SKUs is one request and matches the world', async () => {
      const skus = Array.from({ length: 250 }, (_, i) => skuOf(i + 1));
      system.control.resetStats();
      const positions = await connector.positions(skus);
      assert.deepEqual(routes(system), { 'GET /inventory/stocksummaries': 1 });
      const wanted = new Set(skus);
      const expected = stockHere.filter((s) => wanted.has(s.sku));
      assert.ok(expected.length > 0);
      assert.deepEqual(
        positions
          .map((p) => [p.sku, p.warehouseCode, p.onHand, p.allocated, p.available, p.onHold])
          .sort(),
        expected
          .map((s) => [
            s.sku,
            s.warehouse,
            s.onHand,
            s.allocated,
            s.onHand - s.allocated - s.onHold,
            s.onHold,
          ])
          .sort(),
      );
      for (const p of positions) {
        assert.equal(p.source, instance.system);
        assert.equal(p.asOf, world.epoch);
      }
    });

    test('positions() narrows to the warehouses this WMS runs and ignores the others', async () => {
      const skus = [skuOf(1), skuOf(2), skuOf(3), skuOf(4)];
      const first = instance.codes[0];
      const positions = await connector.positions(skus, [
        first,
        'NOWHERE',
        instance.system === 'wms' ? '3PL-SOUTH' : 'EAST',
      ]);
      assert.deepEqual(
        positions.map((p) => `${p.sku}@${p.warehouseCode}`),
        stockHere
          .filter((s) => skus.includes(s.sku) && s.warehouse === first)
          .map((s) => `${s.sku}@${s.warehouse}`),
      );
      assert.deepEqual(routes(system), { 'GET /inventory/stocksummaries': 1 });
      system.control.resetStats();
      assert.deepEqual(
        await connector.positions(skus, [
          'NOWHERE',
          instance.system === 'wms' ? '3PL-SOUTH' : 'WEST',
        ]),
        [],
      );
      assert.deepEqual(await connector.positions(skus, []), []);
      assert.deepEqual(await connector.positions([]), []);
      assert.deepEqual(routes(system), {});
    });

    test('positions() quotes SKUs holding RQL characters', async () => {
      const odd = ['a,b', 'x(1)', 'q"uo\\te', 'star*', 'semi;colon', 'sp ace', "it's", 'eq==al'];
      const positions = await connector.positions([skuOf(5), ...odd, 'SKU-999999']);
      assert.deepEqual(
        positions.map((p) => `${p.sku}@${p.warehouseCode}`),
        stockHere.filter((s) => s.sku === skuOf(5)).map((s) => `${s.sku}@${s.warehouse}`),
      );
      assert.deepEqual(routes(system), { 'GET /inventory/stocksummaries': 1 });
    });

    test('shipmentsByOrder() answers in key order with one request', async () => {
      const here = ordersHere.slice(0, 5);
      const keys = [
        here[0]!.number,
        'SO-999999',
        ...here.slice(1).map((o) => o.number),
        ordersElsewhere[0]!.number,
        here[0]!.number,
      ];
      const result = await connector.shipmentsByOrder(keys);
      assert.deepEqual(routes(system), { 'GET /orders': 1 });
      assert.equal(result.length, keys.length);
      assert.deepEqual(result[1], []);
      assert.deepEqual(result[keys.length - 2], []);
      assert.deepEqual(result[keys.length - 1], result[0]);
      for (const [i, key] of keys.entries()) {
        const seed = here.find((o) => o.number === key);
        if (!seed) continue;
        const shipments = result[i]!;
        assert.equal(shipments.length, 1, key);
        const s = shipments[0]!;
        const orderId = Number(s.id.split(':')[1]);
        assert.match(s.id, new RegExp(`^${instance.system}:\\d+$`));
        assert.equal(s.source, instance.system);
        assert.equal(s.orderNumber, key);
        assert.equal(s.warehouseCode, seed.warehouse);
        assert.equal(s.status, expectedShipmentStatus(seed, orderId));
        assert.equal(s.carrier, seed.carrier);
        assert.equal(s.trackingNumber, seed.trackingNumber);
        assert.equal(s.shippedAt, seed.shippedAt);
        assert.deepEqual(
          s.lines,
          seed.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
        );
      }
      assert.deepEqual(await connector.shipmentsByOrder([]), []);
    });

    test('every open stage and SHIPPED appear over the instance orders', async () => {
      const result = await connector.shipmentsByOrder(ordersHere.map((o) => o.number));
      const statuses = new Set(result.flat().map((s) => s.status));
      assert.equal(result.flat().length, ordersHere.length);
      for (const [i, seed] of ordersHere.entries()) {
        const s = result[i]![0]!;
        assert.equal(s.status, expectedShipmentStatus(seed, Number(s.id.split(':')[1])));
      }
      assert.ok(statuses.has('SHIPPED'), [...statuses].join());
    });

    test('shipmentsById() answers in key order, null for unknown and foreign ids', async () => {
      const byOrder = await connector.shipmentsByOrder(ordersHere.slice(0, 3).map((o) => o.number));
      const ids = byOrder.map((list) => list[0]!.id);
      const other = instance.system === 'wms' ? 'tpl' : 'wms';
      system.control.resetStats();
      const keys = [
        ids[2]!,
        `${other}:10001`,
        `${instance.system}:1`,
        'garbage',
        ids[0]!,
        `${instance.system}:abc`,
        ids[1]!,
      ];
      const result = await connector.shipmentsById(keys);
      assert.deepEqual(routes(system), { 'GET /orders': 1 });
      assert.deepEqual(
        result.map((s) => s?.id ?? null),
        [ids[2], null, null, null, ids[0], null, ids[1]],
      );
      assert.deepEqual(result[0], byOrder[2]![0]);
      system.control.resetStats();
      assert.deepEqual(await connector.shipmentsById([`${other}:10001`, 'x']), [null, null]);
      assert.deepEqual(routes(system), {});
    });

    test('an injected 503 is SOURCE_UNAVAILABLE naming the source', async () => {
      await connector.warehouses();
      system.control.setFaults({ errorRate: 1 });
      const error = await rejects(connector.positions([skuOf(1)]), {
        code: 'SOURCE_UNAVAILABLE',
        source: instance.system,
        reason: 'http_503',
        status: 503,
        breaker: 'CLOSED',
      });
      assert.equal(error.message, `${instance.system}: stocksummaries answered HTTP 503`);
    });

    test('a system that is down is SOURCE_UNAVAILABLE', async () => {
      system.control.setFaults({ down: true });
      const error = await rejects(connector.shipmentsByOrder([ordersHere[0]!.number]), {
        code: 'SOURCE_UNAVAILABLE',
        source: instance.system,
        reason: 'connection_error',
      });
      assert.match(error.message, new RegExp(`^${instance.system}: orders failed: `));
    });

    test('a malformed answer is SOURCE_BAD_RESPONSE', async () => {
      system.control.setFaults({ malformed: true });
      const error = await rejects(connector.positions([skuOf(1)]), {
        code: 'SOURCE_BAD_RESPONSE',
        source: instance.system,
        reason: 'schema_mismatch',
        status: 200,
      });
      assert.equal(
        error.message,
        `${instance.system}: malformed stocksummaries response at summaries: Invalid input: expected array, received undefined`,
      );
      const orders = await rejects(connector.shipmentsByOrder([ordersHere[0]!.number]), {
        code: 'SOURCE_BAD_RESPONSE',
      });
      assert.equal(
        orders.message,
        `${instance.system}: malformed orders response at _embedded: expected _embedded["http://api.3plCentral.com/rels/orders/order"] for 1 results`,
      );
    });

    test('a slow answer is SOURCE_TIMEOUT', async () => {
      const quick = connectorFor(system, instance.system, { timeoutMs: 50 });
      try {
        await quick.warehouses();
        system.control.setFaults({ latencyMs: 2_000 });
        const error = await rejects(quick.positions([skuOf(1)]), {
          code: 'SOURCE_TIMEOUT',
          source: instance.system,
          reason: 'timeout',
        });
        assert.equal(error.message, `${instance.system}: stocksummaries timed out after 50 ms`);
      } finally {
        await quick.close();
      }
    });

    test('health() delegates to the upstream breaker', async () => {
      const fresh = connectorFor(system, instance.system);
      try {
        await fresh.positions([skuOf(1)]);
        const health = fresh.health();
        assert.equal(health.name, instance.system);
        assert.equal(health.kind, 'wms');
        assert.equal(health.baseUrl, `${system.url}/`);
        assert.equal(health.state, 'CLOSED');
        // The token, the facilities and the stock summaries.
        assert.equal(health.requests, 3);
        assert.equal(system.control.stats().requests, 3);
      } finally {
        await fresh.close();
      }
    });
  });
}

describe('WMS connector: paging and chunking', () => {
  let system: RunningSystem;
  before(async () => {
    system = await startSystem({ system: 'wms' });
  });
  after(() => system.close());

  test('walks pages only while totalResults exceeds the page', async () => {
    const skus = Array.from({ length: 250 }, (_, i) => skuOf(i + 1));
    const paged = connectorFor(system, 'wms', { pageSize: 100 });
    const whole = connectorFor(system, 'wms');
    try {
      const expected = await whole.positions(skus);
      await paged.warehouses();
      system.control.resetStats();
      const positions = await paged.positions(skus);
      assert.deepEqual(positions, expected);
      assert.deepEqual(routes(system), {
        'GET /inventory/stocksummaries': Math.ceil(expected.length / 100),
      });
    } finally {
      await Promise.all([paged.close(), whole.close()]);
    }
  });

  test('splits batches at keysPerRequest', async () => {
    const skus = Array.from({ length: 250 }, (_, i) => skuOf(i + 1));
    const small = connectorFor(system, 'wms', { keysPerRequest: 100 });
    try {
      await small.warehouses();
      system.control.resetStats();
      const positions = await small.positions(skus);
      assert.deepEqual(new Set(positions.map((p) => p.sku)).size, 250);
      assert.deepEqual(routes(system), { 'GET /inventory/stocksummaries': 3 });
    } finally {
      await small.close();
    }
  });

  test('a page size the WMS refuses is SOURCE_REJECTED with its hint', async () => {
    const greedy = connectorFor(system, 'wms', { pageSize: 1001 });
    try {
      const error = await rejects(greedy.positions([skuOf(1)]), {
        code: 'SOURCE_REJECTED',
        source: 'wms',
        reason: 'http_400',
        status: 400,
      });
      assert.equal(
        error.message,
        'wms: stocksummaries answered HTTP 400 OutOfRange: pgsiz must be an integer from 1 to 1000; got "1001"',
      );
    } finally {
      await greedy.close();
    }
  });

  test('options are validated at creation', () => {
    const base = {
      name: 'wms',
      baseUrl: system.url,
      clientId: 'a',
      clientSecret: 'b',
      userLogin: 'c',
      warehouseKind: 'OWNED',
    } as const;
    assert.throws(() => createWmsConnector({ ...base, pageSize: 0 }), {
      name: 'RangeError',
      message: 'wms connector option pageSize: expected a positive integer, got 0',
    });
    assert.throws(() => createWmsConnector({ ...base, keysPerRequest: 2.5 }), {
      message: 'wms connector option keysPerRequest: expected a positive integer, got 2.5',
    });
    assert.throws(() => createWmsConnector({ ...base, warehouseKind: 'RENTED' as 'OWNED' }), {
      name: 'TypeError',
      message: 'wms connector option warehouseKind: expected OWNED or THIRD_PARTY, got "RENTED"',
    });
    assert.throws(() => createWmsConnector({ ...base, name: '' }), {
      message: 'wms connector option name: expected a non-empty string, got ""',
    });
  });
});

describe('WMS connector: auth and caches', () => {
  let serverClock = Date.parse('2026-11-01T12:00:00Z');
  let clientClock = serverClock;
  let system: RunningSystem;
  before(async () => {
    system = await startSystem({ system: 'wms', tokenTtlSeconds: 600, now: () => serverClock });
  });
  beforeEach(() => system.control.resetStats());
  afterEach(() => {
    serverClock = clientClock = Date.parse('2026-11-01T12:00:00Z');
  });
  after(() => system.close());

  test('concurrent first calls share one token and one facilities request', async () => {
    const c = connectorFor(system, 'wms', { now: () => clientClock });
    try {
      await Promise.all([
        c.positions([skuOf(1)]),
        c.positions([skuOf(2)]),
        c.warehouses(),
        c.shipmentsByOrder(['SO-100001']),
      ]);
      assert.deepEqual(routes(system), {
        'POST /AuthServer/api/Token': 1,
        'GET /properties/facilities': 1,
        'GET /inventory/stocksummaries': 2,
        'GET /orders': 1,
      });
    } finally {
      await c.close();
    }
  });

  test('reuses the token until shortly before it expires', async () => {
    const c = connectorFor(system, 'wms', { now: () => clientClock, facilityTtlMs: 3_600_000 });
    try {
      await c.positions([skuOf(1)]);
      clientClock += 539_000; // 600 s token, replaced 60 s early
      serverClock = clientClock;
      await c.positions([skuOf(1)]);
      assert.equal(routes(system)['POST /AuthServer/api/Token'], 1);
      clientClock += 2_000;
      serverClock = clientClock;
      await c.positions([skuOf(1)]);
      assert.deepEqual(routes(system), {
        'POST /AuthServer/api/Token': 2,
        'GET /properties/facilities': 1,
        'GET /inventory/stocksummaries': 3,
      });
    } finally {
      await c.close();
    }
  });

  test('re-authenticates once on a 401 and retries', async () => {
    const c = connectorFor(system, 'wms', { now: () => clientClock });
    try {
      await c.positions([skuOf(1)]);
      serverClock += 3_600_000; // the WMS expired the token; the connector cannot know
      system.control.resetStats();
      const positions = await c.positions([skuOf(1)]);
      assert.ok(positions.length > 0);
      assert.deepEqual(routes(system), {
        'POST /AuthServer/api/Token': 1,
        'GET /inventory/stocksummaries': 2,
      });
    } finally {
      await c.close();
    }
  });

  test('a second 401 is SOURCE_REJECTED, not a loop', async () => {
    const expired = await startSystem({ system: 'wms', tokenTtlSeconds: 0 });
    const c = connectorFor(expired, 'wms');
    try {
      const error = await rejects(c.warehouses(), {
        code: 'SOURCE_REJECTED',
        source: 'wms',
        reason: 'unauthorized',
        status: 401,
      });
      assert.equal(
        error.message,
        'wms: facilities answered HTTP 401 Authorization has been denied for this request.',
      );
      assert.deepEqual(routes(expired), {
        'POST /AuthServer/api/Token': 2,
        'GET /properties/facilities': 2,
      });
    } finally {
      await c.close();
      await expired.close();
    }
  });

  test('refused credentials are SOURCE_REJECTED with the auth server reason', async () => {
    const c = connectorFor(system, 'wms', { clientSecret: 'wrong' });
    try {
      const error = await rejects(c.positions([skuOf(1)]), {
        code: 'SOURCE_REJECTED',
        source: 'wms',
        reason: 'unauthorized',
        status: 401,
      });
      assert.equal(
        error.message,
        'wms: token answered HTTP 401 invalid_client: expected Authorization: Basic base64(clientId:clientSecret) of a registered client',
      );
    } finally {
      await c.close();
    }
  });

  test('the facility list is reused for facilityTtlMs', async () => {
    const c = connectorFor(system, 'wms', { now: () => clientClock, facilityTtlMs: 60_000 });
    try {
      await c.warehouses();
      clientClock += 59_000;
      await c.warehouses();
      assert.equal(routes(system)['GET /properties/facilities'], 1);
      clientClock += 1_000;
      await c.warehouses();
      assert.equal(routes(system)['GET /properties/facilities'], 2);
    } finally {
      await c.close();
    }
  });

  test('close() is idempotent', async () => {
    const c = connectorFor(system, 'wms');
    await c.close();
    await c.close();
  });
});

describe('WMS connector: RQL building and native mapping', () => {
  test('values with RQL characters are double-quoted with backslash escapes', () => {
    assert.equal(rqlValue('SKU-000001'), 'SKU-000001');
    assert.equal(rqlValue(7), '7');
    assert.equal(rqlValue('a,b'), '"a,b"');
    assert.equal(rqlValue('q"x\\y'), '"q\\"x\\\\y"');
    assert.equal(rqlValue('*'), '"*"');
    assert.equal(rqlValue(''), '""');
    assert.equal(
      rqlAnd(rqlIn('itemIdentifier.sku', ['SKU-1', 'a;b']), rqlIn('facilityId', [1, 2])),
      'itemIdentifier.sku=in=(SKU-1,"a;b");facilityId=in=(1,2)',
    );
    assert.throws(() => rqlIn('facilityId', []), {
      message: 'rqlIn(facilityId): expected at least one value, got none',
    });
  });

  test('what the builder writes, the sandbox parser reads back verbatim', () => {
    const values = ['plain', 'a,b', 'x(1)', 'q"uo\\te', 'star*', "it's", 'sp ace', '', '=!~<>'];
    const tree = parseRql(rqlIn('itemIdentifier.sku', values));
    assert.equal(tree.kind, 'cmp');
    assert.deepEqual(tree.kind === 'cmp' ? tree.values.map((v) => v.text) : [], values);
  });

  test('Extensiv datetimes parse to ISO UTC', () => {
    const cases: readonly [string | null | undefined, string | null][] = [
      ['2026-11-01T12:00:00.1234567', '2026-11-01T12:00:00.123Z'],
      ['2026-11-01T12:00:00', '2026-11-01T12:00:00.000Z'],
      ['2026-11-01T12:00:00.5', '2026-11-01T12:00:00.500Z'],
      ['2026-11-01T12:00:00.1234567-05:00', '2026-11-01T17:00:00.123Z'],
      ['2026-11-01T12:00:00Z', '2026-11-01T12:00:00.000Z'],
      ['0001-01-01T00:00:00', null],
      [null, null],
      [undefined, null],
    ];
    // Twice: the second answer comes from the table of converted datetimes.
    for (const round of [1, 2]) {
      for (const [input, expected] of cases)
        assert.equal(parseWmsDate(input), expected, `${String(input)} (${round})`);
    }
    assert.equal(parseWmsDate('not a date'), null);
    assert.equal(parseWmsDate('not a date'), null);
    assert.equal(parseWmsDate(`2026-11-01T12:00:00.1234567${'0'.repeat(1_000)}`), null);
  });

  test('order status maps to the canonical shipment status', () => {
    const order = (status: 0 | 1 | 2, pick: string | null, pack: string | null): WmsOrder => ({
      readOnly: {
        orderId: 1,
        status,
        facilityIdentifier: { id: 1 },
        pickDoneDate: pick,
        packDoneDate: pack,
        processDate: null,
      },
      referenceNum: 'SO-1',
    });
    const t = '2026-11-01T12:00:00.0000000';
    assert.equal(shipmentStatusOf(order(0, null, null)), 'PENDING');
    assert.equal(shipmentStatusOf(order(0, '0001-01-01T00:00:00', null)), 'PENDING');
    assert.equal(shipmentStatusOf(order(0, t, null)), 'PICKING');
    assert.equal(shipmentStatusOf(order(0, t, t)), 'PACKED');
    assert.equal(shipmentStatusOf(order(1, t, t)), 'SHIPPED');
    assert.equal(shipmentStatusOf(order(2, null, null)), 'CANCELLED');
  });
});

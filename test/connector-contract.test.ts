/**
 * The source port's contract, run against every connector of the embedded topology: the ERP,
 * the commerce platform, the own WMS and the 3PL's WMS, each built from configuration the way
 * server/connectors.ts builds it and pointed at its sandbox system. One suite, many
 * implementations: what a connector's dialect does is tested in its own file; what every
 * connector promises (identity, dataloader-shaped batches, canonical records, health, the
 * failure vocabulary, the breaker, close) is tested here, once, for all of them.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Sources } from '../resolvers/sources.js';
import { allConnectors } from '../resolvers/sources.js';
import { startSandbox, type Sandbox } from '../sandbox/index.js';
import type { Faults } from '../sandbox/faults.js';
import { customerNumberOf, type SeedWorld } from '../sandbox/seed.js';
import { FIRST_ORDER_ID } from '../sandbox/wms/store.js';
import { loadConfig, type SourceName } from '../server/config.js';
import { createSources } from '../server/connectors.js';
import {
  SourceError,
  type BreakerState,
  type Capability,
  type CatalogSource,
  type ChannelOrderSource,
  type CommerceConnector,
  type Connector,
  type ContentSource,
  type CustomerSource,
  type ErpConnector,
  type InventorySource,
  type InvoiceSource,
  type OrderSource,
  type OrderWriteSource,
  type PricingSource,
  type ReservationSource,
  type ShipmentSource,
  type SourceErrorCode,
  type SourceKind,
  type WmsConnector,
} from '../sources/contract.js';

// ---------------------------------------------------------------------------------------------
// The port, as data: which methods of contract.ts back each capability, and which take keys.
// ---------------------------------------------------------------------------------------------

/** The source interface of contract.ts behind each capability. */
interface CapabilitySource {
  readonly catalog: CatalogSource;
  readonly content: ContentSource;
  readonly pricing: PricingSource;
  readonly inventory: InventorySource;
  readonly warehouses: Pick<InventorySource, 'warehouses'>;
  readonly customers: CustomerSource;
  readonly orders: OrderSource;
  readonly shipments: ShipmentSource;
  readonly invoices: InvoiceSource;
  readonly channelOrders: ChannelOrderSource;
  readonly orderWrites: OrderWriteSource;
  readonly reservations: ReservationSource;
}

type MethodsOf<S> = readonly (keyof S & string)[];
type PortTable = { readonly [K in Capability]: MethodsOf<CapabilitySource[K]> };

/** Every method a connector declaring the capability must have. */
const CAPABILITY_METHODS: PortTable = {
  catalog: ['listItems', 'itemsBySku'],
  content: ['contentBySku', 'listContent'],
  pricing: ['customerPrices'],
  inventory: ['positions', 'warehouses'],
  warehouses: ['warehouses'],
  customers: ['customersByNumber', 'listCustomers'],
  orders: ['ordersByNumber', 'listOrders'],
  shipments: ['shipmentsById', 'shipmentsByOrder'],
  invoices: ['invoicesByNumber', 'invoicesByOrder'],
  channelOrders: ['listChannelOrders'],
  orderWrites: [
    'createSalesOrder',
    'findSalesOrderByExternalNumber',
    'cancelSalesOrder',
    'createReturn',
  ],
  reservations: ['reserve', 'findReservation', 'release', 'expectReturn'],
};

/** The methods among those that take a list of keys (what a DataLoader batches onto). */
const BATCH_METHODS: PortTable = {
  catalog: ['itemsBySku'],
  content: ['contentBySku'],
  pricing: ['customerPrices'],
  inventory: ['positions'],
  warehouses: [],
  customers: ['customersByNumber'],
  orders: ['ordersByNumber'],
  shipments: ['shipmentsById', 'shipmentsByOrder'],
  invoices: ['invoicesByNumber', 'invoicesByOrder'],
  channelOrders: [],
  // Writes take one reference each and must never be batched or cached by a loader.
  orderWrites: [],
  reservations: [],
};

const CONNECTOR_METHODS = ['health', 'onStateChange', 'close'] as const;

// ---------------------------------------------------------------------------------------------
// The connectors under test, each with a table of its batch methods.
// ---------------------------------------------------------------------------------------------

/**
 * How a batch method answers: `one` record or null per key (`...ByNumber`), a list per key
 * (`...ByOrder`, `[]` when unknown), or a `flat` list of records for all keys (`positions`).
 */
type Shape = 'one' | 'many' | 'flat';

/** One batch method of one connector. */
interface BatchSpec<C> {
  readonly method: string;
  readonly capability: Capability;
  readonly shape: Shape;
  /** The field of a record holding the key it answers. */
  readonly key: string;
  /** Keys the seed world holds (at least two). */
  readonly known: (world: SeedWorld) => readonly string[];
  /** A key of the right form that the system does not hold. */
  readonly unknown: string;
  readonly call: (connector: C, keys: readonly string[]) => Promise<readonly unknown[]>;
}

/** One connector: where it comes from and what it serves. */
interface TargetSpec<C extends Connector> {
  readonly name: SourceName;
  readonly kind: SourceKind;
  /** Prefix of its settings (`ERP_TIMEOUT_MS`, `ERP_BREAKER_VOLUME_THRESHOLD`, ...). */
  readonly prefix: 'ERP' | 'COMMERCE' | 'WMS' | 'TPL';
  readonly pick: (sources: Sources) => C;
  /** A call that reaches the system every time, however warm the connector's caches are. */
  readonly probe: (connector: C, world: SeedWorld) => Promise<unknown>;
  readonly batches: readonly BatchSpec<C>[];
}

/** A connector made for one test, with its probe and batch methods bound to it. */
interface Bound {
  readonly connector: Connector;
  probe(): Promise<unknown>;
  call(method: string, keys: readonly string[]): Promise<readonly unknown[]>;
}

/** A {@link TargetSpec} with its connector type erased, so the four loop as one. */
interface Target {
  readonly name: SourceName;
  readonly kind: SourceKind;
  readonly prefix: TargetSpec<Connector>['prefix'];
  readonly batches: readonly Omit<BatchSpec<never>, 'call'>[];
  /** Builds a fresh connector from configuration; `env` adds settings (ERP_TIMEOUT_MS=...). */
  connect(env?: Readonly<Record<string, string>>): Bound;
}

let sandbox: Sandbox;
const made: Connector[] = [];

/** Every connector, built by createSources from a configuration of these settings. */
function sourcesFor(env: Readonly<Record<string, string>>): Sources {
  const config = loadConfig({
    SANDBOX_PORT_BASE: '0',
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    // The contract is the connector's: its content cache (a decorator, tested on its own in
    // content-cache.test.ts) would answer the warm-up SKU without reaching the system.
    CONTENT_CACHE_TTL_MS: '0',
    ...env,
  });
  const sources = createSources(config, {
    erp: sandbox.erp.url,
    commerce: sandbox.commerce.url,
    wms: sandbox.wms.url,
    tpl: sandbox.tpl.url,
  });
  made.push(...allConnectors(sources));
  return sources;
}

function target<C extends Connector>(spec: TargetSpec<C>): Target {
  return {
    name: spec.name,
    kind: spec.kind,
    prefix: spec.prefix,
    batches: spec.batches.map(({ call: _call, ...rest }) => rest),
    connect(env = {}) {
      const connector = spec.pick(sourcesFor(env));
      return {
        connector,
        probe: () => spec.probe(connector, sandbox.world),
        call(method, keys) {
          const batch = spec.batches.find((b) => b.method === method);
          assert.ok(batch, `${spec.name} has no batch method ${method}`);
          return batch.call(connector, keys);
        },
      };
    },
  };
}

const invoiced = (w: SeedWorld) => w.orders.filter((o) => o.invoiceNumber !== null);

/** Orders released to the warehouses `system` runs, in the order that WMS numbered them. */
const releasedAt = (w: SeedWorld, system: 'wms' | 'tpl') => {
  const codes = new Set(w.warehouses.filter((x) => x.system === system).map((x) => x.code));
  return w.orders.filter((o) => o.stage !== 'OPEN' && codes.has(o.warehouse));
};

const erp = target<ErpConnector>({
  name: 'erp',
  kind: 'erp',
  prefix: 'ERP',
  pick: (sources) => sources.erp,
  probe: (c, w) => c.itemsBySku(w.products.slice(0, 1).map((p) => p.sku)),
  batches: [
    {
      method: 'itemsBySku',
      capability: 'catalog',
      shape: 'one',
      key: 'sku',
      known: (w) => w.products.slice(0, 5).map((p) => p.sku),
      unknown: 'SKU-999999',
      call: (c, keys) => c.itemsBySku(keys),
    },
    {
      method: 'customerPrices',
      capability: 'pricing',
      shape: 'one',
      key: 'sku',
      known: (w) => w.products.slice(0, 5).map((p) => p.sku),
      unknown: 'SKU-999999',
      call: (c, keys) => c.customerPrices(customerNumberOf(1), keys),
    },
    {
      method: 'customersByNumber',
      capability: 'customers',
      shape: 'one',
      key: 'number',
      known: (w) => w.customers.slice(0, 5).map((x) => x.number),
      unknown: 'C99999',
      call: (c, keys) => c.customersByNumber(keys),
    },
    {
      method: 'ordersByNumber',
      capability: 'orders',
      shape: 'one',
      key: 'number',
      known: (w) => w.orders.slice(0, 5).map((o) => o.number),
      unknown: 'SO-999999',
      call: (c, keys) => c.ordersByNumber(keys),
    },
    {
      method: 'invoicesByNumber',
      capability: 'invoices',
      shape: 'one',
      key: 'number',
      known: (w) =>
        invoiced(w)
          .flatMap((o) => o.invoiceNumber ?? [])
          .slice(0, 5),
      unknown: 'PSI-999999',
      call: (c, keys) => c.invoicesByNumber(keys),
    },
    {
      method: 'invoicesByOrder',
      capability: 'invoices',
      shape: 'many',
      key: 'orderNumber',
      known: (w) =>
        invoiced(w)
          .slice(0, 5)
          .map((o) => o.number),
      unknown: 'SO-999999',
      call: (c, keys) => c.invoicesByOrder(keys),
    },
  ],
});

const commerce = target<CommerceConnector>({
  name: 'commerce',
  kind: 'commerce',
  prefix: 'COMMERCE',
  pick: (sources) => sources.commerce,
  probe: (c, w) => c.contentBySku(w.products.slice(0, 1).map((p) => p.sku)),
  batches: [
    {
      method: 'contentBySku',
      capability: 'content',
      shape: 'one',
      key: 'sku',
      known: (w) => w.products.slice(0, 5).map((p) => p.sku),
      unknown: 'SKU-999999',
      call: (c, keys) => c.contentBySku(keys),
    },
  ],
});

function warehouse(name: 'wms' | 'tpl'): Target {
  const pick = (sources: Sources): WmsConnector => {
    const found = sources.warehouses.find((c) => c.name === name);
    assert.ok(found, `createSources made no ${name} connector`);
    return found;
  };
  const stockedSkus = (w: SeedWorld): string[] => {
    const codes = new Set(w.warehouses.filter((x) => x.system === name).map((x) => x.code));
    return [...new Set(w.stock.filter((s) => codes.has(s.warehouse)).map((s) => s.sku))];
  };
  return target<WmsConnector>({
    name,
    kind: 'wms',
    prefix: name === 'wms' ? 'WMS' : 'TPL',
    pick,
    // Stock summaries are never cached (facilities are, for 60 s).
    probe: (c, w) => c.positions(stockedSkus(w).slice(0, 1)),
    batches: [
      {
        method: 'positions',
        capability: 'inventory',
        shape: 'flat',
        key: 'sku',
        known: (w) => stockedSkus(w).slice(0, 5),
        unknown: 'SKU-999999',
        call: (c, keys) => c.positions(keys),
      },
      {
        method: 'shipmentsByOrder',
        capability: 'shipments',
        shape: 'many',
        key: 'orderNumber',
        known: (w) =>
          releasedAt(w, name)
            .slice(0, 5)
            .map((o) => o.number),
        unknown: 'SO-999999',
        call: (c, keys) => c.shipmentsByOrder(keys),
      },
      {
        method: 'shipmentsById',
        capability: 'shipments',
        shape: 'one',
        key: 'id',
        // The WMS numbers the orders released to it from FIRST_ORDER_ID on, in seed order.
        known: (w) =>
          releasedAt(w, name)
            .slice(0, 5)
            .map((_, i) => `${name}:${FIRST_ORDER_ID[name] + i}`),
        unknown: `${name}:99999999`,
        call: (c, keys) => c.shipmentsById(keys),
      },
    ],
  });
}

const TARGETS: readonly Target[] = [erp, commerce, warehouse('wms'), warehouse('tpl')];

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

const MONEY = /^-?\d+\.\d{2}$/;
const CURRENCY = /^[A-Z]{3}$/;
/** Fields holding a point in time: `lastModified`, `asOf`, `...At`, `...Date`. */
const TIMESTAMP_FIELD = /^(?:lastModified|asOf)$|(?:At|Date)$/;

/** Walks a record: no undefined anywhere, money as decimal strings, timestamps parseable. */
function assertCanonical(value: unknown, path: string): void {
  assert.notEqual(value, undefined, `${path} is undefined`);
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    // An index loop, not forEach: holes must be visited (and fail) too.
    for (let i = 0; i < value.length; i++) assertCanonical(value[i], `${path}[${i}]`);
    return;
  }
  const record = value as Record<string, unknown>;
  if ('amount' in record) {
    const { amount, currencyCode } = record;
    assert.equal(typeof amount, 'string', `${path}.amount: expected a decimal string`);
    assert.match(String(amount), MONEY, `${path}.amount`);
    assert.equal(typeof currencyCode, 'string', `${path}.currencyCode: expected a string`);
  }
  for (const [field, inner] of Object.entries(record)) {
    const at = `${path}.${field}`;
    if (field === 'currencyCode') {
      assert.equal(typeof inner, 'string', `${at}: expected a string`);
      assert.match(String(inner), CURRENCY, at);
    }
    if (TIMESTAMP_FIELD.test(field) && inner !== null) {
      assert.equal(typeof inner, 'string', `${at}: expected an ISO 8601 string`);
      assert.ok(!Number.isNaN(Date.parse(String(inner))), `${at}: ${String(inner)} does not parse`);
    }
    assertCanonical(inner, at);
  }
}

/** The SourceError `promise` rejects with. */
async function sourceError(promise: Promise<unknown>): Promise<SourceError> {
  const outcome = await promise.then(
    () => assert.fail('expected a SourceError, but the call succeeded'),
    (error: unknown) => error,
  );
  assert.ok(outcome instanceof SourceError, `expected a SourceError, got ${String(outcome)}`);
  return outcome;
}

/** The value of `field` in a record (the key it answers), or undefined for null. */
const keyOf = (record: unknown, field: string): unknown =>
  (record as Record<string, unknown> | null)?.[field];

/** Per-call timeout of the connectors the failure cases make. */
const FAULT_TIMEOUT_MS = 250;

/** One injected fault and what every connector must turn it into. */
interface FaultCase {
  readonly name: string;
  readonly faults: Partial<Faults>;
  readonly code: SourceErrorCode;
  readonly check?: (error: SourceError) => void;
}

const FAULT_CASES: readonly FaultCase[] = [
  { name: 'down', faults: { down: true }, code: 'SOURCE_UNAVAILABLE' },
  {
    name: 'answering every request with a 5xx',
    faults: { errorRate: 1 },
    code: 'SOURCE_UNAVAILABLE',
    check(error) {
      assert.match(error.reason, /^http_5\d\d$/);
      assert.ok(error.status !== undefined && error.status >= 500, `status ${error.status}`);
    },
  },
  { name: 'answering malformed bodies', faults: { malformed: true }, code: 'SOURCE_BAD_RESPONSE' },
  {
    name: 'slower than the timeout',
    faults: { latencyMs: FAULT_TIMEOUT_MS * 40 },
    code: 'SOURCE_TIMEOUT',
    check(error) {
      assert.equal(error.reason, 'timeout');
    },
  },
];

// ---------------------------------------------------------------------------------------------
// The suite.
// ---------------------------------------------------------------------------------------------

before(async () => {
  sandbox = await startSandbox({ portBase: 0, catalogSize: 200 });
});

afterEach(() => {
  sandbox.reset();
});

after(async () => {
  await Promise.all(made.map((c) => c.close()));
  await sandbox.close();
});

for (const t of TARGETS) {
  describe(`${t.name} connector honours the source port`, () => {
    let shared: Bound;
    const system = () => sandbox[t.name];
    const requests = () => system().control.stats().requests;

    before(() => {
      shared = t.connect();
    });

    describe('identity', () => {
      it('has its configured name, its kind and a non-empty set of capabilities', () => {
        const { connector } = shared;
        assert.equal(connector.name, t.name);
        assert.equal(connector.kind, t.kind);
        assert.ok(connector.capabilities instanceof Set, 'capabilities is a Set');
        assert.ok(connector.capabilities.size > 0, 'capabilities is not empty');
        for (const method of CONNECTOR_METHODS) {
          assert.equal(typeof connector[method], 'function', method);
        }
      });

      it('backs every capability it declares with the methods of the port', () => {
        const { connector } = shared;
        const methods = connector as unknown as Record<string, unknown>;
        for (const capability of connector.capabilities) {
          const required = CAPABILITY_METHODS[capability];
          assert.ok(required, `${capability} is not a capability of the port`);
          for (const method of required) {
            assert.equal(typeof methods[method], 'function', `${capability} → ${method}`);
          }
        }
      });

      it('has every batch method of its capabilities in this suite’s table', () => {
        const declared = [...shared.connector.capabilities].flatMap((c) => BATCH_METHODS[c]);
        assert.deepEqual(t.batches.map((b) => b.method).sort(), [...declared].sort());
        for (const batch of t.batches) {
          assert.ok(shared.connector.capabilities.has(batch.capability), batch.method);
        }
      });
    });

    for (const batch of t.batches) {
      describe(`${batch.method} (dataloader contract)`, () => {
        it('answers in key order and length, repeats duplicates, and fills an unknown key in the middle', async () => {
          const known = batch.known(sandbox.world);
          const [a, b] = known;
          assert.ok(a !== undefined && b !== undefined, 'the table needs two known keys');
          const keys = [b, a, batch.unknown, b, a];
          const answer = await shared.call(batch.method, keys);

          if (batch.shape === 'flat') {
            const asked = new Set([a, b]);
            const answered = new Set(answer.map((r) => keyOf(r, batch.key)));
            assert.deepEqual(answered, asked, 'every known key answered, nothing else');
            // Duplicated keys do not duplicate records.
            const distinct = new Set(answer.map((r) => JSON.stringify(r)));
            assert.equal(distinct.size, answer.length, 'each record once, however often its key');
            return;
          }

          assert.equal(answer.length, keys.length, 'one answer per key');
          for (const [i, key] of keys.entries()) {
            const slot = answer[i];
            if (key === batch.unknown) {
              assert.deepEqual(slot, batch.shape === 'one' ? null : [], `slot ${i} (unknown key)`);
            } else if (batch.shape === 'one') {
              assert.equal(keyOf(slot, batch.key), key, `slot ${i}`);
            } else {
              assert.ok(Array.isArray(slot) && slot.length > 0, `slot ${i}: a non-empty list`);
              for (const record of slot) assert.equal(keyOf(record, batch.key), key, `slot ${i}`);
            }
          }
          assert.deepEqual(answer[3], answer[0], 'a repeated key gets the same answer');
          assert.deepEqual(answer[4], answer[1], 'a repeated key gets the same answer');
        });

        it('answers [] for no keys without a request to the system', async () => {
          const before = requests();
          assert.deepEqual(await shared.call(batch.method, []), []);
          assert.equal(requests(), before, 'no request for no keys');
        });

        it('answers canonical records', async () => {
          const answer = await shared.call(batch.method, batch.known(sandbox.world));
          const records = answer.flat().filter((r) => r !== null);
          assert.ok(records.length > 0, 'the known keys answered records');
          for (const [i, record] of records.entries()) {
            assertCanonical(record, `${batch.method}[${i}]`);
          }
        });
      });
    }

    describe('health()', () => {
      it('is CLOSED with no requests and no failures on a fresh connector', () => {
        const health = t.connect().connector.health();
        assert.equal(health.name, t.name);
        assert.equal(health.kind, t.kind);
        assert.equal(health.state, 'CLOSED');
        assert.equal(health.requests, 0);
        assert.equal(health.failures, 0);
      });

      it('counts every request it made, reports latency, and names the sandbox URL', async () => {
        const { connector, probe } = t.connect();
        system().control.resetStats();
        await probe();
        const health = connector.health();
        assert.equal(health.state, 'CLOSED');
        assert.equal(health.failures, 0);
        // Token and warm-up requests included: exactly what reached the system.
        assert.ok(requests() > 0);
        assert.equal(health.requests, requests());
        assert.equal(typeof health.latencyMs.p50, 'number');
        assert.equal(new URL(health.baseUrl).origin, system().url);
      });
    });

    describe('failures speak the port’s vocabulary', () => {
      for (const fault of FAULT_CASES) {
        it(`${fault.name} → ${fault.code}`, async () => {
          const { connector, probe } = t.connect({
            [`${t.prefix}_TIMEOUT_MS`]: String(FAULT_TIMEOUT_MS),
            // Each case is about one answer of the system, not about the breaker.
            [`${t.prefix}_BREAKER_VOLUME_THRESHOLD`]: '1000',
          });
          try {
            // Tokens and caches are filled first, so the fault hits the data call.
            await probe();
            system().control.resetStats();
            system().control.setFaults(fault.faults);
            // Closes either way: aborted by the connector, or answered once the latency passed.
            const closed = system().control.nextResponseClose();
            const error = await sourceError(probe());
            assert.equal(error.code, fault.code);
            assert.equal(error.source, t.name);
            assert.equal(error.breaker, 'CLOSED');
            assert.ok(error.message.startsWith(`${t.name}: `), error.message);
            fault.check?.(error);
            if (fault.code === 'SOURCE_TIMEOUT') {
              // The timeout really aborts: the system sees the request closed unanswered.
              await closed;
              assert.equal(system().control.stats().aborted, 1);
            }
          } finally {
            await connector.close();
          }
        });
      }
    });

    describe('circuit breaker', () => {
      it('opens after repeated failures, reports OPEN once, then fails fast without a request', async () => {
        const { connector, probe } = t.connect({
          [`${t.prefix}_BREAKER_VOLUME_THRESHOLD`]: '2',
          [`${t.prefix}_BREAKER_ERROR_THRESHOLD`]: '50',
          // Long enough that it cannot turn half-open during the test.
          [`${t.prefix}_BREAKER_RESET_MS`]: '600000',
        });
        const transitions: [BreakerState, BreakerState][] = [];
        connector.onStateChange((state, previous) => transitions.push([previous, state]));
        try {
          await probe();
          const succeeded = connector.health().requests;
          system().control.setFaults({ errorRate: 1 });
          let failures = 0;
          while (connector.health().state !== 'OPEN' && failures <= succeeded + 1) {
            const error = await sourceError(probe());
            assert.equal(error.code, 'SOURCE_UNAVAILABLE');
            assert.match(error.reason, /^http_5\d\d$/);
            failures++;
          }
          // Above 50 % of at least 2 calls in the window: the first failure that outnumbers
          // the successful requests of the warm-up opens it, not one later.
          assert.equal(connector.health().state, 'OPEN');
          assert.equal(failures, succeeded + 1);

          const served = requests();
          for (let i = 0; i < 3; i++) {
            const error = await sourceError(probe());
            assert.equal(error.code, 'SOURCE_UNAVAILABLE');
            assert.equal(error.reason, 'breaker_open');
            assert.equal(error.breaker, 'OPEN');
            assert.equal(error.source, t.name);
          }
          assert.equal(requests(), served, 'an open breaker must not call the system');
          assert.deepEqual(transitions, [['CLOSED', 'OPEN']]);
        } finally {
          await connector.close();
        }
      });
    });

    describe('close()', () => {
      it('is idempotent, used or not', async () => {
        const used = t.connect();
        await used.probe();
        await used.connector.close();
        await used.connector.close();
        const unused = t.connect().connector;
        await Promise.all([unused.close(), unused.close()]);
      });
    });
  });
}

/**
 * The step runner (issue 11, "Two seams"): every step of a placement reaches the StepObserver
 * the workflows were made with, in ledger order, naming its order's channel and the warehouse it
 * concerns, compensating steps marked so; an observer that throws changes nothing. The real
 * order workflows run over the real connectors against the sandbox systems (real HTTP), on an
 * embedded store of their own. No Crossdock HTTP server is started, so no webhook adds steps of
 * its own to the sequences asserted here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { allConnectors, type Sources } from '../resolvers/sources.js';
import { startSandbox, type Sandbox } from '../sandbox/index.js';
import { buildWorld, type SeedStock, type SeedWorld } from '../sandbox/seed.js';
import { loadConfig } from '../server/config.js';
import { createSources } from '../server/connectors.js';
import { isSourceError } from '../sources/contract.js';
import type { Store } from '../store/contract.js';
import { createStore } from '../store/index.js';
import type { EventBus } from '../subscriptions/bus.js';
import { createMemoryBus } from '../subscriptions/memory-bus.js';
import { createWorkflows, type Workflows } from '../workflows/index.js';
import type { PlaceOrderInput, WorkflowCaller } from '../workflows/orders.js';
import type { StepReport } from '../workflows/steps.js';
import { orderableCustomer } from './support/orders.js';

let world: SeedWorld;
let sandbox: Sandbox;
let sources: Sources;
let store: Store;
let bus: EventBus;
let workflows: Workflows;
/** What the workflows' observer does with each report; each test sets its own. */
let observe: (report: StepReport) => void = () => undefined;

before(async () => {
  world = buildWorld({ catalogSize: 150 });
  sandbox = await startSandbox({ portBase: 0, world });
  const dataDir = mkdtempSync(join(tmpdir(), 'crossdock-steps-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    SANDBOX_PORT_BASE: '0',
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
  });
  sources = createSources(config, {
    erp: sandbox.erp.url,
    commerce: sandbox.commerce.url,
    wms: sandbox.wms.url,
    tpl: sandbox.tpl.url,
  });
  store = await createStore({ dataDir });
  bus = createMemoryBus();
  workflows = createWorkflows({
    erp: sources.erp,
    warehouses: sources.warehouses,
    store,
    bus,
    steps: { step: (report) => observe(report) },
  });
});

after(async () => {
  await workflows.close();
  await Promise.all(allConnectors(sources).map((connector) => connector.close()));
  await bus.close();
  await store.close();
  await sandbox.close();
});

afterEach(() => {
  observe = () => undefined;
  sandbox.reset();
});

/** Units of a seed stock row free to reserve. */
const free = (s: SeedStock): number => s.onHand - s.allocated - s.onHold;

/** Codes of the warehouses the distributor runs itself (the own WMS, not the 3PL). */
const ownedCodes = (): Set<string> =>
  new Set(world.warehouses.filter((w) => w.system === 'wms').map((w) => w.code));

/** The unblocked products stocked in exactly one owned warehouse, with that row, cheapest first. */
function singleOwnedRows(): { sku: string; owned: SeedStock; tpl: SeedStock | null }[] {
  const owned = ownedCodes();
  const price = new Map(world.products.filter((p) => !p.blocked).map((p) => [p.sku, p.priceCents]));
  return [...price.keys()]
    .flatMap((sku) => {
      const rows = world.stock.filter((s) => s.sku === sku && free(s) > 0);
      const mine = rows.filter((s) => owned.has(s.warehouse));
      const [only] = mine;
      if (mine.length !== 1 || !only) return [];
      const tpl = rows.find((s) => !owned.has(s.warehouse)) ?? null;
      return [{ sku, owned: only, tpl }];
    })
    .sort((a, b) => (price.get(a.sku) ?? 0) - (price.get(b.sku) ?? 0));
}

const caller = (correlationId: string): WorkflowCaller => ({ id: 'steps-test', correlationId });

const input = (sku: string, quantity: number): PlaceOrderInput => ({
  channel: 'B2B_PORTAL',
  customerNumber: orderableCustomer(world).number,
  lines: [{ sku, quantity }],
  shipTo: null,
  externalReference: null,
});

/** What the assertions compare of a report (its duration is checked against the ledger). */
const shape = (r: StepReport) => ({
  step: r.step,
  outcome: r.outcome,
  status: r.status,
  channel: r.channel,
  warehouse: r.warehouse,
  correlationId: r.correlationId,
  compensation: r.compensation,
});

/** Asserts that `reports` are the ledger of `orderId`, entry for entry. */
async function assertLedgerReported(orderId: string, reports: readonly StepReport[]) {
  const ledger = await store.ledger.list(orderId);
  assert.deepEqual(
    reports.map((r) => [r.orderId, r.step, r.outcome, r.durationMs, r.correlationId]),
    ledger.map((e) => [e.orderId, e.step, e.outcome, e.durationMs, e.correlationId]),
  );
}

describe('the step runner', () => {
  it('reports every step of a placement in order, with its channel and warehouse', async () => {
    const row = singleOwnedRows()[0];
    assert.ok(row, 'a product stocked in one owned warehouse');
    const wh = row.owned.warehouse;
    const reports: StepReport[] = [];
    observe = (report) => reports.push(report);
    const placed = await workflows.orders.placeOrder(
      input(row.sku, 1),
      'steps-success',
      caller('corr-steps-success'),
    );
    assert.deepEqual(placed.outcome.userErrors, []);
    assert.equal(placed.outcome.status, 'ACCEPTED');
    const orderId = placed.outcome.orderId ?? '';
    const at = { channel: 'B2B_PORTAL', correlationId: 'corr-steps-success', compensation: false };
    assert.deepEqual(reports.map(shape), [
      { step: 'receive', outcome: 'SUCCEEDED', status: 'RECEIVED', warehouse: wh, ...at },
      { step: `reserve:${wh}`, outcome: 'SUCCEEDED', status: null, warehouse: wh, ...at },
      { step: 'reserve', outcome: 'SUCCEEDED', status: 'ALLOCATED', warehouse: wh, ...at },
      { step: 'post:erp', outcome: 'SUCCEEDED', status: 'ACCEPTED', warehouse: wh, ...at },
    ]);
    assert.ok(reports.every((r) => r.orderId === orderId));
    // The steps that called a system say how long the call took; the others none.
    assert.deepEqual(
      reports.map((r) => typeof r.durationMs),
      ['object', 'number', 'object', 'number'],
    );
    await assertLedgerReported(orderId, reports);
  });

  it('marks the release of reservations after a failed reservation as compensation', async () => {
    // Split between one owned warehouse and the 3PL: more than the owned one holds, no more
    // than the 3PL could add, and not so much that the 3PL alone could ship it.
    const row = singleOwnedRows().find(
      (r) => r.tpl !== null && free(r.tpl) >= 2 && free(r.tpl) <= free(r.owned),
    );
    assert.ok(row?.tpl, 'a product only one owned warehouse and the 3PL hold together');
    const wh = row.owned.warehouse;
    const tpl = row.tpl.warehouse;
    const reports: StepReport[] = [];
    observe = (report) => reports.push(report);
    // The 3PL answers reads but fails its writes: the owned warehouse reserves, the 3PL does not.
    sandbox.tpl.control.setFaults({ errorRate: 1, methods: ['POST'] });
    await assert.rejects(
      workflows.orders.placeOrder(
        input(row.sku, free(row.owned) + 1),
        'steps-compensation',
        caller('corr-steps-compensation'),
      ),
      (error) => isSourceError(error) && error.code === 'SOURCE_UNAVAILABLE',
    );
    const at = { channel: 'B2B_PORTAL', correlationId: 'corr-steps-compensation' };
    assert.deepEqual(reports.map(shape), [
      {
        step: 'receive',
        outcome: 'SUCCEEDED',
        status: 'RECEIVED',
        warehouse: null,
        compensation: false,
        ...at,
      },
      {
        step: `reserve:${wh}`,
        outcome: 'SUCCEEDED',
        status: null,
        warehouse: wh,
        compensation: false,
        ...at,
      },
      {
        step: 'reserve',
        outcome: 'FAILED',
        status: null,
        warehouse: null,
        compensation: false,
        ...at,
      },
      {
        step: `release:${wh}`,
        outcome: 'COMPENSATED',
        status: null,
        warehouse: wh,
        compensation: true,
        ...at,
      },
      {
        step: `release:${tpl}`,
        outcome: 'COMPENSATED',
        status: null,
        warehouse: tpl,
        compensation: true,
        ...at,
      },
    ]);
    await assertLedgerReported(reports[0]?.orderId ?? '', reports);
  });

  it('places the order the same when the observer throws, or rejects, on every step', async () => {
    const row = singleOwnedRows()[1];
    assert.ok(row, 'a second product stocked in one owned warehouse');
    let told = 0;
    const throwing = (report: StepReport): void => {
      throw new Error(`observer broke on ${report.step}`);
    };
    // An async observer's rejection must not surface anywhere either (no unhandled rejection).
    const rejecting = async (report: StepReport): Promise<void> => {
      throw new Error(`async observer broke on ${report.step}`);
    };
    observe = (report) => (told++ % 2 === 0 ? throwing(report) : rejecting(report));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const placed = await workflows.orders.placeOrder(
        input(row.sku, 1),
        'steps-throwing',
        caller('corr-steps-throwing'),
      );
      assert.deepEqual(
        { status: placed.outcome.status, userErrors: placed.outcome.userErrors },
        { status: 'ACCEPTED', userErrors: [] },
      );
      const ledger = await store.ledger.list(placed.outcome.orderId ?? '');
      assert.deepEqual(
        ledger.map((e) => `${e.step} ${e.outcome}`),
        [
          'receive SUCCEEDED',
          `reserve:${row.owned.warehouse} SUCCEEDED`,
          'reserve SUCCEEDED',
          'post:erp SUCCEEDED',
        ],
      );
      assert.equal(told, ledger.length, 'the observer was told of every step');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

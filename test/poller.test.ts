/**
 * Polling with a stored checkpoint (issue #4), end to end over real sockets: the 3PL sandbox
 * (`tpl`, which sends no webhooks in the embedded configuration), the real WMS connector's
 * change feed, a real store (every implementation the store contract runs against), and a
 * recording `apply`. Warehouse work happens through the sandbox's own API (create, confirm,
 * cancel orders), as the 3PL's staff would do it.
 *
 * Every test gets a fresh sandbox: a poll repeats the last few seconds (the overlap), so
 * changes of an earlier test would otherwise show up in the next one's window.
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { WMS_SANDBOX } from '../sandbox/credentials.js';
import { NO_FAULTS, type RunningSystem } from '../sandbox/faults.js';
import { startSandbox, type Sandbox } from '../sandbox/index.js';
import { buildWorld, type SeedStock } from '../sandbox/seed.js';
import {
  SourceError,
  type BreakerState,
  type ChangeFeed,
  type Connector,
  type ShipmentRecord,
  type ShipmentSourceEvent,
  type SourceEvent,
  type StockSourceEvent,
} from '../sources/contract.js';
import { DEFAULT_WMS_CHANGE_OVERLAP_MS } from '../sources/wms/changes.js';
import { createWmsConnector, type WmsConnectorOptions } from '../sources/wms/index.js';
import type { Store } from '../store/contract.js';
import {
  createPoller,
  pollCheckpointName,
  POLLER_CALLER,
  type ApplyEvents,
  type Poller,
  type PollerOptions,
} from '../workflows/poller.js';
import { storeImplementations, type FreshStore } from './support/store.js';

const world = buildWorld({ catalogSize: 50 });
/** The 3PL's one facility. */
const FACILITY = { id: 7, code: '3PL-SOUTH' } as const;
const CHECKPOINT = pollCheckpointName('tpl');
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** 3PL stock rows with room to allocate from, in SKU order. */
const roomy: readonly SeedStock[] = world.stock.filter(
  (row) => row.warehouse === FACILITY.code && row.onHand - row.allocated - row.onHold >= 10,
);
function seedRow(index: number): SeedStock {
  const row = roomy[index];
  assert.ok(row, `the seed has fewer than ${index + 1} roomy 3PL rows`);
  return row;
}

// ---------------------------------------------------------------------------------------------
// The 3PL's staff: its own API, with its own token
// ---------------------------------------------------------------------------------------------

/** An order as the sandbox answers it (the fields the expectations need). */
interface NativeOrder {
  readonly readOnly: {
    readonly orderId: number;
    readonly status: number;
    readonly lastModifiedDate: string;
    readonly processDate: string | null;
  };
  readonly referenceNum: string;
  readonly routingInfo: { readonly carrier: string | null; readonly trackingNumber: string | null };
  readonly orderItems: readonly {
    readonly itemIdentifier: { readonly sku: string };
    readonly qty: number;
  }[];
}

/** A stock summary row as the sandbox answers it. */
interface NativeRow {
  readonly onHand: number;
  readonly available: number;
  readonly allocated: number;
  readonly lastModifiedDate: string;
}

interface Staff {
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; etag: string | null; body: unknown }>;
}

async function staffOf(system: RunningSystem): Promise<Staff> {
  const creds = WMS_SANDBOX.tpl;
  const basic = Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64');
  const res = await fetch(`${system.url}/AuthServer/api/Token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', user_login: creds.userLogin }),
  });
  const { access_token: token } = (await res.json()) as { access_token: string };
  return {
    async call(method, path, body, headers = {}) {
      const answer = await fetch(new URL(path, system.url), {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await answer.text();
      return {
        status: answer.status,
        etag: answer.headers.get('etag'),
        body: text === '' ? null : (JSON.parse(text) as unknown),
      };
    },
  };
}

/** Creates an order at the 3PL; returns its id and ETag. */
async function createOrder(
  staff: Staff,
  reference: string,
  lines: readonly (readonly [string, number])[],
): Promise<{ id: number; etag: string }> {
  const res = await staff.call('POST', '/orders', {
    customerIdentifier: { id: 1 },
    facilityIdentifier: { id: FACILITY.id },
    referenceNum: reference,
    shipTo: { companyName: 'Dock 4', address1: '10 Harbor Rd', city: 'Boston', zip: '02110' },
    orderItems: lines.map(([sku, qty]) => ({ itemIdentifier: { sku }, qty })),
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.ok(res.etag);
  return { id: (res.body as NativeOrder).readOnly.orderId, etag: res.etag };
}

/** Confirms (ships) or cancels an order under its ETag. */
async function operate(
  staff: Staff,
  order: { id: number; etag: string },
  operator: 'confirmer' | 'canceler',
  body: Record<string, string>,
): Promise<void> {
  const res = await staff.call('POST', `/orders/${order.id}/${operator}`, body, {
    'if-match': order.etag,
  });
  assert.equal(res.status, 204, JSON.stringify(res.body));
}

async function orderNow(staff: Staff, id: number): Promise<NativeOrder> {
  const res = await staff.call('GET', `/orders/${id}?detail=All`);
  assert.equal(res.status, 200);
  return res.body as NativeOrder;
}

async function rowNow(staff: Staff, sku: string): Promise<NativeRow> {
  const rql = encodeURIComponent(`itemIdentifier.sku==${sku};facilityId==${FACILITY.id}`);
  const res = await staff.call('GET', `/inventory/stocksummaries?rql=${rql}`);
  const [row] = (res.body as { summaries: NativeRow[] }).summaries;
  assert.ok(row, `no 3PL row of ${sku}`);
  return row;
}

// ---------------------------------------------------------------------------------------------
// What the feed must say, built from the sandbox's answers and the seed's quantities
// ---------------------------------------------------------------------------------------------

/** The sandbox's datetimes: 7 fractional digits, no offset, UTC. */
function isoOf(extensiv: string): string {
  return new Date(`${extensiv.slice(0, 23)}Z`).toISOString();
}

function shipmentEvent(
  order: NativeOrder,
  kind: ShipmentSourceEvent['kind'],
  status: ShipmentRecord['status'],
): ShipmentSourceEvent {
  const { orderId, lastModifiedDate, processDate } = order.readOnly;
  return {
    type: 'shipment',
    id: `tpl:order:${orderId}:${lastModifiedDate}`,
    source: 'tpl',
    occurredAt: isoOf(lastModifiedDate),
    kind,
    shipment: {
      id: `tpl:${orderId}`,
      source: 'tpl',
      orderNumber: order.referenceNum,
      warehouseCode: FACILITY.code,
      status,
      carrier: order.routingInfo.carrier,
      trackingNumber: order.routingInfo.trackingNumber,
      shippedAt: status === 'SHIPPED' && processDate !== null ? isoOf(processDate) : null,
      lines: order.orderItems.map((item) => ({ sku: item.itemIdentifier.sku, quantity: item.qty })),
    },
  };
}

/** The stock event of `seed`'s row after its on-hand and allocation moved by the given amounts. */
function stockEvent(
  seed: SeedStock,
  stamp: string,
  moved: { readonly onHand: number; readonly allocated: number },
): StockSourceEvent {
  const onHand = seed.onHand + moved.onHand;
  const allocated = seed.allocated + moved.allocated;
  return {
    type: 'stock',
    id: `tpl:stock:${FACILITY.id}:${seed.sku}:${stamp}`,
    source: 'tpl',
    occurredAt: isoOf(stamp),
    sku: seed.sku,
    warehouseCode: FACILITY.code,
    onHand,
    available: onHand - allocated - seed.onHold,
    allocated,
    delta: null,
    reason: null,
  };
}

const byId = (events: readonly SourceEvent[]): SourceEvent[] =>
  [...events].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** The checkpoint a poll that saw `events` moves to: the newest of their times. */
const newestOf = (events: readonly SourceEvent[]): string =>
  new Date(Math.max(...events.map((event) => Date.parse(event.occurredAt)))).toISOString();

function assertOldestFirst(events: readonly SourceEvent[]): void {
  const times = events.map((event) => Date.parse(event.occurredAt));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    'events are oldest first',
  );
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

type Feed = Connector & ChangeFeed;

interface ApplyCall {
  readonly events: readonly SourceEvent[];
  readonly context: { readonly caller: string; readonly correlationId: string | null };
}

/** A recording `apply`; `failNext` makes the next call throw after recording it. */
function recorder(): { apply: ApplyEvents; calls: ApplyCall[]; failNext: Error | null } {
  const state = {
    calls: [] as ApplyCall[],
    failNext: null as Error | null,
    apply: (async (events, context) => {
      state.calls.push({ events, context });
      const failure = state.failNext;
      state.failNext = null;
      if (failure) throw failure;
      return { published: events.length };
    }) satisfies ApplyEvents,
  };
  return state;
}

/** Resolves when the connector's breaker is in `wanted` (at once if it already is). */
function breakerReaches(connector: Connector, wanted: BreakerState): Promise<void> {
  return new Promise((resolve) => {
    const off = connector.onStateChange((state) => {
      if (state !== wanted) return;
      off();
      resolve();
    });
    if (connector.health().state === wanted) {
      off();
      resolve();
    }
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Per test: a fresh sandbox, connectors and pollers closed afterwards. */
function fixture(): {
  sandbox: () => Sandbox;
  staff: () => Staff;
  connector: (instance?: 'wms' | 'tpl', overrides?: Partial<WmsConnectorOptions>) => Feed;
  poller: (options: Omit<PollerOptions, 'intervalMs'> & { intervalMs?: number }) => Poller;
} {
  let sandbox: Sandbox | null = null;
  let staff: Staff | null = null;
  const closers: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    sandbox = await startSandbox({ portBase: 0, catalogSize: 50, world });
    staff = await staffOf(sandbox.tpl);
  });
  afterEach(async () => {
    // Pollers first (they use the connectors), then connectors, then the systems.
    for (const close of closers.reverse()) await close();
    closers.length = 0;
    await sandbox?.close();
    sandbox = null;
  });
  const running = (): Sandbox => {
    assert.ok(sandbox, 'sandbox not started');
    return sandbox;
  };
  return {
    sandbox: running,
    staff: () => {
      assert.ok(staff, 'sandbox not started');
      return staff;
    },
    connector(instance = 'tpl', overrides = {}) {
      const creds = WMS_SANDBOX[instance];
      const connector = createWmsConnector({
        name: instance,
        baseUrl: running()[instance].url,
        clientId: creds.clientId,
        clientSecret: creds.clientSecret,
        userLogin: creds.userLogin,
        tplGuid: creds.tplGuid,
        warehouseKind: instance === 'tpl' ? 'THIRD_PARTY' : 'OWNED',
        // Failure tests see the system's answer, not an open breaker, unless they ask for one.
        breaker: { volumeThreshold: 1_000 },
        ...overrides,
      });
      closers.push(() => connector.close());
      return connector;
    },
    poller(options) {
      const poller = createPoller({ intervalMs: 60_000, ...options });
      closers.push(() => poller.close());
      return poller;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The change feed on its own
// ---------------------------------------------------------------------------------------------

describe('the WMS change feed (changesSince)', () => {
  const f = fixture();
  const routes = (): Record<string, number> => ({ ...f.sandbox().tpl.control.stats().byRoute });

  test('is part of the WMS connector, with a 5 s overlap by default', () => {
    const connector = f.connector();
    assert.equal(typeof connector.changesSince, 'function');
    assert.equal(DEFAULT_WMS_CHANGE_OVERLAP_MS, 5_000);
  });

  test('null: no events, a checkpoint of the system clock, one orders request', async () => {
    const connector = f.connector();
    f.sandbox().tpl.control.resetStats();
    const before = Date.now();
    const { events, checkpoint } = await connector.changesSince(null);
    const after = Date.now();
    assert.deepEqual(events, []);
    assert.match(checkpoint, ISO_INSTANT);
    // The Date header has whole seconds: the checkpoint is the second the system answered in.
    const at = Date.parse(checkpoint);
    assert.ok(at >= before - 1_000 && at <= after, `${checkpoint} is not the sandbox's now`);
    assert.deepEqual(routes(), { 'POST /AuthServer/api/Token': 1, 'GET /orders': 1 });
  });

  test('no change since: one request per listing, no events, the same checkpoint', async () => {
    const connector = f.connector();
    const { checkpoint } = await connector.changesSince(null);
    f.sandbox().tpl.control.resetStats();
    const next = await connector.changesSince(checkpoint);
    assert.deepEqual(next, { events: [], checkpoint });
    assert.deepEqual(routes(), { 'GET /orders': 1, 'GET /inventory/stocksummaries': 1 });
  });

  test('pages both listings to the end', async () => {
    const connector = f.connector('tpl', { pageSize: 2 });
    const { checkpoint } = await connector.changesSince(null);
    const orders = [];
    for (const index of [0, 1, 2]) {
      orders.push(await createOrder(f.staff(), `PAGE-${index}`, [[seedRow(index).sku, 1]]));
    }
    f.sandbox().tpl.control.resetStats();
    const { events } = await connector.changesSince(checkpoint);
    assert.deepEqual(
      events.filter((event) => event.type === 'shipment').map((event) => event.shipment.id),
      orders.map((order) => `tpl:${order.id}`),
    );
    assert.deepEqual(
      events.filter((event) => event.type === 'stock').map((event) => event.sku),
      [0, 1, 2].map((index) => seedRow(index).sku),
    );
    // 3 orders and 3 rows at 2 a page: 2 pages each, plus the facility list for the codes.
    assert.deepEqual(routes(), {
      'GET /orders': 2,
      'GET /inventory/stocksummaries': 2,
      'GET /properties/facilities': 1,
    });
  });

  const badCheckpoints: readonly string[] = [
    'yesterday',
    '2026-11-27T10:00:00Z',
    '2026-11-27T10:00:00.000',
    '2026-13-40T10:00:00.000Z',
    '',
  ];
  for (const bad of badCheckpoints) {
    test(`refuses the checkpoint ${JSON.stringify(bad)} before asking the system`, async () => {
      const connector = f.connector();
      f.sandbox().tpl.control.resetStats();
      await assert.rejects(connector.changesSince(bad), {
        name: 'TypeError',
        message: `tpl: expected a change-feed checkpoint like 2026-11-27T10:00:00.000Z, got ${JSON.stringify(bad)}`,
      });
      assert.deepEqual(routes(), {});
    });
  }

  test('a system that is down fails with a SourceError of the source', async () => {
    const connector = f.connector();
    const { checkpoint } = await connector.changesSince(null);
    f.sandbox().tpl.control.setFaults({ down: true });
    const error = await connector.changesSince(checkpoint).then(
      () => assert.fail('expected a SourceError'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SourceError, String(error));
    assert.equal(error.source, 'tpl');
    assert.equal(error.code, 'SOURCE_UNAVAILABLE');
  });
});

// ---------------------------------------------------------------------------------------------
// The poller, over every store implementation
// ---------------------------------------------------------------------------------------------

for (const implementation of storeImplementations()) {
  describe(`poller over the ${implementation.name} store`, { skip: implementation.skip }, () => {
    const f = fixture();
    let fresh: FreshStore;
    let store: Store;
    beforeEach(async () => {
      fresh = await implementation.open();
      store = fresh.store;
    });
    afterEach(async () => {
      await fresh.cleanup();
    });
    after(() => implementation.dispose());

    const stored = async (): Promise<string | null> =>
      (await store.checkpoints.get(CHECKPOINT))?.value ?? null;

    /**
     * A poller of `connector` into a recording `apply` that fails the test on any error, after
     * its first poll (the baseline: a checkpoint, no events).
     */
    const baselined = async (connector: Feed) => {
      const recording = recorder();
      const poller = f.poller({
        feeds: [connector],
        store,
        apply: recording.apply,
        onError: (error) => assert.fail(String(error)),
      });
      await poller.pollOnce();
      return { recording, poller };
    };

    test('first poll takes a checkpoint; the next emits each change once, as it stands', async () => {
      const recording = recorder();
      const errors: unknown[] = [];
      const poller = f.poller({
        feeds: [f.connector()],
        store,
        apply: recording.apply,
        onError: (error) => errors.push(error),
      });

      const [first] = await poller.pollOnce();
      assert.ok(first);
      assert.deepEqual(first, {
        source: 'tpl',
        events: 0,
        published: 0,
        advanced: true,
        outcome: 'baseline',
        checkpoint: first.checkpoint,
      });
      assert.match(first.checkpoint ?? '', ISO_INSTANT);
      assert.equal(await stored(), first.checkpoint);
      assert.equal(recording.calls.length, 0, 'nothing happened yet: apply is not called');

      // The 3PL ships A, cancels B, and has C open.
      const [a, b, c] = [seedRow(0), seedRow(1), seedRow(2)];
      const orderA = await createOrder(f.staff(), 'XD-A-3PL-SOUTH-1', [[a.sku, 2]]);
      await operate(f.staff(), orderA, 'confirmer', { trackingNumber: '1Z999AA10123456784' });
      const orderB = await createOrder(f.staff(), 'XD-B-3PL-SOUTH-1', [[b.sku, 3]]);
      await operate(f.staff(), orderB, 'canceler', { reason: 'customer cancelled' });
      const orderC = await createOrder(f.staff(), 'XD-C-3PL-SOUTH-1', [[c.sku, 1]]);

      const [second] = await poller.pollOnce();
      assert.equal(recording.calls.length, 1);
      const [call] = recording.calls;
      assert.ok(call);
      const expected: SourceEvent[] = [
        shipmentEvent(await orderNow(f.staff(), orderA.id), 'SHIPPED', 'SHIPPED'),
        shipmentEvent(await orderNow(f.staff(), orderB.id), 'CANCELLED', 'CANCELLED'),
        shipmentEvent(await orderNow(f.staff(), orderC.id), 'CREATED', 'PENDING'),
        // A's 2 left the building; B's 3 came back; C's 1 is held.
        stockEvent(a, (await rowNow(f.staff(), a.sku)).lastModifiedDate, {
          onHand: -2,
          allocated: 0,
        }),
        stockEvent(b, (await rowNow(f.staff(), b.sku)).lastModifiedDate, {
          onHand: 0,
          allocated: 0,
        }),
        stockEvent(c, (await rowNow(f.staff(), c.sku)).lastModifiedDate, {
          onHand: 0,
          allocated: 1,
        }),
      ];
      assert.deepEqual(byId(call.events), byId(expected));
      assertOldestFirst(call.events);
      assert.equal(call.context.caller, POLLER_CALLER);
      assert.match(call.context.correlationId ?? '', /^poll:tpl:[0-9a-f-]{36}$/);

      assert.ok(second);
      // The checkpoint moves to the newest change seen (the system's clock is later still).
      assert.deepEqual(second, {
        source: 'tpl',
        events: 6,
        published: 6,
        advanced: true,
        outcome: 'advanced',
        checkpoint: newestOf(expected),
      });
      assert.ok(
        (second.checkpoint ?? '') > (first.checkpoint ?? ''),
        `${second.checkpoint} after ${first.checkpoint}`,
      );
      assert.equal(await stored(), second.checkpoint);
      assert.deepEqual(errors, []);
    });

    test('a poll with nothing new repeats only the overlap, with the same ids', async () => {
      // A long overlap, so the repeat is certain however slow the machine.
      const connector = f.connector('tpl', { changeOverlapMs: 60_000 });
      const { recording, poller } = await baselined(connector);
      await createOrder(f.staff(), 'XD-REPEAT-1', [[seedRow(0).sku, 1]]);
      const [changed] = await poller.pollOnce();
      const [again] = await poller.pollOnce();
      assert.equal(recording.calls.length, 2);
      const [first, repeat] = recording.calls.map((call) => call.events);
      assert.ok(first && repeat);
      assert.equal(first.length, 2);
      // Same changes, same ids: downstream de-duplication drops the repeat.
      assert.deepEqual(repeat, first);
      assert.ok(changed && again);
      assert.equal(changed.outcome, 'advanced');
      assert.equal(changed.checkpoint, newestOf(first));
      // Nothing newer than the checkpoint: it stays where it is.
      assert.equal(again.outcome, 'unchanged');
      assert.equal(again.checkpoint, changed.checkpoint);
      assert.equal(await stored(), changed.checkpoint);
    });

    test('apply that throws: the checkpoint stays and the same events come again', async () => {
      const recording = recorder();
      const errors: [unknown, string][] = [];
      const poller = f.poller({
        feeds: [f.connector()],
        store,
        apply: recording.apply,
        onError: (error, source) => errors.push([error, source]),
      });
      const [baseline] = await poller.pollOnce();
      await createOrder(f.staff(), 'XD-RETRY-1', [[seedRow(0).sku, 1]]);

      const busDown = new Error('bus unavailable');
      recording.failNext = busDown;
      const [failed] = await poller.pollOnce();
      assert.deepEqual(failed, {
        source: 'tpl',
        events: 0,
        published: 0,
        advanced: false,
        outcome: 'failed',
        checkpoint: baseline?.checkpoint,
      });
      assert.deepEqual(errors, [[busDown, 'tpl']]);
      assert.equal(await stored(), baseline?.checkpoint, 'not advanced past unapplied events');

      const [retried] = await poller.pollOnce();
      assert.equal(retried?.outcome, 'advanced');
      const [lost, delivered] = recording.calls.map((call) => call.events);
      assert.ok(lost && delivered);
      assert.equal(lost.length, 2);
      // The same window read again: the same events, nothing more, nothing less.
      assert.deepEqual(delivered, lost);
      assert.equal(retried?.checkpoint, newestOf(lost));
      assert.equal(await stored(), retried?.checkpoint);
      assert.equal(errors.length, 1);
    });

    test('two replicas on one store: both apply the window, the compare-and-set lets one advance', async () => {
      const calls: string[][] = [];
      const bothArrived = deferred();
      // Both replicas reach apply (so both have read the same checkpoint) before either moves on.
      const apply: ApplyEvents = async (events) => {
        calls.push(events.map((event) => event.id));
        if (calls.length === 2) bothArrived.resolve();
        await bothArrived.promise;
        return { published: events.length };
      };
      const replicaStore = await fresh.reopen();
      const onError = (error: unknown): void => assert.fail(String(error));
      const one = f.poller({ feeds: [f.connector()], store, apply, onError });
      const two = f.poller({ feeds: [f.connector()], store: replicaStore, apply, onError });
      const [baseline] = await one.pollOnce();
      assert.equal(baseline?.outcome, 'baseline');
      await createOrder(f.staff(), 'XD-REPLICAS-1', [[seedRow(0).sku, 1]]);

      const results = (await Promise.all([one.pollOnce(), two.pollOnce()])).flat();
      assert.deepEqual(results.map((result) => result.outcome).sort(), ['advanced', 'lost']);
      assert.deepEqual(results.map((result) => result.advanced).sort(), [false, true]);
      const [first, second] = calls;
      assert.ok(first && second);
      assert.equal(first.length, 2);
      assert.deepEqual([...second].sort(), [...first].sort());
      const winner = results.find((result) => result.advanced);
      assert.equal(await stored(), winner?.checkpoint);
      assert.equal((await replicaStore.checkpoints.get(CHECKPOINT))?.value, winner?.checkpoint);
    });

    test('a source that goes down: reported, then skipped while its breaker is open; after recovery nothing is missed', async () => {
      const recording = recorder();
      const errors: unknown[] = [];
      const connector = f.connector('tpl', {
        breaker: { volumeThreshold: 1, errorThresholdPercentage: 1, resetTimeoutMs: 1_000 },
      });
      const poller = f.poller({
        feeds: [connector],
        store,
        apply: recording.apply,
        onError: (error) => errors.push(error),
      });
      const [baseline] = await poller.pollOnce();

      // Reads fail (the connection is reset); the staff's writes still get through.
      f.sandbox().tpl.control.setFaults({ down: true, methods: ['GET'] });
      const seed = seedRow(0);
      const order = await createOrder(f.staff(), 'XD-OUTAGE-1', [[seed.sku, 4]]);
      await operate(f.staff(), order, 'canceler', { reason: 'out of stock at store' });

      const [failed] = await poller.pollOnce();
      assert.equal(failed?.outcome, 'failed');
      assert.equal(errors.length, 1);
      const [error] = errors;
      assert.ok(error instanceof SourceError, String(error));
      assert.equal(error.source, 'tpl');
      assert.equal(connector.health().state, 'OPEN');

      const [skipped] = await poller.pollOnce();
      assert.deepEqual(skipped, {
        source: 'tpl',
        events: 0,
        published: 0,
        advanced: false,
        outcome: 'skipped',
        checkpoint: null,
      });
      assert.equal(errors.length, 1, 'a skip is not an error');
      assert.equal(await stored(), baseline?.checkpoint);
      assert.equal(recording.calls.length, 0);

      const probing = breakerReaches(connector, 'HALF_OPEN');
      f.sandbox().tpl.control.setFaults(NO_FAULTS);
      await probing;
      const [caughtUp] = await poller.pollOnce();
      assert.equal(caughtUp?.outcome, 'advanced');
      assert.equal(connector.health().state, 'CLOSED');
      const [call] = recording.calls;
      assert.ok(call);
      assert.deepEqual(byId(call.events), [
        shipmentEvent(await orderNow(f.staff(), order.id), 'CANCELLED', 'CANCELLED'),
        stockEvent(seed, (await rowNow(f.staff(), seed.sku)).lastModifiedDate, {
          onHand: 0,
          allocated: 0,
        }),
      ]);
      assert.equal(await stored(), caughtUp?.checkpoint);
    });

    test('a failing feed does not hold up the others, even when onError throws', async () => {
      const recording = recorder();
      const errors: string[] = [];
      const poller = f.poller({
        feeds: [f.connector('wms'), f.connector('tpl')],
        store,
        apply: recording.apply,
        onError: (_error, source) => {
          errors.push(source);
          throw new Error('the reporter itself fails');
        },
      });
      f.sandbox().tpl.control.setFaults({ down: true });
      const first = await poller.pollOnce();
      assert.deepEqual(
        first.map((result) => [result.source, result.outcome]),
        [
          ['wms', 'baseline'],
          ['tpl', 'failed'],
        ],
      );
      const second = await poller.pollOnce();
      assert.deepEqual(
        second.map((result) => [result.source, result.outcome]),
        [
          ['wms', 'unchanged'],
          ['tpl', 'failed'],
        ],
      );
      assert.deepEqual(errors, ['tpl', 'tpl']);
      assert.equal(await stored(), null);
      assert.equal(
        (await store.checkpoints.get(pollCheckpointName('wms')))?.value,
        first[0]?.checkpoint,
      );
    });

    test('a delivered order comes as DELIVERED (sandbox carrier feed)', async () => {
      const { recording, poller } = await baselined(f.connector());
      const seed = seedRow(0);
      const order = await createOrder(f.staff(), 'XD-DELIVER-1', [[seed.sku, 1]]);
      await operate(f.staff(), order, 'confirmer', { trackingNumber: 'TRK-DELIVER-1' });
      const res = await fetch(`${f.sandbox().tpl.url}/_carrier/${order.id}/delivered`, {
        method: 'POST',
      });
      assert.equal(res.status, 200, await res.text());
      await poller.pollOnce();
      const shipped = shipmentEvent(await orderNow(f.staff(), order.id), 'DELIVERED', 'SHIPPED');
      const events = recording.calls.flatMap((call) => call.events);
      assert.deepEqual(
        events.filter((event) => event.type === 'shipment'),
        [{ ...shipped, shipment: { ...shipped.shipment, status: 'DELIVERED' } }],
      );
    });

    test('a stock adjustment comes as a snapshot of the row (delta null)', async () => {
      const { recording, poller } = await baselined(f.connector());
      const seed = seedRow(1);
      const res = await f.staff().call('POST', '/inventory/adjustments', {
        facilityId: FACILITY.id,
        adjustmentItems: [{ itemIdentifier: { sku: seed.sku }, qty: 5, reason: 'cycle count' }],
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      await poller.pollOnce();
      const events = recording.calls.flatMap((call) => call.events);
      assert.deepEqual(events, [
        stockEvent(seed, (await rowNow(f.staff(), seed.sku)).lastModifiedDate, {
          onHand: 5,
          allocated: 0,
        }),
      ]);
    });

    test('ticks never overlap, and close() waits for the tick in flight', async () => {
      const connector = f.connector();
      const gate = deferred();
      const entered = deferred();
      let active = 0;
      let most = 0;
      let calls = 0;
      const gated: Feed = {
        ...connector,
        async changesSince(checkpoint) {
          calls++;
          active++;
          most = Math.max(most, active);
          entered.resolve();
          try {
            await gate.promise;
            return await connector.changesSince(checkpoint);
          } finally {
            active--;
          }
        },
      };
      const poller = createPoller({
        feeds: [gated],
        store,
        apply: recorder().apply,
        intervalMs: 60_000,
        onError: (error) => assert.fail(String(error)),
      });
      const first = poller.pollOnce();
      const second = poller.pollOnce();
      await entered.promise;
      let closed = false;
      const closing = poller.close().then(() => (closed = true));
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(calls, 1, 'the second tick waits for the first');
      assert.equal(closed, false, 'close waits for the tick in flight');
      gate.resolve();
      const [firstResults, secondResults] = await Promise.all([first, second, closing]);
      assert.equal(firstResults[0]?.outcome, 'baseline');
      assert.equal(secondResults[0]?.outcome, 'unchanged');
      assert.equal(most, 1);
      await assert.rejects(poller.pollOnce(), { message: 'poller: pollOnce() after close()' });
    });

    test('start() polls at once and then every intervalMs; nothing after close()', async () => {
      const connector = f.connector();
      let calls = 0;
      const third = deferred();
      const counted: Feed = {
        ...connector,
        async changesSince(checkpoint) {
          calls++;
          if (calls === 3) third.resolve();
          return connector.changesSince(checkpoint);
        },
      };
      const poller = createPoller({
        feeds: [counted],
        store,
        apply: recorder().apply,
        intervalMs: 10,
        onError: (error) => assert.fail(String(error)),
      });
      poller.start();
      poller.start();
      await third.promise;
      await poller.close();
      const after = calls;
      assert.match((await stored()) ?? '', ISO_INSTANT);
      // Proving that nothing happens takes a wait: ten intervals without a tick.
      await new Promise<void>((resolve) => setTimeout(resolve, 100));
      assert.equal(calls, after);
      poller.start();
      await new Promise<void>((resolve) => setTimeout(resolve, 30));
      assert.equal(calls, after, 'start() after close() is ignored');
    });
  });
}

describe('poller options', () => {
  const feed = { name: 'tpl' } as Feed;
  const base: PollerOptions = {
    feeds: [feed],
    store: { checkpoints: { get: async () => null, advance: async () => true } },
    apply: async () => ({ published: 0 }),
    intervalMs: 1_000,
    onError: () => undefined,
  };
  const bad: readonly [string, Partial<PollerOptions>, string][] = [
    [
      'intervalMs 0',
      { intervalMs: 0 },
      'poller: expected intervalMs to be a positive integer, got 0',
    ],
    [
      'a fractional intervalMs',
      { intervalMs: 1.5 },
      'poller: expected intervalMs to be a positive integer, got 1.5',
    ],
    [
      'intervalMs NaN',
      { intervalMs: Number.NaN },
      'poller: expected intervalMs to be a positive integer, got NaN',
    ],
    [
      'two feeds of one source',
      { feeds: [feed, feed] },
      'poller: expected one feed per source, got "tpl" twice (they would share a checkpoint)',
    ],
  ];
  for (const [what, overrides, message] of bad) {
    test(`refuses ${what}`, () => {
      assert.throws(() => createPoller({ ...base, ...overrides }), { name: 'TypeError', message });
    });
  }
});

/**
 * Live events beyond order status: the fan-out (one bus subscription per domain shared by every
 * subscriber, handover of resuming subscribers, bounded queues) over both buses, then
 * `shipmentUpdated` and `inventoryChanged` over graphql-ws, and a slow consumer closed with 1008
 * while a fast one on the same server receives everything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { buildWorld, stableGuid, type SeedWorld } from '../sandbox/seed.js';
import type { DeliveredEvent, EventBus } from '../subscriptions/bus.js';
import {
  inventoryEvent,
  shipmentEvent,
  type InventoryEventPayload,
  type ShipmentEventPayload,
} from '../subscriptions/events.js';
import {
  SlowConsumerError,
  StreamInterruptedError,
  createFanout,
} from '../subscriptions/fanout.js';
import { createMemoryBus } from '../subscriptions/memory-bus.js';
import { EVENT_DOMAINS } from '../subscriptions/bus.js';
import { createNatsBus } from '../subscriptions/nats-bus.js';
import { natsUrl } from './support/nats.js';
import { erpCompanyUrl, erpToken } from './support/sandbox-api.js';
import { orderIdOf, placeOrder } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';
import { collectLive as collectLiveOn, wsClient, wsClients } from './support/ws.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const run = `XDFAN_${Math.random().toString(36).slice(2, 10).toUpperCase()}`;
let counter = 0;
const at = '2026-11-27T08:00:00.000Z';

const stock = (sku: string, warehouseCode = 'EAST', extra: Partial<InventoryEventPayload> = {}) =>
  inventoryEvent(
    { id: `${run}-inv-${++counter}`, at, correlationId: null },
    {
      sku,
      warehouseCode,
      source: 'wms',
      onHand: counter,
      available: counter,
      allocated: 0,
      delta: 1,
      reason: null,
      occurredAt: at,
      ...extra,
    },
  );

async function take<T>(iterator: AsyncIterator<T>, count: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < count) {
    const r = await iterator.next();
    assert.equal(r.done, false, `ended after ${out.length} of ${count}`);
    out.push(r.value);
  }
  return out;
}

const seqs = (events: readonly DeliveredEvent[]) =>
  events.map((e) => Number(e.cursor.split(':')[1]));

interface BusUnderTest {
  readonly name: string;
  open(): Promise<EventBus>;
  dispose(): Promise<void>;
}

const buses: BusUnderTest[] = [
  {
    name: 'memory',
    open: async () => createMemoryBus(),
    dispose: async () => undefined,
  },
  (() => {
    const prefixes: string[] = [];
    return {
      name: 'nats',
      async open() {
        const prefix = `${run}_${prefixes.length}`;
        prefixes.push(prefix);
        return createNatsBus({ servers: await natsUrl(), streamPrefix: prefix });
      },
      async dispose() {
        // Leave the (possibly shared) server as we found it.
        const nc = await connect({ servers: await natsUrl() });
        const jsm = await jetstreamManager(nc);
        for (const prefix of prefixes)
          for (const domain of EVENT_DOMAINS)
            await jsm.streams.delete(`${prefix}_${domain.toUpperCase()}`).catch(() => false);
        await nc.close();
      },
    };
  })(),
];

for (const implementation of buses) {
  describe(`fan-out over the ${implementation.name} bus`, () => {
    after(() => implementation.dispose());

    it('shares one bus subscription per domain; each subscriber gets what its filter selects', async () => {
      const bus = await implementation.open();
      const fanout = createFanout(bus);
      try {
        const all = fanout.subscribe<InventoryEventPayload>('inventory', {});
        const onlyA = fanout.subscribe<InventoryEventPayload>('inventory', {
          filter: (e) => e.payload.sku === 'SKU-A',
        });
        const a = all[Symbol.asyncIterator]();
        const b = onlyA[Symbol.asyncIterator]();
        // Published after both subscribed: both see them.
        for (const sku of ['SKU-A', 'SKU-B', 'SKU-A', 'SKU-C']) await fanout.publish(stock(sku));
        const everything = await take(a, 4);
        const filtered = await take(b, 2);
        assert.deepEqual(
          everything.map((e) => e.payload.sku),
          ['SKU-A', 'SKU-B', 'SKU-A', 'SKU-C'],
        );
        assert.deepEqual(
          filtered.map((e) => e.cursor),
          [everything[0]?.cursor, everything[2]?.cursor],
        );
        assert.deepEqual(fanout.stats(), {
          subscribers: 2,
          started: 2,
          busSubscriptions: 1,
          slowConsumers: 0,
          handovers: 0,
          duplicatesDropped: 0,
        });
        await a.return?.();
        await b.return?.();
        assert.equal(fanout.stats().subscribers, 0);
      } finally {
        await fanout.close();
        await bus.close();
      }
    });

    it('replays after a cursor, then hands over to the shared subscription without a gap or a duplicate', async () => {
      const bus = await implementation.open();
      const fanout = createFanout(bus);
      try {
        const live = fanout.subscribe<InventoryEventPayload>('inventory', {});
        const liveIt = live[Symbol.asyncIterator]();
        for (let i = 0; i < 10; i++) await fanout.publish(stock(`SKU-${i}`));
        const first = await take(liveIt, 10);
        const from = first[2];
        assert.ok(from);
        const resumed = fanout.subscribe<InventoryEventPayload>('inventory', {
          after: from.cursor,
        });
        const resumedIt = resumed[Symbol.asyncIterator]();
        const replayed = await take(resumedIt, 7);
        assert.deepEqual(seqs(replayed), seqs(first.slice(3)));
        assert.equal(
          fanout.stats().busSubscriptions,
          2,
          'the replay has a subscription of its own',
        );
        for (let i = 10; i < 15; i++) await fanout.publish(stock(`SKU-${i}`));
        const more = await take(resumedIt, 5);
        const liveMore = await take(liveIt, 5);
        assert.deepEqual(seqs(more), seqs(liveMore));
        assert.equal(new Set(seqs([...replayed, ...more])).size, 12);
        assert.equal(fanout.stats().handovers, 1);
        assert.equal(fanout.stats().busSubscriptions, 1, 'back to the shared subscription');
        // Filtered resumes see only their events, still in order.
        const filtered = fanout.subscribe<InventoryEventPayload>('inventory', {
          after: from.cursor,
          filter: (e) => e.payload.sku === 'SKU-4' || e.payload.sku === 'SKU-12',
        });
        assert.deepEqual(
          (await take(filtered[Symbol.asyncIterator](), 2)).map((e) => e.payload.sku),
          ['SKU-4', 'SKU-12'],
        );
        await filtered.return();
        await resumed.return();
        await live.return();
      } finally {
        await fanout.close();
        await bus.close();
      }
    });

    it('fails a subscriber that falls behind its buffer, without holding back the others', async () => {
      const bus = await implementation.open();
      const fanout = createFanout(bus, { bufferSize: 5 });
      try {
        const slow = fanout.subscribe<InventoryEventPayload>('inventory', {});
        const fast = fanout.subscribe<InventoryEventPayload>('inventory', {});
        const slowIt = slow[Symbol.asyncIterator]();
        const fastIt = fast[Symbol.asyncIterator]();
        const received: DeliveredEvent<InventoryEventPayload>[] = [];
        for (let i = 0; i < 8; i++) {
          await fanout.publish(stock(`SKU-S${i}`));
          received.push(...(await take(fastIt, 1)));
        }
        assert.equal(received.length, 8);
        await assert.rejects(slowIt.next(), (error: unknown) => {
          assert.ok(error instanceof SlowConsumerError);
          assert.match(error.message, /more than 5 events waiting/);
          return true;
        });
        assert.equal(fanout.stats().slowConsumers, 1);
        assert.equal(fanout.stats().subscribers, 1);
        await fanout.publish(stock('SKU-after'));
        assert.equal((await take(fastIt, 1))[0]?.payload.sku, 'SKU-after');
        await fast.return();
      } finally {
        await fanout.close();
        await bus.close();
      }
    });

    it('tells every subscriber to resume when the shared stream ends under it', async () => {
      const bus = await implementation.open();
      const fanout = createFanout(bus);
      const sub = fanout.subscribe<InventoryEventPayload>('inventory', {});
      const it = sub[Symbol.asyncIterator]();
      await fanout.publish(stock('SKU-last'));
      const [last] = await take(it, 1);
      await bus.close(); // the bus goes away under the fan-out
      await assert.rejects(it.next(), StreamInterruptedError);
      assert.ok(last);
      await fanout.close();
    });
  });
}

// ---------------------------------------------------------------------------------------------
// graphql-ws: shipmentUpdated and inventoryChanged
// ---------------------------------------------------------------------------------------------

describe('shipmentUpdated and inventoryChanged over graphql-ws', () => {
  let stack: Stack;
  let world: SeedWorld;
  const ws = wsClients();

  before(async () => {
    world = buildWorld({ catalogSize: 100 });
    stack = await startStack({ world });
  });
  after(async () => {
    await ws.disposeAll();
    await stack.close();
  });

  /**
   * Subscribes and collects `count` results; `ready` resolves once the server holds the
   * subscription (the fan-out's `started`). One at a time: await `ready` before the next.
   */
  const collectLive = (
    c: Client,
    query: string,
    variables: Record<string, unknown>,
    count: number,
  ) => collectLiveOn(stack, c, query, variables, count);

  const shipped = (
    orderId: string,
    channel: string,
    kind: ShipmentEventPayload['kind'],
    status: string,
  ) =>
    shipmentEvent(
      { id: `${run}-shp-${++counter}`, at, correlationId: null },
      {
        kind,
        shipmentId: `wms:${counter}`,
        source: 'wms',
        warehouseCode: 'EAST',
        orderId,
        orderNumber: `${orderId}-EAST-1`,
        channel,
        customerNumber: 'C-1',
        status,
        carrier: 'UPS',
        trackingNumber: `1Z${counter}`,
        lines: [{ sku: 'SKU-000001', quantity: 1 }],
        occurredAt: at,
      },
    );

  const SHIPMENTS = `subscription($orderId: ID, $after: String) { shipmentUpdated(orderId: $orderId, after: $after) {
    cursor kind status trackingNumber carrier warehouse { code } lines { sku quantity } occurredAt order { id status } } }`;

  it('streams the shipment events of one order, with its order, and resumes after a cursor', async () => {
    const { globalId: orderGid, id: orderId } = await placeOrder(stack, 'live-shp-1', {
      channel: 'B2B_PORTAL',
    });
    const other = await placeOrder(stack, 'live-shp-2', { channel: 'B2B_PORTAL' });
    const sub = collectLive(ws.client(stack), SHIPMENTS, { orderId: orderGid }, 3);
    await sub.ready;
    await stack.running.bus.publish(shipped(orderId, 'B2B_PORTAL', 'CREATED', 'PENDING'));
    await stack.running.bus.publish(shipped(other.id, 'B2B_PORTAL', 'CREATED', 'PENDING'));
    await stack.running.bus.publish(shipped(orderId, 'B2B_PORTAL', 'SHIPPED', 'SHIPPED'));
    await stack.running.bus.publish(shipped(orderId, 'B2B_PORTAL', 'DELIVERED', 'DELIVERED'));
    const events = (await sub.done).map((r) => r.data?.shipmentUpdated);
    assert.deepEqual(
      events.map((e) => [e.kind, e.status]),
      [
        ['CREATED', 'PENDING'],
        ['SHIPPED', 'SHIPPED'],
        ['DELIVERED', 'DELIVERED'],
      ],
    );
    for (const e of events) {
      assert.equal(e.order.id, orderGid);
      assert.equal(e.warehouse.code, 'EAST');
      assert.equal(e.carrier, 'UPS');
      assert.deepEqual(e.lines, [{ sku: 'SKU-000001', quantity: 1 }]);
    }
    const resumed = collectLive(
      ws.client(stack),
      SHIPMENTS,
      { orderId: orderGid, after: events[0].cursor },
      2,
    );
    assert.deepEqual(
      (await resumed.done).map((r) => r.data?.shipmentUpdated.cursor),
      [events[1].cursor, events[2].cursor],
    );
  });

  it('gives a channel-scoped key the shipments of its channel only', async () => {
    const own = (await placeOrder(stack, 'live-shp-own', { channel: 'MARKETPLACE_A' })).id;
    const foreign = (await placeOrder(stack, 'live-shp-foreign', { channel: 'B2B_PORTAL' })).id;
    const sub = collectLive(ws.client(stack, { key: 'demo-partner-a' }), SHIPMENTS, {}, 2);
    await sub.ready;
    await stack.running.bus.publish(shipped(foreign, 'B2B_PORTAL', 'SHIPPED', 'SHIPPED'));
    await stack.running.bus.publish(shipped(own, 'MARKETPLACE_A', 'SHIPPED', 'SHIPPED'));
    await stack.running.bus.publish(shipped(foreign, 'B2B_PORTAL', 'DELIVERED', 'DELIVERED'));
    await stack.running.bus.publish(shipped(own, 'MARKETPLACE_A', 'DELIVERED', 'DELIVERED'));
    const events = (await sub.done).map((r) => r.data?.shipmentUpdated);
    assert.deepEqual(
      events.map((e) => [e.kind, orderIdOf(e.order.id)]),
      [
        ['SHIPPED', own],
        ['DELIVERED', own],
      ],
    );
  });

  const STOCK = `subscription($skus: [String!], $warehouses: [String!], $after: String) {
    inventoryChanged(skus: $skus, warehouses: $warehouses, after: $after) {
      cursor sku warehouse { code } onHand available allocated delta reason occurredAt source } }`;

  it('streams stock changes filtered by SKU and warehouse', async () => {
    const [sku1, sku2] = [world.products[0]?.sku ?? '', world.products[1]?.sku ?? ''];
    const bySku = collectLive(ws.client(stack), STOCK, { skus: [sku1] }, 2);
    await bySku.ready;
    const byWarehouse = collectLive(ws.client(stack), STOCK, { warehouses: ['WEST'] }, 2);
    await byWarehouse.ready;
    const both = collectLive(ws.client(stack), STOCK, { skus: [sku2], warehouses: ['WEST'] }, 1);
    await both.ready;
    await stack.running.bus.publish(stock(sku1, 'EAST', { delta: -3, reason: 'Cycle count' }));
    await stack.running.bus.publish(stock(sku2, 'EAST'));
    await stack.running.bus.publish(stock(sku1, 'WEST'));
    await stack.running.bus.publish(stock(sku2, 'WEST', { delta: null }));
    const a = (await bySku.done).map((r) => r.data?.inventoryChanged);
    const b = (await byWarehouse.done).map((r) => r.data?.inventoryChanged);
    const c = (await both.done).map((r) => r.data?.inventoryChanged);
    assert.deepEqual(
      a.map((e) => [e.sku, e.warehouse.code]),
      [
        [sku1, 'EAST'],
        [sku1, 'WEST'],
      ],
    );
    assert.equal(a[0].delta, -3);
    assert.equal(a[0].reason, 'Cycle count');
    assert.equal(a[0].source, 'wms');
    assert.deepEqual(
      b.map((e) => [e.sku, e.warehouse.code]),
      [
        [sku1, 'WEST'],
        [sku2, 'WEST'],
      ],
    );
    assert.deepEqual(
      c.map((e) => [e.sku, e.warehouse.code, e.delta]),
      [[sku2, 'WEST', null]],
    );
  });

  it('refuses bad arguments with BAD_USER_INPUT naming the argument', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ skus: [] }, 'skus'],
      [{ skus: Array.from({ length: 251 }, (_, i) => `SKU-${i}`) }, 'skus'],
      [{ warehouses: ['EAST', 'no such.code'] }, 'warehouses[1]'],
      [{ after: 'inventory:x' }, 'after'],
    ];
    for (const [variables, argument] of cases) {
      const [result] = await collectLive(ws.client(stack), STOCK, variables, 1).done;
      const error = result?.errors?.[0];
      assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(result));
      assert.equal(error?.extensions?.argument, argument);
    }
  });
  const CREDIT = `subscription($customerId: ID, $after: String) {
    customerCreditChanged(customerId: $customerId, after: $after) {
      cursor blocked previousBlocked occurredAt customer { number blocked } } }`;

  it('streams a credit hold set in the ERP: PATCH → signed webhook → ingestion → subscriber', async () => {
    const target = world.customers.find((c) => c.blocked === ' ');
    const other = world.customers.find((c) => c.blocked === ' ' && c !== target);
    assert.ok(target && other);
    // The other customer's hold reaches the bus before the target's: a subscriber the customerId
    // filter did not hold back would receive it first.
    const watcher = collectLive(ws.client(stack), CREDIT, { customerId: other.number }, 1);
    await watcher.ready;
    const sub = collectLive(ws.client(stack), CREDIT, { customerId: target.number }, 2);
    await sub.ready;
    const token = await erpToken(stack.sandbox);
    const patch = (number: string, blocked: string) =>
      fetch(`${erpCompanyUrl(stack.sandbox)}/customers(${stableGuid(`customer:${number}`)})`, {
        method: 'PATCH',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'if-match': '*',
        },
        body: JSON.stringify({ blocked }),
      });
    assert.equal((await patch(other.number, 'All')).status, 200); // not this subscriber's
    const [otherHold] = await watcher.done;
    assert.equal(otherHold?.data?.customerCreditChanged.customer.number, other.number);
    assert.equal((await patch(target.number, 'All')).status, 200);
    assert.equal((await patch(target.number, ' ')).status, 200);
    const events = (await sub.done).map((r) => r.data?.customerCreditChanged);
    assert.deepEqual(
      events.map((e) => [e.blocked, e.previousBlocked]),
      [
        ['ALL', 'NONE'],
        ['NONE', 'ALL'],
      ],
    );
    assert.deepEqual(
      events.map((e) => e.customer.number),
      [target.number, target.number],
    );
    assert.equal(events[1].customer.blocked, 'NONE');
    // A partner key may not read customers, live or not.
    const [refused] = await collectLive(ws.client(stack, { key: 'demo-partner-a' }), CREDIT, {}, 1)
      .done;
    assert.equal(refused?.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  });
});

// ---------------------------------------------------------------------------------------------
// A slow consumer over a real socket
// ---------------------------------------------------------------------------------------------

describe('a slow consumer over graphql-ws', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ catalogSize: 20, env: { WS_SUBSCRIBER_BUFFER: '50' } });
  });
  after(() => stack.close());

  it('is closed with 1008 and a reason, while a fast subscriber on the same server gets everything', async () => {
    const url = stack.crossdock.url.replace('http', 'ws');
    const query = 'subscription { inventoryChanged { cursor reason } }';
    // A raw socket that subscribes, then stops reading.
    const slow = new WebSocket(url, 'graphql-transport-ws');
    const frames: Json[] = [];
    let acked: () => void = () => undefined;
    const ack = new Promise<void>((resolve) => (acked = resolve));
    slow.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Json;
      frames.push(frame);
      if (frame.type === 'connection_ack') acked();
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      slow.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    await new Promise((resolve) => slow.on('open', resolve));
    slow.send(
      JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer demo-admin' } }),
    );
    await ack;
    // Both subscribers registered with the fan-out: two of its 'started' events.
    const { events } = stack.crossdock.subscriptions;
    const bothStarted = new Promise<void>((resolve) => {
      let started = 0;
      const onStarted = () => {
        if (++started < 2) return;
        events.off('started', onStarted);
        resolve();
      };
      events.on('started', onStarted);
    });
    slow.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query } }));

    const fast = wsClient(stack);
    const received: string[] = [];
    let wake: (() => void) | null = null;
    fast.subscribe<Json>(
      { query },
      {
        next: (value) => {
          received.push(String(value.data?.inventoryChanged.cursor));
          wake?.();
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
    await bothStarted;
    assert.equal(stack.crossdock.subscriptions.stats().subscribers, 2);
    slow.pause(); // from now on the slow client reads nothing: the kernel buffers fill up

    // Big events in batches the fast client keeps up with; the slow one falls behind.
    const reason = 'x'.repeat(4096);
    const total = 3_000;
    for (let i = 0; i < total; i += 25) {
      for (let j = 0; j < 25; j++)
        await stack.running.bus.publish(stock(`SKU-${i + j}`, 'EAST', { reason }));
      while (received.length < i + 25) await new Promise<void>((resolve) => (wake = resolve));
    }
    assert.equal(received.length, total);
    assert.equal(new Set(received).size, total);
    assert.equal(stack.crossdock.subscriptions.stats().slowConsumers, 1);
    // Operators see it too.
    const ready = (await (
      await fetch(url.replace('ws', 'http').replace('/graphql', '/readyz'))
    ).json()) as Json;
    assert.equal(ready.subscriptions.slowConsumers, 1);
    assert.equal(ready.subscriptions.duplicatesDropped, 0);

    slow.resume(); // read what was sent before the close
    const { code, reason: why } = await closed;
    assert.equal(code, 1008);
    assert.match(why, /Slow consumer/);
    const error = frames.find((f) => f.type === 'error' && f.id === 'slow');
    assert.equal(error?.payload?.[0]?.extensions?.code, 'SLOW_CONSUMER');
    assert.ok(frames.filter((f) => f.type === 'next').length < total);
    await fast.dispose();
  });
});

/**
 * Live events at scale over graphql-ws on NATS JetStream (issue #4): 1,000 concurrent subscribers
 * on one shared bus subscription, each receiving exactly what its filter selects; clients that
 * resume by cursor across a broker restart in the middle of a stream of events; and a client
 * resuming from an old cursor under load, handed over to the shared subscription.
 *
 * The first and last suites use NATS_URL (CI: the shared 127.0.0.1:4222) or a private nats-server;
 * the restart suite always starts a server of its own. Every suite has a stream prefix of its own
 * and deletes its streams afterwards.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'graphql-ws';
import {
  type BusEvent,
  type DeliveredEvent,
  type EventBus,
  type EventDomain,
} from '../subscriptions/bus.js';
import {
  inventoryEvent,
  orderStatusEvent,
  type InventoryEventPayload,
} from '../subscriptions/events.js';
import { fanoutReaches } from './support/fanout.js';
import { deleteStreamsOf, natsUrl, startNatsServer, type NatsServer } from './support/nats.js';
import { startStack, type Stack } from './support/stack.js';
import {
  openCursor,
  sealCursor,
  wsClient,
  wsClients,
  type WsClients,
  type WsResult,
} from './support/ws.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const AT = '2026-11-27T09:00:00.000Z';
const T0 = Date.parse(AT);
const SKUS = ['XD-SCALE-A', 'XD-SCALE-B', 'XD-SCALE-C', 'XD-SCALE-D', 'XD-SCALE-E'] as const;
const [SKU_A, SKU_B, SKU_C, SKU_D, SKU_E] = SKUS;
const WAREHOUSES = ['EAST', 'WEST', 'NORTH'] as const;

const INVENTORY_SUB = `subscription($skus: [String!], $warehouses: [String!], $after: String) {
  inventoryChanged(skus: $skus, warehouses: $warehouses, after: $after) {
    cursor sku warehouse { code } onHand } }`;
const ORDER_SUB = `subscription($after: String) { orderStatusChanged(after: $after) { cursor status at } }`;

/** A stream prefix for one suite: runs sharing a server never share streams. */
const newPrefix = () => `XDTEST_${randomUUID().slice(0, 8).toUpperCase()}`;

/** An inventory event whose on-hand is its index: what a client receives names the event. */
const stock = (id: string, index: number, sku: string, warehouseCode: string) =>
  inventoryEvent(
    { id, at: AT, correlationId: null },
    {
      sku,
      warehouseCode,
      source: 'wms',
      onHand: index,
      available: index,
      allocated: 0,
      delta: 1,
      reason: null,
      occurredAt: AT,
    },
  );

/** An order status event whose `at` is one second per index after T0. */
const orderStatus = (id: string, index: number) =>
  orderStatusEvent(
    { id, at: new Date(T0 + index * 1000).toISOString(), correlationId: null },
    {
      orderId: `XD-SCALE-${index}`,
      erpNumber: null,
      channel: 'EDI',
      customerNumber: 'C-SCALE',
      status: 'ALLOCATED',
      previousStatus: 'RECEIVED',
    },
  );

/** What names an inventory event (its index) and what it says, as compared on both sides. */
const inventoryKey = (index: unknown, sku: unknown, warehouse: unknown) =>
  `#${String(index)} ${String(sku)}@${String(warehouse)}`;

/** What names an event on both sides: a bus event's, and a received GraphQL event's. */
const keyOfBusEvent = (event: BusEvent): string => {
  if (event.domain !== 'inventory') return `at=${event.at}`;
  const p = event.payload as InventoryEventPayload;
  return inventoryKey(p.onHand, p.sku, p.warehouseCode);
};
const keyOfReceived = (domain: EventDomain, data: Json): string =>
  domain === 'inventory'
    ? inventoryKey(data.onHand, data.sku, data.warehouse?.code)
    : `at=${String(data.at)}`;

/** Every event of a domain from the start of its (fresh) stream up to `untilId`: the truth. */
async function readStream(
  bus: EventBus,
  domain: EventDomain,
  untilId: string,
): Promise<DeliveredEvent[]> {
  const iterator = bus.subscribe(domain, { after: `${domain}:0` })[Symbol.asyncIterator]();
  const out: DeliveredEvent[] = [];
  try {
    for (;;) {
      const r = await iterator.next();
      if (r.done) throw new Error(`the ${domain} stream ended before ${untilId}`);
      out.push(r.value);
      if (r.value.id === untilId) return out;
    }
  } finally {
    await iterator.return?.();
  }
}

const sequenceOf = (cursor: string): number => Number(cursor.split(':')[1]);

/** Asserts cursors strictly increase (which also rules out duplicates). */
function assertIncreasing(cursors: readonly string[], who: string): void {
  for (let i = 1; i < cursors.length; i++) {
    const [previous, current] = [cursors[i - 1] ?? '', cursors[i] ?? ''];
    assert.ok(
      sequenceOf(current) > sequenceOf(previous),
      `${who}: cursor ${current} after ${previous}`,
    );
  }
}

const connected = (client: Client) =>
  new Promise<void>((resolve) => {
    const off = client.on('connected', () => {
      off();
      resolve();
    });
  });

/** A received inventory event, as compared with the truth. */
interface Received {
  readonly cursor: string;
  readonly key: string;
}

/**
 * Subscribes once; resolves with everything received when the event keyed `lastKey()` arrives
 * (asked at each event: a test may learn the key after subscribing), rejects when the
 * subscription errors or completes before it.
 */
/** What a subscriber received so far, with a promise for "at least n events". */
class Sink {
  readonly items: Received[] = [];
  readonly #waiters = new Set<{ readonly n: number; readonly resolve: () => void }>();
  push(received: Received): void {
    this.items.push(received);
    for (const w of this.#waiters)
      if (this.items.length >= w.n) {
        this.#waiters.delete(w);
        w.resolve();
      }
  }
  /** Resolves once `n` events arrived; rejects after `timeoutMs`, saying how many did. */
  reached(n: number, timeoutMs = 30_000): Promise<void> {
    if (this.items.length >= n) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${n} events: ${this.items.length} arrived in ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.add(waiter);
    });
  }
}

function collectUntil(
  client: Client,
  domain: EventDomain,
  variables: Record<string, unknown>,
  lastKey: () => string,
  sink = new Sink(),
): Promise<Received[]> {
  const field = domain === 'inventory' ? 'inventoryChanged' : 'orderStatusChanged';
  return new Promise((resolve, reject) => {
    const stop = client.subscribe<Json>(
      { query: domain === 'inventory' ? INVENTORY_SUB : ORDER_SUB, variables },
      {
        next: (value: WsResult) => {
          const data = value.data?.[field] as Json | undefined;
          if (value.errors || !data) {
            stop();
            reject(new Error(`errors in a result: ${JSON.stringify(value.errors)}`));
            return;
          }
          const received = {
            cursor: openCursor(String(data.cursor)),
            key: keyOfReceived(domain, data),
          };
          sink.push(received);
          if (received.key === lastKey()) {
            stop();
            resolve(sink.items);
          }
        },
        error: (error) =>
          reject(
            new Error(`subscription failed after ${sink.items.length}: ${JSON.stringify(error)}`),
          ),
        complete: () =>
          reject(new Error(`subscription completed after ${sink.items.length} events`)),
      },
    );
  });
}

/** A suite's stack on NATS_URL with stream prefix `prefix`, and its graphql-ws clients. */
interface NatsSuite {
  /** The stack, once the suite's `before` has started it. */
  readonly stack: Stack | undefined;
  /** Clients disposed of after the suite. */
  readonly ws: WsClients;
}

/**
 * Starts a stack on NATS_URL (or a private nats-server) before the suite; after it, disposes of
 * the clients, closes the stack and deletes the suite's streams.
 */
function stackOnNatsUrl(prefix: string): NatsSuite {
  let servers: string | undefined;
  let stack: Stack | undefined;
  const ws = wsClients();
  before(async () => {
    servers = await natsUrl();
    stack = await startStack({
      catalogSize: 20,
      env: { NATS_URL: servers, NATS_STREAM_PREFIX: prefix, WS_MAX_SOCKETS_PER_KEY: '10000' },
    });
  });
  after(
    async () => {
      // Whatever failed before, the stack is closed: a process left running hangs the suite.
      try {
        await ws.disposeAll();
      } finally {
        try {
          await stack?.close();
        } finally {
          if (servers) await deleteStreamsOf(servers, prefix);
        }
      }
    },
    { timeout: 30_000 },
  );
  return {
    get stack() {
      return stack;
    },
    ws,
  };
}

describe('1,000 concurrent subscribers on one Crossdock', () => {
  const SUBSCRIBERS = 1_000;
  const EVENTS = 20;
  const prefix = newPrefix();
  const suite = stackOnNatsUrl(prefix);

  /** Filters as a table; the last event (SKU_A at EAST) matches every one of them. */
  const FILTERS: readonly { skus?: string[]; warehouses?: string[] }[] = [
    {},
    { skus: [SKU_A] },
    { skus: [SKU_A, SKU_B] },
    { warehouses: ['EAST'] },
    { skus: [SKU_A, SKU_C], warehouses: ['WEST', 'EAST'] },
    { skus: [SKU_A, SKU_D, SKU_E], warehouses: ['EAST'] },
  ];
  const selects = (filter: (typeof FILTERS)[number], sku: string, warehouse: string) =>
    (filter.skus === undefined || filter.skus.includes(sku)) &&
    (filter.warehouses === undefined || filter.warehouses.includes(warehouse));

  it(
    'delivers every event to every subscriber its filter selects, on ONE bus subscription',
    { timeout: 60_000 },
    async (t) => {
      const s = suite.stack;
      assert.ok(s);
      const started = performance.now();
      const pending: Promise<Received[]>[] = [];
      const lastKey = inventoryKey(EVENTS, SKU_A, 'EAST');
      // Connect in batches: a thousand simultaneous connects would overflow the listen backlog.
      for (let batch = 0; batch < SUBSCRIBERS; batch += 100) {
        const opened: Promise<void>[] = [];
        for (let i = batch; i < Math.min(batch + 100, SUBSCRIBERS); i++) {
          const client = suite.ws.client(s, { lazy: false });
          opened.push(connected(client));
          const filter = FILTERS[i % FILTERS.length] ?? {};
          pending.push(collectUntil(client, 'inventory', { ...filter }, () => lastKey));
        }
        await Promise.all(opened);
      }
      // Subscribed = the fan-out holds the subscriber: from then on, every publish reaches it.
      await fanoutReaches(
        s.crossdock.subscriptions,
        `${SUBSCRIBERS} subscribers`,
        (x) => x.subscribers === SUBSCRIBERS,
      );
      const subscribedMs = performance.now() - started;
      assert.equal(
        s.crossdock.subscriptions.stats().busSubscriptions,
        1,
        'one shared subscription',
      );

      const published: { id: string; index: number; sku: string; warehouse: string }[] = [];
      for (let index = 1; index <= EVENTS; index++) {
        const last = index === EVENTS;
        const sku = last ? SKU_A : (SKUS[index % SKUS.length] ?? SKU_A);
        const warehouse = last ? 'EAST' : (WAREHOUSES[index % WAREHOUSES.length] ?? 'EAST');
        const id = `${prefix}-inv-${index}`;
        published.push({ id, index, sku, warehouse });
        await s.running.bus.publish(stock(id, index, sku, warehouse));
      }
      const delivering = performance.now();
      const results = await Promise.all(pending);
      const deliveredMs = performance.now() - delivering;

      // Still 1,000 live subscribers on one bus subscription, none failed.
      assert.deepEqual(s.crossdock.subscriptions.stats(), {
        subscribers: SUBSCRIBERS,
        started: SUBSCRIBERS,
        busSubscriptions: 1,
        slowConsumers: 0,
        handovers: 0,
        duplicatesDropped: 0,
      });

      const truth = await readStream(s.running.bus, 'inventory', published.at(-1)?.id ?? '');
      assert.deepEqual(
        truth.map((e) => e.id),
        published.map((p) => p.id),
        'the stream holds exactly what was published, in order',
      );
      const cursorOf = new Map(truth.map((e) => [e.id, e.cursor]));
      let deliveries = 0;
      results.forEach((received, i) => {
        const filter = FILTERS[i % FILTERS.length] ?? {};
        const expected = published
          .filter((p) => selects(filter, p.sku, p.warehouse))
          .map((p) => ({
            cursor: cursorOf.get(p.id) ?? '?',
            key: inventoryKey(p.index, p.sku, p.warehouse),
          }));
        assert.deepEqual(received, expected, `subscriber ${i} (${JSON.stringify(filter)})`);
        assertIncreasing(
          received.map((r) => r.cursor),
          `subscriber ${i}`,
        );
        deliveries += received.length;
      });
      t.diagnostic(
        `${SUBSCRIBERS} subscribers live after ${Math.round(subscribedMs)} ms; ${deliveries} deliveries of ${EVENTS} events in ${Math.round(deliveredMs)} ms`,
      );
    },
  );
});

/** A client that resumes from its last cursor whenever its subscription ends early. */
interface ResumingClient {
  readonly domain: EventDomain;
  readonly received: Received[];
  /** Why each resubscription happened (error code, close code, `complete`, `dropped`). */
  readonly reasons: string[];
  /** Errors that must not happen (an expired cursor, errors inside a result). */
  readonly anomalies: string[];
  /** Resolves once the event keyed `lastKey` arrived. */
  readonly done: Promise<void>;
  /** Drops the socket (a network blip on the client's side) and resumes on a new one. */
  drop(): void;
  close(): Promise<void>;
}

function resumingClient(stack: Stack, domain: EventDomain, lastKey: string): ResumingClient {
  const field = domain === 'inventory' ? 'inventoryChanged' : 'orderStatusChanged';
  const received: Received[] = [];
  const reasons: string[] = [];
  const anomalies: string[] = [];
  let client = wsClient(stack, { lazy: false });
  let cursor: string | undefined;
  let finished = false;
  let failures = 0;
  let current = { ended: false, stop: () => undefined as void };
  let markDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (markDone = resolve));

  const newSocket = () => {
    void client.dispose();
    client = wsClient(stack, { lazy: false });
  };
  const resubscribe = (reason: string, socketGone: boolean) => {
    if (finished) return;
    reasons.push(reason);
    if (socketGone) newSocket();
    // Back off while resubscribing keeps failing at once (the broker is down): 10..320 ms.
    const delay = failures === 0 ? 0 : Math.min(320, 10 * 2 ** failures);
    failures++;
    setTimeout(subscribe, delay);
  };

  const subscribe = () => {
    if (finished) return;
    // The first subscription is live; a resubscription before the first event resumes from the
    // start of the (fresh) stream: every client subscribed before the first publish.
    const variables = reasons.length === 0 ? {} : { after: cursor ?? '0' };
    const subscription = { ended: false, stop: () => undefined as void };
    current = subscription;
    subscription.stop = client.subscribe<Json>(
      { query: domain === 'inventory' ? INVENTORY_SUB : ORDER_SUB, variables },
      {
        next: (value: WsResult) => {
          if (subscription.ended) return;
          const data = value.data?.[field] as Json | undefined;
          if (value.errors || !data) {
            anomalies.push(`errors in a result: ${JSON.stringify(value.errors)}`);
            return;
          }
          failures = 0;
          cursor = String(data.cursor);
          received.push({ cursor: openCursor(cursor), key: keyOfReceived(domain, data) });
          if (received.at(-1)?.key === lastKey) {
            finished = true;
            subscription.ended = true;
            subscription.stop();
            markDone();
          }
        },
        error: (error: unknown) => {
          if (subscription.ended) return;
          subscription.ended = true;
          if (Array.isArray(error)) {
            const first = error[0] as { message?: string; extensions?: Json } | undefined;
            if (first?.extensions?.reason === 'CURSOR_EXPIRED')
              anomalies.push(`CURSOR_EXPIRED resuming after ${cursor}: ${first.message}`);
            resubscribe(String(first?.extensions?.code ?? first?.message), false);
          } else {
            const code = (error as { code?: unknown } | null)?.code;
            resubscribe(`socket ${String(code ?? 'error')}`, true);
          }
        },
        complete: () => {
          if (subscription.ended) return;
          subscription.ended = true;
          resubscribe('complete', false);
        },
      },
    );
  };
  subscribe();

  return {
    domain,
    received,
    reasons,
    anomalies,
    done,
    drop() {
      if (finished || current.ended) return;
      current.ended = true;
      current.stop();
      newSocket();
      reasons.push('dropped');
      subscribe();
    },
    async close() {
      finished = true;
      await client.dispose();
    },
  };
}

describe('resuming graphql-ws clients across a NATS restart', () => {
  const N = 200;
  const CLIENTS = 20;
  const prefix = newPrefix();
  const storeDir = mkdtempSync(join(tmpdir(), 'crossdock-scale-nats-'));
  let server: NatsServer | undefined;
  let stack: Stack | undefined;
  const clients: ResumingClient[] = [];

  before(async () => {
    server = await startNatsServer({ storeDir });
    stack = await startStack({
      catalogSize: 20,
      env: { NATS_URL: server.url, NATS_STREAM_PREFIX: prefix, WS_MAX_SOCKETS_PER_KEY: '10000' },
    });
  });

  after(
    async () => {
      try {
        await Promise.allSettled(clients.map((c) => c.close()));
        await stack?.close();
      } finally {
        if (server) {
          await deleteStreamsOf(server.url, prefix);
          await server.stop();
        }
        rmSync(storeDir, { recursive: true, force: true });
      }
    },
    { timeout: 30_000 },
  );

  it(
    'every client ends with every event once, in order, after resuming from its cursors',
    // Generous: a publish sent as the broker stops waits out its 5 s PubAck timeout, and the
    // shared consumer may stall until two idle heartbeats (15 s each with nats.js's consume()
    // defaults) are missed after the ordered consumer is recreated. Timing is reported, not
    // asserted.
    { timeout: 120_000 },
    async (t) => {
      assert.ok(stack && server);
      const s = stack;
      const broker = server;
      const sentinel = N + 1;
      const eventOf = (domain: EventDomain, index: number) =>
        domain === 'order'
          ? orderStatus(`${prefix}-order-${index}`, index)
          : stock(`${prefix}-inv-${index}`, index, SKUS[index % SKUS.length] ?? SKU_A, 'EAST');
      const domains: readonly EventDomain[] = ['order', 'inventory'];
      for (let i = 0; i < CLIENTS; i++) {
        const domain = domains[i % 2] ?? 'order';
        clients.push(resumingClient(s, domain, keyOfBusEvent(eventOf(domain, sentinel))));
      }
      await fanoutReaches(
        s.crossdock.subscriptions,
        `${CLIENTS} subscribers`,
        (x) => x.subscribers === CLIENTS,
      );

      // One publisher, one event at a time; a publish failing while the broker is away is retried
      // with the same id (JetStream drops the copy if the first attempt was stored after all).
      let outage: { started: number; ended: number | null } | null = null;
      let publishedDuringOutage = 0;
      let failedAttempts = 0;
      const publish = async (event: BusEvent) => {
        const deadline = performance.now() + 30_000;
        if (outage && outage.ended === null) publishedDuringOutage++;
        for (let attempt = 0; ; attempt++) {
          try {
            await s.running.bus.publish(event);
            return;
          } catch (error) {
            failedAttempts++;
            if (performance.now() > deadline) throw error;
            await new Promise((resolve) => setTimeout(resolve, Math.min(200, 10 * 2 ** attempt)));
          }
        }
      };
      let restarting: Promise<void> | null = null;
      for (let index = 1; index <= N; index++) {
        if (index === N / 2) {
          const o = { started: performance.now(), ended: null as number | null };
          outage = o;
          // Half the clients lose their socket as the broker goes down: they resume during the
          // outage, on replays of their own, and must be handed over once it is back.
          for (const [i, client] of clients.entries()) if (i % 4 < 2) client.drop();
          restarting = broker.restart().then(() => {
            o.ended = performance.now();
          });
        }
        for (const domain of domains) await publish(eventOf(domain, index));
      }
      await restarting;
      for (const domain of domains) await publish(eventOf(domain, sentinel));
      const publishedAt = performance.now();
      await Promise.all(clients.map((c) => c.done));
      const caughtUpMs = performance.now() - publishedAt;

      const truth = new Map<EventDomain, DeliveredEvent[]>();
      for (const domain of domains) {
        const events = await readStream(s.running.bus, domain, eventOf(domain, sentinel).id);
        assert.deepEqual(
          events.map((e) => e.id),
          Array.from({ length: N + 1 }, (_, i) => eventOf(domain, i + 1).id),
          `the ${domain} stream holds each event once, in publish order (de-duplicated retries)`,
        );
        truth.set(domain, events);
      }
      // The fan-out's at-most-once rule would hide a broken handover from the clients: it must
      // have had nothing to drop.
      assert.equal(s.crossdock.subscriptions.stats().duplicatesDropped, 0, 'duplicates dropped');
      for (const [i, client] of clients.entries()) {
        assert.deepEqual(client.anomalies, [], `client ${i} (${client.domain})`);
        const expected = (truth.get(client.domain) ?? []).map((e) => ({
          cursor: e.cursor,
          key: keyOfBusEvent(e),
        }));
        assert.equal(client.received.length, N + 1, `client ${i} (${client.domain}) count`);
        assert.deepEqual(client.received, expected, `client ${i} (${client.domain})`);
      }
      const reasons = new Map<string, number>();
      for (const c of clients) for (const r of c.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
      const o = outage as { started: number; ended: number | null } | null;
      t.diagnostic(
        `resubscriptions: ${[...reasons.values()].reduce((a, b) => a + b, 0)} (${JSON.stringify(Object.fromEntries(reasons))}); ` +
          `events published during the outage: ${publishedDuringOutage}; failed publish attempts retried: ${failedAttempts}; ` +
          `restart took ${o?.ended ? Math.round(o.ended - o.started) : '?'} ms; every client had the sentinel ${Math.round(caughtUpMs)} ms after it was published; stats after: ${JSON.stringify(s.crossdock.subscriptions.stats())}`,
      );
    },
  );
});

describe('handover of a resuming subscriber under load', () => {
  const HISTORY = 2_000;
  const MAX_LOAD = 3_000;
  const prefix = newPrefix();
  const suite = stackOnNatsUrl(prefix);

  it(
    'replays from an old cursor while events keep coming, then continues on the shared subscription',
    { timeout: 60_000 },
    async (t) => {
      const s = suite.stack;
      assert.ok(s);
      const stats = () => s.crossdock.subscriptions.stats();
      let index = 0;
      const publishNext = (sku?: string) => {
        index++;
        return s.running.bus.publish(
          stock(`${prefix}-inv-${index}`, index, sku ?? SKUS[index % SKUS.length] ?? SKU_A, 'EAST'),
        );
      };
      const open = () => suite.ws.client(s, { lazy: false });
      // Set when the sentinel is published (its index is known then).
      let sentinelKey = '';
      const collect = (client: Client, variables: Record<string, unknown>) => {
        const sink = new Sink();
        return {
          sink,
          done: collectUntil(client, 'inventory', variables, () => sentinelKey, sink),
        };
      };

      const live = Array.from({ length: 3 }, () => collect(open(), {}));
      await fanoutReaches(
        s.crossdock.subscriptions,
        '3 live subscribers',
        (x) => x.subscribers === 3,
      );
      // A long history, 100 publishes in flight at a time; the live subscribers keep up (their
      // queues stay far below WS_SUBSCRIBER_BUFFER).
      while (index < HISTORY) {
        await Promise.all(Array.from({ length: 100 }, () => publishNext()));
        await Promise.all(live.map((l) => l.sink.reached(index)));
      }
      assert.deepEqual(
        live.map((l) => l.sink.items.length),
        [HISTORY, HISTORY, HISTORY],
        'the live subscribers have the history, nothing more',
      );
      const from = live[0]?.sink.items[49];
      assert.ok(from);
      const before = stats();
      assert.equal(before.busSubscriptions, 1);

      // Two subscribers resume from the 50th event (one filtered) while the publisher keeps going
      // until both have been handed over to the shared subscription.
      const resumed = [
        collect(open(), { after: sealCursor(from.cursor) }),
        collect(open(), { after: sealCursor(from.cursor), skus: [SKU_A] }),
      ];
      let maxBusSubscriptions = before.busSubscriptions;
      const loadStarted = index;
      while (stats().handovers < before.handovers + 2) {
        assert.ok(
          index - loadStarted < MAX_LOAD,
          `no handover after ${MAX_LOAD} events: ${JSON.stringify(stats())}`,
        );
        await publishNext();
        maxBusSubscriptions = Math.max(maxBusSubscriptions, stats().busSubscriptions);
      }
      const duringLoad = index - loadStarted;
      assert.equal(stats().busSubscriptions, 1, 'the replays are closed after the handover');
      // More events on the shared subscription only, then a sentinel every filter selects.
      for (let i = 0; i < 20; i++) await publishNext();
      sentinelKey = inventoryKey(index + 1, SKU_A, 'EAST');
      await publishNext(SKU_A);
      const sentinelId = `${prefix}-inv-${index}`;
      const [all, onlyA] = await Promise.all(resumed.map((r) => r.done));
      const liveResults = await Promise.all(live.map((l) => l.done));

      assert.deepEqual(stats(), {
        subscribers: 5,
        started: 5,
        busSubscriptions: 1,
        slowConsumers: 0,
        handovers: before.handovers + 2,
        duplicatesDropped: 0,
      });
      const truth = await readStream(s.running.bus, 'inventory', sentinelId);
      assert.equal(truth.length, index, 'every publish is one event');
      const expected = truth.map((e) => ({ cursor: e.cursor, key: keyOfBusEvent(e) }));
      for (const [i, received] of liveResults.entries())
        assert.deepEqual(received, expected, `live subscriber ${i}`);
      const start = truth.findIndex((e) => e.cursor === from.cursor) + 1;
      assert.equal(start, 50);
      assert.deepEqual(all, expected.slice(start), 'the resumed subscriber: everything after 50');
      assert.deepEqual(
        onlyA,
        truth
          .slice(start)
          .filter((e) => (e.payload as InventoryEventPayload).sku === SKU_A)
          .map((e) => ({ cursor: e.cursor, key: keyOfBusEvent(e) })),
        `the resumed subscriber filtered on ${SKU_A}`,
      );
      assertIncreasing(
        (all ?? []).map((r) => r.cursor),
        'resumed',
      );
      t.diagnostic(
        `handed over after ${duringLoad} events published during the replays; at most ${maxBusSubscriptions} bus subscriptions`,
      );
    },
  );
});

/**
 * The event-bus contract (subscriptions/bus.ts), one suite run against every implementation:
 * the in-process bus and NATS JetStream (NATS_URL, else a private nats-server; streams under a
 * per-run prefix, deleted afterwards). Plus, for NATS only: events acknowledged before a broker
 * restart are all delivered after it to a subscriber resuming from its last cursor.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  CursorExpiredError,
  type BusEvent,
  type DeliveredEvent,
  type EventBus,
  type EventDomain,
} from '../subscriptions/bus.js';
import { createMemoryBus } from '../subscriptions/memory-bus.js';
import { createNatsBus } from '../subscriptions/nats-bus.js';
import { natsUrl, startNatsServer } from './support/nats.js';

/** A fresh bus with a way to make every event it keeps in a domain expire. */
interface OpenBus {
  readonly bus: EventBus;
  /** Makes every event currently kept in `domain` older than the retention. */
  expire(domain: EventDomain): Promise<void>;
}

interface Implementation {
  readonly name: string;
  open(): Promise<OpenBus>;
  dispose(): Promise<void>;
}

const run = `XDTEST_${Math.random().toString(36).slice(2, 10).toUpperCase()}`;
const event = (
  domain: EventDomain,
  id: string,
  subject = `crossdock.${domain}.status.${id}`,
): BusEvent<{ n: string }> => ({
  id,
  domain,
  subject,
  at: '2026-01-01T00:00:00.000Z',
  correlationId: `corr-${id}`,
  payload: { n: id },
});

const MEMORY_HISTORY = 50;
const memory: Implementation = {
  name: 'memory',
  async open() {
    const bus = createMemoryBus({ history: MEMORY_HISTORY });
    return {
      bus,
      async expire(domain) {
        // The in-process bus forgets the oldest events past its history: push them all out.
        for (let i = 0; i < MEMORY_HISTORY; i++) await bus.publish(event(domain, `filler-${i}`));
      },
    };
  },
  async dispose() {},
};

/** Deletes the streams of this run (every stream whose name starts with `prefix`). */
async function deleteStreams(servers: string, prefix: string): Promise<void> {
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names())
      if (name.startsWith(prefix)) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

const nats: Implementation = (() => {
  const buses: EventBus[] = [];
  // Every stream listens on `crossdock.<domain>.>`, and JetStream refuses two streams with
  // overlapping subjects on one server: each test gets fresh streams by deleting the previous
  // test's, under one per-run prefix.
  const streamPrefix = run;
  return {
    name: 'nats',
    async open() {
      const servers = await natsUrl();
      await Promise.all(buses.splice(0).map((b) => b.close()));
      await deleteStreams(servers, `${streamPrefix}_`);
      const bus = await createNatsBus({ servers, streamPrefix });
      buses.push(bus);
      return {
        bus,
        async expire(domain) {
          // A purge drops every message and moves the first sequence past the last: deterministic.
          const nc = await connect({ servers });
          try {
            const jsm = await jetstreamManager(nc);
            await jsm.streams.purge(`${streamPrefix}_${domain.toUpperCase()}`);
          } finally {
            await nc.close();
          }
        },
      };
    },
    async dispose() {
      await Promise.all(buses.splice(0).map((b) => b.close()));
      await deleteStreams(await natsUrl(), `${streamPrefix}_`);
    },
  };
})();

/** Reads `count` events, or fails. */
async function take<T>(
  iterable: AsyncIterable<DeliveredEvent<T>>,
  count: number,
): Promise<DeliveredEvent<T>[]> {
  const out: DeliveredEvent<T>[] = [];
  const iterator = iterable[Symbol.asyncIterator]();
  while (out.length < count) {
    const r = await iterator.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** Resolves with the next result, or 'nothing' when none arrives within `ms` ("nothing happened"). */
async function nextWithin<T>(
  iterable: AsyncIterable<T>,
  ms: number,
): Promise<IteratorResult<T> | 'nothing'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'nothing'>((resolve) => (timer = setTimeout(resolve, ms, 'nothing')));
  try {
    return await Promise.race([iterable[Symbol.asyncIterator]().next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const seqOf = (cursor: string) => Number(cursor.split(':')[1]);

/** Subscribes and reads the first result: a sync throw and a rejected first next() alike. */
async function firstOf(bus: EventBus, domain: EventDomain, after: string): Promise<unknown> {
  const sub = bus.subscribe(domain, { after });
  return sub[Symbol.asyncIterator]().next();
}

/** Turns a read that waits for events that never come (the bus broken) into a failure. */
const SUITE_TIMEOUT_MS = 60_000;

for (const impl of [memory, nats]) {
  describe(`event bus contract: ${impl.name}`, { timeout: SUITE_TIMEOUT_MS }, () => {
    after(() => impl.dispose());

    it('delivers published events in order, with their fields and cursors', async () => {
      const { bus } = await impl.open();
      const sub = bus.subscribe<{ n: string }>('order', {});
      for (const id of ['a', 'b', 'c']) await bus.publish(event('order', id));
      const got = await take(sub, 3);
      await sub.return();
      assert.deepEqual(
        got.map(({ cursor: _cursor, ...rest }) => rest),
        ['a', 'b', 'c'].map((id) => event('order', id)),
      );
      assert.deepEqual(
        got.map((e) => e.cursor),
        ['order:1', 'order:2', 'order:3'],
      );
    });

    it('does not deliver events published before a subscription without `after`', async () => {
      const { bus } = await impl.open();
      await bus.publish(event('order', 'old-1'));
      await bus.publish(event('order', 'old-2'));
      const sub = bus.subscribe<{ n: string }>('order', {});
      await bus.publish(event('order', 'new-1'));
      const [first] = await take(sub, 1);
      await sub.return();
      assert.equal(first?.id, 'new-1');
      assert.equal(first?.cursor, 'order:3');
    });

    it('resumes exactly after a cursor: no gap, no duplicate', async () => {
      const { bus } = await impl.open();
      const live = bus.subscribe<{ n: string }>('shipment', {});
      for (let i = 1; i <= 20; i++) await bus.publish(event('shipment', `s${i}`));
      const all = await take(live, 20);
      await live.return();
      const seventh = all[6];
      assert.ok(seventh);
      const resumed = bus.subscribe<{ n: string }>('shipment', { after: seventh.cursor });
      const rest = await take(resumed, 13);
      assert.equal(await nextWithin(resumed, 50), 'nothing');
      await resumed.return();
      assert.deepEqual(
        rest.map((e) => e.id),
        Array.from({ length: 13 }, (_, i) => `s${i + 8}`),
      );
      assert.deepEqual(
        rest.map((e) => e.cursor),
        all.slice(7).map((e) => e.cursor),
      );
      for (let i = 1; i < rest.length; i++)
        assert.ok(seqOf(rest[i]?.cursor ?? '') > seqOf(rest[i - 1]?.cursor ?? ''));
    });

    it('delivers a duplicate event id once', async () => {
      const { bus } = await impl.open();
      const sub = bus.subscribe<{ n: string }>('order', {});
      await bus.publish(event('order', 'dup'));
      await bus.publish(event('order', 'dup'));
      await bus.publish(event('order', 'after-dup'));
      const got = await take(sub, 2);
      assert.equal(await nextWithin(sub, 50), 'nothing');
      await sub.return();
      assert.deepEqual(
        got.map((e) => [e.id, e.cursor]),
        [
          ['dup', 'order:1'],
          ['after-dup', 'order:2'],
        ],
      );
    });

    it('applies the filter', async () => {
      const { bus } = await impl.open();
      const sub = bus.subscribe<{ n: string }>('inventory', {
        filter: (e) => e.payload.n.startsWith('keep'),
      });
      for (const id of ['drop-1', 'keep-1', 'drop-2', 'keep-2'])
        await bus.publish(event('inventory', id));
      const got = await take(sub, 2);
      await sub.return();
      assert.deepEqual(
        got.map((e) => [e.id, e.cursor]),
        [
          ['keep-1', 'inventory:2'],
          ['keep-2', 'inventory:4'],
        ],
      );
    });

    it('gives two subscribers every event each', async () => {
      const { bus } = await impl.open();
      const one = bus.subscribe<{ n: string }>('order', {});
      const two = bus.subscribe<{ n: string }>('order', {});
      for (const id of ['x', 'y', 'z']) await bus.publish(event('order', id));
      const [a, b] = await Promise.all([take(one, 3), take(two, 3)]);
      await Promise.all([one.return(), two.return()]);
      assert.deepEqual(
        a.map((e) => e.id),
        ['x', 'y', 'z'],
      );
      assert.deepEqual(
        b.map((e) => e.cursor),
        a.map((e) => e.cursor),
      );
    });

    it('ends iteration on return(), also for a pending next()', async () => {
      const { bus } = await impl.open();
      const sub = bus.subscribe<{ n: string }>('order', {});
      await bus.publish(event('order', 'one'));
      assert.equal((await take(sub, 1))[0]?.id, 'one');
      const pending = sub[Symbol.asyncIterator]().next();
      await sub.return();
      assert.deepEqual(await pending, { done: true, value: undefined });
      await bus.publish(event('order', 'two'));
      assert.deepEqual(await sub[Symbol.asyncIterator]().next(), {
        done: true,
        value: undefined,
      });
    });

    const routesBySubject =
      impl.name !== 'memory' || 'the in-process bus does not route by subject';
    it(
      'rejects a publish whose subject is outside its domain',
      { skip: routesBySubject === true ? false : routesBySubject },
      async () => {
        const { bus } = await impl.open();
        await assert.rejects(bus.publish(event('order', 'wrong', 'crossdock.shipment.x')), {
          message:
            'event wrong: expected a subject under "crossdock.order.>" for domain order, got "crossdock.shipment.x"',
        });
      },
    );

    it('throws CursorExpiredError for a malformed or foreign cursor', async () => {
      const { bus } = await impl.open();
      await bus.publish(event('order', 'o1'));
      const cases: [cursor: string, oldest: number][] = [
        ['', 1],
        ['order', 1],
        ['order:', 1],
        ['order:-1', 1],
        ['order:1x', 1],
        ['ORDER:1', 1],
        ['shipment:1', 1],
      ];
      for (const [cursor, oldest] of cases)
        await assert.rejects(
          firstOf(bus, 'order', cursor),
          (error: unknown) =>
            error instanceof CursorExpiredError &&
            error.message ===
              `cursor ${JSON.stringify(cursor)} is older than the events kept (oldest sequence ${oldest})`,
          `cursor ${JSON.stringify(cursor)}`,
        );
    });

    it('throws CursorExpiredError for a cursor older than the events kept', async () => {
      const { bus, expire } = await impl.open();
      const sub = bus.subscribe<{ n: string }>('order', {});
      for (const id of ['e1', 'e2', 'e3']) await bus.publish(event('order', id));
      const got = await take(sub, 3);
      await sub.return();
      await expire('order');
      const oldest = 4; // the first sequence kept (or, all expired, the next to be assigned)
      await assert.rejects(
        firstOf(bus, 'order', got[0]?.cursor ?? ''),
        (error: unknown) =>
          error instanceof CursorExpiredError &&
          error.message ===
            `cursor "order:1" is older than the events kept (oldest sequence ${oldest})`,
      );
    });

    it('rejects a publish after close', async () => {
      const { bus } = await impl.open();
      await bus.close();
      await assert.rejects(bus.publish(event('order', 'late')), { message: 'event bus is closed' });
    });
  });
}

describe('event bus: nats, broker restart', { timeout: SUITE_TIMEOUT_MS }, () => {
  const storeDir = mkdtempSync(join(tmpdir(), 'crossdock-nats-restart-'));
  after(() => rmSync(storeDir, { recursive: true, force: true }));

  it('delivers every event acknowledged before a restart to a subscriber resuming from its cursor', async () => {
    const server = await startNatsServer({ storeDir });
    const bus = await createNatsBus({ servers: server.url, streamPrefix: `${run}_RESTART` });
    try {
      const acked = new Set<string>();
      const seen: DeliveredEvent[] = [];
      const live = bus.subscribe('order', {});
      // Publish one event at a time; stop the broker while publishing is under way.
      let restarted: Promise<void> | null = null;
      for (let i = 1; i <= 60; i++) {
        const id = `r${i}`;
        const publishing = bus.publish(event('order', id)).then(
          () => acked.add(id),
          () => undefined,
        );
        if (i === 20) {
          // Everything acknowledged so far is what the live subscriber got before the restart.
          seen.push(...(await take(live, acked.size)));
          restarted = server.restart();
        }
        await publishing;
        if (i === 20) await restarted;
      }
      await live.return();
      const last = seen.at(-1);
      assert.ok(last);
      assert.ok(acked.size >= 40, `acked ${acked.size}`);
      // A sentinel acknowledged after everything else marks the end of what to read.
      await bus.publish(event('order', 'sentinel'));
      const resumed = bus.subscribe('order', { after: last.cursor });
      const iterator = resumed[Symbol.asyncIterator]();
      for (;;) {
        const r = await iterator.next();
        assert.equal(r.done, false);
        if (r.done) break;
        if (r.value.id === 'sentinel') break;
        seen.push(r.value);
      }
      await resumed.return();
      const cursors = seen.map((e) => seqOf(e.cursor));
      assert.deepEqual(
        cursors,
        Array.from({ length: cursors.length }, (_, i) => i + 1),
        'every sequence once, in order',
      );
      const delivered = new Set(seen.map((e) => e.id));
      assert.equal(delivered.size, seen.length, 'no event twice');
      assert.deepEqual(
        [...acked].filter((id) => !delivered.has(id)),
        [],
        'no acknowledged event missed',
      );
    } finally {
      await bus.close();
      await server.stop();
    }
  });
});

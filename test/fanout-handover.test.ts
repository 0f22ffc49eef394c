/**
 * The fan-out's at-most-once rule, with the interleavings that broke it forced step by step
 * (issue #8). The bus underneath is the in-process one, except that the fan-out's shared
 * subscription is scripted: the test decides which events it delivers and when, so it can lag
 * behind a replay (as a JetStream ordered consumer does for seconds after a broker restart),
 * catch up in chunks while a subscriber is handing over, or restart from an older position.
 *
 * Nothing here waits on time: `deliver()` resolves once the fan-out has asked for the event after
 * the last one delivered, i.e. once every delivered event has been offered to the subscribers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BusEvent, DeliveredEvent, EventBus, EventIterator } from '../subscriptions/bus.js';
import { orderStatusEvent, type OrderStatusPayload } from '../subscriptions/events.js';
import { createFanout, type Fanout } from '../subscriptions/fanout.js';
import { createMemoryBus } from '../subscriptions/memory-bus.js';

const AT = '2026-12-01T09:00:00.000Z';

/** The n-th order event (order `O<n>`, version n). */
const event = (n: number): BusEvent =>
  orderStatusEvent(
    { id: `order:O${n}:1`, at: AT, correlationId: null },
    {
      orderId: `O${n}`,
      erpNumber: null,
      channel: n % 2 === 0 ? 'WEB' : 'EDI',
      customerNumber: 'C10001',
      status: 'ACCEPTED',
      previousStatus: null,
    },
  );

/** A shared subscription whose deliveries the test scripts. */
interface ScriptedStream {
  /** Delivers these events (by sequence, from the real stream) and waits until all are offered. */
  deliver(...sequences: number[]): Promise<void>;
}

/**
 * The in-process bus, with the fan-out's shared subscription (the one without `after`) scripted:
 * it delivers exactly the events of the real stream that the test names, in the order it names.
 */
function scriptedBus(): { bus: EventBus; shared: ScriptedStream; history: () => DeliveredEvent[] } {
  const inner = createMemoryBus();
  const pending: DeliveredEvent[] = [];
  let wake: (() => void) | null = null;
  let idle: (() => void) | null = null;
  let ended = false;
  const stream: EventIterator<unknown> = {
    [Symbol.asyncIterator]: () => stream,
    async next() {
      for (;;) {
        if (ended) return { done: true, value: undefined };
        const value = pending.shift();
        if (value) return { done: false, value };
        // The fan-out asks for more: everything delivered so far has been offered.
        idle?.();
        idle = null;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    },
    async return() {
      ended = true;
      wake?.();
      return { done: true, value: undefined };
    },
  };
  const history = () => [...inner.history('order')];
  return {
    bus: {
      publish: (e) => inner.publish(e),
      subscribe: (domain, options) =>
        options.after === undefined ? stream : inner.subscribe(domain, options),
      close: () => inner.close(),
    } as EventBus,
    shared: {
      deliver(...sequences) {
        const all = history();
        for (const s of sequences) {
          const e = all[s - 1];
          assert.ok(e, `event ${s} was published`);
          pending.push(e);
        }
        const offered = new Promise<void>((resolve) => (idle = resolve));
        wake?.();
        return offered;
      },
    },
    history,
  };
}

const sequenceOf = (e: DeliveredEvent) => Number(e.cursor.split(':')[1]);

async function take(it: AsyncIterator<DeliveredEvent>, n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const r = await it.next();
    assert.equal(r.done, false, `ended after ${out.length} of ${n}`);
    out.push(sequenceOf(r.value));
  }
  return out;
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Starts a live subscriber so the shared stream exists, and positions it at `at`. */
async function sharedAt(f: Fanout, shared: ScriptedStream, bus: EventBus, at: number) {
  for (const n of range(1, at)) await bus.publish(event(n));
  const live = f.subscribe('order', {})[Symbol.asyncIterator]();
  await shared.deliver(...range(1, at));
  return live;
}

describe('fan-out: a resuming subscriber and a shared stream that lags behind its replay', () => {
  it('hands over only once the shared stream has caught up, so its catch-up is not delivered twice', async () => {
    const { bus, shared } = scriptedBus();
    const f = createFanout(bus);
    const handovers: string[] = [];
    f.events.on('handover', (domain) => handovers.push(domain));
    try {
      // The shared stream stalls after event 1 (the broker restarted; its consumer is being
      // recreated) while events 2..10 are stored.
      const live = await sharedAt(f, shared, bus, 1);
      for (const n of range(2, 10)) await bus.publish(event(n));
      // A client resumes after 2: its replay reads 3..10, ahead of the shared stream.
      const resumed = f.subscribe('order', { after: 'order:2' })[Symbol.asyncIterator]();
      assert.deepEqual(await take(resumed, 8), range(3, 10));
      // The shared stream catches up in two chunks, with the subscriber asking for its next
      // event in between: the first chunk alone must not trigger a handover, or the second
      // (9, 10) would be queued after it and delivered again.
      await shared.deliver(...range(2, 8));
      const next = resumed.next();
      await shared.deliver(9, 10);
      assert.deepEqual(handovers, [], 'no handover while the shared stream was behind');
      await bus.publish(event(11));
      await shared.deliver(11);
      assert.equal(sequenceOf((await next).value as DeliveredEvent), 11);
      await bus.publish(event(12));
      await shared.deliver(12);
      assert.deepEqual(await take(resumed, 1), [12]);
      assert.deepEqual(handovers, ['order'], 'handed over once the shared stream was level');
      assert.deepEqual(await take(live, 12), range(1, 12));
      assert.equal(f.stats().duplicatesDropped, 0, 'a correct handover drops nothing');
      assert.equal(f.stats().busSubscriptions, 1, 'the replay is closed');
    } finally {
      await f.close();
      await bus.close();
    }
  });

  it('hands over at once when the cursor is the shared stream’s last event', async () => {
    const { bus, shared } = scriptedBus();
    const f = createFanout(bus);
    try {
      await sharedAt(f, shared, bus, 4);
      const resumed = f.subscribe('order', { after: 'order:4' })[Symbol.asyncIterator]();
      const next = resumed.next();
      await bus.publish(event(5));
      await shared.deliver(5);
      assert.equal(sequenceOf((await next).value as DeliveredEvent), 5);
      assert.equal(f.stats().handovers, 1);
      assert.equal(f.stats().busSubscriptions, 1);
      assert.equal(f.stats().duplicatesDropped, 0);
    } finally {
      await f.close();
      await bus.close();
    }
  });

  it('keeps replaying while the shared stream is ahead with a gap, then hands over without one', async () => {
    const { bus, shared } = scriptedBus();
    const f = createFanout(bus);
    try {
      await sharedAt(f, shared, bus, 3);
      for (const n of range(4, 8)) await bus.publish(event(n));
      const resumed = f.subscribe('order', { after: 'order:1' })[Symbol.asyncIterator]();
      // The shared stream runs ahead (4..8) before the replay has produced anything.
      await shared.deliver(4, 5, 6, 7, 8);
      assert.deepEqual(await take(resumed, 7), range(2, 8));
      await bus.publish(event(9));
      await shared.deliver(9);
      assert.deepEqual(await take(resumed, 1), [9]);
      assert.equal(f.stats().handovers, 1);
      assert.equal(f.stats().duplicatesDropped, 0);
    } finally {
      await f.close();
      await bus.close();
    }
  });
});

describe('fan-out: a shared stream that restarts from an older position', () => {
  it('drops and counts every event at or below what a subscriber has yielded or subscribed after', async () => {
    const { bus, shared } = scriptedBus();
    const f = createFanout(bus);
    const dropped: number[] = [];
    f.events.on('duplicate', (_domain, sequence) => dropped.push(sequence));
    try {
      const live = await sharedAt(f, shared, bus, 8);
      assert.deepEqual(await take(live, 8), range(1, 8));
      // Subscribed when the shared stream was at 8: 1..8 are not news to it.
      const web = f
        .subscribe('order', { filter: (e) => (e.payload as OrderStatusPayload).channel === 'WEB' })
        [Symbol.asyncIterator]();
      for (const n of range(9, 10)) await bus.publish(event(n));
      // The shared consumer is recreated from 6: 6, 7, 8 again, then the new events.
      await shared.deliver(6, 7, 8, 9, 10);
      assert.deepEqual(await take(live, 2), [9, 10]);
      assert.deepEqual(await take(web, 1), [10]);
      // live: 6, 7, 8; web (WEB orders are the even ones): 6, 8.
      assert.deepEqual(
        dropped.sort((a, b) => a - b),
        [6, 6, 7, 8, 8],
      );
      assert.equal(f.stats().duplicatesDropped, 5);
    } finally {
      await f.close();
      await bus.close();
    }
  });

  it('holds after a handover too: a rewind of the shared stream never reaches a resumed subscriber', async () => {
    const { bus, shared } = scriptedBus();
    const f = createFanout(bus);
    try {
      await sharedAt(f, shared, bus, 5);
      const resumed = f.subscribe('order', { after: 'order:2' })[Symbol.asyncIterator]();
      assert.deepEqual(await take(resumed, 3), [3, 4, 5]);
      const next = resumed.next();
      await bus.publish(event(6));
      await shared.deliver(4, 5, 6);
      assert.equal(sequenceOf((await next).value as DeliveredEvent), 6);
      assert.equal(f.stats().handovers, 1);
      assert.equal(f.stats().duplicatesDropped, 2);
    } finally {
      await f.close();
      await bus.close();
    }
  });

  it('never yields an event at or below the cursor a subscriber resumed after', async () => {
    const { bus, shared } = scriptedBus();
    const f = createFanout(bus);
    try {
      await sharedAt(f, shared, bus, 3);
      for (const n of range(4, 6)) await bus.publish(event(n));
      const resumed = f.subscribe('order', { after: 'order:5' })[Symbol.asyncIterator]();
      // The shared stream is behind the cursor and delivers old events: none is yielded.
      await shared.deliver(4, 5, 6);
      assert.deepEqual(await take(resumed, 1), [6]);
      await bus.publish(event(7));
      await shared.deliver(7);
      assert.deepEqual(await take(resumed, 1), [7]);
      assert.equal(f.stats().duplicatesDropped, 0, 'skipped as covered by the replay, not dropped');
    } finally {
      await f.close();
      await bus.close();
    }
  });
});

/**
 * Fan-out: many GraphQL subscribers on few bus subscriptions. Wraps a bus (subscriptions/bus.ts)
 * and is one itself:
 *
 * - Live subscribers (no `after`) share ONE bus subscription per domain and process (with NATS:
 *   one ordered consumer per domain, however many sockets). Each event is matched against every
 *   subscriber's filter once and queued for those it concerns.
 * - Resuming subscribers (`after`) replay through a bus subscription of their own, unfiltered so
 *   their position in the stream is known; meanwhile the shared stream queues their live events
 *   (those the replay has not passed yet). The replay is closed and the subscriber continues from
 *   the queue (handover) only once the shared stream has reached the replay's position: its queue
 *   then starts right after the last replayed event, or it is empty and the shared stream's last
 *   event is that very event. The shared stream can be BEHIND a replay: after a broker restart
 *   the shared consumer may stall for seconds while a replay created after the restart reads
 *   ahead; handing over then (issue #8) queued the shared stream's catch-up, events the replay
 *   had already delivered, after the handover, and the subscriber received them twice.
 * - Whatever the bus does (a consumer that redelivers, a stream that restarts from an older
 *   position), a subscription never yields an event at or below the stream sequence of one it
 *   has already yielded: such an event is dropped and counted (`duplicatesDropped`), so a
 *   regression shows in the stats and on `/readyz` instead of reaching a client.
 * - Queues are bounded. A live subscriber that falls `bufferSize` events behind is failed with
 *   {@link SlowConsumerError} (it must resume from its last cursor) instead of making the process
 *   buffer without limit or slowing the others; a replaying subscriber whose queue overflows just
 *   keeps replaying (its queue is dropped and the handover happens later).
 */
import { EventEmitter } from 'node:events';
import {
  sequenceOfCursor,
  type BusEvent,
  type DeliveredEvent,
  type EventBus,
  type EventDomain,
  type EventIterator,
} from './bus.js';

/**
 * Events a subscriber may have waiting before it is failed as a slow consumer.
 * @default 1_000
 */
export const DEFAULT_SUBSCRIBER_BUFFER = 1_000;

/** Thrown to a subscriber that fell too far behind. */
export class SlowConsumerError extends Error {
  constructor(
    readonly limit: number,
    options?: ErrorOptions,
  ) {
    super(
      `slow consumer: more than ${limit} events waiting to be sent; resubscribe with after: <last cursor received>`,
      options,
    );
    this.name = 'SlowConsumerError';
  }
}

/** Thrown to subscribers when the shared stream of their domain ended unexpectedly. */
export class StreamInterruptedError extends Error {
  constructor(domain: EventDomain, cause: unknown) {
    super(
      `the ${domain} event stream was interrupted (${cause instanceof Error ? cause.message : String(cause)}); resubscribe with after: <last cursor received>`,
      { cause },
    );
    this.name = 'StreamInterruptedError';
  }
}

/** Options of {@link createFanout}. */
export interface FanoutOptions {
  /** @default DEFAULT_SUBSCRIBER_BUFFER */
  readonly bufferSize?: number;
}

/** What the fan-out is doing (diagnostics, the fan-out benchmark). */
export interface FanoutStats {
  /** GraphQL-level subscribers now. */
  readonly subscribers: number;
  /** Subscribers ever started (monotonic: tests await their own subscription with it). */
  readonly started: number;
  /** Bus subscriptions now (shared ones + replays in progress). */
  readonly busSubscriptions: number;
  /** Subscribers failed as slow consumers since start. */
  readonly slowConsumers: number;
  /** Resuming subscribers handed over from their replay to the shared stream since start. */
  readonly handovers: number;
  /**
   * Events dropped because their subscription had already yielded an event at or after their
   * stream sequence (a redelivering bus). 0 unless something below the fan-out misbehaves.
   */
  readonly duplicatesDropped: number;
}

/**
 * What the fan-out announces, for tests and diagnostics to await instead of polling its stats:
 * `started` when a subscriber is registered (its events are being collected from then on),
 * `handover` when a resuming subscriber leaves its replay for the shared stream, `ended` when a
 * subscriber is gone (returned, failed or closed), `duplicate` for each event dropped by the
 * at-most-once rule, `delivered` for each event yielded to a subscriber (with the event's time:
 * metrics measure the lag). Each listener gets the subscriber's domain.
 */
export interface FanoutEvents {
  started: [domain: EventDomain];
  handover: [domain: EventDomain];
  ended: [domain: EventDomain];
  duplicate: [domain: EventDomain, sequence: number];
  delivered: [domain: EventDomain, at: string, correlationId: string | null];
}

/** The fan-out: a bus itself, with its stats and its events. */
export interface Fanout extends EventBus {
  stats(): FanoutStats;
  readonly events: EventEmitter<FanoutEvents>;
}

interface Subscriber {
  readonly filter: ((event: BusEvent) => boolean) | undefined;
  readonly queue: DeliveredEvent[];
  /** Set while replaying after a cursor. */
  replay: (AsyncIterator<DeliveredEvent> & { return(): Promise<unknown> }) | null;
  /** Highest sequence the replay produced (matching or not), or the cursor's before that. */
  replayed: number;
  /**
   * Sequence of the last event yielded (initially the cursor, or for a live subscriber the shared
   * stream's position when it subscribed): nothing at or below it is ever yielded.
   */
  yielded: number;
  failed: Error | null;
  done: boolean;
  wake: (() => void) | null;
}

interface Pump {
  readonly subscribers: Set<Subscriber>;
  readonly source: AsyncIterable<DeliveredEvent> & { return(): Promise<unknown> };
  /** Sequence of the last event the shared stream delivered; null before its first. */
  position: number | null;
}

const sequenceOf = (event: DeliveredEvent): number =>
  sequenceOfCursor(event.cursor, event.domain) ?? 0;

/** Wraps `bus` with shared per-domain subscriptions and bounded per-subscriber queues. */
export function createFanout(bus: EventBus, options: FanoutOptions = {}): Fanout {
  const limit = options.bufferSize ?? DEFAULT_SUBSCRIBER_BUFFER;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new Error(`bufferSize: expected a positive integer, got ${String(limit)}`);
  const pumps = new Map<EventDomain, Pump>();
  let replays = 0;
  let slowConsumers = 0;
  let handovers = 0;
  let started = 0;
  let duplicatesDropped = 0;
  let closed = false;
  const events = new EventEmitter<FanoutEvents>();

  const fail = (sub: Subscriber, error: Error) => {
    if (sub.failed || sub.done) return;
    sub.failed = error;
    sub.queue.length = 0;
    sub.wake?.();
  };

  const offer = (sub: Subscriber, event: DeliveredEvent) => {
    if (sub.done || sub.failed) return;
    // The replay has delivered it already (the shared stream is behind the replay).
    if (sub.replay && sequenceOf(event) <= sub.replayed) return;
    if (sub.filter && !sub.replay && !sub.filter(event)) return;
    if (sub.queue.length >= limit) {
      if (sub.replay) {
        // Still replaying: forget the live backlog, the replay will cover it.
        sub.queue.length = 0;
      } else {
        slowConsumers++;
        fail(sub, new SlowConsumerError(limit));
        return;
      }
    }
    sub.queue.push(event);
    sub.wake?.();
  };

  const pumpOf = (domain: EventDomain): Pump => {
    const existing = pumps.get(domain);
    if (existing) return existing;
    const pump: Pump = {
      subscribers: new Set(),
      source: bus.subscribe(domain, {}) as Pump['source'],
      position: null,
    };
    pumps.set(domain, pump);
    void (async () => {
      try {
        for await (const event of pump.source) {
          pump.position = sequenceOf(event);
          for (const sub of pump.subscribers) offer(sub, event);
        }
        if (!closed) throw new Error('the stream ended');
      } catch (error) {
        if (closed) return;
        // Everyone on it must resume; the next subscriber starts a new pump.
        if (pumps.get(domain) === pump) pumps.delete(domain);
        for (const sub of pump.subscribers) fail(sub, new StreamInterruptedError(domain, error));
      }
    })();
    return pump;
  };

  return {
    publish: (event) => bus.publish(event),
    ping: () => bus.ping(),

    subscribe<T>(
      domain: EventDomain,
      subscription: { readonly after?: string; readonly filter?: (event: BusEvent<T>) => boolean },
    ) {
      if (closed) throw new Error('event bus is closed');
      const filter = subscription.filter as ((event: BusEvent) => boolean) | undefined;
      // A replay first (may throw CursorExpiredError synchronously, like the bus itself).
      const replay =
        subscription.after === undefined
          ? null
          : (bus
              .subscribe(domain, { after: subscription.after })
              [Symbol.asyncIterator]() as Subscriber['replay']);
      const sub: Subscriber = {
        filter,
        queue: [],
        replay,
        // An unreadable cursor fails the replay's first next() (or its subscribe) before this is used.
        replayed:
          subscription.after === undefined
            ? 0
            : (sequenceOfCursor(subscription.after, domain) ?? 0),
        // Nothing up to the cursor, or (live) up to the shared stream's position, is news to it.
        yielded: 0,
        failed: null,
        done: false,
        wake: null,
      };
      if (replay) replays++;
      started++;
      const pump = pumpOf(domain);
      sub.yielded = replay ? sub.replayed : (pump.position ?? 0);
      pump.subscribers.add(sub);
      events.emit('started', domain);

      const endReplay = async () => {
        const r = sub.replay;
        if (!r) return;
        sub.replay = null;
        replays--;
        await r.return();
      };
      const finish = async () => {
        if (!sub.done) {
          sub.done = true;
          pump.subscribers.delete(sub);
          sub.queue.length = 0;
          sub.wake?.();
          events.emit('ended', domain);
        }
        await endReplay();
      };
      /** The at-most-once rule: true when `event` may be yielded (and records it). */
      const admit = (event: DeliveredEvent): boolean => {
        const sequence = sequenceOf(event);
        if (sequence <= sub.yielded) {
          duplicatesDropped++;
          events.emit('duplicate', domain, sequence);
          return false;
        }
        sub.yielded = sequence;
        events.emit('delivered', domain, event.at, event.correlationId);
        return true;
      };
      /**
       * Whether the shared stream has reached the replay, so the subscriber can continue from its
       * queue with no gap (the queue starts right after the last replayed event, or the shared
       * stream's last event is that event) and no duplicate (all it delivers from now on is newer).
       */
      const caughtUp = (): boolean => {
        // Events the replay produced since they were queued: covered already, not duplicates.
        while (sub.queue[0] && sequenceOf(sub.queue[0]) <= sub.replayed) sub.queue.shift();
        const first = sub.queue[0];
        return first ? sequenceOf(first) === sub.replayed + 1 : pump.position === sub.replayed;
      };

      const iterator: EventIterator<T> = {
        [Symbol.asyncIterator]() {
          return iterator;
        },
        async next() {
          for (;;) {
            if (sub.done || closed) return { done: true, value: undefined };
            if (sub.failed) {
              const error = sub.failed;
              await finish();
              throw error;
            }
            if (sub.replay) {
              if (caughtUp()) {
                if (filter) {
                  const kept = sub.queue.filter((e) => filter(e));
                  sub.queue.length = 0;
                  sub.queue.push(...kept);
                }
                handovers++;
                await endReplay();
                events.emit('handover', domain);
                continue;
              }
              let result: IteratorResult<DeliveredEvent>;
              try {
                result = await sub.replay.next();
              } catch (error) {
                await finish();
                throw error;
              }
              if (result.done) {
                if (sub.done || closed) return { done: true, value: undefined };
                await finish();
                throw new StreamInterruptedError(domain, new Error('the replay ended'));
              }
              sub.replayed = Math.max(sub.replayed, sequenceOf(result.value));
              if ((!filter || filter(result.value)) && admit(result.value))
                return { done: false, value: result.value as DeliveredEvent<T> };
              continue;
            }
            const event = sub.queue.shift();
            if (event) {
              if (admit(event)) return { done: false, value: event as DeliveredEvent<T> };
              continue;
            }
            await new Promise<void>((resolve) => (sub.wake = resolve));
            sub.wake = null;
          }
        },
        async return() {
          await finish();
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },

    stats: () => {
      let subscribers = 0;
      for (const pump of pumps.values()) subscribers += pump.subscribers.size;
      return {
        subscribers,
        started,
        busSubscriptions: pumps.size + replays,
        slowConsumers,
        handovers,
        duplicatesDropped,
      };
    },

    events,

    async close() {
      if (closed) return;
      closed = true;
      const all = [...pumps.values()];
      pumps.clear();
      for (const pump of all) for (const sub of pump.subscribers) sub.wake?.();
      await Promise.all(all.map((pump) => pump.source.return()));
    },
  };
}

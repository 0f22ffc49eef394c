/**
 * The in-process event bus: the embedded default of the bus port (subscriptions/bus.ts) for one
 * process. Events get a per-domain sequence; a bounded history lets a subscriber resume after a
 * cursor; a duplicate event id is dropped within the history (de-duplication like JetStream's).
 */
import {
  CursorExpiredError,
  cursorOf,
  sequenceOfCursor,
  type BusEvent,
  type DeliveredEvent,
  type EventBus,
  type EventDomain,
  type EventIterator,
} from './bus.js';

/**
 * Events kept per domain for resuming subscribers.
 * @default 10_000
 */
export const DEFAULT_MEMORY_BUS_HISTORY = 10_000;

/** Options of {@link createMemoryBus}. */
export interface MemoryBusOptions {
  /** @default DEFAULT_MEMORY_BUS_HISTORY */
  readonly history?: number;
}

interface Stream {
  sequence: number;
  readonly events: DeliveredEvent[];
  readonly ids: Set<string>;
  readonly listeners: Set<() => void>;
}

/** Sequence of the oldest event kept (the next one when none is kept). */
const oldestOf = (s: Stream): number => s.sequence - s.events.length + 1;

/** Makes an in-process bus. */
export function createMemoryBus(options: MemoryBusOptions = {}): EventBus & {
  /** Every event of a domain still kept (tests and diagnostics). */
  history(domain: EventDomain): readonly DeliveredEvent[];
} {
  const limit = options.history ?? DEFAULT_MEMORY_BUS_HISTORY;
  const streams = new Map<EventDomain, Stream>();
  let closed = false;
  const stream = (domain: EventDomain): Stream => {
    let s = streams.get(domain);
    if (!s)
      streams.set(domain, (s = { sequence: 0, events: [], ids: new Set(), listeners: new Set() }));
    return s;
  };

  return {
    async publish(event) {
      if (closed) throw new Error('event bus is closed');
      const s = stream(event.domain);
      if (s.ids.has(event.id)) return; // already published: de-duplicated by id
      s.sequence++;
      s.events.push({ ...event, cursor: cursorOf(event.domain, s.sequence) });
      s.ids.add(event.id);
      while (s.events.length > limit) {
        const dropped = s.events.shift();
        if (dropped) s.ids.delete(dropped.id);
      }
      for (const listener of s.listeners) listener();
    },
    subscribe<T>(
      domain: EventDomain,
      subscription: { readonly after?: string; readonly filter?: (event: BusEvent<T>) => boolean },
    ) {
      const s = stream(domain);
      let next: number;
      if (subscription.after === undefined) {
        next = s.sequence + 1;
      } else {
        const sequence = sequenceOfCursor(subscription.after, domain);
        if (sequence === null)
          throw new CursorExpiredError(subscription.after, s.events.length > 0 ? oldestOf(s) : 0);
        next = sequence + 1;
        if (next < oldestOf(s)) throw new CursorExpiredError(subscription.after, oldestOf(s));
      }
      let wake: (() => void) | null = null;
      const listener = () => wake?.();
      s.listeners.add(listener);
      let done = false;
      const iterator: EventIterator<T> = {
        [Symbol.asyncIterator]() {
          return iterator;
        },
        async next() {
          for (;;) {
            if (done || closed) return { done: true, value: undefined };
            const first = oldestOf(s);
            // Fell behind the history kept: its next event is gone, never skip it silently.
            if (next < first) throw new CursorExpiredError(cursorOf(domain, next - 1), first);
            const index = next - first;
            const event = index >= 0 ? s.events[index] : undefined;
            if (event) {
              next++;
              if (!subscription.filter || subscription.filter(event as BusEvent<T>))
                return { done: false, value: event as DeliveredEvent<T> };
              continue;
            }
            await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
          }
        },
        async return() {
          done = true;
          s.listeners.delete(listener);
          wake?.();
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },
    history: (domain) => stream(domain).events.slice(),
    async ping() {
      if (closed) throw new Error('event bus is closed');
    },
    async close() {
      closed = true;
      for (const s of streams.values()) for (const listener of s.listeners) listener();
    },
  };
}

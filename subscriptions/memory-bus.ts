/**
 * The in-process event bus: the embedded default of the bus port (subscriptions/bus.ts) for one
 * process. Events get a per-domain sequence; a bounded history lets a subscriber resume after a
 * cursor; a duplicate event id is dropped within the history (de-duplication like JetStream's).
 */
import type { BusEvent, DeliveredEvent, EventBus, EventDomain } from './bus.js';

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

/** Thrown to a subscriber whose cursor is older than the history kept. */
export class CursorExpiredError extends Error {
  constructor(cursor: string, oldest: number) {
    super(
      `cursor ${JSON.stringify(cursor)} is older than the events kept (oldest sequence ${oldest})`,
    );
    this.name = 'CursorExpiredError';
  }
}

interface Stream {
  sequence: number;
  readonly events: DeliveredEvent[];
  readonly ids: Set<string>;
  readonly listeners: Set<() => void>;
}

const cursorOf = (domain: EventDomain, sequence: number) => `${domain}:${sequence}`;

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
        const match = /^([a-z]+):(\d+)$/.exec(subscription.after);
        if (!match || match[1] !== domain)
          throw new CursorExpiredError(
            subscription.after,
            s.events[0] ? Number(s.events[0].cursor.split(':')[1]) : 0,
          );
        next = Number(match[2]) + 1;
        const oldest = s.events[0] ? Number(s.events[0].cursor.split(':')[1]) : s.sequence + 1;
        if (next < oldest) throw new CursorExpiredError(subscription.after, oldest);
      }
      let wake: (() => void) | null = null;
      const listener = () => wake?.();
      s.listeners.add(listener);
      let done = false;
      const iterator: AsyncIterableIterator<DeliveredEvent<T>> & {
        return(): Promise<IteratorResult<DeliveredEvent<T>>>;
      } = {
        [Symbol.asyncIterator]() {
          return iterator;
        },
        async next() {
          for (;;) {
            if (done || closed) return { done: true, value: undefined };
            const first = s.events[0] ? Number(s.events[0].cursor.split(':')[1]) : s.sequence + 1;
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
    async close() {
      closed = true;
      for (const s of streams.values()) for (const listener of s.listeners) listener();
    },
  };
}

/**
 * The event-bus port: what workflows and ingestion publish and subscriptions consume, with two
 * implementations (NATS JetStream in nats-bus.ts, in-process in memory-bus.ts). Payloads and
 * subjects of each domain: events.ts.
 */

/** Domains with a stream of their own. */
export type EventDomain = 'order' | 'shipment' | 'inventory' | 'customer';

/** Every domain, in a fixed order. */
export const EVENT_DOMAINS: readonly EventDomain[] = ['order', 'shipment', 'inventory', 'customer'];

/** A canonical event as it travels on the bus. */
export interface BusEvent<T = unknown> {
  /** Unique per event; the bus de-duplicates on it. */
  readonly id: string;
  readonly domain: EventDomain;
  /** Subject, e.g. `crossdock.order.status.SO-100001`. */
  readonly subject: string;
  readonly at: string;
  readonly correlationId: string | null;
  readonly payload: T;
}

/** A delivered event with the cursor that resumes right after it. */
export interface DeliveredEvent<T = unknown> extends BusEvent<T> {
  readonly cursor: string;
}

/** The bus. */
export interface EventBus {
  /** Resolves once the bus has acknowledged (persisted) the event. */
  publish(event: BusEvent): Promise<void>;
  /** Events of a domain matching `filter`, from just after `after` when given. */
  subscribe<T>(
    domain: EventDomain,
    options: { readonly after?: string; readonly filter?: (event: BusEvent<T>) => boolean },
  ): AsyncIterable<DeliveredEvent<T>> & { return(): Promise<unknown> };
  /** Resolves when the bus can take publishes now; rejects saying why not (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A subscription's iterator, as every bus and the fan-out return it. */
export type EventIterator<T> = AsyncIterableIterator<DeliveredEvent<T>> & {
  return(): Promise<IteratorResult<DeliveredEvent<T>>>;
};

/** The cursor of the event at `sequence` in a domain's stream: `<domain>:<sequence>`. */
export const cursorOf = (domain: EventDomain, sequence: number): string => `${domain}:${sequence}`;

/** The sequence a cursor of `domain` names, or null when it is not a cursor of that domain. */
export function sequenceOfCursor(cursor: string, domain: EventDomain): number | null {
  const match = /^([a-z]+):(\d+)$/.exec(cursor);
  return match && match[1] === domain ? Number(match[2]) : null;
}

/** Thrown to a subscriber whose cursor is older than what the bus keeps (or is not a cursor). */
export class CursorExpiredError extends Error {
  constructor(cursor: string, oldest: number, options?: ErrorOptions) {
    super(
      `cursor ${JSON.stringify(cursor)} is older than the events kept (oldest sequence ${oldest})`,
      options,
    );
    this.name = 'CursorExpiredError';
  }
}

/**
 * The trail (issue #11): what this process did recently, by correlation ID — GraphQL operations,
 * system calls, bus publishes, webhook verdicts — so an operator can ask for everything one
 * correlation ID touched (`Query.trace`, which adds the durable ledger of every replica).
 *
 * Bounded: the newest {@link DEFAULT_TRAIL_ENTRIES} entries in memory, per Crossdock instance,
 * dropped oldest first. It is a recent view of this replica, not a store: a transaction another
 * replica served shows its ledger steps, not its calls (traces exported over OTLP are the
 * cross-replica record).
 */

/** What kind of thing happened. */
export type TrailKind = 'OPERATION' | 'SYSTEM_CALL' | 'EVENT' | 'WEBHOOK';

/** One thing done under a correlation ID. */
export interface TrailEntry {
  readonly correlationId: string;
  readonly kind: TrailKind;
  /** ms since the epoch. */
  readonly at: number;
  /** The operation's name, `<system> <operation>`, the event subject, the webhook's system. */
  readonly name: string;
  /** ok, error, a status code, duplicate... */
  readonly outcome: string;
  readonly durationMs: number | null;
  /** A short detail, never a secret (the caller's key id, the delivery id, the status). */
  readonly detail: string | null;
}

/** Most entries a trail keeps. */
export const DEFAULT_TRAIL_ENTRIES = 20_000;
/** Most entries one correlation ID keeps (a runaway loop cannot evict everyone else's). */
export const MAX_PER_CORRELATION = 500;

/** The trail of one Crossdock instance. */
export interface Trail {
  record(entry: TrailEntry): void;
  /** The entries of one correlation ID, oldest first. */
  of(correlationId: string): TrailEntry[];
  /** How many entries it holds. */
  size(): number;
}

/** Makes a trail holding at most `capacity` entries. */
export function createTrail(capacity = DEFAULT_TRAIL_ENTRIES): Trail {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new TypeError(`trail: expected a capacity of at least 1 entry, got ${capacity}`);
  }
  // Each correlation's entries, oldest first.
  const byCorrelation = new Map<string, TrailEntry[]>();
  // Every entry recorded, in order, in a ring of `capacity` slots: the slot about to be written
  // holds the oldest entry, dropped then (no search: a Map whose oldest keys were deleted and
  // set again made finding the oldest cost a scan over its holes, 9 µs per request).
  const ring: (TrailEntry | undefined)[] = new Array<TrailEntry | undefined>(capacity);
  let next = 0;
  let size = 0;
  /** Drops `entry` from its correlation's list, where it is the oldest if still there. */
  const drop = (entry: TrailEntry) => {
    const list = byCorrelation.get(entry.correlationId);
    if (list?.[0] !== entry) return; // dropped already (its correlation's cap)
    list.shift();
    size--;
    if (list.length === 0) byCorrelation.delete(entry.correlationId);
  };
  return {
    record(entry) {
      const oldest = ring[next];
      if (oldest) drop(oldest);
      ring[next] = entry;
      next = (next + 1) % capacity;
      let list = byCorrelation.get(entry.correlationId);
      if (!list) byCorrelation.set(entry.correlationId, (list = []));
      if (list.length >= MAX_PER_CORRELATION) {
        list.shift();
        size--;
      }
      list.push(entry);
      size++;
    },
    of: (correlationId) => [...(byCorrelation.get(correlationId) ?? [])],
    size: () => size,
  };
}

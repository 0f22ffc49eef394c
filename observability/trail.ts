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
const MAX_PER_CORRELATION = 500;

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
  // Insertion-ordered: the first key is the correlation whose newest entry is oldest.
  const byCorrelation = new Map<string, TrailEntry[]>();
  let size = 0;
  return {
    record(entry) {
      const list = byCorrelation.get(entry.correlationId) ?? [];
      byCorrelation.delete(entry.correlationId);
      byCorrelation.set(entry.correlationId, list);
      if (list.length >= MAX_PER_CORRELATION) {
        list.shift();
        size--;
      }
      list.push(entry);
      size++;
      while (size > capacity) {
        const [oldest] = byCorrelation;
        if (!oldest) break;
        const [id, entries] = oldest;
        entries.shift();
        size--;
        if (entries.length === 0) byCorrelation.delete(id);
      }
    },
    of: (correlationId) => [...(byCorrelation.get(correlationId) ?? [])],
    size: () => size,
  };
}

/**
 * The change-feed poller (issue #4): systems that send no webhooks (in the embedded
 * configuration the 3PL) are asked what changed, every `intervalMs`, from a checkpoint kept in
 * the store so that a restart — or another replica — carries on where the last poll ended.
 *
 * Per feed and tick:
 *   1. skip quietly while the source's breaker is OPEN (it would fail fast anyway; the
 *      breaker's own probe decides when the source is back, and polling resumes with it);
 *   2. read the checkpoint `poll:<source>`;
 *   3. `changesSince(checkpoint)` (null the first time: it only takes a checkpoint of now);
 *   4. hand the events to `apply` — BEFORE moving the checkpoint, so delivery is at least once:
 *      when `apply` throws, the checkpoint stays and the next tick reads the same window again;
 *   5. advance the checkpoint by compare-and-set from the value read in 2. Losing it means
 *      another replica polled the same window and advanced first: not an error (both applied
 *      the same events, whose ids make the repeat harmless downstream).
 *
 * Ticks never overlap (a tick, timer or `pollOnce`, starts when the previous one has ended);
 * feeds of one tick run side by side and a failing one is reported through `onError` without
 * holding up the others. Timers are unref'd; `close()` waits for a tick in flight.
 */
import { mintCorrelationId, withCorrelationId } from '../observability/correlation.js';
import type { ChangeFeed, Connector, SourceEvent } from '../sources/contract.js';
import type { Store } from '../store/contract.js';

/** Who `apply` is told the events come from (the ledger's caller for background work). */
export const POLLER_CALLER = 'system';

/** The store checkpoint of `source`'s feed. */
export function pollCheckpointName(source: string): string {
  return `poll:${source}`;
}

/** What a polled feed's events are handed to (normalize, record, publish). */
export type ApplyEvents = (
  events: readonly SourceEvent[],
  context: { readonly caller: string; readonly correlationId: string | null },
) => Promise<{ readonly published: number }>;

/** Options of {@link createPoller}. */
export interface PollerOptions {
  /** The connectors to poll; their names must differ (each has its own checkpoint). */
  readonly feeds: readonly (Connector & ChangeFeed)[];
  /** Where checkpoints live; shared by every replica. */
  readonly store: Pick<Store, 'checkpoints'>;
  /** Receives each feed's events, oldest first; a throw leaves the checkpoint where it was. */
  readonly apply: ApplyEvents;
  /** Time from the end of one tick to the start of the next, in ms (a positive integer). */
  readonly intervalMs: number;
  /**
   * The clock of the checkpoints' `updatedAt`.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Reports a feed's failed tick (the source, the store or `apply` failed). A throw inside it
   * is caught and ignored: reporting never stops polling.
   */
  readonly onError: (error: unknown, source: string) => void;
}

/**
 * How a feed's tick ended:
 * - `baseline`: the first poll took a checkpoint (no events);
 * - `advanced`: events (possibly none new) were applied and the checkpoint moved;
 * - `unchanged`: nothing moved the checkpoint (no change since, or only the overlap's repeats);
 * - `lost`: another replica advanced the checkpoint first (its window was applied here too);
 * - `skipped`: the source's breaker is OPEN, nothing was asked;
 * - `failed`: the feed, the store or `apply` threw (reported through `onError`).
 */
export type PollOutcome = 'baseline' | 'advanced' | 'unchanged' | 'lost' | 'skipped' | 'failed';

/** One feed's part of a tick. */
export interface PollResult {
  readonly source: string;
  /** Events handed to `apply` and accepted by it (0 when it threw). */
  readonly events: number;
  /** What `apply` reported as published. */
  readonly published: number;
  /** True when this tick moved (or created) the stored checkpoint. */
  readonly advanced: boolean;
  readonly outcome: PollOutcome;
  /** The checkpoint the tick wrote, else the one it read (null: none yet, or not read). */
  readonly checkpoint: string | null;
}

/** The poller of one process. */
export interface Poller {
  /** Polls at once, then every `intervalMs` after each tick ends. Idempotent; ignored after close. */
  start(): void;
  /** Runs one tick now (after a tick in flight, never alongside it). */
  pollOnce(): Promise<PollResult[]>;
  /** Stops the timer and waits for a tick in flight. Idempotent. */
  close(): Promise<void>;
}

/** Makes the poller of the given feeds; call `start()` to poll on a timer. */
export function createPoller(options: PollerOptions): Poller {
  const { feeds, store, apply, intervalMs } = options;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
    throw new TypeError(`poller: expected intervalMs to be a positive integer, got ${intervalMs}`);
  }
  const names = feeds.map((feed) => feed.name);
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice !== undefined) {
    throw new TypeError(
      `poller: expected one feed per source, got ${JSON.stringify(twice)} twice (they would share a checkpoint)`,
    );
  }
  const now = options.now ?? Date.now;
  const report = (error: unknown, source: string): void => {
    try {
      options.onError(error, source);
    } catch {
      // Documented: a failing reporter must not stop the poller.
    }
  };

  // One correlation per poll: the change-feed call, and everything the events cause.
  const pollFeed = (feed: Connector & ChangeFeed): Promise<PollResult> => {
    const correlationId = mintCorrelationId('poll', feed.name);
    return withCorrelationId(correlationId, () => pollOnce(feed, correlationId));
  };

  const pollOnce = async (
    feed: Connector & ChangeFeed,
    correlationId: string,
  ): Promise<PollResult> => {
    const source = feed.name;
    const result = (
      outcome: PollOutcome,
      checkpoint: string | null,
      events = 0,
      published = 0,
    ): PollResult => ({
      source,
      events,
      published,
      advanced: outcome === 'baseline' || outcome === 'advanced',
      outcome,
      checkpoint,
    });
    const name = pollCheckpointName(source);
    let expected: string | null = null;
    try {
      // OPEN fails fast without calling the system; HALF_OPEN lets this poll be the probe.
      if (feed.health().state === 'OPEN') return result('skipped', null);
      expected = (await store.checkpoints.get(name))?.value ?? null;
      const { events, checkpoint } = await feed.changesSince(expected);
      let published = 0;
      if (events.length > 0) {
        ({ published } = await apply(events, { caller: POLLER_CALLER, correlationId }));
      }
      if (checkpoint === expected) return result('unchanged', expected, events.length, published);
      const moved = await store.checkpoints.advance(name, expected, checkpoint, now());
      if (!moved) return result('lost', expected, events.length, published);
      return result(
        expected === null ? 'baseline' : 'advanced',
        checkpoint,
        events.length,
        published,
      );
    } catch (error) {
      report(error, source);
      return result('failed', expected);
    }
  };

  const tick = (): Promise<PollResult[]> => Promise.all(feeds.map(pollFeed));

  // Every tick chains onto the last, so two never run at once.
  let tail: Promise<unknown> = Promise.resolve();
  const enqueue = (): Promise<PollResult[]> => {
    const run = tail.then(tick);
    tail = run.catch(() => undefined);
    return run;
  };

  let started = false;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  const schedule = (delayMs: number): void => {
    timer = setTimeout(() => {
      timer = null;
      void enqueue()
        // A tick reports each feed's failure itself; this only catches a bug in the poller.
        .catch((error: unknown) => report(error, 'poller'))
        .finally(() => {
          if (!closed) schedule(intervalMs);
        });
    }, delayMs);
    timer.unref();
  };

  return {
    start() {
      if (started || closed) return;
      started = true;
      schedule(0);
    },
    pollOnce() {
      if (closed) return Promise.reject(new Error('poller: pollOnce() after close()'));
      return enqueue();
    },
    async close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await tail;
    },
  };
}

/**
 * Source health over time (`SourceHealth.history`): every interval, one sample of each source's
 * breaker (state, calls, failures, error rate, p50 and p95 latency of its rolling window), the
 * newest {@link DEFAULT_SOURCE_HEALTH_SAMPLES} kept per source, so a console opened now can chart
 * the last hour.
 *
 * One per running Crossdock (server/app.ts makes it and closes it first on shutdown, before the
 * connectors it reads close). It imports no business code: it is handed a function that reads
 * every source now (the connectors' `health()`). Its timer is unref'd; tests take a sample with
 * `sampleNow()` or hand in their own `schedule` and `now` instead of waiting on the clock.
 */

/** Time between two samples when none is configured (SOURCE_HEALTH_SAMPLE_MS). */
export const DEFAULT_SOURCE_HEALTH_SAMPLE_MS = 10_000;
/** Samples kept per source when none is configured (SOURCE_HEALTH_SAMPLES): an hour at 10 s. */
export const DEFAULT_SOURCE_HEALTH_SAMPLES = 360;

/**
 * The samples `SourceHealth.history` answers when `last` is not given (the SDL's default: ten
 * minutes at 10 s); SOURCE_HEALTH_SAMPLES may not be smaller, so the default is always in range.
 */
export const DEFAULT_HISTORY_LAST = 60;

/** A breaker state, as the source port names them (this folder imports no business code). */
export type SampledBreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

/** What is read of one source at a tick: the fields of a connector's health snapshot sampled. */
export interface HealthReading {
  readonly name: string;
  readonly state: SampledBreakerState;
  /** Calls in the breaker's rolling window (rejections while open included). */
  readonly requests: number;
  readonly failures: number;
  /** Failures over the calls that reached the system, 0..1. */
  readonly errorRate: number;
  readonly latencyMs: { readonly p50: number | null; readonly p95: number | null };
}

/** One sample of one source. */
export interface HealthSample {
  /** When it was taken, ms since the epoch. */
  readonly at: number;
  readonly state: SampledBreakerState;
  readonly requests: number;
  readonly failures: number;
  readonly errorRate: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
}

/** A scheduled repetition that can be cancelled. */
export interface Scheduled {
  cancel(): void;
}

/** What {@link createHealthHistory} needs. */
export interface HealthHistoryOptions {
  /** Every source's reading now (server/app.ts: each connector's `health()`). */
  readonly read: () => readonly HealthReading[];
  /**
   * Time between two samples, ms (an integer of at least 1).
   * @default DEFAULT_SOURCE_HEALTH_SAMPLE_MS // 10 s
   */
  readonly intervalMs?: number;
  /**
   * Samples kept per source, the newest (an integer of at least 1).
   * @default DEFAULT_SOURCE_HEALTH_SAMPLES // 360: an hour at 10 s
   */
  readonly capacity?: number;
  /**
   * The clock of the samples' `at`.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Runs `tick` every `intervalMs` until cancelled.
   * @default an unref'd setInterval (it never keeps the process alive)
   */
  readonly schedule?: (tick: () => void, intervalMs: number) => Scheduled;
  /**
   * Told when a tick's reading throws; that tick takes no sample and the next one runs as usual.
   * A throw inside it is ignored.
   * @default ignore the error
   */
  readonly onError?: (error: unknown) => void;
}

/** The health history of one Crossdock instance. */
export interface HealthHistory {
  /** Time between two samples, ms. */
  readonly intervalMs: number;
  /** Samples kept per source. */
  readonly capacity: number;
  /** Takes a sample of every source now, as a tick does. Throws what the reading throws. */
  sampleNow(): void;
  /** The newest `last` samples of `source`, oldest first; none for a source never sampled. */
  history(source: string, last: number): HealthSample[];
  /** Stops sampling; the samples taken stay readable. Idempotent. */
  close(): void;
}

/** An unref'd setInterval. */
function everyInterval(tick: () => void, intervalMs: number): Scheduled {
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return { cancel: () => clearInterval(timer) };
}

/** The newest items pushed, at most a capacity. */
interface Ring<T> {
  push(item: T): void;
  /** The newest `n`, oldest first. */
  last(n: number): T[];
}

/** A {@link Ring} of `capacity` items: pushing costs the same however many are kept. */
function ring<T>(capacity: number): Ring<T> {
  const items: T[] = [];
  let oldest = 0;
  return {
    push(item: T): void {
      if (items.length < capacity) {
        items.push(item);
        return;
      }
      items[oldest] = item;
      oldest = (oldest + 1) % capacity;
    },
    last(n: number): T[] {
      const count = Math.min(n, items.length);
      const out: T[] = [];
      for (let i = items.length - count; i < items.length; i++) {
        const item = items[(oldest + i) % items.length];
        if (item !== undefined) out.push(item);
      }
      return out;
    },
  };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(
      `health history: ${name}: expected an integer of at least 1, got ${value}`,
    );
  }
  return value;
}

/** Makes the health history of one instance and starts sampling every `intervalMs`. */
export function createHealthHistory(options: HealthHistoryOptions): HealthHistory {
  const intervalMs = positiveInteger(
    'intervalMs',
    options.intervalMs ?? DEFAULT_SOURCE_HEALTH_SAMPLE_MS,
  );
  const capacity = positiveInteger('capacity', options.capacity ?? DEFAULT_SOURCE_HEALTH_SAMPLES);
  const now = options.now ?? Date.now;
  const bySource = new Map<string, Ring<HealthSample>>();

  const sampleNow = (): void => {
    const readings = options.read();
    const at = now();
    for (const reading of readings) {
      let samples = bySource.get(reading.name);
      if (!samples) {
        samples = ring<HealthSample>(capacity);
        bySource.set(reading.name, samples);
      }
      samples.push({
        at,
        state: reading.state,
        requests: reading.requests,
        failures: reading.failures,
        errorRate: reading.errorRate,
        p50Ms: reading.latencyMs.p50,
        p95Ms: reading.latencyMs.p95,
      });
    }
  };

  const scheduled = (options.schedule ?? everyInterval)(() => {
    try {
      sampleNow();
    } catch (error) {
      try {
        options.onError?.(error);
      } catch {
        // Reporting a failed sample is never a reason to stop sampling.
      }
    }
  }, intervalMs);
  let closed = false;

  return {
    intervalMs,
    capacity,
    sampleNow,
    history: (source, last) => bySource.get(source)?.last(last) ?? [],
    close() {
      if (closed) return;
      closed = true;
      scheduled.cancel();
    },
  };
}

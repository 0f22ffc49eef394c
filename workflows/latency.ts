/**
 * Latency of workflow steps, as pure functions (issue #11, business views): the percentile
 * definition the API answers with, the SLA threshold that applies to a step, and the grouping of
 * measured steps by step, channel and warehouse. No I/O: business-views.ts reads the ledger and
 * hands the entries here. Tested case by case in test/latency.test.ts.
 */

/** The dimensions latency can be grouped by (the GraphQL `LatencyDimension` enum). */
export const LATENCY_DIMENSIONS = ['STEP', 'CHANNEL', 'WAREHOUSE'] as const;
export type LatencyDimension = (typeof LATENCY_DIMENSIONS)[number];

/**
 * One SLA threshold: steps matching `pattern` should take at most `ms`. A pattern is a step name
 * (`post:erp`), or a prefix ending in `*` (`reserve:*` matches `reserve:EAST`; `*` every step).
 */
export interface SlaThreshold {
  readonly pattern: string;
  readonly ms: number;
}

/** What a pattern may be: a step name of printable characters, with at most a trailing `*`. */
const PATTERN = /^[\x21-\x29\x2b-\x7e]{0,100}\*?$/;

/** Whether `pattern` is a valid SLA pattern (non-empty; `*` only at the end). */
export function isSlaPattern(pattern: string): boolean {
  return pattern.length > 0 && PATTERN.test(pattern);
}

/**
 * The threshold of `step`: an exact pattern wins, else the longest matching prefix pattern;
 * null when none matches (the step has no SLA).
 */
export function slaThresholdOf(step: string, thresholds: readonly SlaThreshold[]): number | null {
  let best: SlaThreshold | null = null;
  for (const threshold of thresholds) {
    const { pattern } = threshold;
    if (pattern === step) return threshold.ms;
    if (!pattern.endsWith('*')) continue;
    const prefix = pattern.slice(0, -1);
    if (!step.startsWith(prefix)) continue;
    if (best === null || prefix.length > best.pattern.length - 1) best = threshold;
  }
  return best?.ms ?? null;
}

/**
 * The `p`-th percentile (0 < p <= 100) of `values` by the nearest-rank method: the smallest
 * value such that at least p % of the values are at or below it — the value at rank
 * ⌈p/100 × n⌉ of the sorted values (1-based). Always one of the values, never interpolated; null
 * for no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile: expected 0 < p <= 100, got ${p}`);
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(rank, 1) - 1] ?? null;
}

/** One measured step: a ledger entry with a duration, and where it belongs. */
export interface MeasuredStep {
  readonly step: string;
  readonly channel: string | null;
  readonly warehouse: string | null;
  readonly durationMs: number;
}

/** One row of latency: a group's key (null for a dimension not grouped by) and its figures. */
export interface LatencyRow {
  readonly step: string | null;
  readonly channel: string | null;
  readonly warehouse: string | null;
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** Steps of the group that took longer than their step's threshold. */
  readonly breaches: number;
  /** The threshold of the group's step, when grouped by step and one applies. */
  readonly thresholdMs: number | null;
}

/**
 * Groups measured steps by `groupBy` (every dimension not named is null in the rows) and
 * summarises each group: count, nearest-rank p50 and p95, and breaches (durations strictly over
 * the step's threshold). Rows are sorted by step, channel, warehouse (nulls first).
 */
export function latencyRows(
  steps: readonly MeasuredStep[],
  groupBy: readonly LatencyDimension[],
  thresholds: readonly SlaThreshold[],
): LatencyRow[] {
  const by = new Set(groupBy);
  const groups = new Map<
    string,
    {
      step: string | null;
      channel: string | null;
      warehouse: string | null;
      durations: number[];
      breaches: number;
    }
  >();
  for (const measured of steps) {
    const key = {
      step: by.has('STEP') ? measured.step : null,
      channel: by.has('CHANNEL') ? measured.channel : null,
      warehouse: by.has('WAREHOUSE') ? measured.warehouse : null,
    };
    const id = JSON.stringify([key.step, key.channel, key.warehouse]);
    let group = groups.get(id);
    if (!group) {
      group = { ...key, durations: [], breaches: 0 };
      groups.set(id, group);
    }
    group.durations.push(measured.durationMs);
    const threshold = slaThresholdOf(measured.step, thresholds);
    if (threshold !== null && measured.durationMs > threshold) group.breaches += 1;
  }
  const order = (a: string | null, b: string | null) =>
    a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;
  return [...groups.values()]
    .map((g) => ({
      step: g.step,
      channel: g.channel,
      warehouse: g.warehouse,
      count: g.durations.length,
      p50Ms: percentile(g.durations, 50) ?? 0,
      p95Ms: percentile(g.durations, 95) ?? 0,
      breaches: g.breaches,
      thresholdMs: g.step === null ? null : slaThresholdOf(g.step, thresholds),
    }))
    .sort(
      (a, b) =>
        order(a.step, b.step) || order(a.channel, b.channel) || order(a.warehouse, b.warehouse),
    );
}

/** @jsxImportSource preact */
/**
 * Latency by step from the order ledger (Query.stepLatency), grouped by step, channel or
 * warehouse, drawn as bars with each step's SLA threshold marked, and the breaches themselves
 * (Query.slaBreaches).
 */
import { useMemo, useState } from 'preact/hooks';
import { formatMs, formatTime, useQuery } from './hooks.js';

const STEP_LATENCY = `query OpsLatency($since: DateTime!, $groupBy: [LatencyDimension!]) {
  stepLatency(since: $since, groupBy: $groupBy) {
    step channel warehouse count p50Ms p95Ms breaches thresholdMs
  }
}`;
const BREACHES = `query OpsBreaches($since: DateTime!) {
  slaBreaches(since: $since, first: 50) {
    nodes { orderId step at durationMs thresholdMs correlationId order { number } }
  }
}`;

interface Row {
  readonly step: string | null;
  readonly channel: string | null;
  readonly warehouse: string | null;
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly breaches: number;
  readonly thresholdMs: number | null;
}
interface Breach {
  readonly orderId: string;
  readonly step: string;
  readonly at: string;
  readonly durationMs: number;
  readonly thresholdMs: number;
  readonly correlationId: string | null;
  readonly order: { number: string } | null;
}

const WINDOWS = [
  { label: 'last hour', ms: 3_600_000 },
  { label: 'last 24 hours', ms: 86_400_000 },
  { label: 'last 7 days', ms: 7 * 86_400_000 },
] as const;
const GROUPINGS = [
  { label: 'step', groupBy: ['STEP'] },
  { label: 'step and channel', groupBy: ['STEP', 'CHANNEL'] },
  { label: 'step and warehouse', groupBy: ['STEP', 'WAREHOUSE'] },
  { label: 'channel', groupBy: ['CHANNEL'] },
  { label: 'warehouse', groupBy: ['WAREHOUSE'] },
] as const;

/** The latency view. */
export function LatencyView(props: { onOpenOrder(id: string): void }) {
  const [windowIndex, setWindowIndex] = useState(1);
  const [groupIndex, setGroupIndex] = useState(0);
  // The window's start, fixed until the operator changes it (a moving `since` would reload
  // forever); Refresh moves it to now.
  const [now, setNow] = useState(() => Date.now());
  const since = useMemo(
    () => new Date(now - WINDOWS[windowIndex]!.ms).toISOString(),
    [now, windowIndex],
  );
  const latency = useQuery<{ stepLatency: Row[] }>(STEP_LATENCY, {
    since,
    groupBy: GROUPINGS[groupIndex]!.groupBy,
  });
  const breaches = useQuery<{ slaBreaches: { nodes: Breach[] } }>(BREACHES, { since });
  const rows = latency.data?.stepLatency ?? [];
  const scale = Math.max(1, ...rows.map((r) => Math.max(r.p95Ms, r.thresholdMs ?? 0)));
  const label = (r: Row) =>
    [r.step, r.channel, r.warehouse].filter((x) => x !== null).join(' · ') || 'all';
  return (
    <section aria-labelledby="latency-title">
      <header class="view-header">
        <h2 id="latency-title">Latency by step</h2>
        <label>
          Window{' '}
          <select
            value={windowIndex}
            onChange={(e) => setWindowIndex(Number((e.currentTarget as HTMLSelectElement).value))}
          >
            {WINDOWS.map((w, i) => (
              <option key={w.label} value={i}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Group by{' '}
          <select
            value={groupIndex}
            onChange={(e) => setGroupIndex(Number((e.currentTarget as HTMLSelectElement).value))}
          >
            {GROUPINGS.map((g, i) => (
              <option key={g.label} value={i}>
                {g.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => setNow(Date.now())}>
          Refresh
        </button>
      </header>
      {latency.error && (
        <p role="alert" class="error">
          {latency.error}
        </p>
      )}
      <table class="bars">
        <caption>
          p50 (dark) and p95 (light) per group since {formatTime(since)}; the red mark is the SLA
          threshold
        </caption>
        <thead>
          <tr>
            <th scope="col">Group</th>
            <th scope="col">Steps</th>
            <th scope="col">p50</th>
            <th scope="col">p95</th>
            <th scope="col">Breaches</th>
            <th scope="col" class="bar-col">
              Chart
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && !latency.loading && (
            <tr>
              <td colSpan={6} class="muted">
                No timed steps in this window.
              </td>
            </tr>
          )}
          {rows.map((r) => (
            <tr key={label(r)} class={r.breaches > 0 ? 'breached' : ''}>
              <th scope="row">
                <code>{label(r)}</code>
              </th>
              <td>{r.count}</td>
              <td>{formatMs(r.p50Ms)}</td>
              <td>{formatMs(r.p95Ms)}</td>
              <td>{r.breaches > 0 ? <strong>{r.breaches}</strong> : 0}</td>
              <td class="bar-col" aria-hidden="true">
                <div class="bar">
                  <span class="p95" style={{ width: `${(r.p95Ms / scale) * 100}%` }} />
                  <span class="p50" style={{ width: `${(r.p50Ms / scale) * 100}%` }} />
                  {r.thresholdMs !== null && (
                    <span class="threshold" style={{ left: `${(r.thresholdMs / scale) * 100}%` }} />
                  )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>SLA breaches</h3>
      {breaches.error && (
        <p role="alert" class="error">
          {breaches.error}
        </p>
      )}
      <table>
        <caption>Steps slower than their threshold (SLA_STEP_MS), oldest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Order</th>
            <th scope="col">Step</th>
            <th scope="col">Took</th>
            <th scope="col">Threshold</th>
            <th scope="col">Correlation ID</th>
          </tr>
        </thead>
        <tbody>
          {(breaches.data?.slaBreaches.nodes ?? []).map((b, i) => (
            <tr key={i}>
              <td>{formatTime(b.at)}</td>
              <td>
                <button
                  type="button"
                  class="link"
                  onClick={() => props.onOpenOrder(b.order?.number ?? b.orderId)}
                >
                  {b.order?.number ?? b.orderId}
                </button>
              </td>
              <th scope="row">
                <code>{b.step}</code>
              </th>
              <td>{formatMs(b.durationMs)}</td>
              <td>{formatMs(b.thresholdMs)}</td>
              <td>
                <code class="small">{b.correlationId ?? '—'}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

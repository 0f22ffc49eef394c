/** @jsxImportSource preact */
/**
 * Sources: each system's breaker state, error rate and latency now and over the last samples
 * (SourceHealth.history), refreshed every few seconds.
 */
import { TimeChart } from './chart.js';
import { formatMs, formatTime, useQuery } from './hooks.js';

const SOURCE_HEALTH = `query OpsSources {
  sourceHealth {
    name kind state requests failures errorRate windowSeconds lastError lastStateChangeAt
    latencyMs { p50 p95 p99 }
    history(last: 60) { at state errorRate p50Ms p95Ms }
  }
}`;

interface Sample {
  readonly at: string;
  readonly state: string;
  readonly errorRate: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
}
interface Source {
  readonly name: string;
  readonly kind: string;
  readonly state: 'CLOSED' | 'OPEN' | 'HALF_OPEN';
  readonly requests: number;
  readonly failures: number;
  readonly errorRate: number;
  readonly windowSeconds: number;
  readonly lastError: string | null;
  readonly lastStateChangeAt: string | null;
  readonly latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  readonly history: readonly Sample[];
}

/** How often the view asks again, ms. */
export const SOURCES_REFRESH_MS = 5_000;

/** The sources view. */
export function SourcesView() {
  const health = useQuery<{ sourceHealth: Source[] }>(SOURCE_HEALTH, {}, SOURCES_REFRESH_MS);
  const sources = health.data?.sourceHealth ?? [];
  return (
    <section aria-labelledby="sources-title">
      <header class="view-header">
        <h2 id="sources-title">Sources</h2>
        <button type="button" onClick={() => void health.reload()}>
          Refresh
        </button>
      </header>
      {health.error && (
        <p role="alert" class="error">
          {health.error}
        </p>
      )}
      <table>
        <caption>Breaker state and the rolling window of each system</caption>
        <thead>
          <tr>
            <th scope="col">Source</th>
            <th scope="col">Breaker</th>
            <th scope="col">Calls</th>
            <th scope="col">Failures</th>
            <th scope="col">Error rate</th>
            <th scope="col">p50</th>
            <th scope="col">p95</th>
            <th scope="col">Last error</th>
          </tr>
        </thead>
        <tbody>
          {sources.map((s) => (
            <tr key={s.name} data-source={s.name}>
              <th scope="row">
                {s.name} <span class="muted">{s.kind}</span>
              </th>
              <td>
                <span class={`badge state-${s.state}`}>{s.state}</span>
                <div class="muted">
                  {s.lastStateChangeAt ? `since ${formatTime(s.lastStateChangeAt)}` : 'since start'}
                </div>
              </td>
              <td>{s.requests}</td>
              <td>{s.failures}</td>
              <td>{(s.errorRate * 100).toFixed(1)} %</td>
              <td>{formatMs(s.latencyMs.p50)}</td>
              <td>{formatMs(s.latencyMs.p95)}</td>
              <td class="wrap">{s.lastError ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="charts">
        {sources.map((s) => {
          const times = s.history.map((h) => Date.parse(h.at) / 1000);
          return (
            <figure key={s.name}>
              <figcaption>
                {s.name}: error rate and latency, last {s.history.length} samples
              </figcaption>
              <TimeChart
                title={`${s.name} error rate, percent`}
                unit="%"
                times={times}
                lines={[
                  {
                    label: 'error rate %',
                    color: '#c0392b',
                    values: s.history.map((h) => h.errorRate * 100),
                  },
                ]}
                height={110}
              />
              <TimeChart
                title={`${s.name} latency p50 and p95, milliseconds`}
                unit="ms"
                times={times}
                lines={[
                  { label: 'p50 ms', color: '#2471a3', values: s.history.map((h) => h.p50Ms) },
                  { label: 'p95 ms', color: '#7d3c98', values: s.history.map((h) => h.p95Ms) },
                ]}
                height={110}
              />
              <details>
                <summary>Samples as a table</summary>
                <table>
                  <caption>{s.name}: each sample, oldest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">At</th>
                      <th scope="col">Breaker</th>
                      <th scope="col">Error rate</th>
                      <th scope="col">p50</th>
                      <th scope="col">p95</th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.history.map((h) => (
                      <tr key={h.at}>
                        <td>{formatTime(h.at)}</td>
                        <td>{h.state}</td>
                        <td>{(h.errorRate * 100).toFixed(1)} %</td>
                        <td>{formatMs(h.p50Ms)}</td>
                        <td>{formatMs(h.p95Ms)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </details>
            </figure>
          );
        })}
      </div>
    </section>
  );
}

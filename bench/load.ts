/**
 * One load window of autocannon against a server: throughput, exact p50/p99 (from each
 * response's time, not autocannon's whole-millisecond histogram) and the CPU per request of the
 * server's processes (from /proc). bench/limits.ts and bench/processes.ts measure with it.
 */
import autocannon from 'autocannon';
import { cpuMsOf } from './support.js';

/** One server under load: where it listens and which processes do its work. */
export interface Target {
  readonly server: string;
  readonly url: string;
  /** Every process whose CPU the server's work is (one, or the workers of a cluster). */
  readonly pids: readonly number[];
  readonly headers: Readonly<Record<string, string>>;
}

/** What one load window measured. */
export interface Window {
  readonly requests: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly throughputRps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerRequest: number;
}

/** Loads `target` for `seconds` on `connections` connections; every answer passes `ok` or counts as an error. */
export async function load(
  target: Target,
  options: {
    readonly connections: number;
    readonly seconds: number;
    readonly method?: 'GET' | 'POST';
    readonly body?: () => string;
    readonly ok: (status: number, body: string) => boolean;
  },
): Promise<Window> {
  let bad = 0;
  let firstError: string | null = null;
  const latencies: number[] = [];
  const method = options.method ?? 'POST';
  const makeBody = options.body;
  const cpuOf = () => target.pids.reduce((ms, pid) => ms + cpuMsOf(pid), 0);
  const cpu0 = cpuOf();
  const instance = autocannon({
    url: target.url,
    method,
    headers: { ...target.headers },
    connections: options.connections,
    duration: options.seconds,
    requests: [
      {
        method,
        ...(makeBody
          ? { setupRequest: (req: Record<string, unknown>) => ({ ...req, body: makeBody() }) }
          : {}),
        onResponse: (status: number, body: string) => {
          if (options.ok(status, body)) return;
          bad++;
          firstError ??= `HTTP ${status} ${body.slice(0, 300)}`;
        },
      },
    ],
  } as unknown as autocannon.Options) as unknown as autocannon.Instance &
    PromiseLike<autocannon.Result>;
  // autocannon's own histogram keeps whole milliseconds; its response event has the exact time.
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
  });
  const result = await instance;
  const cpuMs = cpuOf() - cpu0;
  const requests = latencies.length;
  latencies.sort((a, b) => a - b);
  return {
    requests,
    errors: bad + result.errors + result.timeouts,
    firstError,
    throughputRps: Math.round(requests / result.duration),
    p50Ms: round2(percentile(latencies, 0.5)),
    p99Ms: round2(percentile(latencies, 0.99)),
    cpuUsPerRequest: requests > 0 ? Math.round((cpuMs * 1000) / requests) : 0,
  };
}

/** Nearest-rank percentile of sorted `xs`. */
function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  return xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] ?? 0;
}

export const round2 = (x: number): number => Math.round(x * 100) / 100;

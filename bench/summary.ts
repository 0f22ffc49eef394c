/**
 * Writes bench/RESULTS.md from bench/results/*.json (`npm run bench` runs it last; run it alone
 * with `tsx bench/summary.ts`). Results in the shape of bench/support.ts (`rows`) become tables
 * per workload and load, each server's medians over the interleaved rounds and its ratio to
 * Crossdock measured in the same run; the older result files (fan-out, placeOrder) are read for
 * their figures. The targets of issue #13 are checked against whatever was measured.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { BenchResult, BenchRow } from './support.js';
import { median } from './support.js';

const dir = new URL('results/', import.meta.url);

function load<T>(name: string): T | null {
  try {
    return JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as T;
  } catch {
    return null;
  }
}

/** The full run of a benchmark when there is one, else its quick run. */
function result(name: string): BenchResult | null {
  return load<BenchResult>(`${name}.json`) ?? load<BenchResult>(`${name}-quick.json`);
}

interface Cell {
  readonly server: string;
  readonly throughputRps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerRequest: number;
  readonly rounds: number;
  readonly calls?: Readonly<Record<string, number>> | undefined;
}

/** Rows grouped by workload and load; per server, medians over rounds. */
function cells(rows: readonly BenchRow[]): Map<string, Cell[]> {
  const groups = new Map<string, Map<string, BenchRow[]>>();
  for (const row of rows) {
    const load =
      row.rate !== undefined
        ? `${row.rate} req/s`
        : row.connections === null
          ? 'in process'
          : `${row.connections} conn`;
    const key = `${row.workload} | ${load}`;
    const byServer = groups.get(key) ?? new Map<string, BenchRow[]>();
    groups.set(key, byServer);
    byServer.set(row.server, [...(byServer.get(row.server) ?? []), row]);
  }
  const out = new Map<string, Cell[]>();
  for (const [key, byServer] of groups) {
    out.set(
      key,
      [...byServer].map(([server, rs]) => ({
        server,
        throughputRps: median(rs.map((r) => r.throughputRps)),
        p50Ms: median(rs.map((r) => r.p50Ms)),
        p99Ms: median(rs.map((r) => r.p99Ms)),
        cpuUsPerRequest: median(rs.map((r) => r.cpuUsPerRequest)),
        rounds: rs.length,
        calls: rs[0]?.systemCallsPerQuery,
      })),
    );
  }
  return out;
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : '—';
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');

function table(res: BenchResult): string {
  const lines: string[] = [];
  for (const [key, list] of cells(res.rows)) {
    const crossdock = list.find((c) => c.server === 'crossdock');
    lines.push(`**${key}**`, '');
    lines.push(
      '| server | req/s | p50 ms | p99 ms | CPU µs/req | Crossdock ÷ it: req/s | Crossdock ÷ it: CPU | calls per query | rounds |',
      '|---|---:|---:|---:|---:|---:|---:|---|---:|',
    );
    for (const c of list) {
      lines.push(
        `| ${c.server} | ${fmt(c.throughputRps)} | ${fmt(c.p50Ms, 2)} | ${fmt(c.p99Ms, 2)} | ${fmt(c.cpuUsPerRequest)} | ${crossdock && c !== crossdock ? ratio(crossdock.throughputRps, c.throughputRps) : ''} | ${crossdock && c !== crossdock ? ratio(crossdock.cpuUsPerRequest, c.cpuUsPerRequest) : ''} | ${
          c.calls
            ? Object.entries(c.calls)
                .map(([s, n]) => `${s} ${fmt(n, 2)}`)
                .join(', ')
            : ''
        } | ${c.rounds} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

function section(title: string, res: BenchResult | null, how: string): string {
  if (!res) return `## ${title}\n\nNot measured yet (${how}).\n`;
  const m = res.machine;
  return [
    `## ${title}`,
    '',
    `${how}. ${res.quick ? '**Quick run (a check of the harness; do not quote).** ' : ''}Measured ${res.at} on ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, Linux ${m.kernel}; load average ${m.loadAverage} at the start.`,
    '',
    `Settings: \`${JSON.stringify(res.settings)}\``,
    '',
    table(res),
    ...(res.notes?.length ? ['Notes:', '', ...res.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

interface FanoutLevel {
  readonly subscribers: number;
  readonly heapPerSubscriberKB: number | null;
  readonly rssPerSubscriberKB: number | null;
  readonly cpuPerDeliveryUs: number | null;
  readonly deliveriesPerSecond: number;
  readonly burstLatencyMs: { p50: number | null; p99: number | null };
  readonly oneByOneLatencyMs: { p50: number | null; p99: number | null };
}
interface FanoutResult {
  readonly at: string;
  readonly settings: unknown;
  readonly summary: readonly FanoutLevel[];
}
interface OrdersResult {
  readonly at: string;
  readonly duration: number;
  readonly connections: number;
  readonly placeOrder: {
    requestsPerSecond: number;
    latencyMs: { p50: number; p99: number };
    placed: number;
    cpuUsPerRequest?: { crossdock: number; sandbox: number };
    callsPerRequest?: Record<string, Record<string, number>>;
  };
  readonly replay?: {
    requestsPerSecond: number;
    cpuUsPerRequest: number;
    latencyMs: { p50: number; p99: number };
    replayed: number;
    other: number;
  };
}

function ordersSection(res: OrdersResult | null): string {
  if (!res) return '## Mutations\n\nNot measured yet (`npm run bench:orders`).\n';
  const p = res.placeOrder;
  const calls = Object.entries(p.callsPerRequest ?? {}).map(([system, routes]) => {
    const total = Object.values(routes).reduce((a, b) => a + b, 0);
    const detail = Object.entries(routes)
      .filter(([, n]) => n >= 0.05)
      .map(([route, n]) => `${route.replace(/^(\S+) .*\/([^/]+)$/, '$1 $2')} ${fmt(n, 2)}`)
      .join(', ');
    return `${system} ${fmt(total, 2)}${detail ? ` (${detail})` : ''}`;
  });
  return [
    '## Mutations (`npm run bench:orders`)',
    '',
    `Measured ${res.at}; ${res.connections} connections, ${res.duration} s per phase, embedded SQLite store, sandbox systems answering at once (in their own process on the same 2 cores).`,
    '',
    '| phase | per second | p50 ms | p99 ms | Crossdock CPU µs/request | sandbox CPU µs/request | answers |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| placeOrder (new key each) | ${fmt(p.requestsPerSecond)} | ${fmt(p.latencyMs.p50)} | ${fmt(p.latencyMs.p99)} | ${fmt(p.cpuUsPerRequest?.crossdock ?? NaN)} | ${fmt(p.cpuUsPerRequest?.sandbox ?? NaN)} | ${fmt(p.placed)} placed |`,
    ...(res.replay
      ? [
          `| replay (same key and input again) | ${fmt(res.replay.requestsPerSecond)} | ${fmt(res.replay.latencyMs.p50)} | ${fmt(res.replay.latencyMs.p99)} | ${fmt(res.replay.cpuUsPerRequest)} | | ${fmt(res.replay.replayed)} replayed, ${fmt(res.replay.other)} other |`,
        ]
      : []),
    '',
    ...(calls.length
      ? [
          `System calls per placed order (counted at the sandbox): ${calls.join('; ')}. A replay writes nothing; its payload (\`order { id status }\`) reads the order as it is now.`,
          '',
        ]
      : []),
  ].join('\n');
}

interface ProcessesRow extends BenchRow {
  readonly sandboxCpuUsPerRequest: number;
  readonly machineBusyPercent: number;
}

function processesSection(res: BenchResult | null): string {
  if (!res) return '## Two processes\n\nNot measured yet (`npm run bench:processes`).\n';
  const rows = res.rows as readonly ProcessesRow[];
  const lines = [
    '## Two processes (`npm run bench:processes`)',
    '',
    `One Crossdock process against two behind node:cluster's round-robin (bench/cluster.ts), interleaved, on one sandbox answering at once. ${res.quick ? '**Quick run (a check of the harness; do not quote).** ' : ''}Measured ${res.at}; load average ${res.machine.loadAverage} at the start. Settings: \`${JSON.stringify(res.settings)}\``,
    '',
    '| workload | server | req/s | p50 ms | p99 ms | Crossdock CPU µs/req (all processes) | sandbox CPU µs/req | machine busy % | ÷ one process: req/s | rounds |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const workload of [...new Set(rows.map((r) => r.workload))]) {
    const of = (server: string) =>
      rows.filter((r) => r.workload === workload && r.server === server);
    const base = median(of('one-process').map((r) => r.throughputRps));
    for (const server of [...new Set(rows.map((r) => r.server))]) {
      const rs = of(server);
      const m = (key: keyof ProcessesRow) => median(rs.map((r) => Number(r[key])));
      lines.push(
        `| ${workload} | ${server} | ${fmt(m('throughputRps'))} | ${fmt(m('p50Ms'), 2)} | ${fmt(m('p99Ms'), 2)} | ${fmt(m('cpuUsPerRequest'))} | ${fmt(m('sandboxCpuUsPerRequest'))} | ${fmt(m('machineBusyPercent'))} | ${server === 'one-process' ? '' : ratio(m('throughputRps'), base)} | ${rs.length} |`,
      );
    }
  }
  return [
    ...lines,
    '',
    ...(res.notes?.length ? ['Notes:', '', ...res.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

function fanoutSection(res: FanoutResult | null): string {
  if (!res) return '## Subscriptions\n\nNot measured yet (`npm run bench:fanout`).\n';
  return [
    '## Subscriptions (`npm run bench:fanout`)',
    '',
    `Measured ${res.at}; settings \`${JSON.stringify(res.settings)}\`. One Crossdock process on NATS JetStream, the graphql-ws subscribers in another process.`,
    '',
    '| subscribers | heap KB/subscriber | RSS KB/subscriber | CPU µs/delivery | deliveries/s | one event to all: p50 ms | p99 ms | burst p50 ms | burst p99 ms |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...res.summary.map(
      (l) =>
        `| ${fmt(l.subscribers)} | ${fmt(l.heapPerSubscriberKB ?? NaN, 1)} | ${fmt(l.rssPerSubscriberKB ?? NaN, 1)} | ${fmt(l.cpuPerDeliveryUs ?? NaN, 1)} | ${fmt(l.deliveriesPerSecond)} | ${fmt(l.oneByOneLatencyMs.p50 ?? NaN, 1)} | ${fmt(l.oneByOneLatencyMs.p99 ?? NaN, 1)} | ${fmt(l.burstLatencyMs.p50 ?? NaN, 1)} | ${fmt(l.burstLatencyMs.p99 ?? NaN, 1)} |`,
    ),
    '',
  ].join('\n');
}

/** One target: what was asked, what was measured, met or missed by how much. */
function target(
  name: string,
  wanted: string,
  measured: string | null,
  met: boolean | null,
): string {
  const verdict = met === null ? 'not measured' : met ? 'met' : 'missed';
  return `| ${name} | ${wanted} | ${measured ?? '—'} | ${verdict} |`;
}

function targets(
  limits: BenchResult | null,
  peers: BenchResult | null,
  fanout: FanoutResult | null,
  orders: OrdersResult | null,
): string {
  const find = (res: BenchResult | null, workload: string, load: string) =>
    res ? (cells(res.rows).get(`${workload} | ${load}`) ?? []) : [];
  const rows: string[] = [];
  // Read fan-out at 50 connections: against both gateways and the hand-written floor.
  const storefront = find(peers, 'storefront-50', '50 conn');
  const cd = storefront.find((c) => c.server === 'crossdock');
  for (const peer of ['apollo-gateway', 'hive-gateway']) {
    const p = storefront.find((c) => c.server === peer);
    rows.push(
      target(
        `storefront page, 50 connections, vs ${peer}`,
        '≥ 8× throughput',
        cd && p ? ratio(cd.throughputRps, p.throughputRps) : null,
        cd && p ? cd.throughputRps >= 8 * p.throughputRps : null,
      ),
    );
  }
  const floor = storefront.find((c) => c.server === 'apollo-dataloader');
  rows.push(
    target(
      'storefront page, 50 connections: CPU vs the Apollo + DataLoader floor',
      '≤ 1×',
      cd && floor ? ratio(cd.cpuUsPerRequest, floor.cpuUsPerRequest) : null,
      cd && floor ? cd.cpuUsPerRequest <= floor.cpuUsPerRequest : null,
    ),
  );
  const critical = find(limits, 'product-critical-path', '1 conn').find(
    (c) => c.server === 'crossdock',
  );
  const slowest = Math.max(
    ...Object.values((limits?.settings['systemLatencyMs'] as Record<string, number>) ?? {}),
  );
  rows.push(
    target(
      'one product, 1 connection: p50 above the slowest system',
      '≤ 1 ms',
      critical && Number.isFinite(slowest) ? `${fmt(critical.p50Ms - slowest, 2)} ms` : null,
      critical && Number.isFinite(slowest) ? critical.p50Ms - slowest <= 1 : null,
    ),
  );
  const trivial = find(limits, 'trivial', '50 conn');
  const tc = trivial.find((c) => c.server === 'crossdock');
  const ta = trivial.find((c) => c.server === 'apollo-standalone');
  rows.push(
    target(
      '{ __typename }, 50 connections, vs a default @apollo/server',
      '≥ 2× throughput',
      tc && ta ? ratio(tc.throughputRps, ta.throughputRps) : null,
      tc && ta ? tc.throughputRps >= 2 * ta.throughputRps : null,
    ),
  );
  const level = (n: number) => fanout?.summary.find((l) => l.subscribers === n);
  const l10k = level(10_000);
  const l1k = level(1_000);
  rows.push(
    target(
      'subscribers on one process',
      '10,000',
      l10k
        ? '10,000 measured'
        : fanout
          ? `largest ${fmt(Math.max(...fanout.summary.map((l) => l.subscribers)))}`
          : null,
      fanout ? Boolean(l10k) : null,
    ),
  );
  const cpu = (l10k ?? l1k)?.cpuPerDeliveryUs ?? null;
  rows.push(
    target(
      'server CPU per delivered event',
      '≤ 20 µs',
      cpu === null ? null : `${fmt(cpu, 1)} µs at ${fmt((l10k ?? l1k)!.subscribers)}`,
      cpu === null ? null : cpu <= 20,
    ),
  );
  const reach = l1k?.oneByOneLatencyMs.p99 ?? null;
  rows.push(
    target(
      'one event reaching all of 1,000 subscribers (p99)',
      '≤ 25 ms',
      reach === null ? null : `${fmt(reach, 1)} ms`,
      reach === null ? null : reach <= 25,
    ),
  );
  const mem = (l10k ?? l1k)?.rssPerSubscriberKB ?? null;
  rows.push(
    target(
      'memory per idle subscriber (RSS)',
      '≤ 30 KB',
      mem === null ? null : `${fmt(mem, 1)} KB`,
      mem === null ? null : mem <= 30,
    ),
  );
  const rate = orders?.placeOrder.requestsPerSecond ?? null;
  rows.push(
    target(
      'placeOrder on the embedded store, zero-latency systems',
      '≥ 1,000 orders/s',
      rate === null ? null : `${fmt(rate)} orders/s`,
      rate === null ? null : rate >= 1000,
    ),
  );
  return [
    '## Targets (issue #13)',
    '',
    '| target | asked | measured (same run, as ratios where a peer is involved) | |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

const limits = result('limits');
const peers = result('read-peers');
const fanout = load<FanoutResult>('fanout.json') ?? load<FanoutResult>('fanout-quick.json');
const orders =
  load<OrdersResult>('place-order.json') ?? load<OrdersResult>('place-order-quick.json');
// Quick runs are not committed (.gitignore); one is listed only where no full run exists.
const json = readdirSync(dir).filter((f) => f.endsWith('.json'));
const files = json.filter(
  (f) => !f.endsWith('-quick.json') || !json.includes(f.replace('-quick', '')),
);

const md = [
  '# Benchmark results',
  '',
  'Written by `npm run bench` (`bench/summary.ts`) from `bench/results/*.json`; do not edit by hand.',
  "CPU is the server process's own (user + system from `/proc`), so the load generator and the",
  'sandbox systems are not counted; ratios compare servers measured in the same run, interleaved.',
  'The machine is a shared 2-core VM: read the ratios, not the absolute figures.',
  '',
  targets(limits, peers, fanout, orders),
  section(
    'Peers on the same systems',
    peers,
    '`npm run bench:peers`: Crossdock, @apollo/gateway and Hive Gateway over Federation subgraphs wrapping the same connectors, and a hand-written @apollo/server + DataLoader, against one sandbox at fixed latencies',
  ),
  section(
    'The limits',
    limits,
    '`npm run bench:limits`: the trivial query against Crossdock, a default @apollo/server and raw node:http; graphql-js and graphql-jit on in-memory data; one product over fixed system latencies at 1 connection',
  ),
  fanoutSection(fanout),
  ordersSection(orders),
  processesSection(result('processes')),
  `Result files: ${files.map((f) => `\`${f}\``).join(', ')}.`,
  '',
].join('\n');
writeFileSync(new URL('../RESULTS.md', dir), md);
process.stdout.write(`bench/RESULTS.md written (${files.length} result files)\n`);

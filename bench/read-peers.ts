/**
 * `npm run bench:peers` (issue #13, item 1: "Peers on the same systems"): Crossdock against peer
 * servers of the same graph over the same sandbox systems, each server its own process so /proc
 * CPU counts that server alone:
 *
 * - `crossdock`: server/main.ts (SANDBOX=off, LOG_LEVEL=warn, a benchmark admin key);
 * - `apollo-gateway`: @apollo/gateway (Federation 2) over three subgraph processes (ERP, WMS,
 *   commerce: bench/peers/*-subgraph.ts, Crossdock's connectors, a DataLoader per request);
 * - `hive-gateway`: Hive Gateway's runtime over the same supergraph and subgraph processes;
 * - `apollo-dataloader`: one hand-written @apollo/server with a DataLoader per source per request
 *   over Crossdock's connectors, the floor of what a GraphQL server must spend.
 *
 * One query text per workload runs unchanged on every server (the peers' schemas keep Crossdock's
 * field names, arguments and cursor format for the fields selected). Every request has distinct
 * variables (a rotating list), and Crossdock's commerce content cache is off
 * (CONTENT_CACHE_TTL_MS=0, for the peers' connectors too), so nothing is served from a cache.
 * Loads: 1 connection, 50 connections, then a fixed rate every server sustained (half the
 * slowest server's throughput at 50 connections, unless BENCH_RATE is set); servers interleaved
 * A B C D A B C D within each load. Result: bench/results/read-peers.json, and a Markdown summary.
 *
 * Settings (environment): BENCH_CATALOG_SIZE (100000; 5000 with --quick), BENCH_DURATION_S (7;
 * 2), BENCH_ROUNDS (2; 1), BENCH_RATE (req/s of the fixed-rate load; default as above),
 * BENCH_LATENCY_ERP (5 ms), BENCH_LATENCY_WMS (10), BENCH_LATENCY_TPL (10),
 * BENCH_LATENCY_COMMERCE (20): fixed latency of each sandbox system (`PUT /_faults`).
 */
import type { ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { apiKeyEnv } from '../server/identity.js';
import {
  QUICK,
  cpuMsOf,
  crossdockEnv,
  freePortBase,
  machine,
  median,
  start,
  startSandbox,
  writeResult,
  type BenchRow,
} from './support.js';

/** The benchmarks' API key secret (their keys are throwaway). */
const BENCH_KEY_SECRET = 'bench-api-key-secret-of-at-least-32-characters';

/** A non-negative integer setting from the environment, or `fallback`. */
function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name}: expected a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const catalogSize = setting('BENCH_CATALOG_SIZE', QUICK ? 5_000 : 100_000);
const duration = setting('BENCH_DURATION_S', QUICK ? 2 : 7);
const rounds = Math.max(1, setting('BENCH_ROUNDS', QUICK ? 1 : 2));
const fixedRate = setting('BENCH_RATE', 0);
const warmupS = QUICK ? 1 : 3;
/** Sequential requests per server and workload that count the calls each system receives. */
const PROBES = 5;
/** Pause after each window, so a backlog of one server does not load the next one's window. */
const SETTLE_MS = QUICK ? 500 : 1_000;
/** Connections that carry the fixed-rate load (enough that none waits on another). */
const RATE_CONNECTIONS = 20;
const latencyMs = {
  erp: setting('BENCH_LATENCY_ERP', 5),
  wms: setting('BENCH_LATENCY_WMS', 10),
  tpl: setting('BENCH_LATENCY_TPL', 10),
  commerce: setting('BENCH_LATENCY_COMMERCE', 20),
};
type SystemName = keyof typeof latencyMs;
const SYSTEMS = Object.keys(latencyMs) as SystemName[];
/** Sales orders the sandbox seeds (sandbox/seed.ts: SO-100001 …). */
const SEEDED_ORDERS = 120;

/** What a workload asks: one query text for every server, and the variables of request `i`. */
interface Workload {
  readonly name: string;
  readonly query: string;
  variables(i: number): Record<string, unknown>;
}

/** The `i`-th SKU of a permutation of 1..span (7919 is prime, so no two `i` < span collide). */
const skuAt = (i: number, span = catalogSize) =>
  `SKU-${String(1 + ((i * 7919) % span)).padStart(6, '0')}`;
/** Crossdock's cursor (resolvers/ids.ts), which the peers decode alike. */
const cursorAfter = (sku: string) => Buffer.from(`v1:${sku}`).toString('base64url');

const PRODUCT_FIELDS =
  'sku name listPrice { amount currencyCode } inventory { warehouse { code } available } availableToPromise';
const WORKLOADS: readonly Workload[] = [
  {
    // A storefront category page: 50 products with name (commerce), price (ERP) and stock from
    // every warehouse system (WMS, 3PL). Pages start at scattered SKUs (not the last 60).
    name: 'storefront-50',
    query: `query Storefront($after: String) { products(first: 50, after: $after) { nodes { ${PRODUCT_FIELDS} } } }`,
    variables: (i) => ({ after: cursorAfter(skuAt(i, catalogSize - 60)) }),
  },
  {
    name: 'three-items',
    query: `query ThreeItems($a: String!, $b: String!, $c: String!) { a: product(sku: $a) { ...item } b: product(sku: $b) { ...item } c: product(sku: $c) { ...item } } fragment item on Product { sku name listPrice { amount currencyCode } availableToPromise }`,
    variables: (i) => ({ a: skuAt(3 * i), b: skuAt(3 * i + 1), c: skuAt(3 * i + 2) }),
  },
  {
    name: 'product',
    query: `query Product($sku: String!) { product(sku: $sku) { ${PRODUCT_FIELDS} } }`,
    variables: (i) => ({ sku: skuAt(i) }),
  },
  {
    // The sandbox seeds 120 orders, so order ids repeat after 120 requests; no server keeps
    // orders across requests (per-request DataLoaders only), so a repeat is still a full read.
    name: 'order',
    query: `query Order($id: ID!) { order(id: $id) { number channel lines { sku quantity } shipments { status carrier trackingNumber } } }`,
    variables: (i) => ({ id: `SO-${100001 + (i % SEEDED_ORDERS)}` }),
  },
];

/** One server under test: its process, and the subgraph processes behind it (gateways). */
interface Server {
  readonly name: string;
  readonly url: string;
  readonly process: ChildProcess;
  readonly subgraphs: readonly ChildProcess[];
}

/** A load: concurrent connections, or a fixed request rate. */
type Load =
  | { readonly kind: 'connections'; readonly connections: number }
  | { readonly kind: 'rate'; readonly rate: number };

/** A row of this benchmark: the shared shape plus the CPU of the processes behind a gateway. */
export interface PeerRow extends BenchRow {
  /** CPU of the subgraph processes per request (gateways only), µs. */
  readonly subgraphCpuUsPerRequest?: number;
  /** Gateway plus subgraphs per request (gateways only), µs. */
  readonly totalCpuUsPerRequest?: number;
  /** CPU of the sandbox process per request, µs (the same systems behind every server). */
  readonly sandboxCpuUsPerRequest: number;
  /** 1-minute load average of the machine right after the window. */
  readonly loadAverage: number;
}

const children: ChildProcess[] = [];
const round1 = (x: number, places = 1) => Math.round(x * 10 ** places) / 10 ** places;

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const base = await freePortBase();
  const peerBase = await freePortBase();
  const floorBase = await freePortBase();
  const systemUrl = (name: SystemName) => `http://127.0.0.1:${base + 1 + SYSTEMS.indexOf(name)}`;
  // sandbox/index.ts: base+1 ERP, +2 WMS, +3 3PL, +4 commerce (the order of SYSTEMS).
  const sandbox = await startSandbox(base, catalogSize);
  children.push(sandbox);
  for (const name of SYSTEMS) {
    const res = await fetch(`${systemUrl(name)}/_faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: latencyMs[name] }),
    });
    if (!res.ok) throw new Error(`PUT /_faults on ${name}: HTTP ${res.status}`);
  }

  // Every server reads the same settings: Crossdock's own, the content cache off.
  const env = (extra: Record<string, string>) =>
    crossdockEnv(base, {
      CONTENT_CACHE_TTL_MS: '0',
      ...apiKeyEnv(BENCH_KEY_SECRET, [
        { id: 'bench-admin', key: 'bench-admin-key', role: 'admin' },
      ]),
      ...extra,
    });
  const launch = async (script: string, extra: Record<string, string>, ready: RegExp) => {
    const child = await start(script, env(extra), ready);
    children.push(child);
    return child;
  };
  const subgraphUrl = (i: number) => `http://127.0.0.1:${peerBase + i}/`;
  const [crossdock, erpSubgraph, commerceSubgraph, wmsSubgraph, floor] = await Promise.all([
    launch('server/main.ts', {}, /Crossdock GraphQL/),
    launch(
      'bench/peers/subgraph.ts',
      { PEER_SUBGRAPH: 'erp', PEER_PORT: String(peerBase + 1) },
      /subgraph erp/,
    ),
    launch(
      'bench/peers/subgraph.ts',
      { PEER_SUBGRAPH: 'commerce', PEER_PORT: String(peerBase + 2) },
      /subgraph commerce/,
    ),
    launch(
      'bench/peers/subgraph.ts',
      { PEER_SUBGRAPH: 'wms', PEER_PORT: String(peerBase + 3) },
      /subgraph wms/,
    ),
    launch('bench/peers/apollo-dataloader.ts', { PEER_PORT: String(floorBase + 1) }, /peer apollo/),
  ]);
  const gatewayEnv = (port: number) => ({
    PEER_PORT: String(port),
    PEER_SUBGRAPH_ERP: subgraphUrl(1),
    PEER_SUBGRAPH_COMMERCE: subgraphUrl(2),
    PEER_SUBGRAPH_WMS: subgraphUrl(3),
  });
  const [apolloGateway, hiveGateway] = await Promise.all([
    launch('bench/peers/apollo-gateway.ts', gatewayEnv(peerBase + 4), /peer apollo-gateway/),
    launch('bench/peers/hive-gateway.ts', gatewayEnv(peerBase + 5), /peer hive-gateway/),
  ]);
  const subgraphs = [erpSubgraph, commerceSubgraph, wmsSubgraph];
  const servers: Server[] = [
    {
      name: 'crossdock',
      url: `http://127.0.0.1:${base + 5}/graphql`,
      process: crossdock,
      subgraphs: [],
    },
    {
      name: 'apollo-gateway',
      url: `http://127.0.0.1:${peerBase + 4}/graphql`,
      process: apolloGateway,
      subgraphs,
    },
    {
      name: 'hive-gateway',
      url: `http://127.0.0.1:${peerBase + 5}/graphql`,
      process: hiveGateway,
      subgraphs,
    },
    {
      name: 'apollo-dataloader',
      url: `http://127.0.0.1:${floorBase + 1}/graphql`,
      process: floor,
      subgraphs: [],
    },
  ];
  const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-admin-key' };
  const post = async (server: Server, workload: Workload, i: number) => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: workload.query, variables: workload.variables(i) }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { data?: unknown; errors?: unknown[] },
    };
  };
  const systemRequests = async () => {
    const out: Record<string, number> = {};
    for (const name of SYSTEMS) {
      const stats = (await (await fetch(`${systemUrl(name)}/_stats`)).json()) as {
        requests: number;
      };
      out[name] = stats.requests;
    }
    return out;
  };
  const resetStats = () =>
    Promise.all(SYSTEMS.map((name) => fetch(`${systemUrl(name)}/_stats`, { method: 'DELETE' })));

  const notes: string[] = [];
  // Same variables on every server: the answers must agree, and each system's calls per query
  // are counted at the sandbox (GET /_stats), sequentially, after a first request fetched tokens.
  const callsPerQuery = new Map<string, Record<string, number>>();
  for (const workload of WORKLOADS) {
    let reference: string | null = null;
    for (const server of servers) {
      const first = await post(server, workload, 9_000_000);
      if (first.status !== 200 || first.body.errors) {
        throw new Error(
          `${server.name} ${workload.name}: HTTP ${first.status} ${JSON.stringify(first.body).slice(0, 400)}`,
        );
      }
      const answer = JSON.stringify(first.body.data);
      reference ??= answer;
      if (answer !== reference) {
        notes.push(
          `Answers differ for ${workload.name}: ${server.name} gave ${answer.slice(0, 200)}…, crossdock ${reference.slice(0, 200)}…`,
        );
      }
      await resetStats();
      for (let k = 1; k <= PROBES; k++) await post(server, workload, 9_000_000 + k);
      const counts = await systemRequests();
      callsPerQuery.set(
        `${server.name}/${workload.name}`,
        Object.fromEntries(SYSTEMS.map((name) => [name, round1((counts[name] ?? 0) / PROBES, 2)])),
      );
    }
  }

  // Rotating variables: a counter per workload shared by every server and window, so no two
  // requests of a run ask the same thing (beyond the 120 orders and the catalogue's size).
  const counters = new Map<string, number>(WORKLOADS.map((w) => [w.name, 0]));
  const next = (workload: Workload) => {
    const i = counters.get(workload.name) ?? 0;
    counters.set(workload.name, i + 1);
    return JSON.stringify({ query: workload.query, variables: workload.variables(i) });
  };
  const fire = async (server: Server, workload: Workload, load: Load, seconds: number) => {
    let failed = 0;
    let sample: string | null = null;
    const result = await autocannon({
      url: server.url,
      method: 'POST',
      headers,
      duration: seconds,
      connections: load.kind === 'connections' ? load.connections : RATE_CONNECTIONS,
      ...(load.kind === 'rate' ? { overallRate: load.rate } : {}),
      requests: [
        {
          method: 'POST',
          setupRequest: (req: Record<string, unknown>) => ({ ...req, body: next(workload) }),
          // Every body is checked: a 200 carrying GraphQL `errors` counts as failed.
          onResponse: (status: number, body: string) => {
            if (status !== 200 || body.includes('"errors":[')) {
              failed++;
              sample ??= `HTTP ${status} ${body.slice(0, 300)}`;
            }
          },
        },
      ],
    } as unknown as autocannon.Options);
    return { result, failed: failed + result.errors, sample };
  };

  const rows: PeerRow[] = [];
  const measure = async (server: Server, workload: Workload, load: Load, round: number) => {
    const cpu = () => ({
      server: cpuMsOf(server.process.pid ?? 0),
      subgraphs: server.subgraphs.reduce((sum, p) => sum + cpuMsOf(p.pid ?? 0), 0),
      sandbox: cpuMsOf(sandbox.pid ?? 0),
    });
    const before = cpu();
    const { result, failed, sample } = await fire(server, workload, load, duration);
    const after = cpu();
    // Let the requests autocannon left in flight finish before the next server's window.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const requests = result.requests.total;
    const perRequest = (ms: number) => (requests > 0 ? round1((ms * 1000) / requests, 0) : 0);
    const serverUs = perRequest(after.server - before.server);
    const subgraphUs = perRequest(after.subgraphs - before.subgraphs);
    if (sample) notes.push(`${server.name} ${workload.name} round ${round}: first error ${sample}`);
    const row: PeerRow = {
      workload: workload.name,
      server: server.name,
      connections: load.kind === 'connections' ? load.connections : null,
      ...(load.kind === 'rate' ? { rate: load.rate } : {}),
      requests,
      errors: failed,
      throughputRps: round1(result.requests.average),
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      cpuUsPerRequest: serverUs,
      ...(server.subgraphs.length > 0
        ? { subgraphCpuUsPerRequest: subgraphUs, totalCpuUsPerRequest: serverUs + subgraphUs }
        : {}),
      sandboxCpuUsPerRequest: perRequest(after.sandbox - before.sandbox),
      systemCallsPerQuery: callsPerQuery.get(`${server.name}/${workload.name}`) ?? {},
      round,
      loadAverage: round1(loadavg()[0] ?? 0, 2),
    };
    rows.push(row);
    process.stderr.write(
      `${workload.name} ${loadName(row)} ${server.name} r${round}: ${row.throughputRps} req/s p50 ${row.p50Ms} p99 ${row.p99Ms} cpu ${row.cpuUsPerRequest}${row.totalCpuUsPerRequest === undefined ? '' : `/${row.totalCpuUsPerRequest}`} µs errors ${row.errors}\n`,
    );
  };

  const rates: Record<string, number> = {};
  for (const workload of WORKLOADS) {
    // Warm-up (JIT, sockets, tokens), not recorded.
    for (const server of servers) {
      await fire(server, workload, { kind: 'connections', connections: 10 }, warmupS);
    }
    for (const connections of [1, 50]) {
      for (let round = 1; round <= rounds; round++) {
        for (const server of servers) {
          await measure(server, workload, { kind: 'connections', connections }, round);
        }
      }
    }
    const slowest = Math.min(
      ...servers.map((s) =>
        median(
          rows
            .filter(
              (r) => r.workload === workload.name && r.server === s.name && r.connections === 50,
            )
            .map((r) => r.throughputRps),
        ),
      ),
    );
    const rate = fixedRate || Math.max(1, Math.floor(slowest / 2));
    rates[workload.name] = rate;
    for (let round = 1; round <= rounds; round++) {
      for (const server of servers) await measure(server, workload, { kind: 'rate', rate }, round);
    }
  }

  notes.push(
    "One query text per workload, unchanged on every server: the peers expose the fields selected under Crossdock's names, arguments and cursor format (bench/peers/).",
    "Nothing is served from a cache: every request has distinct variables (SKUs and pages from a permutation of the catalogue; orders rotate through the 120 seeded ones, which no server keeps across requests) and CONTENT_CACHE_TTL_MS=0 turns off Crossdock's 60 s commerce content cache (the peers build the same connectors from the same settings).",
    'systemCallsPerQuery: requests each sandbox system received per query, counted at the sandbox (GET /_stats, an existing read-only route) over 5 sequential requests with distinct variables after a first one (tokens held), not under load; a fraction is a background call (token renewal, webhook key refresh) that fell in the window.',
    'CPU per request from /proc of the server process; for the gateways cpuUsPerRequest is the gateway process alone, subgraphCpuUsPerRequest the three subgraph processes, totalCpuUsPerRequest both.',
    'Crossdock does per request what the peers do not: API key authentication, cost and depth limits, budgets, structured logs, metrics, the order store lookup, partial-failure handling (error slots, breaker state in errors). The floor (apollo-dataloader) does nothing but resolve.',
    "Peers give commerce's title as the name; Crossdock falls back to the ERP description for a SKU not on the web store (the answers are compared above, once per workload, on the same variables).",
    `Fixed-rate load: ${fixedRate ? `BENCH_RATE=${fixedRate}` : "half the slowest server's median throughput at 50 connections"}, on ${RATE_CONNECTIONS} connections.`,
  );
  const result = {
    name: 'read-peers',
    at: startedAt,
    quick: QUICK,
    machine: machine(),
    settings: {
      catalogSize,
      durationS: duration,
      rounds,
      warmupS,
      systemLatencyMs: latencyMs,
      contentCacheTtlMs: 0,
      commerceRestoreRate: 1_000_000,
      fixedRateRps: rates,
      rateConnections: RATE_CONNECTIONS,
      loadAverageAtEnd: round1(loadavg()[0] ?? 0, 2),
      queries: Object.fromEntries(WORKLOADS.map((w) => [w.name, w.query])),
    },
    rows,
    notes,
  };
  const path = writeResult(result);
  process.stdout.write(
    `${summary(
      rows,
      servers.map((s) => s.name),
    )}\n${notes.map((n) => `- ${n}`).join('\n')}\n\nwritten to ${path}\n`,
  );
}

/** How a row's load reads in the table. */
function loadName(row: BenchRow): string {
  return row.connections === null ? `${row.rate ?? '?'} req/s` : `${row.connections} conn`;
}

/** The Markdown summary: per workload and load, each server's medians over rounds and Crossdock/peer. */
function summary(rows: readonly PeerRow[], servers: readonly string[]): string {
  const out: string[] = [];
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}` : '–');
  for (const workload of [...new Set(rows.map((r) => r.workload))]) {
    out.push(
      `\n### ${workload}\n`,
      '| load | server | req/s | p50 ms | p99 ms | CPU µs/req (gateway / +subgraphs) | errors | XD/peer req/s | XD/peer p50 | XD/peer p99 | XD/peer CPU |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    const ofWorkload = rows.filter((r) => r.workload === workload);
    for (const load of [...new Set(ofWorkload.map(loadName))]) {
      const stat = (server: string) => {
        const rs = ofWorkload.filter((r) => r.server === server && loadName(r) === load);
        const m = (f: (r: PeerRow) => number) => round1(median(rs.map(f)));
        return {
          rps: m((r) => r.throughputRps),
          p50: m((r) => r.p50Ms),
          p99: m((r) => r.p99Ms),
          cpu: m((r) => r.cpuUsPerRequest),
          total: m((r) => r.totalCpuUsPerRequest ?? r.cpuUsPerRequest),
          gateway: rs.some((r) => r.totalCpuUsPerRequest !== undefined),
          errors: rs.reduce((sum, r) => sum + r.errors, 0),
        };
      };
      const xd = stat('crossdock');
      for (const server of servers) {
        const s = stat(server);
        const peer = server !== 'crossdock';
        out.push(
          `| ${load} | ${server} | ${s.rps} | ${s.p50} | ${s.p99} | ${s.gateway ? `${s.cpu} / ${s.total}` : s.cpu} | ${s.errors} | ${peer ? ratio(xd.rps, s.rps) : ''} | ${peer ? ratio(xd.p50, s.p50) : ''} | ${peer ? ratio(xd.p99, s.p99) : ''} | ${peer ? ratio(xd.total, s.total) : ''} |`,
        );
      }
    }
  }
  out.push(
    '\n### Requests per system per query (sequential, distinct variables)\n',
    `| workload | server | ${SYSTEMS.join(' | ')} |`,
    `| --- | --- | ${SYSTEMS.map(() => '---').join(' | ')} |`,
  );
  const counted = new Set<string>();
  for (const row of rows) {
    const key = `${row.workload}/${row.server}`;
    if (counted.has(key)) continue;
    counted.add(key);
    const calls = row.systemCallsPerQuery ?? {};
    out.push(
      `| ${row.workload} | ${row.server} | ${SYSTEMS.map((name) => calls[name] ?? 0).join(' | ')} |`,
    );
  }
  out.push(
    '',
    'Medians over rounds. XD/peer CPU compares Crossdock with the whole peer (gateway plus subgraphs for the gateways).',
  );
  return out.join('\n');
}

/** Stops every child this benchmark started: SIGTERM, then SIGKILL for any still up after 3 s. */
async function stopChildren(): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

main()
  .then(stopChildren)
  .catch(async (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    await stopChildren();
    process.exit(1);
  });

/**
 * `npm run bench:processes [-- --quick]` (issue #13): what a second Crossdock process buys on
 * this machine. One Crossdock process against two behind a round-robin (bench/cluster.ts: the
 * node:cluster primary hands each connection to the workers in turn), both on one sandbox child
 * answering at once, interleaved (one, two, one, two), 50 connections:
 *
 * - `trivial`: `{ __typename }`, Crossdock's own work only;
 * - `product`: `product(sku)` with price and stock from every system, a SKU from a permutation of
 *   the catalogue per request and the content cache off, so every answer calls every system.
 *
 * Figures per window: throughput, p50/p99, CPU per request summed over the Crossdock processes,
 * the sandbox's CPU per request, and how busy the whole machine was (/proc/stat: every process,
 * the load generator included), which is what says whether a second process had a core to run on.
 * Result: bench/results/processes.json (processes-quick.json with --quick).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKeyEnv } from '../server/identity.js';
import { load, round2, type Target } from './load.js';
import {
  QUICK,
  cpuMsOf,
  crossdockEnv,
  freePortBase,
  machine,
  median,
  start,
  startSandbox,
  startMatching,
  writeResult,
  type BenchRow,
} from './support.js';

const ROUNDS = QUICK ? 1 : 3;
const DURATION_S = QUICK ? 2 : 8;
const WARMUP_S = QUICK ? 1 : 3;
const CONNECTIONS = 50;
const CATALOG_SIZE = 20_000;
const SECRET = 'bench-api-key-secret-of-at-least-32-characters';
const TRIVIAL = JSON.stringify({ query: '{ __typename }' });
const PRODUCT = `query($sku: String!) { product(sku: $sku) { name listPrice { amount } inventory { warehouse { code } available } availableToPromise } }`;

/** Every child started, stopped however this process ends. */
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});

/** Busy and total jiffies of the whole machine so far (/proc/stat, every CPU). */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const fields = cpu.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

async function main(): Promise<void> {
  const loadAtStart = machine();
  const base = await freePortBase();
  const sandbox = await startSandbox(base, CATALOG_SIZE);
  children.push(sandbox);
  const sandboxPid = sandbox.pid ?? 0;
  const env = (port: number) =>
    crossdockEnv(base, {
      ...apiKeyEnv(SECRET, [{ id: 'bench-admin', key: 'bench-admin-key', role: 'admin' }]),
      PORT: String(port),
      // One data directory per server: both workers of the cluster share its SQLite file.
      DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-processes-')),
      CONTENT_CACHE_TTL_MS: '0',
    });
  const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-admin-key' };

  const onePort = (await freePortBase()) + 5;
  const one = await start('server/main.ts', env(onePort), /Crossdock GraphQL/);
  children.push(one);
  const twoPort = (await freePortBase()) + 5;
  const two = await startCluster(env(twoPort));
  children.push(two.child);
  const targets: Target[] = [
    {
      server: 'one-process',
      url: `http://127.0.0.1:${onePort}/graphql`,
      pids: [one.pid ?? 0],
      headers,
    },
    {
      server: 'two-processes',
      url: `http://127.0.0.1:${twoPort}/graphql`,
      // The primary's own CPU counts too: it accepts the connections.
      pids: [two.child.pid ?? 0, ...two.workers],
      headers,
    },
  ];

  // A permutation of the catalogue: no SKU is asked twice in a window, none is cached.
  const skus = Array.from(
    { length: CATALOG_SIZE },
    (_, i) => `SKU-${String(i + 1).padStart(6, '0')}`,
  );
  for (let i = skus.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [skus[i], skus[j]] = [skus[j] as string, skus[i] as string];
  }
  let next = 0;
  const productBody = () =>
    JSON.stringify({ query: PRODUCT, variables: { sku: skus[next++ % skus.length] } });
  const workloads = [
    {
      workload: 'trivial',
      body: () => TRIVIAL,
      ok: (status: number, body: string) =>
        status === 200 && body.includes('"__typename":"Query"') && !body.includes('"errors"'),
    },
    {
      workload: 'product',
      body: productBody,
      ok: (status: number, body: string) =>
        status === 200 && body.includes('"availableToPromise"') && !body.includes('"errors"'),
    },
  ];

  const rows: (BenchRow & { sandboxCpuUsPerRequest: number; machineBusyPercent: number })[] = [];
  const errorSamples: Record<string, string> = {};
  for (const w of workloads) {
    for (const target of targets) {
      await load(target, { connections: CONNECTIONS, seconds: WARMUP_S, body: w.body, ok: w.ok });
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const target of targets) {
        const sandbox0 = cpuMsOf(sandboxPid);
        const ticks0 = machineTicks();
        const m = await load(target, {
          connections: CONNECTIONS,
          seconds: DURATION_S,
          body: w.body,
          ok: w.ok,
        });
        const ticks1 = machineTicks();
        const sandboxUs = ((cpuMsOf(sandboxPid) - sandbox0) * 1000) / Math.max(1, m.requests);
        const busy = (100 * (ticks1.busy - ticks0.busy)) / Math.max(1, ticks1.total - ticks0.total);
        rows.push({
          workload: w.workload,
          server: target.server,
          connections: CONNECTIONS,
          requests: m.requests,
          errors: m.errors,
          throughputRps: m.throughputRps,
          p50Ms: m.p50Ms,
          p99Ms: m.p99Ms,
          cpuUsPerRequest: m.cpuUsPerRequest,
          sandboxCpuUsPerRequest: Math.round(sandboxUs),
          machineBusyPercent: Math.round(busy),
          round,
        });
        if (m.firstError) errorSamples[`${w.workload} ${target.server}`] ??= m.firstError;
        process.stderr.write(
          `${w.workload} ${target.server} round ${round}: ${m.throughputRps} req/s, p50 ${m.p50Ms} ms, ${m.cpuUsPerRequest} µs CPU/req (sandbox ${Math.round(sandboxUs)}), machine ${Math.round(busy)} % busy, ${m.errors} errors\n`,
        );
      }
    }
  }

  const notes: string[] = [];
  for (const w of workloads) {
    const of = (server: string) =>
      rows.filter((r) => r.workload === w.workload && r.server === server);
    const med = (
      rs: readonly (typeof rows)[number][],
      key: 'throughputRps' | 'cpuUsPerRequest' | 'sandboxCpuUsPerRequest' | 'machineBusyPercent',
    ) => median(rs.map((r) => r[key]));
    const a = of('one-process');
    const b = of('two-processes');
    notes.push(
      `${w.workload}, medians over ${ROUNDS} interleaved rounds: one process ${med(a, 'throughputRps')} req/s at ${med(a, 'cpuUsPerRequest')} µs CPU/req (machine ${med(a, 'machineBusyPercent')} % busy, sandbox ${med(a, 'sandboxCpuUsPerRequest')} µs/req); two processes ${med(b, 'throughputRps')} req/s at ${med(b, 'cpuUsPerRequest')} µs CPU/req summed over both (machine ${med(b, 'machineBusyPercent')} % busy, sandbox ${med(b, 'sandboxCpuUsPerRequest')} µs/req): ${round2(med(b, 'throughputRps') / Math.max(1, med(a, 'throughputRps')))}× the throughput.`,
    );
  }
  const loadAtEnd = Number((loadavg()[0] ?? 0).toFixed(2));
  notes.push(
    `The machine has ${loadAtStart.cores} cores for everything here: the Crossdock process(es), the sandbox systems and autocannon (the client, in this process). machineBusyPercent is the share of all cores busy during the window (/proc/stat), whoever used them; load average ${loadAtStart.loadAverage} at the start, ${loadAtEnd} at the end.`,
    'two-processes: bench/cluster.ts, the node:cluster primary and 2 workers (each a whole server/main.ts, one SQLite file shared in WAL mode, one in-memory event bus each; nothing these reads need is shared). Connections are kept alive, so the primary hands out each of the 50 connections once; cpuUsPerRequest sums the primary and both workers.',
    `product: CONTENT_CACHE_TTL_MS=0 and a SKU from a permutation of the ${CATALOG_SIZE}-item catalogue per request; the systems answer at once, so the sandbox's own CPU (sandboxCpuUsPerRequest) competes with Crossdock for the same cores.`,
    ...Object.entries(errorSamples).map(([k, v]) => `First error, ${k}: ${v}`),
  );
  const path = writeResult({
    name: QUICK ? 'processes-quick' : 'processes',
    at: new Date().toISOString(),
    quick: QUICK,
    machine: loadAtStart,
    settings: {
      rounds: ROUNDS,
      durationS: DURATION_S,
      warmupS: WARMUP_S,
      connections: CONNECTIONS,
      catalogSize: CATALOG_SIZE,
      contentCacheTtlMs: 0,
      loadAverageAtEnd: loadAtEnd,
    },
    rows,
    notes,
  });
  process.stdout.write(`${notes.join('\n')}\nWritten to ${path}\n`);
  for (const child of children) child.kill('SIGTERM');
}

/** bench/cluster.ts with `env`; resolves with the workers' pids once every one listens. */
async function startCluster(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; workers: number[] }> {
  const { child, match } = await startMatching(
    'bench/cluster.ts',
    { ...env, CLUSTER_WORKERS: '2' },
    /cluster listening: workers ([\d,]+)\n/,
  );
  return { child, workers: (match[1] ?? '').split(',').map(Number) };
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String(error)}\n`);
  process.exit(1);
});

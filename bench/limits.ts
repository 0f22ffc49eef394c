/**
 * `npm run bench:limits [-- --quick]` (issue #13): how far Crossdock is from the limits it cannot
 * beat, in one run.
 *
 * 1. The trivial query `{ __typename }` at 50 and 1 connections against Crossdock (on the
 *    sandbox child, as bench/run.ts runs it), Crossdock with the settings production would have,
 *    a default `@apollo/server` standalone server and bare `node:http` (bench/limits-child.ts):
 *    throughput, p50/p99, CPU per request of each server process.
 * 2. graphql-js against graphql-jit on a storefront page of 50 products, in this process
 *    (bench/limits-execute.ts).
 * 3. Crossdock's overhead over the critical path: every sandbox system answers after a fixed
 *    latency (ERP 5 ms, WMS 10, 3PL 10, commerce 20); one `product(sku)` at a time, a SKU never
 *    asked before in the run; p50 minus the slowest system's latency.
 *
 * Servers are measured interleaved (A B C D, A B C D …), 2 rounds of 10 s (1 round of 2 s with
 * --quick). Result: bench/results/limits.json (or limits-quick.json); a Markdown summary on stdout.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKeyEnv } from '../server/identity.js';
import { measureExecution, type ExecutionFigures } from './limits-execute.js';
import { load, round2, type Target, type Window } from './load.js';
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

const ROUNDS = QUICK ? 1 : 2;
const DURATION_S = QUICK ? 2 : 10;
const WARMUP_S = QUICK ? 1 : 3;
const CATALOG_SIZE = 20_000;
/** Fixed answer times of the sandbox systems in part 3 (ms); commerce is the slowest. */
const LATENCY_MS = { erp: 5, wms: 10, tpl: 10, commerce: 20 } as const;
const SLOWEST_MS = Math.max(...Object.values(LATENCY_MS));
const SECRET = 'bench-api-key-secret-of-at-least-32-characters';
const TRIVIAL = JSON.stringify({ query: '{ __typename }' });
const PRODUCT = `query($sku: String!) { product(sku: $sku) { name listPrice { amount } inventory { warehouse { code } available } availableToPromise } }`;

function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error('child process has no pid');
  return child.pid;
}

/** Every child started, stopped however this process ends. */
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});

async function main(): Promise<void> {
  const loadAtStart = machine();
  const base = await freePortBase();
  const systemUrl = (offset: number) => `http://127.0.0.1:${base + offset}`;
  const systems = {
    erp: systemUrl(1),
    wms: systemUrl(2),
    tpl: systemUrl(3),
    commerce: systemUrl(4),
  };
  children.push(await startSandbox(base, CATALOG_SIZE));
  const sandboxPid = pidOf(children[0] as ChildProcess);
  const keys = apiKeyEnv(SECRET, [{ id: 'bench-admin', key: 'bench-admin-key', role: 'admin' }]);
  const bearer = { 'content-type': 'application/json', authorization: 'Bearer bench-admin-key' };
  const json = { 'content-type': 'application/json' };

  // NODE_ENV=production refuses the sandbox's published credentials, so both run NODE_ENV=test;
  // the second takes every setting production changes (server/config.ts) by hand.
  const PRODUCTION_LIKE = {
    GRAPHQL_INTROSPECTION: 'off',
    GRAPHQL_SUGGESTIONS: 'off',
    ERROR_DETAIL: 'redacted',
    PLAYGROUND: 'off',
  };
  const startCrossdock = async (server: string, extra: Record<string, string>) => {
    const port = (await freePortBase()) + 5;
    const child = await start(
      'server/main.ts',
      crossdockEnv(base, {
        ...keys,
        PORT: String(port),
        DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-limits-')),
        // No commerce content cache: every product(sku) of part 3 calls every system.
        CONTENT_CACHE_TTL_MS: '0',
        ...extra,
      }),
      /Crossdock GraphQL/,
    );
    children.push(child);
    return {
      server,
      url: `http://127.0.0.1:${port}/graphql`,
      pids: [pidOf(child)],
      headers: bearer,
    };
  };
  const startChild = async (server: string, kind: 'apollo' | 'http') => {
    const port = (await freePortBase()) + 5;
    const child = await start(
      'bench/limits-child.ts',
      { LIMITS_SERVER: kind, PORT: String(port), NODE_ENV: 'test' },
      /listening/,
    );
    children.push(child);
    return { server, url: `http://127.0.0.1:${port}/`, pids: [pidOf(child)], headers: json };
  };
  const crossdock = await startCrossdock('crossdock', {});
  const crossdockProd = await startCrossdock('crossdock-production-settings', PRODUCTION_LIKE);
  const trivialTargets: Target[] = [
    crossdock,
    crossdockProd,
    await startChild('apollo-standalone', 'apollo'),
    await startChild('node-http', 'http'),
  ];
  const trivialOk = (status: number, body: string) =>
    status === 200 && body.includes('"__typename":"Query"') && !body.includes('"errors"');

  // What each process spends with nothing asked (timers, polling, health samples): at low
  // request rates this is a visible share of the CPU per request.
  const idlePids: Record<string, number> = { sandbox: sandboxPid };
  for (const t of trivialTargets) idlePids[t.server] = t.pids[0] as number;
  const idle0 = Object.fromEntries(Object.entries(idlePids).map(([n, pid]) => [n, cpuMsOf(pid)]));
  const IDLE_S = QUICK ? 2 : 5;
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const idleCpuMsPerS = Object.fromEntries(
    Object.entries(idlePids).map(([n, pid]) => [
      n,
      round2((cpuMsOf(pid) - (idle0[n] ?? 0)) / IDLE_S),
    ]),
  );

  const rows: BenchRow[] = [];
  const errorSamples: Record<string, string> = {};
  const record = (
    workload: string,
    target: Target,
    connections: number | null,
    round: number,
    w: Window,
    systemCallsPerQuery?: Record<string, number>,
  ) => {
    rows.push({
      workload,
      server: target.server,
      connections,
      requests: w.requests,
      errors: w.errors,
      throughputRps: w.throughputRps,
      p50Ms: w.p50Ms,
      p99Ms: w.p99Ms,
      cpuUsPerRequest: w.cpuUsPerRequest,
      ...(systemCallsPerQuery ? { systemCallsPerQuery } : {}),
      round,
    });
    if (w.firstError) errorSamples[`${workload} ${target.server} ${connections}`] ??= w.firstError;
    process.stderr.write(
      `${workload} ${target.server} c=${connections} round ${round}: ${w.throughputRps} req/s, p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms, ${w.cpuUsPerRequest} µs CPU/req, ${w.errors} errors\n`,
    );
  };

  // 1. The trivial query. A warm-up per server first (V8, Apollo's document cache, keep-alive).
  for (const target of trivialTargets) {
    await load(target, { connections: 50, seconds: WARMUP_S, body: () => TRIVIAL, ok: trivialOk });
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const connections of [50, 1]) {
      for (const target of trivialTargets) {
        const w = await load(target, {
          connections,
          seconds: DURATION_S,
          body: () => TRIVIAL,
          ok: trivialOk,
        });
        record('trivial', target, connections, round, w);
      }
    }
  }

  // 3. The critical path. Every system answers after its fixed latency (the control plane of
  // sandbox/faults.ts); the floor is this same client asking the slowest system for a path it
  // does not have (404 after the same delay): HTTP plus the sandbox's timer, without Crossdock.
  const setFaults = (url: string, faults: Record<string, unknown>) =>
    fetch(`${url}/_faults`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify(faults),
    }).then((r) => {
      if (!r.ok) throw new Error(`PUT ${url}/_faults: HTTP ${r.status}`);
    });
  let nextSku = 1;
  const freshSku = () => {
    if (nextSku > CATALOG_SIZE) throw new Error(`every one of the ${CATALOG_SIZE} SKUs was asked`);
    return `SKU-${String(nextSku++).padStart(6, '0')}`;
  };
  const productBody = () => JSON.stringify({ query: PRODUCT, variables: { sku: freshSku() } });
  const productOk = (status: number, body: string) =>
    status === 200 && body.includes('"availableToPromise"') && !body.includes('"errors"');
  const floor: Target = {
    server: 'sandbox-commerce-direct',
    url: `${systems.commerce}/_bench-floor`,
    pids: [sandboxPid],
    headers: {},
  };
  const pathTargets = [crossdock, crossdockProd, floor];
  const stats = async () => {
    const out: Record<string, number> = {};
    for (const [name, url] of Object.entries(systems)) {
      out[name] = ((await (await fetch(`${url}/_stats`)).json()) as { requests: number }).requests;
    }
    return out;
  };
  const resetStats = () =>
    Promise.all(Object.values(systems).map((url) => fetch(`${url}/_stats`, { method: 'DELETE' })));
  const loadPath = (target: Target, seconds: number) =>
    target === floor
      ? load(target, { connections: 1, seconds, method: 'GET', ok: (status) => status === 404 })
      : load(target, { connections: 1, seconds, body: productBody, ok: productOk });
  // First with the systems answering at once (Crossdock's and the sandbox's own work), then at
  // the fixed latencies; the difference of the two is the latency the query's path waits for.
  const phases = [
    { workload: 'product-no-latency', latency: { erp: 0, wms: 0, tpl: 0, commerce: 0 } },
    { workload: 'product-critical-path', latency: LATENCY_MS },
  ] as const;
  for (const phase of phases) {
    for (const [name, ms] of Object.entries(phase.latency)) {
      await setFaults(systems[name as keyof typeof systems], { latencyMs: ms });
    }
    for (const target of pathTargets) await loadPath(target, WARMUP_S);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const target of pathTargets) {
        await resetStats();
        const w = await loadPath(target, DURATION_S);
        const calls = await stats();
        const perQuery =
          target === floor
            ? undefined
            : Object.fromEntries(
                Object.entries(calls).map(([n, c]) => [n, round2(c / Math.max(1, w.requests))]),
              );
        record(phase.workload, target, 1, round, w, perQuery);
      }
    }
  }
  for (const url of Object.values(systems)) await fetch(`${url}/_faults`, { method: 'DELETE' });
  const skusAsked = nextSku - 1;

  // The servers are stopped before part 2, so only this process runs while it measures.
  for (const child of children) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1000));

  // 2. graphql-js against graphql-jit, in this process.
  const execution = await measureExecution({ batches: QUICK ? 10 : 40, perBatch: 200 });
  for (const f of execution) rows.push(executionRow(f));

  const loadAtEnd = Number((loadavg()[0] ?? 0).toFixed(2));
  const derived = summarise(rows);
  const notes = [
    `Figures are provisional: the machine (${loadAtStart.cores} cores) is shared with other work; load average ${loadAtStart.loadAverage} at the start and ${loadAtEnd} at the end of the run. autocannon (the client) runs in the benchmark's process on the same cores as the servers.`,
    'trivial: `{ "query": "{ __typename }" }` POSTed with content-type application/json (and, for Crossdock, a bench API key with role admin); every answer must be 200 with data.__typename = "Query" and no errors. p50/p99 are from the exact response times autocannon reports per response (its own histogram keeps whole ms). cpuUsPerRequest: CPU time (user + system, /proc, 10 ms ticks) of the server process during the window, divided by the responses.',
    'crossdock: server/main.ts with SANDBOX=off on the sandbox child, NODE_ENV=test, LOG_LEVEL=warn, budgets lifted (crossdockEnv). crossdock-production-settings: the same plus what NODE_ENV=production changes in server/config.ts (GRAPHQL_INTROSPECTION=off, GRAPHQL_SUGGESTIONS=off, ERROR_DETAIL=redacted, PLAYGROUND=off); NODE_ENV itself stays test (production refuses the sandbox credentials), so libraries reading NODE_ENV (Express, Apollo) run as in test in both.',
    'apollo-standalone: `new ApolloServer({ typeDefs: "type Query { hello: String }" })` with startStandaloneServer and every option at its default, NODE_ENV=test (bench/limits-child.ts). node-http: node:http reading the body to its end and writing the same answer, no GraphQL: the floor for one HTTP request and response on this machine and client.',
    `product-critical-path: sandbox systems answer after ERP ${LATENCY_MS.erp} ms, WMS ${LATENCY_MS.wms} ms, 3PL ${LATENCY_MS.tpl} ms, commerce ${LATENCY_MS.commerce} ms (PUT /_faults {"latencyMs": n} on each system's port); one connection; every request asks a SKU not asked before in the run (${skusAsked} SKUs of ${CATALOG_SIZE}) and CONTENT_CACHE_TTL_MS=0 (the content cache bypassed), so every query calls the systems. sandbox-commerce-direct: this client asking commerce for a path it does not have (404 after the same 20 ms): HTTP + the sandbox's timer (setTimeout fires at or after its delay), without Crossdock. systemCallsPerQuery: requests each system received per answered query in the window.`,
    'execute-storefront-50: `products(first: 50) { name listPrice { amount currencyCode } inventory { warehouse { code } available } }` (4 positions each: about 850 fields resolved) over in-memory objects in the benchmark process, servers stopped. connections null; requests = executions measured; throughputRps = executions per second of wall time; p50Ms = median over batches of one execution’s wall time; p99Ms = the slowest batch’s per-execution time (not a per-execution p99); cpuUsPerRequest = process.cpuUsage per execution; errors 0 (both executors’ answers checked identical first). The document is parsed, validated and (jit) compiled once. parse-validate-execute-storefront-50: parse + validate + execute every time; for graphql-jit that includes compileQuery (what a request costs when the compiled query is not cached).',
    `idleCpuMsPerS: CPU ms per second each process used over ${IDLE_S} s with nothing asked, measured after start-up (${Object.entries(
      idleCpuMsPerS,
    )
      .map(([n, v]) => `${n} ${v}`)
      .join(
        ', ',
      )}); cpuUsPerRequest includes it (at 25 req/s, 1 ms/s of idle work is 40 µs per request).`,
    'product-no-latency: the same product(sku) queries with every system answering at once (latencyMs 0): Crossdock plus the sandbox, no waiting.',
    ...derived.notes,
    ...Object.entries(errorSamples).map(([k, v]) => `First error, ${k}: ${v}`),
  ];
  const path = writeResult({
    name: QUICK ? 'limits-quick' : 'limits',
    at: new Date().toISOString(),
    quick: QUICK,
    machine: loadAtStart,
    settings: {
      rounds: ROUNDS,
      durationS: DURATION_S,
      warmupS: WARMUP_S,
      catalogSize: CATALOG_SIZE,
      systemLatencyMs: LATENCY_MS,
      loadAverageAtEnd: loadAtEnd,
      idleCpuMsPerS,
      contentCacheTtlMs: 0,
      productionLikeSettings: PRODUCTION_LIKE,
    },
    rows,
    notes,
  });
  process.stdout.write(
    `${derived.markdown}\nLoad average ${loadAtStart.loadAverage} → ${loadAtEnd} (${loadAtStart.cores} cores). Written to ${path}\n`,
  );
}

/** An executor's figures as a result row (what each field means there: the notes). */
function executionRow(f: ExecutionFigures): BenchRow {
  return {
    workload:
      f.path === 'execute' ? 'execute-storefront-50' : 'parse-validate-execute-storefront-50',
    server: f.executor,
    connections: null,
    requests: f.executions,
    errors: 0,
    throughputRps: f.opsPerSecond,
    p50Ms: f.medianUs / 1000,
    p99Ms: f.worstBatchUs / 1000,
    cpuUsPerRequest: f.cpuUs,
  };
}

/** Medians over rounds, the ratios between servers and the Markdown summary. */
function summarise(rows: readonly BenchRow[]): { markdown: string; notes: string[] } {
  const of = (workload: string, server: string, connections: number | null) =>
    rows.filter(
      (r) => r.workload === workload && r.server === server && r.connections === connections,
    );
  const med = (
    rs: readonly BenchRow[],
    key: 'throughputRps' | 'p50Ms' | 'p99Ms' | 'cpuUsPerRequest',
  ) => round2(median(rs.map((r) => r[key])));
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : '–');
  const lines: string[] = [];
  const notes: string[] = [];

  lines.push(
    '### `{ __typename }` (median over rounds)',
    '',
    '| connections | server | req/s | p50 ms | p99 ms | CPU µs/req | errors |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  const servers = ['crossdock', 'crossdock-production-settings', 'apollo-standalone', 'node-http'];
  for (const c of [50, 1]) {
    for (const s of servers) {
      const rs = of('trivial', s, c);
      lines.push(
        `| ${c} | ${s} | ${med(rs, 'throughputRps')} | ${med(rs, 'p50Ms')} | ${med(rs, 'p99Ms')} | ${med(rs, 'cpuUsPerRequest')} | ${rs.reduce((n, r) => n + r.errors, 0)} |`,
      );
    }
  }
  lines.push(
    '',
    '| connections | Crossdock / Apollo req/s | Crossdock / node:http req/s | Crossdock / Apollo CPU/req | Crossdock / node:http CPU/req |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const c of [50, 1]) {
    const x = of('trivial', 'crossdock', c);
    const a = of('trivial', 'apollo-standalone', c);
    const h = of('trivial', 'node-http', c);
    const cells = [
      ratio(med(x, 'throughputRps'), med(a, 'throughputRps')),
      ratio(med(x, 'throughputRps'), med(h, 'throughputRps')),
      ratio(med(x, 'cpuUsPerRequest'), med(a, 'cpuUsPerRequest')),
      ratio(med(x, 'cpuUsPerRequest'), med(h, 'cpuUsPerRequest')),
    ];
    lines.push(`| ${c} | ${cells.join(' | ')} |`);
    notes.push(
      `trivial, ${c} connection(s), medians over rounds: Crossdock / Apollo throughput ${cells[0]}, Crossdock / node:http throughput ${cells[1]}; CPU per request Crossdock / Apollo ${cells[2]}, Crossdock / node:http ${cells[3]}.`,
    );
  }

  lines.push(
    '',
    '### graphql-js vs graphql-jit, 50 products (in-process)',
    '',
    '| path | executor | ops/s | median µs | slowest batch µs | CPU µs |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const w of ['execute-storefront-50', 'parse-validate-execute-storefront-50']) {
    for (const s of ['graphql-js', 'graphql-jit']) {
      const r = of(w, s, null)[0];
      if (!r) continue;
      lines.push(
        `| ${w} | ${s} | ${r.throughputRps} | ${Math.round(r.p50Ms * 10_000) / 10} | ${Math.round(r.p99Ms * 10_000) / 10} | ${r.cpuUsPerRequest} |`,
      );
    }
    const js = of(w, 'graphql-js', null)[0];
    const jit = of(w, 'graphql-jit', null)[0];
    if (js && jit)
      notes.push(
        `${w}: graphql-jit / graphql-js ops/s ${ratio(jit.throughputRps, js.throughputRps)} (median ${Math.round(js.p50Ms * 1000)} µs vs ${Math.round(jit.p50Ms * 1000)} µs per execution).`,
      );
  }

  lines.push(
    '',
    `### product(sku), 1 connection: systems at once, then at ERP ${LATENCY_MS.erp} / WMS ${LATENCY_MS.wms} / 3PL ${LATENCY_MS.tpl} / commerce ${LATENCY_MS.commerce} ms`,
    '',
    `| workload | server | round | req/s | p50 ms | p99 ms | p50 − ${SLOWEST_MS} ms | CPU µs/req | calls per query | errors |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  const servers3 = ['crossdock', 'crossdock-production-settings', 'sandbox-commerce-direct'];
  for (const w of ['product-no-latency', 'product-critical-path']) {
    for (const s of servers3) {
      for (const r of of(w, s, 1)) {
        const calls = r.systemCallsPerQuery
          ? Object.entries(r.systemCallsPerQuery)
              .map(([n, c]) => `${n} ${c}`)
              .join(', ')
          : '–';
        const waits = w === 'product-critical-path' && s !== 'sandbox-commerce-direct';
        lines.push(
          `| ${w} | ${s} | ${r.round} | ${r.throughputRps} | ${r.p50Ms} | ${r.p99Ms} | ${waits ? round2(r.p50Ms - SLOWEST_MS) : '–'} | ${r.cpuUsPerRequest} | ${calls} | ${r.errors} |`,
        );
      }
    }
  }
  const floorP50 = med(of('product-critical-path', 'sandbox-commerce-direct', 1), 'p50Ms');
  const floorIdleP50 = med(of('product-no-latency', 'sandbox-commerce-direct', 1), 'p50Ms');
  notes.push(
    `The floor (one request straight to commerce, 404): p50 ${floorIdleP50} ms answering at once, ${floorP50} ms with its ${SLOWEST_MS} ms delay, so one delayed hop costs ${round2(floorP50 - SLOWEST_MS)} ms more than its nominal latency before any Crossdock work.`,
  );
  for (const s of ['crossdock', 'crossdock-production-settings']) {
    const rs = of('product-critical-path', s, 1);
    const p50 = med(rs, 'p50Ms');
    const idleP50 = med(of('product-no-latency', s, 1), 'p50Ms');
    notes.push(
      `product-critical-path, ${s}, medians over rounds: p50 ${p50} ms, p99 ${med(rs, 'p99Ms')} ms. p50 − ${SLOWEST_MS} ms (the slowest system, the brief's definition) = ${round2(p50 - SLOWEST_MS)} ms against a target of ≤ 1 ms; with the systems answering at once p50 is ${idleP50} ms, so the delays added ${round2(p50 - idleP50)} ms.`,
    );
  }
  return { markdown: lines.join('\n'), notes };
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

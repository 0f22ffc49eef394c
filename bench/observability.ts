/**
 * `npm run bench:observability`: what the instruments cost on the read path. One sandbox child,
 * two Crossdock children pointed at it over HTTP, the same load against each in alternating
 * rounds:
 *
 * - quiet: LOG_LEVEL=warn (no line per operation or system call), no OTLP endpoint (no spans);
 *   metrics are always on.
 * - logs: LOG_LEVEL=info, no spans.
 * - full: LOG_LEVEL=info (a line per operation and per system call, written to a pipe this
 *   process drains) and OTLP export of every span to a collector stand-in in this process.
 *
 * Figures: CPU time per request of each Crossdock process (from /proc), median over rounds, and
 * the ratio full / quiet measured in the same run; plus one /metrics scrape's CPU time.
 * Settings: BENCH_ROUNDS (5), BENCH_REQUESTS (2000 per round), BENCH_CONNECTIONS (10).
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { apiKeyEnv } from '../server/identity.js';
import { cpuMsOf, crossdockEnv, freePortBase, median, start } from './support.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const requests = Number(process.env.BENCH_REQUESTS ?? 2_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SECRET = 'bench-api-key-secret-of-at-least-32-characters';

async function main(): Promise<void> {
  // The collector stand-in: accepts OTLP/HTTP posts and counts their bytes.
  let otlpPosts = 0;
  let otlpBytes = 0;
  const collector = createServer((req, res) => {
    req.on('data', (c: Buffer) => (otlpBytes += c.length));
    req.on('end', () => {
      otlpPosts++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const otlp = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

  const base = await freePortBase();
  const sandbox = await start(
    'sandbox/main.ts',
    { SANDBOX_PORT_BASE: String(base), SANDBOX_CATALOG_SIZE: '2000' },
    /commerce\s+http/,
  );
  const other = await freePortBase();
  const third = await freePortBase();
  const keys = apiKeyEnv(SECRET, [{ id: 'bench-admin', key: 'bench-admin-key', role: 'admin' }]);
  const peers = {
    quiet: await start(
      'server/main.ts',
      crossdockEnv(base, { ...keys, DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-obs-')) }),
      /Crossdock GraphQL/,
    ),
    full: await start(
      'server/main.ts',
      crossdockEnv(base, {
        ...keys,
        PORT: String(other + 5),
        LOG_LEVEL: 'info',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
        DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-obs-')),
      }),
      /Crossdock GraphQL/,
    ),
    logs: await start(
      'server/main.ts',
      crossdockEnv(base, {
        ...keys,
        PORT: String(third + 5),
        LOG_LEVEL: 'info',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-obs-')),
      }),
      /Crossdock GraphQL/,
    ),
  };
  const ports = { quiet: base + 5, full: other + 5, logs: third + 5 };
  const body = JSON.stringify({
    query: `query Product($sku: String!) { product(sku: $sku) { name listPrice { amount } inventory { onHand warehouse { code } } } }`,
    variables: { sku: 'SKU-000042' },
  });
  const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-admin-key' };
  const load = (port: number, amount: number) =>
    autocannon({
      url: `http://127.0.0.1:${port}/graphql`,
      method: 'POST',
      headers,
      body,
      connections,
      amount,
    });
  // Warm-up: tokens, facility lists, JIT.
  for (const port of Object.values(ports)) await load(port, 500);

  type Peer = keyof typeof peers;
  const perRequest: Record<Peer, number[]> = { quiet: [], full: [], logs: [] };
  const rps: Record<Peer, number[]> = { quiet: [], full: [], logs: [] };
  const orders: readonly (readonly Peer[])[] = [
    ['quiet', 'logs', 'full'],
    ['full', 'quiet', 'logs'],
    ['logs', 'full', 'quiet'],
  ];
  for (let round = 0; round < rounds; round++) {
    const order = orders[round % orders.length] as readonly Peer[];
    for (const name of order) {
      const pid = peers[name].pid as number;
      const before = cpuMsOf(pid);
      const result = await load(ports[name], requests);
      const used = cpuMsOf(pid) - before;
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      }
      perRequest[name].push((used * 1000) / requests);
      rps[name].push(result.requests.average);
    }
  }
  // /metrics: 200 scrapes (one is below /proc's 10 ms tick).
  const SCRAPES = 200;
  const scrapeStart = cpuMsOf(peers.full.pid as number);
  for (let i = 0; i < SCRAPES; i++) {
    const res = await fetch(`http://127.0.0.1:${ports.full}/metrics`);
    await res.text();
  }
  const scrapeMs = (cpuMsOf(peers.full.pid as number) - scrapeStart) / SCRAPES;

  const quiet = median(perRequest.quiet);
  const full = median(perRequest.full);
  const logs = median(perRequest.logs);
  const results = {
    node: process.version,
    at: new Date().toISOString(),
    rounds,
    requests,
    connections,
    cpuPerRequestUs: { quiet: Math.round(quiet), logs: Math.round(logs), full: Math.round(full) },
    ratioLogsOverQuiet: Math.round((logs / quiet) * 100) / 100,
    ratioFullOverQuiet: Math.round((full / quiet) * 100) / 100,
    requestsPerSecond: {
      quiet: Math.round(median(rps.quiet)),
      logs: Math.round(median(rps.logs)),
      full: Math.round(median(rps.full)),
    },
    rounds_cpuPerRequestUs: perRequest,
    metricsScrapeCpuMs: Math.round(scrapeMs * 100) / 100,
    otlp: { posts: otlpPosts, bytes: otlpBytes },
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('./results/observability.json', import.meta.url),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  console.log(
    [
      '| peer | CPU per request (median) | requests/s (median) |',
      '| --- | --- | --- |',
      `| quiet (warn logs, no spans) | ${Math.round(quiet)} µs | ${results.requestsPerSecond.quiet} |`,
      `| logs (info logs, no spans) | ${Math.round(logs)} µs | ${results.requestsPerSecond.logs} |`,
      `| full (info logs, OTLP spans) | ${Math.round(full)} µs | ${results.requestsPerSecond.full} |`,
      '',
      `logs / quiet: ${results.ratioLogsOverQuiet}; full / quiet: ${results.ratioFullOverQuiet}; one /metrics scrape: ${results.metricsScrapeCpuMs} ms CPU; OTLP: ${otlpPosts} posts, ${otlpBytes} bytes`,
    ].join('\n'),
  );
  for (const child of [...Object.values(peers), sandbox]) child.kill('SIGTERM');
  collector.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

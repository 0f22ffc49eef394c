/**
 * `npm run bench:orders`: placeOrder throughput. Three processes: the sandbox systems, Crossdock
 * (embedded SQLite store in a fresh data directory), and autocannon here. Every request places a
 * new order (a fresh idempotency key) of one unit of a random SKU for one customer; each answer is
 * classified as placed, domain failure (userErrors, e.g. a SKU out of stock) or error. Then, for
 * as long, replays: requests placed before sent again (same key, same input), each of which must
 * be answered from the stored outcome (`extensions.idempotency.replayed: true`). Reports CPU per
 * request of Crossdock and of the sandbox (from /proc) and the system calls per order by route.
 *
 * Settings: BENCH_CATALOG_SIZE (default 10000), BENCH_DURATION_S (default 10),
 * BENCH_CONNECTIONS (default 10).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { buildWorld } from '../sandbox/seed.js';
import { QUICK, cpuMsOf, crossdockEnv, freePortBase, start, startSandbox } from './support.js';
import { apiKeyEnv } from '../server/identity.js';

/** The benchmarks' API key secret (their keys are throwaway). */
const BENCH_KEY_SECRET = 'bench-api-key-secret-of-at-least-32-characters';

const catalogSize = Number(process.env.BENCH_CATALOG_SIZE ?? 10_000);
const duration = Number(process.env.BENCH_DURATION_S ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);

async function main(): Promise<void> {
  const base = await freePortBase();
  const sandbox = await startSandbox(base, catalogSize);
  const crossdock = await start(
    'server/main.ts',
    crossdockEnv(base, {
      LOG_LEVEL: 'warn',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'crossdock-bench-')),
      ...apiKeyEnv(BENCH_KEY_SECRET, [
        { id: 'bench-admin', key: 'bench-admin-key', role: 'admin' },
      ]),
    }),
    /Crossdock GraphQL/,
  );
  // The same seed as the sandbox process: pick a customer who can order, and stocked SKUs.
  const world = buildWorld({ catalogSize });
  const customer = world.customers.find(
    (c) =>
      c.blocked === ' ' &&
      c.creditLimitCents >= 10_000_000 &&
      c.balanceDueCents < c.creditLimitCents / 4,
  );
  if (!customer) throw new Error('no customer able to order');
  const blocked = new Set(world.products.filter((p) => p.blocked).map((p) => p.sku));
  const skus = [
    ...new Set(
      world.stock
        .filter((s) => s.warehouse !== '3PL-SOUTH' && s.onHand - s.allocated - s.onHold > 20)
        .map((s) => s.sku)
        .filter((sku) => !blocked.has(sku)),
    ),
  ];
  const url = `http://127.0.0.1:${base + 5}/graphql`;
  /** `connections` POSTing to Crossdock for `duration` s, each request made by `request`. */
  const post = (request: {
    setupRequest: (req: Record<string, unknown>) => Record<string, unknown>;
    onResponse: (status: number, body: string) => void;
  }) =>
    autocannon({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench-admin-key' },
      connections,
      duration,
      requests: [{ method: 'POST', ...request }],
    } as unknown as autocannon.Options);
  const query = `mutation($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) { order { id status } userErrors { code } } }`;
  let n = 0;
  /** Every request body placed, for the replay phase to send again. */
  const sent: string[] = [];
  const outcome = { placed: 0, userErrors: 0, errors: 0 };
  const userErrorCodes: Record<string, number> = {};
  let firstError: string | null = null;
  const systems = { erp: base + 1, wms: base + 2, tpl: base + 3, commerce: base + 4 };
  const statsUrl = (port: number) => `http://127.0.0.1:${port}/_stats`;
  await Promise.all(
    Object.values(systems).map((port) => fetch(statsUrl(port), { method: 'DELETE' })),
  );
  const cpuBefore = { crossdock: cpuMsOf(crossdock.pid ?? 0), sandbox: cpuMsOf(sandbox.pid ?? 0) };
  const windowFrom = process.hrtime.bigint() / 1000n;
  const result = await post({
    setupRequest: (req: Record<string, unknown>) => {
      const body = JSON.stringify({
        query,
        variables: {
          key: `bench-${process.pid}-${n++}`,
          input: {
            channel: 'EDI',
            customerId: customer.number,
            lines: [{ sku: skus[Math.floor(Math.random() * skus.length)], quantity: 1 }],
          },
        },
      });
      sent.push(body);
      return { ...req, body };
    },
    onResponse: (status: number, body: string) => {
      if (body.includes('"errors":[')) {
        outcome.errors++;
        firstError ??= `HTTP ${status} ${body.slice(0, 300)}`;
      } else if (body.includes('"userErrors":[]')) outcome.placed++;
      else {
        outcome.userErrors++;
        const code = /"userErrors":\[\{"code":"([A-Z_]+)"/.exec(body)?.[1] ?? 'unknown';
        userErrorCodes[code] = (userErrorCodes[code] ?? 0) + 1;
      }
    },
  });
  // The load window on a CPU profile's clock (CLOCK_MONOTONIC µs; BENCH_CPU_PROF_DIR).
  process.stderr.write(`load window: --window ${windowFrom} ${process.hrtime.bigint() / 1000n}\n`);
  const perOrderUs = (pid: number | undefined, before: number) =>
    Math.round(((cpuMsOf(pid ?? 0) - before) * 1000) / Math.max(1, result.requests.total));
  const cpuUsPerRequest = {
    crossdock: perOrderUs(crossdock.pid, cpuBefore.crossdock),
    sandbox: perOrderUs(sandbox.pid, cpuBefore.sandbox),
  };
  // What each system served per answer, by route (counted at the sandbox: GET /_stats).
  const callsPerRequest: Record<string, Record<string, number>> = {};
  for (const [name, port] of Object.entries(systems)) {
    const stats = (await (await fetch(statsUrl(port))).json()) as {
      byRoute: Record<string, number>;
    };
    callsPerRequest[name] = Object.fromEntries(
      Object.entries(stats.byRoute)
        .filter(([route]) => !route.includes('/_stats'))
        .map(([route, n]) => [
          route,
          Math.round((n / Math.max(1, result.requests.total)) * 100) / 100,
        ]),
    );
  }

  // Replays: the same requests again (same key, same input), each answered from the stored
  // outcome (extensions.idempotency.replayed) without calling any system.
  const replay = { replayed: 0, other: 0, firstOther: null as string | null };
  const crossdockBeforeReplay = cpuMsOf(crossdock.pid ?? 0);
  const replayed = await post({
    setupRequest: (req: Record<string, unknown>) => ({
      ...req,
      body: sent[Math.floor(Math.random() * sent.length)],
    }),
    onResponse: (status: number, body: string) => {
      if (status === 200 && body.includes('"replayed":true')) replay.replayed++;
      else {
        replay.other++;
        replay.firstOther ??= `HTTP ${status} ${body.slice(0, 300)}`;
      }
    },
  });
  const replayCpuUs = Math.round(
    ((cpuMsOf(crossdock.pid ?? 0) - crossdockBeforeReplay) * 1000) /
      Math.max(1, replayed.requests.total),
  );
  const results = {
    catalogSize,
    duration,
    connections,
    node: process.version,
    at: new Date().toISOString(),
    placeOrder: {
      requestsPerSecond: result.requests.average,
      // CPU (user + system, from /proc) of each process per answer: Crossdock's own, and the
      // sandbox systems' (which share the machine's two cores with it).
      cpuUsPerRequest,
      callsPerRequest,
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99 },
      responses: result.requests.total,
      ...outcome,
      userErrorCodes,
      firstError,
      non2xx: result.non2xx,
      timeouts: result.timeouts,
    },
    replay: {
      requestsPerSecond: replayed.requests.average,
      cpuUsPerRequest: replayCpuUs,
      latencyMs: {
        p50: replayed.latency.p50,
        p90: replayed.latency.p90,
        p99: replayed.latency.p99,
      },
      responses: replayed.requests.total,
      ...replay,
    },
  };
  mkdirSync(new URL('results/', import.meta.url), { recursive: true });
  // A quick run (npm run bench -- --quick) never overwrites the full run's figures.
  const file = new URL(`results/place-order${QUICK ? '-quick' : ''}.json`, import.meta.url);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\nwritten to ${file.pathname}\n`);
  crossdock.kill('SIGTERM');
  sandbox.kill('SIGTERM');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String(error)}\n`);
  process.exit(1);
});

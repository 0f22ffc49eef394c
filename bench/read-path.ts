/**
 * `npm run bench:read`: the read path under load, three processes like production would have them:
 * the sandbox systems (one child), Crossdock pointed at them over HTTP (another child), and the
 * load generator (autocannon, this process). Results go to bench/results/<name>.json and the
 * summary is printed as Markdown for the README.
 *
 * Settings (environment): BENCH_CATALOG_SIZE (default 100000), BENCH_DURATION_S (default 10),
 * BENCH_CONNECTIONS (default 20), BENCH_COMMERCE_RESTORE_RATE (default 1000000: the sandbox's
 * commerce query-cost limit is lifted so the figures measure Crossdock, not a Shopify plan; one
 * extra scenario runs at the standard plan's 100 points/s to show that limit).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { crossdockEnv, freePortBase, median, start } from './support.js';
import { apiKeyEnv } from '../server/identity.js';

/** The benchmarks' API key secret (their keys are throwaway). */
const BENCH_KEY_SECRET = 'bench-api-key-secret-of-at-least-32-characters';

const catalogSize = Number(process.env.BENCH_CATALOG_SIZE ?? 100_000);
const duration = Number(process.env.BENCH_DURATION_S ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const restoreRate = Number(process.env.BENCH_COMMERCE_RESTORE_RATE ?? 1_000_000);

async function main(): Promise<void> {
  const base = await freePortBase();
  const urls = {
    erp: `http://127.0.0.1:${base + 1}`,
    wms: `http://127.0.0.1:${base + 2}`,
    tpl: `http://127.0.0.1:${base + 3}`,
    commerce: `http://127.0.0.1:${base + 4}`,
  };
  const startSandboxProcess = (rate: number, portBase: number) =>
    start(
      'sandbox/main.ts',
      {
        SANDBOX_PORT_BASE: String(portBase),
        SANDBOX_CATALOG_SIZE: String(catalogSize),
        SANDBOX_COMMERCE_RESTORE_RATE: String(rate),
      },
      /commerce\s+http/,
    );
  const sandbox = await startSandboxProcess(restoreRate, base);
  const startCrossdock = (portBase: number) =>
    start(
      'server/main.ts',
      crossdockEnv(portBase, {
        LOG_LEVEL: 'warn',
        ...apiKeyEnv(BENCH_KEY_SECRET, [
          { id: 'bench-admin', key: 'bench-admin-key', role: 'admin' },
        ]),
      }),
      /Crossdock GraphQL/,
    );
  const crossdock = await startCrossdock(base);
  const url = `http://127.0.0.1:${base + 5}/graphql`;
  const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-admin-key' };
  const gql = async (query: string, variables?: Record<string, unknown>) => {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as {
      data?: unknown;
      errors?: { extensions?: Record<string, unknown> }[];
    };
  };
  const system = (name: keyof typeof urls, path: string, init?: RequestInit) =>
    fetch(`${urls[name]}${path}`, init);
  const counts = async () => {
    const out: Record<string, number> = {};
    for (const name of Object.keys(urls) as (keyof typeof urls)[]) {
      out[name] = ((await (await system(name, '/_stats')).json()) as { requests: number }).requests;
    }
    return out;
  };
  const resetCounts = () =>
    Promise.all(
      Object.keys(urls).map((n) => system(n as keyof typeof urls, '/_stats', { method: 'DELETE' })),
    );
  const setFaults = (name: keyof typeof urls, faults: Record<string, unknown>) =>
    system(name, '/_faults', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
    });
  const clearFaults = (name: keyof typeof urls) => system(name, '/_faults', { method: 'DELETE' });

  const results: Record<string, unknown> = {
    catalogSize,
    duration,
    connections,
    node: process.version,
    at: new Date().toISOString(),
  };

  // 1. Requests per system per query, by page size.
  const PAGE = `query($n: Int!, $after: String) { products(first: $n, after: $after) { edges { node { sku name listPrice { amount } inventory { onHand warehouse { code } } availableToPromise } } } }`;
  const cursorAfter = (sku: string) => Buffer.from(`v1:${sku}`).toString('base64url');
  await gql(PAGE, { n: 1 }); // tokens and facility lists, fetched once per connector
  const batching: Record<string, Record<string, number>> = {};
  // A different page per size, so the content cache holds none of it (cold).
  for (const [n, after] of [
    [1, 'SKU-010000'],
    [50, 'SKU-020000'],
    [200, 'SKU-030000'],
  ] as const) {
    await resetCounts();
    const answer = await gql(PAGE, { n, after: cursorAfter(after) });
    if (answer.errors) throw new Error(`batching query failed: ${JSON.stringify(answer.errors)}`);
    batching[n] = await counts();
  }
  results.requestsPerSystemPerQuery = batching;

  // 2. Throughput and latency of typical reads. "hot" repeats one query (the content cache
  // answers for commerce); "cold" picks a random SKU or page of the catalogue every time, so
  // every system is called.
  const PRODUCT = `query($sku: String!) { product(sku: $sku) { name listPrice { amount } inventory { onHand available warehouse { code } } availableToPromise } }`;
  const randomSku = () =>
    `SKU-${String(1 + Math.floor(Math.random() * catalogSize)).padStart(6, '0')}`;
  const randomCursor = () => Buffer.from(`v1:${randomSku()}`).toString('base64url');
  type Scenario = { make: () => string };
  const scenarios: Record<string, Scenario> = {
    'product(sku), hot': {
      make: () => JSON.stringify({ query: PRODUCT, variables: { sku: 'SKU-004242' } }),
    },
    'product(sku), cold (random SKU)': {
      make: () => JSON.stringify({ query: PRODUCT, variables: { sku: randomSku() } }),
    },
    'products(first: 50), hot': {
      make: () => JSON.stringify({ query: PAGE, variables: { n: 50 } }),
    },
    'products(first: 50), cold (random page)': {
      make: () => JSON.stringify({ query: PAGE, variables: { n: 50, after: randomCursor() } }),
    },
    'orders(first: 20) with lines and shipments': {
      make: () =>
        JSON.stringify({
          query: `{ orders(first: 20) { nodes { number status lines { sku quantity } shipments { status trackingNumber } } } }`,
        }),
    },
  };
  // Every response body is checked: a 200 whose GraphQL `errors` is not empty counts as failed.
  const run = async (target: string, scenario: Scenario) => {
    let withErrors = 0;
    let sample: string | null = null;
    const result = await autocannon({
      url: target,
      method: 'POST',
      headers,
      connections,
      duration,
      requests: [
        {
          method: 'POST',
          setupRequest: (req: Record<string, unknown>) => ({ ...req, body: scenario.make() }),
          onResponse: (status: number, body: string) => {
            if (body.includes('"errors":[')) {
              withErrors++;
              sample ??= `HTTP ${status} ${body.slice(0, 300)}`;
            }
          },
        },
      ],
    } as unknown as autocannon.Options);
    return { result, withErrors, sample };
  };
  const summary = ({ result: r, withErrors, sample }: Awaited<ReturnType<typeof run>>) => ({
    requestsPerSecond: r.requests.average,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99 },
    responses: r.requests.total,
    responsesWithGraphQLErrors: withErrors,
    firstError: sample,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  });
  const load: Record<string, unknown> = {};
  for (const [name, scenario] of Object.entries(scenarios))
    load[name] = summary(await run(url, scenario));
  results.load = load;

  // 2b. The same cold lookups against a commerce platform metered like Shopify's standard plan
  // (100 query-cost points restored per second): the plan's limit, not Crossdock, sets the pace.
  {
    const planBase = await freePortBase();
    const planSandbox = await startSandboxProcess(100, planBase);
    const planCrossdock = await startCrossdock(planBase);
    const planUrl = `http://127.0.0.1:${planBase + 5}/graphql`;
    const cold = scenarios['product(sku), cold (random SKU)'];
    if (!cold) throw new Error('missing scenario');
    results.coldProductAtStandardPlanLimit = summary(await run(planUrl, cold));
    planCrossdock.kill('SIGTERM');
    planSandbox.kill('SIGTERM');
  }

  // 3. One system down or hanging: query latency before and after its breaker opens.
  const Q = `{ product(sku: "SKU-000777") { name listPrice { amount } availableToPromise } }`;
  const breaker: Record<string, unknown> = {};
  for (const [mode, faults] of [
    ['ERP hanging (no answer; 2 s timeout)', { latencyMs: 60_000 }],
    ['ERP down (connection reset)', { down: true }],
  ] as const) {
    await setFaults('erp', faults);
    const before: number[] = [];
    const after: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      const answer = await gql(Q);
      const ms = performance.now() - t0;
      const state = answer.errors?.[0]?.extensions?.breaker;
      (state === 'OPEN' ? after : before).push(ms);
      if (after.length >= 20) break;
    }
    breaker[mode] = {
      queriesBeforeOpen: before.length,
      medianMsBeforeOpen: Math.round(median(before)),
      queriesAfterOpen: after.length,
      medianMsAfterOpen: Math.round(median(after) * 10) / 10,
    };
    await clearFaults('erp');
    // Let the breaker close again before the next mode: wait for half-open, then probe.
    for (let i = 0; i < 200; i++) {
      const answer = await gql(Q);
      if (!answer.errors) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  results.oneSystemDown = breaker;

  mkdirSync(new URL('results/', import.meta.url), { recursive: true });
  const file = new URL(`results/read-path-${catalogSize}.json`, import.meta.url);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\nwritten to ${file.pathname}\n`);
  crossdock.kill('SIGTERM');
  sandbox.kill('SIGTERM');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String(error)}\n`);
  process.exit(1);
});

/**
 * `tsx bench/ab.ts <checkout A> <checkout B> [-- --quick]` (issue #13): two checkouts of Crossdock
 * (e.g. a commit and its change, as git worktrees) on one sandbox, measured in alternating rounds
 * (A B A B …) so that a machine busy with other work weighs on both alike. Per workload and side:
 * the median over rounds of req/s and of the server's CPU µs per request (/proc, user + system).
 * Workloads: `{ __typename }`, `product(sku)` (a SKU of a 20,000-product catalogue, a different
 * one each request) and the storefront page (50 products after a random one), each at 50
 * connections; `BENCH_AB_WORKLOADS=trivial,storefront` picks some. Each side runs from its own build (`npm run build` in
 * each checkout first), or, with BENCH_FROM_SOURCE=1, from its source with tsx (a checkout older
 * than the build; then both do). Prints a Markdown table; writes no result file.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { apiKeyEnv } from '../server/identity.js';
import {
  QUICK,
  cpuMsOf,
  crossdockEnv,
  freePortBase,
  median,
  start,
  startSandbox,
} from './support.js';

const ROUNDS = QUICK ? 1 : Number(process.env['BENCH_AB_ROUNDS'] ?? 3);
const DURATION_S = QUICK ? 2 : 5;
const CONNECTIONS = 50;
const CATALOG_SIZE = 20_000;
const SECRET = 'bench-api-key-secret-of-at-least-32-characters';
const PRODUCT = `query($sku: String!) { product(sku: $sku) { name listPrice { amount } inventory { warehouse { code } available } availableToPromise } }`;
const STOREFRONT = `query($after: String) { products(first: 50, after: $after) { nodes { sku name listPrice { amount currencyCode } inventory { warehouse { code } available } availableToPromise } } }`;
const randomSku = (span: number) =>
  `SKU-${String(1 + Math.floor(Math.random() * span)).padStart(6, '0')}`;

/** One workload: the body of each request and what a right answer contains. */
const WORKLOADS = {
  trivial: { body: () => JSON.stringify({ query: '{ __typename }' }), ok: '"__typename":"Query"' },
  product: {
    body: () =>
      JSON.stringify({
        query: PRODUCT,
        variables: { sku: randomSku(CATALOG_SIZE) },
      }),
    ok: '"availableToPromise"',
  },
  storefront: {
    body: () =>
      JSON.stringify({
        query: STOREFRONT,
        // A page of 50 after a random product (the cursor is the key after which it starts).
        variables: {
          after: Buffer.from(`v1:${randomSku(CATALOG_SIZE - 60)}`).toString('base64url'),
        },
      }),
    ok: '"availableToPromise"',
  },
} as const;

/** The workloads to run (`BENCH_AB_WORKLOADS=trivial,storefront`), all by default. */
const SELECTED = (process.env['BENCH_AB_WORKLOADS'] ?? Object.keys(WORKLOADS).join(','))
  .split(',')
  .filter((name): name is keyof typeof WORKLOADS => {
    if (name in WORKLOADS) return true;
    throw new Error(`BENCH_AB_WORKLOADS: unknown workload ${JSON.stringify(name)}`);
  });

/** One side's figures of one window. */
interface Window {
  readonly rps: number;
  readonly cpuUsPerRequest: number;
  readonly errors: number;
  readonly firstError: string | null;
}

/** Loads `url` (served by `pid`) for DURATION_S; every answer must be 200 and contain `ok`. */
async function load(url: string, pid: number, workload: keyof typeof WORKLOADS): Promise<Window> {
  const { body, ok } = WORKLOADS[workload];
  let answered = 0;
  let bad = 0;
  let firstError: string | null = null;
  const cpu0 = cpuMsOf(pid);
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-ab-key' },
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [
      {
        setupRequest: (req: autocannon.Request) => ({ ...req, body: body() }),
        onResponse: (status: number, text: string) => {
          answered++;
          if (status === 200 && text.includes(ok) && !text.includes('"errors"')) return;
          bad++;
          firstError ??= `HTTP ${status} ${text.slice(0, 300)}`;
        },
      },
    ],
  } as autocannon.Options);
  const cpuMs = cpuMsOf(pid) - cpu0;
  return {
    rps: Math.round(answered / result.duration),
    cpuUsPerRequest: answered > 0 ? Math.round((cpuMs * 1000) / answered) : 0,
    errors: bad + result.errors + result.timeouts,
    firstError,
  };
}

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});
// A run stopped by a signal stops its servers too ('exit' alone is not emitted then).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

async function main(): Promise<void> {
  const checkouts = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (checkouts.length !== 2) throw new Error('expected two checkouts: tsx bench/ab.ts <A> <B>');
  // Each side runs its own build (bench/support.ts start), made here from its checkout.
  if (process.env['BENCH_FROM_SOURCE'] !== '1') {
    for (const checkout of checkouts) {
      const built = spawnSync('npm', ['run', 'build', '--silent'], {
        cwd: resolve(checkout),
        stdio: 'inherit',
      });
      if (built.status !== 0) throw new Error(`npm run build failed in ${checkout}`);
    }
  }
  const loadAtStart = loadavg()[0] ?? 0;
  const base = await freePortBase();
  children.push(await startSandbox(base, CATALOG_SIZE));
  const keys = apiKeyEnv(SECRET, [{ id: 'bench-ab', key: 'bench-ab-key', role: 'admin' }]);
  const sides = [];
  for (const [i, checkout] of checkouts.entries()) {
    const port = (await freePortBase()) + 5;
    const env = crossdockEnv(base, {
      ...keys,
      PORT: String(port),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-ab-')),
    });
    const child = await start('server/main.ts', env, /Crossdock GraphQL/, resolve(checkout));
    children.push(child);
    if (child.pid === undefined) throw new Error('child process has no pid');
    sides.push({
      name: i === 0 ? 'A' : 'B',
      checkout,
      url: `http://127.0.0.1:${port}/graphql`,
      pid: child.pid,
    });
  }
  const windows = new Map<string, Window[]>();
  for (const workload of SELECTED) {
    for (const side of sides) await load(side.url, side.pid, workload); // warm-up
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of sides) {
        const w = await load(side.url, side.pid, workload);
        const key = `${workload} ${side.name}`;
        windows.set(key, [...(windows.get(key) ?? []), w]);
        if (w.firstError) process.stderr.write(`${key} first error: ${w.firstError}\n`);
        process.stderr.write(
          `${key} round ${round}: ${w.rps} req/s, ${w.cpuUsPerRequest} µs CPU/req, ${w.errors} errors\n`,
        );
      }
    }
  }
  const lines = [
    `A: ${sides[0]?.checkout}, B: ${sides[1]?.checkout}; ${ROUNDS} rounds of ${DURATION_S} s per side, ${CONNECTIONS} connections, medians; load average ${loadAtStart.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end.`,
    '',
    '| workload | A req/s | B req/s | B/A | A µs CPU/req | B µs CPU/req | B/A | errors |',
    '| --- | --: | --: | --: | --: | --: | --: | --: |',
  ];
  for (const workload of SELECTED) {
    const a = windows.get(`${workload} A`) ?? [];
    const b = windows.get(`${workload} B`) ?? [];
    const m = (ws: Window[], f: (w: Window) => number) => median(ws.map(f));
    const [ra, rb] = [m(a, (w) => w.rps), m(b, (w) => w.rps)];
    const [ca, cb] = [m(a, (w) => w.cpuUsPerRequest), m(b, (w) => w.cpuUsPerRequest)];
    const errors = [...a, ...b].reduce((n, w) => n + w.errors, 0);
    lines.push(
      `| ${workload} | ${ra} | ${rb} | ${(rb / ra).toFixed(2)} | ${ca} | ${cb} | ${(cb / ca).toFixed(2)} | ${errors} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);

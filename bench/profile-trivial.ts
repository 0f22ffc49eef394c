/**
 * `tsx bench/profile-trivial.ts [seconds]`: a V8 CPU profile of Crossdock answering `{ __typename }`
 * (the trivial query of bench/limits.ts) at 50 connections; with BENCH_PROFILE=product,
 * `product(sku)` with price and stock, a new SKU per request; with BENCH_PROFILE=storefront, the
 * storefront page of bench/read-peers.ts; the content cache off. The sandbox child and a Crossdock child
 * started as bench/limits.ts starts them, Crossdock with `--cpu-prof` (Node 20 refuses it in
 * NODE_OPTIONS, so this starts that child itself);
 * a 2 s warm-up, then `seconds` (10) of load, then SIGINT so Crossdock stops and writes the
 * profile. Prints each profile's path and the load window: `tsx bench/profile-summary.ts <that line>`
 * summarises the load alone. With BENCH_ALLOC=1, an allocation profile of the load window instead
 * (bench/alloc-sampler.ts: every sampled allocation, also those collected since), as a
 * `.heapprofile` that profile-summary reads too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { apiKeyEnv } from '../server/identity.js';
import { builtScript, crossdockEnv, freePortBase, startSandbox } from './support.js';

const seconds = Number(process.argv[2] ?? 10);
const ALLOC = process.env['BENCH_ALLOC'] === '1';
const allocPath = (dir: string) => join(dir, 'alloc.heapprofile');
const SECRET = 'bench-api-key-secret-of-at-least-32-characters';

async function main(): Promise<void> {
  const base = await freePortBase();
  const sandbox = await startSandbox(base, 20_000);
  // A failure below exits this process: the sandbox must not outlive it.
  process.on('exit', () => sandbox.kill('SIGTERM'));
  const dir = mkdtempSync(join(tmpdir(), 'crossdock-profile-'));
  const crossdock = await profiled(
    dir,
    crossdockEnv(base, {
      ...apiKeyEnv(SECRET, [{ id: 'bench-admin', key: 'bench-admin-key', role: 'admin' }]),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-profile-')),
      CONTENT_CACHE_TTL_MS: '0',
    }),
  );
  // BENCH_PROFILE=product: product(sku) with price and stock, a new SKU per request;
  // BENCH_PROFILE=storefront: the storefront page of bench/read-peers.ts (50 products with price
  // and stock from every warehouse system), a page from a cursor in the catalogue per request.
  let next = 0;
  const product = process.env['BENCH_PROFILE'] === 'product';
  const storefront = process.env['BENCH_PROFILE'] === 'storefront';
  const STOREFRONT = `query Storefront($after: String) { products(first: 50, after: $after) { nodes { sku name listPrice { amount currencyCode } inventory { warehouse { code } available } availableToPromise } } }`;
  const PRODUCT = `query($sku: String!) { product(sku: $sku) { name listPrice { amount } inventory { warehouse { code } available } availableToPromise } }`;
  const options = {
    url: `http://127.0.0.1:${base + 5}/graphql`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-admin-key' },
    body: JSON.stringify({ query: '{ __typename }' }),
    connections: 50,
    ...(storefront
      ? {
          requests: [
            {
              setupRequest: (req: autocannon.Request) => ({
                ...req,
                body: JSON.stringify({
                  query: STOREFRONT,
                  // Products are keyed by SKU: a page starts after any of them.
                  variables: { after: storefrontCursor((next++ * 50) % 19_900) },
                }),
              }),
            },
          ],
        }
      : {}),
    ...(product
      ? {
          requests: [
            {
              setupRequest: (req: autocannon.Request) => ({
                ...req,
                body: JSON.stringify({
                  query: PRODUCT,
                  variables: { sku: `SKU-${String((next++ % 20_000) + 1).padStart(6, '0')}` },
                }),
              }),
            },
          ],
        }
      : {}),
  };
  await autocannon({ ...options, duration: 2 });
  if (ALLOC) crossdock.kill('SIGUSR2'); // allocation sampling starts (bench/alloc-sampler.ts)
  // The load window on the profile's clock (CLOCK_MONOTONIC µs): profile-summary --window.
  const from = process.hrtime.bigint() / 1000n;
  const result = await autocannon({ ...options, duration: seconds });
  const to = process.hrtime.bigint() / 1000n;
  process.stderr.write(
    `${result.requests.total} requests in ${seconds} s (${result.non2xx} non-2xx, ${result.errors} errors)\n`,
  );
  // One answer checked after the window: a profile of errors would mislead.
  const check = await fetch(options.url, {
    method: 'POST',
    headers: options.headers,
    body: product
      ? JSON.stringify({ query: PRODUCT, variables: { sku: 'SKU-000001' } })
      : storefront
        ? JSON.stringify({ query: STOREFRONT, variables: { after: storefrontCursor(100) } })
        : options.body,
  });
  const checked = await check.text();
  if (checked.includes('"errors"')) process.stderr.write(`answers carry errors: ${checked}\n`);
  const exited = new Promise((resolve) => crossdock.once('exit', resolve));
  crossdock.kill('SIGINT');
  await exited;
  sandbox.kill('SIGTERM');
  if (ALLOC) {
    if (!existsSync(allocPath(dir))) throw new Error(`no allocation profile in ${dir}`);
    process.stdout.write(`${allocPath(dir)}\n`);
    return;
  }
  const written = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (written.length === 0) throw new Error(`no profile written in ${dir}`);
  process.stdout.write(
    `${written.map((f) => `${join(dir, f)} --window ${from} ${to}`).join('\n')}\n`,
  );
}

/** Crossdock's cursor after the product at `index` (resolvers/ids.ts, as bench/read-peers.ts). */
const storefrontCursor = (index: number) =>
  Buffer.from(`v1:SKU-${String(index + 1).padStart(6, '0')}`).toString('base64url');

/**
 * server/main.ts under `--cpu-prof` (or, BENCH_ALLOC=1, with the allocation sampler), resolved
 * once it prints its URLs.
 */
function profiled(dir: string, env: Record<string, string>): Promise<ChildProcess> {
  const flags = ALLOC
    ? ['--import', pathToFileURL(builtScript('bench/alloc-sampler.ts')).href]
    : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  const child = spawn(process.execPath, [...flags, builtScript('server/main.ts')], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, ...env, ...(ALLOC ? { BENCH_ALLOC_PROFILE: allocPath(dir) } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (/Crossdock GraphQL/.test(out)) {
        // Keep reading (a full pipe would stall the child), but keep nothing.
        child.stdout?.off('data', onData).resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server/main.ts exited with ${code}: ${out}`)));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`profile failed: ${String(error)}\n`);
  process.exit(1);
});

/**
 * What the benchmarks share: free ports, child processes started with tsx, a median.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { createServer } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../server/paths.js';
import { sandboxCredentialEnv } from '../sandbox/credentials.js';

/** The checkout (also when this file runs from its build, dist/bench/support.js). */
const root = pathToFileURL(`${PROJECT_ROOT}/`);

/** Five consecutive free ports: base+1..4 for the sandbox, base+5 for Crossdock. */
export async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ok = await Promise.all([1, 2, 3, 4, 5].map((i) => portFree(base + i)));
    if (ok.every(Boolean)) return base;
  }
  throw new Error('no free port range found');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Starts `script` (a source path such as `server/main.ts`) from its build, as `npm start` runs
 * Crossdock: `dist/<script>.js` with plain node (`npm run build` makes it; every bench:* script
 * builds first). So the figures are those of the code production runs, not of tsx's transform
 * (which, among other things, wraps every named closure to keep its name: 250 bytes and a
 * property definition per closure made). Runs in `cwd` (this checkout unless given: bench/ab.ts
 * starts another's build; BENCH_FROM_SOURCE=1 runs the source with tsx instead, for a checkout
 * older than the build). Resolves once its stdout matches `ready`. With BENCH_CPU_PROF_DIR set,
 * every child runs under `--cpu-prof` and writes its profile there when it exits (Node refuses
 * `--cpu-prof` in NODE_OPTIONS): `tsx bench/profile-summary.ts <file>` reads one.
 */
export async function start(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  cwd: string | URL = root,
): Promise<ChildProcess> {
  return (await startMatching(script, env, ready, cwd)).child;
}

/**
 * The sandbox systems (sandbox/main.ts) on `base` + 1..4 with a catalogue of `catalogSize`, the
 * commerce query-cost limit lifted: a benchmark measures servers, not a Shopify plan.
 */
export function startSandbox(base: number, catalogSize: number): Promise<ChildProcess> {
  return start(
    'sandbox/main.ts',
    {
      SANDBOX_PORT_BASE: String(base),
      SANDBOX_CATALOG_SIZE: String(catalogSize),
      SANDBOX_COMMERCE_RESTORE_RATE: '1000000',
    },
    /commerce\s+http/,
  );
}

/** {@link start}, resolving with what `ready` matched in the child's output as well. */
export function startMatching(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  cwd: string | URL = root,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const profileDir = process.env['BENCH_CPU_PROF_DIR'];
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  // BENCH_FROM_SOURCE=1: tsx on the source (a checkout older than `npm run build`'s layout).
  const entry =
    process.env['BENCH_FROM_SOURCE'] === '1'
      ? ['--import', 'tsx', script]
      : [builtScript(script, cwd)];
  const child = spawn(process.execPath, [...profile, ...entry], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let started = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      // Read on after start-up (a full pipe would stall the child), but keep nothing.
      if (started) return;
      out += chunk.toString();
      const match = ready.exec(out);
      if (match) {
        started = true;
        resolve({ child, match });
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${out}`)));
  });
}

/** `dist/<script>.js` in checkout `cwd`, the build of a source path; throws when it is missing. */
export function builtScript(script: string, cwd: string | URL = root): string {
  const base = typeof cwd === 'string' ? pathToFileURL(cwd.endsWith('/') ? cwd : `${cwd}/`) : cwd;
  const built = fileURLToPath(new URL(`dist/${script.replace(/\.ts$/, '.js')}`, base));
  if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build first`);
  return built;
}

/** The median of `xs` (0 for none). */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/**
 * The settings of a Crossdock child pointed at the sandbox child on `base` + 1..4 and listening
 * on `base` + 5 (SANDBOX=off with the sandbox's credentials; NODE_ENV=test, since production
 * refuses those published credentials). `extra` wins.
 */
export function crossdockEnv(
  base: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    SANDBOX: 'off',
    ...sandboxCredentialEnv(),
    PORT: String(base + 5),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
    ERP_URL: `http://127.0.0.1:${base + 1}`,
    WMS_URL: `http://127.0.0.1:${base + 2}`,
    TPL_URL: `http://127.0.0.1:${base + 3}`,
    COMMERCE_URL: `http://127.0.0.1:${base + 4}`,
    // Benchmarks measure throughput, not the cost budget (test/budgets.test.ts does).
    BUDGET_CAPACITY: '1000000000',
    BUDGET_REFILL_PER_S: '1000000000',
    ...extra,
  };
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return (ticks * 1000) / CLOCK_TICKS;
}

/** USER_HZ on Linux. */
const CLOCK_TICKS = 100;

/** The machine a result was measured on (bench/RESULTS.md prints it with every table). */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kernel: string;
  /** 1-minute load average when the run started: a busy machine reads here. */
  readonly loadAverage: number;
}

/** This machine. */
export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
    loadAverage: Number((loadavg()[0] ?? 0).toFixed(2)),
  };
}

/**
 * One measured row: a workload served by one server (Crossdock or a peer) under one load. Every
 * benchmark of issue #13 writes rows of this shape, so bench/RESULTS.md can put any of them side
 * by side and compute ratios between servers measured in the same run.
 */
export interface BenchRow {
  /** What was asked (e.g. `storefront-50`, `trivial`, `product`). */
  readonly workload: string;
  /** Who answered (e.g. `crossdock`, `apollo-gateway`, `hive-gateway`, `apollo-dataloader`). */
  readonly server: string;
  /** Concurrent connections, or null at a fixed request rate. */
  readonly connections: number | null;
  /** The fixed request rate (req/s), when the load was rate-limited. */
  readonly rate?: number;
  readonly requests: number;
  readonly errors: number;
  readonly throughputRps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time (user + system) of the server process per request, from /proc (µs). */
  readonly cpuUsPerRequest: number;
  /** Calls each sandbox system received per query (the batching check). */
  readonly systemCallsPerQuery?: Readonly<Record<string, number>>;
  /** Which interleaved round (A B A B …) this measurement is. */
  readonly round?: number;
}

/** A result file: bench/results/<name>.json. */
export interface BenchResult {
  readonly name: string;
  readonly at: string;
  readonly quick: boolean;
  readonly machine: Machine;
  /** What the run held fixed (system latencies, catalogue size, duration...). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly rows: readonly BenchRow[];
  /** Sentences the summary should carry (what a figure means, what was not measured). */
  readonly notes?: readonly string[];
}

/** Writes bench/results/<result.name>.json and returns its path. */
export function writeResult(result: BenchResult): string {
  const dir = new URL('bench/results/', root);
  mkdirSync(dir, { recursive: true });
  const path = new URL(`${result.name}.json`, dir);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path.pathname;
}

/** True when the benchmark was started with --quick (short runs: a smoke test of the harness). */
export const QUICK = process.argv.includes('--quick') || process.env['BENCH_QUICK'] === '1';

/**
 * `npm run bench [-- --quick]` (issue #13): every benchmark, one after the other, each in its own
 * processes, then bench/RESULTS.md from what they wrote to bench/results/. `--quick` runs each
 * briefly (a check of the harness, figures not to quote); the full run is bounded too (about 30
 * minutes on this 2-core machine). `--only name,name` runs some of them; the summary is rebuilt
 * from every result file present either way.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { QUICK } from './support.js';

/** A benchmark: its script and the environment that makes it quick. */
interface Benchmark {
  readonly name: string;
  readonly script: string;
  /** Settings of its quick run (the script also sees --quick). */
  readonly quick: Readonly<Record<string, string>>;
  /** Settings of its full run. */
  readonly full?: Readonly<Record<string, string>>;
  /** Longest a run may take before it is stopped (ms): full, quick. */
  readonly limitMs: readonly [number, number];
}

const BENCHMARKS: readonly Benchmark[] = [
  { name: 'limits', script: 'bench/limits.ts', quick: {}, limitMs: [12 * 60_000, 4 * 60_000] },
  {
    name: 'read-peers',
    script: 'bench/read-peers.ts',
    quick: {},
    limitMs: [20 * 60_000, 6 * 60_000],
  },
  {
    name: 'fanout',
    script: 'bench/fanout.ts',
    quick: { BENCH_FANOUT_SUBSCRIBERS: '0,100,1000', BENCH_FANOUT_RUNS: '1' },
    full: { BENCH_FANOUT_SUBSCRIBERS: '0,100,1000,10000', BENCH_FANOUT_RUNS: '3' },
    limitMs: [15 * 60_000, 4 * 60_000],
  },
  {
    name: 'processes',
    script: 'bench/processes.ts',
    quick: {},
    limitMs: [8 * 60_000, 3 * 60_000],
  },
  {
    name: 'orders',
    script: 'bench/orders.ts',
    quick: { BENCH_DURATION_S: '3' },
    limitMs: [5 * 60_000, 2 * 60_000],
  },
];

const root = fileURLToPath(new URL('..', import.meta.url));

function run(bench: Benchmark): Promise<{ name: string; ok: boolean; ms: number }> {
  const started = performance.now();
  const env = { ...process.env, ...(QUICK ? bench.quick : (bench.full ?? {})) };
  const args = ['--import', 'tsx', bench.script, ...(QUICK ? ['--quick'] : [])];
  process.stdout.write(`\n== ${bench.name}: ${bench.script}${QUICK ? ' --quick' : ''}\n`);
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
  const limit = bench.limitMs[QUICK ? 1 : 0];
  const timer = setTimeout(() => {
    process.stderr.write(`${bench.name}: over ${limit / 60_000} min, stopped\n`);
    child.kill('SIGTERM');
  }, limit);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ name: bench.name, ok: code === 0, ms: performance.now() - started });
    });
  });
}

// Every benchmark measures the build (bench/support.ts start): make it from this checkout.
const build = spawn('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
const built = await new Promise<number | null>((resolve) => build.once('exit', resolve));
if (built !== 0) {
  process.stderr.write('npm run build failed: nothing measured\n');
  process.exit(1);
}
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const chosen = only ? BENCHMARKS.filter((b) => only.split(',').includes(b.name)) : BENCHMARKS;
const outcomes = [];
for (const bench of chosen) outcomes.push(await run(bench));
const summary = spawn(process.execPath, ['--import', 'tsx', 'bench/summary.ts'], {
  cwd: root,
  stdio: 'inherit',
});
await new Promise((resolve) => summary.once('exit', resolve));
for (const o of outcomes)
  process.stdout.write(`${o.ok ? 'ok  ' : 'FAIL'} ${o.name} (${Math.round(o.ms / 1000)} s)\n`);
process.exit(outcomes.every((o) => o.ok) ? 0 : 1);

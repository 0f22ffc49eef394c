/**
 * `npm run test:repeat -- <file> [n] [--name <pattern>]`: runs one test file n times in a row
 * (default 20), each run in a fresh process as `npm run test:unit` runs it, and prints how many
 * runs failed. A suspicious test is checked with it before anyone relies on it: a flaky test is a
 * defect. Exits 1 when any run failed; the output of each failed run is kept under the system's
 * temporary directory and its path printed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs when no count is given. */
export const DEFAULT_REPEAT_RUNS = 20;

function usage(problem: string): never {
  process.stderr.write(
    `test:repeat: ${problem}\nusage: npm run test:repeat -- <test file> [runs, default ${DEFAULT_REPEAT_RUNS}] [--name <test name pattern>]\n`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
let name: string | null = null;
const positional: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i] ?? '';
  if (arg === '--name') {
    name = args[++i] ?? usage('--name: expected a pattern');
  } else positional.push(arg);
}
const [file, countArg, ...extra] = positional;
if (!file) usage('expected a test file');
if (extra.length > 0) usage(`unexpected arguments ${JSON.stringify(extra)}`);
const runs = countArg === undefined ? DEFAULT_REPEAT_RUNS : Number(countArg);
if (!Number.isSafeInteger(runs) || runs < 1)
  usage(`runs: expected a positive integer, got ${JSON.stringify(countArg)}`);

/** One run: its exit code, duration and output. */
function runOnce(): Promise<{ code: number; ms: number; output: string }> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      ...(name === null ? [] : ['--test-name-pattern', name]),
      file as string,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
  );
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => {
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 : 1),
        ms: performance.now() - started,
        output: Buffer.concat(chunks).toString('utf8'),
      }),
    );
  });
}

const logs = mkdtempSync(join(tmpdir(), 'crossdock-test-repeat-'));
let failed = 0;
const durations: number[] = [];
for (let run = 1; run <= runs; run++) {
  const { code, ms, output } = await runOnce();
  durations.push(ms);
  if (code === 0) {
    process.stdout.write(`run ${run}/${runs}: pass (${Math.round(ms)} ms)\n`);
  } else {
    failed++;
    const log = join(logs, `run-${run}.log`);
    writeFileSync(log, output);
    process.stdout.write(`run ${run}/${runs}: FAIL (exit ${code}, ${Math.round(ms)} ms): ${log}\n`);
  }
}
durations.sort((a, b) => a - b);
const median = durations[Math.floor(durations.length / 2)] ?? 0;
process.stdout.write(
  `${file}${name === null ? '' : ` (--name ${JSON.stringify(name)})`}: ${failed} of ${runs} runs failed; median run ${Math.round(median)} ms\n`,
);
process.exit(failed === 0 ? 0 : 1);

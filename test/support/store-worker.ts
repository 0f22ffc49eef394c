/**
 * One Crossdock process of the SQLite multi-process test (run with `node --import tsx`, two at
 * a time, by test/support/store.ts). Opens the store file (migrating it if it is new, possibly at
 * the same moment as the other worker), prints `ready`, waits for `go` on stdin so both workers
 * start together, then races the other: `begin` on the same keys, ledger appends, claiming
 * dead letters until none is due, and advancing one checkpoint step by step. Prints one
 * `result <json>` line and exits.
 *
 * Usage: store-worker.ts <sqlite file> <worker name> <keys> <appends>
 */
import { createInterface } from 'node:readline';
import { createSqliteStore } from '../../store/sqlite.js';
import { CHECKPOINT_STEPS, type WorkerResult } from './store.js';

async function main(): Promise<void> {
  const [path, name, keyCount, appendCount] = process.argv.slice(2);
  if (path === undefined || name === undefined) {
    throw new Error('usage: store-worker.ts <sqlite file> <worker name> <keys> <appends>');
  }
  const keyTotal = Number(keyCount);
  const appendTotal = Number(appendCount);
  const store = createSqliteStore({ path });
  process.stdout.write('ready\n');
  await waitFor('go');

  const owner = `worker-${name}`;
  const keys = Array.from({ length: keyTotal }, (_, index) => `key-${index}`);
  const outcomes = await Promise.all(
    keys.map(async (key) => {
      // better-sqlite3 runs each call to completion, so without a spread one process could
      // finish all its calls before the other wakes up: jitter makes the two really interleave.
      await jitter(50);
      const outcome = await store.idempotency.begin({
        scope: 'two-processes',
        key,
        operation: 'placeOrder',
        fingerprint: 'same-input',
        owner,
        leaseMs: 60_000,
        retentionMs: 86_400_000,
        now: Date.now(),
      });
      return [key, outcome.kind] as const;
    }),
  );
  // In completion order, which within one process is commit order: seqs must rise along it.
  const seqs: number[] = [];
  await Promise.all(
    Array.from({ length: appendTotal }, async (_, index) => {
      await jitter(50);
      const entry = await store.ledger.append({
        orderId: `XD-${name}-${index % 5}`,
        at: Date.now(),
        step: 'validate',
        outcome: 'SUCCEEDED',
        status: null,
        correlationId: null,
        caller: owner,
        durationMs: null,
        detail: { worker: name, index },
      });
      seqs.push(entry.seq);
    }),
  );
  const claimed: string[] = [];
  for (;;) {
    await jitter(10);
    const letter = await store.deadLetters.claim(owner, 60_000, Date.now());
    if (letter === null) break;
    claimed.push(letter.id);
  }
  // Replicas polling one source: read the checkpoint, advance it one step by compare-and-set.
  const advancedFrom: string[] = [];
  for (;;) {
    await jitter(5);
    const current = await store.checkpoints.get('race');
    const next = current === null ? 0 : Number(current.value) + 1;
    if (next > CHECKPOINT_STEPS) break;
    const expected = current?.value ?? null;
    if (await store.checkpoints.advance('race', expected, String(next), Date.now())) {
      advancedFrom.push(expected ?? 'null');
    }
  }
  await store.close();

  const result: WorkerResult = {
    name,
    outcomes,
    seqs,
    claimed,
    advancedFrom,
  };
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
}

/** Waits a random 0 to `maxMs` milliseconds. */
function jitter(maxMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * maxMs));
}

function waitFor(word: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      if (line.trim() !== word) return;
      // Resolve first: close() emits 'close' synchronously, which would otherwise reject.
      resolve();
      lines.close();
    });
    lines.on('close', () => reject(new Error(`stdin closed before "${word}"`)));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

/**
 * Every implementation of the store port, as the contract suite (and any suite that needs a
 * real store) sees it: a fresh, empty store per test, a way to reopen the same data, and
 * cleanup. SQLite always runs, in temp directories; MongoDB runs when MONGODB_URI is set, each
 * test in its own database of a per-run name, dropped afterwards.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MongoClient } from 'mongodb';
import type { BeginOutcome, Store } from '../../store/contract.js';
import { createStore } from '../../store/index.js';

/** Why the MongoDB run is skipped on these machines. */
export const MONGODB_SKIP_REASON = 'MONGODB_URI not set: no MongoDB server on this machine';

/** A fresh, empty store for one test. */
export interface FreshStore {
  readonly store: Store;
  /** Opens another handle on the same data (a restart, or a second process's view). */
  reopen(): Promise<Store>;
  /** Closes every handle opened here and deletes the data. */
  cleanup(): Promise<void>;
}

/** One implementation under test. */
export interface StoreImplementation {
  readonly name: Store['kind'];
  /** The reason the implementation cannot run here, or false. */
  readonly skip: string | false;
  open(): Promise<FreshStore>;
  /** Releases what the run shares (temp root, client). */
  dispose(): Promise<void>;
}

/** The implementations to run the contract suite against. */
export function storeImplementations(env: NodeJS.ProcessEnv = process.env): StoreImplementation[] {
  const uri = env.MONGODB_URI;
  return [
    sqliteImplementation(),
    mongoImplementation(uri === undefined || uri === '' ? null : uri),
  ];
}

/** A temp directory for a test, under the OS temp dir. */
export function tempDir(prefix = 'crossdock-store-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function sqliteImplementation(): StoreImplementation {
  let root: string | null = null;
  let count = 0;
  return {
    name: 'sqlite',
    skip: false,
    async open() {
      root ??= tempDir();
      count += 1;
      // A file, not ':memory:': restarts and several processes are what this store is for.
      // createStore (not createSqliteStore) so the data-directory path is exercised too.
      const dataDir = join(root, `store-${count}`);
      const handles: Store[] = [];
      const openHandle = async (): Promise<Store> => {
        const store = await createStore({ mongodbUri: null, dataDir });
        handles.push(store);
        return store;
      };
      return {
        store: await openHandle(),
        reopen: openHandle,
        async cleanup() {
          for (const handle of handles) await handle.close();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
    async dispose() {
      if (root !== null) rmSync(root, { recursive: true, force: true });
    },
  };
}

function mongoImplementation(uri: string | null): StoreImplementation {
  let client: MongoClient | null = null;
  let count = 0;
  // Unique per run, so concurrent runs against one server never share data.
  const runId = `${Date.now().toString(36)}_${process.pid}`;
  return {
    name: 'mongodb',
    skip: uri === null ? MONGODB_SKIP_REASON : false,
    async open() {
      if (uri === null) throw new Error(MONGODB_SKIP_REASON);
      // Loaded only when a MongoDB run actually happens.
      const { MongoClient } = await import('mongodb');
      const { createMongoStore } = await import('../../store/mongodb.js');
      if (client === null) {
        client = new MongoClient(uri);
        await client.connect();
      }
      const shared = client;
      count += 1;
      const database = `xd_test_${runId}_${count}`;
      const handles: Store[] = [];
      const openHandle = async (): Promise<Store> => {
        const store = await createMongoStore({ uri, database, client: shared });
        handles.push(store);
        return store;
      };
      return {
        store: await openHandle(),
        reopen: openHandle,
        async cleanup() {
          for (const handle of handles) await handle.close();
          await shared.db(database).dropDatabase();
        },
      };
    },
    async dispose() {
      await client?.close();
      client = null;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Several processes on one SQLite file
// ---------------------------------------------------------------------------------------------

/** What a store worker (test/support/store-worker.ts) reports. */
export interface WorkerResult {
  readonly name: string;
  /** `begin` outcome kind per key, in key order. */
  readonly outcomes: readonly (readonly [string, BeginOutcome['kind']])[];
  /** Ledger seqs of this worker's appends, in the order they committed. */
  readonly seqs: readonly number[];
  /** Ids of the dead letters this worker claimed. */
  readonly claimed: readonly string[];
  /**
   * The values this worker advanced the shared `race` checkpoint from (`'null'` for its
   * creation), racing the other worker to move it one step at a time up to
   * {@link CHECKPOINT_STEPS}.
   */
  readonly advancedFrom: readonly string[];
}

/** The last value (`String(n)`) the workers advance the shared `race` checkpoint to. */
export const CHECKPOINT_STEPS = 100;

/** A worker process, started and waiting for `go`. */
export interface StoreWorker {
  /** Resolves once the worker has opened (and possibly migrated) the store. */
  readonly ready: Promise<void>;
  /** Lets the worker start racing. */
  go(): void;
  /** The worker's report; rejects if it exits without one. */
  readonly result: Promise<WorkerResult>;
  /** Ends the worker (when the other failed: one waiting for `go` would hold the run open). */
  kill(): void;
}

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKER_SCRIPT = join(REPO_ROOT, 'test', 'support', 'store-worker.ts');

/** Spawns `node --import tsx store-worker.ts` on `file`. */
export function spawnStoreWorker(
  file: string,
  name: string,
  counts: { readonly keys: number; readonly appends: number },
): StoreWorker {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', WORKER_SCRIPT, file, name, String(counts.keys), String(counts.appends)],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('ready\n')) resolve();
    });
    child.on('exit', () => reject(new Error(`worker ${name} exited before ready: ${stderr}`)));
  });
  const result = new Promise<WorkerResult>((resolve, reject) => {
    child.on('exit', (code) => {
      const line = stdout.split('\n').find((text) => text.startsWith('result '));
      if (code !== 0 || line === undefined) {
        reject(new Error(`worker ${name} exited with ${String(code)}: ${stderr}`));
        return;
      }
      // The worker wrote this line from a WorkerResult.
      resolve(JSON.parse(line.slice('result '.length)) as WorkerResult);
    });
  });
  // The ready promise rejects on a normal exit too; only the result promise reports that.
  ready.catch(() => undefined);
  return {
    ready,
    go: () => child.stdin.end('go\n'),
    result,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

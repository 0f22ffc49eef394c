/**
 * `npm run bench:fanout`: what one more graphql-ws subscriber costs Crossdock with the fan-out
 * (subscriptions/fanout.ts: one shared bus subscription per domain per process).
 *
 * Processes: this one orchestrates; each run forks a fresh *server* process (Crossdock embedded,
 * sandbox catalogue of 20, on NATS JetStream, `--expose-gc`) that publishes `inventoryChanged`
 * events straight on its bus and measures itself; the server forks a *clients* process holding
 * the S graphql-ws subscribers, one socket each. So the figures are Crossdock's alone:
 *
 * - heap and RSS per subscriber: delta from 0 subscribers (after a warm-up), after forced GCs;
 * - burst: E events published back to back; CPU time of the server process per delivered event,
 *   deliveries/s (first publish to last delivery) and publish→receive latency (queueing included);
 * - one at a time: P events, each published once the previous one reached every subscriber:
 *   publish→receive latency of one event's fan-out;
 * - bus subscriptions (fan-out stats) and the JetStream consumers on the inventory stream.
 *
 * Levels are reached by adding subscribers (0 → 100 → 1,000 → 5,000); the sweep runs
 * BENCH_FANOUT_RUNS times and medians are written. Publish time travels in the event's `reason`
 * as `performance.timeOrigin + performance.now()` of the server (same machine clock).
 *
 * Settings: BENCH_FANOUT_SUBSCRIBERS (default "0,100,1000,5000"), BENCH_FANOUT_BURST (default
 * 100), BENCH_FANOUT_ONE_BY_ONE (default 20), BENCH_FANOUT_RUNS (default 3), NATS_URL (default: a
 * private nats-server on a free port), BENCH_FANOUT_HEAP_DIR (a directory: the server writes a
 * heap snapshot at each level there; `tsx bench/heap-summary.ts <a> <b>` tells what grew). Streams get a per-run prefix and are deleted afterwards.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../server/config.js';
import { startEmbedded } from '../server/embedded.js';
import { EVENT_DOMAINS } from '../subscriptions/bus.js';
import { inventoryEvent } from '../subscriptions/events.js';
import { QUICK, builtScript, median } from './support.js';

/** Parent → clients process. */
type Command =
  | { readonly type: 'open'; readonly url: string; readonly count: number }
  /** Measure the next `deliveries`; with `announce`, report each event every subscriber got. */
  | { readonly type: 'expect'; readonly deliveries: number; readonly announce: boolean }
  | { readonly type: 'close' };

/** Latency percentiles in ms. */
interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Clients process → parent. */
type Report =
  | { readonly type: 'opened'; readonly total: number }
  /** Every subscriber received the event with this index. */
  | { readonly type: 'everyone'; readonly index: number }
  /** The expected deliveries all arrived. */
  | {
      readonly type: 'window';
      readonly deliveries: number;
      readonly lastAt: number;
      readonly latency: Latency;
    }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly message: string };

const now = () => performance.timeOrigin + performance.now();

const percentiles = (xs: Float64Array): Latency => {
  const s = xs.slice().sort();
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
  const round = (x: number) => Math.round(x * 100) / 100;
  return { p50: round(at(50)), p99: round(at(99)), max: round(s[s.length - 1] ?? 0) };
};

// ---------------------------------------------------------------------------------------------
// The clients process
// ---------------------------------------------------------------------------------------------

function runClients(): void {
  const send = (report: Report) => process.send?.(report);
  const clients: Client[] = [];
  const perEvent = new Map<number, number>();
  // Disposing a client completes (or errors) its subscription, maybe later: expected then.
  const disposed = new WeakSet<Client>();
  let window: {
    expected: number;
    announce: boolean;
    latencies: Float64Array;
    count: number;
    lastAt: number;
  } | null = null;

  const subscribe = (client: Client) =>
    client.subscribe<{ inventoryChanged: { onHand: number; reason: string } }>(
      { query: 'subscription { inventoryChanged { cursor onHand reason } }' },
      {
        next: (value) => {
          const received = now();
          const event = value.data?.inventoryChanged;
          if (!event) {
            send({ type: 'failed', message: `a result without data: ${JSON.stringify(value)}` });
            return;
          }
          const w = window;
          if (!w) return;
          if (w.announce) {
            const seen = (perEvent.get(event.onHand) ?? 0) + 1;
            perEvent.set(event.onHand, seen);
            if (seen === clients.length) {
              perEvent.delete(event.onHand);
              send({ type: 'everyone', index: event.onHand });
            }
          }
          w.latencies[w.count++] = received - Number(event.reason);
          w.lastAt = received;
          if (w.count === w.expected) {
            window = null;
            send({
              type: 'window',
              deliveries: w.count,
              lastAt: w.lastAt,
              latency: percentiles(w.latencies),
            });
          }
        },
        error: (error) => {
          if (!disposed.has(client))
            send({ type: 'failed', message: `subscription: ${JSON.stringify(error)}` });
        },
        complete: () => {
          if (!disposed.has(client)) send({ type: 'failed', message: 'a subscription completed' });
        },
      },
    );

  process.on('message', (command: Command) => {
    void (async () => {
      switch (command.type) {
        case 'open': {
          // In batches: thousands of simultaneous connects would overflow the listen backlog.
          for (let opened = 0; opened < command.count; opened += 200) {
            const batch = Array.from({ length: Math.min(200, command.count - opened) }, () => {
              const client = createClient({
                url: command.url,
                webSocketImpl: WebSocket,
                lazy: false,
                retryAttempts: 0,
                onNonLazyError: (error) => {
                  if (!disposed.has(client))
                    send({ type: 'failed', message: `socket: ${JSON.stringify(error)}` });
                },
                connectionParams: { authorization: 'Bearer demo-admin' },
              });
              clients.push(client);
              return new Promise<void>((resolve) => {
                const off = client.on('connected', () => {
                  off();
                  subscribe(client);
                  resolve();
                });
              });
            });
            await Promise.all(batch);
          }
          send({ type: 'opened', total: clients.length });
          return;
        }
        case 'expect':
          window = {
            expected: command.deliveries,
            announce: command.announce,
            latencies: new Float64Array(command.deliveries),
            count: 0,
            lastAt: 0,
          };
          return;
        case 'close':
          for (const c of clients) disposed.add(c);
          await Promise.all(clients.splice(0).map((c) => c.dispose()));
          perEvent.clear();
          send({ type: 'closed' });
          return;
        default: {
          const unreachable: never = command;
          throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
        }
      }
    })().catch((error: unknown) => send({ type: 'failed', message: String(error) }));
  });
}

// ---------------------------------------------------------------------------------------------
// Crossdock, the publisher and the measurements
// ---------------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A nats-server with JetStream on a free port (never the shared 4222); killed by `stop`. */
async function privateNats(): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'crossdock-bench-nats-'));
  const child = spawn(
    'nats-server',
    ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir],
    {
      stdio: 'ignore',
    },
  );
  const stop = () => {
    child.kill('SIGTERM');
    rmSync(storeDir, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 500; attempt++) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return { url: `nats://127.0.0.1:${port}`, stop };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  stop();
  throw new Error(`nats-server not accepting connections on ${port}`);
}

/** Messages from the clients process, awaited by condition. */
function inbox(child: ChildProcess) {
  const queue: Report[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  child.on('message', (report: Report) => {
    if (report.type === 'failed') failure = new Error(`clients process: ${report.message}`);
    else queue.push(report);
    wake?.();
  });
  child.once('exit', (code) => {
    failure ??= new Error(`clients process exited with ${code}`);
    wake?.();
  });
  return async <T extends Report['type']>(
    type: T,
    match: (report: Extract<Report, { type: T }>) => boolean = () => true,
  ): Promise<Extract<Report, { type: T }>> => {
    for (;;) {
      if (failure) throw failure;
      const index = queue.findIndex(
        (r) => r.type === type && match(r as Extract<Report, { type: T }>),
      );
      if (index >= 0) return queue.splice(index, 1)[0] as Extract<Report, { type: T }>;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  };
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Heap and RSS after collecting what can be collected. */
async function settledMemory(): Promise<{ heapUsed: number; rss: number }> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

/** One level of one run. */
interface Measurement {
  readonly subscribers: number;
  readonly heapUsedMB: number;
  readonly rssMB: number;
  readonly heapPerSubscriberKB: number | null;
  readonly rssPerSubscriberKB: number | null;
  readonly busSubscriptions: number;
  readonly jetstreamConsumers: number;
  readonly burst: {
    readonly events: number;
    readonly deliveries: number;
    readonly cpuMs: number;
    /** CPU per delivery (per published event when there are no subscribers). */
    readonly cpuPerDeliveryUs: number;
    readonly deliveriesPerSecond: number;
    readonly latencyMs: Latency | null;
  };
  readonly oneByOne: { readonly events: number; readonly latencyMs: Latency } | null;
  readonly slowConsumers: number;
}

/** What the orchestrator tells a server process. */
interface RunSettings {
  readonly natsUrl: string;
  readonly prefix: string;
  readonly levels: readonly number[];
  readonly burst: number;
  readonly oneByOne: number;
}

/** One run in a fresh process: Crossdock, the clients process, every level; reports over IPC. */
async function runServer(settings: RunSettings): Promise<Measurement[]> {
  const { natsUrl, prefix, levels, burst, oneByOne } = settings;
  const dataDir = mkdtempSync(join(tmpdir(), 'crossdock-bench-fanout-'));
  const running = await startEmbedded(
    loadConfig({
      PORT: '0',
      SANDBOX_PORT_BASE: '0',
      SANDBOX_CATALOG_SIZE: '20',
      // Not production: that refuses the embedded sandbox's demo keys (server/config.ts).
      NODE_ENV: 'test',
      // Thousands of sockets of one key.
      WS_MAX_SOCKETS_PER_KEY: '100000',
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      NATS_URL: natsUrl,
      NATS_STREAM_PREFIX: prefix,
    }),
  );
  const url = running.crossdock.url.replace('http', 'ws');
  const stats = () => running.crossdock.subscriptions.stats();
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  // The clients from the same build as this server process (node when built, tsx in source).
  const child = fork(fileURLToPath(import.meta.url), ['clients'], {
    execArgv: import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = inbox(child);
  const command = (c: Command) => child.send(c);
  let index = 0;
  const publish = () => {
    index++;
    return running.bus.publish(
      inventoryEvent(
        { id: `${prefix}-${index}`, at: new Date().toISOString(), correlationId: null },
        {
          sku: 'BENCH-1',
          warehouseCode: 'EAST',
          source: 'wms',
          onHand: index,
          available: index,
          allocated: 0,
          delta: null,
          reason: String(now()),
          occurredAt: new Date().toISOString(),
        },
      ),
    );
  };
  const waitForSubscribers = async (count: number) => {
    while (stats().subscribers !== count) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  const open = async (count: number) => {
    command({ type: 'open', url, count });
    await next('opened');
  };
  const close = async () => {
    command({ type: 'close' });
    await next('closed');
    await waitForSubscribers(0);
  };

  const measured: Measurement[] = [];
  try {
    // Warm up (JIT, schema caches, the shared consumer of the domain), so that the baseline at 0
    // subscribers is a warm process and the deltas are the subscribers' own.
    await open(100);
    await waitForSubscribers(100);
    command({ type: 'expect', deliveries: 100 * 20, announce: false });
    for (let i = 0; i < 20; i++) await publish();
    await next('window');
    await close();

    let baseline: { heapUsed: number; rss: number } | null = null;
    let total = 0;
    for (const level of levels) {
      if (level > total) {
        await open(level - total);
        total = level;
      }
      await waitForSubscribers(total);
      const memory = await settledMemory();
      // BENCH_FANOUT_HEAP_DIR: a heap snapshot per level (bench/heap-summary.ts compares two).
      const heapDir = process.env['BENCH_FANOUT_HEAP_DIR'];
      if (heapDir) writeHeapSnapshot(join(heapDir, `fanout-${total}.heapsnapshot`));
      baseline ??= total === 0 ? memory : null;
      const consumers = (await jsm.consumers.list(`${prefix}_INVENTORY`).next()).length;

      const deliveries = burst * total;
      if (deliveries > 0) command({ type: 'expect', deliveries, announce: false });
      const cpu = process.cpuUsage();
      const started = now();
      for (let i = 0; i < burst; i++) await publish();
      const window = deliveries > 0 ? await next('window') : null;
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      const elapsedMs = (window?.lastAt ?? now()) - started;

      let single: Measurement['oneByOne'] = null;
      if (total > 0 && oneByOne > 0) {
        command({ type: 'expect', deliveries: oneByOne * total, announce: true });
        for (let i = 0; i < oneByOne; i++) {
          await publish();
          const published = index;
          await next('everyone', (r) => r.index === published);
        }
        single = { events: oneByOne, latencyMs: (await next('window')).latency };
      }
      const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
      measured.push({
        subscribers: total,
        heapUsedMB: round(memory.heapUsed / 2 ** 20),
        rssMB: round(memory.rss / 2 ** 20),
        heapPerSubscriberKB:
          baseline && total > 0
            ? round((memory.heapUsed - baseline.heapUsed) / total / 1024)
            : null,
        rssPerSubscriberKB:
          baseline && total > 0 ? round((memory.rss - baseline.rss) / total / 1024) : null,
        busSubscriptions: stats().busSubscriptions,
        jetstreamConsumers: consumers,
        burst: {
          events: burst,
          deliveries,
          cpuMs: round(cpuMs),
          cpuPerDeliveryUs: round((cpuMs * 1000) / Math.max(1, deliveries || burst)),
          deliveriesPerSecond: Math.round(deliveries / (elapsedMs / 1000)),
          latencyMs: window?.latency ?? null,
        },
        oneByOne: single,
        slowConsumers: stats().slowConsumers,
      });
      process.stdout.write(`${JSON.stringify(measured.at(-1))}\n`);
    }
    await close();
  } finally {
    child.kill();
    await running.close();
    // Leave the server as it was: delete this run's streams.
    for (const domain of EVENT_DOMAINS) {
      await jsm.streams.delete(`${prefix}_${domain.toUpperCase()}`).catch((error: unknown) => {
        const missing =
          error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
        if (!missing) throw error;
      });
    }
    await nc.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return measured;
}

/** Runs the sweep `runs` times, each in a fresh server process; writes the medians. */
async function main(): Promise<void> {
  const levels = (process.env.BENCH_FANOUT_SUBSCRIBERS ?? '0,100,1000,5000').split(',').map(Number);
  const burst = Number(process.env.BENCH_FANOUT_BURST ?? 100);
  const oneByOne = Number(process.env.BENCH_FANOUT_ONE_BY_ONE ?? 20);
  const runs = Number(process.env.BENCH_FANOUT_RUNS ?? 3);
  if (
    levels[0] !== 0 ||
    levels.some((n, i) => !Number.isSafeInteger(n) || n < (levels[i - 1] ?? 0))
  )
    throw new Error(
      `BENCH_FANOUT_SUBSCRIBERS: expected ascending counts from 0 such as 0,100,1000, got ${process.env.BENCH_FANOUT_SUBSCRIBERS}`,
    );
  const shared = process.env.NATS_URL;
  const nats = shared ? { url: shared, stop: () => undefined } : await privateNats();
  const all: Measurement[][] = [];
  try {
    for (let run = 0; run < runs; run++) {
      process.stdout.write(`run ${run + 1} of ${runs}\n`);
      const settings: RunSettings = {
        natsUrl: nats.url,
        prefix: `XDBENCH_FANOUT_${process.pid}_${run}`,
        levels,
        burst,
        oneByOne,
      };
      // The server from the build (dist/bench/fanout.js), as production runs Crossdock.
      const server = fork(builtScript('bench/fanout.ts'), ['server'], {
        // --expose-gc: memory is read after forced collections.
        execArgv: ['--expose-gc'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const result = new Promise<Measurement[]>((resolve, reject) => {
        server.once('message', (m: { measured?: Measurement[]; error?: string }) =>
          m.measured ? resolve(m.measured) : reject(new Error(`server process: ${m.error}`)),
        );
        server.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
      });
      server.send(settings);
      all.push(await result);
      // The server cleaned up (streams deleted) before it reported.
      server.kill();
    }
  } finally {
    nats.stop();
  }

  const med = (pick: (m: Measurement) => number | null | undefined, level: number) => {
    const xs = all
      .map((r) => r.find((m) => m.subscribers === level))
      .map((m) => (m ? pick(m) : null))
      .filter((x): x is number => typeof x === 'number');
    return xs.length > 0 ? Math.round(median(xs) * 100) / 100 : null;
  };
  const summary = levels.map((level) => ({
    subscribers: level,
    heapPerSubscriberKB: med((m) => m.heapPerSubscriberKB, level),
    rssPerSubscriberKB: med((m) => m.rssPerSubscriberKB, level),
    heapUsedMB: med((m) => m.heapUsedMB, level),
    rssMB: med((m) => m.rssMB, level),
    cpuPerDeliveryUs: med((m) => m.burst.cpuPerDeliveryUs, level),
    deliveriesPerSecond: med((m) => m.burst.deliveriesPerSecond, level),
    burstLatencyMs: {
      p50: med((m) => m.burst.latencyMs?.p50, level),
      p99: med((m) => m.burst.latencyMs?.p99, level),
    },
    oneByOneLatencyMs: {
      p50: med((m) => m.oneByOne?.latencyMs.p50, level),
      p99: med((m) => m.oneByOne?.latencyMs.p99, level),
    },
    busSubscriptions: med((m) => m.busSubscriptions, level),
    jetstreamConsumers: med((m) => m.jetstreamConsumers, level),
    slowConsumers: med((m) => m.slowConsumers, level),
  }));
  const results = {
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      memoryGB: Math.round(totalmem() / 2 ** 30),
    },
    node: process.version,
    at: new Date().toISOString(),
    nats: shared ? shared : 'private nats-server',
    processes:
      'Crossdock (embedded, catalogue 20) + publisher in one process per run, measured; subscribers in a child process (fork with tsx), one graphql-ws socket each',
    settings: { levels, burst, oneByOne, runs },
    summary,
    runs: all,
  };
  mkdirSync(new URL('results/', import.meta.url), { recursive: true });
  // A quick run (npm run bench -- --quick) never overwrites the full run's figures.
  const file = new URL(`results/fanout${QUICK ? '-quick' : ''}.json`, import.meta.url);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\nwritten to ${file.pathname}\n`);
}

const fail = (error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
};

switch (process.argv[2]) {
  case 'clients':
    runClients();
    break;
  case 'server':
    process.once('message', (settings: RunSettings) => {
      if (!gc) process.stderr.write('no --expose-gc: memory includes uncollected garbage\n');
      runServer(settings).then(
        (measured) => process.send?.({ measured }, () => process.disconnect()),
        (error: unknown) => {
          process.send?.({ error: String(error) });
          fail(error);
        },
      );
    });
    break;
  default:
    main().catch(fail);
}

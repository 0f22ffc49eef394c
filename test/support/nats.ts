/**
 * NATS servers for tests: `natsUrl()` is NATS_URL when set, else one private `nats-server -js`
 * per test process (never the shared 127.0.0.1:4222); `startNatsServer` starts a server a test
 * owns and may stop and restart on the same port and store directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** A nats-server started by a test. */
export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, so JetStream flushes) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port and store directory. */
  restart(): Promise<void>;
}

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** @default a free port (never 4222) */
  readonly port?: number;
  /** JetStream store directory; kept across restarts. */
  readonly storeDir: string;
}

const RESERVED_PORT = 4222;
const READY_TIMEOUT_MS = 10_000;
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A TCP port nothing listens on right now (other than 4222). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const p = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (port !== RESERVED_PORT && port !== 0) return port;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function spawnServer(port: number, storeDir: string): Promise<ChildProcess> {
  const child = spawn(
    'nats-server',
    ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.add(child);
  child.unref();
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  child.once('exit', () => children.delete(child));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`nats-server exited with ${child.exitCode} on port ${port}: ${output}`);
    // nats-server opens the client port only once JetStream has recovered its streams.
    if (await canConnect(port)) return child;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error(
    `nats-server on port ${port} not accepting connections after ${READY_TIMEOUT_MS} ms: ${output}`,
  );
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  // Hold the event loop open while waiting: the child is unref'd so it never keeps a test alive.
  child.ref();
  return new Promise((resolve) => {
    child.once('exit', () => {
      child.unref();
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts a nats-server with JetStream that the caller owns (stop, restart). */
export async function startNatsServer(options: NatsServerOptions): Promise<NatsServer> {
  const port = options.port ?? (await freePort());
  if (port === RESERVED_PORT)
    throw new Error(
      `port: expected a port other than ${RESERVED_PORT} (the shared server), got ${port}`,
    );
  let child = await spawnServer(port, options.storeDir);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop: () => stopChild(child),
    async restart() {
      await stopChild(child);
      child = await spawnServer(port, options.storeDir);
    },
  };
}

let shared: Promise<string> | null = null;

/** The NATS URL for tests: NATS_URL, else a private server for this process (killed on exit). */
export function natsUrl(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const url = env.NATS_URL;
  if (url !== undefined && url !== '') return Promise.resolve(url);
  shared ??= (async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'crossdock-nats-'));
    process.on('exit', () => rmSync(storeDir, { recursive: true, force: true }));
    const server = await startNatsServer({ storeDir });
    return server.url;
  })();
  return shared;
}

/**
 * Deletes what a stack on stream prefix `prefix` left on `servers`: its domain streams
 * (`<prefix>_<DOMAIN>`) and its budgets' key-value bucket (`KV_<prefix>_BUDGETS`).
 */
export async function deleteStreamsOf(servers: string, prefix: string): Promise<void> {
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names())
      if (name.startsWith(`${prefix}_`) || name === `KV_${prefix}_BUDGETS`)
        await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

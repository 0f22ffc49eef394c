/**
 * `npm run bench:events`: event latency from mutation to subscriber, and its cost per subscriber.
 * Processes: the sandbox systems, Crossdock on NATS JetStream (NATS_URL, default the local
 * 127.0.0.1:4222, with a stream prefix of its own), and this process holding S graphql-ws
 * subscribers to `orderStatusChanged`. It places orders one after another; for every status event
 * each subscriber records `received − at` (the event's publish time, same machine clock).
 *
 * Settings: BENCH_EVENTS_ORDERS (default 100), BENCH_EVENTS_SUBSCRIBERS (default "1,100,500"),
 * NATS_URL (default nats://127.0.0.1:4222).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildWorld } from '../sandbox/seed.js';
import { crossdockEnv, freePortBase, median, start } from './support.js';
import { apiKeyEnv } from '../server/identity.js';

/** The benchmarks' API key secret (their keys are throwaway). */
const BENCH_KEY_SECRET = 'bench-api-key-secret-of-at-least-32-characters';

const orders = Number(process.env.BENCH_EVENTS_ORDERS ?? 100);
const subscriberCounts = (process.env.BENCH_EVENTS_SUBSCRIBERS ?? '1,100,500')
  .split(',')
  .map(Number);
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

async function main(): Promise<void> {
  const base = await freePortBase();
  const catalogSize = 1_000;
  const sandbox = await start(
    'sandbox/main.ts',
    { SANDBOX_PORT_BASE: String(base), SANDBOX_CATALOG_SIZE: String(catalogSize) },
    /commerce\s+http/,
  );
  const prefix = `XDBENCH_${process.pid}`;
  const crossdock = await start(
    'server/main.ts',
    crossdockEnv(base, {
      LOG_LEVEL: 'warn',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'crossdock-bench-events-')),
      ...apiKeyEnv(BENCH_KEY_SECRET, [
        { id: 'bench-admin', key: 'bench-admin-key', role: 'admin' },
      ]),
      // Every subscriber is a socket of this one key.
      WS_MAX_SOCKETS_PER_KEY: '100000',
      NATS_URL: natsUrl,
      NATS_STREAM_PREFIX: prefix,
    }),
    /Crossdock GraphQL/,
  );
  const url = `http://127.0.0.1:${base + 5}/graphql`;
  try {
    const world = buildWorld({ catalogSize });
    const customer = world.customers.find(
      (c) =>
        c.blocked === ' ' &&
        c.creditLimitCents >= 10_000_000 &&
        c.balanceDueCents < c.creditLimitCents / 4,
    );
    const sku = world.stock.find(
      (s) => s.warehouse === 'EAST' && s.onHand - s.allocated - s.onHold >= 300,
    )?.sku;
    if (!customer || !sku) throw new Error('no customer or SKU for the benchmark');
    const results: Record<string, unknown> = {
      orders,
      natsUrl,
      node: process.version,
      at: new Date().toISOString(),
      runs: [],
    };
    let key = 0;

    for (const count of subscriberCounts) {
      const latencies: number[] = [];
      const clients: Client[] = [];
      let expected = 0;
      let received = 0;
      let onAll: (() => void) | null = null;
      await Promise.all(
        Array.from({ length: count }, async () => {
          const client = createClient({
            url: url.replace('http', 'ws'),
            webSocketImpl: WebSocket,
            connectionParams: { authorization: 'Bearer bench-admin-key' },
          });
          clients.push(client);
          await new Promise<void>((resolve) => {
            client.on('connected', () => resolve());
            client.subscribe<{ orderStatusChanged: { at: string } }>(
              { query: 'subscription { orderStatusChanged { at } }' },
              {
                next: (value) => {
                  const at = value.data?.orderStatusChanged.at;
                  if (at) latencies.push(Date.now() - Date.parse(at));
                  received++;
                  if (received >= expected) onAll?.();
                },
                error: () => undefined,
                complete: () => undefined,
              },
            );
          });
        }),
      );
      // Every subscription must be held by the server before the first order (live subscribers
      // get events published after they subscribed): /readyz reports the fan-out's count.
      for (;;) {
        const ready = (await (await fetch(url.replace('/graphql', '/readyz'))).json()) as {
          subscriptions?: { subscribers: number };
        };
        if ((ready.subscriptions?.subscribers ?? 0) >= count) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const started = performance.now();
      for (let i = 0; i < orders; i++) {
        expected += 3 * count; // RECEIVED, ALLOCATED, ACCEPTED to every subscriber
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer bench-admin-key' },
          body: JSON.stringify({
            query: `mutation($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) { userErrors { code } } }`,
            variables: {
              key: `events-${process.pid}-${key++}`,
              input: { channel: 'EDI', customerId: customer.number, lines: [{ sku, quantity: 1 }] },
            },
          }),
        });
        await res.text();
      }
      if (received < expected) await new Promise<void>((resolve) => (onAll = resolve));
      const elapsed = performance.now() - started;
      (results.runs as unknown[]).push({
        subscribers: count,
        events: latencies.length,
        latencyMs: {
          p50: median(latencies),
          p99: percentile(latencies, 99),
          max: latencies.reduce((a, b) => Math.max(a, b), 0),
        },
        deliveriesPerSecond: Math.round(latencies.length / (elapsed / 1000)),
      });
      await Promise.all(clients.map((c) => c.dispose()));
    }
    mkdirSync(new URL('results/', import.meta.url), { recursive: true });
    const file = new URL('results/events.json', import.meta.url);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\nwritten to ${file.pathname}\n`);
  } finally {
    // Also when the run fails: no processes and no streams left behind on the shared server.
    crossdock.kill('SIGTERM');
    sandbox.kill('SIGTERM');
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names())
      if (name.startsWith(`${prefix}_`)) await jsm.streams.delete(name);
    await nc.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String(error)}\n`);
  process.exit(1);
});

/**
 * Two Crossdock processes sharing NATS JetStream: a subscriber connected to one replica receives
 * the order events caused on the other, and a subscriber can resume on either by cursor.
 * Uses the server at NATS_URL (CI: 127.0.0.1:4222) or a private nats-server on a free port.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from 'graphql-ws';
import { buildWorld } from '../sandbox/seed.js';
import { deleteStreamsOf, natsUrl } from './support/nats.js';
import { placeOrder } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';
import { wsClients, type WsResult } from './support/ws.js';

const world = buildWorld({ catalogSize: 100 });
const prefix = `XDREPL_${randomUUID().slice(0, 8).toUpperCase()}`;
let servers: string;
let a: Stack;
let b: Stack;
const ws = wsClients();

before(async () => {
  servers = await natsUrl();
  const env = { NATS_URL: servers, NATS_STREAM_PREFIX: prefix };
  a = await startStack({ world, env });
  b = await startStack({ world, env });
});

after(async () => {
  await ws.disposeAll();
  await a?.close();
  await b?.close();
  await deleteStreamsOf(servers, prefix);
});

/** How long no further result is waited for once the expected ones are in (an expiring wait). */
const QUIET_MS = 200;

/**
 * Subscribes and resolves with every result that came until `count` had arrived and then
 * {@link QUIET_MS} more: a result beyond `count` (a duplicate, an event of another order) is in
 * what it resolves with, so asserting the exact list proves that nothing else came.
 */
function exactly(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  count: number,
): Promise<WsResult[]> {
  const results: WsResult[] = [];
  return new Promise((resolve, reject) => {
    let unsubscribe = (): void => undefined;
    const finish = () => {
      unsubscribe();
      resolve(results);
    };
    unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (result) => {
          results.push(result);
          if (results.length === count) void delay(QUIET_MS).then(finish);
        },
        error: (error) =>
          reject(
            error instanceof Error ? error : new Error(`subscription failed: ${String(error)}`),
          ),
        complete: finish,
      },
    );
  });
}

const ORDER_STATUS = `subscription($orderId: ID, $after: String) { orderStatusChanged(orderId: $orderId, after: $after) { cursor status previousStatus } }`;

// The timeout turns a wait for events that never come (the behaviour broken) into a failure.
describe('replicas sharing NATS', { timeout: 60_000 }, () => {
  it('delivers events caused on one replica to a subscriber on the other, resumable on either', async () => {
    const { id: orderId } = await placeOrder(a, 'replica-1', { channel: 'EDI' });
    // The stream keeps every event: a subscriber on replica B reads A's events from the start.
    const onB = await exactly(ws.client(b), ORDER_STATUS, { orderId, after: '0' }, 3);
    assert.deepEqual(
      onB.map((e) => e.errors ?? e.data?.orderStatusChanged.status),
      ['RECEIVED', 'ALLOCATED', 'ACCEPTED'],
    );
    const cursors = onB.map((e) => String(e.data?.orderStatusChanged.cursor));
    // Resuming on replica A after B's first cursor gives exactly the rest: cursors are global.
    const onA = await exactly(ws.client(a), ORDER_STATUS, { orderId, after: cursors[0] }, 2);
    assert.deepEqual(
      onA.map((e) => e.errors ?? e.data?.orderStatusChanged.cursor),
      cursors.slice(1),
    );
  });
});

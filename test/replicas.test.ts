/**
 * Two Crossdock processes sharing NATS JetStream: a subscriber connected to one replica receives
 * the order events caused on the other, and a subscriber can resume on either by cursor.
 * Uses the server at NATS_URL (CI: 127.0.0.1:4222) or a private nats-server on a free port.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { buildWorld } from '../sandbox/seed.js';
import { natsUrl } from './support/nats.js';
import { placeOrder } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';
import { collect, wsClients } from './support/ws.js';

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
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names())
      if (name.startsWith(prefix)) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
});

const ORDER_STATUS = `subscription($orderId: ID, $after: String) { orderStatusChanged(orderId: $orderId, after: $after) { cursor status previousStatus } }`;

describe('replicas sharing NATS', () => {
  it('delivers events caused on one replica to a subscriber on the other, resumable on either', async () => {
    const { id: orderId } = await placeOrder(a, 'replica-1', { channel: 'EDI' });
    // The stream keeps every event: a subscriber on replica B reads A's events from the start.
    const onB = await collect(ws.client(b), ORDER_STATUS, { orderId, after: 'order:0' }, 3);
    assert.deepEqual(
      onB.map((e) => e.data?.orderStatusChanged.status),
      ['RECEIVED', 'ALLOCATED', 'ACCEPTED'],
    );
    const cursors = onB.map((e) => String(e.data?.orderStatusChanged.cursor));
    // Resuming on replica A after B's first cursor gives exactly the rest: cursors are global.
    const onA = await collect(ws.client(a), ORDER_STATUS, { orderId, after: cursors[0] }, 2);
    assert.deepEqual(
      onA.map((e) => e.data?.orderStatusChanged.cursor),
      cursors.slice(1),
    );
  });
});

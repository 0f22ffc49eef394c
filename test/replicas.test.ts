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
import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildWorld } from '../sandbox/seed.js';
import { natsUrl } from './support/nats.js';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const world = buildWorld({ catalogSize: 100 });
const prefix = `XDREPL_${randomUUID().slice(0, 8).toUpperCase()}`;
let servers: string;
let a: Stack;
let b: Stack;
const clients: Client[] = [];

before(async () => {
  servers = await natsUrl();
  const env = { NATS_URL: servers, NATS_STREAM_PREFIX: prefix };
  a = await startStack({ world, env });
  b = await startStack({ world, env });
});

after(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
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

function subscribe(
  stack: Stack,
  variables: Record<string, unknown>,
  count: number,
): Promise<FormattedExecutionResult<Json, unknown>[]> {
  const client = createClient({
    url: stack.crossdock.url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: 'Bearer demo-admin' },
  });
  clients.push(client);
  const results: FormattedExecutionResult<Json, unknown>[] = [];
  return new Promise((resolve, reject) => {
    const stop = client.subscribe<Json>(
      {
        query: `subscription($orderId: ID, $after: String) { orderStatusChanged(orderId: $orderId, after: $after) { cursor status previousStatus } }`,
        variables,
      },
      {
        next: (value) => {
          results.push(value);
          if (results.length === count || value.errors) {
            stop();
            resolve(results);
          }
        },
        error: reject,
        complete: () => resolve(results),
      },
    );
  });
}

describe('replicas sharing NATS', () => {
  it('delivers events caused on one replica to a subscriber on the other, resumable on either', async () => {
    const customer = world.customers.find(
      (c) =>
        c.blocked === ' ' &&
        c.balanceDueCents < c.creditLimitCents / 4 &&
        c.creditLimitCents >= 5_000_000,
    );
    const stock = world.stock.find(
      (s) => s.warehouse === 'EAST' && s.onHand - s.allocated - s.onHold >= 10,
    );
    assert.ok(customer && stock);
    const placed = await a.gql<Json>(
      `mutation($input: PlaceOrderInput!) { placeOrder(input: $input, idempotencyKey: "replica-1") { order { id } userErrors { code } } }`,
      {
        input: {
          channel: 'EDI',
          customerId: customer.number,
          lines: [{ sku: stock.sku, quantity: 1 }],
        },
      },
    );
    assert.equal(placed.body.errors, undefined, JSON.stringify(placed.body.errors));
    const orderId = Buffer.from(placed.body.data?.placeOrder.order.id, 'base64url')
      .toString('utf8')
      .split(':')[1];
    // The stream keeps every event: a subscriber on replica B reads A's events from the start.
    const onB = await subscribe(b, { orderId, after: 'order:0' }, 3);
    assert.deepEqual(
      onB.map((e) => e.data?.orderStatusChanged.status),
      ['RECEIVED', 'ALLOCATED', 'ACCEPTED'],
    );
    const cursors = onB.map((e) => String(e.data?.orderStatusChanged.cursor));
    // Resuming on replica A after B's first cursor gives exactly the rest: cursors are global.
    const onA = await subscribe(a, { orderId, after: cursors[0] }, 2);
    assert.deepEqual(
      onA.map((e) => e.data?.orderStatusChanged.cursor),
      cursors.slice(1),
    );
  });
});

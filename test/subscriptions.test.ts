/**
 * Live order status over graphql-ws on the same endpoint as queries (in-process bus): events of
 * a placed order arrive in order with cursors, `after` resumes right after a cursor, a bad
 * cursor is a clear error, a socket without a valid key is closed with 4403, and channel-scoped
 * keys see their channel only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildWorld, type SeedWorld } from '../sandbox/seed.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
let world: SeedWorld;
const clients: Client[] = [];

before(async () => {
  world = buildWorld({ catalogSize: 100 });
  stack = await startStack({ world });
});

after(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await stack.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function client(key: string | null): Client {
  const c = createClient({
    url: stack.crossdock.url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: key === null ? {} : { authorization: `Bearer ${key}` },
  });
  clients.push(c);
  return c;
}

/** Collects `count` results of a subscription, or the error that ends it. */
function collect(c: Client, query: string, variables: Record<string, unknown>, count: number) {
  const results: FormattedExecutionResult<Json, unknown>[] = [];
  return new Promise<FormattedExecutionResult<Json, unknown>[]>((resolve, reject) => {
    const unsubscribe = c.subscribe<Json>(
      { query, variables },
      {
        next: (value) => {
          results.push(value);
          if (results.length === count || value.errors) {
            unsubscribe();
            resolve(results);
          }
        },
        error: (error) => reject(error),
        complete: () => resolve(results),
      },
    );
  });
}

/** The cursor before the first event of the in-process bus: replays the whole history kept. */
const FROM_START = 'order:0';

const SUB = `subscription($orderId: ID, $after: String) { orderStatusChanged(orderId: $orderId, after: $after) {
  cursor status previousStatus at order { id status } } }`;

async function placeOrder(key: string, channel = 'B2B_PORTAL'): Promise<string> {
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
  const res = await stack.gql<Json>(
    `mutation($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) { order { id } userErrors { code } } }`,
    {
      input: { channel, customerId: customer.number, lines: [{ sku: stock.sku, quantity: 1 }] },
      key,
    },
  );
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  return (
    Buffer.from(res.body.data?.placeOrder.order.id, 'base64url').toString('utf8').split(':')[1] ??
    ''
  );
}

describe('subscriptions over graphql-ws', () => {
  it('streams the status changes of an order in order, and resumes after a cursor', async () => {
    const orderId = await placeOrder('sub-1');
    // Subscribing after the fact with a cursor from the start makes the test independent of
    // when the subscription becomes live.
    const events = await collect(client('demo-admin'), SUB, { orderId, after: FROM_START }, 3);
    const statuses = events.map((e) => e.data?.orderStatusChanged.status);
    assert.deepEqual(statuses, ['RECEIVED', 'ALLOCATED', 'ACCEPTED']);
    assert.deepEqual(
      events.map((e) => e.data?.orderStatusChanged.previousStatus),
      [null, 'RECEIVED', 'ALLOCATED'],
    );
    const cursors = events.map((e) => String(e.data?.orderStatusChanged.cursor));
    assert.equal(new Set(cursors).size, 3);
    assert.equal(
      Buffer.from(events[2]?.data?.orderStatusChanged.order.id, 'base64url').toString('utf8'),
      `Order:${orderId}`,
    );
    // Resume after the first: exactly the two that followed, in order.
    const resumed = await collect(client('demo-admin'), SUB, { orderId, after: cursors[0] }, 2);
    assert.deepEqual(
      resumed.map((e) => e.data?.orderStatusChanged.cursor),
      cursors.slice(1),
    );
  });

  it('refuses a malformed cursor with a clear error', async () => {
    const results = await collect(client('demo-admin'), SUB, { after: 'not-a-cursor' }, 1);
    const error = results[0]?.errors?.[0] as { message: string; extensions?: Json } | undefined;
    assert.equal(error?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(error?.extensions?.reason, 'CURSOR_EXPIRED');
  });

  it('closes a socket without a valid key with 4403', async () => {
    const c = client('not-a-key');
    const closed = new Promise<number>((resolve) =>
      c.on('closed', (event) => resolve((event as { code: number }).code)),
    );
    c.subscribe(
      { query: SUB, variables: {} },
      { next: () => undefined, error: () => undefined, complete: () => undefined },
    );
    assert.equal(await closed, 4403);
  });

  it('delivers only its channel to a partner key', async () => {
    await placeOrder('sub-other-channel', 'B2B_PORTAL');
    await placeOrder('sub-own-channel', 'MARKETPLACE_A');
    const events = await collect(client('demo-partner-a'), SUB, { after: FROM_START }, 3);
    for (const e of events) {
      const id = Buffer.from(e.data?.orderStatusChanged.order.id, 'base64url').toString('utf8');
      assert.ok(id.startsWith('Order:XD-'));
    }
    assert.deepEqual(
      events.map((e) => e.data?.orderStatusChanged.status),
      ['RECEIVED', 'ALLOCATED', 'ACCEPTED'],
    );
  });
});

describe('graphql-ws protocol hygiene', () => {
  let short: Stack;
  before(async () => {
    short = await startStack({ catalogSize: 20, env: { WS_INIT_TIMEOUT_MS: '100' } });
  });
  after(() => short.close());

  /** A raw socket speaking graphql-transport-ws; resolves with the close code. */
  function raw(messages: Record<string, unknown>[]): Promise<number> {
    const socket = new WebSocket(short.crossdock.url.replace('http', 'ws'), 'graphql-transport-ws');
    socket.on('open', () => {
      for (const m of messages) socket.send(JSON.stringify(m));
    });
    return new Promise((resolve) => socket.on('close', (code) => resolve(code)));
  }

  it('closes a socket that never sends connection_init with 4408', async () => {
    assert.equal(await raw([]), 4408);
  });

  it('closes a subscribe before connection_init with 4401', async () => {
    assert.equal(
      await raw([{ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } }]),
      4401,
    );
  });

  it('closes on a message that is not of the protocol with 4400', async () => {
    assert.equal(
      await raw([
        { type: 'connection_init', payload: { authorization: 'Bearer demo-admin' } },
        { type: 'no-such-type' },
      ]),
      4400,
    );
  });

  it('applies the same validation and query limits as HTTP', async () => {
    const c = createClient({
      url: short.crossdock.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: 'Bearer demo-admin' },
    });
    clients.push(c);
    const errorsOf = (query: string) =>
      new Promise<{ message: string; extensions?: Json }[]>((resolve) => {
        c.subscribe(
          { query },
          {
            next: () => undefined,
            error: (e) => resolve(e as { message: string; extensions?: Json }[]),
            complete: () => resolve([]),
          },
        );
      });
    const syntax = await errorsOf('subscription { orderStatusChanged { cursor }');
    assert.equal(syntax[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(syntax[0]?.extensions?.reason, 'GRAPHQL_PARSE_FAILED');
    const unknown = await errorsOf('subscription { orderStatusChanged { colour } }');
    assert.equal(unknown[0]?.message, 'Cannot query field "colour" on type "OrderStatusEvent".');
    assert.equal(unknown[0]?.extensions?.code, 'BAD_USER_INPUT');
    let nested = 'number';
    for (let i = 0; i < 8; i++) nested = `customer { orders(first: 1) { nodes { ${nested} } } }`;
    const deep = await errorsOf(`subscription { orderStatusChanged { order { ${nested} } } }`);
    assert.equal(deep[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
  });
});

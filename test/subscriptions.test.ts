/**
 * Live order status over graphql-ws on the same endpoint as queries (in-process bus): events of
 * a placed order arrive in order with cursors, `after` resumes right after a cursor, a bad
 * cursor is a clear error, a socket without a valid key is closed with 4403, and channel-scoped
 * keys see their channel only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { buildWorld } from '../sandbox/seed.js';
import { placeOrder } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';
import { collect, wsClients } from './support/ws.js';

let stack: Stack;
const ws = wsClients();

before(async () => {
  stack = await startStack({ world: buildWorld({ catalogSize: 100 }) });
});

after(async () => {
  await ws.disposeAll();
  await stack.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The cursor before the first event of the in-process bus: replays the whole history kept. */
const FROM_START = 'order:0';

const SUB = `subscription($orderId: ID, $after: String) { orderStatusChanged(orderId: $orderId, after: $after) {
  cursor status previousStatus at order { id status } } }`;

describe('subscriptions over graphql-ws', () => {
  it('streams the status changes of an order in order, and resumes after a cursor', async () => {
    const { id: orderId } = await placeOrder(stack, 'sub-1');
    // Subscribing after the fact with a cursor from the start makes the test independent of
    // when the subscription becomes live.
    const events = await collect(ws.client(stack), SUB, { orderId, after: FROM_START }, 3);
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
    const resumed = await collect(ws.client(stack), SUB, { orderId, after: cursors[0] }, 2);
    assert.deepEqual(
      resumed.map((e) => e.data?.orderStatusChanged.cursor),
      cursors.slice(1),
    );
  });

  it('refuses a malformed cursor with a clear error', async () => {
    const results = await collect(ws.client(stack), SUB, { after: 'not-a-cursor' }, 1);
    const error = results[0]?.errors?.[0] as { message: string; extensions?: Json } | undefined;
    assert.equal(error?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(error?.extensions?.reason, 'CURSOR_EXPIRED');
  });

  it('closes a socket without a valid key with 4403', async () => {
    const c = ws.client(stack, { key: 'not-a-key' });
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
    await placeOrder(stack, 'sub-other-channel', { channel: 'B2B_PORTAL' });
    await placeOrder(stack, 'sub-own-channel', { channel: 'MARKETPLACE_A' });
    const events = await collect(
      ws.client(stack, { key: 'demo-partner-a' }),
      SUB,
      { after: FROM_START },
      3,
    );
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
    const c = ws.client(short);
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

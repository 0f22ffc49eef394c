/**
 * Live order status over graphql-ws on the same endpoint as queries (in-process bus): events of
 * a placed order arrive in order with cursors, `after` resumes right after a cursor, a bad
 * cursor is a clear error, a socket without a valid key is closed with 4403, channel-scoped
 * keys see their channel only, and the orderId, customerId and channel arguments select.
 *
 * What a subscriber must NOT receive is always published (or replayed) before what it must: a
 * filter that let it through would deliver it first, so "exactly these events" proves it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { buildWorld, type SeedCustomer } from '../sandbox/seed.js';
import { orderIdOf, orderableCustomer, placeOrder } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';
import { translate } from '../resolvers/subscription.js';
import { CursorExpiredError } from '../subscriptions/bus.js';
import { collect, collectLive, openCursor, wsClients, type WsResult } from './support/ws.js';

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
const FROM_START = '0';

const SUB = `subscription($orderId: ID, $customerId: ID, $channel: Channel, $after: String) {
  orderStatusChanged(orderId: $orderId, customerId: $customerId, channel: $channel, after: $after) {
    cursor status previousStatus at order { id status customer { number } channel } } }`;

/** What a placed order publishes, in order, by the time placeOrder answers. */
const PLACED = ['RECEIVED', 'ALLOCATED', 'ACCEPTED'];

/** [Crossdock order id, status] of each event (failing on a result with errors). */
const idsAndStatuses = (results: readonly WsResult[]) =>
  results.map((r) => {
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const event = r.data?.orderStatusChanged;
    // An order the key may not read resolves to null: the event still shows, as [null, status].
    return [event?.order ? orderIdOf(event.order.id) : null, event?.status];
  });

/** A seed customer, other than `orderableCustomer`, who can order as much. */
function secondOrderableCustomer(stack: Stack): SeedCustomer {
  const first = orderableCustomer(stack.sandbox.world);
  const customer = stack.sandbox.world.customers.find(
    (c) =>
      c !== first &&
      c.blocked === ' ' &&
      c.balanceDueCents < c.creditLimitCents / 4 &&
      c.creditLimitCents >= 5_000_000,
  );
  assert.ok(customer, 'a second customer who can order');
  return customer;
}

describe('subscriptions over graphql-ws', () => {
  it('streams the status changes of an order in order, and resumes after a cursor', async () => {
    // Another order's events come first in the history: the orderId filter must pass over them.
    const other = await placeOrder(stack, 'sub-1-other');
    const { id: orderId } = await placeOrder(stack, 'sub-1');
    // Subscribing after the fact with a cursor from the start makes the test independent of
    // when the subscription becomes live.
    const events = await collect(ws.client(stack), SUB, { orderId, after: FROM_START }, 3);
    assert.notEqual(other.id, orderId);
    assert.deepEqual(
      idsAndStatuses(events),
      PLACED.map((status) => [orderId, status]),
    );
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

  it('delivers the orders of one customer only to a customerId subscriber', async () => {
    const mine = secondOrderableCustomer(stack);
    const sub = collectLive(
      stack,
      ws.client(stack),
      SUB,
      { customerId: mine.number },
      PLACED.length,
    );
    await sub.ready;
    // Another customer's order first: a subscriber it reached would receive it first.
    const other = await placeOrder(stack, 'sub-customer-other');
    const own = await placeOrder(stack, 'sub-customer-own', {
      input: { customerId: mine.number },
    });
    const events = await sub.done;
    assert.notEqual(orderableCustomer(stack.sandbox.world).number, mine.number);
    assert.notEqual(other.id, own.id);
    assert.deepEqual(
      idsAndStatuses(events),
      PLACED.map((status) => [own.id, status]),
    );
    for (const e of events)
      assert.equal(e.data?.orderStatusChanged.order.customer.number, mine.number);
  });

  it('delivers the orders of one channel only to a channel subscriber', async () => {
    const sub = collectLive(stack, ws.client(stack), SUB, { channel: 'WEB' }, PLACED.length);
    await sub.ready;
    const other = await placeOrder(stack, 'sub-channel-other', { channel: 'EDI' });
    const own = await placeOrder(stack, 'sub-channel-own', { channel: 'WEB' });
    const events = await sub.done;
    assert.notEqual(other.id, own.id);
    assert.deepEqual(
      idsAndStatuses(events),
      PLACED.map((status) => [own.id, status]),
    );
    for (const e of events) assert.equal(e.data?.orderStatusChanged.order.channel, 'WEB');
  });

  it('refuses a malformed cursor with a clear error', async () => {
    const results = await collect(ws.client(stack), SUB, { after: 'not-a-cursor' }, 1);
    const error = results[0]?.errors?.[0] as { message: string; extensions?: Json } | undefined;
    assert.equal(error?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(error?.extensions?.argument, 'after');
    // Not a cursor at all: refused as such, not as an expired one.
    assert.equal(
      error?.message,
      `after: expected a cursor of this subscription's events, as received, or "0" for every event kept, got "not-a-cursor"`,
    );
  });

  it('parses and validates a document once, however many subscribers send it; keeps no invalid one', async () => {
    const documents = () => stack.crossdock.subscriptions.documents();
    const before = documents();
    // A refused cursor is the resolver's answer: each subscription passed onSubscribe first.
    const refused = async (query: string) => {
      const [result] = await collect(ws.client(stack), query, { after: 'not-a-cursor' }, 1);
      assert.equal(result?.errors?.[0]?.extensions?.argument, 'after');
    };
    const one = `subscription OneDocument($after: String) { orderStatusChanged(after: $after) { cursor } }`;
    await Promise.all([refused(one), refused(one), refused(one)]);
    assert.equal(documents(), before + 1);
    await refused(one.replace('OneDocument', 'AnotherDocument'));
    assert.equal(documents(), before + 2);
    await assert.rejects(
      collect(ws.client(stack), 'subscription { orderStatusChanged { colour } }', {}, 1),
      /Cannot query field "colour"/,
    );
    assert.equal(documents(), before + 2);
  });

  it('an expired cursor is refused without the bus sequence numbers', () => {
    const error = translate(new CursorExpiredError('order:41', 977)) as {
      message: string;
      extensions: Json;
    };
    assert.equal(
      error.message,
      'after: the cursor is older than the events kept; resubscribe with after: "0" (every event kept) and reconcile by query',
    );
    assert.deepEqual(
      [error.extensions.code, error.extensions.reason],
      ['BAD_USER_INPUT', 'CURSOR_EXPIRED'],
    );
    assert.doesNotMatch(JSON.stringify(error), /41|977/);
  });

  it('hands out sealed cursors: opaque, one per event, refused from another client or forged', async () => {
    const placed = await placeOrder(stack, 'sub-sealed');
    const events = await collect(
      ws.client(stack),
      SUB,
      { orderId: placed.id, after: FROM_START },
      3,
    );
    const cursors = events.map((e) => String(e.data?.orderStatusChanged.cursor));
    for (const cursor of cursors) {
      // Nothing in it reads as a number: no sequence to count other tenants' events by.
      assert.match(cursor, /^[A-Za-z0-9_-]{40,}$/);
      assert.ok(!Buffer.from(cursor, 'base64url').toString('latin1').includes('order:'));
    }
    // The same event has the same cursor on a second delivery (a resumed subscriber dedupes).
    const again = await collect(
      ws.client(stack),
      SUB,
      { orderId: placed.id, after: FROM_START },
      3,
    );
    assert.deepEqual(
      again.map((e) => e.data?.orderStatusChanged.cursor),
      cursors,
    );
    // Behind them, the bus's order.
    const sequences = cursors.map((c) => Number(openCursor(c).split(':')[1]));
    assert.deepEqual(
      [...sequences].sort((x, y) => x - y),
      sequences,
    );
    const refusals: [string, string][] = [
      ['demo-service', cursors[0] as string], // sealed for demo-admin's client
      ['demo-admin', 'order:1'], // the bus's own form: forged
      ['demo-admin', `${(cursors[0] as string).slice(0, -2)}AA`], // tampered
    ];
    for (const [key, after] of refusals) {
      const [result] = await collect(ws.client(stack, { key }), SUB, { after }, 1);
      const error = result?.errors?.[0] as { message: string; extensions?: Json } | undefined;
      assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', `${key} ${after}`);
      assert.match(error?.message ?? '', /^after: expected a cursor of this subscription's events/);
    }
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
    const sub = collectLive(
      stack,
      ws.client(stack, { key: 'demo-partner-a' }),
      SUB,
      {},
      PLACED.length,
    );
    await sub.ready;
    // The other channel's order first: were it not out of the key's scope, it would come first.
    const other = await placeOrder(stack, 'sub-other-channel', { channel: 'B2B_PORTAL' });
    const own = await placeOrder(stack, 'sub-own-channel', { channel: 'MARKETPLACE_A' });
    const events = await sub.done;
    assert.notEqual(other.id, own.id);
    assert.deepEqual(
      idsAndStatuses(events),
      PLACED.map((status) => [own.id, status]),
    );
    // Resuming from the start of the history is scoped the same way.
    const replayed = await collect(
      ws.client(stack, { key: 'demo-partner-a' }),
      SUB,
      { after: FROM_START },
      PLACED.length,
    );
    assert.deepEqual(idsAndStatuses(replayed), idsAndStatuses(events));
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

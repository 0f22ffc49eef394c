/**
 * Subscription events resolved once per audience (server/shared-execution.ts, issue #13): the
 * same event object reaching many subscribers of one document, variables and principal scope is
 * executed once; another client, role, scope, document or variables gets an execution of its
 * own. End to end: two sockets of one key share the answer (the same sealed cursor), a socket of
 * another client gets its own (a cursor sealed for it), and a partner still sees only its channel.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { execute, parse, type ExecutionArgs } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { sharedSubscribe, type Audience } from '../server/shared-execution.js';
import { placeOrder } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';
import { collectLive, openCursor, wsClients } from './support/ws.js';

/** A source every subscriber reads from: pushes the same object to all of them. */
function broadcast() {
  const waiting = new Set<(value: IteratorResult<unknown>) => void>();
  const queues = new Set<unknown[]>();
  return {
    push(event: unknown) {
      for (const q of queues) q.push(event);
      for (const w of [...waiting]) w({ done: false, value: undefined });
    },
    iterator(): AsyncIterableIterator<unknown> {
      const queue: unknown[] = [];
      queues.add(queue);
      const it: AsyncIterableIterator<unknown> = {
        [Symbol.asyncIterator]: () => it,
        async next() {
          while (queue.length === 0) {
            await new Promise<IteratorResult<unknown>>((resolve) => {
              const w = (v: IteratorResult<unknown>) => {
                waiting.delete(w);
                resolve(v);
              };
              waiting.add(w);
            });
          }
          return { done: false, value: queue.shift() };
        },
        async return() {
          queues.delete(queue);
          return { done: true, value: undefined };
        },
      };
      return it;
    },
  };
}

const audience = (over: Partial<Audience> = {}): Audience => ({
  client: 'c1',
  role: 'service',
  channel: null,
  customer: null,
  customers: null,
  scopes: [],
  ...over,
});

describe('one execution per event and audience', () => {
  const source = broadcast();
  const schema = makeExecutableSchema({
    typeDefs: `type Query { ok: Boolean } type Tick { n: Int! seenBy: String! } type Subscription { tick(step: Int): Tick! }`,
    resolvers: {
      Subscription: {
        tick: {
          subscribe: () => source.iterator(),
          // What the answer depends on of the caller: its client (as cursors do).
          resolve: (event: { n: number }, _args: unknown, ctx: { who: Audience }) => ({
            n: event.n,
            seenBy: ctx.who.client,
          }),
        },
      },
    },
  });
  let executions = 0;
  const subscribe = sharedSubscribe(
    (context) => (context as { who: Audience }).who,
    (args) => {
      executions++;
      return execute(args);
    },
  );
  const start = async (
    who: Audience,
    query = 'subscription { tick { n seenBy } }',
    variables = {},
  ) => {
    const args: ExecutionArgs = {
      schema,
      document: parse(query),
      contextValue: { who },
      variableValues: variables,
    };
    const events = (await subscribe(args)) as AsyncGenerator<unknown>;
    assert.ok(Symbol.asyncIterator in events);
    return events;
  };

  it('subscribers of one audience share the answer; every other audience gets its own', async () => {
    const same = [await start(audience()), await start(audience()), await start(audience())];
    const others = [
      await start(audience({ client: 'c2' })),
      await start(audience({ role: 'admin' })),
      await start(audience({ channel: 'WEB' })),
      await start(audience({ customers: ['C10004'] })),
      await start(audience({ scopes: ['orders:read'] })),
      await start(audience(), 'subscription { tick { n } }'),
      await start(audience(), 'subscription($s: Int) { tick(step: $s) { n seenBy } }', { s: 2 }),
    ];
    executions = 0;
    source.push({ n: 1 });
    const answers = await Promise.all([...same, ...others].map((e) => e.next()));
    // One for the three alike, one for each of the seven others.
    assert.equal(executions, 1 + others.length);
    const [a, b, c] = answers.map((r) => r.value);
    assert.equal(a, b);
    assert.equal(b, c);
    const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    assert.deepEqual(plain(a), { data: { tick: { n: 1, seenBy: 'c1' } } });
    assert.deepEqual(plain(answers[3]?.value), { data: { tick: { n: 1, seenBy: 'c2' } } });
    // A new event is a new execution (answers are kept per event, never across events).
    executions = 0;
    source.push({ n: 2 });
    const second = await Promise.all(same.map((e) => e.next()));
    assert.equal(executions, 1);
    assert.deepEqual(plain(second[0]?.value), { data: { tick: { n: 2, seenBy: 'c1' } } });
    await Promise.all([...same, ...others].map((e) => e.return(undefined)));
  });

  it('a refused subscription answers its errors, not a stream', async () => {
    const refused = await subscribe({
      schema,
      document: parse('subscription { nope }'),
      contextValue: { who: audience() },
    });
    assert.ok(!(Symbol.asyncIterator in Object(refused)));
    assert.match(JSON.stringify(refused), /Cannot query field|nope/);
  });
});

describe('shared answers over graphql-ws', () => {
  let stack: Stack;
  const clients = wsClients();
  before(async () => {
    stack = await startStack({ catalogSize: 20, env: { POLL_SOURCES: 'none' } });
  });
  after(async () => {
    await clients.disposeAll();
    await stack?.close();
  });

  it('two sockets of one key get the same sealed cursor; another client its own; a partner only its channel', async () => {
    const query = `subscription { orderStatusChanged { cursor status order { number channel } } }`;
    // An order's first event names it by Crossdock's id (the ERP number comes later).
    const isPlaced = (order: { id: string; number: string }) => (r: { data?: unknown }) =>
      JSON.stringify(r).includes(order.id) || JSON.stringify(r).includes(order.number);
    // Placed in B2B_PORTAL: the partner (MARKETPLACE_A) must not see it; a second order in its
    // own channel ends its collection.
    const admin1 = collectLive(stack, clients.client(stack), query, {}, 1);
    await admin1.ready;
    const admin2 = collectLive(stack, clients.client(stack), query, {}, 1);
    await admin2.ready;
    const service = collectLive(
      stack,
      clients.client(stack, { key: 'demo-service' }),
      query,
      {},
      1,
    );
    await service.ready;
    const partner = collectLive(
      stack,
      clients.client(stack, { key: 'demo-partner-a' }),
      query,
      {},
      1,
    );
    await partner.ready;
    const placed = await placeOrder(stack, `shared-${randomUUID()}`);
    const [a1, a2, s] = await Promise.all([admin1.done, admin2.done, service.done]);
    for (const r of [a1, a2, s]) assert.ok(r[0] && isPlaced(placed)(r[0]), JSON.stringify(r));
    const cursor = (r: typeof a1) =>
      (r[0]?.data as { orderStatusChanged: { cursor: string } }).orderStatusChanged.cursor;
    assert.equal(cursor(a1), cursor(a2));
    assert.notEqual(cursor(s), cursor(a1));
    // Each cursor opens for its own client only, and both name the same bus event.
    assert.equal(openCursor(cursor(s), 'demo-service'), openCursor(cursor(a1), 'demo-admin'));
    const own = await placeOrder(stack, `shared-own-${randomUUID()}`, {
      channel: 'MARKETPLACE_A',
      input: { customerId: 'C10004' },
    });
    const [p] = await partner.done;
    assert.ok(p && isPlaced(own)(p), JSON.stringify(p));
    assert.ok(!isPlaced(placed)(p));
  });
});

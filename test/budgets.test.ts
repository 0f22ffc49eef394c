/**
 * Cost budgets (issue #10, server/budget.ts): a bucket per client spent by each operation's
 * estimated cost and refilled over time (with an injected clock: no waiting), reported in
 * `extensions.cost` and the RateLimit header fields, refused RATE_LIMITED (429 with Retry-After)
 * when exhausted, per client; the same over graphql-ws; and one budget seen by two replicas
 * through NATS key-value.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { memoryBudgets, natsBudgets, take } from '../server/budget.js';
import { deleteStreamsOf, natsUrl } from './support/nats.js';
import { startStack, type Stack } from './support/stack.js';
import { collect, wsClients } from './support/ws.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const POLICY = { capacity: 100, refillPerS: 10 };

describe('a budget bucket', () => {
  it('spends, refuses what is left short of, and refills over time', async () => {
    let now = 1_000_000;
    const budgets = memoryBudgets(POLICY, () => now);
    assert.deepEqual(await budgets.spend('web', 60), {
      allowed: true,
      cost: 60,
      remaining: 40,
      capacity: 100,
      windowS: 10,
      resetS: 6,
      retryAfterS: 0,
    });
    const refused = await budgets.spend('web', 50);
    assert.deepEqual([refused.allowed, refused.remaining, refused.retryAfterS], [false, 40, 1]);
    assert.equal((await budgets.spend('portal', 90)).allowed, true, 'clients are apart');
    now += 1_000; // one second: 10 points back
    assert.deepEqual(
      [(await budgets.spend('web', 50)).allowed, (await budgets.spend('web', 1)).remaining],
      [true, 0],
    );
    now += 60_000;
    assert.equal((await budgets.spend('web', 0)).remaining, 100, 'full again, never above');
    const huge = await budgets.spend('web', 101);
    assert.deepEqual([huge.allowed, huge.retryAfterS], [false, Number.POSITIVE_INFINITY]);
  });

  it('fills each bucket by the policy it is spent with (per principal)', async () => {
    const budgets = memoryBudgets(POLICY, () => 0);
    const small = { capacity: 10, refillPerS: 1 };
    assert.deepEqual(
      [
        (await budgets.spend('mp', 8, small)).remaining,
        (await budgets.spend('mp', 3, small)).allowed,
      ],
      [2, false],
    );
    assert.equal((await budgets.spend('web', 90)).remaining, 10, 'the default for the others');
  });

  it('never lets a refused operation spend', () => {
    const { bucket, spend } = take({ tokens: 5, at: 0 }, 6, POLICY, 0);
    assert.deepEqual([spend.allowed, bucket.tokens], [false, 5]);
  });
});

const CAPACITY = 60;
const QUERY = '{ products(first: 5) { nodes { sku } } }';

describe('budgets over HTTP and graphql-ws', () => {
  let stack: Stack;
  const ws = wsClients();
  before(async () => {
    stack = await startStack({
      catalogSize: 20,
      env: { POLL_SOURCES: 'none', BUDGET_CAPACITY: String(CAPACITY), BUDGET_REFILL_PER_S: '1' },
    });
  });
  after(async () => {
    await ws.disposeAll();
    await stack?.close();
  });

  it('reports each operation’s cost and what is left; past the budget 429 RATE_LIMITED', async () => {
    const started = Date.now();
    const first = await stack.gql<Json>(QUERY, {}, { key: 'demo-partner-a' });
    const cost = first.body.extensions?.cost as Json;
    assert.ok(cost.estimated > 0 && cost.estimated < CAPACITY, JSON.stringify(cost));
    assert.equal(cost.limit, CAPACITY);
    assert.equal(cost.remaining, CAPACITY - cost.estimated);
    assert.equal(first.headers.get('ratelimit-policy'), `"cost";q=${CAPACITY};w=${CAPACITY}`);
    assert.match(first.headers.get('ratelimit') ?? '', /^"cost";r=\d+;t=\d+$/);
    let answer = first;
    for (let i = 0; i < CAPACITY && answer.status === 200; i++) {
      answer = await stack.gql<Json>(QUERY, {}, { key: 'demo-partner-a' });
    }
    assert.equal(answer.status, 429);
    const [error] = answer.body.errors ?? [];
    assert.equal(error?.extensions?.code, 'RATE_LIMITED');
    assert.match(
      error?.message ?? '',
      new RegExp(
        `^Cost budget exhausted: this operation costs ${cost.estimated}, \\d+ of ${CAPACITY} left; retry in \\d+ s$`,
      ),
    );
    // Refilled at 1 point a second: what is left is at most what the elapsed time gave back.
    const elapsedS = Math.ceil((Date.now() - started) / 1000);
    assert.ok(Number(error?.extensions?.remaining) < cost.estimated + elapsedS);
    assert.ok(Number(answer.headers.get('retry-after')) >= 1);
    // Another client's budget is its own.
    const other = await stack.gql<Json>(QUERY, {}, { key: 'demo-partner-b' });
    assert.equal(other.status, 200);
    // graphql-ws spends from the same budget.
    await assert.rejects(
      collect(ws.client(stack, { key: 'demo-partner-a' }), QUERY, {}, 1),
      /Cost budget exhausted: this operation costs \d+, \d+ of 60 left[^]*RATE_LIMITED/,
    );
  });
});

describe('budget policies per principal (BUDGET_POLICIES)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      catalogSize: 20,
      env: {
        POLL_SOURCES: 'none',
        BUDGET_CAPACITY: '100000',
        BUDGET_REFILL_PER_S: '1',
        BUDGET_POLICIES: JSON.stringify({ partner: { capacity: CAPACITY, refillPerS: 1 } }),
      },
    });
  });
  after(() => stack?.close());

  it("a partner spends from its principal's budget; a storefront from the default", async () => {
    const partner = await stack.gql<Json>(QUERY, {}, { key: 'demo-partner-a' });
    assert.equal((partner.body.extensions?.cost as Json).limit, CAPACITY);
    assert.equal(partner.headers.get('ratelimit-policy'), `"cost";q=${CAPACITY};w=${CAPACITY}`);
    const web = await stack.gql<Json>(QUERY, {}, { key: 'demo-storefront' });
    assert.equal((web.body.extensions?.cost as Json).limit, 100_000);
    let answer = partner;
    for (let i = 0; i < CAPACITY && answer.status === 200; i++) {
      answer = await stack.gql<Json>(QUERY, {}, { key: 'demo-partner-a' });
    }
    assert.equal(answer.status, 429);
    assert.equal((await stack.gql<Json>(QUERY, {}, { key: 'demo-storefront' })).status, 200);
  });
});

describe('one budget across replicas (NATS key-value)', () => {
  const prefix = `XDBUDGET_${randomUUID().slice(0, 8).toUpperCase()}`;
  let servers: string;
  let a: Stack;
  let b: Stack;
  before(async () => {
    servers = await natsUrl();
    const env = {
      NATS_URL: servers,
      NATS_STREAM_PREFIX: prefix,
      POLL_SOURCES: 'none',
      BUDGET_CAPACITY: String(CAPACITY),
      BUDGET_REFILL_PER_S: '1',
    };
    a = await startStack({ catalogSize: 20, env });
    b = await startStack({ catalogSize: 20, env });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await deleteStreamsOf(servers, prefix);
  });

  it('what one replica spent, the other sees', async () => {
    let answer = await a.gql<Json>(QUERY, {}, { key: 'demo-storefront' });
    const cost = Number((answer.body.extensions?.cost as Json).estimated);
    const onB = await b.gql<Json>(QUERY, {}, { key: 'demo-storefront' });
    assert.ok(
      Number((onB.body.extensions?.cost as Json).remaining) <= CAPACITY - 2 * cost + 2,
      'B spent from what A left',
    );
    for (let i = 0; i < CAPACITY && answer.status === 200; i++) {
      answer = await a.gql<Json>(QUERY, {}, { key: 'demo-storefront' });
    }
    assert.equal(answer.status, 429, 'exhausted on A');
    const refused = await b.gql<Json>(QUERY, {}, { key: 'demo-storefront' });
    assert.equal(refused.status, 429, 'and so on B');
  });

  it('concurrent spends on both replicas never overspend', async () => {
    const budgets = await Promise.all([
      natsBudgets(servers, `${prefix}_BUDGETS`, { capacity: 100, refillPerS: 1 }),
      natsBudgets(servers, `${prefix}_BUDGETS`, { capacity: 100, refillPerS: 1 }),
    ]);
    try {
      const client = `race-${randomUUID()}`;
      const spends = await Promise.all(
        Array.from({ length: 30 }, (_, i) => budgets[i % 2]?.spend(client, 10)),
      );
      const allowed = spends.filter((s) => s?.allowed).length;
      // 100 points at 10 each, plus at most what a second or two of refill gives back.
      assert.ok(allowed >= 10 && allowed <= 12, `${allowed} allowed`);
    } finally {
      await Promise.all(budgets.map((x) => x.close()));
    }
  });
});

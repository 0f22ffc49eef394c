/**
 * The hostile-input table (issue #9): over 300 requests an attacker would send, over HTTP (fetch
 * and raw TCP), graphql-ws (whole messages and hand-made frames) and the webhook endpoints, each
 * with its exact expected answer: status or close code, `extensions.code` (or the webhook's
 * `error.code`) and message (test/support/hostile-cases.ts). After every case a normal query
 * still answers over HTTP, and after every WebSocket case one over graphql-ws too. No case may be
 * answered as a server failure (5xx, close 1011 or 4500); the process serving them is this one,
 * so a crash fails the whole file.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CASES, HARDENED, TABLE_LIMITS, type Case, type Target } from './support/hostile-cases.js';
import { mismatch, overWebSocket, type Answer } from './support/hostile.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
let hardened: Stack;

before(async () => {
  [stack, hardened] = await Promise.all([
    startStack({ catalogSize: 20, env: TABLE_LIMITS }),
    startStack({ catalogSize: 20, env: { ...TABLE_LIMITS, ...HARDENED } }),
  ]);
});
after(() => Promise.all([stack?.close(), hardened?.close()]));

const targetOf = (s: Stack): Target => ({
  origin: new URL(s.crossdock.url).origin,
  port: s.crossdock.port,
  wsUrl: s.crossdock.url.replace('http', 'ws'),
});

/** Whether an answer is a server failure rather than a refusal. */
const serverFailure = (a: Answer) =>
  (a.status ?? 0) >= 500 ||
  a.close === 1011 ||
  a.close === 4500 ||
  a.code === 'INTERNAL_SERVER_ERROR';

const isWebSocket = (c: Case) => /graphql-ws|websocket/.test(c.category);

/** What the cases got, for the summary. */
const answered: { category: string; answer: Answer }[] = [];

async function stillServes(s: Stack, overWs: boolean): Promise<void> {
  const res = await s.gql(`{ warehouses { code } }`);
  assert.equal(res.status, 200, 'a normal query still answers');
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  if (!overWs) return;
  const answer = await overWebSocket(targetOf(s).wsUrl, {
    init: { type: 'connection_init', payload: { authorization: 'Bearer demo-storefront' } },
    frames: [{ id: 'n', type: 'subscribe', payload: { query: '{ __typename }' } }],
  });
  assert.deepEqual(
    answer,
    { type: 'next', data: { __typename: 'Query' } },
    'graphql-ws still serves',
  );
}

describe('hostile input: each case gets its exact answer, and Crossdock still serves', () => {
  for (const c of CASES) {
    it(`[${c.category}] ${c.name}`, { timeout: 30_000 }, async () => {
      const s = c.hardened ? hardened : stack;
      const answer = await c.send(targetOf(s));
      answered.push({ category: c.category, answer });
      assert.ok(!serverFailure(answer), `a server failure: ${JSON.stringify(answer)}`);
      const wrong = mismatch(answer, c.expect);
      assert.equal(
        wrong,
        undefined,
        `${wrong}; the whole answer: ${JSON.stringify(answer).slice(0, 600)}`,
      );
      await stillServes(s, isWebSocket(c));
    });
  }

  it('covers at least 200 cases over HTTP, graphql-ws and webhooks', (t) => {
    const per = new Map<string, number>();
    for (const c of CASES) per.set(c.category, (per.get(c.category) ?? 0) + 1);
    assert.ok(CASES.length >= 200, `${CASES.length} cases`);
    for (const kind of [/^http/, /graphql-ws|websocket/, /^webhooks$/]) {
      assert.ok(
        [...per.keys()].some((k) => kind.test(k)),
        `no ${String(kind)} cases`,
      );
    }
    const byAnswer = new Map<string, number>();
    for (const { answer } of answered) {
      const key =
        answer.close !== undefined
          ? `close ${answer.close}`
          : answer.type !== undefined
            ? `ws ${answer.type}${answer.code ? ` ${answer.code}` : ''}`
            : `${answer.status}${answer.code ? ` ${answer.code}` : answer.data !== undefined ? ' data' : ''}`;
      byAnswer.set(key, (byAnswer.get(key) ?? 0) + 1);
    }
    t.diagnostic(`${CASES.length} cases: ${JSON.stringify(Object.fromEntries(per))}`);
    t.diagnostic(
      `answers of the ${answered.length} run: ${JSON.stringify(Object.fromEntries([...byAnswer].sort((a, b) => b[1] - a[1])))}`,
    );
    t.diagnostic(`server failures: ${answered.filter((a) => serverFailure(a.answer)).length}`);
  });
});

/**
 * Exception queues (issue #11, item 7), end to end over real HTTP against the sandbox systems:
 * a dead letter (the ERP refusing every POST) lands in the ORDERS queue and is worked to
 * RESOLVED — assign, comment, resolve, each idempotent on its key (a replay answers the same
 * and adds nothing) and recorded once in the order's ledger; a dead letter fed again (its retry
 * failing) stays one item; a letter whose retry succeeds resolves its item by itself; events
 * that matched no order land in the queue of their owner, once however often they arrive;
 * every non-operator is refused; hostile text is refused naming what was expected.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SourceEvent } from '../sources/contract.js';
import { placeOrder, stockedRow } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let stack: Stack;

before(async () => {
  stack = await startStack({
    env: {
      // The retrier stays away: the tests replay letters by hand when they want a retry.
      DEAD_LETTER_RETRY_BASE_MS: '3600000',
      DEAD_LETTER_RETRY_MAX_MS: '3600000',
      POLL_SOURCES: 'none',
    },
  });
  // Fetch the ERP's OAuth token now: a faulted POST would refuse the token request too.
  await stack.gql(`{ product(sku: "SKU-000001") { listPrice { amount } } }`);
});
after(() => stack.close());

const ITEM = `id queue kind status orderId summary assignee comments { author text }
  resolution resolvedBy resolvedAt order { id status }`;
const LIST = `query($queue: ExceptionQueue, $status: ExceptionStatus, $after: String, $first: Int) {
  exceptions(queue: $queue, status: $status, first: $first, after: $after) {
    nodes { ${ITEM} } pageInfo { hasNextPage endCursor } } }`;
const ASSIGN = `mutation($id: ID!, $who: String!, $key: String!) {
  assignException(id: $id, assignee: $who, idempotencyKey: $key) {
    exception { ${ITEM} } userErrors { code field message } } }`;
const COMMENT = `mutation($id: ID!, $text: String!, $key: String!) {
  commentOnException(id: $id, text: $text, idempotencyKey: $key) {
    exception { ${ITEM} } userErrors { code field message } } }`;
const RESOLVE = `mutation($id: ID!, $how: String!, $key: String!) {
  resolveException(id: $id, resolution: $how, idempotencyKey: $key) {
    exception { ${ITEM} } userErrors { code field message } } }`;
const REPLAY = `mutation($id: ID!, $key: String!) {
  replayDeadLetter(id: $id, idempotencyKey: $key) { deadLetter { status } userErrors { code } } }`;

/** Runs a document as demo-operations; fails on GraphQL errors; returns data and extensions. */
async function ops(query: string, variables: Json): Promise<{ data: Json; extensions: Json }> {
  const res = await stack.gql<Json>(query, variables, { key: 'demo-operations' });
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  return { data: res.body.data ?? {}, extensions: res.body.extensions ?? {} };
}

/** Every item of a queue (all pages), as operators list them. */
async function items(queue?: string): Promise<Json[]> {
  const found: Json[] = [];
  let after: string | null = null;
  for (;;) {
    const { data } = await ops(LIST, { queue, after, first: 2 });
    found.push(...(data.exceptions.nodes as Json[]));
    if (!data.exceptions.pageInfo.hasNextPage) return found;
    after = data.exceptions.pageInfo.endCursor as string;
  }
}

/** Places an order while the ERP refuses every POST: PENDING_ERP with a dead letter. */
async function deadLettered(key: string, skip: number) {
  stack.sandbox.erp.control.setFaults({ errorRate: 1, methods: ['POST'] });
  const placed = await placeOrder(stack, key, {
    stock: stockedRow(stack.sandbox.world, { warehouse: 'EAST', skip }),
  });
  const [letter] = await stack.running.store.deadLetters.list({ orderId: placed.id, limit: 5 });
  assert.ok(letter, 'the ERP post was dead-lettered');
  return { placed, letter };
}

/** The exception steps in an order's ledger. */
async function exceptionSteps(orderId: string) {
  return (await stack.running.store.ledger.list(orderId))
    .filter((e) => e.step.startsWith('exception:'))
    .map((e) => ({ step: e.step, outcome: e.outcome, caller: e.caller }));
}

describe('a dead letter in the ORDERS queue, worked to RESOLVED', () => {
  it('assign, comment, resolve: each idempotent, each once in the ledger; a re-fed letter is one item', async () => {
    const { placed, letter } = await deadLettered('exq-dead-1', 0);
    try {
      const mine = (await items('ORDERS')).filter((i) => i.orderId === placed.id);
      assert.equal(mine.length, 1, JSON.stringify(mine));
      const item = mine[0] as Json;
      assert.deepEqual(
        {
          kind: item.kind,
          status: item.status,
          assignee: item.assignee,
          comments: item.comments,
          order: item.order,
        },
        {
          kind: 'DEAD_LETTER',
          status: 'OPEN',
          assignee: null,
          comments: [],
          order: { id: placed.globalId, status: 'PENDING_ERP' },
        },
      );
      assert.match(item.summary, /^post:erp failed: /);
      // Not in the other queues.
      for (const queue of ['RETURNS', 'INVOICES', 'WEBHOOKS']) {
        assert.equal((await items(queue)).filter((i) => i.orderId === placed.id).length, 0);
      }

      // assign, and its replay: the same answer, marked replayed, nothing done again.
      const assigned = await ops(ASSIGN, { id: item.id, who: 'Ana (order desk)', key: 'exq-a1' });
      assert.deepEqual(assigned.data.assignException.userErrors, []);
      assert.equal(assigned.data.assignException.exception.status, 'ASSIGNED');
      assert.equal(assigned.data.assignException.exception.assignee, 'Ana (order desk)');
      const assignedAgain = await ops(ASSIGN, {
        id: item.id,
        who: 'Ana (order desk)',
        key: 'exq-a1',
      });
      assert.deepEqual(assignedAgain.data, assigned.data);
      assert.deepEqual(assignedAgain.extensions.idempotency, { key: 'exq-a1', replayed: true });

      // comment twice with one key: one comment.
      const text = 'ERP refuses the post; asked the ERP team.\nTicket 4711.';
      const commented = await ops(COMMENT, { id: item.id, text, key: 'exq-c1' });
      const commentedAgain = await ops(COMMENT, { id: item.id, text, key: 'exq-c1' });
      assert.deepEqual(commentedAgain.data, commented.data);
      assert.deepEqual(commented.data.commentOnException.exception.comments, [
        { author: 'key:demo-operations', text },
      ]);

      // The letter fed again: its manual replay fails (the ERP still refuses) and feeds it anew.
      const replayed = await ops(REPLAY, { id: letter.id, key: 'exq-replay-1' });
      assert.equal(replayed.data.replayDeadLetter.deadLetter.status, 'PENDING');
      const afterRefeed = (await items()).filter((i) => i.orderId === placed.id);
      assert.equal(afterRefeed.length, 1, 'still one item');
      assert.equal(afterRefeed[0]?.status, 'ASSIGNED');
      assert.equal(afterRefeed[0]?.comments.length, 1);

      const resolved = await ops(RESOLVE, {
        id: item.id,
        how: 'Posted by hand in the ERP as SO-1234',
        key: 'exq-r1',
      });
      const ex = resolved.data.resolveException.exception;
      assert.deepEqual(resolved.data.resolveException.userErrors, []);
      assert.deepEqual(
        [ex.status, ex.resolution, ex.resolvedBy, typeof ex.resolvedAt],
        ['RESOLVED', 'Posted by hand in the ERP as SO-1234', 'key:demo-operations', 'string'],
      );
      assert.deepEqual(
        (
          await ops(RESOLVE, {
            id: item.id,
            how: 'Posted by hand in the ERP as SO-1234',
            key: 'exq-r1',
          })
        ).data,
        resolved.data,
      );

      // Once resolved, every new action is refused as a userError, the item unchanged.
      const late = [
        (await ops(RESOLVE, { id: item.id, how: 'again', key: 'exq-r2' })).data.resolveException,
        (await ops(ASSIGN, { id: item.id, who: 'Bo', key: 'exq-a2' })).data.assignException,
        (await ops(COMMENT, { id: item.id, text: 'late', key: 'exq-c2' })).data.commentOnException,
      ];
      for (const answer of late) {
        assert.deepEqual(answer.userErrors, [
          {
            code: 'EXCEPTION_RESOLVED',
            field: ['id'],
            message: `Exception item ${item.id} is already resolved`,
          },
        ]);
        assert.equal(answer.exception.assignee, 'Ana (order desk)');
        assert.equal(answer.exception.resolution, 'Posted by hand in the ERP as SO-1234');
      }

      // The ledger has each action once, under the operator, in order.
      assert.deepEqual(await exceptionSteps(placed.id), [
        { step: 'exception:assign', outcome: 'SUCCEEDED', caller: 'key:demo-operations' },
        { step: 'exception:comment', outcome: 'SUCCEEDED', caller: 'key:demo-operations' },
        { step: 'exception:resolve', outcome: 'SUCCEEDED', caller: 'key:demo-operations' },
      ]);
      // ... and the order's timeline shows them.
      const timeline = await ops(`query($id: ID!) { order(id: $id) { timeline { step } } }`, {
        id: placed.globalId,
      });
      const steps = (timeline.data.order.timeline as Json[]).map((t) => t.step as string);
      assert.ok(
        steps.some((s) => s.startsWith('exception:resolve')),
        JSON.stringify(steps),
      );
    } finally {
      stack.sandbox.erp.control.setFaults({ errorRate: 0, methods: null });
    }
  });

  it('a dead letter whose retry succeeds resolves its item by itself', async () => {
    const { placed, letter } = await deadLettered('exq-dead-2', 1);
    stack.sandbox.erp.control.setFaults({ errorRate: 0, methods: null });
    const before = (await items('ORDERS')).find((i) => i.orderId === placed.id);
    assert.equal(before?.status, 'OPEN');
    const replayed = await ops(REPLAY, { id: letter.id, key: 'exq-replay-2' });
    assert.equal(replayed.data.replayDeadLetter.deadLetter.status, 'RESOLVED');
    const afterRetry = (await items('ORDERS')).filter((i) => i.orderId === placed.id);
    assert.equal(afterRetry.length, 1);
    assert.deepEqual(
      [afterRetry[0]?.status, afterRetry[0]?.resolvedBy, afterRetry[0]?.resolution],
      ['RESOLVED', 'system', 'the automatic retry succeeded'],
    );
    // Nobody acted on it: no exception step in the ledger.
    assert.deepEqual(await exceptionSteps(placed.id), []);
  });

  it('an unknown item is EXCEPTION_NOT_FOUND for every action', async () => {
    const id = 'EX-00000000000000000000000000';
    for (const [query, variables, field] of [
      [ASSIGN, { id, who: 'Ana', key: 'exq-nf-a' }, 'assignException'],
      [COMMENT, { id, text: 'hello', key: 'exq-nf-c' }, 'commentOnException'],
      [RESOLVE, { id, how: 'done', key: 'exq-nf-r' }, 'resolveException'],
    ] as const) {
      const { data } = await ops(query, variables);
      assert.deepEqual(data[field], {
        exception: null,
        userErrors: [
          {
            code: 'EXCEPTION_NOT_FOUND',
            field: ['id'],
            message: `No exception item with id ${id}`,
          },
        ],
      });
    }
  });
});

describe('events that matched no order', () => {
  const at = new Date().toISOString();
  const events: readonly (readonly [SourceEvent, string])[] = [
    [
      {
        type: 'invoicePosted',
        id: 'erp:test-unmatched-invoice',
        source: 'erp',
        occurredAt: at,
        invoiceNumber: 'PSI-999999',
        orderNumber: 'SO-999999',
        customerNumber: 'C10001',
        externalDocumentNumber: 'XD-00000000DEADBEEF',
        total: { amount: '10.00', currencyCode: 'USD' },
      },
      'INVOICES',
    ],
    [
      {
        type: 'channelOrder',
        id: 'commerce:test-unmatched-storefront',
        source: 'commerce',
        occurredAt: at,
        change: 'CANCELLED',
        channelOrderId: 'gid://shopify/Order/999999',
        name: '#999999',
        cancelReason: 'customer',
        note: null,
        tags: [],
      },
      'WEBHOOKS',
    ],
    [
      {
        type: 'shipment',
        id: 'wms:test-unmatched-shipment',
        source: 'wms',
        occurredAt: at,
        kind: 'SHIPPED',
        shipment: {
          id: 'wms:999999',
          source: 'wms',
          orderNumber: 'XD-00000000DEADBEEF-EAST-1',
          warehouseCode: 'EAST',
          status: 'SHIPPED',
          carrier: null,
          trackingNumber: null,
          shippedAt: at,
          lines: [],
        },
      },
      'ORDERS',
    ],
  ];

  it("each lands in its owner's queue as UNMATCHED_EVENT, once however often it arrives", async () => {
    for (let delivery = 0; delivery < 3; delivery += 1) {
      await stack.running.ingest.apply(
        events.map(([event]) => event),
        { caller: 'webhook:test', correlationId: `exq-unmatched-${delivery}` },
      );
    }
    const all = await items();
    for (const [event, queue] of events) {
      const fed = all.filter(
        (i) =>
          i.kind === 'UNMATCHED_EVENT' &&
          (i.summary as string).includes(
            event.type === 'invoicePosted'
              ? 'PSI-999999'
              : event.type === 'channelOrder'
                ? '#999999'
                : 'wms:999999',
          ),
      );
      assert.equal(fed.length, 1, `${event.type}: ${JSON.stringify(fed)}`);
      assert.deepEqual([fed[0]?.queue, fed[0]?.status, fed[0]?.orderId], [queue, 'OPEN', null]);
    }
    const invoices = (await ops(LIST, { queue: 'INVOICES', status: 'OPEN' })).data.exceptions
      .nodes as Json[];
    assert.ok(
      invoices.some(
        (i) =>
          i.summary ===
          'Invoice PSI-999999 names order XD-00000000DEADBEEF, which Crossdock does not have',
      ),
      JSON.stringify(invoices),
    );
  });
});

describe('access', () => {
  const refused = ['demo-service', 'demo-storefront', 'demo-portal-c10001', 'demo-partner-a'];
  const documents = [
    ['exceptions', `{ exceptions { nodes { id } } }`],
    [
      'assignException',
      `mutation { assignException(id: "EX-00000000000000000000000000", assignee: "x", idempotencyKey: "exq-acc") { userErrors { code } } }`,
    ],
    [
      'commentOnException',
      `mutation { commentOnException(id: "EX-00000000000000000000000000", text: "x", idempotencyKey: "exq-acc") { userErrors { code } } }`,
    ],
    [
      'resolveException',
      `mutation { resolveException(id: "EX-00000000000000000000000000", resolution: "x", idempotencyKey: "exq-acc") { userErrors { code } } }`,
    ],
  ] as const;
  for (const key of refused) {
    for (const [field, query] of documents) {
      it(`${field} is FORBIDDEN for ${key}`, async () => {
        const res = await stack.gql<Json>(query, {}, { key });
        assert.equal(res.body.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(res.body));
        assert.equal(res.body.data, null);
      });
    }
  }
  it('admin may list them', async () => {
    const res = await stack.gql<Json>(`{ exceptions { nodes { id } } }`, {}, { key: 'demo-admin' });
    assert.equal(res.body.errors, undefined);
  });
});

describe('hostile input', () => {
  const long = (n: number) => 'x'.repeat(n);
  const cases: readonly (readonly [string, string, Json, string])[] = [
    [
      'a comment over 2,000 characters',
      COMMENT,
      { id: 'EX-00000000000000000000000000', text: long(2001), key: 'exq-h1' },
      `text: expected 1 to 2000 characters, got "${long(63)}… (2003 characters)`,
    ],
    [
      'an empty comment',
      COMMENT,
      { id: 'EX-00000000000000000000000000', text: '', key: 'exq-h2' },
      'text: expected 1 to 2000 characters, got ""',
    ],
    [
      'an assignee with a control character',
      ASSIGN,
      { id: 'EX-00000000000000000000000000', who: 'Ana\u0007', key: 'exq-h3' },
      'assignee: expected 1 to 100 characters, not only spaces, without control characters, got "Ana\\u0007"',
    ],
    [
      'an assignee of spaces',
      ASSIGN,
      { id: 'EX-00000000000000000000000000', who: '   ', key: 'exq-h4' },
      'assignee: expected 1 to 100 characters, not only spaces, without control characters, got "   "',
    ],
    [
      'a resolution over 500 characters',
      RESOLVE,
      { id: 'EX-00000000000000000000000000', how: long(501), key: 'exq-h5' },
      `resolution: expected 1 to 500 characters, got "${long(63)}… (503 characters)`,
    ],
    [
      'an id that is not an exception id',
      RESOLVE,
      { id: 'DL-1', how: 'done', key: 'exq-h6' },
      'id: expected an exception item id (EX- and 26 characters), got "DL-1"',
    ],
    ['a page of 251', LIST, { first: 251 }, 'first: expected an integer from 0 to 250, got 251'],
    [
      'a cursor not from this API',
      LIST,
      { after: 'nonsense!' },
      'after: expected a cursor returned by this API (endCursor or an edge cursor), got "nonsense!"',
    ],
  ];
  for (const [what, query, variables, message] of cases) {
    it(`refuses ${what}: BAD_USER_INPUT`, async () => {
      const res = await stack.gql<Json>(query, variables, { key: 'demo-operations' });
      const [error] = res.body.errors ?? [];
      assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(res.body));
      assert.equal(error?.message, message);
    });
  }
});

/**
 * Finding orders by their channel's reference: `orders(filter: { externalReference })` over real
 * HTTP against the embedded sandbox. An order Crossdock placed is found by the reference it was
 * placed with (the ERP keeps Crossdock's order id as its external document number, so it is found
 * through Crossdock's record), including one the ERP does not have yet; an order entered in the
 * ERP is found by its `externalDocumentNumber`, the filter pushed down to the ERP with its quotes
 * doubled; matching is exact; channel-scoped callers find only their channel's orders; a reference
 * that is not one is refused before any system is asked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ERP_SANDBOX } from '../sandbox/credentials.js';
import { erpCompanyUrl, erpToken } from './support/sandbox-api.js';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let stack: Stack;

before(async () => {
  stack = await startStack({
    catalogSize: 30,
    // The order left PENDING_ERP below is not retried while these tests count ERP requests.
    env: {
      POLL_SOURCES: 'none',
      DEAD_LETTER_RETRY_BASE_MS: '3600000',
      DEAD_LETTER_RETRY_MAX_MS: '3600000',
    },
  });
});
after(() => stack?.close());

const BY_REFERENCE = `query($r: String, $first: Int, $after: String, $channel: Channel) {
  orders(first: $first, after: $after, filter: { externalReference: $r, channel: $channel }) {
    nodes { id number channel status externalReference customer { number } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** `orders(filter: { externalReference })` as `key`; the whole answer. */
const byReference = (
  reference: string,
  options: {
    key?: string;
    first?: number;
    after?: string;
    channel?: string;
    correlationId?: string;
  } = {},
) =>
  stack.gql<Json>(
    BY_REFERENCE,
    {
      r: reference,
      first: options.first ?? 10,
      after: options.after ?? null,
      channel: options.channel ?? null,
    },
    {
      key: options.key ?? 'demo-admin',
      headers: options.correlationId ? { 'x-correlation-id': options.correlationId } : {},
    },
  );

/** The routes of the ERP requests made under `correlationId` (background work has its own). */
const erpRoutes = (correlationId: string): string[] =>
  (stack.sandbox.erp.control.stats().byCorrelation[correlationId] ?? []).map((r) => r.route);

/** The orders found, asserting the answer has no error. */
const found = async (reference: string, options: Parameters<typeof byReference>[1] = {}) => {
  const res = await byReference(reference, options);
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  return res.body.data?.orders as { nodes: Json[]; pageInfo: Json };
};

/** Places an order as `key` on `channel` with `reference`; the order as placeOrder answers it. */
async function place(
  key: string,
  channel: string,
  customer: string,
  reference: string,
  idempotencyKey: string,
): Promise<Json> {
  const res = await stack.gql<Json>(
    `mutation($input: PlaceOrderInput!, $k: String!) { placeOrder(input: $input, idempotencyKey: $k) {
       order { id number channel status externalReference customer { number } } userErrors { code message } } }`,
    {
      input: {
        channel,
        customerId: customer,
        externalReference: reference,
        lines: [{ sku: 'SKU-000001', quantity: 1 }],
      },
      k: idempotencyKey,
    },
    { key },
  );
  const placed = res.body.data?.placeOrder as Json | undefined;
  assert.deepEqual(placed?.userErrors, [], JSON.stringify(res.body));
  assert.ok(placed?.order, JSON.stringify(res.body));
  return placed.order as Json;
}

/** Enters a sales order in the ERP itself (as an EDI integration would), with its own reference. */
async function enterInErp(reference: string, channel: string, customer: string): Promise<string> {
  const res = await fetch(`${erpCompanyUrl(stack.sandbox)}/salesOrders`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await erpToken(stack.sandbox)}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      externalDocumentNumber: reference,
      customerNumber: customer,
      crossdockChannel: channel,
      salesOrderLines: [{ lineType: 'Item', lineObjectNumber: 'SKU-000002', quantity: 1 }],
    }),
  });
  const body = (await res.json()) as Json;
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.number as string;
}

/** Sets the sandbox ERP's faults through its control plane (`PUT /_faults`). */
async function erpFaults(faults: Json | null): Promise<void> {
  const res = await fetch(`${stack.sandbox.erp.url}/_faults`, {
    method: faults === null ? 'DELETE' : 'PUT',
    headers: { 'content-type': 'application/json' },
    ...(faults === null ? {} : { body: JSON.stringify(faults) }),
  });
  assert.ok(res.ok, `faults: ${res.status}`);
}

describe('orders placed through Crossdock, by the reference they were placed with', () => {
  const REFERENCE = "MP-O'NEIL-4711";
  let placed: Json;
  before(async () => {
    placed = await place('demo-partner-a', 'MARKETPLACE_A', 'C10004', REFERENCE, 'ref-placed');
  });

  it('finds the order, as the same order placeOrder answered (id, number, status, reference)', async () => {
    assert.equal(placed.externalReference, REFERENCE);
    for (const key of ['demo-admin', 'demo-operations', 'demo-partner-a']) {
      const page = await found(REFERENCE, { key });
      assert.deepEqual(page.nodes, [placed], key);
      assert.equal(page.pageInfo.hasNextPage, false);
    }
  });

  it('is the same order however it is reached: the listing, Customer.orders, its ERP number', async () => {
    const listing = await stack.gql<Json>(
      `{ orders(first: 250, filter: { channel: MARKETPLACE_A }) { nodes { id number externalReference status } } }`,
    );
    const inListing = (listing.body.data?.orders.nodes as Json[]).find(
      (o) => o.number === placed.number,
    );
    assert.deepEqual(inListing, {
      id: placed.id,
      number: placed.number,
      externalReference: REFERENCE,
      status: placed.status,
    });
    const customer = await stack.gql<Json>(
      `{ customer(id: "C10004") { orders(first: 250) { nodes { id number externalReference } } } }`,
    );
    assert.deepEqual(
      (customer.body.data?.customer.orders.nodes as Json[]).find((o) => o.number === placed.number),
      { id: placed.id, number: placed.number, externalReference: REFERENCE },
    );
    const byNumber = await stack.gql<Json>(
      `query($n: ID!) { order(id: $n) { id externalReference } }`,
      {
        n: placed.number,
      },
    );
    assert.deepEqual(byNumber.body.data?.order, { id: placed.id, externalReference: REFERENCE });
  });

  it('matches exactly: another reference, a prefix or another case finds nothing', async () => {
    for (const reference of ['MP-NOWHERE-1', "MP-O'NEIL-471", "mp-o'neil-4711", `${REFERENCE} `]) {
      assert.deepEqual((await found(reference)).nodes, [], reference);
    }
  });

  it("is not found by Crossdock's own id, which the ERP keeps as its external document number", async () => {
    const [, id] = Buffer.from(placed.id, 'base64url').toString('utf8').split(':');
    assert.match(id ?? '', /^XD-[0-9A-F]{16}$/);
    assert.deepEqual((await found(id ?? '', { correlationId: 'ref-xd-id' })).nodes, []);
    assert.deepEqual(erpRoutes('ref-xd-id'), [], 'the ERP is not asked for an XD- reference');
  });

  it("a partner does not find another channel's order by its reference", async () => {
    assert.deepEqual((await found(REFERENCE, { key: 'demo-partner-b' })).nodes, []);
    assert.deepEqual((await found(REFERENCE, { channel: 'WEB' })).nodes, []);
    const refused = await byReference(REFERENCE, {
      key: 'demo-partner-b',
      channel: 'MARKETPLACE_A',
    });
    assert.equal(refused.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });

  it('finds every order a channel sent with the same reference, page by page', async () => {
    const twice = 'MP-SENT-TWICE';
    const first = await place('demo-partner-a', 'MARKETPLACE_A', 'C10005', twice, 'ref-twice-1');
    const second = await place('demo-partner-a', 'MARKETPLACE_A', 'C10005', twice, 'ref-twice-2');
    const numbers = [first.number, second.number].sort();
    const one = await found(twice, { first: 1 });
    assert.deepEqual(
      [one.nodes.map((o) => o.number), one.pageInfo.hasNextPage],
      [[numbers[0]], true],
    );
    const two = await found(twice, { first: 1, after: one.pageInfo.endCursor });
    assert.deepEqual(
      [two.nodes.map((o) => o.number), two.pageInfo.hasNextPage],
      [[numbers[1]], false],
    );
    const none = await found(twice, { first: 0 });
    assert.deepEqual([none.nodes, none.pageInfo.hasNextPage], [[], true]);
  });

  it('finds an order the ERP does not have yet (PENDING_ERP) by its reference', async () => {
    // Writes fail, reads answer: the order is accepted, its posting queued for retry.
    await erpFaults({ errorRate: 1, methods: ['POST'] });
    try {
      const pending = await place(
        'demo-partner-a',
        'MARKETPLACE_A',
        'C10006',
        'MP-PENDING-1',
        'ref-pending',
      );
      assert.equal(pending.status, 'PENDING_ERP');
      assert.deepEqual((await found('MP-PENDING-1')).nodes, [pending]);
    } finally {
      await erpFaults(null);
    }
  });
});

describe('orders entered in the ERP, by their external document number', () => {
  it('finds the order, asking the ERP once with the filter pushed down', async () => {
    const number = await enterInErp('EDI-PO-88001', 'EDI', 'C10003');
    const page = await found('EDI-PO-88001', { first: 5, correlationId: 'ref-pushed-down' });
    assert.deepEqual(
      page.nodes.map((o) => [o.number, o.channel, o.externalReference, o.customer.number]),
      [[number, 'EDI', 'EDI-PO-88001', 'C10003']],
    );
    // One listing request, and the order in its answer: the ERP filtered (its first orders
    // would not hold one entered last); then the order's customer.
    assert.deepEqual(
      erpRoutes('ref-pushed-down').filter((r) => r.endsWith('/salesOrders')),
      [salesOrdersRoute()],
    );
  });

  it('a quote in the reference is quoted as OData wants, never breaking the filter', async () => {
    const number = await enterInErp("EDI-O'BRIEN-7", 'EDI', 'C10003');
    assert.deepEqual(
      (await found("EDI-O'BRIEN-7")).nodes.map((o) => [o.number, o.externalReference]),
      [[number, "EDI-O'BRIEN-7"]],
    );
    // What would widen the filter if it were pasted in unquoted finds nothing and fails nothing.
    for (const hostile of ["x' or number gt '", "' or 1 eq 1 or '", "''", "'"]) {
      assert.deepEqual((await found(hostile)).nodes, [], hostile);
    }
  });

  it("a partner does not find another channel's ERP order by its reference", async () => {
    await enterInErp('EDI-PO-88002', 'EDI', 'C10004');
    assert.equal((await found('EDI-PO-88002')).nodes.length, 1);
    assert.deepEqual((await found('EDI-PO-88002', { key: 'demo-partner-a' })).nodes, []);
    assert.deepEqual((await found('EDI-PO-88002', { key: 'demo-portal-c10001' })).nodes, []);
  });
});

describe('a reference that is not one', () => {
  for (const [name, reference, shown] of [
    ['empty', '', '""'],
    ['36 characters', 'R'.repeat(36), JSON.stringify('R'.repeat(36))],
    ['a NUL', 'MP-1\u0000', '"MP-1\\u0000"'],
    ['a line break', 'MP-1\nMP-2', '"MP-1\\nMP-2"'],
    ['a lone surrogate', 'MP-\ud800', '"MP-\\ud800"'],
  ] as const) {
    it(`is refused BAD_USER_INPUT before any system is asked: ${name}`, async () => {
      const correlationId = `ref-refused-${name.replaceAll(' ', '-')}`;
      const res = await byReference(reference, { correlationId });
      const [error, ...more] = res.body.errors ?? [];
      assert.deepEqual(more, []);
      assert.equal(error?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(error?.extensions?.argument, 'filter.externalReference');
      assert.equal(
        error?.message,
        `filter.externalReference: expected a channel reference of 1 to 35 printable characters, got ${shown}`,
      );
      assert.deepEqual(erpRoutes(correlationId), []);
    });
  }
});

/** The sandbox's route of the ERP's sales order listing. */
const salesOrdersRoute = () =>
  `GET /v2.0/${ERP_SANDBOX.tenant}/${ERP_SANDBOX.environment}/api/v2.0/companies(${ERP_SANDBOX.companyId})/salesOrders`;

/**
 * The role × operation matrix (issue #10): every principal against the root fields, the
 * sensitive nested fields, node(id), mutations naming another tenant's records and subscriptions,
 * each cell with its expected outcome, over real HTTP (and graphql-ws for subscriptions) against
 * the embedded sandbox with the demo keys of each principal.
 *
 * Outcomes: `data` (served), `FORBIDDEN`, `NOT_FOUND` (as an unknown record), `hidden` (the
 * field answers null or an empty list), `none` (a list with no rows), `own` (only the caller's
 * own rows).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO_PARTNER_CUSTOMERS } from '../server/identity.js';
import { startStack, type Stack } from './support/stack.js';
import { collect, wsClients } from './support/ws.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PRINCIPALS = {
  admin: 'demo-admin',
  operations: 'demo-operations',
  service: 'demo-service',
  storefront: 'demo-storefront',
  portal: 'demo-portal-c10001',
  partner: 'demo-partner-a',
} as const;
type Principal = keyof typeof PRINCIPALS;

type Outcome = 'data' | 'FORBIDDEN' | 'NOT_FOUND' | 'hidden' | 'none' | 'own';

interface Cell {
  readonly name: string;
  readonly query: string;
  readonly variables?: () => Json;
  /** Reduces the answer to an outcome. */
  readonly read: (answer: { data: Json | null | undefined; code: string | undefined }) => Outcome;
  readonly expect: Readonly<Record<Principal, Outcome>>;
}

let stack: Stack;
const PARTNER_A_CUSTOMERS: readonly string[] = DEMO_PARTNER_CUSTOMERS['demo-partner-a'];
/** A customer partner B may order for and partner A may not. */
const ONLY_PARTNER_B = DEMO_PARTNER_CUSTOMERS['demo-partner-b'].find(
  (c) => !PARTNER_A_CUSTOMERS.includes(c),
) as string;
const ws = wsClients();
/**
 * Records found before the matrix runs (as admin): an order of MARKETPLACE_A, one of another
 * channel and account, the channel reference of each, an invoice.
 */
const found: {
  orderOfA?: string;
  orderOfOther?: string;
  referenceOfOther?: string;
  invoice?: string;
} = {};
/** The channel reference of the order partner A places before the matrix runs. */
const REFERENCE_OF_A = "MP-MATRIX-O'A";

before(async () => {
  stack = await startStack({ catalogSize: 30, env: { POLL_SOURCES: 'none' } });
  const orders = await stack.gql<Json>(
    `{ orders(first: 200) { nodes { id channel externalReference customer { number } invoices { id } } } }`,
  );
  const nodes = orders.body.data?.orders.nodes as Json[];
  // An order partner A placed through Crossdock: its timeline has ledger entries with callers.
  const customers = await stack.gql<Json>(
    `{ customers(first: 30) { nodes { number creditStatus availableCredit { amount } } } }`,
  );
  const buyer = (customers.body.data?.customers.nodes as Json[]).find(
    (c) =>
      PARTNER_A_CUSTOMERS.includes(c.number) &&
      c.creditStatus === 'OK' &&
      Number(c.availableCredit.amount) > 5_000,
  );
  assert.ok(buyer, "a customer of partner A's with credit");
  const placed = await stack.gql<Json>(
    `mutation($customer: ID!, $reference: String!) { placeOrder(input: { channel: MARKETPLACE_A, customerId: $customer, externalReference: $reference, lines: [{ sku: "SKU-000001", quantity: 1 }] }, idempotencyKey: "matrix-partner-order") { order { id } userErrors { code message } } }`,
    { customer: buyer.number, reference: REFERENCE_OF_A },
    { key: 'demo-partner-a' },
  );
  found.orderOfA = placed.body.data?.placeOrder.order?.id;
  assert.ok(found.orderOfA, JSON.stringify(placed.body));
  const other = nodes.find(
    (o) => o.channel !== 'MARKETPLACE_A' && o.customer?.number !== 'C10001' && o.externalReference,
  );
  found.orderOfOther = other?.id;
  found.referenceOfOther = other?.externalReference;
  found.invoice = nodes.flatMap((o) => o.invoices ?? []).find(Boolean)?.id;
  assert.ok(found.orderOfOther, 'the sandbox has orders of other channels and customers');
  assert.ok(found.referenceOfOther, 'with a channel reference');
});
after(async () => {
  await ws.disposeAll();
  await stack?.close();
});

const code = (a: { code: string | undefined }): Outcome | null =>
  a.code === 'FORBIDDEN' || a.code === 'NOT_FOUND' ? a.code : null;

const ALL_DATA = {
  admin: 'data',
  operations: 'data',
  service: 'data',
  storefront: 'data',
  portal: 'data',
  partner: 'data',
} as const;

const CELLS: readonly Cell[] = [
  {
    name: 'products with list prices',
    query: `{ products(first: 3) { nodes { sku listPrice { amount } } } }`,
    read: (a) => code(a) ?? (a.data?.products.nodes.length === 3 ? 'data' : 'none'),
    expect: ALL_DATA,
  },
  {
    name: 'customers (list)',
    query: `{ customers(first: 10) { nodes { number } } }`,
    read: (a) => {
      const nodes = a.data?.customers?.nodes as Json[] | undefined;
      if (!nodes) return code(a) ?? 'hidden';
      if (nodes.length === 0) return 'none';
      return nodes.every((n) => n.number === 'C10001') && nodes.length === 1 ? 'own' : 'data';
    },
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'data',
      storefront: 'none',
      portal: 'own',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'customer(C10001) with credit, terms and contacts',
    query: `{ customer(id: "C10001") { number creditLimit { amount } paymentTerms email } }`,
    read: (a) =>
      code(a) ?? (a.data?.customer?.creditLimit && a.data.customer.email ? 'data' : 'hidden'),
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'data',
      storefront: 'NOT_FOUND',
      portal: 'data',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: "customer(C10002): another account's",
    query: `{ customer(id: "C10002") { number } }`,
    read: (a) => code(a) ?? 'data',
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'data',
      storefront: 'NOT_FOUND',
      portal: 'NOT_FOUND',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'node(id) of a customer',
    query: `query($id: ID!) { node(id: $id) { id } }`,
    variables: () => ({ id: Buffer.from('Customer:C10002').toString('base64url') }),
    read: (a) => code(a) ?? 'data',
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'data',
      storefront: 'NOT_FOUND',
      portal: 'NOT_FOUND',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: "the customer's credit and contacts on each order (Order.customer)",
    query: `{ orders(first: 50) { nodes { channel customer { number creditLimit { amount } balanceDue { amount } email phone paymentTerms priceGroup } } } }`,
    read: (a) => {
      const nodes = a.data?.orders?.nodes as Json[] | undefined;
      if (!nodes) return code(a) ?? 'hidden';
      if (nodes.length === 0) return 'none';
      const customers = nodes.map((n) => n.customer).filter(Boolean);
      const hidden = customers.every(
        (c) =>
          c.creditLimit === null &&
          c.balanceDue === null &&
          c.email === null &&
          c.phone === null &&
          c.paymentTerms === null &&
          c.priceGroup === null,
      );
      if (hidden) return 'hidden';
      return customers.every((c) => c.number === 'C10001') ? 'own' : 'data';
    },
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'data',
      storefront: 'none',
      portal: 'own',
      partner: 'hidden',
    },
  },
  {
    name: 'invoices with amounts due on each order (Order.invoices)',
    query: `{ orders(first: 200) { nodes { invoices { amountDue { amount } } } } }`,
    read: (a) => {
      const nodes = a.data?.orders?.nodes as Json[] | undefined;
      if (!nodes) return code(a) ?? 'hidden';
      if (nodes.length === 0) return 'none';
      return nodes.some((n) => (n.invoices ?? []).length > 0) ? 'data' : 'hidden';
    },
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'data',
      storefront: 'none',
      portal: 'data',
      partner: 'hidden',
    },
  },
  {
    name: 'an order of another channel or account by id',
    query: `query($id: ID!) { order(id: $id) { id } }`,
    variables: () => ({ id: found.orderOfOther }),
    read: (a) => code(a) ?? 'data',
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'data',
      storefront: 'NOT_FOUND',
      portal: 'NOT_FOUND',
      partner: 'NOT_FOUND',
    },
  },
  {
    name: 'orders(filter.externalReference) of an order of another channel and account',
    query: `query($r: String!) { orders(first: 5, filter: { externalReference: $r }) { nodes { id } } }`,
    variables: () => ({ r: found.referenceOfOther }),
    read: (a) => {
      const nodes = a.data?.orders?.nodes as Json[] | undefined;
      if (!nodes) return code(a) ?? 'hidden';
      return nodes.some((n) => n.id === found.orderOfOther) ? 'data' : 'none';
    },
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'data',
      storefront: 'none',
      portal: 'none',
      partner: 'none',
    },
  },
  {
    name: "orders(filter.externalReference) of the partner's own order",
    query: `query($r: String!) { orders(first: 5, filter: { externalReference: $r }) { nodes { id } } }`,
    variables: () => ({ r: REFERENCE_OF_A }),
    read: (a) => {
      const nodes = a.data?.orders?.nodes as Json[] | undefined;
      if (!nodes) return code(a) ?? 'hidden';
      return nodes.length === 1 && nodes[0]?.id === found.orderOfA ? 'data' : 'none';
    },
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'data',
      storefront: 'none',
      portal: 'none',
      partner: 'data',
    },
  },
  {
    name: "the partner's own order by id, its timeline's callers",
    query: `query($id: ID!) { order(id: $id) { id timeline { caller correlationId } } }`,
    variables: () => ({ id: found.orderOfA }),
    read: (a) => {
      if (!a.data?.order) return code(a) ?? 'hidden';
      const entries = a.data.order.timeline as Json[];
      return entries.every((e) => e.caller === null && e.correlationId === null)
        ? 'hidden'
        : 'data';
    },
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'hidden',
      storefront: 'NOT_FOUND',
      portal: 'NOT_FOUND',
      partner: 'hidden',
    },
  },
  {
    name: "Product.customerPrice(C10002): another customer's price",
    query: `{ product(sku: "SKU-000001") { customerPrice(customerId: "C10002") { unitPrice { amount } } } }`,
    read: (a) => code(a) ?? (a.data?.product?.customerPrice ? 'data' : 'hidden'),
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'data',
      storefront: 'NOT_FOUND',
      portal: 'NOT_FOUND',
      partner: 'hidden',
    },
  },
  {
    name: 'deadLetters',
    query: `{ deadLetters { id } }`,
    read: (a) => code(a) ?? 'data',
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'sourceHealth',
    query: `{ sourceHealth { name } }`,
    read: (a) => code(a) ?? 'data',
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'sourceHealth with its history',
    query: `{ sourceHealth { name history(last: 1) { state } } }`,
    read: (a) => code(a) ?? (Array.isArray(a.data?.sourceHealth?.[0]?.history) ? 'data' : 'hidden'),
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'replayDeadLetter',
    query: `mutation { replayDeadLetter(id: "DL-none", idempotencyKey: "matrix-replay") { userErrors { code } } }`,
    read: (a) => code(a) ?? 'data',
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: "placeOrder for another customer's account (C10002)",
    query: `mutation($key: String!) { placeOrder(input: { channel: B2B_PORTAL, customerId: "C10002", lines: [{ sku: "SKU-000001", quantity: 1 }] }, idempotencyKey: $key) { userErrors { code } } }`,
    variables: () => ({ key: `matrix-${Math.random().toString(36).slice(2)}` }),
    read: (a) => code(a) ?? 'data',
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'data',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'apiKeys (key management)',
    query: `{ apiKeys { id } }`,
    read: (a) => code(a) ?? (a.data?.apiKeys?.length > 0 ? 'data' : 'none'),
    expect: {
      admin: 'data',
      operations: 'FORBIDDEN',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'stepLatency (business views)',
    query: `{ stepLatency(since: "2024-01-01T00:00:00Z", until: "2024-01-02T00:00:00Z") { step count } }`,
    read: (a) => code(a) ?? (Array.isArray(a.data?.stepLatency) ? 'data' : 'hidden'),
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'slaBreaches (business views)',
    query: `{ slaBreaches(since: "2024-01-01T00:00:00Z", until: "2024-01-02T00:00:00Z") { nodes { step } } }`,
    read: (a) => code(a) ?? (a.data?.slaBreaches ? 'data' : 'hidden'),
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'exceptions (exception queues)',
    query: `{ exceptions(queue: ORDERS) { nodes { id } } }`,
    read: (a) => code(a) ?? (a.data?.exceptions ? 'data' : 'hidden'),
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'assignException of an unknown item',
    query: `mutation($key: String!) { assignException(id: "EX-00000000000000000000000000", assignee: "ana", idempotencyKey: $key) { userErrors { code } } }`,
    variables: () => ({ key: `matrix-${Math.random().toString(36).slice(2)}` }),
    read: (a) => code(a) ?? (a.data?.assignException ? 'data' : 'hidden'),
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'commentOnException of an unknown item',
    query: `mutation($key: String!) { commentOnException(id: "EX-00000000000000000000000000", text: "hello", idempotencyKey: $key) { userErrors { code } } }`,
    variables: () => ({ key: `matrix-${Math.random().toString(36).slice(2)}` }),
    read: (a) => code(a) ?? (a.data?.commentOnException ? 'data' : 'hidden'),
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'resolveException of an unknown item',
    query: `mutation($key: String!) { resolveException(id: "EX-00000000000000000000000000", resolution: "done", idempotencyKey: $key) { userErrors { code } } }`,
    variables: () => ({ key: `matrix-${Math.random().toString(36).slice(2)}` }),
    read: (a) => code(a) ?? (a.data?.resolveException ? 'data' : 'hidden'),
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'trace of a correlation ID (what it touched)',
    query: `{ trace(correlationId: "matrix-trace") { correlationId entries { kind } } }`,
    read: (a) => code(a) ?? (a.data?.trace?.correlationId ? 'data' : 'hidden'),
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: 'revokeApiKey of an unknown key',
    query: `mutation($key: String!) { revokeApiKey(input: { id: "nobody" }, idempotencyKey: $key) { userErrors { code } } }`,
    variables: () => ({ key: `matrix-${Math.random().toString(36).slice(2)}` }),
    read: (a) => code(a) ?? (a.data?.revokeApiKey ? 'data' : 'hidden'),
    expect: {
      admin: 'data',
      operations: 'FORBIDDEN',
      service: 'FORBIDDEN',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'FORBIDDEN',
    },
  },
  {
    name: "placeOrder for a customer outside partner A's allow-list (one of partner B's)",
    query: `mutation($key: String!, $c: ID!) { placeOrder(input: { channel: MARKETPLACE_A, customerId: $c, lines: [{ sku: "SKU-000003", quantity: 1 }] }, idempotencyKey: $key) { order { id } userErrors { code } } }`,
    variables: () => ({ key: `matrix-${Math.random().toString(36).slice(2)}`, c: ONLY_PARTNER_B }),
    read: (a) => {
      const placed = a.data?.placeOrder as Json | undefined;
      if (!placed) return code(a) ?? 'hidden';
      if (placed.userErrors.some((e: Json) => e.code === 'CUSTOMER_NOT_FOUND')) return 'NOT_FOUND';
      return placed.order ? 'data' : 'none';
    },
    expect: {
      admin: 'data',
      operations: 'data',
      service: 'data',
      storefront: 'FORBIDDEN',
      portal: 'FORBIDDEN',
      partner: 'NOT_FOUND',
    },
  },
];

describe('no side channels', () => {
  it("a customer outside a partner's allow-list is answered as an unknown one, word for word", async () => {
    const order = (customer: string, idempotencyKey: string) =>
      stack.gql<Json>(
        `mutation($c: ID!, $k: String!) { placeOrder(input: { channel: MARKETPLACE_A, customerId: $c, lines: [{ sku: "SKU-000001", quantity: 1 }] }, idempotencyKey: $k) { order { id } userErrors { code field message } } }`,
        { c: customer, k: idempotencyKey },
        { key: 'demo-partner-a' },
      );
    // Everything but what differs by request (correlation id, idempotency key).
    const answer = async (customer: string, key: string) => {
      const { data, errors, extensions } = (await order(customer, key)).body;
      return { data, errors, cost: extensions?.cost };
    };
    const outside = await answer(ONLY_PARTNER_B, 'side-allow-outside');
    const unknown = await answer('C99999', 'side-allow-unknown');
    assert.deepEqual(
      JSON.parse(JSON.stringify(outside).replaceAll(ONLY_PARTNER_B, 'C99999')),
      JSON.parse(JSON.stringify(unknown)),
    );
    assert.deepEqual(unknown.data?.placeOrder, {
      order: null,
      userErrors: [
        {
          code: 'CUSTOMER_NOT_FOUND',
          field: ['input', 'customerId'],
          message: 'No customer with number C99999',
        },
      ],
    });
    // Partner B may order for the same customer.
    const b = await stack.gql<Json>(
      `mutation($c: ID!) { placeOrder(input: { channel: MARKETPLACE_B, customerId: $c, lines: [{ sku: "SKU-000001", quantity: 1 }] }, idempotencyKey: "side-allow-b") { order { id } userErrors { code } } }`,
      { c: ONLY_PARTNER_B },
      { key: 'demo-partner-b' },
    );
    assert.deepEqual(b.body.data?.placeOrder.userErrors, [], JSON.stringify(b.body));
    assert.ok(b.body.data?.placeOrder.order?.id);
  });

  it("a partner's credit refusal does not quote the customer's figures; service's does", async () => {
    const customers = await stack.gql<Json>(
      `{ customers(first: 30) { nodes { number creditStatus availableCredit { amount } } } }`,
    );
    const tight = (customers.body.data?.customers.nodes as Json[]).find(
      (c) =>
        PARTNER_A_CUSTOMERS.includes(c.number) &&
        c.creditStatus === 'OK' &&
        Number(c.availableCredit.amount) < 100_000,
    );
    assert.ok(tight, 'a customer whose credit a large order exceeds');
    const order = (key: string, idempotencyKey: string) =>
      stack.gql<Json>(
        `mutation($c: ID!, $k: String!) { placeOrder(input: { channel: MARKETPLACE_A, customerId: $c, lines: [{ sku: "SKU-000002", quantity: 99999 }] }, idempotencyKey: $k) { userErrors { code message } } }`,
        { c: tight.number, k: idempotencyKey },
        { key },
      );
    const partner = (await order('demo-partner-a', 'side-credit-partner')).body.data?.placeOrder
      .userErrors as Json[];
    const service = (await order('demo-service', 'side-credit-service')).body.data?.placeOrder
      .userErrors as Json[];
    const credit = (errors: Json[]) => errors.find((e) => e.code === 'CREDIT_LIMIT_EXCEEDED');
    assert.ok(credit(partner) && credit(service), JSON.stringify({ partner, service }));
    assert.equal(credit(partner)?.message, "The order exceeds the customer's available credit");
    assert.match(credit(service)?.message ?? '', /exceeds the credit limit .* of customer/);
  });
});

describe('role × operation matrix', () => {
  for (const cell of CELLS) {
    for (const principal of Object.keys(PRINCIPALS) as Principal[]) {
      it(`${cell.name} as ${principal}: ${cell.expect[principal]}`, async () => {
        const res = await stack.gql<Json>(cell.query, cell.variables?.() ?? {}, {
          key: PRINCIPALS[principal],
        });
        const [error] = res.body.errors ?? [];
        const answer = { data: res.body.data, code: error?.extensions?.code as string | undefined };
        assert.equal(
          cell.read(answer),
          cell.expect[principal],
          JSON.stringify(res.body).slice(0, 400),
        );
      });
    }
  }

  const SUBSCRIPTION = `subscription { customerCreditChanged { customer { number } } }`;
  for (const [principal, outcome] of [
    ['partner', 'FORBIDDEN'],
    ['service', 'data'],
  ] as const) {
    it(
      `customerCreditChanged as ${principal}: ${outcome === 'data' ? 'subscribed' : outcome}`,
      { timeout: 15_000 },
      async () => {
        const client = ws.client(stack, { key: PRINCIPALS[principal] });
        if (outcome === 'FORBIDDEN') {
          const [result] = await collect(client, SUBSCRIPTION, {}, 1);
          assert.equal(result?.errors?.[0]?.extensions?.code, 'FORBIDDEN');
        } else {
          const started = new Promise<void>((resolve) =>
            stack.crossdock.subscriptions.events.once('started', () => resolve()),
          );
          const results = collect(client, SUBSCRIPTION, {}, 1);
          await started;
          await client.dispose();
          await results.catch(() => undefined);
        }
      },
    );
  }
});

/**
 * Bad input, as a table: each case is one request and the exact error it must get.
 * None may answer 500 or crash the server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;

before(async () => {
  // No polling: nothing in the background calls a system while a test counts requests.
  stack = await startStack({ catalogSize: 50, env: { POLL_SOURCES: 'none' } });
});

after(() => stack.close());

interface Case {
  readonly name: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly key?: string | null;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
  readonly message: string | RegExp;
}

// Parse, validation and variable-coercion failures answer 200 in application/json (what these
// requests negotiate: no Accept header), as GraphQL over HTTP says; in
// application/graphql-response+json they answer 400 (graphql-over-http.test.ts).
const cases: Case[] = [
  {
    name: 'syntax error',
    query: '{ product(sku: "SKU-000001") { name }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message: 'Syntax Error: Expected Name, found <EOF>.',
  },
  {
    name: 'unknown field',
    query: '{ product(sku: "SKU-000001") { colour } }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message: 'Cannot query field "colour" on type "Product".',
  },
  {
    name: 'wrong variable type',
    query: 'query($n: Int) { products(first: $n) { nodes { sku } } }',
    variables: { n: 'ten' },
    status: 200,
    code: 'BAD_USER_INPUT',
    message: 'Variable "$n" got invalid value "ten"; Int cannot represent non-integer value: "ten"',
  },
  {
    name: 'missing required variable',
    query: 'query($sku: String!) { product(sku: $sku) { name } }',
    variables: {},
    status: 200,
    code: 'BAD_USER_INPUT',
    message: 'Variable "$sku" of required type "String!" was not provided.',
  },
  {
    name: 'first: -1',
    query: '{ products(first: -1) { nodes { sku } } }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message: 'first: expected an integer from 0 to 250, got -1',
  },
  {
    name: 'first: 100000',
    query: '{ products(first: 100000) { nodes { sku } } }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message: 'first: expected an integer from 0 to 250, got 100000',
  },
  {
    name: 'malformed cursor',
    query: '{ products(first: 5, after: "not-a-cursor!") { nodes { sku } } }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message:
      'after: expected a cursor returned by this API (endCursor or an edge cursor), got "not-a-cursor!"',
  },
  {
    name: 'base64 that is not our cursor',
    query: '{ customers(first: 5, after: "aGVsbG8") { nodes { number } } }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message:
      'after: expected a cursor returned by this API (endCursor or an edge cursor), got "aGVsbG8"',
  },
  {
    name: 'unknown SKU',
    query: '{ product(sku: "SKU-999999") { name } }',
    status: 200,
    code: 'NOT_FOUND',
    message: 'No Product with "SKU-999999"',
  },
  {
    name: 'SKU with spaces',
    query: '{ product(sku: "SKU 1") { name } }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message:
      'sku: expected a SKU of 1 to 64 printable ASCII characters without spaces, got "SKU 1"',
  },
  {
    name: 'empty SKU list',
    query: '{ inventory(skus: []) { sku } }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message: 'skus: expected 1 to 250 SKUs, got "0 SKUs"',
  },
  {
    name: 'unknown SKU in inventory',
    query: '{ inventory(skus: ["SKU-000001", "NOPE-1"]) { sku } }',
    status: 200,
    code: 'NOT_FOUND',
    message: 'No Product with "NOPE-1"',
  },
  {
    name: 'unknown order',
    query: '{ order(id: "SO-999999") { number } }',
    status: 200,
    code: 'NOT_FOUND',
    message: 'No Order with "SO-999999"',
  },
  {
    name: 'garbage order id',
    query: '{ order(id: "%%%") { number } }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message: 'id: expected an Order global ID or key, got "%%%"',
  },
  {
    name: 'ID of the wrong type',
    query: '{ order(id: "UHJvZHVjdDpTS1UtMDAwMDAx") { number } }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message: 'id: expected an Order ID, got "a Product ID (UHJvZHVjdDpTS1UtMDAwMDAx)"',
  },
  {
    name: 'unknown customer',
    query: '{ customer(id: "C99999") { name } }',
    status: 200,
    code: 'NOT_FOUND',
    message: 'No Customer with "C99999"',
  },
  {
    name: 'unknown invoice',
    query: '{ invoice(id: "PSI-1") { number } }',
    status: 200,
    code: 'NOT_FOUND',
    message: 'No Invoice with "PSI-1"',
  },
  {
    name: 'shipment id that is not global',
    query: '{ shipment(id: "wms:1") { status } }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message: 'id: expected a Shipment global ID, got "wms:1"',
  },
  {
    name: 'unknown shipment',
    query: '{ shipment(id: "U2hpcG1lbnQ6d21zOjk5OTk5OQ") { status } }',
    status: 200,
    code: 'NOT_FOUND',
    message: 'No Shipment with "wms:999999"',
  },
  {
    name: 'node id that is not ours',
    query: '{ node(id: "abc") { id } }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message: 'id: expected a global ID returned by this API, got "abc"',
  },
  {
    name: 'bad enum value',
    query: '{ orders(filter: { channel: FAX }) { nodes { number } } }',
    status: 200,
    code: 'BAD_USER_INPUT',
    message: 'Value "FAX" does not exist in "Channel" enum.',
  },
  {
    name: 'partner asking for another channel',
    query: '{ orders(filter: { channel: WEB }) { nodes { number } } }',
    key: 'demo-partner-a',
    status: 200,
    code: 'BAD_USER_INPUT',
    message:
      'filter.channel: expected MARKETPLACE_A (the only channel this key may read), got "WEB"',
  },
  {
    name: 'no API key',
    query: '{ warehouses { code } }',
    key: null,
    status: 401,
    code: 'UNAUTHENTICATED',
    message: 'Missing Authorization header: expected "Bearer <API key>"',
  },
  {
    name: 'unknown API key',
    query: '{ warehouses { code } }',
    key: 'not-a-key',
    status: 401,
    code: 'UNAUTHENTICATED',
    message: 'Unknown API key',
  },
  {
    name: 'basic auth instead of bearer',
    query: '{ warehouses { code } }',
    key: null,
    headers: { authorization: 'Basic Zm9vOmJhcg==' },
    status: 401,
    code: 'UNAUTHENTICATED',
    message:
      'Malformed Authorization header: expected "Bearer <API key>", got 18 characters that are not',
  },
  {
    name: 'sourceHealth for a storefront key',
    query: '{ sourceHealth { name } }',
    key: 'demo-storefront',
    status: 200,
    code: 'FORBIDDEN',
    message: 'Query.sourceHealth is not allowed for role storefront',
  },
];

const send = (c: Case) =>
  stack.gql(c.query, c.variables, {
    ...(c.key === undefined ? {} : { key: c.key }),
    ...(c.headers ? { headers: c.headers } : {}),
  });

describe('bad input', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const res = await send(c);
      assert.equal(res.status, c.status, JSON.stringify(res.body));
      const error = res.body.errors?.[0];
      assert.ok(error, `expected an error, got ${JSON.stringify(res.body)}`);
      assert.equal(error.extensions?.code, c.code);
      if (typeof c.message === 'string') assert.equal(error.message, c.message);
      else assert.match(error.message, c.message);
    });
  }

  it('still serves after every bad request', async () => {
    // Every case, here and all at once: this test does not rely on the others having run.
    const answers = await Promise.all(cases.map(send));
    assert.deepEqual(
      answers.map((res) => res.status),
      cases.map((c) => c.status),
    );
    const res = await stack.gql('{ product(sku: "SKU-000001") { sku } }');
    assert.equal(res.status, 200);
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    assert.deepEqual(res.body.data, { product: { sku: 'SKU-000001' } });
  });

  it('answers a non-JSON body with 400, not 500', async () => {
    const res = await fetch(stack.crossdock.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer demo-admin' },
      body: '{"query": ',
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as {
      errors: { message: string; extensions: { code: string } }[];
    };
    assert.equal(body.errors[0]?.extensions.code, 'BAD_USER_INPUT');
    assert.match(body.errors[0]?.message ?? '', /^Malformed request body: expected JSON/);
  });
});

describe('query limits', () => {
  it('refuses an operation whose estimated cost is over the limit, before running it', async () => {
    stack.resetCounts();
    const res = await stack.gql(
      `{ orders(first: 250) { nodes { lines { product { inventory { warehouse { name } } } } customer { orders(first: 250) { nodes { number } } } } } }`,
    );
    assert.equal(res.status, 400);
    const error = res.body.errors?.[0];
    assert.equal(error?.extensions?.code, 'QUERY_TOO_COMPLEX');
    assert.match(
      error?.message ?? '',
      /^Query cost \d+ exceeds the limit of 50000: ask for smaller pages \(first\) or fewer nested lists$/,
    );
    assert.deepEqual(
      stack.requests(),
      { erp: 0, commerce: 0, wms: 0, tpl: 0 },
      'nothing reached a system',
    );
  });

  it('counts page sizes given as variables', async () => {
    // One document; only the variables make it too costly. With the default page size (20) for
    // both it is well under the limit: were the variables not counted, both would run.
    const query = `query($n: Int!, $m: Int!) { customers(first: $n) { nodes { orders(first: $m) { nodes { number } } } } }`;
    const small = await stack.gql(query, { n: 5, m: 5 });
    assert.equal(small.status, 200);
    assert.equal(small.body.errors, undefined, JSON.stringify(small.body.errors));
    stack.resetCounts();
    const large = await stack.gql(query, { n: 250, m: 250 });
    assert.equal(large.status, 400);
    assert.equal(large.body.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
    assert.deepEqual(stack.requests(), { erp: 0, commerce: 0, wms: 0, tpl: 0 });
    // Counted exactly as the same page sizes written into the document.
    const literal = await stack.gql(
      `{ customers(first: 250) { nodes { orders(first: 250) { nodes { number } } } } }`,
    );
    assert.equal(literal.body.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
    assert.equal(large.body.errors?.[0]?.message, literal.body.errors?.[0]?.message);
  });

  it('refuses a query nested deeper than the limit', async () => {
    let selection = 'number';
    for (let i = 0; i < 8; i++)
      selection = `customer { orders(first: 1) { nodes { ${selection} } } }`;
    const res = await stack.gql(`{ order(id: "SO-100001") { ${selection} } }`);
    assert.equal(res.status, 400);
    assert.equal(res.body.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
    assert.match(res.body.errors?.[0]?.message ?? '', /^Query depth \d+ exceeds the limit of 15$/);
  });

  it('lets introspection through (playgrounds need it)', async () => {
    const res = await stack.gql(
      `{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }`,
    );
    assert.equal(res.body.errors, undefined);
  });
});

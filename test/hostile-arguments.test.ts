/**
 * Arguments within documented ranges (issue #9): every out-of-range argument is answered as the
 * schema describes it or refused as BAD_USER_INPUT naming the argument, never
 * INTERNAL_SERVER_ERROR, and never forwarded to a system to fail there. A table of cases, each
 * with its exact answer and the exact number of calls it made to the ERP and commerce (the
 * systems the listings read; the 3PL is polled in the background, so it is not counted). After
 * each case a normal query still answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let stack: Stack;

before(async () => {
  stack = await startStack({ catalogSize: 50 });
  // Tokens are fetched once and cached: warm them so the counts below are the queries' own.
  const warm = await stack.gql(`{ products(first: 1) { nodes { sku name } } }`);
  assert.equal(warm.body.errors, undefined);
});

after(() => stack.close());

const long = (n: number) => 'x'.repeat(n);

interface Case {
  readonly name: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  /** The whole `data` answered, for cases that succeed. */
  readonly data?: Json;
  /** The one error expected, for cases that are refused. */
  readonly error?: { readonly argument: string; readonly message: string };
  /** Calls made to each system. */
  readonly calls: { readonly erp: number; readonly commerce: number };
}

const RANGE = 'an integer from 0 to 250';
const CASES: readonly Case[] = [
  {
    name: 'products(first: 0): no edges, hasNextPage from a one-item probe',
    query: `{ products(first: 0) { nodes { sku } pageInfo { hasNextPage endCursor } } }`,
    data: { products: { nodes: [], pageInfo: { hasNextPage: true, endCursor: null } } },
    calls: { erp: 1, commerce: 0 },
  },
  {
    name: 'orders(first: 0)',
    query: `{ orders(first: 0) { nodes { number } pageInfo { hasNextPage } } }`,
    data: { orders: { nodes: [], pageInfo: { hasNextPage: true } } },
    calls: { erp: 1, commerce: 0 },
  },
  {
    name: 'customers(first: 0)',
    query: `{ customers(first: 0) { nodes { number } pageInfo { hasNextPage } } }`,
    data: { customers: { nodes: [], pageInfo: { hasNextPage: true } } },
    // A customer page is two ERP calls: customers, and their price groups (pricing API).
    calls: { erp: 2, commerce: 0 },
  },
  {
    name: 'Customer.orders(first: 0)',
    query: `{ customers(first: 1) { nodes { orders(first: 0) { nodes { number } pageInfo { hasNextPage } } } } }`,
    data: { customers: { nodes: [{ orders: { nodes: [], pageInfo: { hasNextPage: true } } }] } },
    calls: { erp: 3, commerce: 0 },
  },
  {
    name: 'products(first: 0) past the last item: hasNextPage false',
    query: `query($a: String) { products(first: 0, after: $a) { nodes { sku } pageInfo { hasNextPage } } }`,
    // The cursor of a SKU after every SKU of the catalogue.
    variables: { a: Buffer.from('v1:SKU-999999').toString('base64url') },
    data: { products: { nodes: [], pageInfo: { hasNextPage: false } } },
    calls: { erp: 1, commerce: 0 },
  },
  ...(['products', 'orders', 'customers'] as const).flatMap((field): Case[] => [
    {
      name: `${field}(first: -1)`,
      query: `{ ${field}(first: -1) { nodes { __typename } } }`,
      error: { argument: 'first', message: `first: expected ${RANGE}, got -1` },
      calls: { erp: 0, commerce: 0 },
    },
    {
      name: `${field}(first: 251)`,
      query: `{ ${field}(first: 251) { nodes { __typename } } }`,
      error: { argument: 'first', message: `first: expected ${RANGE}, got 251` },
      calls: { erp: 0, commerce: 0 },
    },
  ]),
  {
    name: 'Customer.orders(first: 251)',
    query: `{ customers(first: 1) { nodes { orders(first: 251) { nodes { number } } } } }`,
    error: { argument: 'first', message: `first: expected ${RANGE}, got 251` },
    calls: { erp: 2, commerce: 0 },
  },
  {
    name: 'deadLetters(first: -1)',
    query: `{ deadLetters(first: -1) { id } }`,
    error: { argument: 'first', message: `first: expected ${RANGE}, got -1` },
    calls: { erp: 0, commerce: 0 },
  },
  {
    name: 'deadLetters(first: 0)',
    query: `{ deadLetters(first: 0) { id } }`,
    data: { deadLetters: [] },
    calls: { erp: 0, commerce: 0 },
  },
  {
    name: 'products(filter.search) of 101 characters',
    query: `query($s: String) { products(first: 5, filter: { search: $s }) { nodes { sku } } }`,
    variables: { s: long(101) },
    error: {
      argument: 'filter.search',
      message: `filter.search: expected at most 100 characters, got "${long(63)}… (103 characters)`,
    },
    calls: { erp: 0, commerce: 0 },
  },
  {
    name: 'products(filter.search) of 100 characters: searched',
    query: `query($s: String) { products(first: 5, filter: { search: $s }) { nodes { sku } } }`,
    variables: { s: long(100) },
    data: { products: { nodes: [] } },
    calls: { erp: 1, commerce: 0 },
  },
  {
    name: 'products(filter.category) of 21 characters',
    query: `query($s: String) { products(first: 5, filter: { category: $s }) { nodes { sku } } }`,
    variables: { s: long(21) },
    error: {
      argument: 'filter.category',
      message: `filter.category: expected at most 20 characters, got "${long(21)}"`,
    },
    calls: { erp: 0, commerce: 0 },
  },
  {
    name: 'customers(filter.search) of 5,000 characters: refused, quoted cut short',
    query: `query($s: String) { customers(first: 5, filter: { search: $s }) { nodes { number } } }`,
    variables: { s: long(5_000) },
    error: {
      argument: 'filter.search',
      message: `filter.search: expected at most 100 characters, got "${long(63)}… (5002 characters)`,
    },
    calls: { erp: 0, commerce: 0 },
  },
  {
    name: 'orders(filter.externalReference) of 36 characters',
    query: `query($r: String) { orders(first: 5, filter: { externalReference: $r }) { nodes { number } } }`,
    variables: { r: long(36) },
    error: {
      argument: 'filter.externalReference',
      message: `filter.externalReference: expected a channel reference of 1 to 35 printable characters, got "${long(36)}"`,
    },
    calls: { erp: 0, commerce: 0 },
  },
  {
    name: 'orders(filter.externalReference) of 5,000 characters: refused, quoted cut short',
    query: `query($r: String) { orders(first: 5, filter: { externalReference: $r }) { nodes { number } } }`,
    variables: { r: long(5_000) },
    error: {
      argument: 'filter.externalReference',
      message: `filter.externalReference: expected a channel reference of 1 to 35 printable characters, got "${long(63)}… (5002 characters)`,
    },
    calls: { erp: 0, commerce: 0 },
  },
  {
    name: 'orders(filter.externalReference) with an OData injection: searched as a reference, none found',
    query: `query($r: String) { orders(first: 5, filter: { externalReference: $r }) { nodes { number } } }`,
    variables: { r: "x' or number gt '" },
    data: { orders: { nodes: [] } },
    calls: { erp: 1, commerce: 0 },
  },
  {
    name: 'products(after) not a cursor',
    query: `{ products(first: 5, after: "zzz") { nodes { sku } } }`,
    error: {
      argument: 'after',
      message:
        'after: expected a cursor returned by this API (endCursor or an edge cursor), got "zzz"',
    },
    calls: { erp: 0, commerce: 0 },
  },
  {
    name: 'product(sku) of 5,000 characters',
    query: `query($s: String!) { product(sku: $s) { sku } }`,
    variables: { s: long(5_000) },
    error: {
      argument: 'sku',
      message: `sku: expected a SKU of 1 to 64 printable ASCII characters without spaces, got "${long(63)}… (5002 characters)`,
    },
    calls: { erp: 0, commerce: 0 },
  },
  {
    name: 'inventory(skus) of 251 SKUs',
    query: `query($s: [String!]!) { inventory(skus: $s) { sku } }`,
    variables: { s: Array.from({ length: 251 }, (_, i) => `SKU-${i}`) },
    error: { argument: 'skus', message: 'skus: expected 1 to 250 SKUs, got "251 SKUs"' },
    calls: { erp: 0, commerce: 0 },
  },
];

describe('arguments within documented ranges', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      stack.resetCounts();
      const res = await stack.gql<Json>(c.query, c.variables ?? {});
      const { erp, commerce } = stack.requests();
      assert.deepEqual({ erp, commerce }, c.calls, 'calls per system');
      if (c.error) {
        assert.equal(res.body.errors?.length, 1, JSON.stringify(res.body.errors));
        const [error] = res.body.errors ?? [];
        assert.equal(error?.extensions?.code, 'BAD_USER_INPUT');
        assert.equal(error?.extensions?.argument, c.error.argument);
        assert.equal(error?.message, c.error.message);
      } else {
        assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
        assert.deepEqual(res.body.data, c.data);
      }
      const normal = await stack.gql<Json>(`{ products(first: 1) { nodes { sku } } }`);
      assert.equal(normal.body.errors, undefined, 'a normal query still answers');
    });
  }
});

/**
 * Demand control (issue #9): the cost estimate follows the schema's @cost/@listSize weights and
 * walks each fragment once however often it is spread (fragment walks are counted, no timing);
 * tokens, aliases, directives, depth and cost are refused alike over HTTP and graphql-ws with
 * QUERY_TOO_COMPLEX naming what was counted and the limit, before anything reaches a system.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'graphql';
import { buildSchema } from '../server/schema.js';
import { estimate } from '../server/limits.js';
import { startStack, type Stack } from './support/stack.js';
import { wsClient } from './support/ws.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const schema = buildSchema();
const costOf = (query: string, variables: Record<string, unknown> = {}) =>
  estimate(schema, parse(query), undefined, variables);

/** `fragment F0 on Query { ...F1 ...F1 }` … `fragment F<n> on Query { __typename }` (issue #9). */
function nestedSpreads(levels: number, leaf = '__typename'): string {
  const fragments = Array.from(
    { length: levels },
    (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
  );
  return `{ ...F0 } ${fragments.join(' ')} fragment F${levels} on Query { ${leaf} }`;
}

describe('cost estimate', () => {
  it('walks each fragment once however often it is spread (21 levels: 22 walks, not 2^21)', () => {
    const e = costOf(nestedSpreads(21));
    assert.deepEqual(e, { cost: 0, depth: 0, fragmentWalks: 22 });
  });

  it('still counts every spread in the cost: 2^10 spreads of a 1-cost field', () => {
    // Each level doubles the leaf: warehouses is a list of an object type (10 × weight 1).
    const e = costOf(nestedSpreads(10, 'warehouses { code }'));
    assert.deepEqual(e, { cost: 2 ** 10 * 10, depth: 2, fragmentWalks: 11 });
  });

  it('prices fields by @cost and sizes lists by @listSize, slicing arguments and defaults', () => {
    // products: connection 1 + nodes: first × (Product 1 + listPrice @cost 2 + inventory 4 × 1).
    assert.equal(
      costOf(`{ products(first: 5) { nodes { sku listPrice { amount } inventory { onHand } } } }`)
        .cost,
      1 + 5 * (1 + 2 + 4 * 1),
    );
    // The default of `first` (20) when it is omitted; a variable when given.
    assert.equal(costOf(`{ products { nodes { sku } } }`).cost, 1 + 20 * 1);
    assert.equal(
      costOf(`query($n: Int) { products(first: $n) { edges { node { sku } } } }`, { n: 7 }).cost,
      1 + 7 * (1 + 1),
    );
    // Nested connections multiply: customers × orders.
    assert.equal(
      costOf(`{ customers(first: 250) { nodes { orders(first: 250) { nodes { number } } } } }`)
        .cost,
      1 + 250 * (1 + 1 + 250 * 1),
    );
    // An out-of-range page size is counted within range (the resolver refuses it precisely).
    assert.equal(costOf(`{ products(first: 100000) { nodes { sku } } }`).cost, 1 + 250);
    // Scalars and introspection cost nothing.
    assert.equal(costOf(`{ __typename sourceHealth { name } }`).cost, 10);
  });

  it('memoises a fragment per list size it is spread under', () => {
    const e = costOf(
      `{ a: products(first: 2) { ...P } b: products(first: 3) { ...P } c: products(first: 2) { ...P } }
       fragment P on ProductConnection { nodes { sku } }`,
    );
    assert.deepEqual(e, { cost: 3 * 1 + (2 + 3 + 2) * 1, depth: 3, fragmentWalks: 2 });
  });
});

describe('demand limits over HTTP and graphql-ws', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      catalogSize: 20,
      env: {
        MAX_QUERY_TOKENS: '500',
        MAX_QUERY_ALIASES: '3',
        MAX_QUERY_DIRECTIVES: '4',
        MAX_QUERY_DEPTH: '6',
        MAX_QUERY_COST: '1000',
      },
    });
  });
  after(() => stack.close());

  const aliases = `{ a: __typename b: __typename c: __typename d: __typename }`;
  const deep = `{ orders(first: 1) { nodes { customer { orders(first: 1) { nodes { customer { number } } } } } } }`;
  const cases: readonly {
    name: string;
    query: string;
    message: string;
    extensions: Json;
  }[] = [
    {
      name: 'a 100,000-deep document, refused by the lexer before the parser recurses',
      query: `${'{ a'.repeat(100_000)}${' }'.repeat(100_000)}`,
      message: 'Query has more than 500 tokens, the limit',
      extensions: { code: 'QUERY_TOO_COMPLEX', tokens: 'more than 500', limit: 500 },
    },
    {
      name: 'more aliases than allowed',
      query: aliases,
      message: 'Query has 4 aliases, more than the limit of 3',
      extensions: { code: 'QUERY_TOO_COMPLEX', aliases: 4, limit: 3 },
    },
    {
      name: 'aliases counted through fragments, once per spread',
      query: `{ ...A ...A } fragment A on Query { x: __typename y: __typename }`,
      message: 'Query has 4 aliases, more than the limit of 3',
      extensions: { code: 'QUERY_TOO_COMPLEX', aliases: 4, limit: 3 },
    },
    {
      name: 'more directives than allowed',
      query: `{ __typename @include(if: true) @skip(if: false) w: warehouses @include(if: true) { code @skip(if: false) @include(if: true) } }`,
      message: 'Query has 5 directives, more than the limit of 4',
      extensions: { code: 'QUERY_TOO_COMPLEX', directives: 5, limit: 4 },
    },
    {
      name: 'deeper than allowed',
      query: deep,
      message: 'Query depth 7 exceeds the limit of 6',
      extensions: { code: 'QUERY_TOO_COMPLEX', depth: 7, limit: 6 },
    },
    {
      name: 'costlier than allowed',
      query: `{ products(first: 250) { nodes { listPrice { amount } inventory { onHand } } } }`,
      message:
        'Query cost 1751 exceeds the limit of 1000: ask for smaller pages (first) or fewer nested lists',
      extensions: { code: 'QUERY_TOO_COMPLEX', cost: 1 + 250 * (1 + 2 + 4), limit: 1000 },
    },
  ];

  for (const c of cases) {
    it(`HTTP: ${c.name}`, async () => {
      stack.resetCounts();
      const res = await stack.gql(c.query);
      assert.equal(res.status, 400);
      assert.deepEqual(
        res.body.errors?.map((e) => ({ message: e.message, extensions: e.extensions })),
        [{ message: c.message, extensions: c.extensions }],
      );
      assert.deepEqual(stack.requests(), {
        erp: 0,
        commerce: 0,
        wms: 0,
        tpl: stack.requests().tpl,
      });
      const normal = await stack.gql(`{ warehouses { code } }`);
      assert.equal(normal.body.errors, undefined, 'a normal query still answers');
    });

    it(`graphql-ws: ${c.name}`, async () => {
      const client = wsClient(stack);
      try {
        const errors = await new Promise<Json[]>((resolve, reject) => {
          client.subscribe(
            { query: c.query },
            {
              next: (value) => reject(new Error(`answered ${JSON.stringify(value)}`)),
              error: (error) =>
                Array.isArray(error) ? resolve(error as Json[]) : reject(new Error(String(error))),
              complete: () => reject(new Error('completed')),
            },
          );
        });
        assert.deepEqual(
          errors.map((e) => ({ message: e.message, extensions: e.extensions })),
          [{ message: c.message, extensions: c.extensions }],
        );
        // The socket is still usable.
        const ok = await new Promise<Json>((resolve, reject) => {
          client.subscribe(
            { query: `{ warehouses { code } }` },
            { next: resolve, error: reject, complete: () => undefined },
          );
        });
        assert.equal(ok.errors, undefined);
      } finally {
        await client.dispose();
      }
    });
  }
});

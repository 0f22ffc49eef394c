/**
 * Compiled execution (issue #13, server/jit-executor.ts): queries run as functions graphql-jit
 * compiled from their documents must answer exactly as graphql-js does. Two Crossdocks, one
 * compiled (the default) and one with GRAPHQL_EXECUTION=interpreted, each on a sandbox of the
 * same seed world, are asked the same documents in the same order; their status codes, bodies
 * (data, error messages, paths, locations, extensions: all but the correlation ID) and the calls
 * each system served for them must be equal. The documents reach what compiled code does its own
 * way: aliases, fragments (named, inline, on an interface), @skip/@include by variable, variable
 * defaults and coercion errors, lists with error slots, null bubbling into a non-null parent,
 * resolver errors of Crossdock's catalogue, abstract types, introspection, and each system down
 * or answering garbage; and every query of the playground's examples with its persona's key.
 * Each document is asked twice, as a document is compiled when it comes back; `/metrics` shows
 * which engine ran each execution.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { makeExecutableSchema } from '@graphql-tools/schema';
import {
  GraphQLError,
  Kind,
  getIntrospectionQuery,
  parse,
  type DocumentNode,
  type OperationDefinitionNode,
} from 'graphql';
import { EXAMPLES } from '../pages/graphiql/examples.js';
import { DEMO_API_KEY_SECRET, demoEntries, demoKeysOf } from '../server/identity.js';
import { executionGateway } from '../server/jit-executor.js';
import { toGlobalId } from '../resolvers/ids.js';
import { buildWorld, type SeedWorld } from '../sandbox/seed.js';
import { parseScrape } from './support/prometheus.js';
import { startStack, type GqlResponse, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let world: SeedWorld;
let compiled: Stack;
let interpreted: Stack;

const SETTINGS = {
  // Each request reaches commerce (no content cache), nothing polls in the background, and no
  // breaker opens: the two stacks see the same calls whatever the order of the cases.
  CONTENT_CACHE_TTL_MS: '0',
  POLL_SOURCES: 'none',
  BREAKER_VOLUME_THRESHOLD: '1000000',
};

before(async () => {
  world = buildWorld({ catalogSize: 120 });
  [compiled, interpreted] = await Promise.all([
    startStack({ world, env: { ...SETTINGS, GRAPHQL_EXECUTION: 'compiled' } }),
    startStack({ world, env: { ...SETTINGS, GRAPHQL_EXECUTION: 'interpreted' } }),
  ]);
});
after(() => Promise.all([compiled?.close(), interpreted?.close()]));

/** A response without what differs by design between two instances (the correlation ID). */
function comparable(res: GqlResponse<Json>): Json {
  const { extensions: _extensions, ...body } = res.body;
  return {
    status: res.status,
    ...body,
    ...(body.errors
      ? {
          errors: body.errors.map((error) => {
            const { correlationId: _id, ...extensions } = error.extensions ?? {};
            return { ...error, extensions };
          }),
        }
      : {}),
  };
}

interface Case {
  readonly name: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly key?: string;
  /** The operation to run, for documents of several. */
  readonly operationName?: string;
  /** Faults set on one system of both sandboxes for this case only. */
  readonly faults?: {
    system: 'erp' | 'commerce' | 'wms' | 'tpl';
    down?: boolean;
    malformed?: boolean;
  };
  /** What the answer must hold, so that two equally broken answers cannot pass. */
  readonly check: (body: GqlResponse<Json>['body']) => void;
}

const PRODUCT_FIELDS = `id sku name descriptionHtml webStatus category gtin unitOfMeasure blocked
  listPrice { amount currencyCode }
  inventory { sku onHand allocated onHold available source warehouse { id code name kind } }
  availableToPromise
  externalIds { source entity id }`;

const sku = (i: number): string => {
  const product = world.products[i];
  assert.ok(product, `the seed world has a product ${i}`);
  return product.sku;
};

/** The documents both engines answer (see the module comment). */
function cases(): Case[] {
  const invoiced = world.orders.find((order) => order.stage === 'INVOICED');
  assert.ok(invoiced);
  const customer = world.customers[3];
  assert.ok(customer);
  const errorCodes = (body: Json) => (body.errors ?? []).map((e: Json) => e.extensions?.code);
  return [
    {
      name: 'one product with every field',
      query: `query($sku: String!) { product(sku: $sku) { ${PRODUCT_FIELDS} } }`,
      variables: { sku: sku(7) },
      check: (body) => assert.equal(body.data?.product.sku, sku(7)),
    },
    {
      name: 'the storefront page: a list of 50, aliases, named and inline fragments',
      query: `query Page($first: Int!) {
        page: products(first: $first, filter: { includeBlocked: true }) {
          totalCount: nodes { ...Card }
          pageInfo { hasNextPage }
        }
      }
      fragment Card on Product {
        __typename
        title: name
        sku
        ... on Product { price: listPrice { amount } }
        ... on Node { id }
        stock: availableToPromise
        east: availableToPromise(warehouses: ["EAST"])
        inventory(warehouses: ["EAST", "3PL-SOUTH"]) { warehouse { code } available }
      }`,
      variables: { first: 50 },
      check: (body) => assert.equal(body.data?.page.totalCount.length, 50),
    },
    {
      name: '@skip and @include by variable, a variable default',
      query: `query($sku: String!, $stock: Boolean!, $noName: Boolean = true) {
        product(sku: $sku) { sku name @skip(if: $noName) inventory @include(if: $stock) { onHand } }
        again: product(sku: $sku) { availableToPromise @include(if: $stock) sku }
      }`,
      variables: { sku: sku(3), stock: false },
      check: (body) => assert.deepEqual(body.data?.product, { sku: sku(3) }),
    },
    {
      name: 'several roots over every system, with stock of many SKUs',
      query: `query($skus: [String!]!, $order: ID!) {
        inventory(skus: $skus) { sku onHand warehouse { code } }
        warehouses { __typename code kind }
        order(id: $order) {
          id number channel status externalReference orderedAt
          customer { number name }
          lines { sequence sku quantity unitPrice { amount } product { sku name } }
          shipments { id status carrier trackingNumber warehouse { code } order { number } }
          invoices { number status total { amount } }
          timeline { step status source at }
        }
      }`,
      variables: { skus: [sku(1), sku(2), sku(3), sku(40)], order: invoiced.number },
      check: (body) => assert.equal(body.data?.order.number, invoiced.number),
    },
    {
      name: 'a customer and customer prices',
      query: `query($id: ID!, $sku: String!) {
        customer(id: $id) { id number name type paymentTerms priceGroup blocked creditStatus }
        product(sku: $sku) { customerPrice(customerId: $id) { priceGroup discountPercent unitPrice { amount } } }
      }`,
      variables: { id: customer.number, sku: sku(5) },
      check: (body) => assert.equal(body.data?.customer.number, customer.number),
    },
    {
      name: 'abstract types: node() by global IDs of several types',
      query: `query($a: ID!, $b: ID!, $c: ID!) {
        a: node(id: $a) { __typename id ... on Product { sku } }
        b: node(id: $b) { __typename ... on Order { number } }
        c: node(id: $c) { __typename id }
      }`,
      variables: {
        a: toGlobalId('Product', sku(9)),
        b: invoiced.number,
        c: 'not an id',
      },
      check: (body) => assert.ok(body.data && 'a' in body.data),
    },
    {
      name: 'unknown product: NOT_FOUND with a path, data kept for the other root',
      query: `{ missing: product(sku: "NO-SUCH-SKU") { sku } warehouses { code } }`,
      check: (body) => assert.deepEqual(errorCodes(body), ['NOT_FOUND']),
    },
    {
      name: 'a bad argument: BAD_USER_INPUT from the resolver',
      query: `{ product(sku: "has space") { sku } }`,
      check: (body) => assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']),
    },
    {
      name: 'a variable of the wrong type and one missing: graphql-js coercion errors, 400',
      query: `query($sku: String!, $first: Int!) { product(sku: $sku) { sku } products(first: $first) { nodes { sku } } }`,
      variables: { sku: 5 },
      check: (body) => assert.equal(body.errors?.length, 2),
    },
    {
      name: "a field hidden from the caller's role, a root field refused to it",
      query: `query($sku: String!) {
        product(sku: $sku) { sku customerPrice(customerId: "C10004") { unitPrice { amount } } }
        warehouses { code }
      }`,
      variables: { sku: sku(2) },
      key: 'demo-partner-a',
      check: (body) => assert.equal(body.data?.product.customerPrice, null),
    },
    {
      name: 'a root field refused to the caller: null bubbles up to data',
      query: `{ warehouses { code } customers(first: 3) { nodes { number } } }`,
      key: 'demo-partner-a',
      check: (body) => {
        assert.equal(body.data, null);
        assert.equal(body.errors?.length, 1);
      },
    },
    {
      name: 'introspection (what GraphiQL asks)',
      query: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true }),
      check: (body) => assert.ok((body.data?.__schema.types.length ?? 0) > 50),
    },
    {
      name: 'the own WMS down: error slots in lists, null in a nullable scalar',
      query: `query($sku: String!) { product(sku: $sku) { sku inventory { warehouse { code } onHand } availableToPromise } warehouses { code } }`,
      variables: { sku: sku(11) },
      faults: { system: 'wms', down: true },
      check: (body) => assert.ok(errorCodes(body).includes('SOURCE_UNAVAILABLE')),
    },
    {
      name: 'the ERP down: a non-null connection fails, null bubbles to data',
      query: `{ products(first: 5) { nodes { sku listPrice { amount } } } }`,
      faults: { system: 'erp', down: true },
      check: (body) => assert.ok(errorCodes(body).length > 0),
    },
    {
      name: 'the ERP down under a product page from commerce',
      query: `query($sku: String!) { product(sku: $sku) { sku name listPrice { amount } category externalIds { source entity } } }`,
      variables: { sku: sku(12) },
      faults: { system: 'erp', down: true },
      check: (body) => assert.ok(errorCodes(body).includes('SOURCE_UNAVAILABLE')),
    },
    {
      name: 'commerce answering garbage',
      query: `query($sku: String!) { product(sku: $sku) { sku name descriptionHtml listPrice { amount } } }`,
      variables: { sku: sku(13) },
      faults: { system: 'commerce', malformed: true },
      check: (body) => assert.ok(errorCodes(body).length > 0),
    },
    {
      name: 'the 3PL answering garbage to a stock query',
      query: `query($skus: [String!]!) { inventory(skus: $skus) { sku warehouse { code } onHand } }`,
      variables: { skus: [sku(14), sku(15)] },
      faults: { system: 'tpl', malformed: true },
      check: (body) => assert.ok(errorCodes(body).length > 0),
    },
    ...exampleQueries(),
  ];
}

/** Every query operation of the playground's examples (pages/graphiql/examples.ts), with its persona's key. */
function exampleQueries(): Case[] {
  const keys = demoKeysOf(demoEntries(DEMO_API_KEY_SECRET), DEMO_API_KEY_SECRET);
  assert.ok(keys, 'the demo keys authenticate on the embedded default');
  const queries = EXAMPLES.flatMap((example) =>
    parse(example.query)
      .definitions.filter(
        (definition): definition is OperationDefinitionNode =>
          definition.kind === Kind.OPERATION_DEFINITION && definition.operation === 'query',
      )
      .map((operation) => ({
        name: `the playground's example "${example.title}", ${operation.name?.value ?? 'query'}`,
        query: example.query,
        variables: example.variables,
        key: keys[example.persona],
        operationName: operation.name?.value,
        check: (body: GqlResponse<Json>['body']) =>
          assert.equal(body.errors, undefined, JSON.stringify(body.errors)),
      })),
  );
  // The storefront's product page and operations' dead letters at least.
  assert.ok(queries.length >= 2, `${queries.length} example queries`);
  return queries;
}

async function ask(stack: Stack, c: Case): Promise<{ body: Json; calls: Json }> {
  const system = c.faults && stack.sandbox[c.faults.system];
  if (c.faults && system) {
    system.control.setFaults({
      down: c.faults.down ?? false,
      malformed: c.faults.malformed ?? false,
    });
  }
  stack.resetCounts();
  try {
    const res = await fetch(stack.crossdock.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${c.key ?? 'demo-admin'}`,
      },
      body: JSON.stringify({
        query: c.query,
        variables: c.variables,
        operationName: c.operationName,
      }),
    });
    const answer = { status: res.status, headers: res.headers, body: (await res.json()) as never };
    return { body: comparable(answer), calls: stack.requests() };
  } finally {
    system?.control.setFaults({ down: false, malformed: false });
  }
}

async function executions(stack: Stack): Promise<Record<'compiled' | 'interpreted', number>> {
  const res = await fetch(`${new URL(stack.crossdock.url).origin}/metrics`);
  const scrape = parseScrape(await res.text());
  const of = (engine: string) => scrape.value('crossdock_graphql_executions_total', { engine });
  return { compiled: of('compiled'), interpreted: of('interpreted') };
}

describe('compiled execution answers as graphql-js does', () => {
  it('the same status, body and system calls for every case, each run by its own engine', async () => {
    for (const c of cases()) {
      // A document is compiled on its second execution (COMPILE_ON_EXECUTION): the first runs on
      // graphql-js on both stacks, the second compiled on one of them.
      for (const [round, engine] of [
        [1, 'interpreted'],
        [2, 'compiled'],
      ] as const) {
        const name = `${c.name} (execution ${round})`;
        const before = await Promise.all([executions(compiled), executions(interpreted)]);
        const [jit, js] = [await ask(compiled, c), await ask(interpreted, c)];
        try {
          c.check(jit.body);
        } catch (error) {
          throw new Error(`${name}: ${JSON.stringify(jit.body).slice(0, 600)}`, { cause: error });
        }
        assert.deepEqual(jit.body, js.body, `${name}: the answers differ`);
        assert.deepEqual(jit.calls, js.calls, `${name}: the systems served different calls`);
        const after = await Promise.all([executions(compiled), executions(interpreted)]);
        const ran = (i: 0 | 1) => ({
          compiled: after[i].compiled - before[i].compiled,
          interpreted: after[i].interpreted - before[i].interpreted,
        });
        assert.deepEqual(
          ran(0),
          { compiled: engine === 'compiled' ? 1 : 0, interpreted: engine === 'compiled' ? 0 : 1 },
          `${name}: the engine of the compiled stack`,
        );
        assert.deepEqual(
          ran(1),
          { compiled: 0, interpreted: 1 },
          `${name}: the engine of the interpreted stack`,
        );
      }
    }
  });

  it('runs mutations on graphql-js whatever the setting', async () => {
    const before = await executions(compiled);
    const res = await compiled.gql<Json>(
      `mutation($id: ID!) { assignException(id: $id, assignee: "x", idempotencyKey: "compiled-1") { userErrors { code } } }`,
      { id: 'no-such-item' },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const now = await executions(compiled);
    assert.deepEqual(
      [now.compiled - before.compiled, now.interpreted - before.interpreted],
      [0, 1],
    );
  });
});

describe('the compiled documents', () => {
  const schema = makeExecutableSchema({
    typeDefs: 'type Query { n(i: Int!): Int! fails: Int }',
    resolvers: {
      Query: {
        n: (_root: unknown, { i }: { i: number }) => i,
        fails: () => {
          throw new Error('no');
        },
      },
    },
  });

  /** Runs `text` through the gateway's executor as Apollo would, with the document it parsed. */
  async function run(gateway: GatewayInterface, document: DocumentNode, variables = {}) {
    const loaded = await gateway.load({ apollo: { graphRef: '', keyHash: '' } } as never);
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    assert.ok(loaded.executor);
    return loaded.executor({ document, operation, request: { variables }, context: {} } as never);
  }

  it('compiles a document on its second execution and forgets the least recently used', async () => {
    const engines: string[] = [];
    const gateway = executionGateway(schema, {
      compile: true,
      maxDocuments: 2,
      executed: (engine) => engines.push(engine),
    });
    const [a, b, c] = [1, 2, 3].map((i) => parse(`{ n(i: ${i}) }`)) as [
      DocumentNode,
      DocumentNode,
      DocumentNode,
    ];
    for (const document of [a, a, b, b, c, c, a, a]) {
      const result = await run(gateway, document);
      assert.equal(typeof result.data?.['n'], 'number');
    }
    // a was forgotten when c came (two documents kept), so it starts over.
    assert.deepEqual(engines, [
      'interpreted',
      'compiled',
      'interpreted',
      'compiled',
      'interpreted',
      'compiled',
      'interpreted',
      'compiled',
    ]);
  });

  it("answers graphql-js's errors: located, with the resolver's error as the original", async () => {
    const gateway = executionGateway(schema, { compile: true });
    const document = parse('query($i: Int!) { n(i: $i) fails }');
    for (const engine of ['interpreted', 'compiled']) {
      const result = await run(gateway, document, { i: 4 });
      assert.deepEqual({ ...result.data }, { n: 4, fails: null }, engine);
      const [error] = result.errors ?? [];
      assert.ok(error instanceof GraphQLError, engine);
      assert.equal(error.constructor, GraphQLError, engine);
      assert.deepEqual(error.path, ['fails'], engine);
      assert.deepEqual(error.locations, [{ line: 1, column: 28 }], engine);
      assert.equal((error.originalError as Error).message, 'no', engine);
    }
    const refused = await run(gateway, document, { i: 'four' });
    assert.match(refused.errors?.[0]?.message ?? '', /^Variable "\$i" got invalid value "four"/);
  });
});

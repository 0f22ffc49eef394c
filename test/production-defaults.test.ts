/**
 * What production tells clients (issue #9), over HTTP and graphql-ws alike: introspection
 * refused, no field suggestions, system failures named by source and reason only (details in the
 * logs under the correlation ID), and a malformed Authorization header never quoted back. The
 * stack runs on the embedded sandbox (which production refuses at start-up, see config.test.ts),
 * with the settings production defaults to; a stack with the development defaults shows the
 * opposite, so these tests fail if the settings do nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from './support/stack.js';
import { wsClient } from './support/ws.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PRODUCTION_DEFAULTS = {
  GRAPHQL_INTROSPECTION: 'off',
  GRAPHQL_SUGGESTIONS: 'off',
  ERROR_DETAIL: 'redacted',
  POLL_SOURCES: 'none',
};

let hardened: Stack;
let open: Stack;

before(async () => {
  [hardened, open] = await Promise.all([
    startStack({ catalogSize: 20, env: PRODUCTION_DEFAULTS }),
    startStack({ catalogSize: 20, env: { POLL_SOURCES: 'none' } }),
  ]);
});
after(() => Promise.all([hardened.close(), open.close()]));

/** The errors of an operation over graphql-ws. */
async function wsErrors(stack: Stack, query: string): Promise<Json[]> {
  const client = wsClient(stack);
  try {
    return await new Promise<Json[]>((resolve, reject) => {
      client.subscribe(
        { query },
        {
          next: (value) => resolve((value.errors ?? []) as unknown as Json[]),
          error: (error) =>
            Array.isArray(error) ? resolve(error as Json[]) : reject(new Error(String(error))),
          complete: () => undefined,
        },
      );
    });
  } finally {
    await client.dispose();
  }
}

const INTROSPECTION_OFF =
  'GraphQL introspection has been disabled, but the requested query contained the field "__type".';

describe('production defaults over HTTP and graphql-ws', () => {
  it('refuses introspection', async () => {
    const query = `{ __type(name: "Query") { name } }`;
    const res = await hardened.gql(query);
    assert.equal(res.status, 200, 'a validation failure, in application/json');
    assert.deepEqual(
      res.body.errors?.map((e) => [e.message, e.extensions?.code]),
      [[INTROSPECTION_OFF, 'BAD_USER_INPUT']],
    );
    assert.deepEqual(
      (await wsErrors(hardened, query)).map((e) => [e.message, e.extensions?.code]),
      [[INTROSPECTION_OFF, 'BAD_USER_INPUT']],
    );
    const allowed = await open.gql(query);
    assert.deepEqual(allowed.body.data, { __type: { name: 'Query' } });
  });

  it('suggests no field names', async () => {
    const query = `{ productz(sku: "SKU-000001") { sku } }`;
    const expected = 'Cannot query field "productz" on type "Query".';
    const res = await hardened.gql(query);
    assert.deepEqual(
      res.body.errors?.map((e) => e.message),
      [expected],
    );
    assert.deepEqual(
      (await wsErrors(hardened, query)).map((e) => e.message),
      [expected],
    );
    const suggested = await open.gql(query);
    assert.deepEqual(
      suggested.body.errors?.map((e) => e.message),
      [`${expected} Did you mean "product" or "products"?`],
    );
  });

  it('names a failing system by source and reason only', async () => {
    const query = `{ product(sku: "SKU-000001") { sku listPrice { amount } } }`;
    for (const stack of [hardened, open]) stack.sandbox.erp.control.setFaults({ down: true });
    try {
      const res = await hardened.gql<Json>(query);
      assert.deepEqual(res.body.errors, [
        {
          message:
            "erp could not answer (connection_error); details are logged under this response's correlation ID",
          locations: [{ line: 1, column: 36 }],
          path: ['product', 'listPrice'],
          extensions: {
            code: 'SOURCE_UNAVAILABLE',
            source: 'erp',
            reason: 'connection_error',
            breaker: 'CLOSED',
          },
        },
      ]);
      assert.equal(typeof res.body.extensions?.correlationId, 'string');
      const detailed = await open.gql<Json>(query);
      assert.match(detailed.body.errors?.[0]?.message ?? '', /UND_ERR_SOCKET|other side closed/);
    } finally {
      for (const stack of [hardened, open]) stack.sandbox.erp.control.setFaults({ down: false });
    }
  });

  it('never quotes a malformed Authorization header back', async () => {
    const header = 'demo-admin-without-a-scheme';
    for (const stack of [hardened, open]) {
      const res = await stack.gql(
        `{ warehouses { code } }`,
        {},
        {
          key: null,
          headers: { authorization: header },
        },
      );
      assert.equal(res.status, 401);
      assert.deepEqual(
        res.body.errors?.map((e) => [e.message, e.extensions?.code]),
        [
          [
            `Malformed Authorization header: expected "Bearer <API key>", got ${header.length} characters that are not`,
            'UNAUTHENTICATED',
          ],
        ],
      );
      assert.ok(!JSON.stringify(res.body).includes(header));
    }
  });
});

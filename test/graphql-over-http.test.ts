/**
 * GraphQL over HTTP conformance (issue #9): graphql-http's audit of the specification's MUST,
 * SHOULD and MAY rules, run against Crossdock over real HTTP, and the rules Crossdock adds:
 * status codes by media type, mutations refused over GET, Accept and Content-Type negotiation,
 * and CSRF protection that a bearer token satisfies but ambient credentials do not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditServer } from 'graphql-http';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let stack: Stack;
before(async () => {
  stack = await startStack({ catalogSize: 20, env: { POLL_SOURCES: 'none' } });
});
after(() => stack.close());

const withKey = (init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), authorization: 'Bearer demo-admin' },
});

describe('GraphQL over HTTP', () => {
  it('passes every audit of graphql-http (MUST, SHOULD and MAY)', async () => {
    const results = await auditServer({
      url: stack.crossdock.url,
      fetchFn: (input: string | URL | Request, init?: RequestInit) => fetch(input, withKey(init)),
    });
    const failed = results
      .filter((r) => r.status !== 'ok')
      .map((r) => `${r.status} ${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    assert.deepEqual(failed, []);
    assert.ok(results.length >= 60, `${results.length} audits ran`);
  });

  const get = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${stack.crossdock.url}?${new URLSearchParams(params)}`, withKey({ headers }));

  it('answers parse failures 400 in application/graphql-response+json, 200 in application/json', async () => {
    const json = await get({ query: '{' }, { accept: 'application/json' });
    assert.equal(json.status, 200);
    assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
    const gr = await get({ query: '{' }, { accept: 'application/graphql-response+json' });
    assert.equal(gr.status, 400);
    assert.match(gr.headers.get('content-type') ?? '', /^application\/graphql-response\+json/);
  });

  it('serves queries over GET with URL-encoded variables, refuses mutations over GET with 405', async () => {
    const res = await get({
      query: 'query($s: String!) { product(sku: $s) { sku } }',
      variables: JSON.stringify({ s: 'SKU-000001' }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Json;
    // What is left of the budget depends on what this key spent before: only its shape here.
    assert.equal(typeof body.extensions?.cost?.remaining, 'number');
    assert.deepEqual(
      {
        ...body,
        extensions: { ...body.extensions, cost: { ...body.extensions.cost, remaining: 0 } },
      },
      {
        data: { product: { sku: 'SKU-000001' } },
        extensions: {
          correlationId: res.headers.get('x-correlation-id'),
          cost: {
            estimated: 1,
            remaining: 0,
            limit: 1_000_000,
            resetS: body.extensions.cost.resetS,
          },
        },
      },
    );
    const mutation = await get({
      query:
        'mutation { cancelOrder(input: { orderId: "SO-1", reason: "x" }, idempotencyKey: "k") { userErrors { code } } }',
    });
    assert.equal(mutation.status, 405);
    assert.equal(mutation.headers.get('allow'), 'POST');
  });

  it("marks every GraphQL answer Cache-Control: no-store (it is the caller's own data)", async () => {
    const post = (query: string) =>
      fetch(
        stack.crossdock.url,
        withKey({
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        }),
      );
    const answers = {
      'POST data': await post('{ product(sku: "SKU-000001") { sku } }'),
      'POST validation error': await post('{ nope }'),
      'GET data': await get({ query: '{ __typename }' }),
      'GET parse error': await get({ query: '{' }),
    };
    for (const [name, res] of Object.entries(answers)) {
      await res.arrayBuffer();
      assert.equal(res.headers.get('cache-control'), 'no-store', name);
    }
  });

  it('answers 406 when nothing acceptable is asked for, 415 for a body it cannot read', async () => {
    const res = await get({ query: '{ __typename }' }, { accept: 'text/html' });
    assert.equal(res.status, 406);
    const form = await fetch(
      stack.crossdock.url,
      withKey({
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{ __typename }',
      }),
    );
    assert.equal(form.status, 415);
    assert.deepEqual(await form.json(), {
      errors: [
        {
          message: 'Unsupported Content-Type: expected application/json, got "text/plain"',
          extensions: { code: 'BAD_USER_INPUT' },
        },
      ],
    });
  });

  it('needs no preflight header with a bearer token; refuses a simple request without one (CSRF)', async () => {
    const bare = await fetch(
      `${stack.crossdock.url}?query=${encodeURIComponent('{ __typename }')}`,
    );
    assert.equal(bare.status, 400);
    const body = (await bare.json()) as { errors: { message: string }[] };
    assert.match(body.errors[0]?.message ?? '', /cross-site request forgery/i);
    const keyed = await get({ query: '{ __typename }' });
    assert.equal(keyed.status, 200);
  });
});

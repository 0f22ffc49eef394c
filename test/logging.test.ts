/**
 * Logs (issue #11): one line per GraphQL operation, over HTTP and graphql-ws, naming the
 * operation, the principal, the correlation ID, the duration and the outcome; and no secret in
 * any line — API keys (accepted or refused), the key secret, the systems' client secrets and
 * tokens — whatever is logged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redacted } from '../observability/logger.js';
import { captureLogs } from './support/logs.js';
import { COMMERCE_SANDBOX, ERP_SANDBOX } from '../sandbox/credentials.js';
import { apiKeyEnv } from '../server/identity.js';
import { startStack, type Stack } from './support/stack.js';
import { collect, wsClients } from './support/ws.js';

const capture = () => captureLogs('debug');

describe('redaction', () => {
  it('censors sensitive keys in any case, in arrays, three levels down; copies only then', () => {
    const clean = { a: 1, b: { c: [1, { d: 'x' }] } };
    assert.equal(redacted(clean), clean, 'nothing to censor: the same object');
    const given = {
      Authorization: 'Bearer k-1',
      calls: [{ headers: { 'X-Api-Key': 'k-2' } }],
      deep: { one: { two: { password: 'k-3' } } },
    };
    assert.deepEqual(redacted(given), {
      Authorization: '[redacted]',
      calls: [{ headers: { 'X-Api-Key': '[redacted]' } }],
      deep: { one: { two: { password: '[redacted]' } } },
    });
    assert.equal(given.Authorization, 'Bearer k-1', 'the logged object itself is not changed');
    const plainError = new Error('plain');
    assert.equal(redacted({ err: plainError }).err, plainError, 'an error without secrets as is');
    const error = Object.assign(new Error('boom'), { token: 'k-4', code: 'E1' });
    assert.deepEqual(
      { ...(redacted({ err: error }).err as unknown as Record<string, unknown>), stack: null },
      { type: 'Error', message: 'boom', stack: null, token: '[redacted]', code: 'E1' },
    );
  });

  it('censors credentials wherever a logged object carries them', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        headers: { authorization: 'Bearer key-aaaa', cookie: 'sid=bbbb' },
        token: 'tok-cccc',
        source: { clientSecret: 'cs-dddd', access_token: 'at-eeee', password: 'pw-ffff' },
        connectionParams: { authorization: 'Bearer key-gggg' },
        webhookSecret: 'whsec_hhhh',
        kept: 'visible',
      },
      'probe',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee', 'ffff', 'gggg', 'hhhh']) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    assert.equal(lines[0]?.kept, 'visible');
    assert.equal(lines[0]?.headers.authorization, '[redacted]');
  });
});

const SECRET = 'logging-test-key-secret-0123456789abcdef';
const KEY = 'cdk_logging-test-the-key-itself-0001';

describe('one line per operation, and no secret in any line', () => {
  const { lines, logger } = capture();
  let stack: Stack;
  const ws = wsClients();
  before(async () => {
    stack = await startStack({
      catalogSize: 20,
      logger,
      env: {
        POLL_SOURCES: 'none',
        ...apiKeyEnv(SECRET, [{ id: 'web-2026', key: KEY, role: 'admin', client: 'web-shop' }]),
      },
    });
  });
  after(async () => {
    await ws.disposeAll();
    await stack?.close();
  });

  const operations = () => lines.filter((l) => l.msg === 'graphql operation');

  it('logs an HTTP operation with its name, principal, correlation ID, duration and outcome', async () => {
    const res = await stack.gql(
      'query Catalogue { products(first: 2) { nodes { sku } } }',
      {},
      { key: KEY, headers: { 'x-correlation-id': 'log-test-0001' } },
    );
    assert.equal(res.status, 200);
    const line = operations().find((l) => l.correlationId === 'log-test-0001');
    assert.ok(line, JSON.stringify(operations()));
    assert.deepEqual(
      {
        operation: line.operation,
        type: line.type,
        principal: line.principal,
        transport: line.transport,
        outcome: line.outcome,
        level: line.level,
      },
      {
        operation: 'Catalogue',
        type: 'query',
        principal: { id: 'key:web-2026', role: 'admin', client: 'web-shop' },
        transport: 'http',
        outcome: 'ok',
        level: 30,
      },
    );
    assert.equal(typeof line.durationMs, 'number');
  });

  it('logs a failed operation with its error codes, at warn', async () => {
    await stack.gql(
      'query Broken { order(id: "NOPE-1") { id } }',
      {},
      { key: KEY, headers: { 'x-correlation-id': 'log-test-0002' } },
    );
    const line = operations().find((l) => l.correlationId === 'log-test-0002');
    assert.deepEqual([line?.outcome, line?.errorCodes, line?.level], ['error', ['NOT_FOUND'], 40]);
  });

  it('logs a graphql-ws operation the same way', async () => {
    const client = ws.client(stack, { key: KEY, params: { correlationId: 'log-test-ws-01' } });
    const [result] = await collect(client, 'query OverWs { __typename }', {}, 1);
    assert.equal(result?.data?.__typename, 'Query');
    const line = operations().find((l) => l.correlationId === 'log-test-ws-01');
    assert.deepEqual(
      [line?.operation, line?.transport, line?.principal?.id, line?.outcome],
      ['OverWs', 'ws', 'key:web-2026', 'ok'],
    );
  });

  it('never writes a key, the key secret or a system credential', async () => {
    // A refused key, a webhook with a wrong signature, and the work above.
    await stack.gql('{ __typename }', {}, { key: 'cdk_refused-key-that-must-not-be-logged' });
    await fetch(`${stack.crossdock.url.replace('/graphql', '')}/webhooks/commerce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-hmac-sha256': 'AAAA' },
      body: '{}',
    });
    const text = JSON.stringify(lines);
    assert.ok(lines.length > 5, 'something was logged');
    for (const secret of [
      KEY,
      'cdk_refused-key-that-must-not-be-logged',
      SECRET,
      ERP_SANDBOX.clientSecret,
      COMMERCE_SANDBOX.webhookSecret,
    ]) {
      assert.ok(!text.includes(secret), `${secret.slice(0, 12)}… is in a log line`);
    }
  });
});

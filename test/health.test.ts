/**
 * Health (issue #11): `/healthz` answers for the process; `/readyz` answers 200 only while the
 * store and the bus answer, reports each source with its breaker, and says which are degraded.
 * The bus is a NATS server of this test's own (stopped and started again); the store is closed
 * under a running Crossdock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startNatsServer, type NatsServer } from './support/nats.js';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const probe = async (stack: Stack, path: '/healthz' | '/readyz') => {
  const res = await fetch(stack.crossdock.url.replace('/graphql', path));
  return { status: res.status, body: (await res.json()) as Json };
};

describe('/healthz and /readyz on the embedded defaults', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ catalogSize: 10, env: { POLL_SOURCES: 'none' } });
  });
  after(() => stack?.close());

  it('/healthz answers for the process', async () => {
    const { status, body } = await probe(stack, '/healthz');
    assert.equal(status, 200);
    assert.equal(body.status, 'ok');
    assert.equal(typeof body.uptimeS, 'number');
  });

  it('/readyz reports the store, the bus and every source with its breaker', async () => {
    const { status, body } = await probe(stack, '/readyz');
    assert.equal(status, 200);
    assert.equal(body.status, 'ready');
    assert.deepEqual(body.store, { kind: 'sqlite', ok: true });
    assert.deepEqual(body.bus, { kind: 'memory', ok: true });
    assert.deepEqual(
      (body.sources as Json[]).map((s) => [s.name, s.state]),
      [
        ['erp', 'CLOSED'],
        ['commerce', 'CLOSED'],
        ['wms', 'CLOSED'],
        ['tpl', 'CLOSED'],
      ],
    );
    assert.deepEqual(body.degraded, []);
    assert.equal(typeof body.subscriptions.subscribers, 'number');
  });

  it('is not ready once the store is unavailable', async () => {
    await stack.running.store.close();
    const { status, body } = await probe(stack, '/readyz');
    assert.equal(status, 503);
    assert.equal(body.status, 'not_ready');
    assert.equal(body.store.ok, false);
    assert.match(body.store.error, /closed/);
    assert.equal(body.bus.ok, true);
    // The process itself still answers.
    assert.equal((await probe(stack, '/healthz')).status, 200);
  });
});

describe('/readyz with the bus down', () => {
  let nats: NatsServer;
  let stack: Stack;
  before(async () => {
    nats = await startNatsServer({ storeDir: mkdtempSync(join(tmpdir(), 'crossdock-readyz-')) });
    stack = await startStack({
      catalogSize: 10,
      env: { POLL_SOURCES: 'none', NATS_URL: nats.url, NATS_STREAM_PREFIX: 'XDREADY' },
    });
  });
  after(async () => {
    await stack?.close();
    await nats?.stop();
  });

  it('is ready with NATS, not ready while it is away, ready again once it is back', async () => {
    const up = await probe(stack, '/readyz');
    assert.equal(up.status, 200);
    assert.deepEqual(up.body.bus, { kind: 'nats', ok: true });

    await nats.stop();
    const down = await probe(stack, '/readyz');
    assert.equal(down.status, 503);
    assert.equal(down.body.bus.ok, false);
    assert.equal(typeof down.body.bus.error, 'string');
    assert.equal(down.body.store.ok, true);

    await nats.restart();
    // The bus's client reconnects on its own schedule (every 250 ms) and tells nobody: ask as an
    // orchestrator would, bounded (about 220 ms measured here).
    let again = await probe(stack, '/readyz');
    for (let i = 0; i < 100 && again.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      again = await probe(stack, '/readyz');
    }
    assert.equal(again.status, 200, JSON.stringify(again.body));
  });
});

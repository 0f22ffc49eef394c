/**
 * The circuit breaker and timeout of sources/upstream.ts against a real HTTP system:
 * opens under errors, then fails fast without calling the system, lets exactly one probe through
 * when half-open, closes on recovery; a timeout really cancels the upstream request.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { z } from 'zod';
import { createSystemApp, listen, type RunningSystem } from '../sandbox/faults.js';
import { SourceError, type BreakerState } from '../sources/contract.js';
import { createUpstream, type Upstream } from '../sources/upstream.js';

const Pong = z.object({ pong: z.literal(true) });

let system: RunningSystem;

before(async () => {
  const { app, control } = createSystemApp({
    system: 'probe',
    onInjectedError: (res) => void res.status(503).json({ error: 'injected' }),
    onMalformed: (res) => void res.status(200).json({ pong: 'yes' }),
  });
  app.get('/ping', (_req, res) => void res.json({ pong: true }));
  app.get('/text', (_req, res) => void res.type('text/plain').send('not json'));
  app.get('/missing', (_req, res) => void res.status(404).json({ error: 'nope' }));
  system = await listen('probe', app, control, 0);
});

after(() => system.close());

beforeEach(() => {
  system.control.setFaults({ latencyMs: 0, errorRate: 0, down: false, malformed: false });
  system.control.resetStats();
});

function upstream(overrides: Partial<Parameters<typeof createUpstream>[0]> = {}): Upstream {
  return createUpstream({
    name: 'probe',
    kind: 'erp',
    baseUrl: system.url,
    timeoutMs: 500,
    breaker: {
      volumeThreshold: 3,
      errorThresholdPercentage: 50,
      resetTimeoutMs: 60_000,
      rollingWindowMs: 10_000,
    },
    ...overrides,
  });
}

const ping = (u: Upstream) => u.requestOk({ path: 'ping', what: 'ping' }, Pong);

async function rejection(promise: Promise<unknown>): Promise<SourceError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SourceError, `expected a SourceError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

function nextState(u: Upstream): Promise<BreakerState> {
  return new Promise((resolve) => {
    const off = u.onStateChange((state) => {
      off();
      resolve(state);
    });
  });
}

describe('upstream circuit breaker', () => {
  it('answers through a closed breaker and reports latency', async () => {
    const u = upstream();
    assert.deepEqual(await ping(u), { pong: true });
    const health = u.health();
    assert.equal(health.state, 'CLOSED');
    assert.equal(health.requests, 1);
    assert.equal(health.failures, 0);
    assert.equal(typeof health.latencyMs.p50, 'number');
    await u.close();
  });

  it('opens under errors, then fails fast without reaching the system', async () => {
    const u = upstream();
    system.control.setFaults({ errorRate: 1 });
    const opened = nextState(u);
    for (let i = 0; i < 3; i++) {
      const error = await rejection(ping(u));
      assert.equal(error.code, 'SOURCE_UNAVAILABLE');
      assert.equal(error.reason, 'http_503');
      assert.equal(error.source, 'probe');
    }
    assert.equal(await opened, 'OPEN');
    const served = system.control.stats().requests;
    const fast = await rejection(ping(u));
    assert.equal(fast.reason, 'breaker_open');
    assert.equal(fast.breaker, 'OPEN');
    assert.equal(fast.message, 'probe: circuit breaker is OPEN; failing fast without calling ping');
    assert.equal(
      system.control.stats().requests,
      served,
      'an open breaker must not call the system',
    );
    const health = u.health();
    assert.equal(health.state, 'OPEN');
    assert.equal(health.failures, 3);
    assert.equal(health.errorRate, 1);
    assert.match(health.lastError ?? '', /answered HTTP 503/);
    await u.close();
  });

  it('lets exactly one probe through when half-open, and closes when it succeeds', async () => {
    const u = upstream({
      breaker: {
        volumeThreshold: 2,
        errorThresholdPercentage: 50,
        resetTimeoutMs: 50,
        rollingWindowMs: 10_000,
      },
    });
    system.control.setFaults({ errorRate: 1 });
    const opened = nextState(u);
    await rejection(ping(u));
    await rejection(ping(u));
    assert.equal(await opened, 'OPEN');
    system.control.setFaults({ errorRate: 0, latencyMs: 50 });
    const halfOpen = nextState(u);
    assert.equal(await halfOpen, 'HALF_OPEN');
    system.control.resetStats();
    const closed = nextState(u);
    const calls = await Promise.allSettled([ping(u), ping(u), ping(u)]);
    assert.equal(calls.filter((c) => c.status === 'fulfilled').length, 1, 'one probe succeeds');
    for (const call of calls.filter((c) => c.status === 'rejected')) {
      assert.equal(((call as PromiseRejectedResult).reason as SourceError).reason, 'breaker_open');
    }
    assert.equal(system.control.stats().requests, 1, 'only the probe reached the system');
    assert.equal(await closed, 'CLOSED');
    assert.deepEqual(await ping(u), { pong: true });
    await u.close();
  });

  it('opens on a second outage after recovery as quickly as on the first', async () => {
    const u = upstream({
      breaker: {
        volumeThreshold: 3,
        errorThresholdPercentage: 50,
        resetTimeoutMs: 40,
        rollingWindowMs: 60_000,
      },
    });
    const failuresToOpen = async (): Promise<number> => {
      system.control.setFaults({ errorRate: 1 });
      let opened = false;
      const open = nextState(u).then(() => (opened = true));
      let failures = 0;
      while (!opened && failures < 50) {
        await rejection(ping(u));
        failures++;
      }
      await open;
      return failures;
    };
    const first = await failuresToOpen();
    // volumeThreshold 3 and every call failing: the third failure opens it.
    assert.equal(first, 3);
    // While open, callers are rejected: opossum counts those calls in its window.
    for (let i = 0; i < 30; i++) assert.equal((await rejection(ping(u))).reason, 'breaker_open');
    system.control.setFaults({ errorRate: 0 });
    assert.equal(await nextState(u), 'HALF_OPEN');
    const closed = nextState(u);
    await ping(u);
    assert.equal(await closed, 'CLOSED');
    await new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
    const second = await failuresToOpen();
    assert.equal(second, first, 'the rejections of the first outage must not dilute the second');
    await u.close();
  });

  it('reopens when the half-open probe fails', async () => {
    const u = upstream({
      breaker: {
        volumeThreshold: 1,
        errorThresholdPercentage: 50,
        resetTimeoutMs: 30,
        rollingWindowMs: 10_000,
      },
    });
    system.control.setFaults({ errorRate: 1 });
    const opened = nextState(u);
    await rejection(ping(u));
    assert.equal(await opened, 'OPEN');
    assert.equal(await nextState(u), 'HALF_OPEN');
    const reopened = nextState(u);
    const error = await rejection(ping(u));
    assert.equal(error.reason, 'http_503');
    assert.equal(await reopened, 'OPEN');
    await u.close();
  });
});

describe('upstream timeout and failure mapping', () => {
  it('cancels the upstream request when the timeout passes', async () => {
    const u = upstream({ timeoutMs: 50 });
    system.control.setFaults({ latencyMs: 5_000 });
    // Closes either way: aborted by the client, or answered once the 5 s latency has passed.
    const closed = system.control.nextResponseClose();
    const error = await rejection(ping(u));
    assert.equal(error.code, 'SOURCE_TIMEOUT');
    assert.equal(error.message, 'probe: ping timed out after 50 ms');
    await closed;
    assert.equal(system.control.stats().aborted, 1, 'the socket was closed before the answer');
    await u.close();
  });

  it('maps a dropped connection to SOURCE_UNAVAILABLE', async () => {
    const u = upstream();
    system.control.setFaults({ down: true });
    const error = await rejection(ping(u));
    assert.equal(error.code, 'SOURCE_UNAVAILABLE');
    assert.equal(error.reason, 'connection_error');
    await u.close();
  });

  it('maps a refused connection to SOURCE_UNAVAILABLE connection_refused', async () => {
    const closed = await listen(
      'gone',
      createSystemApp({ system: 'gone', onInjectedError: () => {}, onMalformed: () => {} }).app,
      system.control,
      0,
    );
    const url = closed.url;
    await closed.close();
    const u = upstream({ baseUrl: url });
    const error = await rejection(ping(u));
    assert.equal(error.code, 'SOURCE_UNAVAILABLE');
    assert.equal(error.reason, 'connection_refused');
    await u.close();
  });

  it('rejects a body that breaks the schema as SOURCE_BAD_RESPONSE, naming where', async () => {
    const u = upstream();
    system.control.setFaults({ malformed: true });
    const error = await rejection(ping(u));
    assert.equal(error.code, 'SOURCE_BAD_RESPONSE');
    assert.equal(error.reason, 'schema_mismatch');
    assert.match(error.message, /^probe: malformed ping response at pong: /);
    await u.close();
  });

  it('rejects a 2xx body that is not JSON as SOURCE_BAD_RESPONSE', async () => {
    const u = upstream();
    const error = await rejection(u.requestOk({ path: 'text', what: 'text' }, Pong));
    assert.equal(error.code, 'SOURCE_BAD_RESPONSE');
    assert.equal(
      error.message,
      'probe: text answered HTTP 200 with a body that is not JSON: "not json"',
    );
    await u.close();
  });

  it('hands 4xx answers to the connector without counting them as failures', async () => {
    const u = upstream();
    const res = await u.request({ path: 'missing', what: 'missing' }, Pong);
    assert.equal(res.ok, false);
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: 'nope' });
    assert.equal(u.health().failures, 0);
    const error = await rejection(u.requestOk({ path: 'missing', what: 'missing' }, Pong));
    assert.equal(error.code, 'SOURCE_REJECTED');
    await u.close();
  });

  it('refuses to follow a link to another origin', async () => {
    const u = upstream();
    const error = await rejection(
      u.requestOk({ path: 'http://example.invalid/x', what: 'next page' }, Pong),
    );
    assert.equal(error.code, 'SOURCE_BAD_RESPONSE');
    assert.equal(error.reason, 'foreign_origin');
    await u.close();
  });
});

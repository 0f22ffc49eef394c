/**
 * Source health over time (`SourceHealth.history`, observability/health-history.ts). The sampler
 * alone, on a clock and a scheduler of the test's own (no wall time): a tick samples every source,
 * the newest SOURCE_HEALTH_SAMPLES are kept, oldest first, a failing read skips one tick, close
 * stops the ticks; its own timer is unref'd (a process holding only it exits). Then over real
 * HTTP: the ERP made to fail through the sandbox's `PUT /_faults` until its breaker opens, a
 * sample taken with `sampleNow()`, and the history shows the failures and the OPEN state; `last`
 * is bounded; each running Crossdock has a sampler of its own.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import {
  DEFAULT_SOURCE_HEALTH_SAMPLES,
  DEFAULT_SOURCE_HEALTH_SAMPLE_MS,
  createHealthHistory,
  type HealthReading,
} from '../observability/health-history.js';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A scheduler the test drives: `tick()` runs what was scheduled, as an interval would. */
function manualSchedule() {
  const state = { intervalMs: 0, scheduled: 0, cancelled: 0, tick: () => {} };
  return {
    state,
    schedule(tick: () => void, intervalMs: number) {
      state.scheduled++;
      state.intervalMs = intervalMs;
      state.tick = tick;
      return { cancel: () => void state.cancelled++ };
    },
    tick: () => state.tick(),
  };
}

const reading = (name: string, over: Partial<HealthReading> = {}): HealthReading => ({
  name,
  state: 'CLOSED',
  requests: 0,
  failures: 0,
  errorRate: 0,
  latencyMs: { p50: null, p95: null },
  ...over,
});

describe('the health history alone', () => {
  it('samples every source at each tick, at the clock of the tick, oldest first', () => {
    const clock = { now: 1_000 };
    const manual = manualSchedule();
    let readings: HealthReading[] = [reading('erp'), reading('wms')];
    const history = createHealthHistory({
      read: () => readings,
      intervalMs: 250,
      capacity: 5,
      now: () => clock.now,
      schedule: manual.schedule,
    });
    assert.deepEqual([manual.state.scheduled, manual.state.intervalMs], [1, 250]);
    assert.deepEqual(history.history('erp', 5), [], 'nothing before the first tick');
    manual.tick();
    clock.now = 1_250;
    readings = [
      reading('erp', {
        state: 'OPEN',
        requests: 9,
        failures: 6,
        errorRate: 1,
        latencyMs: { p50: 3, p95: 8.5 },
      }),
      reading('wms', { requests: 2, latencyMs: { p50: 1, p95: 2 } }),
    ];
    manual.tick();
    assert.deepEqual(history.history('erp', 5), [
      {
        at: 1_000,
        state: 'CLOSED',
        requests: 0,
        failures: 0,
        errorRate: 0,
        p50Ms: null,
        p95Ms: null,
      },
      { at: 1_250, state: 'OPEN', requests: 9, failures: 6, errorRate: 1, p50Ms: 3, p95Ms: 8.5 },
    ]);
    assert.deepEqual(
      history.history('wms', 1).map((s) => [s.at, s.requests, s.p50Ms]),
      [[1_250, 2, 1]],
    );
    assert.deepEqual(history.history('tpl', 5), [], 'a source never read has no samples');
  });

  it('keeps the newest `capacity` samples of each source, however many were taken', () => {
    let n = 0;
    const history = createHealthHistory({
      read: () => [reading('erp', { requests: ++n })],
      capacity: 3,
      now: () => n,
      schedule: manualSchedule().schedule,
    });
    for (let i = 0; i < 8; i++) history.sampleNow();
    assert.deepEqual(
      history.history('erp', 3).map((s) => s.requests),
      [6, 7, 8],
    );
    assert.deepEqual(
      history.history('erp', 2).map((s) => s.requests),
      [7, 8],
    );
    assert.deepEqual(
      history.history('erp', 100).map((s) => s.requests),
      [6, 7, 8],
    );
    assert.equal(history.capacity, 3);
  });

  it('a reading that throws skips one tick, is reported, and the next tick samples', () => {
    const manual = manualSchedule();
    const errors: unknown[] = [];
    let fail = true;
    const history = createHealthHistory({
      read: () => {
        if (fail) throw new Error('breaker stats unavailable');
        return [reading('erp')];
      },
      now: () => 7,
      schedule: manual.schedule,
      onError: (error) => {
        errors.push(error);
        throw new Error('a reporter that throws too');
      },
    });
    manual.tick();
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['breaker stats unavailable'],
    );
    assert.deepEqual(history.history('erp', 10), []);
    fail = false;
    manual.tick();
    assert.equal(history.history('erp', 10).length, 1);
  });

  it('close stops the ticks, once however often it is called; the samples stay readable', () => {
    const manual = manualSchedule();
    const history = createHealthHistory({
      read: () => [reading('erp')],
      schedule: manual.schedule,
    });
    history.sampleNow();
    history.close();
    history.close();
    assert.equal(manual.state.cancelled, 1);
    assert.equal(history.history('erp', 1).length, 1);
  });

  it('has documented defaults and refuses an interval or capacity that is not a positive integer', () => {
    const manual = manualSchedule();
    const history = createHealthHistory({ read: () => [], schedule: manual.schedule });
    assert.deepEqual(
      [history.intervalMs, history.capacity, manual.state.intervalMs],
      [DEFAULT_SOURCE_HEALTH_SAMPLE_MS, DEFAULT_SOURCE_HEALTH_SAMPLES, 10_000],
    );
    assert.equal(DEFAULT_SOURCE_HEALTH_SAMPLES, 360);
    assert.throws(
      () => createHealthHistory({ read: () => [], intervalMs: 0, schedule: manual.schedule }),
      { message: 'health history: intervalMs: expected an integer of at least 1, got 0' },
    );
    assert.throws(
      () => createHealthHistory({ read: () => [], capacity: 2.5, schedule: manual.schedule }),
      { message: 'health history: capacity: expected an integer of at least 1, got 2.5' },
    );
  });

  it(
    'ticks on its own timer, which does not keep a process alive (unref)',
    { timeout: 20_000 },
    async () => {
      // A process that never closes its sampler: it reads every 5 ms, prints how often it read
      // after 200 ms, and must then exit by itself.
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `const { createHealthHistory } = await import('./observability/health-history.ts');
         let reads = 0;
         createHealthHistory({ read: () => (reads++, []), intervalMs: 5 });
         setTimeout(() => console.log(reads), 200);`,
        ],
        {
          cwd: new URL('..', import.meta.url),
          stdio: ['ignore', 'pipe', 'inherit'],
          // A timer that kept it alive would keep it alive for ever: killed then, exit code null.
          signal: AbortSignal.timeout(15_000),
        },
      );
      child.on('error', () => undefined);
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 0);
      assert.ok(Number(out) > 0, `it ticked: ${out}`);
    },
  );
});

describe('SourceHealth.history over HTTP', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      catalogSize: 10,
      env: {
        POLL_SOURCES: 'none',
        // The fewest samples allowed, so the bound of `last` is cheap to reach.
        SOURCE_HEALTH_SAMPLES: '60',
        // The ERP breaker opens after two failed calls and stays open for the test.
        ERP_BREAKER_VOLUME_THRESHOLD: '2',
        ERP_BREAKER_RESET_MS: '3600000',
      },
    });
  });
  after(() => stack?.close());

  const HISTORY = `query($last: Int) { sourceHealth { name state failures history(last: $last) {
    at state requests failures errorRate p50Ms p95Ms } } }`;
  const historyOf = async (name: string, last = 60) => {
    const res = await stack.gql<Json>(HISTORY, { last });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const source = (res.body.data?.sourceHealth as Json[]).find((s) => s.name === name);
    assert.ok(source, name);
    return source.history as Json[];
  };
  const faults = (body: Json | null) =>
    fetch(`${stack.sandbox.erp.url}/_faults`, {
      method: body === null ? 'DELETE' : 'PUT',
      headers: { 'content-type': 'application/json' },
      ...(body === null ? {} : { body: JSON.stringify(body) }),
    });

  it('shows the failures and the OPEN state of a system made to fail', async () => {
    stack.crossdock.healthHistory.sampleNow();
    const [calm] = await historyOf('erp');
    assert.deepEqual(
      [calm?.state, calm?.failures, calm?.errorRate, calm?.p50Ms, calm?.p95Ms],
      ['CLOSED', 0, 0, null, null],
      'a sample before any call: no failures, no latency',
    );
    assert.ok(Date.parse(calm?.at) > 0, 'at is a DateTime');

    assert.equal((await faults({ down: true })).status, 200);
    // Prices are the ERP's: each query is one call that fails, until the breaker opens.
    let breaker = '';
    for (let i = 0; i < 10 && breaker !== 'OPEN'; i++) {
      const res = await stack.gql<Json>(`{ product(sku: "SKU-000001") { listPrice { amount } } }`);
      breaker = String(res.body.errors?.[0]?.extensions?.breaker ?? '');
    }
    assert.equal(breaker, 'OPEN');
    stack.crossdock.healthHistory.sampleNow();
    const erp = stack.crossdock.sources.erp.health();
    const samples = await historyOf('erp');
    assert.equal(samples.length, 2);
    const [, failing] = samples;
    assert.ok(failing);
    const { at, ...sampled } = failing;
    assert.deepEqual(sampled, {
      state: 'OPEN',
      requests: erp.requests,
      failures: erp.failures,
      errorRate: 1,
      p50Ms: erp.latencyMs.p50,
      p95Ms: erp.latencyMs.p95,
    });
    assert.ok(erp.failures >= 2, `failures counted: ${erp.failures}`);
    assert.ok(Date.parse(at) >= Date.parse(calm?.at), 'oldest first');
    // The other systems were sampled alike, and stayed healthy.
    assert.deepEqual(
      (await historyOf('wms')).map((s) => [s.state, s.failures]),
      [
        ['CLOSED', 0],
        ['CLOSED', 0],
      ],
    );
    assert.equal((await faults(null)).status, 200);
  });

  it('answers the newest `last` samples, at most SOURCE_HEALTH_SAMPLES kept', async () => {
    for (let i = 0; i < 65; i++) stack.crossdock.healthHistory.sampleNow();
    const all = await historyOf('erp', 60);
    assert.equal(all.length, 60);
    assert.deepEqual(await historyOf('erp', 3), all.slice(-3));
    const byDefault = await stack.gql<Json>(`{ sourceHealth { history { at } } }`);
    assert.equal(byDefault.body.data?.sourceHealth[0].history.length, 60, 'last: 60 by default');
  });

  for (const last of [0, -1, 61, 2_147_483_647]) {
    it(`refuses last: ${last} as BAD_USER_INPUT naming the bound`, async () => {
      const res = await stack.gql<Json>(HISTORY, { last });
      const errors = res.body.errors ?? [];
      assert.ok(errors.length > 0);
      for (const error of errors) {
        assert.equal(error.extensions?.code, 'BAD_USER_INPUT');
        assert.equal(error.extensions?.argument, 'last');
        assert.equal(error.message, `last: expected an integer from 1 to 60, got ${last}`);
      }
    });
  }

  it('stops sampling when its Crossdock closes', async () => {
    const closing = await startStack({
      catalogSize: 10,
      env: { POLL_SOURCES: 'none', SOURCE_HEALTH_SAMPLE_MS: '100' },
    });
    closing.crossdock.healthHistory.sampleNow();
    await closing.close();
    const taken = closing.crossdock.healthHistory.history('erp', 360).length;
    // Nothing may happen: an expiring wait of five intervals, then the same samples.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(closing.crossdock.healthHistory.history('erp', 360).length, taken);
  });

  it('each running Crossdock samples its own sources', async () => {
    const other = await startStack({ catalogSize: 10, env: { POLL_SOURCES: 'none' } });
    try {
      const before = stack.crossdock.healthHistory.history('erp', 60).length;
      other.crossdock.healthHistory.sampleNow();
      assert.equal(other.crossdock.healthHistory.history('erp', 60).length, 1);
      assert.equal(stack.crossdock.healthHistory.history('erp', 60).length, before);
    } finally {
      await other.close();
    }
  });
});

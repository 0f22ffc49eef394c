/**
 * Business views (issue #11, item 7), end to end over real HTTP against the sandbox systems:
 * orders are placed on two channels (two while the WMS is slow), then `stepLatency` grouped by
 * step, channel and warehouse must agree with the orders' own ledgers — counts, and p50/p95 by
 * the pure module's nearest-rank definition (test/latency.test.ts) — and `slaBreaches` must list
 * exactly the ledger's steps slower than their SLA_STEP_MS threshold, page by page. A window
 * too wide, or holding more entries than LEDGER_WINDOW_MAX_ENTRIES, is BAD_USER_INPUT; every
 * non-operator is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LedgerEntry } from '../store/contract.js';
import { percentile } from '../workflows/latency.js';
import { placeOrder, stockedRow, type PlacedOrder } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Reservations over 25 ms breach; the WMS is made 40 ms slow for two orders. */
const SLA = { 'reserve:*': 25, 'post:erp': 60_000 };

let stack: Stack;
let since: string;
let until: string;
const placed: { order: PlacedOrder; channel: string }[] = [];

before(async () => {
  stack = await startStack({
    env: { SLA_STEP_MS: JSON.stringify(SLA), POLL_SOURCES: 'none' },
  });
  since = new Date(Date.now() - 1_000).toISOString();
  const world = stack.sandbox.world;
  const wanted = [
    { channel: 'B2B_PORTAL', skip: 0 },
    { channel: 'B2B_PORTAL', skip: 1, slow: true },
    { channel: 'INSIDE_SALES', skip: 2 },
    { channel: 'INSIDE_SALES', skip: 3, slow: true },
  ];
  for (const [i, w] of wanted.entries()) {
    if (w.slow) stack.sandbox.wms.control.setFaults({ latencyMs: 40 });
    try {
      const order = await placeOrder(stack, `views-${i}`, {
        channel: w.channel,
        stock: stockedRow(world, { skip: w.skip }),
      });
      placed.push({ order, channel: w.channel });
    } finally {
      stack.sandbox.wms.control.setFaults({ latencyMs: 0 });
    }
  }
  until = new Date(Date.now() + 1_000).toISOString();
});
after(() => stack.close());

/** Runs a document as demo-operations; fails on GraphQL errors. */
async function ops(query: string, variables: Json): Promise<Json> {
  const res = await stack.gql<Json>(query, variables, { key: 'demo-operations' });
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  return res.body.data ?? {};
}

/** The measured steps of the placed orders, from their own ledgers, with channel and warehouse. */
async function measured(): Promise<
  { entry: LedgerEntry & { durationMs: number }; channel: string; warehouse: string }[]
> {
  const rows = [];
  for (const { order, channel } of placed) {
    const entries = await stack.running.store.ledger.list(order.id);
    // Each order ships from one warehouse here: the one its reservation names.
    const reserve = entries.find((e) => e.step.startsWith('reserve:'));
    assert.ok(reserve, `order ${order.id} reserved`);
    const warehouse = reserve.step.slice('reserve:'.length);
    for (const entry of entries) {
      if (entry.durationMs === null) continue;
      rows.push({ entry: entry as LedgerEntry & { durationMs: number }, channel, warehouse });
    }
  }
  return rows;
}

const threshold = (step: string): number | null =>
  step.startsWith('reserve:') ? SLA['reserve:*'] : step === 'post:erp' ? SLA['post:erp'] : null;

const LATENCY = `query($since: DateTime!, $until: DateTime, $groupBy: [LatencyDimension!]) {
  stepLatency(since: $since, until: $until, groupBy: $groupBy) {
    step channel warehouse count p50Ms p95Ms breaches thresholdMs } }`;

describe('stepLatency', () => {
  it('by step, channel and warehouse: counts, p50/p95 and breaches as the ledgers say', async () => {
    const rows = await measured();
    assert.ok(rows.length >= placed.length * 2, 'a reservation and an ERP post per order');
    const groups = new Map<string, number[]>();
    for (const { entry, channel, warehouse } of rows) {
      const key = JSON.stringify([entry.step, channel, warehouse]);
      groups.set(key, [...(groups.get(key) ?? []), entry.durationMs]);
    }
    const expected = [...groups.entries()]
      .map(([key, durations]) => {
        const [step, channel, warehouse] = JSON.parse(key) as [string, string, string];
        const limit = threshold(step);
        return {
          step,
          channel,
          warehouse,
          count: durations.length,
          p50Ms: percentile(durations, 50),
          p95Ms: percentile(durations, 95),
          breaches: durations.filter((d) => limit !== null && d > limit).length,
          thresholdMs: limit,
        };
      })
      .sort(
        (a, b) =>
          a.step.localeCompare(b.step) ||
          a.channel.localeCompare(b.channel) ||
          a.warehouse.localeCompare(b.warehouse),
      );
    const data = await ops(LATENCY, { since, until, groupBy: ['STEP', 'CHANNEL', 'WAREHOUSE'] });
    assert.deepEqual(data.stepLatency, expected);
    // The slow order's reservation is over its 25 ms.
    assert.ok(
      expected.some((r) => r.step.startsWith('reserve:') && r.breaches > 0),
      JSON.stringify(expected),
    );
  });

  it('by step only (the default): one row per step, the rest null', async () => {
    const rows = await measured();
    const steps = [...new Set(rows.map((r) => r.entry.step))].sort();
    const data = await ops(LATENCY, { since, until });
    assert.deepEqual(
      data.stepLatency.map((r: Json) => [r.step, r.channel, r.warehouse, r.count]),
      steps.map((step) => [step, null, null, rows.filter((r) => r.entry.step === step).length]),
    );
    for (const row of data.stepLatency as Json[]) {
      const durations = rows
        .filter((r) => r.entry.step === row.step)
        .map((r) => r.entry.durationMs);
      assert.deepEqual(
        [row.p50Ms, row.p95Ms],
        [percentile(durations, 50), percentile(durations, 95)],
      );
    }
  });

  it('a window before the orders has no rows', async () => {
    const data = await ops(LATENCY, {
      since: '2020-01-01T00:00:00Z',
      until: '2020-01-02T00:00:00Z',
      groupBy: ['CHANNEL'],
    });
    assert.deepEqual(data.stepLatency, []);
  });
});

const BREACHES = `query($since: DateTime!, $until: DateTime, $first: Int, $after: String) {
  slaBreaches(since: $since, until: $until, first: $first, after: $after) {
    nodes { orderId step durationMs thresholdMs correlationId order { id } }
    pageInfo { hasNextPage endCursor } } }`;

describe('slaBreaches', () => {
  it('lists exactly the ledger steps over their threshold, oldest first, one page at a time', async () => {
    const expected = (await measured())
      .map((r) => r.entry)
      .filter((e) => {
        const limit = threshold(e.step);
        return limit !== null && e.durationMs > limit;
      })
      .sort((a, b) => a.at - b.at || a.seq - b.seq)
      .map((e) => ({
        orderId: e.orderId,
        step: e.step,
        durationMs: e.durationMs,
        thresholdMs: threshold(e.step),
        correlationId: e.correlationId,
      }));
    assert.ok(expected.length >= 2, 'the slow reservations');
    const seen: Json[] = [];
    let after: string | null = null;
    for (let page = 0; page < 50; page += 1) {
      const data = await ops(BREACHES, { since, until, first: 1, after });
      const { nodes, pageInfo } = data.slaBreaches;
      for (const node of nodes as Json[]) {
        const { order, ...rest } = node;
        assert.ok(order?.id, 'the order is loaded');
        seen.push(rest);
      }
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    assert.deepEqual(seen, expected);
  });
});

describe('bounds and access', () => {
  const refusals: readonly (readonly [string, Json, string])[] = [
    [
      'until before since',
      { since: '2024-01-02T00:00:00Z', until: '2024-01-01T00:00:00Z' },
      'until: expected a time after since (2024-01-02T00:00:00.000Z), got "2024-01-01T00:00:00.000Z"',
    ],
    [
      'a window over 31 days',
      { since: '2024-01-01T00:00:00Z', until: '2024-03-01T00:00:00Z' },
      'since: expected a window of at most 31 days before until, got "2024-01-01T00:00:00.000Z"',
    ],
  ];
  for (const [what, variables, message] of refusals) {
    it(`refuses ${what}: BAD_USER_INPUT`, async () => {
      for (const query of [LATENCY, BREACHES]) {
        const res = await stack.gql<Json>(query, variables, { key: 'demo-operations' });
        assert.equal(res.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
        assert.equal(res.body.errors?.[0]?.message, message);
      }
    });
  }

  it('a window holding more than LEDGER_WINDOW_MAX_ENTRIES entries is refused, naming the limit', async () => {
    const small = await startStack({
      env: { LEDGER_WINDOW_MAX_ENTRIES: '2', POLL_SOURCES: 'none' },
    });
    try {
      const from = new Date(Date.now() - 1_000).toISOString();
      await placeOrder(small, 'views-small', {
        stock: stockedRow(small.sandbox.world, { skip: 4 }),
      });
      for (const query of [LATENCY, BREACHES]) {
        const res = await small.gql<Json>(query, { since: from }, { key: 'demo-operations' });
        const [error] = res.body.errors ?? [];
        assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(res.body));
        assert.equal(
          error?.message,
          'since: expected a window of at most 2 ledger entries, got more; narrow since and until',
        );
        assert.equal(error?.extensions?.limit, 2);
      }
    } finally {
      await small.close();
    }
  });

  for (const key of ['demo-service', 'demo-storefront', 'demo-portal-c10001', 'demo-partner-a']) {
    it(`stepLatency and slaBreaches are FORBIDDEN for ${key}`, async () => {
      for (const query of [LATENCY, BREACHES]) {
        const res = await stack.gql<Json>(query, { since }, { key });
        assert.equal(res.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      }
    });
  }
});

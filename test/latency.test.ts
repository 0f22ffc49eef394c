/**
 * The pure latency module (workflows/latency.ts), case by case: the nearest-rank percentile the
 * business views answer with, which SLA threshold applies to a step, and the grouping of
 * measured steps into rows with their breaches.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isSlaPattern,
  latencyRows,
  percentile,
  slaThresholdOf,
  type MeasuredStep,
} from '../workflows/latency.js';

describe('percentile (nearest rank: the value at rank ⌈p/100 × n⌉ of the sorted values)', () => {
  const cases: readonly (readonly [readonly number[], number, number | null])[] = [
    [[], 50, null],
    [[7], 50, 7],
    [[7], 95, 7],
    [[1, 2], 50, 1],
    [[2, 1], 95, 2],
    [[1, 2, 3], 50, 2],
    [[1, 2, 3, 4], 50, 2],
    [[4, 3, 2, 1], 95, 4],
    [Array.from({ length: 20 }, (_, i) => i + 1), 95, 19],
    // 0.95 × 11 = 10.45: rank 11, the largest (rounding would say 10; interpolation 10.5).
    [Array.from({ length: 11 }, (_, i) => i + 1), 95, 11],
    [Array.from({ length: 20 }, (_, i) => i + 1), 50, 10],
    [Array.from({ length: 100 }, (_, i) => 100 - i), 95, 95],
    [Array.from({ length: 101 }, (_, i) => i), 50, 50],
    [[5, 5, 5, 100], 50, 5],
    [[0.5, 1.25, 10], 95, 10],
    [[3, 1, 2], 100, 3],
  ];
  for (const [values, p, expected] of cases) {
    it(`p${p} of [${values.length > 6 ? `${values.length} values` : values.join(', ')}] is ${expected}`, () => {
      assert.equal(percentile(values, p), expected);
    });
  }
  it('refuses p outside (0, 100]', () => {
    for (const p of [0, -1, 101, Number.NaN]) {
      assert.throws(() => percentile([1], p), RangeError);
    }
  });
  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    assert.deepEqual(values, [3, 1, 2]);
  });
});

describe('slaThresholdOf: an exact step wins, then the longest prefix*', () => {
  const thresholds = [
    { pattern: '*', ms: 5000 },
    { pattern: 'reserve:*', ms: 1000 },
    { pattern: 'reserve:3PL*', ms: 3000 },
    { pattern: 'reserve:EAST', ms: 500 },
    { pattern: 'post:erp', ms: 2000 },
  ];
  const cases: readonly (readonly [string, number | null])[] = [
    ['post:erp', 2000],
    ['reserve:EAST', 500],
    ['reserve:WEST', 1000],
    ['reserve:3PL-SOUTH', 3000],
    ['release:EAST', 5000],
    ['post:erpx', 5000],
  ];
  for (const [step, expected] of cases) {
    it(`${step} → ${expected}`, () => assert.equal(slaThresholdOf(step, thresholds), expected));
  }
  it('no matching pattern: null', () => {
    assert.equal(slaThresholdOf('cancel:erp', [{ pattern: 'post:*', ms: 1 }]), null);
    assert.equal(slaThresholdOf('post:erp', []), null);
  });
  it('patterns: non-empty, * only at the end', () => {
    assert.deepEqual(
      [
        '*',
        'post:erp',
        'reserve:*',
        '',
        'a*b',
        '**',
        'has space',
        'x'.repeat(100),
        'x'.repeat(101),
      ].map(isSlaPattern),
      [true, true, true, false, false, false, false, true, false],
    );
  });
});

describe('latencyRows', () => {
  const steps: MeasuredStep[] = [
    { step: 'reserve:EAST', channel: 'WEB', warehouse: 'EAST', durationMs: 10 },
    { step: 'reserve:EAST', channel: 'WEB', warehouse: 'EAST', durationMs: 30 },
    { step: 'reserve:EAST', channel: 'B2B_PORTAL', warehouse: 'EAST', durationMs: 20 },
    { step: 'post:erp', channel: 'WEB', warehouse: 'EAST', durationMs: 100 },
    { step: 'post:erp', channel: null, warehouse: null, durationMs: 300 },
  ];
  const thresholds = [
    { pattern: 'reserve:*', ms: 15 },
    { pattern: 'post:erp', ms: 300 },
  ];

  it('by step: count, p50, p95, breaches (strictly over), the threshold; sorted by step', () => {
    assert.deepEqual(latencyRows(steps, ['STEP'], thresholds), [
      {
        step: 'post:erp',
        channel: null,
        warehouse: null,
        count: 2,
        p50Ms: 100,
        p95Ms: 300,
        breaches: 0,
        thresholdMs: 300,
      },
      {
        step: 'reserve:EAST',
        channel: null,
        warehouse: null,
        count: 3,
        p50Ms: 20,
        p95Ms: 30,
        breaches: 2,
        thresholdMs: 15,
      },
    ]);
  });

  it('by step and channel: a null channel is its own group, first', () => {
    const rows = latencyRows(steps, ['STEP', 'CHANNEL'], thresholds);
    assert.deepEqual(
      rows.map((r) => [r.step, r.channel, r.count, r.breaches]),
      [
        ['post:erp', null, 1, 0],
        ['post:erp', 'WEB', 1, 0],
        ['reserve:EAST', 'B2B_PORTAL', 1, 1],
        ['reserve:EAST', 'WEB', 2, 1],
      ],
    );
  });

  it("by warehouse alone: breaches still use each step's own threshold; no threshold in the row", () => {
    assert.deepEqual(
      latencyRows(steps, ['WAREHOUSE'], thresholds).map((r) => [
        r.warehouse,
        r.count,
        r.p50Ms,
        r.p95Ms,
        r.breaches,
        r.thresholdMs,
      ]),
      [
        [null, 1, 300, 300, 0, null],
        ['EAST', 4, 20, 100, 2, null],
      ],
    );
  });

  it('no grouping: one row of everything; no steps: no rows', () => {
    assert.equal(latencyRows(steps, [], thresholds).length, 1);
    assert.equal(latencyRows(steps, [], thresholds)[0]?.count, 5);
    assert.deepEqual(latencyRows([], ['STEP'], thresholds), []);
  });
});

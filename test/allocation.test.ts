/**
 * The allocation rule, case by case (workflows/allocation.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocate, type StockAvailability } from '../workflows/allocation.js';

const at = (warehouseCode: string, sku: string, available: number): StockAvailability => ({
  sku,
  warehouseCode,
  available,
  kind: warehouseCode.startsWith('3PL') ? 'THIRD_PARTY' : 'OWNED',
  source: warehouseCode.startsWith('3PL') ? 'tpl' : 'wms',
});

describe('allocation rule', () => {
  it('ships from one owned warehouse when one can ship everything, preferring the most left over', () => {
    const result = allocate(
      [
        { sku: 'A', quantity: 5 },
        { sku: 'B', quantity: 2 },
      ],
      [
        at('EAST', 'A', 5),
        at('EAST', 'B', 2),
        at('WEST', 'A', 50),
        at('WEST', 'B', 9),
        at('3PL-SOUTH', 'A', 500),
        at('3PL-SOUTH', 'B', 500),
      ],
    );
    assert.deepEqual(result, {
      ok: true,
      rule: 'single-owned',
      allocations: [
        {
          warehouseCode: 'WEST',
          source: 'wms',
          kind: 'OWNED',
          lines: [
            { sku: 'A', quantity: 5 },
            { sku: 'B', quantity: 2 },
          ],
        },
      ],
    });
  });

  it('breaks ties by warehouse code', () => {
    const result = allocate([{ sku: 'A', quantity: 1 }], [at('WEST', 'A', 3), at('EAST', 'A', 3)]);
    assert.deepEqual(result, {
      ok: true,
      rule: 'single-owned',
      allocations: [
        { warehouseCode: 'EAST', source: 'wms', kind: 'OWNED', lines: [{ sku: 'A', quantity: 1 }] },
      ],
    });
  });

  it('uses the 3PL alone only when no owned warehouse can ship everything', () => {
    const result = allocate(
      [
        { sku: 'A', quantity: 5 },
        { sku: 'B', quantity: 5 },
      ],
      [at('EAST', 'A', 5), at('CENTRAL', 'B', 5), at('3PL-SOUTH', 'A', 5), at('3PL-SOUTH', 'B', 5)],
    );
    assert.deepEqual(result, {
      ok: true,
      rule: 'single-3pl',
      allocations: [
        {
          warehouseCode: '3PL-SOUTH',
          source: 'tpl',
          kind: 'THIRD_PARTY',
          lines: [
            { sku: 'A', quantity: 5 },
            { sku: 'B', quantity: 5 },
          ],
        },
      ],
    });
  });

  it('splits line by line, owned warehouses first (most stock first), the 3PL last', () => {
    const result = allocate(
      [
        { sku: 'A', quantity: 10 },
        { sku: 'B', quantity: 4 },
      ],
      [at('EAST', 'A', 3), at('CENTRAL', 'A', 6), at('3PL-SOUTH', 'A', 100), at('EAST', 'B', 4)],
    );
    assert.deepEqual(result, {
      ok: true,
      rule: 'split',
      allocations: [
        {
          warehouseCode: 'CENTRAL',
          source: 'wms',
          kind: 'OWNED',
          lines: [{ sku: 'A', quantity: 6 }],
        },
        {
          warehouseCode: 'EAST',
          source: 'wms',
          kind: 'OWNED',
          lines: [
            { sku: 'A', quantity: 3 },
            { sku: 'B', quantity: 4 },
          ],
        },
        {
          warehouseCode: '3PL-SOUTH',
          source: 'tpl',
          kind: 'THIRD_PARTY',
          lines: [{ sku: 'A', quantity: 1 }],
        },
      ],
    });
  });

  it('allocates nothing and names every short line when stock cannot cover the order', () => {
    const result = allocate(
      [
        { sku: 'A', quantity: 10 },
        { sku: 'B', quantity: 1 },
        { sku: 'C', quantity: 3 },
      ],
      [at('EAST', 'A', 4), at('3PL-SOUTH', 'A', 5), at('EAST', 'B', 1)],
    );
    assert.deepEqual(result, {
      ok: false,
      short: [
        { sku: 'A', requested: 10, available: 9 },
        { sku: 'C', requested: 3, available: 0 },
      ],
    });
  });

  it('ignores negative availability reported by a warehouse', () => {
    const result = allocate([{ sku: 'A', quantity: 1 }], [at('EAST', 'A', -4), at('WEST', 'A', 1)]);
    assert.deepEqual(result, {
      ok: true,
      rule: 'single-owned',
      allocations: [
        { warehouseCode: 'WEST', source: 'wms', kind: 'OWNED', lines: [{ sku: 'A', quantity: 1 }] },
      ],
    });
    // Nor in a split: a negative row takes nothing and gives nothing back.
    const split = allocate(
      [{ sku: 'A', quantity: 3 }],
      [at('EAST', 'A', 2), at('WEST', 'A', -5), at('3PL-SOUTH', 'A', 1)],
    );
    assert.deepEqual(split, {
      ok: true,
      rule: 'split',
      allocations: [
        { warehouseCode: 'EAST', source: 'wms', kind: 'OWNED', lines: [{ sku: 'A', quantity: 2 }] },
        {
          warehouseCode: '3PL-SOUTH',
          source: 'tpl',
          kind: 'THIRD_PARTY',
          lines: [{ sku: 'A', quantity: 1 }],
        },
      ],
    });
  });
});

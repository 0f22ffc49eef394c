/**
 * The trail's bounds (observability/trail.ts): the newest `capacity` entries, dropped oldest
 * first whatever their correlation; at most MAX_PER_CORRELATION per correlation ID; each
 * correlation's entries oldest first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PER_CORRELATION, createTrail, type TrailEntry } from '../observability/trail.js';

let clock = 0;
const entry = (correlationId: string, name = 'op'): TrailEntry => ({
  correlationId,
  kind: 'OPERATION',
  at: ++clock,
  name,
  outcome: 'ok',
  durationMs: 1,
  detail: null,
});
const names = (entries: readonly TrailEntry[]) => entries.map((e) => e.name);

describe('trail', () => {
  it('keeps the newest entries, dropping the oldest first across correlations', () => {
    const trail = createTrail(4);
    trail.record(entry('a', 'a1'));
    trail.record(entry('b', 'b1'));
    trail.record(entry('a', 'a2'));
    trail.record(entry('c', 'c1'));
    assert.equal(trail.size(), 4);
    trail.record(entry('b', 'b2')); // drops a1, the oldest, though a was touched after b1
    assert.equal(trail.size(), 4);
    assert.deepEqual(names(trail.of('a')), ['a2']);
    assert.deepEqual(names(trail.of('b')), ['b1', 'b2']);
    trail.record(entry('d', 'd1')); // drops b1
    trail.record(entry('d', 'd2')); // drops a2: a is gone
    assert.deepEqual(names(trail.of('a')), []);
    assert.deepEqual(names(trail.of('b')), ['b2']);
    assert.deepEqual(names(trail.of('c')), ['c1']);
    assert.deepEqual(names(trail.of('d')), ['d1', 'd2']);
    assert.equal(trail.size(), 4);
  });

  it('holds at most its capacity however many entries come', () => {
    const trail = createTrail(1_000);
    for (let i = 0; i < 25_000; i++) trail.record(entry(`c-${i % 3_000}`, `e${i}`));
    assert.equal(trail.size(), 1_000);
    // The newest 1,000 entries are e24000..e24999; c-0's among them, oldest first.
    assert.deepEqual(names(trail.of('c-0')), ['e24000']);
    assert.deepEqual(names(trail.of('c-999')), ['e24999']);
    assert.equal(trail.of('c-1999').length, 0);
  });

  it('keeps at most MAX_PER_CORRELATION entries of one correlation ID, the newest', () => {
    const trail = createTrail(10_000);
    trail.record(entry('other', 'o1'));
    for (let i = 0; i < MAX_PER_CORRELATION + 20; i++) trail.record(entry('loop', `l${i}`));
    const loop = trail.of('loop');
    assert.equal(loop.length, MAX_PER_CORRELATION);
    assert.equal(loop[0]?.name, 'l20');
    assert.equal(loop.at(-1)?.name, `l${MAX_PER_CORRELATION + 19}`);
    assert.deepEqual(names(trail.of('other')), ['o1']);
    assert.equal(trail.size(), MAX_PER_CORRELATION + 1);
    // Entries the cap dropped leave the ring later without touching the newer ones.
    const small = createTrail(MAX_PER_CORRELATION + 5);
    for (let i = 0; i < 3 * MAX_PER_CORRELATION; i++) small.record(entry('loop', `s${i}`));
    assert.equal(small.size(), MAX_PER_CORRELATION);
    assert.equal(small.of('loop')[0]?.name, `s${2 * MAX_PER_CORRELATION}`);
  });

  it('refuses a capacity below one entry', () => {
    assert.throws(() => createTrail(0), {
      name: 'TypeError',
      message: 'trail: expected a capacity of at least 1 entry, got 0',
    });
  });
});

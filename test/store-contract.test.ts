/**
 * The store port's contract, one suite run against every implementation: SQLite (always, in
 * temp files) and MongoDB (when MONGODB_URI is set). Time is the `now` each call passes, so
 * leases and retention expire without sleeping. SQLite-only tests at the end: options,
 * the data directory, and several processes sharing one file.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type {
  BeginRequest,
  DeadLetter,
  ExceptionItem,
  LedgerEntry,
  NewExceptionItem,
  Store,
  StoredOrder,
} from '../store/contract.js';
import { StoreConflictError } from '../store/contract.js';
import { DEFAULT_DATA_DIR, SQLITE_FILE_NAME, createStore } from '../store/index.js';
import { createMongoStore } from '../store/mongodb.js';
import { createSqliteStore } from '../store/sqlite.js';
import type { SqliteStoreOptions } from '../store/sqlite.js';
import type { FreshStore, WorkerResult } from './support/store.js';
import {
  CHECKPOINT_STEPS,
  spawnStoreWorker,
  storeImplementations,
  tempDir,
} from './support/store.js';

const T0 = 1_700_000_000_000;
const LEASE = 30_000;
const DAY = 86_400_000;

/** A begin request with every field defaulted; tests override what they are about. */
function beginRequest(overrides: Partial<BeginRequest> = {}): BeginRequest {
  return {
    scope: 'caller-a',
    key: 'key-1',
    operation: 'placeOrder',
    fingerprint: 'fp-1',
    owner: 'owner-a',
    leaseMs: LEASE,
    retentionMs: DAY,
    now: T0,
    ...overrides,
  };
}

function newOrder(
  id: string,
  overrides: Partial<Omit<StoredOrder, 'version' | 'updatedAt'>> = {},
): Omit<StoredOrder, 'version' | 'updatedAt'> {
  return {
    id,
    channel: 'WEB',
    customerNumber: 'C-1',
    status: 'PENDING_ERP',
    erpNumber: null,
    data: { lines: [{ sku: 'SKU-1', quantity: 2 }] },
    createdAt: T0,
    ...overrides,
  };
}

function ledgerEntry(
  orderId: string,
  overrides: Partial<Omit<LedgerEntry, 'seq'>> = {},
): Omit<LedgerEntry, 'seq'> {
  return {
    orderId,
    at: T0,
    step: 'validate',
    outcome: 'SUCCEEDED',
    status: null,
    correlationId: 'corr-1',
    caller: 'demo-storefront',
    durationMs: 12,
    detail: {},
    ...overrides,
  };
}

function letter(
  id: string,
  overrides: Partial<Parameters<Store['deadLetters']['add']>[0]> = {},
): Parameters<Store['deadLetters']['add']>[0] {
  return {
    id,
    orderId: 'XD-1',
    step: 'post:erp',
    payload: { attempt: 'post' },
    lastError: 'ERP timed out',
    nextAttemptAt: T0,
    createdAt: T0,
    ...overrides,
  };
}

function exceptionItem(id: string, overrides: Partial<NewExceptionItem> = {}): NewExceptionItem {
  return {
    id,
    sourceKey: 'deadLetter:DL-1',
    queue: 'ORDERS',
    kind: 'DEAD_LETTER',
    orderId: 'XD-1',
    summary: 'post:erp failed',
    detail: { step: 'post:erp' },
    createdAt: T0,
    ...overrides,
  };
}

for (const implementation of storeImplementations()) {
  describe(`store contract: ${implementation.name}`, { skip: implementation.skip }, () => {
    let fresh: FreshStore;
    let store: Store;

    beforeEach(async () => {
      fresh = await implementation.open();
      store = fresh.store;
    });
    afterEach(() => fresh.cleanup());
    after(() => implementation.dispose());

    it(`reports its kind`, () => {
      assert.equal(store.kind, implementation.name);
    });

    describe('idempotency', () => {
      it('begin on a new key starts it, owned by the caller', async () => {
        const outcome = await store.idempotency.begin(beginRequest());
        assert.deepEqual(outcome, {
          kind: 'started',
          record: {
            scope: 'caller-a',
            key: 'key-1',
            operation: 'placeOrder',
            fingerprint: 'fp-1',
            state: 'IN_PROGRESS',
            result: null,
            resourceId: null,
            owner: 'owner-a',
            leaseExpiresAt: T0 + LEASE,
            createdAt: T0,
            updatedAt: T0,
            expiresAt: T0 + DAY,
          },
        });
        assert.deepEqual(await store.idempotency.get('caller-a', 'key-1'), outcome.record);
      });

      it('keys are scoped by caller: the same key of another caller is another record', async () => {
        assert.equal((await store.idempotency.begin(beginRequest())).kind, 'started');
        const other = await store.idempotency.begin(
          beginRequest({ scope: 'caller-b', fingerprint: 'fp-other', owner: 'owner-b' }),
        );
        assert.equal(other.kind, 'started');
        // Each caller reads, completes and replays its own record only.
        assert.equal((await store.idempotency.get('caller-a', 'key-1'))?.fingerprint, 'fp-1');
        assert.equal((await store.idempotency.get('caller-b', 'key-1'))?.fingerprint, 'fp-other');
        assert.equal(
          await store.idempotency.complete('caller-b', 'key-1', 'owner-b', { by: 'b' }, T0 + 1),
          true,
        );
        assert.equal((await store.idempotency.get('caller-a', 'key-1'))?.state, 'IN_PROGRESS');
        const replayB = await store.idempotency.begin(
          beginRequest({ scope: 'caller-b', fingerprint: 'fp-other', now: T0 + 2 }),
        );
        assert.equal(replayB.kind, 'replay');
        assert.deepEqual(replayB.record.result, { by: 'b' });
      });

      it('a retry while the first runs is in_progress, from another process or the same one', async () => {
        await store.idempotency.begin(beginRequest());
        const fromOther = await store.idempotency.begin(
          beginRequest({ owner: 'owner-b', now: T0 + LEASE - 1 }),
        );
        assert.equal(fromOther.kind, 'in_progress');
        assert.equal(fromOther.record.owner, 'owner-a');
        const fromSame = await store.idempotency.begin(beginRequest({ now: T0 + 1 }));
        assert.equal(fromSame.kind, 'in_progress');
      });

      it('the same key with another fingerprint is a mismatch, in progress or completed', async () => {
        await store.idempotency.begin(beginRequest());
        const whileRunning = await store.idempotency.begin(
          beginRequest({ fingerprint: 'fp-2', owner: 'owner-b', now: T0 + 1 }),
        );
        assert.equal(whileRunning.kind, 'mismatch');
        assert.equal(whileRunning.record.fingerprint, 'fp-1');
        // Even after the lease expired: a different request never takes another's key over.
        const afterLease = await store.idempotency.begin(
          beginRequest({ fingerprint: 'fp-2', owner: 'owner-b', now: T0 + LEASE }),
        );
        assert.equal(afterLease.kind, 'mismatch');
        assert.equal(
          await store.idempotency.complete('caller-a', 'key-1', 'owner-a', { ok: 1 }, T0 + 2),
          true,
        );
        const whenDone = await store.idempotency.begin(
          beginRequest({ fingerprint: 'fp-2', now: T0 + 3 }),
        );
        assert.equal(whenDone.kind, 'mismatch');
      });

      it('the same key for another operation is a mismatch', async () => {
        await store.idempotency.begin(beginRequest());
        const outcome = await store.idempotency.begin(
          beginRequest({ operation: 'cancelOrder', now: T0 + 1 }),
        );
        assert.equal(outcome.kind, 'mismatch');
      });

      it('a completed key replays its recorded result and runs nothing', async () => {
        await store.idempotency.begin(beginRequest());
        const payload = { order: { id: 'XD-1', status: 'CONFIRMED' }, userErrors: [] };
        assert.equal(
          await store.idempotency.complete('caller-a', 'key-1', 'owner-a', payload, T0 + 5),
          true,
        );
        const replay = await store.idempotency.begin(
          beginRequest({ owner: 'owner-b', now: T0 + 10 }),
        );
        assert.equal(replay.kind, 'replay');
        assert.deepEqual(replay.record.result, payload);
        assert.equal(replay.record.state, 'COMPLETED');
        assert.equal(replay.record.owner, 'owner-a');
        assert.equal(replay.record.updatedAt, T0 + 5);
      });

      it('complete succeeds only for the owner, and only once', async () => {
        await store.idempotency.begin(beginRequest());
        assert.equal(
          await store.idempotency.complete('caller-a', 'key-1', 'owner-b', { by: 'b' }, T0 + 1),
          false,
        );
        assert.equal((await store.idempotency.get('caller-a', 'key-1'))?.state, 'IN_PROGRESS');
        assert.equal(
          await store.idempotency.complete('caller-a', 'key-1', 'owner-a', { by: 'a' }, T0 + 2),
          true,
        );
        assert.equal(
          await store.idempotency.complete('caller-a', 'key-1', 'owner-a', { by: 'again' }, T0 + 3),
          false,
        );
        assert.deepEqual((await store.idempotency.get('caller-a', 'key-1'))?.result, { by: 'a' });
        assert.equal(
          await store.idempotency.complete('caller-a', 'no-such-key', 'owner-a', null, T0),
          false,
        );
      });

      it('renew extends the lease for the owner only', async () => {
        await store.idempotency.begin(beginRequest());
        assert.equal(
          await store.idempotency.renew('caller-a', 'key-1', 'owner-b', LEASE, T0 + 1_000),
          false,
        );
        assert.equal(
          await store.idempotency.renew('caller-a', 'key-1', 'owner-a', LEASE, T0 + 20_000),
          true,
        );
        const record = await store.idempotency.get('caller-a', 'key-1');
        assert.equal(record?.leaseExpiresAt, T0 + 20_000 + LEASE);
        assert.equal(record.updatedAt, T0 + 20_000);
        // Past the first lease, within the renewed one: still in progress.
        const retry = await store.idempotency.begin(
          beginRequest({ owner: 'owner-b', now: T0 + LEASE + 1 }),
        );
        assert.equal(retry.kind, 'in_progress');
      });

      it('renew with leaseMs 0 ends the lease: the next begin takes the key over at once', async () => {
        // How the idempotency guard releases a key when its operation throws.
        await store.idempotency.begin(beginRequest());
        assert.equal(
          await store.idempotency.renew('caller-a', 'key-1', 'owner-a', 0, T0 + 5),
          true,
        );
        const retry = await store.idempotency.begin(
          beginRequest({ owner: 'owner-b', now: T0 + 5 }),
        );
        assert.equal(retry.kind, 'taken_over');
        assert.equal(retry.record.owner, 'owner-b');
      });

      it('a record whose lease expired is taken over by exactly one caller', async () => {
        await store.idempotency.begin(beginRequest());
        const takeOver = await store.idempotency.begin(
          beginRequest({ owner: 'owner-b', now: T0 + LEASE }),
        );
        assert.equal(takeOver.kind, 'taken_over');
        assert.equal(takeOver.record.owner, 'owner-b');
        assert.equal(takeOver.record.leaseExpiresAt, T0 + LEASE + LEASE);
        assert.equal(takeOver.record.createdAt, T0);
        assert.equal(takeOver.record.state, 'IN_PROGRESS');
        const third = await store.idempotency.begin(
          beginRequest({ owner: 'owner-c', now: T0 + LEASE + 1 }),
        );
        assert.equal(third.kind, 'in_progress');
        assert.equal(third.record.owner, 'owner-b');
        // The crashed owner has lost the record for good.
        assert.equal(
          await store.idempotency.renew('caller-a', 'key-1', 'owner-a', LEASE, T0 + LEASE + 2),
          false,
        );
        assert.equal(
          await store.idempotency.complete('caller-a', 'key-1', 'owner-a', 'late', T0 + LEASE + 2),
          false,
        );
        assert.equal(
          await store.idempotency.complete('caller-a', 'key-1', 'owner-b', 'done', T0 + LEASE + 3),
          true,
        );
      });

      it('concurrent take-overs of one expired lease: exactly one taken_over', async () => {
        await store.idempotency.begin(beginRequest());
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            store.idempotency.begin(beginRequest({ owner: `owner-${index}`, now: T0 + LEASE })),
          ),
        );
        const kinds = outcomes.map((outcome) => outcome.kind).sort();
        assert.deepEqual(kinds, ['taken_over', ...Array<string>(19).fill('in_progress')].sort());
      });

      it('attachResource records the resource for the owner only, and a taker-over sees it', async () => {
        await store.idempotency.begin(beginRequest());
        assert.equal(
          await store.idempotency.attachResource('caller-a', 'key-1', 'owner-b', 'XD-9', T0 + 1),
          false,
        );
        assert.equal(
          await store.idempotency.attachResource('caller-a', 'key-1', 'owner-a', 'XD-1', T0 + 2),
          true,
        );
        assert.equal((await store.idempotency.get('caller-a', 'key-1'))?.resourceId, 'XD-1');
        const takeOver = await store.idempotency.begin(
          beginRequest({ owner: 'owner-b', now: T0 + LEASE }),
        );
        assert.equal(takeOver.kind, 'taken_over');
        assert.equal(takeOver.record.resourceId, 'XD-1');
        await store.idempotency.complete('caller-a', 'key-1', 'owner-b', {}, T0 + LEASE + 1);
        assert.equal(
          await store.idempotency.attachResource(
            'caller-a',
            'key-1',
            'owner-b',
            'XD-2',
            T0 + LEASE + 2,
          ),
          false,
        );
      });

      it('get returns null for an unknown key', async () => {
        assert.equal(await store.idempotency.get('caller-a', 'nothing'), null);
      });

      it('purgeExpired deletes only records past their retention and counts them', async () => {
        await store.idempotency.begin(
          beginRequest({ key: 'old', retentionMs: 1_000, leaseMs: 500 }),
        );
        await store.idempotency.complete('caller-a', 'old', 'owner-a', 'r', T0 + 1);
        await store.idempotency.begin(
          beginRequest({ key: 'older', retentionMs: 900, leaseMs: 500 }),
        );
        await store.idempotency.begin(beginRequest({ key: 'young', retentionMs: DAY }));
        assert.equal(await store.idempotency.purgeExpired(T0 + 999), 1);
        assert.equal(await store.idempotency.get('caller-a', 'older'), null);
        assert.equal(await store.idempotency.purgeExpired(T0 + 1_000), 1);
        assert.equal(await store.idempotency.get('caller-a', 'old'), null);
        assert.notEqual(await store.idempotency.get('caller-a', 'young'), null);
        assert.equal(await store.idempotency.purgeExpired(T0 + 1_000), 0);
      });

      it('an expired record is started afresh, never replayed', async () => {
        await store.idempotency.begin(beginRequest({ retentionMs: 60_000 }));
        await store.idempotency.complete('caller-a', 'key-1', 'owner-a', { old: true }, T0 + 1);
        const later = T0 + 60_000;
        const outcome = await store.idempotency.begin(
          beginRequest({ owner: 'owner-b', retentionMs: 60_000, now: later }),
        );
        assert.equal(outcome.kind, 'started');
        assert.equal(outcome.record.result, null);
        assert.equal(outcome.record.owner, 'owner-b');
        assert.equal(outcome.record.createdAt, later);
        assert.equal(outcome.record.expiresAt, later + 60_000);
        // And with another fingerprint it is not a mismatch either: the old record is gone.
        await store.idempotency.complete('caller-a', 'key-1', 'owner-b', 'x', later + 1);
        const reused = await store.idempotency.begin(
          beginRequest({ fingerprint: 'fp-2', now: later + 60_000 }),
        );
        assert.equal(reused.kind, 'started');
        assert.equal(reused.record.fingerprint, 'fp-2');
      });

      it('a record never expires before its lease: renewing past retention keeps it', async () => {
        const started = await store.idempotency.begin(
          beginRequest({ retentionMs: 10_000, leaseMs: 20_000 }),
        );
        assert.equal(started.record.expiresAt, T0 + 20_000);
        await store.idempotency.renew('caller-a', 'key-1', 'owner-a', 20_000, T0 + 15_000);
        assert.equal((await store.idempotency.get('caller-a', 'key-1'))?.expiresAt, T0 + 35_000);
        assert.equal(await store.idempotency.purgeExpired(T0 + 34_999), 0);
        const retry = await store.idempotency.begin(beginRequest({ owner: 'b', now: T0 + 34_999 }));
        assert.equal(retry.kind, 'in_progress');
      });

      it('50 concurrent begins with one key: exactly one started, the rest in_progress', async () => {
        const outcomes = await Promise.all(
          Array.from({ length: 50 }, (_, index) =>
            store.idempotency.begin(beginRequest({ key: 'hot', owner: `owner-${index}` })),
          ),
        );
        const started = outcomes.filter((outcome) => outcome.kind === 'started');
        assert.equal(started.length, 1);
        assert.equal(outcomes.filter((outcome) => outcome.kind === 'in_progress').length, 49);
        const owner = started[0]?.record.owner;
        for (const outcome of outcomes) assert.equal(outcome.record.owner, owner);
      });
    });

    describe('orders', () => {
      it('create stores version 1 and get returns it', async () => {
        const created = await store.orders.create(newOrder('XD-1'));
        const expected: StoredOrder = { ...newOrder('XD-1'), version: 1, updatedAt: T0 };
        assert.deepEqual(created, expected);
        assert.deepEqual(await store.orders.get('XD-1'), expected);
        assert.equal(await store.orders.get('XD-404'), null);
      });

      it('create with an existing id throws StoreConflictError and changes nothing', async () => {
        await store.orders.create(newOrder('XD-1'));
        await assert.rejects(
          store.orders.create(newOrder('XD-1', { status: 'OTHER' })),
          (error: unknown) =>
            error instanceof StoreConflictError && error.message === 'order XD-1 already exists',
        );
        assert.equal((await store.orders.get('XD-1'))?.status, 'PENDING_ERP');
      });

      it('update applies the patch, bumps the version, and leaves other fields alone', async () => {
        await store.orders.create(newOrder('XD-1'));
        const updated = await store.orders.update('XD-1', 1, { erpNumber: 'SO-1001' }, T0 + 5);
        assert.deepEqual(updated, {
          ...newOrder('XD-1'),
          erpNumber: 'SO-1001',
          version: 2,
          updatedAt: T0 + 5,
        });
        const again = await store.orders.update(
          'XD-1',
          2,
          { status: 'CONFIRMED', data: { posted: true } },
          T0 + 6,
        );
        assert.deepEqual(again, {
          ...newOrder('XD-1'),
          status: 'CONFIRMED',
          erpNumber: 'SO-1001',
          data: { posted: true },
          version: 3,
          updatedAt: T0 + 6,
        });
        const cleared = await store.orders.update('XD-1', 3, { erpNumber: null }, T0 + 7);
        assert.equal(cleared?.erpNumber, null);
      });

      it('update with a stale version returns null and changes nothing', async () => {
        await store.orders.create(newOrder('XD-1'));
        const first = await store.orders.update('XD-1', 1, { status: 'A' }, T0 + 1);
        const second = await store.orders.update('XD-1', 1, { status: 'B' }, T0 + 2);
        assert.equal(first?.version, 2);
        assert.equal(second, null);
        const stored = await store.orders.get('XD-1');
        assert.equal(stored?.status, 'A');
        assert.equal(stored.version, 2);
        assert.equal(stored.updatedAt, T0 + 1);
        assert.equal(await store.orders.update('XD-404', 1, { status: 'A' }, T0), null);
      });

      it('concurrent updates of one version: exactly one wins', async () => {
        await store.orders.create(newOrder('XD-1'));
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            store.orders.update('XD-1', 1, { status: `S${index}` }, T0 + 1),
          ),
        );
        const winners = results.filter((result) => result !== null);
        assert.equal(winners.length, 1);
        // What is stored is the winner's update, and only it.
        assert.deepEqual(await store.orders.get('XD-1'), winners[0]);
        assert.equal(winners[0]?.version, 2);
      });

      it('getByErpNumber finds the order once the ERP number is known', async () => {
        await store.orders.create(newOrder('XD-1'));
        await store.orders.create(newOrder('XD-2', { erpNumber: 'SO-2' }));
        assert.equal(await store.orders.getByErpNumber('SO-1'), null);
        await store.orders.update('XD-1', 1, { erpNumber: 'SO-1' }, T0 + 1);
        assert.equal((await store.orders.getByErpNumber('SO-1'))?.id, 'XD-1');
        assert.equal((await store.orders.getByErpNumber('SO-2'))?.id, 'XD-2');
      });

      it('list filters by status, customer and channel, in id order, with keyset paging', async () => {
        await store.orders.create(newOrder('XD-3', { status: 'CONFIRMED', customerNumber: 'C-2' }));
        await store.orders.create(newOrder('XD-1', { status: 'CONFIRMED' }));
        await store.orders.create(newOrder('XD-2', { channel: 'EDI' }));
        await store.orders.create(newOrder('XD-4', { status: 'CONFIRMED', channel: 'EDI' }));
        const ids = (orders: StoredOrder[]): string[] => orders.map((order) => order.id);
        assert.deepEqual(ids(await store.orders.list({ limit: 10 })), [
          'XD-1',
          'XD-2',
          'XD-3',
          'XD-4',
        ]);
        assert.deepEqual(ids(await store.orders.list({ status: 'CONFIRMED', limit: 10 })), [
          'XD-1',
          'XD-3',
          'XD-4',
        ]);
        assert.deepEqual(ids(await store.orders.list({ customerNumber: 'C-2', limit: 10 })), [
          'XD-3',
        ]);
        assert.deepEqual(ids(await store.orders.list({ channel: 'EDI', limit: 10 })), [
          'XD-2',
          'XD-4',
        ]);
        assert.deepEqual(
          ids(await store.orders.list({ status: 'CONFIRMED', channel: 'EDI', limit: 10 })),
          ['XD-4'],
        );
        const page1 = await store.orders.list({ limit: 2 });
        assert.deepEqual(ids(page1), ['XD-1', 'XD-2']);
        const page2 = await store.orders.list({ after: page1.at(-1)?.id ?? '', limit: 2 });
        assert.deepEqual(ids(page2), ['XD-3', 'XD-4']);
        assert.deepEqual(await store.orders.list({ after: 'XD-4', limit: 2 }), []);
        assert.deepEqual(await store.orders.list({ limit: 0 }), []);
      });

      const badLimits: readonly [number, string][] = [
        [-1, 'store: expected limit to be a non-negative integer, got -1'],
        [1.5, 'store: expected limit to be a non-negative integer, got 1.5'],
        [Number.NaN, 'store: expected limit to be a non-negative integer, got NaN'],
      ];
      for (const [limit, message] of badLimits) {
        it(`list refuses limit ${String(limit)}`, async () => {
          await assert.rejects(store.orders.list({ limit }), { name: 'TypeError', message });
          await assert.rejects(store.deadLetters.list({ limit }), { name: 'TypeError', message });
        });
      }
    });

    describe('ledger', () => {
      it('append assigns strictly increasing seqs across orders; list is oldest first', async () => {
        const a1 = await store.ledger.append(ledgerEntry('XD-A', { step: 'validate' }));
        const b1 = await store.ledger.append(ledgerEntry('XD-B', { step: 'validate' }));
        const a2 = await store.ledger.append(
          ledgerEntry('XD-A', {
            step: 'post:erp',
            outcome: 'FAILED',
            status: 'PENDING_ERP',
            correlationId: null,
            caller: 'system',
            durationMs: null,
            detail: { error: { code: 'SOURCE_TIMEOUT' }, attempts: [1, 2] },
          }),
        );
        assert.ok(a1.seq < b1.seq && b1.seq < a2.seq);
        assert.deepEqual(a2, {
          seq: a2.seq,
          orderId: 'XD-A',
          at: T0,
          step: 'post:erp',
          outcome: 'FAILED',
          status: 'PENDING_ERP',
          correlationId: null,
          caller: 'system',
          durationMs: null,
          detail: { error: { code: 'SOURCE_TIMEOUT' }, attempts: [1, 2] },
        });
        assert.deepEqual(await store.ledger.list('XD-A'), [a1, a2]);
        assert.deepEqual(await store.ledger.list('XD-B'), [b1]);
        assert.deepEqual(await store.ledger.list('XD-none'), []);
      });

      it('concurrent appends get distinct seqs', async () => {
        const entries = await Promise.all(
          Array.from({ length: 40 }, (_, index) =>
            store.ledger.append(ledgerEntry(`XD-${index % 4}`, { detail: { index } })),
          ),
        );
        assert.equal(new Set(entries.map((entry) => entry.seq)).size, 40);
        for (let order = 0; order < 4; order += 1) {
          const seqs = (await store.ledger.list(`XD-${order}`)).map((entry) => entry.seq);
          assert.equal(seqs.length, 10);
          assert.deepEqual(
            seqs,
            [...seqs].sort((x, y) => x - y),
          );
        }
      });
    });

    describe('ledger by correlation', () => {
      it('lists the entries of one correlation ID across orders, oldest first, up to the limit', async () => {
        await store.ledger.append(ledgerEntry('XD-1', { correlationId: 'c-1', step: 'a' }));
        await store.ledger.append(ledgerEntry('XD-2', { correlationId: 'c-2', step: 'b' }));
        await store.ledger.append(ledgerEntry('XD-2', { correlationId: 'c-1', step: 'c' }));
        await store.ledger.append(ledgerEntry('XD-3', { correlationId: null, step: 'd' }));
        await store.ledger.append(ledgerEntry('XD-1', { correlationId: 'c-1', step: 'e' }));
        const steps = async (id: string, limit: number) =>
          (await store.ledger.byCorrelation(id, limit)).map((e) => [e.orderId, e.step]);
        assert.deepEqual(await steps('c-1', 10), [
          ['XD-1', 'a'],
          ['XD-2', 'c'],
          ['XD-1', 'e'],
        ]);
        assert.deepEqual(await steps('c-1', 2), [
          ['XD-1', 'a'],
          ['XD-2', 'c'],
        ]);
        assert.deepEqual(await steps('c-9', 10), []);
      });
    });

    describe('ledger by time', () => {
      it("lists every order's entries with since <= at < until by (at, seq), paged after an entry", async () => {
        const at = [T0 + 5, T0, T0 + 10, T0 + 5, T0 + 20, T0 - 1];
        const appended: LedgerEntry[] = [];
        for (const [index, when] of at.entries()) {
          appended.push(
            await store.ledger.append(
              ledgerEntry(`XD-${index % 2}`, { at: when, step: `s${index}` }),
            ),
          );
        }
        const steps = (entries: LedgerEntry[]) => entries.map((e) => e.step);
        const window = { since: T0, until: T0 + 20 };
        assert.deepEqual(steps(await store.ledger.between({ ...window, limit: 10 })), [
          's1',
          's0',
          's3',
          's2',
        ]);
        assert.deepEqual(steps(await store.ledger.between({ ...window, limit: 2 })), ['s1', 's0']);
        const s0 = appended[0] as LedgerEntry;
        assert.deepEqual(
          steps(
            await store.ledger.between({ ...window, after: { at: s0.at, seq: s0.seq }, limit: 10 }),
          ),
          ['s3', 's2'],
        );
        assert.deepEqual(await store.ledger.between({ ...window, limit: 0 }), []);
        assert.deepEqual(
          await store.ledger.between({ since: T0 + 30, until: T0 + 40, limit: 9 }),
          [],
        );
        // Entries come back whole, as append returned them.
        assert.deepEqual(
          (await store.ledger.between({ since: T0 + 20, until: T0 + 21, limit: 1 }))[0],
          appended[4],
        );
      });
    });

    describe('exception items', () => {
      it('open stores an OPEN item with no assignee, comments or resolution', async () => {
        const { item, created } = await store.exceptions.open(exceptionItem('EX-1'));
        const expected: ExceptionItem = {
          ...exceptionItem('EX-1'),
          status: 'OPEN',
          assignee: null,
          comments: [],
          resolution: null,
          resolvedBy: null,
          updatedAt: T0,
          resolvedAt: null,
        };
        assert.equal(created, true);
        assert.deepEqual(item, expected);
        assert.deepEqual(await store.exceptions.get('EX-1'), expected);
        assert.equal(await store.exceptions.get('EX-404'), null);
      });

      it('opening the same source again returns the first item, unchanged, whatever its status', async () => {
        await store.exceptions.open(exceptionItem('EX-1'));
        const again = await store.exceptions.open(exceptionItem('EX-2', { summary: 'other' }));
        assert.equal(again.created, false);
        assert.equal(again.item.id, 'EX-1');
        assert.equal(again.item.summary, 'post:erp failed');
        assert.equal(await store.exceptions.get('EX-2'), null);
        await store.exceptions.resolve('EX-1', 'posted by hand', 'ops', T0 + 1);
        const resolved = await store.exceptions.open(exceptionItem('EX-3'));
        assert.deepEqual(
          [resolved.created, resolved.item.id, resolved.item.status],
          [false, 'EX-1', 'RESOLVED'],
        );
      });

      it('concurrent opens of one source make one item', async () => {
        const opened = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.exceptions.open(exceptionItem(`EX-${i}`))),
        );
        assert.equal(opened.filter((o) => o.created).length, 1);
        assert.equal(new Set(opened.map((o) => o.item.id)).size, 1);
        assert.equal((await store.exceptions.list({ limit: 50 })).length, 1);
      });

      it('an id taken by another source is a StoreConflictError', async () => {
        await store.exceptions.open(exceptionItem('EX-1'));
        await assert.rejects(
          store.exceptions.open(exceptionItem('EX-1', { sourceKey: 'event:other' })),
          StoreConflictError,
        );
      });

      it('lists by queue and status, oldest (by id) first, after a cursor, up to the limit', async () => {
        await store.exceptions.open(exceptionItem('EX-3', { sourceKey: 's3', queue: 'INVOICES' }));
        await store.exceptions.open(exceptionItem('EX-1', { sourceKey: 's1' }));
        await store.exceptions.open(exceptionItem('EX-2', { sourceKey: 's2' }));
        await store.exceptions.open(exceptionItem('EX-4', { sourceKey: 's4', queue: 'WEBHOOKS' }));
        await store.exceptions.assign('EX-2', 'ana', T0 + 1);
        const ids = async (filter: Parameters<Store['exceptions']['list']>[0]) =>
          (await store.exceptions.list(filter)).map((i) => i.id);
        assert.deepEqual(await ids({ limit: 10 }), ['EX-1', 'EX-2', 'EX-3', 'EX-4']);
        assert.deepEqual(await ids({ queue: 'ORDERS', limit: 10 }), ['EX-1', 'EX-2']);
        assert.deepEqual(await ids({ status: 'ASSIGNED', limit: 10 }), ['EX-2']);
        assert.deepEqual(await ids({ queue: 'ORDERS', status: 'OPEN', limit: 10 }), ['EX-1']);
        assert.deepEqual(await ids({ after: 'EX-2', limit: 10 }), ['EX-3', 'EX-4']);
        assert.deepEqual(await ids({ limit: 2 }), ['EX-1', 'EX-2']);
        assert.deepEqual(await ids({ limit: 0 }), []);
      });

      it('assign, comment and resolve; nothing changes a RESOLVED item', async () => {
        await store.exceptions.open(exceptionItem('EX-1'));
        const assigned = await store.exceptions.assign('EX-1', 'ana', T0 + 1);
        assert.equal(assigned.kind, 'ok');
        assert.deepEqual(
          assigned.kind === 'ok' && [
            assigned.item.status,
            assigned.item.assignee,
            assigned.item.updatedAt,
          ],
          ['ASSIGNED', 'ana', T0 + 1],
        );
        const reassigned = await store.exceptions.assign('EX-1', 'bo', T0 + 2);
        assert.equal(reassigned.kind === 'ok' && reassigned.item.assignee, 'bo');
        const c1 = { id: 'c1', author: 'ana', at: T0 + 3, text: 'calling the ERP team' };
        const c2 = { id: 'c2', author: 'bo', at: T0 + 4, text: 'they fixed the item' };
        await store.exceptions.comment('EX-1', c1);
        const commented = await store.exceptions.comment('EX-1', c2);
        assert.deepEqual(commented.kind === 'ok' && commented.item.comments, [c1, c2]);
        const resolved = await store.exceptions.resolve('EX-1', 'posted again', 'bo', T0 + 5);
        assert.equal(resolved.kind, 'ok');
        assert.deepEqual(
          resolved.kind === 'ok' && [
            resolved.item.status,
            resolved.item.resolution,
            resolved.item.resolvedBy,
            resolved.item.resolvedAt,
            resolved.item.updatedAt,
            resolved.item.assignee,
          ],
          ['RESOLVED', 'posted again', 'bo', T0 + 5, T0 + 5, 'bo'],
        );
        for (const change of [
          await store.exceptions.assign('EX-1', 'cy', T0 + 6),
          await store.exceptions.comment('EX-1', {
            id: 'c3',
            author: 'cy',
            at: T0 + 6,
            text: 'late',
          }),
          await store.exceptions.resolve('EX-1', 'again', 'cy', T0 + 6),
        ]) {
          assert.equal(change.kind, 'resolved');
          assert.equal(change.kind === 'resolved' && change.item.resolution, 'posted again');
        }
        const final = await store.exceptions.get('EX-1');
        assert.deepEqual(
          [final?.assignee, final?.comments.length, final?.updatedAt],
          ['bo', 2, T0 + 5],
        );
      });

      it('a comment added twice with one id is kept once (even after the item is resolved)', async () => {
        await store.exceptions.open(exceptionItem('EX-1'));
        const comment = { id: 'c1', author: 'ana', at: T0 + 1, text: 'once' };
        const results = await Promise.all([
          store.exceptions.comment('EX-1', comment),
          store.exceptions.comment('EX-1', comment),
          store.exceptions.comment('EX-1', { ...comment, text: 'other text, same id' }),
        ]);
        assert.deepEqual(
          results.map((r) => r.kind),
          ['ok', 'ok', 'ok'],
        );
        assert.deepEqual((await store.exceptions.get('EX-1'))?.comments, [comment]);
        await store.exceptions.resolve('EX-1', 'done', 'ana', T0 + 2);
        assert.equal((await store.exceptions.comment('EX-1', comment)).kind, 'ok');
        assert.deepEqual((await store.exceptions.get('EX-1'))?.comments, [comment]);
      });

      it('changes to an unknown item are not_found', async () => {
        assert.deepEqual(await store.exceptions.assign('EX-404', 'ana', T0), { kind: 'not_found' });
        assert.deepEqual(
          await store.exceptions.comment('EX-404', { id: 'c', author: 'a', at: T0, text: 't' }),
          { kind: 'not_found' },
        );
        assert.deepEqual(await store.exceptions.resolve('EX-404', 'r', 'a', T0), {
          kind: 'not_found',
        });
      });

      it('of concurrent resolutions exactly one wins', async () => {
        await store.exceptions.open(exceptionItem('EX-1'));
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            store.exceptions.resolve('EX-1', `r${i}`, 'ops', T0 + i),
          ),
        );
        assert.equal(results.filter((r) => r.kind === 'ok').length, 1);
        assert.equal(results.filter((r) => r.kind === 'resolved').length, 7);
      });
    });

    describe('dead letters', () => {
      it('add stores a PENDING letter with no attempts and no owner', async () => {
        const added = await store.deadLetters.add(letter('DL-1'));
        const expected: DeadLetter = {
          ...letter('DL-1'),
          status: 'PENDING',
          attempts: 0,
          owner: null,
          leaseExpiresAt: null,
          updatedAt: T0,
        };
        assert.deepEqual(added, expected);
        assert.deepEqual(await store.deadLetters.get('DL-1'), expected);
        assert.equal(await store.deadLetters.get('DL-404'), null);
      });

      it('a second letter for an open (order, step) returns the open one', async () => {
        await store.deadLetters.add(letter('DL-1'));
        const again = await store.deadLetters.add(letter('DL-2', { lastError: 'again' }));
        assert.equal(again.id, 'DL-1');
        assert.equal(await store.deadLetters.get('DL-2'), null);
        // Still open while RETRYING.
        await store.deadLetters.claim('worker-1', LEASE, T0);
        assert.equal((await store.deadLetters.add(letter('DL-3'))).id, 'DL-1');
        // Another step of the same order is its own letter.
        assert.equal(
          (await store.deadLetters.add(letter('DL-4', { step: 'reserve:wms' }))).id,
          'DL-4',
        );
        // Once closed, the next failure opens a new letter.
        await store.deadLetters.release('DL-1', 'worker-1', { status: 'RESOLVED' }, T0 + 1);
        assert.equal((await store.deadLetters.add(letter('DL-5'))).id, 'DL-5');
      });

      it('count tells how many letters are in each status', async () => {
        assert.deepEqual(await store.deadLetters.count(), {
          PENDING: 0,
          RETRYING: 0,
          RESOLVED: 0,
          ABANDONED: 0,
        });
        await store.deadLetters.add(letter('DL-1'));
        await store.deadLetters.add(letter('DL-2', { step: 'reserve:wms' }));
        await store.deadLetters.add(letter('DL-3', { orderId: 'XD-3' }));
        await store.deadLetters.add(letter('DL-4', { orderId: 'XD-4' }));
        await store.deadLetters.claim('w', LEASE, T0, 'DL-1');
        await store.deadLetters.claim('w', LEASE, T0, 'DL-2');
        await store.deadLetters.release('DL-2', 'w', { status: 'RESOLVED' }, T0 + 1);
        assert.deepEqual(await store.deadLetters.count(), {
          PENDING: 2,
          RETRYING: 1,
          RESOLVED: 1,
          ABANDONED: 0,
        });
      });

      it('add with the id of a closed letter throws StoreConflictError', async () => {
        await store.deadLetters.add(letter('DL-1'));
        await store.deadLetters.claim('w', LEASE, T0, 'DL-1');
        await store.deadLetters.release('DL-1', 'w', { status: 'RESOLVED' }, T0 + 1);
        await assert.rejects(
          store.deadLetters.add(letter('DL-1', { step: 'other' })),
          (error: unknown) =>
            error instanceof StoreConflictError &&
            error.message === 'dead letter DL-1 already exists',
        );
      });

      it('claim takes only due letters, oldest first, and marks them RETRYING', async () => {
        await store.deadLetters.add(
          letter('DL-late', { orderId: 'XD-1', nextAttemptAt: T0 + 100 }),
        );
        await store.deadLetters.add(letter('DL-due', { orderId: 'XD-2', nextAttemptAt: T0 + 10 }));
        await store.deadLetters.add(letter('DL-first', { orderId: 'XD-3', nextAttemptAt: T0 + 5 }));
        assert.equal(await store.deadLetters.claim('w', LEASE, T0 + 4), null);
        const first = await store.deadLetters.claim('w', LEASE, T0 + 50);
        assert.deepEqual(first, {
          ...letter('DL-first', { orderId: 'XD-3', nextAttemptAt: T0 + 5 }),
          status: 'RETRYING',
          attempts: 1,
          owner: 'w',
          leaseExpiresAt: T0 + 50 + LEASE,
          updatedAt: T0 + 50,
        });
        assert.equal((await store.deadLetters.claim('w', LEASE, T0 + 50))?.id, 'DL-due');
        assert.equal(await store.deadLetters.claim('w', LEASE, T0 + 50), null);
        assert.equal((await store.deadLetters.claim('w', LEASE, T0 + 100))?.id, 'DL-late');
      });

      it('a live lease is not claimed again; an expired one is, by another owner', async () => {
        await store.deadLetters.add(letter('DL-1'));
        await store.deadLetters.claim('w1', LEASE, T0);
        assert.equal(await store.deadLetters.claim('w2', LEASE, T0 + LEASE - 1), null);
        const reclaimed = await store.deadLetters.claim('w2', LEASE, T0 + LEASE);
        assert.equal(reclaimed?.id, 'DL-1');
        assert.equal(reclaimed.owner, 'w2');
        assert.equal(reclaimed.attempts, 2);
        // w1 lost it: its release does nothing.
        assert.equal(
          await store.deadLetters.release('DL-1', 'w1', { status: 'RESOLVED' }, T0 + LEASE + 1),
          null,
        );
      });

      it('concurrent claims: each letter goes to exactly one claimer', async () => {
        for (let index = 0; index < 5; index += 1) {
          await store.deadLetters.add(letter(`DL-${index}`, { orderId: `XD-${index}` }));
        }
        const claims = await Promise.all(
          Array.from({ length: 12 }, (_, index) => store.deadLetters.claim(`w${index}`, LEASE, T0)),
        );
        const ids = claims.flatMap((claim) => (claim === null ? [] : [claim.id])).sort();
        assert.deepEqual(ids, ['DL-0', 'DL-1', 'DL-2', 'DL-3', 'DL-4']);
      });

      it('claim by id replays a letter that is not due, or abandoned, but not a held or resolved one', async () => {
        await store.deadLetters.add(letter('DL-1', { nextAttemptAt: T0 + DAY }));
        const manual = await store.deadLetters.claim('ops', LEASE, T0, 'DL-1');
        assert.equal(manual?.status, 'RETRYING');
        assert.equal(manual.owner, 'ops');
        assert.equal(await store.deadLetters.claim('other', LEASE, T0 + 1, 'DL-1'), null);
        await store.deadLetters.release(
          'DL-1',
          'ops',
          { status: 'ABANDONED', lastError: 'gave up' },
          T0 + 2,
        );
        const revived = await store.deadLetters.claim('ops', LEASE, T0 + 3, 'DL-1');
        assert.equal(revived?.status, 'RETRYING');
        assert.equal(revived.attempts, 2);
        await store.deadLetters.release('DL-1', 'ops', { status: 'RESOLVED' }, T0 + 4);
        assert.equal(await store.deadLetters.claim('ops', LEASE, T0 + 5, 'DL-1'), null);
        assert.equal(await store.deadLetters.claim('ops', LEASE, T0 + 5, 'DL-404'), null);
      });

      it('claim by id of an abandoned letter while its step has a newer open letter throws StoreConflictError', async () => {
        await store.deadLetters.add(letter('DL-1'));
        await store.deadLetters.claim('w', LEASE, T0, 'DL-1');
        await store.deadLetters.release(
          'DL-1',
          'w',
          { status: 'ABANDONED', lastError: 'x' },
          T0 + 1,
        );
        await store.deadLetters.add(letter('DL-2', { createdAt: T0 + 2 }));
        await assert.rejects(
          store.deadLetters.claim('w', LEASE, T0 + 3, 'DL-1'),
          (error: unknown) =>
            error instanceof StoreConflictError &&
            error.message ===
              'dead letter DL-1 cannot be claimed: another letter for its order and step is open',
        );
        assert.equal((await store.deadLetters.get('DL-1'))?.status, 'ABANDONED');
      });

      it('release by the owner: RESOLVED, PENDING with a backoff, ABANDONED', async () => {
        await store.deadLetters.add(letter('DL-1'));
        await store.deadLetters.claim('w', LEASE, T0);
        assert.equal(
          await store.deadLetters.release('DL-1', 'intruder', { status: 'RESOLVED' }, T0 + 1),
          null,
        );
        const backoff = await store.deadLetters.release(
          'DL-1',
          'w',
          { status: 'PENDING', nextAttemptAt: T0 + 60_000, lastError: 'still down' },
          T0 + 2,
        );
        assert.deepEqual(backoff, {
          ...letter('DL-1'),
          status: 'PENDING',
          attempts: 1,
          lastError: 'still down',
          nextAttemptAt: T0 + 60_000,
          owner: null,
          leaseExpiresAt: null,
          updatedAt: T0 + 2,
        });
        // Released, not held: releasing again does nothing.
        assert.equal(
          await store.deadLetters.release('DL-1', 'w', { status: 'RESOLVED' }, T0 + 3),
          null,
        );
        assert.equal(await store.deadLetters.claim('w', LEASE, T0 + 59_999), null);
        assert.equal((await store.deadLetters.claim('w', LEASE, T0 + 60_000))?.attempts, 2);
        const abandoned = await store.deadLetters.release(
          'DL-1',
          'w',
          { status: 'ABANDONED', lastError: 'customer cancelled' },
          T0 + 60_001,
        );
        assert.equal(abandoned?.status, 'ABANDONED');
        assert.equal(abandoned.lastError, 'customer cancelled');
        assert.equal(abandoned.owner, null);
        assert.equal(await store.deadLetters.claim('w', LEASE, T0 + DAY), null);

        await store.deadLetters.add(letter('DL-2', { step: 'notify' }));
        await store.deadLetters.claim('w', LEASE, T0, 'DL-2');
        const resolved = await store.deadLetters.release(
          'DL-2',
          'w',
          { status: 'RESOLVED' },
          T0 + 9,
        );
        assert.equal(resolved?.status, 'RESOLVED');
        assert.equal(resolved.lastError, 'ERP timed out');
        assert.equal(resolved.updatedAt, T0 + 9);
      });

      it('list filters by status and order, oldest first, up to the limit', async () => {
        await store.deadLetters.add(letter('DL-1', { orderId: 'XD-1', createdAt: T0 }));
        await store.deadLetters.add(letter('DL-2', { orderId: 'XD-2', createdAt: T0 + 1 }));
        await store.deadLetters.add(
          letter('DL-3', { orderId: 'XD-1', step: 's2', createdAt: T0 + 2 }),
        );
        await store.deadLetters.claim('w', LEASE, T0, 'DL-2');
        const ids = (letters: DeadLetter[]): string[] => letters.map((item) => item.id);
        assert.deepEqual(ids(await store.deadLetters.list({ limit: 10 })), [
          'DL-1',
          'DL-2',
          'DL-3',
        ]);
        assert.deepEqual(ids(await store.deadLetters.list({ status: 'PENDING', limit: 10 })), [
          'DL-1',
          'DL-3',
        ]);
        assert.deepEqual(ids(await store.deadLetters.list({ status: 'RETRYING', limit: 10 })), [
          'DL-2',
        ]);
        assert.deepEqual(ids(await store.deadLetters.list({ orderId: 'XD-1', limit: 10 })), [
          'DL-1',
          'DL-3',
        ]);
        assert.deepEqual(
          ids(await store.deadLetters.list({ orderId: 'XD-1', status: 'RETRYING', limit: 10 })),
          [],
        );
        assert.deepEqual(ids(await store.deadLetters.list({ limit: 2 })), ['DL-1', 'DL-2']);
      });
    });

    describe('cross-references', () => {
      it('put, forKey, findKey; a second put for the same system entity replaces it', async () => {
        await store.xrefs.put({
          type: 'Order',
          key: 'XD-1',
          source: 'wms',
          entity: 'order',
          nativeId: 'W-7',
        });
        await store.xrefs.put({
          type: 'Order',
          key: 'XD-1',
          source: 'erp',
          entity: 'salesOrder',
          nativeId: 'SO-1',
        });
        await store.xrefs.put({
          type: 'Order',
          key: 'XD-2',
          source: 'erp',
          entity: 'salesOrder',
          nativeId: 'SO-2',
        });
        assert.deepEqual(await store.xrefs.forKey('Order', 'XD-1'), [
          { type: 'Order', key: 'XD-1', source: 'erp', entity: 'salesOrder', nativeId: 'SO-1' },
          { type: 'Order', key: 'XD-1', source: 'wms', entity: 'order', nativeId: 'W-7' },
        ]);
        assert.equal(await store.xrefs.findKey('Order', 'erp', 'salesOrder', 'SO-1'), 'XD-1');
        assert.equal(await store.xrefs.findKey('Order', 'erp', 'salesOrder', 'SO-2'), 'XD-2');
        assert.equal(await store.xrefs.findKey('Product', 'erp', 'salesOrder', 'SO-1'), null);

        await store.xrefs.put({
          type: 'Order',
          key: 'XD-1',
          source: 'wms',
          entity: 'order',
          nativeId: 'W-8',
        });
        assert.deepEqual(
          (await store.xrefs.forKey('Order', 'XD-1')).map((ref) => ref.nativeId),
          ['SO-1', 'W-8'],
        );
        assert.equal(await store.xrefs.findKey('Order', 'wms', 'order', 'W-7'), null);
        assert.equal(await store.xrefs.findKey('Order', 'wms', 'order', 'W-8'), 'XD-1');
        assert.deepEqual(await store.xrefs.forKey('Order', 'XD-404'), []);

        // The same native id under another source, or another entity, belongs to another key.
        await store.xrefs.put({
          type: 'Order',
          key: 'XD-0',
          source: 'channel:WEB',
          entity: 'salesOrder',
          nativeId: 'SO-1',
        });
        await store.xrefs.put({
          type: 'Order',
          key: 'XD-00',
          source: 'erp',
          entity: 'salesInvoice',
          nativeId: 'SO-1',
        });
        assert.equal(await store.xrefs.findKey('Order', 'erp', 'salesOrder', 'SO-1'), 'XD-1');
        assert.equal(
          await store.xrefs.findKey('Order', 'channel:WEB', 'salesOrder', 'SO-1'),
          'XD-0',
        );
        assert.equal(await store.xrefs.findKey('Order', 'erp', 'salesInvoice', 'SO-1'), 'XD-00');
        assert.equal(await store.xrefs.findKey('Order', 'channel:EDI', 'salesOrder', 'SO-1'), null);
      });

      it('findKeys: every key one system id belongs to, in key order, at most the limit', async () => {
        for (const key of ['XD-3', 'XD-1', 'XD-2']) {
          await store.xrefs.put({
            type: 'Order',
            key,
            source: 'channel:MARKETPLACE_A',
            entity: 'externalReference',
            nativeId: "MP-O'1",
          });
        }
        // The same reference on another channel, and another reference, are other ids.
        await store.xrefs.put({
          type: 'Order',
          key: 'XD-4',
          source: 'channel:EDI',
          entity: 'externalReference',
          nativeId: "MP-O'1",
        });
        await store.xrefs.put({
          type: 'Order',
          key: 'XD-5',
          source: 'channel:MARKETPLACE_A',
          entity: 'externalReference',
          nativeId: 'MP-O',
        });
        const find = (nativeId: string, limit: number, source = 'channel:MARKETPLACE_A') =>
          store.xrefs.findKeys('Order', source, 'externalReference', nativeId, limit);
        assert.deepEqual(await find("MP-O'1", 10), ['XD-1', 'XD-2', 'XD-3']);
        assert.deepEqual(await find("MP-O'1", 2), ['XD-1', 'XD-2']);
        assert.deepEqual(await find("MP-O'1", 10, 'channel:EDI'), ['XD-4']);
        assert.deepEqual(await find("mp-o'1", 10), [], 'exact: case counts');
        assert.deepEqual(await find('MP-X', 10), []);
      });
    });

    describe('API keys', () => {
      const key = (
        id: string,
        overrides: Partial<Parameters<Store['apiKeys']['add']>[0]> = {},
      ): Parameters<Store['apiKeys']['add']>[0] => ({
        id,
        client: 'acme',
        role: 'partner',
        channel: 'EDI',
        customer: null,
        customers: ['C10001', 'C10002'],
        hash: `hmac-sha256:${id.padEnd(64, '0')}`,
        expiresAt: T0 + 1_000,
        createdBy: 'key:demo-admin',
        createdAt: T0,
        ...overrides,
      });

      it('add then get and findByHash return it whole, not revoked', async () => {
        const added = await store.apiKeys.add(key('k1'));
        const expected = { ...key('k1'), revokedAt: null, updatedAt: T0 };
        assert.deepEqual(added, expected);
        assert.deepEqual(await store.apiKeys.get('k1'), expected);
        assert.deepEqual(await store.apiKeys.findByHash(key('k1').hash as string), expected);
        assert.equal(await store.apiKeys.get('k2'), null);
        assert.equal(await store.apiKeys.findByHash(`hmac-sha256:${'f'.repeat(64)}`), null);
      });

      it('refuses a second key with the same id or the same hash', async () => {
        await store.apiKeys.add(key('k1'));
        await assert.rejects(store.apiKeys.add(key('k1', { hash: null })), StoreConflictError);
        await assert.rejects(
          store.apiKeys.add(key('k2', { hash: key('k1').hash })),
          StoreConflictError,
        );
        assert.equal(await store.apiKeys.get('k2'), null);
      });

      it('keeps several records without a hash (configured keys)', async () => {
        await store.apiKeys.add(key('c1', { hash: null, customers: null, role: 'admin' }));
        await store.apiKeys.add(key('c2', { hash: null, customers: null, role: 'admin' }));
        assert.equal((await store.apiKeys.get('c2'))?.customers, null);
        assert.equal((await store.apiKeys.get('c1'))?.hash, null);
      });

      it('lists by id, of one client when asked, up to the limit', async () => {
        await store.apiKeys.add(key('k3'));
        await store.apiKeys.add(key('k1', { client: 'other' }));
        await store.apiKeys.add(key('k2'));
        const ids = (keys: { id: string }[]) => keys.map((k) => k.id);
        assert.deepEqual(ids(await store.apiKeys.list({ limit: 10 })), ['k1', 'k2', 'k3']);
        assert.deepEqual(ids(await store.apiKeys.list({ client: 'acme', limit: 10 })), [
          'k2',
          'k3',
        ]);
        assert.deepEqual(ids(await store.apiKeys.list({ limit: 2 })), ['k1', 'k2']);
      });

      it('revoke sets the time; the earliest revocation wins; unknown ids answer null', async () => {
        await store.apiKeys.add(key('k1'));
        const later = await store.apiKeys.revoke('k1', T0 + 500, T0 + 10);
        assert.equal(later?.revokedAt, T0 + 500);
        assert.equal(later?.updatedAt, T0 + 10);
        assert.equal((await store.apiKeys.revoke('k1', T0 + 100, T0 + 20))?.revokedAt, T0 + 100);
        assert.equal((await store.apiKeys.revoke('k1', T0 + 900, T0 + 30))?.revokedAt, T0 + 100);
        assert.equal((await store.apiKeys.get('k1'))?.revokedAt, T0 + 100);
        assert.equal(await store.apiKeys.revoke('nope', T0, T0), null);
      });
    });

    describe('checkpoints', () => {
      const NAME = 'poll:tpl';

      it('get returns null for a checkpoint never set', async () => {
        assert.equal(await store.checkpoints.get(NAME), null);
      });

      it('advance from null creates it; get returns name, value and time', async () => {
        assert.equal(await store.checkpoints.advance(NAME, null, 'w-1', T0), true);
        assert.deepEqual(await store.checkpoints.get(NAME), {
          name: NAME,
          value: 'w-1',
          updatedAt: T0,
        });
      });

      it('advance from the current value moves it and its time', async () => {
        await store.checkpoints.advance(NAME, null, 'w-1', T0);
        assert.equal(await store.checkpoints.advance(NAME, 'w-1', 'w-2', T0 + 5), true);
        assert.deepEqual(await store.checkpoints.get(NAME), {
          name: NAME,
          value: 'w-2',
          updatedAt: T0 + 5,
        });
        // Advancing to the value it already holds is a successful no-op move (time only).
        assert.equal(await store.checkpoints.advance(NAME, 'w-2', 'w-2', T0 + 6), true);
        assert.equal((await store.checkpoints.get(NAME))?.updatedAt, T0 + 6);
      });

      it('advance from a stale value is refused and changes nothing', async () => {
        await store.checkpoints.advance(NAME, null, 'w-1', T0);
        await store.checkpoints.advance(NAME, 'w-1', 'w-2', T0 + 1);
        assert.equal(await store.checkpoints.advance(NAME, 'w-1', 'w-3', T0 + 2), false);
        assert.deepEqual(await store.checkpoints.get(NAME), {
          name: NAME,
          value: 'w-2',
          updatedAt: T0 + 1,
        });
      });

      it('advance from null when it exists is refused and changes nothing', async () => {
        await store.checkpoints.advance(NAME, null, 'w-1', T0);
        assert.equal(await store.checkpoints.advance(NAME, null, 'w-other', T0 + 1), false);
        assert.deepEqual(await store.checkpoints.get(NAME), {
          name: NAME,
          value: 'w-1',
          updatedAt: T0,
        });
      });

      it('advance from a value when it does not exist is refused and creates nothing', async () => {
        assert.equal(await store.checkpoints.advance(NAME, 'w-1', 'w-2', T0), false);
        assert.equal(await store.checkpoints.get(NAME), null);
      });

      it('checkpoints of different names are independent; values are opaque text', async () => {
        const opaque = '{"at":"2026-11-27T10:00:00.1230000","ids":["a;b","c\\d"]} ünïcode';
        assert.equal(await store.checkpoints.advance('poll:wms', null, opaque, T0), true);
        assert.equal(await store.checkpoints.advance('poll:tpl', null, '', T0 + 1), true);
        assert.equal((await store.checkpoints.get('poll:wms'))?.value, opaque);
        assert.equal((await store.checkpoints.get('poll:tpl'))?.value, '');
        assert.equal(await store.checkpoints.advance('poll:tpl', '', 'x', T0 + 2), true);
        assert.equal((await store.checkpoints.get('poll:wms'))?.value, opaque);
      });

      it('20 concurrent first advances: exactly one creates it', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            store.checkpoints.advance(NAME, null, `replica-${index}`, T0),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1);
        const winner = results.indexOf(true);
        assert.equal((await store.checkpoints.get(NAME))?.value, `replica-${winner}`);
      });

      it('20 concurrent advances from one value (replicas polling one window): exactly one wins', async () => {
        await store.checkpoints.advance(NAME, null, 'w-1', T0);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            store.checkpoints.advance(NAME, 'w-1', `w-2-${index}`, T0 + 1),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1);
        const winner = results.indexOf(true);
        assert.equal((await store.checkpoints.get(NAME))?.value, `w-2-${winner}`);
      });

      const badArguments: readonly [string, () => Promise<unknown>, string][] = [
        [
          'get with an empty name',
          () => store.checkpoints.get(''),
          'store: expected checkpoint name to be a non-empty string, got ""',
        ],
        [
          'advance with an empty name',
          () => store.checkpoints.advance('', null, 'v', T0),
          'store: expected checkpoint name to be a non-empty string, got ""',
        ],
        [
          'advance from undefined (neither null nor a string)',
          // Reached from JavaScript, or from a value read without checking.
          () => store.checkpoints.advance(NAME, undefined as unknown as null, 'v', T0),
          'store: expected the expected checkpoint value to be a string or null, got undefined',
        ],
        [
          'advance to a number',
          () => store.checkpoints.advance(NAME, null, 42 as unknown as string, T0),
          'store: expected the new checkpoint value to be a string, got 42',
        ],
      ];
      for (const [what, call, message] of badArguments) {
        it(`refuses ${what}`, async () => {
          await assert.rejects(call(), { name: 'TypeError', message });
          assert.equal(await store.checkpoints.get(NAME), null);
        });
      }
    });

    describe('lifecycle', () => {
      it('everything survives closing the store and opening it again', async () => {
        await store.idempotency.begin(beginRequest());
        await store.idempotency.complete('caller-a', 'key-1', 'owner-a', { ok: true }, T0 + 1);
        await store.orders.create(newOrder('XD-1'));
        const entry = await store.ledger.append(ledgerEntry('XD-1'));
        await store.deadLetters.add(letter('DL-1'));
        await store.xrefs.put({
          type: 'Order',
          key: 'XD-1',
          source: 'erp',
          entity: 'salesOrder',
          nativeId: 'SO-1',
        });
        await store.checkpoints.advance('poll:tpl', null, 'w-1', T0);
        await store.exceptions.open(exceptionItem('EX-1'));
        await store.exceptions.comment('EX-1', { id: 'c1', author: 'ana', at: T0, text: 'kept' });
        await store.close();

        const reopened = await fresh.reopen();
        const replay = await reopened.idempotency.begin(beginRequest({ now: T0 + 2 }));
        assert.equal(replay.kind, 'replay');
        assert.deepEqual(replay.record.result, { ok: true });
        assert.equal((await reopened.orders.get('XD-1'))?.version, 1);
        assert.deepEqual(await reopened.ledger.list('XD-1'), [entry]);
        const next = await reopened.ledger.append(ledgerEntry('XD-1'));
        assert.ok(next.seq > entry.seq);
        assert.equal((await reopened.deadLetters.get('DL-1'))?.status, 'PENDING');
        assert.equal(await reopened.xrefs.findKey('Order', 'erp', 'salesOrder', 'SO-1'), 'XD-1');
        assert.deepEqual(await reopened.checkpoints.get('poll:tpl'), {
          name: 'poll:tpl',
          value: 'w-1',
          updatedAt: T0,
        });
        assert.equal(await reopened.checkpoints.advance('poll:tpl', 'w-1', 'w-2', T0 + 1), true);
        assert.deepEqual((await reopened.exceptions.get('EX-1'))?.comments, [
          { id: 'c1', author: 'ana', at: T0, text: 'kept' },
        ]);
      });

      it('close is idempotent', async () => {
        await store.close();
        await store.close();
      });
    });
  });
}

describe('mongodb store options (checked before connecting, so no server is needed)', () => {
  const badOptions: readonly [string, () => Promise<Store>, string][] = [
    [
      'a URI of another scheme, without echoing it',
      () => createMongoStore({ uri: 'http://user:secret@db.example' }),
      'mongodb store: expected uri to start with mongodb:// or mongodb+srv://, got "http://…"',
    ],
    [
      'a URI without a scheme',
      () => createMongoStore({ uri: 'localhost:27017' }),
      'mongodb store: expected uri to start with mongodb:// or mongodb+srv://, got a string without a scheme',
    ],
    [
      'a database name MongoDB rejects',
      () => createMongoStore({ uri: 'mongodb://localhost:27017', database: 'cross.dock' }),
      'mongodb store: expected database to be a MongoDB database name, got "cross.dock"',
    ],
    [
      'a bad URI through createStore, which picks MongoDB whenever a URI is given',
      () => createStore({ mongodbUri: 'postgres://localhost/crossdock' }),
      'mongodb store: expected uri to start with mongodb:// or mongodb+srv://, got "postgres://…"',
    ],
  ];
  for (const [what, open, message] of badOptions) {
    it(`refuses ${what}`, async () => {
      await assert.rejects(open(), { name: 'TypeError', message });
    });
  }
});

describe('sqlite store only', () => {
  const dirs: string[] = [];
  const newDir = (): string => {
    const dir = tempDir();
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const badOptions: readonly [string, SqliteStoreOptions, string][] = [
    [
      'an empty path',
      { path: '' },
      `sqlite store: expected path to be a file path or ':memory:', got ""`,
    ],
    [
      'a negative busy timeout',
      { path: ':memory:', busyTimeoutMs: -1 },
      'sqlite store: expected busyTimeoutMs to be a non-negative integer, got -1',
    ],
    [
      'an unknown synchronous mode',
      // Reached from JavaScript or an unchecked environment value.
      { path: ':memory:', synchronous: 'OFF' as 'FULL' },
      `sqlite store: expected synchronous to be 'NORMAL' or 'FULL', got "OFF"`,
    ],
  ];
  for (const [what, options, message] of badOptions) {
    it(`refuses ${what}`, () => {
      assert.throws(() => createSqliteStore(options), { name: 'TypeError', message });
    });
  }

  it('opens in memory for tests', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    assert.equal((await store.idempotency.begin(beginRequest())).kind, 'started');
    await store.close();
  });

  it('createStore without a MongoDB URI creates the data directory and a WAL-mode file', async () => {
    const dataDir = join(newDir(), 'nested', 'data');
    const store = await createStore({ mongodbUri: '', dataDir });
    assert.equal(store.kind, 'sqlite');
    await store.orders.create(newOrder('XD-1'));
    const file = join(dataDir, SQLITE_FILE_NAME);
    assert.ok(existsSync(file));
    const raw = new Database(file, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.deepEqual(raw.prepare('SELECT version FROM schema_version ORDER BY version').all(), [
      { version: 1 },
      { version: 2 },
      { version: 3 },
      { version: 4 },
      { version: 5 },
      { version: 6 },
    ]);
    raw.close();
    await store.close();
    assert.equal(DEFAULT_DATA_DIR, './data');
  });

  it('a file of schema version 1 (before checkpoints) is migrated at open, its data kept', async () => {
    const file = join(newDir(), 'v1.sqlite');
    const first = createSqliteStore({ path: file });
    await first.orders.create(newOrder('XD-1'));
    await first.close();
    // Turn the file back into what the release before checkpoints left on disk.
    const raw = new Database(file);
    raw.exec(
      'DROP TABLE checkpoints; DROP TABLE api_keys; DROP INDEX ledger_correlation; DROP INDEX ledger_at; DROP TABLE exceptions; DROP TABLE exception_comments; DELETE FROM schema_version WHERE version >= 2;',
    );
    raw.close();

    const upgraded = createSqliteStore({ path: file });
    assert.equal((await upgraded.orders.get('XD-1'))?.id, 'XD-1');
    assert.equal(await upgraded.checkpoints.advance('poll:tpl', null, 'w-1', T0), true);
    assert.equal((await upgraded.checkpoints.get('poll:tpl'))?.value, 'w-1');
    assert.equal(await upgraded.apiKeys.get('k1'), null);
    assert.equal((await upgraded.exceptions.open(exceptionItem('EX-1'))).created, true);
    await upgraded.close();
    const check = new Database(file, { readonly: true });
    assert.deepEqual(check.prepare('SELECT version FROM schema_version ORDER BY version').all(), [
      { version: 1 },
      { version: 2 },
      { version: 3 },
      { version: 4 },
      { version: 5 },
      { version: 6 },
    ]);
    check.close();
  });

  // An autocommitted write read back with RETURNING must still let SQLite checkpoint its WAL
  // (store/sqlite.ts `returned`): without the checkpoint the WAL grows with every write.
  const WAL_WRITES = 1_500;
  const walWrites: readonly [string, (store: Store, i: number) => Promise<unknown>][] = [
    ['orders.create', (store, i) => store.orders.create(newOrder(`XD-${i}`))],
    [
      'orders.update',
      async (store, i) => {
        if (i === 0) await store.orders.create(newOrder('XD-U'));
        return store.orders.update('XD-U', i + 1, { status: `S${i}` }, T0 + i);
      },
    ],
    ['ledger.append', (store, i) => store.ledger.append(ledgerEntry(`XD-${i % 50}`))],
    [
      'deadLetters.claim and release',
      async (store, i) => {
        if (i === 0) await store.deadLetters.add(letter('DL-W', { orderId: 'XD-W' }));
        await store.deadLetters.claim('owner', 1_000, T0 + i, 'DL-W');
        return store.deadLetters.release(
          'DL-W',
          'owner',
          { status: 'PENDING', nextAttemptAt: T0 + i, lastError: 'again' },
          T0 + i,
        );
      },
    ],
  ];
  for (const [what, write] of walWrites) {
    it(`${what}: the WAL stays at its checkpoint size over ${WAL_WRITES} writes`, async () => {
      const file = join(newDir(), 'wal.sqlite');
      const store = createSqliteStore({ path: file });
      try {
        for (let i = 0; i < WAL_WRITES; i++) await write(store, i);
        // SQLite checkpoints at 1,000 pages (4 KiB each): the WAL is reused from its start after.
        const walBytes = statSync(`${file}-wal`).size;
        assert.ok(
          walBytes <= 6 * 1024 * 1024,
          `WAL of ${walBytes} bytes after ${WAL_WRITES} writes`,
        );
      } finally {
        await store.close();
      }
    });
  }

  it('synchronous FULL is accepted', async () => {
    const store = createSqliteStore({ path: join(newDir(), 'x.sqlite'), synchronous: 'FULL' });
    await store.close();
  });

  describe('two processes on one fresh file', () => {
    const KEYS = 100;
    const APPENDS = 100;
    const LETTERS = 30;
    let file: string;
    let results: WorkerResult[];

    before(async () => {
      file = join(newDir(), 'shared', 'crossdock.sqlite');
      // Both open (and so migrate) the fresh file at the same moment.
      const workers = [
        spawnStoreWorker(file, 'one', { keys: KEYS, appends: APPENDS }),
        spawnStoreWorker(file, 'two', { keys: KEYS, appends: APPENDS }),
      ];
      try {
        await Promise.all(workers.map((worker) => worker.ready));
        const seeder = createSqliteStore({ path: file });
        for (let index = 0; index < LETTERS; index += 1) {
          await seeder.deadLetters.add(
            letter(`DL-${index}`, { orderId: `XD-${index}`, nextAttemptAt: 0, createdAt: 0 }),
          );
        }
        await seeder.close();
        for (const worker of workers) worker.go();
        results = await Promise.all(workers.map((worker) => worker.result));
      } catch (error) {
        // One worker failed: the other may be waiting for `go`, which would hang the run.
        for (const worker of workers) worker.kill();
        throw error;
      }
    });

    it('migrated the schema exactly once', () => {
      const raw = new Database(file, { readonly: true });
      assert.deepEqual(raw.prepare('SELECT version FROM schema_version ORDER BY version').all(), [
        { version: 1 },
        { version: 2 },
        { version: 3 },
        { version: 4 },
        { version: 5 },
        { version: 6 },
      ]);
      raw.close();
    });

    it(`started each of the ${KEYS} keys exactly once; the other process saw in_progress`, () => {
      const byKey = new Map<string, string[]>();
      for (const result of results) {
        for (const [key, kind] of result.outcomes)
          byKey.set(key, [...(byKey.get(key) ?? []), kind]);
      }
      assert.equal(byKey.size, KEYS);
      for (const [key, kinds] of byKey) {
        assert.deepEqual([...kinds].sort(), ['in_progress', 'started'], key);
      }
      const started = results.flatMap((result) =>
        result.outcomes.filter(([, kind]) => kind === 'started'),
      );
      assert.equal(started.length, KEYS);
    });

    it('gave every ledger append a distinct seq, increasing in the order each process committed', () => {
      const all = results.flatMap((result) => result.seqs);
      assert.equal(all.length, APPENDS * 2);
      assert.equal(new Set(all).size, APPENDS * 2);
      for (const result of results) {
        assert.deepEqual(
          result.seqs,
          [...result.seqs].sort((x, y) => x - y),
        );
      }
    });

    it(`claimed each of the ${LETTERS} dead letters exactly once`, () => {
      const claimed = results.flatMap((result) => result.claimed).sort();
      const expected = Array.from({ length: LETTERS }, (_, index) => `DL-${index}`).sort();
      assert.deepEqual(claimed, expected);
    });

    it('advanced the shared checkpoint from each value exactly once, with no step lost', async () => {
      // Each worker read the checkpoint and advanced it by one, many times, racing the other.
      const from = results.flatMap((result) => result.advancedFrom);
      assert.equal(new Set(from).size, from.length, 'two processes advanced from one value');
      const reader = createSqliteStore({ path: file });
      const final = await reader.checkpoints.get('race');
      await reader.close();
      assert.equal(final?.value, String(from.length - 1));
      const order = (value: string): number => (value === 'null' ? -1 : Number(value));
      assert.deepEqual(
        [...from].sort((x, y) => order(x) - order(y)),
        ['null', ...Array.from({ length: from.length - 1 }, (_, index) => String(index))],
      );
      assert.equal(from.length, CHECKPOINT_STEPS + 1);
      // Both took part: the race was real.
      for (const result of results) assert.ok(result.advancedFrom.length > 0, result.name);
    });
  });
});

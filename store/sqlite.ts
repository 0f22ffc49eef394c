/**
 * The embedded store: SQLite through better-sqlite3, one file in the data directory. The
 * default when MONGODB_URI is not set. Survives restarts, and several Crossdock processes on one
 * machine may share the file: every decision is a single statement or one `BEGIN IMMEDIATE`
 * transaction, so SQLite's write lock (not the JavaScript event loop) is what serialises them.
 *
 * better-sqlite3 is synchronous; each method is `async` so the port stays promise-based and a
 * thrown SQLite error becomes a rejection.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type {
  BeginOutcome,
  BeginRequest,
  Checkpoint,
  StoredApiKey,
  CrossReference,
  DeadLetter,
  DeadLetterStatus,
  ExceptionChange,
  ExceptionComment,
  ExceptionItem,
  ExceptionQueue,
  ExceptionStatus,
  IdempotencyRecord,
  IdempotencyState,
  LedgerEntry,
  StepOutcome,
  Store,
  StoredOrder,
} from './contract.js';
import { DEAD_LETTER_STATUSES, StoreConflictError } from './contract.js';
import {
  checkCheckpointName,
  checkCheckpointValues,
  checkLimit,
  fromJson,
  fromJsonObject,
  toJson,
  unreachable,
} from './codec.js';

/**
 * How hard SQLite works to make a commit durable (`PRAGMA synchronous`).
 * - `NORMAL`: in WAL mode a commit survives a crash of the process (the WAL is written before
 *   the commit returns) but the last commits may be lost if the machine loses power;
 * - `FULL`: every commit is fsynced, so it also survives power loss, at the cost of one fsync
 *   per write.
 */
export type SqliteSynchronous = 'NORMAL' | 'FULL';

/** Default of {@link SqliteStoreOptions.busyTimeoutMs}. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** Default of {@link SqliteStoreOptions.synchronous}. */
export const DEFAULT_SYNCHRONOUS: SqliteSynchronous = 'NORMAL';

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file (its directory is created if missing), or `':memory:'` for tests. */
  readonly path: string;
  /**
   * How long a write waits for another process holding the write lock before failing with
   * SQLITE_BUSY.
   * @default 5_000 // 5 seconds
   */
  readonly busyTimeoutMs?: number;
  /**
   * Commit durability; see {@link SqliteSynchronous}. NORMAL is enough for what Crossdock
   * guards against (a crashed or killed process); choose FULL when a power cut must not lose
   * the last idempotency records.
   * @default 'NORMAL'
   */
  readonly synchronous?: SqliteSynchronous;
}

/**
 * The schema, one entry per version, applied in order. Never edit a released entry: append a
 * new one. JSON columns are TEXT. No foreign keys: the ledger and dead letters also describe
 * orders that were placed in the ERP directly and so have no `orders` row.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE idempotency (
    scope            TEXT    NOT NULL,
    key              TEXT    NOT NULL,
    operation        TEXT    NOT NULL,
    fingerprint      TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('IN_PROGRESS', 'COMPLETED')),
    result           TEXT    NOT NULL,
    resource_id      TEXT,
    owner            TEXT    NOT NULL,
    lease_expires_at INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
  );
  CREATE INDEX idempotency_expires_at ON idempotency (expires_at);

  CREATE TABLE orders (
    id              TEXT    PRIMARY KEY,
    channel         TEXT    NOT NULL,
    customer_number TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    erp_number      TEXT,
    data            TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
  );
  CREATE INDEX orders_erp_number ON orders (erp_number) WHERE erp_number IS NOT NULL;
  CREATE INDEX orders_status ON orders (status, id);
  CREATE INDEX orders_customer_number ON orders (customer_number, id);

  -- AUTOINCREMENT rather than a bare rowid: a seq is never reused, even after the newest
  -- entries are deleted, so "strictly increasing across the store" holds for the file's life.
  CREATE TABLE ledger (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id       TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    step           TEXT    NOT NULL,
    outcome        TEXT    NOT NULL
                   CHECK (outcome IN ('STARTED', 'SUCCEEDED', 'FAILED', 'COMPENSATED', 'SKIPPED')),
    status         TEXT,
    correlation_id TEXT,
    caller         TEXT    NOT NULL,
    duration_ms    REAL,
    detail         TEXT    NOT NULL
  );
  CREATE INDEX ledger_order ON ledger (order_id, seq);

  CREATE TABLE dead_letters (
    id               TEXT    PRIMARY KEY,
    order_id         TEXT    NOT NULL,
    step             TEXT    NOT NULL,
    status           TEXT    NOT NULL
                     CHECK (status IN ('PENDING', 'RETRYING', 'RESOLVED', 'ABANDONED')),
    payload          TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    last_error       TEXT    NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    owner            TEXT,
    lease_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
  );
  -- At most one open letter per (order, step): a step that keeps failing updates one letter
  -- instead of piling up copies that would each be retried.
  CREATE UNIQUE INDEX dead_letters_open ON dead_letters (order_id, step)
    WHERE status IN ('PENDING', 'RETRYING');
  CREATE INDEX dead_letters_due ON dead_letters (status, next_attempt_at);
  CREATE INDEX dead_letters_order ON dead_letters (order_id, created_at);

  CREATE TABLE xrefs (
    type      TEXT NOT NULL,
    key       TEXT NOT NULL,
    source    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    native_id TEXT NOT NULL,
    PRIMARY KEY (type, key, source, entity)
  );
  CREATE INDEX xrefs_native ON xrefs (type, source, entity, native_id);
  `,
  // 2: checkpoints of background readers (issue #4, polling). The primary key is what makes
  // advancing from "absent" a compare-and-set: of two inserts of one name, one fails.
  `
  CREATE TABLE checkpoints (
    name       TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 3: API keys of the key management API and revocations of configured keys (issue #10).
  // SQLite's UNIQUE lets several NULL hashes (configured keys' records) coexist.
  `
  CREATE TABLE api_keys (
    id          TEXT    PRIMARY KEY,
    client      TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    channel     TEXT,
    customer    TEXT,
    customers   TEXT,
    hash        TEXT    UNIQUE,
    expires_at  INTEGER,
    revoked_at  INTEGER,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  CREATE INDEX api_keys_client ON api_keys (client, id);
  `,
  // 4: what one correlation ID touched (issue #11, Query.trace).
  `
  CREATE INDEX ledger_correlation ON ledger (correlation_id, seq);
  `,
  // 5: the ledger by time (issue #11, business views: latency by step in a window).
  `
  CREATE INDEX ledger_at ON ledger (at, seq);
  `,
  // 6: exception queues (issue #11, item 7). The unique source key is what makes feeding the
  // same dead letter or event twice return the one item; a comment's (item, id) key makes a
  // repeated comment a no-op.
  `
  CREATE TABLE exceptions (
    id          TEXT    PRIMARY KEY,
    source_key  TEXT    NOT NULL UNIQUE,
    queue       TEXT    NOT NULL CHECK (queue IN ('ORDERS', 'RETURNS', 'INVOICES', 'WEBHOOKS')),
    kind        TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('OPEN', 'ASSIGNED', 'RESOLVED')),
    order_id    TEXT,
    summary     TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    assignee    TEXT,
    resolution  TEXT,
    resolved_by TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    resolved_at INTEGER
  );
  CREATE INDEX exceptions_queue_status ON exceptions (queue, status, id);
  CREATE INDEX exceptions_status ON exceptions (status, id);

  CREATE TABLE exception_comments (
    exception_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    author       TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    text         TEXT    NOT NULL,
    PRIMARY KEY (exception_id, id)
  );
  `,
];

interface IdempotencyRow {
  scope: string;
  key: string;
  operation: string;
  fingerprint: string;
  /** Guaranteed by the column's CHECK constraint. */
  state: IdempotencyState;
  result: string;
  resource_id: string | null;
  owner: string;
  lease_expires_at: number;
  created_at: number;
  updated_at: number;
  expires_at: number;
}

interface OrderRow {
  id: string;
  channel: string;
  customer_number: string;
  status: string;
  erp_number: string | null;
  data: string;
  version: number;
  created_at: number;
  updated_at: number;
}

interface LedgerRow {
  seq: number;
  order_id: string;
  at: number;
  step: string;
  /** Guaranteed by the column's CHECK constraint. */
  outcome: StepOutcome;
  status: string | null;
  correlation_id: string | null;
  caller: string;
  duration_ms: number | null;
  detail: string;
}

interface DeadLetterRow {
  id: string;
  order_id: string;
  step: string;
  /** Guaranteed by the column's CHECK constraint. */
  status: DeadLetterStatus;
  payload: string;
  attempts: number;
  last_error: string;
  next_attempt_at: number;
  owner: string | null;
  lease_expires_at: number | null;
  created_at: number;
  updated_at: number;
}

interface XrefRow {
  type: string;
  key: string;
  source: string;
  entity: string;
  native_id: string;
}

interface ApiKeyRow {
  id: string;
  client: string;
  role: string;
  channel: string | null;
  customer: string | null;
  /** JSON array, or NULL. */
  customers: string | null;
  hash: string | null;
  expires_at: number | null;
  revoked_at: number | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

interface ExceptionRow {
  id: string;
  source_key: string;
  /** Guaranteed by the column's CHECK constraint. */
  queue: ExceptionQueue;
  kind: string;
  /** Guaranteed by the column's CHECK constraint. */
  status: ExceptionStatus;
  order_id: string | null;
  summary: string;
  detail: string;
  assignee: string | null;
  resolution: string | null;
  resolved_by: string | null;
  created_at: number;
  updated_at: number;
  resolved_at: number | null;
}

interface ExceptionCommentRow {
  exception_id: string;
  id: string;
  author: string;
  at: number;
  text: string;
}

interface CheckpointRow {
  name: string;
  value: string;
  updated_at: number;
}

/** Opens (creating and migrating if needed) the embedded store at `options.path`. */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const path = checkPath(options.path);
  const busyTimeoutMs = checkBusyTimeout(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  const synchronous = checkSynchronous(options.synchronous ?? DEFAULT_SYNCHRONOUS);

  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    // busy_timeout first: switching a fresh file to WAL takes a lock that a second process
    // opening the same file at the same moment must wait for rather than fail on.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // WAL: readers never block the writer and a commit is an append to the log.
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }

  // --- idempotency -----------------------------------------------------------------------

  // One statement claims a new key or replaces an expired record (expired = absent: it is
  // started afresh, never replayed). changes() is 1 exactly when the caller now owns the key.
  const claimKey = db.prepare<{
    scope: string;
    key: string;
    operation: string;
    fingerprint: string;
    owner: string;
    leaseExpiresAt: number;
    now: number;
    expiresAt: number;
  }>(`
    INSERT INTO idempotency (scope, key, operation, fingerprint, state, result, resource_id,
                             owner, lease_expires_at, created_at, updated_at, expires_at)
    VALUES (@scope, @key, @operation, @fingerprint, 'IN_PROGRESS', 'null', NULL,
            @owner, @leaseExpiresAt, @now, @now, @expiresAt)
    ON CONFLICT (scope, key) DO UPDATE SET
      operation = excluded.operation, fingerprint = excluded.fingerprint, state = excluded.state,
      result = excluded.result, resource_id = NULL, owner = excluded.owner,
      lease_expires_at = excluded.lease_expires_at, created_at = excluded.created_at,
      updated_at = excluded.updated_at, expires_at = excluded.expires_at
    WHERE idempotency.expires_at <= excluded.created_at`);
  const selectKey = db.prepare<[string, string], IdempotencyRow>(
    'SELECT * FROM idempotency WHERE scope = ? AND key = ?',
  );
  // expires_at never falls before the lease: a record whose owner is still working is never
  // purged or treated as expired (which would let a retry start the operation a second time).
  const takeOver = db.prepare<{
    scope: string;
    key: string;
    owner: string;
    leaseExpiresAt: number;
    now: number;
  }>(`
    UPDATE idempotency
       SET owner = @owner, lease_expires_at = @leaseExpiresAt, updated_at = @now,
           expires_at = MAX(expires_at, @leaseExpiresAt)
     WHERE scope = @scope AND key = @key
       AND state = 'IN_PROGRESS' AND lease_expires_at <= @now`);
  const renewLease = db.prepare<{
    scope: string;
    key: string;
    owner: string;
    leaseExpiresAt: number;
    now: number;
  }>(`
    UPDATE idempotency
       SET lease_expires_at = @leaseExpiresAt, updated_at = @now,
           expires_at = MAX(expires_at, @leaseExpiresAt)
     WHERE scope = @scope AND key = @key AND owner = @owner AND state = 'IN_PROGRESS'`);
  const attachKeyResource = db.prepare<{
    scope: string;
    key: string;
    owner: string;
    resourceId: string;
    now: number;
  }>(`
    UPDATE idempotency SET resource_id = @resourceId, updated_at = @now
     WHERE scope = @scope AND key = @key AND owner = @owner AND state = 'IN_PROGRESS'`);
  const completeKey = db.prepare<{
    scope: string;
    key: string;
    owner: string;
    result: string;
    now: number;
  }>(`
    UPDATE idempotency SET state = 'COMPLETED', result = @result, updated_at = @now
     WHERE scope = @scope AND key = @key AND owner = @owner AND state = 'IN_PROGRESS'`);
  const purgeKeys = db.prepare<[number]>('DELETE FROM idempotency WHERE expires_at <= ?');

  // The whole decision in one IMMEDIATE transaction: it takes the write lock up front, so
  // another process cannot change the record between the claim, the read and the take-over.
  const beginTransaction = db.transaction((request: BeginRequest): BeginOutcome => {
    const leaseExpiresAt = request.now + request.leaseMs;
    const claimed = claimKey.run({
      scope: request.scope,
      key: request.key,
      operation: request.operation,
      fingerprint: request.fingerprint,
      owner: request.owner,
      leaseExpiresAt,
      now: request.now,
      expiresAt: request.now + Math.max(request.retentionMs, request.leaseMs),
    });
    const row = mustExist(selectKey.get(request.scope, request.key), request);
    if (claimed.changes === 1) return { kind: 'started', record: toIdempotencyRecord(row) };
    if (row.fingerprint !== request.fingerprint || row.operation !== request.operation) {
      return { kind: 'mismatch', record: toIdempotencyRecord(row) };
    }
    switch (row.state) {
      case 'COMPLETED':
        return { kind: 'replay', record: toIdempotencyRecord(row) };
      case 'IN_PROGRESS': {
        // A live lease means someone (even this same process, for a concurrent retry) is
        // running the operation right now.
        if (row.lease_expires_at > request.now) {
          return { kind: 'in_progress', record: toIdempotencyRecord(row) };
        }
        const taken = takeOver.run({
          scope: request.scope,
          key: request.key,
          owner: request.owner,
          leaseExpiresAt,
          now: request.now,
        });
        const after = mustExist(selectKey.get(request.scope, request.key), request);
        // Inside the transaction nothing else can have moved the record, so this holds; the
        // check stays so that a logic error shows as in_progress, never as a double owner.
        return taken.changes === 1
          ? { kind: 'taken_over', record: toIdempotencyRecord(after) }
          : { kind: 'in_progress', record: toIdempotencyRecord(after) };
      }
      default:
        return unreachable(row.state);
    }
  });

  // --- orders ----------------------------------------------------------------------------

  const insertOrder = db.prepare<
    {
      id: string;
      channel: string;
      customerNumber: string;
      status: string;
      erpNumber: string | null;
      data: string;
      createdAt: number;
    },
    OrderRow
  >(`
    INSERT INTO orders (id, channel, customer_number, status, erp_number, data, version,
                        created_at, updated_at)
    VALUES (@id, @channel, @customerNumber, @status, @erpNumber, @data, 1, @createdAt, @createdAt)
    RETURNING *`);
  const selectOrder = db.prepare<[string], OrderRow>('SELECT * FROM orders WHERE id = ?');
  const selectOrderByErp = db.prepare<[string], OrderRow>(
    'SELECT * FROM orders WHERE erp_number = ? ORDER BY id LIMIT 1',
  );
  // Compare-and-set on version: one statement, so two writers can never both succeed.
  // The set* flags say which fields the patch carries (SQLite has no "absent" value).
  const updateOrder = db.prepare<
    {
      id: string;
      expectedVersion: number;
      setStatus: 0 | 1;
      status: string | null;
      setErpNumber: 0 | 1;
      erpNumber: string | null;
      setData: 0 | 1;
      data: string | null;
      now: number;
    },
    OrderRow
  >(`
    UPDATE orders
       SET status     = CASE WHEN @setStatus    THEN @status    ELSE status     END,
           erp_number = CASE WHEN @setErpNumber THEN @erpNumber ELSE erp_number END,
           data       = CASE WHEN @setData      THEN @data      ELSE data       END,
           version    = version + 1,
           updated_at = @now
     WHERE id = @id AND version = @expectedVersion
    RETURNING *`);
  const listOrders = db.prepare<
    {
      status: string | null;
      customerNumber: string | null;
      channel: string | null;
      after: string | null;
      limit: number;
    },
    OrderRow
  >(`
    SELECT * FROM orders
     WHERE (@status IS NULL OR status = @status)
       AND (@customerNumber IS NULL OR customer_number = @customerNumber)
       AND (@channel IS NULL OR channel = @channel)
       AND (@after IS NULL OR id > @after)
     ORDER BY id
     LIMIT @limit`);

  // --- ledger ----------------------------------------------------------------------------

  const insertLedger = db.prepare<
    {
      orderId: string;
      at: number;
      step: string;
      outcome: StepOutcome;
      status: string | null;
      correlationId: string | null;
      caller: string;
      durationMs: number | null;
      detail: string;
    },
    LedgerRow
  >(`
    INSERT INTO ledger (order_id, at, step, outcome, status, correlation_id, caller, duration_ms,
                        detail)
    VALUES (@orderId, @at, @step, @outcome, @status, @correlationId, @caller, @durationMs, @detail)
    RETURNING *`);
  const listLedger = db.prepare<[string], LedgerRow>(
    'SELECT * FROM ledger WHERE order_id = ? ORDER BY seq',
  );
  const ledgerOfCorrelation = db.prepare<[string, number], LedgerRow>(
    'SELECT * FROM ledger WHERE correlation_id = ? ORDER BY seq LIMIT ?',
  );
  const ledgerBetween = db.prepare<
    { since: number; until: number; afterAt: number | null; afterSeq: number; limit: number },
    LedgerRow
  >(`
    SELECT * FROM ledger
     WHERE at >= @since AND at < @until
       AND (@afterAt IS NULL OR at > @afterAt OR (at = @afterAt AND seq > @afterSeq))
     ORDER BY at, seq
     LIMIT @limit`);

  // --- dead letters ----------------------------------------------------------------------

  const insertLetter = db.prepare<
    {
      id: string;
      orderId: string;
      step: string;
      payload: string;
      lastError: string;
      nextAttemptAt: number;
      createdAt: number;
    },
    DeadLetterRow
  >(`
    INSERT INTO dead_letters (id, order_id, step, status, payload, attempts, last_error,
                              next_attempt_at, owner, lease_expires_at, created_at, updated_at)
    VALUES (@id, @orderId, @step, 'PENDING', @payload, 0, @lastError, @nextAttemptAt, NULL, NULL,
            @createdAt, @createdAt)
    ON CONFLICT DO NOTHING
    RETURNING *`);
  const selectOpenLetter = db.prepare<[string, string], DeadLetterRow>(`
    SELECT * FROM dead_letters
     WHERE order_id = ? AND step = ? AND status IN ('PENDING', 'RETRYING')`);
  const selectLetter = db.prepare<[string], DeadLetterRow>(
    'SELECT * FROM dead_letters WHERE id = ?',
  );
  // One statement picks the oldest due letter and marks it RETRYING: the statement holds the
  // write lock from its first read, so two processes can never claim the same letter.
  const claimDue = db.prepare<
    { owner: string; leaseExpiresAt: number; now: number },
    DeadLetterRow
  >(`
    UPDATE dead_letters
       SET status = 'RETRYING', owner = @owner, lease_expires_at = @leaseExpiresAt,
           attempts = attempts + 1, updated_at = @now
     WHERE id = (
       SELECT id FROM dead_letters
        WHERE (status = 'PENDING' AND next_attempt_at <= @now)
           OR (status = 'RETRYING' AND lease_expires_at <= @now)
        ORDER BY next_attempt_at, id
        LIMIT 1)
    RETURNING *`);
  const claimById = db.prepare<
    { id: string; owner: string; leaseExpiresAt: number; now: number },
    DeadLetterRow
  >(`
    UPDATE dead_letters
       SET status = 'RETRYING', owner = @owner, lease_expires_at = @leaseExpiresAt,
           attempts = attempts + 1, updated_at = @now
     WHERE id = @id
       AND (status IN ('PENDING', 'ABANDONED')
            OR (status = 'RETRYING' AND lease_expires_at <= @now))
    RETURNING *`);
  const releaseLetter = db.prepare<
    {
      id: string;
      owner: string;
      status: DeadLetterStatus;
      setNextAttemptAt: 0 | 1;
      nextAttemptAt: number | null;
      setLastError: 0 | 1;
      lastError: string | null;
      now: number;
    },
    DeadLetterRow
  >(`
    UPDATE dead_letters
       SET status = @status, owner = NULL, lease_expires_at = NULL, updated_at = @now,
           next_attempt_at = CASE WHEN @setNextAttemptAt THEN @nextAttemptAt
                                  ELSE next_attempt_at END,
           last_error = CASE WHEN @setLastError THEN @lastError ELSE last_error END
     WHERE id = @id AND owner = @owner AND status = 'RETRYING'
    RETURNING *`);
  const listLetters = db.prepare<
    { status: DeadLetterStatus | null; orderId: string | null; limit: number },
    DeadLetterRow
  >(`
    SELECT * FROM dead_letters
     WHERE (@status IS NULL OR status = @status)
       AND (@orderId IS NULL OR order_id = @orderId)
     ORDER BY created_at, id
     LIMIT @limit`);

  const countLetters = db.prepare<[], { status: DeadLetterStatus; n: number }>(
    'SELECT status, COUNT(*) AS n FROM dead_letters GROUP BY status',
  );

  // A conflict on the open-letter index returns the open letter; a conflict on the id alone
  // (the id of a closed letter) is the caller's error.
  const addTransaction = db.transaction(
    (letter: Parameters<Store['deadLetters']['add']>[0]): DeadLetter => {
      const inserted = returned(
        insertLetter.all({
          id: letter.id,
          orderId: letter.orderId,
          step: letter.step,
          payload: toJson(letter.payload),
          lastError: letter.lastError,
          nextAttemptAt: letter.nextAttemptAt,
          createdAt: letter.createdAt,
        }),
      );
      if (inserted !== undefined) return toDeadLetter(inserted);
      const open = selectOpenLetter.get(letter.orderId, letter.step);
      if (open !== undefined) return toDeadLetter(open);
      throw new StoreConflictError(`dead letter ${letter.id} already exists`);
    },
  );

  // --- cross-references ------------------------------------------------------------------

  const upsertXref = db.prepare<{
    type: string;
    key: string;
    source: string;
    entity: string;
    nativeId: string;
  }>(`
    INSERT INTO xrefs (type, key, source, entity, native_id)
    VALUES (@type, @key, @source, @entity, @nativeId)
    ON CONFLICT (type, key, source, entity) DO UPDATE SET native_id = excluded.native_id`);
  const selectXrefs = db.prepare<[string, string], XrefRow>(
    'SELECT * FROM xrefs WHERE type = ? AND key = ? ORDER BY source, entity',
  );
  const selectXrefKey = db.prepare<[string, string, string, string], { key: string }>(`
    SELECT key FROM xrefs WHERE type = ? AND source = ? AND entity = ? AND native_id = ?
     ORDER BY key LIMIT 1`);
  const selectXrefKeys = db.prepare<[string, string, string, string, number], { key: string }>(`
    SELECT key FROM xrefs WHERE type = ? AND source = ? AND entity = ? AND native_id = ?
     ORDER BY key LIMIT ?`);

  // --- checkpoints -----------------------------------------------------------------------

  const selectCheckpoint = db.prepare<[string], CheckpointRow>(
    'SELECT * FROM checkpoints WHERE name = ?',
  );
  // Compare-and-set in one statement each: from "absent" the primary key lets one insert win;
  // from a value the WHERE clause does. changes() is 1 exactly for the caller who moved it.
  const insertCheckpoint = db.prepare<{ name: string; value: string; now: number }>(`
    INSERT INTO checkpoints (name, value, updated_at) VALUES (@name, @value, @now)
    ON CONFLICT (name) DO NOTHING`);
  const moveCheckpoint = db.prepare<{
    name: string;
    expected: string;
    value: string;
    now: number;
  }>(`
    UPDATE checkpoints SET value = @value, updated_at = @now
     WHERE name = @name AND value = @expected`);

  // --- API keys --------------------------------------------------------------------------

  const insertApiKey = db.prepare<ApiKeyRow>(`
    INSERT INTO api_keys (id, client, role, channel, customer, customers, hash, expires_at,
                          revoked_at, created_by, created_at, updated_at)
    VALUES (@id, @client, @role, @channel, @customer, @customers, @hash, @expires_at,
            @revoked_at, @created_by, @created_at, @updated_at)`);
  const selectApiKey = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?');
  const selectApiKeyByHash = db.prepare<[string], ApiKeyRow>(
    'SELECT * FROM api_keys WHERE hash = ?',
  );
  const listApiKeys = db.prepare<{ client: string | null; limit: number }, ApiKeyRow>(`
    SELECT * FROM api_keys WHERE @client IS NULL OR client = @client ORDER BY id LIMIT @limit`);
  const revokeApiKey = db.prepare<{ id: string; at: number; now: number }>(`
    UPDATE api_keys SET revoked_at = MIN(COALESCE(revoked_at, @at), @at), updated_at = @now
     WHERE id = @id`);

  // --- exception items -------------------------------------------------------------------

  const insertException = db.prepare<
    Omit<ExceptionRow, 'assignee' | 'resolution' | 'resolved_by' | 'resolved_at' | 'status'>,
    ExceptionRow
  >(`
    INSERT INTO exceptions (id, source_key, queue, kind, status, order_id, summary, detail,
                            assignee, resolution, resolved_by, created_at, updated_at, resolved_at)
    VALUES (@id, @source_key, @queue, @kind, 'OPEN', @order_id, @summary, @detail,
            NULL, NULL, NULL, @created_at, @updated_at, NULL)
    ON CONFLICT (source_key) DO NOTHING
    RETURNING *`);
  const selectException = db.prepare<[string], ExceptionRow>(
    'SELECT * FROM exceptions WHERE id = ?',
  );
  const selectExceptionBySource = db.prepare<[string], ExceptionRow>(
    'SELECT * FROM exceptions WHERE source_key = ?',
  );
  const listExceptions = db.prepare<
    { queue: string | null; status: string | null; after: string | null; limit: number },
    ExceptionRow
  >(`
    SELECT * FROM exceptions
     WHERE (@queue IS NULL OR queue = @queue)
       AND (@status IS NULL OR status = @status)
       AND (@after IS NULL OR id > @after)
     ORDER BY id
     LIMIT @limit`);
  const selectComments = db.prepare<[string], ExceptionCommentRow>(
    'SELECT * FROM exception_comments WHERE exception_id = ? ORDER BY rowid',
  );
  const assignException = db.prepare<{ id: string; assignee: string; now: number }>(`
    UPDATE exceptions SET status = 'ASSIGNED', assignee = @assignee, updated_at = @now
     WHERE id = @id AND status != 'RESOLVED'`);
  const resolveException = db.prepare<{
    id: string;
    resolution: string;
    by: string;
    now: number;
  }>(`
    UPDATE exceptions
       SET status = 'RESOLVED', resolution = @resolution, resolved_by = @by, resolved_at = @now,
           updated_at = @now
     WHERE id = @id AND status != 'RESOLVED'`);
  const insertComment = db.prepare<ExceptionCommentRow>(`
    INSERT INTO exception_comments (exception_id, id, author, at, text)
    VALUES (@exception_id, @id, @author, @at, @text)
    ON CONFLICT (exception_id, id) DO NOTHING`);
  const touchException = db.prepare<{ id: string; now: number }>(
    'UPDATE exceptions SET updated_at = MAX(updated_at, @now) WHERE id = @id',
  );

  const withComments = (row: ExceptionRow): ExceptionItem =>
    toExceptionItem(row, selectComments.all(row.id));
  /** Why a change to `id` changed nothing: it does not exist, or it is RESOLVED. */
  const refusal = (id: string): ExceptionChange => {
    const row = selectException.get(id);
    if (row === undefined) return { kind: 'not_found' };
    return { kind: 'resolved', item: withComments(row) };
  };
  const openTransaction = db.transaction(
    (
      item: Parameters<Store['exceptions']['open']>[0],
    ): { item: ExceptionItem; created: boolean } => {
      try {
        const inserted = returned(
          insertException.all({
            id: item.id,
            source_key: item.sourceKey,
            queue: item.queue,
            kind: item.kind,
            order_id: item.orderId,
            summary: item.summary,
            detail: toJson(item.detail),
            created_at: item.createdAt,
            updated_at: item.createdAt,
          }),
        );
        if (inserted !== undefined) return { item: withComments(inserted), created: true };
      } catch (error) {
        if (isConstraint(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
          throw new StoreConflictError(`exception item ${item.id} already exists`);
        }
        throw error;
      }
      const existing = mustExist(selectExceptionBySource.get(item.sourceKey), item);
      return { item: withComments(existing), created: false };
    },
  );
  // Status check, insert and touch in one transaction: a comment never lands on an item that
  // another process resolved in between.
  const commentTransaction = db.transaction(
    (id: string, comment: ExceptionComment): ExceptionChange => {
      const row = selectException.get(id);
      if (row === undefined) return { kind: 'not_found' };
      const known = selectComments.all(id).some((c) => c.id === comment.id);
      if (known) return { kind: 'ok', item: withComments(row) };
      if (row.status === 'RESOLVED') return { kind: 'resolved', item: withComments(row) };
      insertComment.run({
        exception_id: id,
        id: comment.id,
        author: comment.author,
        at: comment.at,
        text: comment.text,
      });
      touchException.run({ id, now: comment.at });
      return { kind: 'ok', item: withComments(mustExist(selectException.get(id), id)) };
    },
  );
  const changeTransaction = db.transaction((id: string, change: () => number): ExceptionChange => {
    if (change() === 0) return refusal(id);
    return { kind: 'ok', item: withComments(mustExist(selectException.get(id), id)) };
  });

  const selectOne = db.prepare('SELECT 1');

  return {
    kind: 'sqlite',

    idempotency: {
      async begin(request) {
        return beginTransaction.immediate(request);
      },
      async renew(scope, key, owner, leaseMs, now) {
        return (
          renewLease.run({ scope, key, owner, leaseExpiresAt: now + leaseMs, now }).changes === 1
        );
      },
      async attachResource(scope, key, owner, resourceId, now) {
        return attachKeyResource.run({ scope, key, owner, resourceId, now }).changes === 1;
      },
      async complete(scope, key, owner, result, now) {
        return completeKey.run({ scope, key, owner, result: toJson(result), now }).changes === 1;
      },
      async get(scope, key) {
        const row = selectKey.get(scope, key);
        return row === undefined ? null : toIdempotencyRecord(row);
      },
      async purgeExpired(now) {
        return purgeKeys.run(now).changes;
      },
    },

    orders: {
      async create(order) {
        try {
          const row = returned(
            insertOrder.all({
              id: order.id,
              channel: order.channel,
              customerNumber: order.customerNumber,
              status: order.status,
              erpNumber: order.erpNumber,
              data: toJson(order.data),
              createdAt: order.createdAt,
            }),
          );
          return toStoredOrder(mustExist(row, order));
        } catch (error) {
          if (isConstraint(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
            throw new StoreConflictError(`order ${order.id} already exists`, { cause: error });
          }
          throw error;
        }
      },
      async get(id) {
        const row = selectOrder.get(id);
        return row === undefined ? null : toStoredOrder(row);
      },
      async getByErpNumber(erpNumber) {
        const row = selectOrderByErp.get(erpNumber);
        return row === undefined ? null : toStoredOrder(row);
      },
      async update(id, expectedVersion, patch, now) {
        const row = returned(
          updateOrder.all({
            id,
            expectedVersion,
            setStatus: patch.status === undefined ? 0 : 1,
            status: patch.status ?? null,
            setErpNumber: patch.erpNumber === undefined ? 0 : 1,
            erpNumber: patch.erpNumber ?? null,
            setData: patch.data === undefined ? 0 : 1,
            data: patch.data === undefined ? null : toJson(patch.data),
            now,
          }),
        );
        return row === undefined ? null : toStoredOrder(row);
      },
      async list(filter) {
        return listOrders
          .all({
            status: filter.status ?? null,
            customerNumber: filter.customerNumber ?? null,
            channel: filter.channel ?? null,
            after: filter.after ?? null,
            limit: checkLimit(filter.limit),
          })
          .map(toStoredOrder);
      },
    },

    ledger: {
      async append(entry) {
        const row = returned(
          insertLedger.all({
            orderId: entry.orderId,
            at: entry.at,
            step: entry.step,
            outcome: entry.outcome,
            status: entry.status,
            correlationId: entry.correlationId,
            caller: entry.caller,
            durationMs: entry.durationMs,
            detail: toJson(entry.detail),
          }),
        );
        return toLedgerEntry(mustExist(row, entry));
      },
      async list(orderId) {
        return listLedger.all(orderId).map(toLedgerEntry);
      },
      async byCorrelation(correlationId, limit) {
        return ledgerOfCorrelation.all(correlationId, limit).map(toLedgerEntry);
      },
      async between(window) {
        return ledgerBetween
          .all({
            since: window.since,
            until: window.until,
            afterAt: window.after?.at ?? null,
            afterSeq: window.after?.seq ?? 0,
            limit: checkLimit(window.limit),
          })
          .map(toLedgerEntry);
      },
    },

    deadLetters: {
      async add(letter) {
        return addTransaction.immediate(letter);
      },
      async count() {
        const counts = Object.fromEntries(DEAD_LETTER_STATUSES.map((s) => [s, 0])) as Record<
          DeadLetterStatus,
          number
        >;
        for (const row of countLetters.all()) counts[row.status] = row.n;
        return counts;
      },
      async get(id) {
        const row = selectLetter.get(id);
        return row === undefined ? null : toDeadLetter(row);
      },
      async list(filter) {
        return listLetters
          .all({
            status: filter.status ?? null,
            orderId: filter.orderId ?? null,
            limit: checkLimit(filter.limit),
          })
          .map(toDeadLetter);
      },
      async claim(owner, leaseMs, now, id) {
        const leaseExpiresAt = now + leaseMs;
        if (id === undefined) {
          const row = returned(claimDue.all({ owner, leaseExpiresAt, now }));
          return row === undefined ? null : toDeadLetter(row);
        }
        try {
          const row = returned(claimById.all({ id, owner, leaseExpiresAt, now }));
          return row === undefined ? null : toDeadLetter(row);
        } catch (error) {
          // Replaying an ABANDONED letter while a newer letter for its step is open.
          if (isConstraint(error, 'SQLITE_CONSTRAINT_UNIQUE')) throw reopenConflict(id, error);
          throw error;
        }
      },
      async release(id, owner, outcome, now) {
        const common = { id, owner, now };
        let row: DeadLetterRow | undefined;
        switch (outcome.status) {
          case 'RESOLVED':
            row = returned(
              releaseLetter.all({
                ...common,
                status: 'RESOLVED',
                setNextAttemptAt: 0,
                nextAttemptAt: null,
                setLastError: 0,
                lastError: null,
              }),
            );
            break;
          case 'PENDING':
            row = returned(
              releaseLetter.all({
                ...common,
                status: 'PENDING',
                setNextAttemptAt: 1,
                nextAttemptAt: outcome.nextAttemptAt,
                setLastError: 1,
                lastError: outcome.lastError,
              }),
            );
            break;
          case 'ABANDONED':
            row = returned(
              releaseLetter.all({
                ...common,
                status: 'ABANDONED',
                setNextAttemptAt: 0,
                nextAttemptAt: null,
                setLastError: 1,
                lastError: outcome.lastError,
              }),
            );
            break;
          default:
            return unreachable(outcome);
        }
        return row === undefined ? null : toDeadLetter(row);
      },
    },

    xrefs: {
      async put(ref) {
        upsertXref.run({
          type: ref.type,
          key: ref.key,
          source: ref.source,
          entity: ref.entity,
          nativeId: ref.nativeId,
        });
      },
      async forKey(type, key) {
        return selectXrefs.all(type, key).map(toCrossReference);
      },
      async findKey(type, source, entity, nativeId) {
        return selectXrefKey.get(type, source, entity, nativeId)?.key ?? null;
      },
      async findKeys(type, source, entity, nativeId, limit) {
        return selectXrefKeys.all(type, source, entity, nativeId, limit).map((row) => row.key);
      },
    },

    checkpoints: {
      async get(name) {
        const row = selectCheckpoint.get(checkCheckpointName(name));
        return row === undefined ? null : toCheckpoint(row);
      },
      async advance(name, expected, value, now) {
        checkCheckpointName(name);
        checkCheckpointValues(expected, value);
        const result =
          expected === null
            ? insertCheckpoint.run({ name, value, now })
            : moveCheckpoint.run({ name, expected, value, now });
        return result.changes === 1;
      },
    },

    apiKeys: {
      async add(key) {
        const row: ApiKeyRow = {
          id: key.id,
          client: key.client,
          role: key.role,
          channel: key.channel,
          customer: key.customer,
          customers: key.customers === null ? null : JSON.stringify(key.customers),
          hash: key.hash,
          expires_at: key.expiresAt,
          revoked_at: null,
          created_by: key.createdBy,
          created_at: key.createdAt,
          updated_at: key.createdAt,
        };
        try {
          insertApiKey.run(row);
        } catch (error) {
          if (isConstraint(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
            throw new StoreConflictError(`an API key with id ${key.id} exists`, { cause: error });
          }
          if (isConstraint(error, 'SQLITE_CONSTRAINT_UNIQUE')) {
            throw new StoreConflictError(`API key ${key.id}: that key is already stored`, {
              cause: error,
            });
          }
          throw error;
        }
        return toApiKey(row);
      },
      async get(id) {
        const row = selectApiKey.get(id);
        return row === undefined ? null : toApiKey(row);
      },
      async findByHash(hash) {
        const row = selectApiKeyByHash.get(hash);
        return row === undefined ? null : toApiKey(row);
      },
      async list({ client, limit }) {
        return listApiKeys.all({ client: client ?? null, limit }).map(toApiKey);
      },
      async revoke(id, at, now) {
        revokeApiKey.run({ id, at, now });
        const row = selectApiKey.get(id);
        return row === undefined ? null : toApiKey(row);
      },
    },

    exceptions: {
      async open(item) {
        return openTransaction.immediate(item);
      },
      async get(id) {
        const row = selectException.get(id);
        return row === undefined ? null : withComments(row);
      },
      async list(filter) {
        return listExceptions
          .all({
            queue: filter.queue ?? null,
            status: filter.status ?? null,
            after: filter.after ?? null,
            limit: checkLimit(filter.limit),
          })
          .map(withComments);
      },
      async assign(id, assignee, now) {
        return changeTransaction.immediate(
          id,
          () => assignException.run({ id, assignee, now }).changes,
        );
      },
      async comment(id, comment) {
        return commentTransaction.immediate(id, comment);
      },
      async resolve(id, resolution, by, now) {
        return changeTransaction.immediate(
          id,
          () => resolveException.run({ id, resolution, by, now }).changes,
        );
      },
    },

    async ping() {
      if (!db.open) throw new Error('the SQLite store is closed');
      selectOne.get();
    },

    async close() {
      if (db.open) db.close();
    },
  };
}

/**
 * Applies the migrations the file lacks, in one IMMEDIATE transaction: when two processes open
 * a fresh file at once, the second waits for the first's write lock, then sees its version
 * and applies nothing.
 */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
      version    INTEGER PRIMARY KEY,
      applied_at INTEGER NOT NULL
    )`);
    const current =
      db
        .prepare<[], { version: number | null }>(
          'SELECT MAX(version) AS version FROM schema_version',
        )
        .get()?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `store schema version ${current} is newer than this Crossdock knows (${MIGRATIONS.length}): ` +
          'run a newer Crossdock against this data directory',
      );
    }
    const record = db.prepare<[number, number]>(
      'INSERT INTO schema_version (version, applied_at) VALUES (?, ?)',
    );
    MIGRATIONS.forEach((sql, index) => {
      const version = index + 1;
      if (version <= current) return;
      db.exec(sql);
      record.run(version, Date.now());
    });
  }).immediate();
}

/**
 * The row an INSERT/UPDATE … RETURNING wrote, from `statement.all(…)`; never read one with
 * `get()`. `get()` resets the statement after its first row, so an autocommitted write commits
 * in sqlite3_reset, where SQLite does not run its WAL hook: the automatic checkpoint never
 * happens, the WAL grows with every write (measured: 460 MB after 40,000 ledger entries) and
 * every read slows with it (a primary-key lookup from 1 to 13 µs). test/store-contract.test.ts
 * holds the WAL to its checkpoint size.
 */
function returned<R>(rows: R[]): R | undefined {
  return rows[0];
}

function toIdempotencyRecord(row: IdempotencyRow): IdempotencyRecord {
  return {
    scope: row.scope,
    key: row.key,
    operation: row.operation,
    fingerprint: row.fingerprint,
    state: row.state,
    result: fromJson(row.result),
    resourceId: row.resource_id,
    owner: row.owner,
    leaseExpiresAt: row.lease_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
  };
}

function toStoredOrder(row: OrderRow): StoredOrder {
  return {
    id: row.id,
    channel: row.channel,
    customerNumber: row.customer_number,
    status: row.status,
    erpNumber: row.erp_number,
    data: fromJsonObject(row.data, `order ${row.id} data`),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toLedgerEntry(row: LedgerRow): LedgerEntry {
  return {
    seq: row.seq,
    orderId: row.order_id,
    at: row.at,
    step: row.step,
    outcome: row.outcome,
    status: row.status,
    correlationId: row.correlation_id,
    caller: row.caller,
    durationMs: row.duration_ms,
    detail: fromJsonObject(row.detail, `ledger entry ${row.seq} detail`),
  };
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    orderId: row.order_id,
    step: row.step,
    status: row.status,
    payload: fromJsonObject(row.payload, `dead letter ${row.id} payload`),
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    owner: row.owner,
    leaseExpiresAt: row.lease_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toCrossReference(row: XrefRow): CrossReference {
  return {
    type: row.type,
    key: row.key,
    source: row.source,
    entity: row.entity,
    nativeId: row.native_id,
  };
}

function toApiKey(row: ApiKeyRow): StoredApiKey {
  const customers = row.customers === null ? null : fromJson(row.customers);
  return {
    id: row.id,
    client: row.client,
    role: row.role,
    channel: row.channel,
    customer: row.customer,
    customers: Array.isArray(customers) ? customers.map(String) : null,
    hash: row.hash,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toExceptionItem(row: ExceptionRow, comments: ExceptionCommentRow[]): ExceptionItem {
  return {
    id: row.id,
    sourceKey: row.source_key,
    queue: row.queue,
    kind: row.kind,
    status: row.status,
    orderId: row.order_id,
    summary: row.summary,
    detail: fromJsonObject(row.detail, `exception item ${row.id} detail`),
    assignee: row.assignee,
    comments: comments.map((c) => ({ id: c.id, author: c.author, at: c.at, text: c.text })),
    resolution: row.resolution,
    resolvedBy: row.resolved_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    resolvedAt: row.resolved_at,
  };
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  return { name: row.name, value: row.value, updatedAt: row.updated_at };
}

function isConstraint(error: unknown, code: string): boolean {
  return error instanceof Database.SqliteError && error.code === code;
}

function reopenConflict(id: string, cause: unknown): StoreConflictError {
  return new StoreConflictError(
    `dead letter ${id} cannot be claimed: another letter for its order and step is open`,
    { cause },
  );
}

/** A row just written in the same transaction or statement; its absence is a bug. */
function mustExist<T>(row: T | undefined, about: unknown): T {
  if (row === undefined) {
    throw new Error(`store: row vanished inside its own transaction: ${JSON.stringify(about)}`);
  }
  return row;
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path.trim() === '') {
    throw new TypeError(
      `sqlite store: expected path to be a file path or ':memory:', got ${JSON.stringify(path)}`,
    );
  }
  return path;
}

function checkBusyTimeout(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(
      `sqlite store: expected busyTimeoutMs to be a non-negative integer, got ${String(value)}`,
    );
  }
  return value;
}

function checkSynchronous(value: SqliteSynchronous): SqliteSynchronous {
  switch (value) {
    case 'NORMAL':
    case 'FULL':
      return value;
    default:
      // Reached by JavaScript callers and environment-derived strings that bypassed the type.
      throw new TypeError(
        `sqlite store: expected synchronous to be 'NORMAL' or 'FULL', got ${JSON.stringify(value satisfies never)}`,
      );
  }
}

/**
 * The store port: what Crossdock itself must remember, whatever backs it (embedded SQLite by
 * default, MongoDB when MONGODB_URI is set). Idempotency records, Crossdock's own order state,
 * the order ledger, dead letters, cross-references, checkpoints, API keys and exception items.
 *
 * Every method is atomic on its own; no caller ever reads then writes to decide something
 * another process could decide at the same time (the implementations use unique indexes,
 * conditional updates and transactions instead). Times are epoch milliseconds passed in by the
 * caller (`now`), so tests control the clock.
 */

// ---------------------------------------------------------------------------------------------
// Idempotency (after Stripe and the IETF Idempotency-Key draft)
// ---------------------------------------------------------------------------------------------

/** Where an idempotent operation is. */
export type IdempotencyState = 'IN_PROGRESS' | 'COMPLETED';

/** One idempotency record, unique by (scope, key). */
export interface IdempotencyRecord {
  /** Who the key belongs to (the caller's key id): keys of different callers never collide. */
  readonly scope: string;
  readonly key: string;
  /** The mutation (`placeOrder`, `cancelOrder`, ...). */
  readonly operation: string;
  /** SHA-256 of the operation and its normalized input. */
  readonly fingerprint: string;
  readonly state: IdempotencyState;
  /** The recorded result (the mutation payload as JSON) once COMPLETED. */
  readonly result: unknown;
  /** The resource the operation created or touched (an order id), once known. */
  readonly resourceId: string | null;
  /** The process holding the lease while IN_PROGRESS. */
  readonly owner: string;
  readonly leaseExpiresAt: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** After this the record may be purged (retention); never earlier than `leaseExpiresAt`. */
  readonly expiresAt: number;
}

/** What {@link IdempotencyStore.begin} asks for. */
export interface BeginRequest {
  readonly scope: string;
  readonly key: string;
  readonly operation: string;
  readonly fingerprint: string;
  readonly owner: string;
  readonly leaseMs: number;
  readonly retentionMs: number;
  readonly now: number;
}

/**
 * The outcome of claiming a key:
 * - `started`: no record existed; one was created IN_PROGRESS, owned by the caller;
 * - `replay`: COMPLETED with the same fingerprint: return `record.result`, run nothing;
 * - `mismatch`: the key was used with another fingerprint: IDEMPOTENCY_KEY_REUSED;
 * - `in_progress`: a live lease is held — by another process or by this one (concurrent retries
 *   within one process share its owner id): IDEMPOTENCY_IN_PROGRESS;
 * - `taken_over`: IN_PROGRESS but its lease had expired (its owner crashed): the caller now owns
 *   it and must resume from the ledger, never repeating a side effect that already happened.
 */
export type BeginOutcome =
  | { readonly kind: 'started'; readonly record: IdempotencyRecord }
  | { readonly kind: 'replay'; readonly record: IdempotencyRecord }
  | { readonly kind: 'mismatch'; readonly record: IdempotencyRecord }
  | { readonly kind: 'in_progress'; readonly record: IdempotencyRecord }
  | { readonly kind: 'taken_over'; readonly record: IdempotencyRecord };

/** Idempotency records. */
export interface IdempotencyStore {
  /** Claims (scope, key) atomically; see {@link BeginOutcome}. */
  begin(request: BeginRequest): Promise<BeginOutcome>;
  /** Extends the lease if `owner` still holds it (`leaseMs` 0 ends it at once); false when it does not. */
  renew(scope: string, key: string, owner: string, leaseMs: number, now: number): Promise<boolean>;
  /** Records the resource id while IN_PROGRESS (so a taker-over can resume); owner only. */
  attachResource(
    scope: string,
    key: string,
    owner: string,
    resourceId: string,
    now: number,
  ): Promise<boolean>;
  /** Marks COMPLETED with `result` if `owner` still holds the record; false otherwise. */
  complete(
    scope: string,
    key: string,
    owner: string,
    result: unknown,
    now: number,
  ): Promise<boolean>;
  /** The record, possibly already expired but not yet purged. */
  get(scope: string, key: string): Promise<IdempotencyRecord | null>;
  /** Deletes records whose `expiresAt` has passed; returns how many. */
  purgeExpired(now: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Crossdock's own order state (an order exists here before the ERP has it: PENDING_ERP)
// ---------------------------------------------------------------------------------------------

/** Crossdock's record of an order it placed. `data` is the workflow's own JSON. */
export interface StoredOrder {
  /** Crossdock's order id (canonical key of orders placed through Crossdock), e.g. `XD-…`. */
  readonly id: string;
  readonly channel: string;
  readonly customerNumber: string;
  readonly status: string;
  /** The ERP's order number once posted. */
  readonly erpNumber: string | null;
  /** Workflow state: normalized input, allocations, reservations, totals (JSON). */
  readonly data: Readonly<Record<string, unknown>>;
  /** Incremented on every update (optimistic concurrency). */
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Filters of {@link OrderStore.list}. */
export interface StoredOrderFilter {
  readonly status?: string;
  readonly customerNumber?: string;
  readonly channel?: string;
  /** Orders whose id sorts after this (keyset paging). */
  readonly after?: string;
  readonly limit: number;
}

/** Crossdock's order state. */
export interface OrderStore {
  /** Inserts a new order (version 1); throws {@link StoreConflictError} when the id exists. */
  create(order: Omit<StoredOrder, 'version' | 'updatedAt'>): Promise<StoredOrder>;
  get(id: string): Promise<StoredOrder | null>;
  getByErpNumber(erpNumber: string): Promise<StoredOrder | null>;
  /**
   * Applies `patch` if the stored version is `expectedVersion`; returns the new order, or null
   * when another writer got there first (the caller re-reads and decides again).
   */
  update(
    id: string,
    expectedVersion: number,
    patch: Partial<Pick<StoredOrder, 'status' | 'erpNumber' | 'data'>>,
    now: number,
  ): Promise<StoredOrder | null>;
  list(filter: StoredOrderFilter): Promise<StoredOrder[]>;
}

// ---------------------------------------------------------------------------------------------
// The order ledger: every step of every order, append-only
// ---------------------------------------------------------------------------------------------

/** Outcome of a workflow step. */
export type StepOutcome = 'STARTED' | 'SUCCEEDED' | 'FAILED' | 'COMPENSATED' | 'SKIPPED';

/** One ledger entry. */
export interface LedgerEntry {
  /** Store-assigned, strictly increasing across the store: the order of events. */
  readonly seq: number;
  readonly orderId: string;
  readonly at: number;
  /** The workflow step (`validate`, `reserve:wms`, `post:erp`, ...). */
  readonly step: string;
  readonly outcome: StepOutcome;
  /** The order status after this entry, when it changed. */
  readonly status: string | null;
  readonly correlationId: string | null;
  /** Caller key id, or `system` for background work. */
  readonly caller: string;
  readonly durationMs: number | null;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** The order ledger. */
export interface Ledger {
  append(entry: Omit<LedgerEntry, 'seq'>): Promise<LedgerEntry>;
  /** Every entry of an order, oldest first. */
  list(orderId: string): Promise<LedgerEntry[]>;
  /** The entries written under one correlation ID (any order), oldest first, at most `limit`. */
  byCorrelation(correlationId: string, limit: number): Promise<LedgerEntry[]>;
  /**
   * The entries of every order written in a time window (`since <= at < until`), ordered by
   * (`at`, `seq`), starting after `after` when given, at most `limit` (issue #11, business views).
   */
  between(window: LedgerWindow): Promise<LedgerEntry[]>;
}

/** What {@link Ledger.between} reads. */
export interface LedgerWindow {
  /** Inclusive lower bound of `at`. */
  readonly since: number;
  /** Exclusive upper bound of `at`. */
  readonly until: number;
  /** Start after this entry (keyset paging: its `at` and `seq`). */
  readonly after?: { readonly at: number; readonly seq: number };
  readonly limit: number;
}

// ---------------------------------------------------------------------------------------------
// Dead letters: steps that failed and wait for an automatic retry or a human
// ---------------------------------------------------------------------------------------------

/** Where a dead letter is. */
export const DEAD_LETTER_STATUSES = ['PENDING', 'RETRYING', 'RESOLVED', 'ABANDONED'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

/** A failed step with what is needed to run it again. */
export interface DeadLetter {
  readonly id: string;
  readonly orderId: string;
  readonly step: string;
  readonly status: DeadLetterStatus;
  /** What the step needs to run again (JSON). */
  readonly payload: Readonly<Record<string, unknown>>;
  readonly attempts: number;
  readonly lastError: string;
  /** When the next automatic attempt is due. */
  readonly nextAttemptAt: number;
  /** The process retrying it while RETRYING, with its lease. */
  readonly owner: string | null;
  readonly leaseExpiresAt: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Dead letters. */
export interface DeadLetterStore {
  /** Adds a PENDING letter; a second letter for the same (orderId, step) while one is open returns the open one. */
  add(
    letter: Omit<DeadLetter, 'status' | 'attempts' | 'owner' | 'leaseExpiresAt' | 'updatedAt'>,
  ): Promise<DeadLetter>;
  get(id: string): Promise<DeadLetter | null>;
  list(filter: {
    readonly status?: DeadLetterStatus;
    readonly orderId?: string;
    readonly limit: number;
  }): Promise<DeadLetter[]>;
  /**
   * Atomically claims one letter for `owner`: PENDING and due (`nextAttemptAt <= now`), or
   * RETRYING with an expired lease; or, when `id` is given, that letter if it is not RESOLVED
   * and not held by a live lease (a manual replay). Marks it RETRYING with a lease and counts
   * the attempt (`attempts` + 1 in the returned letter).
   */
  claim(owner: string, leaseMs: number, now: number, id?: string): Promise<DeadLetter | null>;
  /** How many letters are in each status now (every status, 0 when none): the depth metrics show. */
  count(): Promise<Readonly<Record<DeadLetterStatus, number>>>;
  /** Ends an attempt by `owner`: RESOLVED, or back to PENDING with a new due time, or ABANDONED. */
  release(
    id: string,
    owner: string,
    outcome:
      | { readonly status: 'RESOLVED' }
      | { readonly status: 'PENDING'; readonly nextAttemptAt: number; readonly lastError: string }
      | { readonly status: 'ABANDONED'; readonly lastError: string },
    now: number,
  ): Promise<DeadLetter | null>;
}

// ---------------------------------------------------------------------------------------------
// Cross-references: canonical keys ↔ each system's own ids
// ---------------------------------------------------------------------------------------------

/** One cross-reference. */
export interface CrossReference {
  /** Canonical type (`Order`, `Product`, ...). */
  readonly type: string;
  /** Canonical key (Crossdock order id, SKU, ...). */
  readonly key: string;
  /** Configured source name (`erp`, `wms`, ...). */
  readonly source: string;
  /** What that system calls it (`salesOrder`, `order`, ...). */
  readonly entity: string;
  readonly nativeId: string;
}

/** Cross-references. */
export interface CrossReferenceStore {
  /** Inserts or replaces the reference of (type, key, source, entity). */
  put(ref: CrossReference): Promise<void>;
  /** Every reference of a canonical object. */
  forKey(type: string, key: string): Promise<CrossReference[]>;
  /** The canonical key a system's id belongs to. */
  findKey(type: string, source: string, entity: string, nativeId: string): Promise<string | null>;
  /**
   * Every canonical key that one system id belongs to, in key order, at most `limit`: a channel's
   * reference can name several orders (a channel that sent the same order twice).
   */
  findKeys(
    type: string,
    source: string,
    entity: string,
    nativeId: string,
    limit: number,
  ): Promise<string[]>;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints: how far a background reader (a change-feed poller) has got, shared by replicas
// ---------------------------------------------------------------------------------------------

/** A named checkpoint: an opaque value its owner knows how to resume from. */
export interface Checkpoint {
  /** What it is the checkpoint of, e.g. `poll:tpl`. */
  readonly name: string;
  /** Opaque to the store (a watermark, a cursor). */
  readonly value: string;
  /** When it was last advanced (the `now` of that call). */
  readonly updatedAt: number;
}

/** Checkpoints, advanced only by compare-and-set so replicas never both move one. */
export interface CheckpointStore {
  /** The checkpoint, or null when it was never set. */
  get(name: string): Promise<Checkpoint | null>;
  /**
   * Sets the checkpoint to `value` if it is `expected` right now (`null`: if it does not exist
   * yet), in one atomic step. True when it was `expected` and is now `value`; false when it was
   * something else (another process advanced it first) — then nothing changed. Of several
   * callers advancing from the same `expected`, exactly one gets true.
   */
  advance(name: string, expected: string | null, value: string, now: number): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// API keys made through the key management API, and revocations of configured ones (issue #10)
// ---------------------------------------------------------------------------------------------

/**
 * An API key the store knows: one made through the API (its `hash` set), or the revocation
 * record of a key configured in API_KEYS (`hash` null: the key itself lives in configuration).
 * Never the key itself.
 */
export interface StoredApiKey {
  /** Public key id, unique. */
  readonly id: string;
  readonly client: string;
  /** A principal (server/identity.ts ROLES); checked by whoever reads it. */
  readonly role: string;
  readonly channel: string | null;
  readonly customer: string | null;
  readonly customers: readonly string[] | null;
  /** `hmac-sha256:<hex>` of the key, unique; null for a configured key's record. */
  readonly hash: string | null;
  readonly expiresAt: number | null;
  /** When the key stopped (or stops) working; null while it is not revoked. */
  readonly revokedAt: number | null;
  /** The caller that made it (or revoked a configured key). */
  readonly createdBy: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** API keys. */
export interface ApiKeyStore {
  /** Inserts a key; StoreConflictError when its id or its hash is already stored. */
  add(key: Omit<StoredApiKey, 'revokedAt' | 'updatedAt'>): Promise<StoredApiKey>;
  get(id: string): Promise<StoredApiKey | null>;
  /** The key stored with this hash. */
  findByHash(hash: string): Promise<StoredApiKey | null>;
  /** Keys by id, of one client when given. */
  list(filter: { readonly client?: string; readonly limit: number }): Promise<StoredApiKey[]>;
  /**
   * Revokes a key from `at` on: the earliest revocation asked for wins (a key once revoked now
   * is not revived by a later date). Null when no key has that id.
   */
  revoke(id: string, at: number, now: number): Promise<StoredApiKey | null>;
}

// ---------------------------------------------------------------------------------------------
// Exception queues: what a person of the business must look at (issue #11, item 7)
// ---------------------------------------------------------------------------------------------

/** The queues, by business owner. */
export const EXCEPTION_QUEUES = ['ORDERS', 'RETURNS', 'INVOICES', 'WEBHOOKS'] as const;
export type ExceptionQueue = (typeof EXCEPTION_QUEUES)[number];

/** Where an item is: OPEN (nobody on it), ASSIGNED, RESOLVED (final). */
export const EXCEPTION_STATUSES = ['OPEN', 'ASSIGNED', 'RESOLVED'] as const;
export type ExceptionStatus = (typeof EXCEPTION_STATUSES)[number];

/** One comment on an item. */
export interface ExceptionComment {
  /** Unique within its item: a comment added twice with one id is kept once. */
  readonly id: string;
  readonly author: string;
  readonly at: number;
  readonly text: string;
}

/** One item of an exception queue. */
export interface ExceptionItem {
  /** `EX-` and a ULID: ids sort by creation. */
  readonly id: string;
  /**
   * What fed it, unique (`deadLetter:<id>`, `order:<id>:<kind>`, `event:<id>`): feeding the
   * same thing again returns the item it made.
   */
  readonly sourceKey: string;
  readonly queue: ExceptionQueue;
  /** What kind of exception (`DEAD_LETTER`, `ORDER_REJECTED`, ...); the workflows' vocabulary. */
  readonly kind: string;
  readonly status: ExceptionStatus;
  /** The order it concerns, when one is known. */
  readonly orderId: string | null;
  readonly summary: string;
  /** What the feeder kept of its source (JSON). */
  readonly detail: Readonly<Record<string, unknown>>;
  readonly assignee: string | null;
  /** Oldest first. */
  readonly comments: readonly ExceptionComment[];
  readonly resolution: string | null;
  readonly resolvedBy: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly resolvedAt: number | null;
}

/** What {@link ExceptionStore.open} is given. */
export type NewExceptionItem = Pick<
  ExceptionItem,
  'id' | 'sourceKey' | 'queue' | 'kind' | 'orderId' | 'summary' | 'detail' | 'createdAt'
>;

/**
 * The answer of a change to an item: `ok` with the item after it; `not_found`; `resolved` when
 * the item was already RESOLVED (nothing changed).
 */
export type ExceptionChange =
  | { readonly kind: 'ok'; readonly item: ExceptionItem }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'resolved'; readonly item: ExceptionItem };

/** Filters of {@link ExceptionStore.list}. */
export interface ExceptionFilter {
  readonly queue?: ExceptionQueue;
  readonly status?: ExceptionStatus;
  /** Items whose id sorts after this (keyset paging, oldest first). */
  readonly after?: string;
  readonly limit: number;
}

/** Exception items. */
export interface ExceptionStore {
  /**
   * Adds an OPEN item, unless an item of the same `sourceKey` exists: then that one is returned
   * unchanged (`created: false`), whatever its status. A conflict on `id` alone throws
   * {@link StoreConflictError}.
   */
  open(
    item: NewExceptionItem,
  ): Promise<{ readonly item: ExceptionItem; readonly created: boolean }>;
  get(id: string): Promise<ExceptionItem | null>;
  /** Items by id (oldest first). */
  list(filter: ExceptionFilter): Promise<ExceptionItem[]>;
  /** Sets the assignee (ASSIGNED) unless RESOLVED. */
  assign(id: string, assignee: string, now: number): Promise<ExceptionChange>;
  /** Adds a comment unless RESOLVED; a comment whose id the item has is not added again (`ok`). */
  comment(id: string, comment: ExceptionComment): Promise<ExceptionChange>;
  /** RESOLVED with the resolution, by whom, unless already RESOLVED. */
  resolve(id: string, resolution: string, by: string, now: number): Promise<ExceptionChange>;
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

/** Thrown when an insert meets an existing unique key. */
export class StoreConflictError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreConflictError';
  }
}

/** Everything Crossdock remembers. Made by a factory; closed on shutdown. */
export interface Store {
  /** `sqlite` or `mongodb`. */
  readonly kind: 'sqlite' | 'mongodb';
  readonly idempotency: IdempotencyStore;
  readonly orders: OrderStore;
  readonly ledger: Ledger;
  readonly deadLetters: DeadLetterStore;
  readonly xrefs: CrossReferenceStore;
  readonly checkpoints: CheckpointStore;
  readonly apiKeys: ApiKeyStore;
  readonly exceptions: ExceptionStore;
  /** Resolves when the store answers a trivial query now; rejects saying why not (readiness). */
  ping(): Promise<void>;
  /** Releases connections and file handles. Idempotent. */
  close(): Promise<void>;
}

/** Alias of {@link DeadLetter} for the generated resolver types (the GraphQL type has its name). */
export type DeadLetterRecord = DeadLetter;

/** Alias of {@link ExceptionItem} for the generated resolver types. */
export type ExceptionItemRecord = ExceptionItem;

/**
 * The production store: MongoDB through the official driver, selected by MONGODB_URI. Shared
 * by every Crossdock replica, so every decision is one atomic server-side operation — an upsert
 * against a unique index or a conditional findOneAndUpdate — never a read followed by a write.
 *
 * Writes use write concern `majority` (an acknowledged decision survives a primary failover)
 * and reads use read concern `majority` on the primary (no answer is based on data a failover
 * could roll back). The one exception is documented at {@link readLiveKey}.
 *
 * JSON fields (results, order data, ledger detail, dead-letter payloads) are stored as JSON
 * text, like the SQLite store: the store never queries inside them, their keys are arbitrary
 * (a SKU may contain `.`, which update operators reject in field names on older servers), and
 * text round-trips exactly what the SQLite store returns, so one contract suite holds for both.
 */
import { MongoClient, MongoServerError } from 'mongodb';
import type { Collection, CollectionOptions, Db, Filter, UpdateFilter } from 'mongodb';
import type {
  BeginOutcome,
  BeginRequest,
  Checkpoint,
  StoredApiKey,
  CrossReference,
  DeadLetter,
  DeadLetterStatus,
  ExceptionChange,
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

/** Default of {@link MongoStoreOptions.database}. */
export const DEFAULT_MONGO_DATABASE = 'crossdock';

/** Options of {@link createMongoStore}. */
export interface MongoStoreOptions {
  /** The connection string (`mongodb://…` or `mongodb+srv://…`); unused when `client` is given. */
  readonly uri: string;
  /**
   * The database holding Crossdock's collections.
   * @default 'crossdock'
   */
  readonly database?: string;
  /**
   * A client to use instead of connecting to `uri`. The store does not close a client it was
   * given; the caller does, after closing the store.
   * @default a new client on `uri`, closed by `close()`
   */
  readonly client?: MongoClient;
}

/** Collection names, one place, so an operator's scripts and the code agree. */
const COLLECTIONS = {
  idempotency: 'idempotency',
  orders: 'orders',
  ledger: 'ledger',
  counters: 'counters',
  deadLetters: 'deadLetters',
  xrefs: 'xrefs',
  checkpoints: 'checkpoints',
  apiKeys: 'apiKeys',
  exceptions: 'exceptions',
} as const;

/**
 * Every collection is read and written with majority concerns on the primary. Set here rather
 * than trusted to the URI, because a `readPreference=secondaryPreferred` or `w=1` in a
 * connection string would silently break the guarantees the port promises.
 */
const DECISION_CONCERNS: CollectionOptions = {
  writeConcern: { w: 'majority' },
  readConcern: { level: 'majority' },
  readPreference: 'primary',
};

/** Server error code of a unique-index violation (E11000 duplicate key). */
const DUPLICATE_KEY = 11000;

/**
 * How many times `begin` (and `deadLetters.add`) re-decide when the record changes under them
 * between an atomic attempt and the read that follows. Each round means another process made
 * progress on the same key, so a few rounds always settle in practice.
 */
const SETTLE_ATTEMPTS = 5;

/** The ledger's sequence counter document. */
const LEDGER_COUNTER_ID = 'ledger';

interface IdempotencyDoc {
  scope: string;
  key: string;
  operation: string;
  fingerprint: string;
  state: IdempotencyState;
  resultJson: string;
  resourceId: string | null;
  owner: string;
  leaseExpiresAt: number;
  createdAt: number;
  updatedAt: number;
  /** A Date, because the TTL monitor only expires documents whose indexed field is a Date. */
  expiresAt: Date;
}

interface OrderDoc {
  _id: string;
  channel: string;
  customerNumber: string;
  status: string;
  erpNumber: string | null;
  dataJson: string;
  version: number;
  createdAt: number;
  updatedAt: number;
}

interface LedgerDoc {
  /** The seq: unique by construction, and the natural sort key. */
  _id: number;
  orderId: string;
  at: number;
  step: string;
  outcome: StepOutcome;
  status: string | null;
  correlationId: string | null;
  caller: string;
  durationMs: number | null;
  detailJson: string;
}

interface CounterDoc {
  _id: string;
  seq: number;
}

interface DeadLetterDoc {
  _id: string;
  orderId: string;
  step: string;
  status: DeadLetterStatus;
  /**
   * True while PENDING or RETRYING. The partial unique index on {orderId, step} filters on it
   * because partialFilterExpression accepts `$in` only on recent servers; an equality on a
   * boolean works on every server that has partial indexes.
   */
  open: boolean;
  payloadJson: string;
  attempts: number;
  lastError: string;
  nextAttemptAt: number;
  owner: string | null;
  leaseExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

interface XrefDoc {
  type: string;
  key: string;
  source: string;
  entity: string;
  nativeId: string;
}

interface ApiKeyDoc {
  /** The public key id: `_id`'s unique index keeps ids unique. */
  _id: string;
  client: string;
  role: string;
  channel: string | null;
  customer: string | null;
  customers: string[] | null;
  /** Unique among the keys that have one (a partial index: configured keys' records have none). */
  hash: string | null;
  expiresAt: number | null;
  revokedAt: number | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

interface ExceptionDoc {
  /** The item id. */
  _id: string;
  /** Unique (index `sourceKey_unique`): feeding one source twice finds the first item. */
  sourceKey: string;
  queue: ExceptionQueue;
  kind: string;
  status: ExceptionStatus;
  orderId: string | null;
  summary: string;
  detailJson: string;
  assignee: string | null;
  /** Oldest first; `$push`ed only when no comment of that id is there (one update's filter). */
  comments: { id: string; author: string; at: number; text: string }[];
  resolution: string | null;
  resolvedBy: string | null;
  createdAt: number;
  updatedAt: number;
  resolvedAt: number | null;
}

interface CheckpointDoc {
  /** The checkpoint's name: `_id`'s unique index is what makes the first advance atomic. */
  _id: string;
  value: string;
  updatedAt: number;
}

/** Connects (unless given a client), creates the indexes and returns the MongoDB store. */
export async function createMongoStore(options: MongoStoreOptions): Promise<Store> {
  const databaseName = checkDatabase(options.database ?? DEFAULT_MONGO_DATABASE);
  const ownsClient = options.client === undefined;
  const client = options.client ?? new MongoClient(checkUri(options.uri));
  try {
    // Connect now so a wrong URI or an unreachable server stops start-up, not the first order.
    if (ownsClient) await client.connect();
    const db = client.db(databaseName);
    const store = await openCollections(db);
    let closed = false;
    return {
      ...store,
      async close() {
        if (closed) return;
        closed = true;
        if (ownsClient) await client.close();
      },
    };
  } catch (error) {
    if (ownsClient) await client.close();
    throw error;
  }
}

async function openCollections(db: Db): Promise<Omit<Store, 'close'>> {
  const idempotency = db.collection<IdempotencyDoc>(COLLECTIONS.idempotency, DECISION_CONCERNS);
  const orders = db.collection<OrderDoc>(COLLECTIONS.orders, DECISION_CONCERNS);
  const ledger = db.collection<LedgerDoc>(COLLECTIONS.ledger, DECISION_CONCERNS);
  const counters = db.collection<CounterDoc>(COLLECTIONS.counters, DECISION_CONCERNS);
  const deadLetters = db.collection<DeadLetterDoc>(COLLECTIONS.deadLetters, DECISION_CONCERNS);
  const xrefs = db.collection<XrefDoc>(COLLECTIONS.xrefs, DECISION_CONCERNS);
  const checkpoints = db.collection<CheckpointDoc>(COLLECTIONS.checkpoints, DECISION_CONCERNS);
  const apiKeys = db.collection<ApiKeyDoc>(COLLECTIONS.apiKeys, DECISION_CONCERNS);
  const exceptions = db.collection<ExceptionDoc>(COLLECTIONS.exceptions, DECISION_CONCERNS);

  // createIndexes is idempotent for identical specs, so every replica runs it at start.
  await Promise.all([
    idempotency.createIndexes([
      { key: { scope: 1, key: 1 }, name: 'scope_key_unique', unique: true },
      // Retention: the server deletes a record once expiresAt has passed (its TTL monitor runs
      // about once a minute; `begin` treats an expired record as absent in the meantime).
      { key: { expiresAt: 1 }, name: 'expiresAt_ttl', expireAfterSeconds: 0 },
    ]),
    orders.createIndexes([
      { key: { erpNumber: 1 }, name: 'erpNumber' },
      { key: { status: 1, _id: 1 }, name: 'status_id' },
      { key: { customerNumber: 1, _id: 1 }, name: 'customerNumber_id' },
    ]),
    ledger.createIndexes([
      { key: { orderId: 1, _id: 1 }, name: 'orderId_seq' },
      { key: { correlationId: 1, _id: 1 }, name: 'correlationId_seq' },
      { key: { at: 1, _id: 1 }, name: 'at_seq' },
    ]),
    exceptions.createIndexes([
      { key: { sourceKey: 1 }, name: 'sourceKey_unique', unique: true },
      { key: { queue: 1, status: 1, _id: 1 }, name: 'queue_status_id' },
      { key: { status: 1, _id: 1 }, name: 'status_id' },
    ]),
    deadLetters.createIndexes([
      {
        key: { orderId: 1, step: 1 },
        name: 'orderId_step_open_unique',
        unique: true,
        partialFilterExpression: { open: true },
      },
      { key: { status: 1, nextAttemptAt: 1 }, name: 'status_nextAttemptAt' },
      { key: { status: 1, leaseExpiresAt: 1 }, name: 'status_leaseExpiresAt' },
      { key: { orderId: 1, createdAt: 1 }, name: 'orderId_createdAt' },
    ]),
    xrefs.createIndexes([
      {
        key: { type: 1, key: 1, source: 1, entity: 1 },
        name: 'type_key_source_entity_unique',
        unique: true,
      },
      { key: { type: 1, source: 1, entity: 1, nativeId: 1 }, name: 'type_source_entity_nativeId' },
    ]),
    apiKeys.createIndexes([
      {
        key: { hash: 1 },
        name: 'hash_unique',
        unique: true,
        partialFilterExpression: { hash: { $type: 'string' } },
      },
      { key: { client: 1, _id: 1 }, name: 'client_id' },
    ]),
    ensureLedgerCounter(counters),
  ]);

  /**
   * The live record of a key as of now: null when absent or expired. Read at majority first;
   * when that shows nothing live, read the primary's latest (`local`) state as well, because the
   * duplicate-key error that sent us here was raised by the primary's latest state and may be
   * about a record (a concurrent `begin`) not yet acknowledged by a majority. Deciding from that
   * record is safe: it yields `mismatch` or `in_progress`, or `replay` of a result whose side
   * effects have happened in any case.
   */
  async function readLiveKey(
    scope: string,
    key: string,
    now: number,
  ): Promise<IdempotencyDoc | null> {
    const filter: Filter<IdempotencyDoc> = { scope, key, expiresAt: { $gt: new Date(now) } };
    return (
      (await idempotency.findOne(filter, { projection: { _id: 0 } })) ??
      (await idempotency.findOne(filter, {
        projection: { _id: 0 },
        readConcern: { level: 'local' },
      }))
    );
  }

  /**
   * Claims a new key, or replaces an expired record (expired means absent: it is started
   * afresh, never replayed), in one upsert. The filter matches only an expired record; when a
   * live one exists the upsert's insert hits the unique index and fails with a duplicate key,
   * which is the answer "someone holds this key". (A plain `$setOnInsert` upsert could not
   * replace an expired record atomically.) The server does not retry this upsert itself, since
   * the filter is not only equalities on the unique index, so the error reaches us.
   */
  async function claimKey(fresh: IdempotencyDoc): Promise<boolean> {
    try {
      const result = await idempotency.updateOne(
        { scope: fresh.scope, key: fresh.key, expiresAt: { $lte: new Date(fresh.createdAt) } },
        { $set: fresh },
        { upsert: true },
      );
      return result.upsertedCount === 1 || result.matchedCount === 1;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async function begin(request: BeginRequest): Promise<BeginOutcome> {
    const { scope, key, now } = request;
    const leaseExpiresAt = now + request.leaseMs;
    const fresh: IdempotencyDoc = {
      scope,
      key,
      operation: request.operation,
      fingerprint: request.fingerprint,
      state: 'IN_PROGRESS',
      resultJson: 'null',
      resourceId: null,
      owner: request.owner,
      leaseExpiresAt,
      createdAt: now,
      updatedAt: now,
      // Never before the lease: a record whose owner is still working must not expire (a
      // retry would then start the operation a second time).
      expiresAt: new Date(now + Math.max(request.retentionMs, request.leaseMs)),
    };
    let lastSeen: IdempotencyDoc | null = null;
    for (let attempt = 1; attempt <= SETTLE_ATTEMPTS; attempt += 1) {
      if (await claimKey(fresh)) return { kind: 'started', record: toIdempotencyRecord(fresh) };
      const existing = await readLiveKey(scope, key, now);
      // Gone (purged) or expired since the upsert failed: claim again.
      if (existing === null) continue;
      lastSeen = existing;
      if (
        existing.fingerprint !== request.fingerprint ||
        existing.operation !== request.operation
      ) {
        return { kind: 'mismatch', record: toIdempotencyRecord(existing) };
      }
      switch (existing.state) {
        case 'COMPLETED':
          return { kind: 'replay', record: toIdempotencyRecord(existing) };
        case 'IN_PROGRESS': {
          // A live lease means someone (even this same process, for a concurrent retry) is
          // running the operation right now.
          if (existing.leaseExpiresAt > now) {
            return { kind: 'in_progress', record: toIdempotencyRecord(existing) };
          }
          // The lease expired (its owner crashed). The filter re-checks everything the decision
          // rests on, so of several processes taking over at once exactly one matches.
          const taken = await idempotency.findOneAndUpdate(
            {
              scope,
              key,
              fingerprint: request.fingerprint,
              state: 'IN_PROGRESS',
              leaseExpiresAt: { $lte: now },
              expiresAt: { $gt: new Date(now) },
            },
            {
              $set: { owner: request.owner, leaseExpiresAt, updatedAt: now },
              $max: { expiresAt: new Date(leaseExpiresAt) },
            },
            { returnDocument: 'after', projection: { _id: 0 } },
          );
          if (taken !== null) return { kind: 'taken_over', record: toIdempotencyRecord(taken) };
          // Another process took it over or completed it first: decide again.
          continue;
        }
        default:
          return unreachable(existing.state);
      }
    }
    // Still moving after several rounds: other processes are actively working on this key.
    if (lastSeen !== null) return { kind: 'in_progress', record: toIdempotencyRecord(lastSeen) };
    throw new Error(
      `mongodb store: idempotency key ${scope}/${key} did not settle after ${SETTLE_ATTEMPTS} attempts`,
    );
  }

  /** Updates the record of (scope, key) only if `owner` still holds it IN_PROGRESS. */
  async function updateOwned(
    scope: string,
    key: string,
    owner: string,
    update: UpdateFilter<IdempotencyDoc>,
  ): Promise<boolean> {
    const result = await idempotency.updateOne({ scope, key, owner, state: 'IN_PROGRESS' }, update);
    return result.matchedCount === 1;
  }

  async function addDeadLetter(
    letter: Parameters<Store['deadLetters']['add']>[0],
  ): Promise<DeadLetter> {
    const doc: DeadLetterDoc = {
      _id: letter.id,
      orderId: letter.orderId,
      step: letter.step,
      status: 'PENDING',
      open: true,
      payloadJson: toJson(letter.payload),
      attempts: 0,
      lastError: letter.lastError,
      nextAttemptAt: letter.nextAttemptAt,
      owner: null,
      leaseExpiresAt: null,
      createdAt: letter.createdAt,
      updatedAt: letter.createdAt,
    };
    for (let attempt = 1; attempt <= SETTLE_ATTEMPTS; attempt += 1) {
      try {
        await deadLetters.insertOne(doc);
        return toDeadLetter(doc);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      // Either the open-letter index or the id collided. The open letter may be a concurrent
      // add not yet majority-acknowledged, hence the fallback to the primary's latest state.
      const openFilter: Filter<DeadLetterDoc> = {
        orderId: letter.orderId,
        step: letter.step,
        open: true,
      };
      const open =
        (await deadLetters.findOne(openFilter)) ??
        (await deadLetters.findOne(openFilter, { readConcern: { level: 'local' } }));
      if (open !== null) return toDeadLetter(open);
      const sameId = await deadLetters.findOne(
        { _id: letter.id },
        { readConcern: { level: 'local' } },
      );
      if (sameId !== null) throw new StoreConflictError(`dead letter ${letter.id} already exists`);
      // The open letter was closed between the insert and the reads: insert again.
    }
    throw new Error(
      `mongodb store: dead letter for ${letter.orderId}/${letter.step} did not settle after ${SETTLE_ATTEMPTS} attempts`,
    );
  }

  async function openException(
    item: Parameters<Store['exceptions']['open']>[0],
  ): Promise<{ item: ExceptionItem; created: boolean }> {
    const doc: ExceptionDoc = {
      _id: item.id,
      sourceKey: item.sourceKey,
      queue: item.queue,
      kind: item.kind,
      status: 'OPEN',
      orderId: item.orderId,
      summary: item.summary,
      detailJson: toJson(item.detail),
      assignee: null,
      comments: [],
      resolution: null,
      resolvedBy: null,
      createdAt: item.createdAt,
      updatedAt: item.createdAt,
      resolvedAt: null,
    };
    try {
      await exceptions.insertOne(doc);
      return { item: toExceptionItem(doc), created: true };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    // The source's item may be a concurrent open not yet majority-acknowledged: the primary's
    // latest state as well (see readLiveKey).
    const bySource =
      (await exceptions.findOne({ sourceKey: item.sourceKey })) ??
      (await exceptions.findOne(
        { sourceKey: item.sourceKey },
        { readConcern: { level: 'local' } },
      ));
    if (bySource !== null) return { item: toExceptionItem(bySource), created: false };
    throw new StoreConflictError(`exception item ${item.id} already exists`);
  }

  /**
   * One conditional update of an item that is not RESOLVED; when it matched nothing, why: no
   * such item, or it is RESOLVED (a final state, so the re-read cannot be stale about it).
   */
  async function changeException(
    id: string,
    filter: Filter<ExceptionDoc>,
    update: UpdateFilter<ExceptionDoc>,
  ): Promise<ExceptionChange> {
    const doc = await exceptions.findOneAndUpdate(
      { ...filter, _id: id, status: { $ne: 'RESOLVED' } },
      update,
      { returnDocument: 'after' },
    );
    if (doc !== null) return { kind: 'ok', item: toExceptionItem(doc) };
    const now = await exceptions.findOne({ _id: id });
    if (now === null) return { kind: 'not_found' };
    return { kind: 'resolved', item: toExceptionItem(now) };
  }

  async function nextLedgerSeq(): Promise<number> {
    // $inc is atomic on one document; returnDocument 'after' hands each caller its own value.
    // The upsert only matters if the counter was deleted; the retry covers two upserts racing.
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      try {
        const counter = await counters.findOneAndUpdate(
          { _id: LEDGER_COUNTER_ID },
          { $inc: { seq: 1 } },
          { upsert: true, returnDocument: 'after' },
        );
        if (counter === null) break;
        return counter.seq;
      } catch (error) {
        if (!isDuplicateKey(error) || attempt === 2) throw error;
      }
    }
    throw new Error('mongodb store: the ledger counter returned no document');
  }

  return {
    kind: 'mongodb',

    async ping() {
      await db.command({ ping: 1 }, { timeoutMS: 1_000 });
    },

    idempotency: {
      begin,
      async renew(scope, key, owner, leaseMs, now) {
        const leaseExpiresAt = now + leaseMs;
        return updateOwned(scope, key, owner, {
          $set: { leaseExpiresAt, updatedAt: now },
          $max: { expiresAt: new Date(leaseExpiresAt) },
        });
      },
      async attachResource(scope, key, owner, resourceId, now) {
        return updateOwned(scope, key, owner, { $set: { resourceId, updatedAt: now } });
      },
      async complete(scope, key, owner, result, now) {
        return updateOwned(scope, key, owner, {
          $set: { state: 'COMPLETED', resultJson: toJson(result), updatedAt: now },
        });
      },
      async get(scope, key) {
        const doc = await idempotency.findOne({ scope, key }, { projection: { _id: 0 } });
        return doc === null ? null : toIdempotencyRecord(doc);
      },
      async purgeExpired(now) {
        const result = await idempotency.deleteMany({ expiresAt: { $lte: new Date(now) } });
        return result.deletedCount;
      },
    },

    orders: {
      async create(order) {
        const doc: OrderDoc = {
          _id: order.id,
          channel: order.channel,
          customerNumber: order.customerNumber,
          status: order.status,
          erpNumber: order.erpNumber,
          dataJson: toJson(order.data),
          version: 1,
          createdAt: order.createdAt,
          updatedAt: order.createdAt,
        };
        try {
          await orders.insertOne(doc);
        } catch (error) {
          if (isDuplicateKey(error))
            throw new StoreConflictError(`order ${order.id} already exists`, { cause: error });
          throw error;
        }
        return toStoredOrder(doc);
      },
      async get(id) {
        const doc = await orders.findOne({ _id: id });
        return doc === null ? null : toStoredOrder(doc);
      },
      async getByErpNumber(erpNumber) {
        const doc = await orders.findOne({ erpNumber }, { sort: { _id: 1 } });
        return doc === null ? null : toStoredOrder(doc);
      },
      async update(id, expectedVersion, patch, now) {
        const set: Partial<OrderDoc> = { updatedAt: now };
        if (patch.status !== undefined) set.status = patch.status;
        if (patch.erpNumber !== undefined) set.erpNumber = patch.erpNumber;
        if (patch.data !== undefined) set.dataJson = toJson(patch.data);
        // Compare-and-set on version in one findOneAndUpdate: two writers never both succeed.
        const doc = await orders.findOneAndUpdate(
          { _id: id, version: expectedVersion },
          { $set: set, $inc: { version: 1 } },
          { returnDocument: 'after' },
        );
        return doc === null ? null : toStoredOrder(doc);
      },
      async list(filter) {
        const limit = checkLimit(filter.limit);
        // limit(0) means "no limit" to MongoDB.
        if (limit === 0) return [];
        const query: Filter<OrderDoc> = {};
        if (filter.status !== undefined) query.status = filter.status;
        if (filter.customerNumber !== undefined) query.customerNumber = filter.customerNumber;
        if (filter.channel !== undefined) query.channel = filter.channel;
        if (filter.after !== undefined) query._id = { $gt: filter.after };
        const docs = await orders.find(query).sort({ _id: 1 }).limit(limit).toArray();
        return docs.map(toStoredOrder);
      },
    },

    ledger: {
      async append(entry) {
        const doc: LedgerDoc = {
          _id: await nextLedgerSeq(),
          orderId: entry.orderId,
          at: entry.at,
          step: entry.step,
          outcome: entry.outcome,
          status: entry.status,
          correlationId: entry.correlationId,
          caller: entry.caller,
          durationMs: entry.durationMs,
          detailJson: toJson(entry.detail),
        };
        await ledger.insertOne(doc);
        return toLedgerEntry(doc);
      },
      async list(orderId) {
        const docs = await ledger.find({ orderId }).sort({ _id: 1 }).toArray();
        return docs.map(toLedgerEntry);
      },
      async byCorrelation(correlationId, limit) {
        const docs = await ledger.find({ correlationId }).sort({ _id: 1 }).limit(limit).toArray();
        return docs.map(toLedgerEntry);
      },
      async between(window) {
        const limit = checkLimit(window.limit);
        if (limit === 0) return [];
        const query: Filter<LedgerDoc> = { at: { $gte: window.since, $lt: window.until } };
        if (window.after !== undefined) {
          const { at, seq } = window.after;
          query.$or = [{ at: { $gt: at } }, { at, _id: { $gt: seq } }];
        }
        const docs = await ledger.find(query).sort({ at: 1, _id: 1 }).limit(limit).toArray();
        return docs.map(toLedgerEntry);
      },
    },

    deadLetters: {
      add: addDeadLetter,
      async count() {
        const counts = Object.fromEntries(DEAD_LETTER_STATUSES.map((s) => [s, 0])) as Record<
          DeadLetterStatus,
          number
        >;
        const groups = await deadLetters
          .aggregate<{ _id: DeadLetterStatus; n: number }>([
            { $group: { _id: '$status', n: { $sum: 1 } } },
          ])
          .toArray();
        for (const group of groups) counts[group._id] = group.n;
        return counts;
      },
      async get(id) {
        const doc = await deadLetters.findOne({ _id: id });
        return doc === null ? null : toDeadLetter(doc);
      },
      async list(filter) {
        const limit = checkLimit(filter.limit);
        if (limit === 0) return [];
        const query: Filter<DeadLetterDoc> = {};
        if (filter.status !== undefined) query.status = filter.status;
        if (filter.orderId !== undefined) query.orderId = filter.orderId;
        const docs = await deadLetters
          .find(query)
          .sort({ createdAt: 1, _id: 1 })
          .limit(limit)
          .toArray();
        return docs.map(toDeadLetter);
      },
      async claim(owner, leaseMs, now, id) {
        const leaseExpiresAt = now + leaseMs;
        const update: UpdateFilter<DeadLetterDoc> = {
          $set: { status: 'RETRYING', open: true, owner, leaseExpiresAt, updatedAt: now },
          $inc: { attempts: 1 },
        };
        if (id === undefined) {
          // One findOneAndUpdate picks the oldest due letter and marks it RETRYING: the server
          // applies it to one document atomically, so two processes never claim the same one.
          const doc = await deadLetters.findOneAndUpdate(
            {
              $or: [
                { status: 'PENDING', nextAttemptAt: { $lte: now } },
                { status: 'RETRYING', leaseExpiresAt: { $lte: now } },
              ],
            },
            update,
            { sort: { nextAttemptAt: 1, _id: 1 }, returnDocument: 'after' },
          );
          return doc === null ? null : toDeadLetter(doc);
        }
        try {
          const doc = await deadLetters.findOneAndUpdate(
            {
              _id: id,
              $or: [
                { status: { $in: ['PENDING', 'ABANDONED'] } },
                { status: 'RETRYING', leaseExpiresAt: { $lte: now } },
              ],
            },
            update,
            { returnDocument: 'after' },
          );
          return doc === null ? null : toDeadLetter(doc);
        } catch (error) {
          // Replaying an ABANDONED letter (open: false → true) while a newer letter for its
          // step is open collides on the partial unique index.
          if (isDuplicateKey(error)) {
            throw new StoreConflictError(
              `dead letter ${id} cannot be claimed: another letter for its order and step is open`,
              { cause: error },
            );
          }
          throw error;
        }
      },
      async release(id, owner, outcome, now) {
        let set: Partial<DeadLetterDoc>;
        switch (outcome.status) {
          case 'RESOLVED':
            set = { status: 'RESOLVED', open: false };
            break;
          case 'PENDING':
            set = {
              status: 'PENDING',
              open: true,
              nextAttemptAt: outcome.nextAttemptAt,
              lastError: outcome.lastError,
            };
            break;
          case 'ABANDONED':
            set = { status: 'ABANDONED', open: false, lastError: outcome.lastError };
            break;
          default:
            return unreachable(outcome);
        }
        const doc = await deadLetters.findOneAndUpdate(
          { _id: id, owner, status: 'RETRYING' },
          { $set: { ...set, owner: null, leaseExpiresAt: null, updatedAt: now } },
          { returnDocument: 'after' },
        );
        return doc === null ? null : toDeadLetter(doc);
      },
    },

    xrefs: {
      async put(ref) {
        const filter = { type: ref.type, key: ref.key, source: ref.source, entity: ref.entity };
        // Two upserts of a new reference can race to insert; the loser retries and updates.
        for (let attempt = 1; attempt <= 2; attempt += 1) {
          try {
            await xrefs.updateOne(filter, { $set: { nativeId: ref.nativeId } }, { upsert: true });
            return;
          } catch (error) {
            if (!isDuplicateKey(error) || attempt === 2) throw error;
          }
        }
      },
      async forKey(type, key) {
        const docs = await xrefs
          .find({ type, key }, { projection: { _id: 0 } })
          .sort({ source: 1, entity: 1 })
          .toArray();
        return docs.map(toCrossReference);
      },
      async findKey(type, source, entity, nativeId) {
        const doc = await xrefs.findOne(
          { type, source, entity, nativeId },
          { sort: { key: 1 }, projection: { _id: 0, key: 1 } },
        );
        return doc?.key ?? null;
      },
      async findKeys(type, source, entity, nativeId, limit) {
        const docs = await xrefs
          .find({ type, source, entity, nativeId }, { projection: { _id: 0, key: 1 } })
          .sort({ key: 1 })
          .limit(limit)
          .toArray();
        return docs.map((doc) => doc.key);
      },
    },

    exceptions: {
      open: openException,
      async get(id) {
        const doc = await exceptions.findOne({ _id: id });
        return doc === null ? null : toExceptionItem(doc);
      },
      async list(filter) {
        const limit = checkLimit(filter.limit);
        if (limit === 0) return [];
        const query: Filter<ExceptionDoc> = {};
        if (filter.queue !== undefined) query.queue = filter.queue;
        if (filter.status !== undefined) query.status = filter.status;
        if (filter.after !== undefined) query._id = { $gt: filter.after };
        const docs = await exceptions.find(query).sort({ _id: 1 }).limit(limit).toArray();
        return docs.map(toExceptionItem);
      },
      assign: (id, assignee, now) =>
        changeException(id, {}, { $set: { status: 'ASSIGNED', assignee, updatedAt: now } }),
      async comment(id, comment) {
        // The filter's `comments.id: {$ne}` makes a repeated comment match nothing; the re-read
        // below then finds it there and answers ok.
        const change = await changeException(
          id,
          { 'comments.id': { $ne: comment.id } },
          { $push: { comments: { ...comment } }, $max: { updatedAt: comment.at } },
        );
        if (change.kind === 'ok') return change;
        const doc = await exceptions.findOne({ _id: id, 'comments.id': comment.id });
        return doc === null ? change : { kind: 'ok', item: toExceptionItem(doc) };
      },
      resolve: (id, resolution, by, now) =>
        changeException(
          id,
          {},
          {
            $set: {
              status: 'RESOLVED',
              resolution,
              resolvedBy: by,
              resolvedAt: now,
              updatedAt: now,
            },
          },
        ),
    },

    checkpoints: {
      async get(name) {
        const doc = await checkpoints.findOne({ _id: checkCheckpointName(name) });
        return doc === null ? null : toCheckpoint(doc);
      },
      async advance(name, expected, value, now) {
        checkCheckpointName(name);
        checkCheckpointValues(expected, value);
        if (expected === null) {
          // From "absent": a plain insert; the unique `_id` lets exactly one of several win,
          // and a duplicate key means the checkpoint exists (someone advanced it first).
          try {
            await checkpoints.insertOne({ _id: name, value, updatedAt: now });
            return true;
          } catch (error) {
            if (isDuplicateKey(error)) return false;
            throw error;
          }
        }
        // From a value: one conditional update; no upsert, so a missing checkpoint stays missing.
        const result = await checkpoints.updateOne(
          { _id: name, value: expected },
          { $set: { value, updatedAt: now } },
        );
        return result.matchedCount === 1;
      },
    },
    apiKeys: {
      async add(key) {
        const doc: ApiKeyDoc = {
          _id: key.id,
          client: key.client,
          role: key.role,
          channel: key.channel,
          customer: key.customer,
          customers: key.customers === null ? null : [...key.customers],
          hash: key.hash,
          expiresAt: key.expiresAt,
          revokedAt: null,
          createdBy: key.createdBy,
          createdAt: key.createdAt,
          updatedAt: key.createdAt,
        };
        try {
          await apiKeys.insertOne(doc);
        } catch (error) {
          if (isDuplicateKey(error)) {
            throw new StoreConflictError(`an API key with id ${key.id}, or that key, is stored`, {
              cause: error,
            });
          }
          throw error;
        }
        return toApiKey(doc);
      },
      async get(id) {
        const doc = await apiKeys.findOne({ _id: id });
        return doc === null ? null : toApiKey(doc);
      },
      async findByHash(hash) {
        const doc = await apiKeys.findOne({ hash });
        return doc === null ? null : toApiKey(doc);
      },
      async list({ client, limit }) {
        const docs = await apiKeys
          .find(client === undefined ? {} : { client })
          .sort({ _id: 1 })
          .limit(limit)
          .toArray();
        return docs.map(toApiKey);
      },
      async revoke(id, at, now) {
        // The earliest revocation wins: $min leaves an earlier revokedAt alone; a null one is
        // set first (null compares lower than numbers in $min, so it is replaced explicitly).
        await apiKeys.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: at } });
        const doc = await apiKeys.findOneAndUpdate(
          { _id: id },
          { $min: { revokedAt: at }, $set: { updatedAt: now } },
          { returnDocument: 'after' },
        );
        return doc === null ? null : toApiKey(doc);
      },
    },
  };
}

/** Creates the ledger counter at 0 if missing, so appends only ever $inc an existing document. */
async function ensureLedgerCounter(counters: Collection<CounterDoc>): Promise<void> {
  try {
    await counters.updateOne(
      { _id: LEDGER_COUNTER_ID },
      { $setOnInsert: { seq: 0 } },
      { upsert: true },
    );
  } catch (error) {
    // Another replica created it at the same moment: that is the state we want.
    if (!isDuplicateKey(error)) throw error;
  }
}

function toIdempotencyRecord(doc: IdempotencyDoc): IdempotencyRecord {
  return {
    scope: doc.scope,
    key: doc.key,
    operation: doc.operation,
    fingerprint: doc.fingerprint,
    state: doc.state,
    result: fromJson(doc.resultJson),
    resourceId: doc.resourceId,
    owner: doc.owner,
    leaseExpiresAt: doc.leaseExpiresAt,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    expiresAt: doc.expiresAt.getTime(),
  };
}

function toStoredOrder(doc: OrderDoc): StoredOrder {
  return {
    id: doc._id,
    channel: doc.channel,
    customerNumber: doc.customerNumber,
    status: doc.status,
    erpNumber: doc.erpNumber,
    data: fromJsonObject(doc.dataJson, `order ${doc._id} data`),
    version: doc.version,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

function toLedgerEntry(doc: LedgerDoc): LedgerEntry {
  return {
    seq: doc._id,
    orderId: doc.orderId,
    at: doc.at,
    step: doc.step,
    outcome: doc.outcome,
    status: doc.status,
    correlationId: doc.correlationId,
    caller: doc.caller,
    durationMs: doc.durationMs,
    detail: fromJsonObject(doc.detailJson, `ledger entry ${doc._id} detail`),
  };
}

function toDeadLetter(doc: DeadLetterDoc): DeadLetter {
  return {
    id: doc._id,
    orderId: doc.orderId,
    step: doc.step,
    status: doc.status,
    payload: fromJsonObject(doc.payloadJson, `dead letter ${doc._id} payload`),
    attempts: doc.attempts,
    lastError: doc.lastError,
    nextAttemptAt: doc.nextAttemptAt,
    owner: doc.owner,
    leaseExpiresAt: doc.leaseExpiresAt,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

function toCrossReference(doc: XrefDoc): CrossReference {
  return {
    type: doc.type,
    key: doc.key,
    source: doc.source,
    entity: doc.entity,
    nativeId: doc.nativeId,
  };
}

function toApiKey(doc: ApiKeyDoc): StoredApiKey {
  return {
    id: doc._id,
    client: doc.client,
    role: doc.role,
    channel: doc.channel,
    customer: doc.customer,
    customers: doc.customers,
    hash: doc.hash,
    expiresAt: doc.expiresAt,
    revokedAt: doc.revokedAt,
    createdBy: doc.createdBy,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

function toExceptionItem(doc: ExceptionDoc): ExceptionItem {
  return {
    id: doc._id,
    sourceKey: doc.sourceKey,
    queue: doc.queue,
    kind: doc.kind,
    status: doc.status,
    orderId: doc.orderId,
    summary: doc.summary,
    detail: fromJsonObject(doc.detailJson, `exception item ${doc._id} detail`),
    assignee: doc.assignee,
    comments: doc.comments.map((c) => ({ id: c.id, author: c.author, at: c.at, text: c.text })),
    resolution: doc.resolution,
    resolvedBy: doc.resolvedBy,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    resolvedAt: doc.resolvedAt,
  };
}

function toCheckpoint(doc: CheckpointDoc): Checkpoint {
  return { name: doc._id, value: doc.value, updatedAt: doc.updatedAt };
}

function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

function checkUri(uri: unknown): string {
  if (typeof uri !== 'string' || !/^mongodb(\+srv)?:\/\//.test(uri)) {
    // The URI may carry a password: show only its scheme, never the rest.
    const shown =
      typeof uri !== 'string'
        ? typeof uri
        : uri.includes('://')
          ? JSON.stringify(`${uri.slice(0, uri.indexOf('://') + 3)}…`)
          : 'a string without a scheme';
    throw new TypeError(
      `mongodb store: expected uri to start with mongodb:// or mongodb+srv://, got ${shown}`,
    );
  }
  return uri;
}

/** MongoDB database names: non-empty, at most 63 bytes, none of `/\. "$` (server rules). */
function checkDatabase(name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    Buffer.byteLength(name) > 63 ||
    /[/\\. "$\0]/.test(name)
  ) {
    throw new TypeError(
      `mongodb store: expected database to be a MongoDB database name, got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

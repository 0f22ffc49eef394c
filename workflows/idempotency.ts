/**
 * The idempotency guard every side-effecting mutation runs behind (after Stripe and the IETF
 * Idempotency-Key draft): the key is scoped by the caller, a fingerprint covers the operation and
 * its normalized input, the first completed result is recorded and replayed, a concurrent retry
 * is refused, and a record left in progress by a crashed process is taken over once its lease
 * expires — the workflow then resumes from what it recorded, never repeating a side effect.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IdempotencyRecord, IdempotencyStore } from '../store/contract.js';

/** Why a guarded call was refused. */
export type IdempotencyErrorCode =
  'IDEMPOTENCY_KEY_REUSED' | 'IDEMPOTENCY_IN_PROGRESS' | 'BAD_IDEMPOTENCY_KEY';

/** A refusal by the guard; resolvers map `code` to the public catalogue. */
export class IdempotencyError extends Error {
  constructor(
    readonly code: IdempotencyErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'IdempotencyError';
  }
}

/**
 * How long a running operation holds its key before another process may take it over.
 * @default 30_000 // 30 seconds, renewed every third of it while the operation runs
 */
export const DEFAULT_LEASE_MS = 30_000;

/**
 * How long a completed result is kept for replay.
 * @default 86_400_000 // 24 hours
 */
export const DEFAULT_RETENTION_MS = 86_400_000;

/** Checks an idempotency key: 1 to 255 printable ASCII characters. */
export function checkIdempotencyKey(key: string): string {
  if (key.length < 1 || key.length > 255 || !/^[\x20-\x7e]+$/.test(key)) {
    const shown = key.length > 40 ? `${key.slice(0, 40)}… (${key.length} characters)` : key;
    throw new IdempotencyError(
      'BAD_IDEMPOTENCY_KEY',
      `idempotencyKey: expected 1 to 255 printable ASCII characters, got ${JSON.stringify(shown)}`,
    );
  }
  return key;
}

/** Canonical JSON: object keys sorted, so equal inputs give equal fingerprints. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 over the operation and its normalized input. */
export function fingerprintOf(operation: string, input: unknown): string {
  return createHash('sha256')
    .update(operation)
    .update('\u0000')
    .update(canonicalJson(input))
    .digest('hex');
}

/** Options of {@link createIdempotencyGuard}. */
export interface IdempotencyGuardOptions {
  readonly store: IdempotencyStore;
  /** @default DEFAULT_LEASE_MS */
  readonly leaseMs?: number;
  /** @default DEFAULT_RETENTION_MS */
  readonly retentionMs?: number;
  /** This process's lease owner id. @default a random UUID */
  readonly owner?: string;
  /** Clock. @default Date.now */
  readonly now?: () => number;
}

/** What a guarded operation is told about the attempt it runs in. */
export interface Attempt {
  /** The record of an earlier attempt this one took over (resume from it), or null. */
  readonly resumedFrom: IdempotencyRecord | null;
  /** Records the resource the operation created, so a taker-over can find it. */
  attachResource(resourceId: string): Promise<void>;
}

/** The result of a guarded call. */
export interface Guarded<T> {
  readonly result: T;
  /** True when the result was recorded by an earlier call and nothing ran now. */
  readonly replayed: boolean;
}

/** A request to run an operation once per key. */
export interface GuardedCall {
  /** The caller's key id: keys are scoped by caller. */
  readonly scope: string;
  readonly key: string;
  readonly operation: string;
  /** The normalized input the fingerprint covers. */
  readonly input: unknown;
}

/** The guard. */
export interface IdempotencyGuard {
  readonly owner: string;
  /**
   * Runs `operation` at most once per (scope, key). Its result must be JSON: it is recorded and
   * returned again to every retry. If `operation` throws, the key is released at once (lease
   * ended, not completed) so a retry takes it over and resumes.
   */
  run<T>(call: GuardedCall, operation: (attempt: Attempt) => Promise<T>): Promise<Guarded<T>>;
}

/** Makes the guard. */
export function createIdempotencyGuard(options: IdempotencyGuardOptions): IdempotencyGuard {
  const { store } = options;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const owner = options.owner ?? randomUUID();
  const now = options.now ?? Date.now;

  return {
    owner,
    async run<T>(
      call: GuardedCall,
      operation: (attempt: Attempt) => Promise<T>,
    ): Promise<Guarded<T>> {
      const key = checkIdempotencyKey(call.key);
      const fingerprint = fingerprintOf(call.operation, call.input);
      const outcome = await store.begin({
        scope: call.scope,
        key,
        operation: call.operation,
        fingerprint,
        owner,
        leaseMs,
        retentionMs,
        now: now(),
      });
      switch (outcome.kind) {
        case 'replay':
          return { result: outcome.record.result as T, replayed: true };
        case 'mismatch':
          throw new IdempotencyError(
            'IDEMPOTENCY_KEY_REUSED',
            `idempotencyKey ${JSON.stringify(key)} was already used for ${outcome.record.operation} with different input; use a new key for a new request`,
          );
        case 'in_progress':
          throw new IdempotencyError(
            'IDEMPOTENCY_IN_PROGRESS',
            `idempotencyKey ${JSON.stringify(key)}: the first request with this key is still running; retry after it completes`,
          );
        case 'started':
        case 'taken_over':
          break;
        default: {
          const unreachable: never = outcome;
          throw new Error(`unknown idempotency outcome ${JSON.stringify(unreachable)}`);
        }
      }
      // Keep the lease while the operation runs, so no other process takes it over.
      const heartbeat = setInterval(
        () => {
          void store.renew(call.scope, key, owner, leaseMs, now()).catch(() => undefined);
        },
        Math.max(10, Math.floor(leaseMs / 3)),
      );
      heartbeat.unref();
      try {
        const result = await operation({
          resumedFrom: outcome.kind === 'taken_over' ? outcome.record : null,
          attachResource: async (resourceId) => {
            await store.attachResource(call.scope, key, owner, resourceId, now());
          },
        });
        clearInterval(heartbeat);
        await store.complete(call.scope, key, owner, result, now());
        return { result, replayed: false };
      } catch (error) {
        clearInterval(heartbeat);
        // End the lease now: a retry takes the key over and resumes from what was recorded.
        await store.renew(call.scope, key, owner, 0, now()).catch(() => undefined);
        throw error;
      }
    },
  };
}

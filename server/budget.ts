/**
 * Cost budgets (issue #10): each client has a bucket of cost points that refills at a configured
 * rate; an operation spends its estimated cost (server/limits.ts) before it runs, and one that
 * costs more than what is left is refused RATE_LIMITED with when to retry. Every response says
 * what the operation cost and what is left (`extensions.cost`, and the IETF RateLimit header
 * fields draft's `RateLimit-Policy` / `RateLimit` on HTTP).
 *
 * Each principal may have its own policy (BUDGET_POLICIES: a storefront's budget is not a
 * partner's); the bucket is still the client's.
 *
 * Buckets live in memory, or in a NATS JetStream key-value bucket when NATS_URL is set, so every
 * replica spends from the same budget: each spend is a compare-and-set on the bucket's revision,
 * retried when another replica wrote first.
 */
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';

/** How a client's bucket fills. */
export interface BudgetPolicy {
  /** Most points a bucket holds (and a new client starts with). */
  readonly capacity: number;
  /** Points added per second, up to the capacity. */
  readonly refillPerS: number;
}

/** What spending told. */
export interface Spend {
  readonly allowed: boolean;
  readonly cost: number;
  /** Points left after this operation (or before it, when refused). */
  readonly remaining: number;
  readonly capacity: number;
  /** Seconds an empty bucket takes to fill (the policy's window). */
  readonly windowS: number;
  /** Seconds until the bucket is full again. */
  readonly resetS: number;
  /** Seconds until this operation's cost is available (0 when allowed). */
  readonly retryAfterS: number;
}

/** The buckets. */
export interface Budgets {
  /** The policy of a client none other is given for. */
  readonly policy: BudgetPolicy;
  /** Spends `cost` from `client`'s bucket, filled by `policy` (per principal) or the default. */
  spend(client: string, cost: number, policy?: BudgetPolicy): Promise<Spend>;
  close(): Promise<void>;
}

interface Bucket {
  readonly tokens: number;
  /** When `tokens` was computed, ms since the epoch. */
  readonly at: number;
}

/** The bucket's content at `now`. */
function filled(bucket: Bucket | null, policy: BudgetPolicy, now: number): number {
  if (!bucket) return policy.capacity;
  const elapsedS = Math.max(0, now - bucket.at) / 1000;
  return Math.min(policy.capacity, bucket.tokens + elapsedS * policy.refillPerS);
}

/** Spends `cost` from a bucket at `now`: the new bucket (unchanged when refused) and the answer. */
export function take(
  bucket: Bucket | null,
  cost: number,
  policy: BudgetPolicy,
  now: number,
): { bucket: Bucket; spend: Spend } {
  const tokens = filled(bucket, policy, now);
  const allowed = cost <= tokens;
  const left = allowed ? tokens - cost : tokens;
  const perS = Math.max(policy.refillPerS, Number.EPSILON);
  return {
    bucket: { tokens: left, at: now },
    spend: {
      allowed,
      cost,
      remaining: Math.floor(left),
      capacity: policy.capacity,
      windowS: Math.ceil(policy.capacity / perS),
      resetS: Math.ceil((policy.capacity - left) / perS),
      retryAfterS: allowed
        ? 0
        : cost > policy.capacity
          ? Number.POSITIVE_INFINITY
          : Math.max(1, Math.ceil((cost - tokens) / perS)),
    },
  };
}

/** Buckets in this process's memory (one replica). */
export function memoryBudgets(policy: BudgetPolicy, now: () => number = Date.now): Budgets {
  const buckets = new Map<string, Bucket>();
  return {
    policy,
    async spend(client, cost, own = policy) {
      const result = take(buckets.get(client) ?? null, cost, own, now());
      buckets.set(client, result.bucket);
      // A full bucket is the default: forget it, so idle clients cost no memory.
      if (result.bucket.tokens >= own.capacity) buckets.delete(client);
      return result.spend;
    },
    async close() {
      buckets.clear();
    },
  };
}

/** Keys of the KV bucket: letters, digits, `-`, `_`, `=`, `.`; clients are hex-encoded. */
const keyOf = (client: string) => `c.${Buffer.from(client).toString('hex').slice(0, 400)}`;

/**
 * Buckets in a NATS JetStream key-value bucket `bucket`, shared by every replica: a spend reads
 * the client's bucket and writes it back only if nobody wrote since (revision check), else
 * retries. Entries expire after the slowest policy's full refill (of `policy` and `others`) plus
 * a minute.
 */
export async function natsBudgets(
  servers: string,
  bucket: string,
  policy: BudgetPolicy,
  now: () => number = Date.now,
  others: readonly BudgetPolicy[] = [],
): Promise<Budgets> {
  const nc: NatsConnection = await connect({
    servers: servers.split(','),
    name: 'crossdock-budgets',
  });
  const fullAfterMs = Math.max(
    ...[policy, ...others].map((p) =>
      Math.ceil((p.capacity / Math.max(p.refillPerS, 1e-9)) * 1000),
    ),
  );
  const kv: KV = await new Kvm(nc).create(bucket, {
    history: 1,
    ttl: Math.min(fullAfterMs + 60_000, 86_400_000 * 30),
  });
  // One spend at a time per client in this process: concurrent operations of one client queue
  // here instead of racing each other's compare-and-set (only replicas race).
  const queues = new Map<string, Promise<unknown>>();
  const serialised = <T>(client: string, run: () => Promise<T>): Promise<T> => {
    const previous = queues.get(client) ?? Promise.resolve();
    const next = previous.then(run, run);
    const settled = next.catch(() => undefined);
    queues.set(client, settled);
    void settled.then(() => {
      if (queues.get(client) === settled) queues.delete(client);
    });
    return next;
  };
  const spendOnce = async (client: string, cost: number, own: BudgetPolicy): Promise<Spend> => {
    const key = keyOf(client);
    for (let attempt = 0; ; attempt++) {
      const entry = await kv.get(key);
      const stored = entry && entry.operation === 'PUT' ? (entry.json() as Bucket) : null;
      const result = take(stored, cost, own, now());
      if (!result.spend.allowed) return result.spend;
      const value = JSON.stringify(result.bucket);
      try {
        if (entry) await kv.update(key, value, entry.revision);
        else await kv.create(key, value);
        return result.spend;
      } catch (error) {
        // Another replica spent first: read again. Anything else is a failure of the bus.
        if (attempt >= 50 || !isConflict(error)) throw error;
      }
    }
  };
  return {
    policy,
    spend: (client, cost, own = policy) => serialised(client, () => spendOnce(client, cost, own)),
    async close() {
      await nc.drain();
    },
  };
}

function isConflict(error: unknown): boolean {
  const text =
    error instanceof Error
      ? `${error.message} ${String((error as { code?: unknown }).code ?? '')}`
      : '';
  return /wrong last sequence|key exists|10071/i.test(text);
}

/** The IETF RateLimit header fields of a spend (draft-ietf-httpapi-ratelimit-headers). */
export function rateLimitHeaders(spend: Spend): Record<string, string> {
  const windowS = spend.windowS;
  return {
    'RateLimit-Policy': `"cost";q=${spend.capacity};w=${windowS}`,
    RateLimit: `"cost";r=${spend.remaining};t=${spend.resetS}`,
    ...(spend.allowed
      ? {}
      : {
          'Retry-After': String(Number.isFinite(spend.retryAfterS) ? spend.retryAfterS : windowS),
        }),
  };
}

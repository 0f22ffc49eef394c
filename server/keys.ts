/**
 * The key registry (issue #10): API keys configured in API_KEYS plus those made through the key
 * management API (`createApiKey`, `revokeApiKey`, `apiKeys`; admin only), kept in the store as
 * hashes so every replica sees them.
 *
 * - A presented key is looked up by its HMAC: first among the configured keys, then in the
 *   store. A configured key can be revoked too: the store then holds its revocation record
 *   (without a hash; the key itself stays in configuration).
 * - Lookups are cached for `cacheMs` (API_KEY_CACHE_MS), answers "unknown" included, so a flood
 *   of made-up keys costs one store read per key per period. This process forgets its cache when
 *   it creates or revokes a key; other replicas see the change within `cacheMs`.
 * - The key itself is shown once, in the answer to `createApiKey`. For an idempotent replay of
 *   that answer, the key is kept sealed (AES-256-GCM under a key derived from API_KEY_SECRET) in
 *   the idempotency record only, for its retention, never in the clear.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { KeyRegistry, KeyView, NewKey } from '../resolvers/context.js';
import { StoreConflictError, type ApiKeyStore, type StoredApiKey } from '../store/contract.js';
import { ROLES, checkScope, hashApiKey, type ApiKeyEntry, type Role } from './identity.js';

/** A key as the authenticator needs it: its entry and when it was revoked, if it was. */
export interface ResolvedKey extends ApiKeyEntry {
  readonly revokedAt: number | null;
}

/** The registry plus the authenticator's lookup. */
export interface Keys extends KeyRegistry {
  /** The key `key` is, configured or made through the API, or null when it is neither. */
  resolve(key: string): Promise<ResolvedKey | null>;
}

/** Options of {@link createKeys}. */
export interface KeysOptions {
  readonly configured: readonly ApiKeyEntry[];
  readonly secret: string;
  /** Absent: only configured keys, none can be made or revoked (unit tests of auth). */
  readonly store?: ApiKeyStore;
  readonly cacheMs: number;
  readonly now?: () => number;
}

/** Most lookups the cache holds before it starts over. */
const CACHE_ENTRIES = 10_000;
/** Most keys `apiKeys` lists. */
const LIST_LIMIT = 1_000;

/** Makes the key registry. */
export function createKeys(options: KeysOptions): Keys {
  const { secret, store, cacheMs } = options;
  const now = options.now ?? Date.now;
  const byHash = new Map(options.configured.map((k) => [k.hash, k]));
  const byId = new Map(options.configured.map((k) => [k.id, k]));
  const cache = new Map<string, { readonly until: number; readonly key: StoredApiKey | null }>();
  const sealKey = createHmac('sha256', secret).update('crossdock:api-key-seal:v1').digest();
  // The HMAC of each key presented recently: hashing it again on every request was about 1% of
  // a product query's CPU (issue #13). Bounded like the lookup cache; whether the key is still
  // valid (revoked, expired) is decided below on every request, not here.
  const hashes = new Map<string, string>();
  const hashOf = (key: string): string => {
    let hash = hashes.get(key);
    if (hash === undefined) {
      hash = hashApiKey(secret, key);
      if (hashes.size >= CACHE_ENTRIES) hashes.clear();
      hashes.set(key, hash);
    }
    return hash;
  };

  /** The store's record of `lookup` (`id:` or `hash:`), through the cache. */
  const cached = async (lookup: string, read: () => Promise<StoredApiKey | null>) => {
    const at = now();
    const hit = cache.get(lookup);
    if (hit && hit.until > at) return hit.key;
    const key = await read();
    if (cacheMs > 0) {
      if (cache.size >= CACHE_ENTRIES) cache.clear();
      cache.set(lookup, { until: at + cacheMs, key });
    }
    return key;
  };

  const view = (entry: ApiKeyEntry | StoredApiKey, stored: StoredApiKey | null): KeyView => {
    const configured = byId.get(entry.id);
    return {
      id: entry.id,
      client: entry.client,
      role: entry.role as Role,
      channel: entry.channel,
      customer: entry.customer,
      customers: entry.customers,
      origin: configured ? 'CONFIGURATION' : 'API',
      createdAt: configured ? null : (stored?.createdAt ?? null),
      createdBy: configured ? null : (stored?.createdBy ?? null),
      expiresAt: entry.expiresAt,
      revokedAt: stored?.revokedAt ?? null,
    };
  };

  const toEntry = (stored: StoredApiKey): ResolvedKey | null => {
    const role = stored.role as Role;
    // A record this version cannot vouch for (edited by hand, a newer role) is no key at all.
    if (!(ROLES as readonly string[]).includes(role) || stored.hash === null) return null;
    const entry = { ...stored, role, hash: stored.hash };
    return checkScope(entry) === null ? entry : null;
  };

  return {
    async resolve(key) {
      const hash = hashOf(key);
      const configured = byHash.get(hash);
      if (configured) {
        const revocation = store
          ? await cached(`id:${configured.id}`, () => store.get(configured.id))
          : null;
        return { ...configured, revokedAt: revocation?.revokedAt ?? null };
      }
      if (!store) return null;
      const stored = await cached(`hash:${hash}`, () => store.findByHash(hash));
      return stored ? toEntry(stored) : null;
    },

    async list({ client, includeRevoked }) {
      const stored = store
        ? await store.list({ limit: LIST_LIMIT, ...(client ? { client } : {}) })
        : [];
      const storedById = new Map(stored.map((k) => [k.id, k]));
      const at = now();
      const all = [
        ...options.configured
          .filter((k) => !client || k.client === client)
          .map((k) => view(k, storedById.get(k.id) ?? null)),
        ...stored.filter((k) => !byId.has(k.id)).map((k) => view(k, k)),
      ];
      return all
        .filter((k) => includeRevoked || k.revokedAt === null || k.revokedAt > at)
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },

    async create(spec: NewKey, by) {
      if (!store) throw new Error('keys: no store to keep keys made through the API in');
      const wrong = checkScope(spec);
      if (wrong) return { error: { code: 'INVALID_KEY_SCOPE', message: `expected ${wrong}` } };
      if (spec.expiresAt !== null && spec.expiresAt <= now()) {
        return {
          error: {
            code: 'INVALID_KEY_SCOPE',
            message: `expected expiresAt in the future, got ${new Date(spec.expiresAt).toISOString()}`,
          },
        };
      }
      if (byId.has(spec.id)) return { error: taken(spec.id) };
      const key = `cdk_${randomBytes(32).toString('base64url')}`;
      try {
        const stored = await store.add({
          id: spec.id,
          client: spec.client,
          role: spec.role,
          channel: spec.channel,
          customer: spec.customer,
          customers: spec.customers,
          hash: hashApiKey(secret, key),
          expiresAt: spec.expiresAt,
          createdBy: by,
          createdAt: now(),
        });
        cache.clear();
        return { key: view(stored, stored), secret: key };
      } catch (error) {
        if (error instanceof StoreConflictError) return { error: taken(spec.id) };
        throw error;
      }
    },

    async revoke(id, at, by) {
      if (!store) throw new Error('keys: no store to keep revocations in');
      const configured = byId.get(id);
      if (configured && !(await store.get(id))) {
        try {
          await store.add({ ...configured, hash: null, createdBy: by, createdAt: now() });
        } catch (error) {
          // Another replica recorded it at the same moment: revoke that record.
          if (!(error instanceof StoreConflictError)) throw error;
        }
      }
      const stored = await store.revoke(id, at, now());
      cache.clear();
      if (!stored) return null;
      return view(configured ?? stored, stored);
    },

    seal(text) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },

    unseal(sealed) {
      try {
        const raw = Buffer.from(sealed, 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', sealKey, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        // Sealed under another API_KEY_SECRET (rotated since): the key cannot be shown again.
        return null;
      }
    },
  };
}

const taken = (id: string) => ({
  code: 'API_KEY_ID_TAKEN' as const,
  message: `expected a key id not in use, got ${id} (choose another, e.g. ${id}-2)`,
});

/**
 * A read-through cache of product content in front of the commerce connector.
 *
 * Why: commerce platforms meter their APIs by query cost (Shopify restores 100 points a second
 * on a standard plan), and product content changes rarely. Without a cache, a busy storefront
 * spends the whole budget re-reading the same titles. Entries live `ttlMs`, unknown SKUs are
 * cached too (as null), the oldest entries are evicted past `maxEntries`, and concurrent misses
 * for the same SKU share one call (in-flight coalescing). Only `contentBySku` is cached; listings
 * and storefront orders always go to the platform.
 */
import { LRUCache } from 'lru-cache';
import type { CommerceConnector, ProductContentRecord } from './contract.js';

/**
 * How long a content entry is served from memory.
 * @default 60_000 // one minute; 0 disables the cache
 */
export const DEFAULT_CONTENT_CACHE_TTL_MS = 60_000;

/**
 * Most entries kept; the least recently stored are evicted first.
 * @default 50_000
 */
export const DEFAULT_CONTENT_CACHE_MAX_ENTRIES = 50_000;

/** Options of {@link withContentCache}. */
export interface ContentCacheOptions {
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  /** Clock, for tests. @default Date.now */
  readonly now?: () => number;
}

/** Counters of the cache, for health and tests. */
export interface ContentCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly size: number;
}

/** A commerce connector with a content cache. */
export interface CachedCommerceConnector extends CommerceConnector {
  cacheStats(): ContentCacheStats;
}

interface Entry {
  readonly value: ProductContentRecord | null;
  readonly expires: number;
}

/** Wraps `connector` so `contentBySku` reads through a TTL cache. */
export function withContentCache(
  connector: CommerceConnector,
  options: ContentCacheOptions = {},
): CachedCommerceConnector {
  const ttlMs = options.ttlMs ?? DEFAULT_CONTENT_CACHE_TTL_MS;
  const maxEntries = options.maxEntries ?? DEFAULT_CONTENT_CACHE_MAX_ENTRIES;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(ttlMs) || ttlMs < 0) {
    throw new RangeError(`content cache ttlMs: expected an integer >= 0, got ${ttlMs}`);
  }
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`content cache maxEntries: expected an integer >= 1, got ${maxEntries}`);
  }
  // Read with peek(), so the order is that of storing: the least recently stored go first. (A Map
  // deleted from and set again for its order made finding the oldest a scan over its holes.)
  const entries = new LRUCache<string, Entry>({ max: maxEntries });
  const inFlight = new Map<string, Promise<ProductContentRecord | null>>();
  let hits = 0;
  let misses = 0;

  const store = (sku: string, value: ProductContentRecord | null): void => {
    entries.set(sku, { value, expires: now() + ttlMs });
  };

  const contentBySku = async (
    skus: readonly string[],
  ): Promise<(ProductContentRecord | null)[]> => {
    if (ttlMs === 0) return connector.contentBySku(skus);
    const at = now();
    const answers = new Map<
      string,
      Promise<ProductContentRecord | null> | ProductContentRecord | null
    >();
    const toFetch: string[] = [];
    for (const sku of new Set(skus)) {
      const entry = entries.peek(sku);
      if (entry && entry.expires > at) {
        hits++;
        answers.set(sku, entry.value);
        continue;
      }
      misses++;
      const pending = inFlight.get(sku);
      if (pending) answers.set(sku, pending);
      else toFetch.push(sku);
    }
    if (toFetch.length > 0) {
      const batch = connector.contentBySku(toFetch);
      toFetch.forEach((sku, i) => {
        const one = batch.then((values) => values[i] ?? null);
        // A failure is not cached: the next request asks the platform again.
        const settled = one.then((value) => {
          store(sku, value);
          return value;
        });
        inFlight.set(sku, settled);
        void settled.finally(() => inFlight.delete(sku)).catch(() => undefined);
        answers.set(sku, settled);
      });
    }
    return Promise.all(skus.map((sku) => answers.get(sku) ?? null));
  };

  return {
    name: connector.name,
    kind: connector.kind,
    capabilities: connector.capabilities,
    contentBySku,
    listContent: (page) => connector.listContent(page),
    listChannelOrders: (page) => connector.listChannelOrders(page),
    health: () => connector.health(),
    onStateChange: (listener) => connector.onStateChange(listener),
    close: () => connector.close(),
    cacheStats: () => ({ hits, misses, size: entries.size }),
  };
}

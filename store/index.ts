/**
 * Picks the store: MongoDB when a URI is configured (production, several replicas), otherwise
 * the embedded SQLite file in the data directory (one machine, the default).
 *
 * Each implementation is loaded only when chosen, so the embedded default never loads the
 * MongoDB driver and a MongoDB deployment never loads better-sqlite3's native module.
 */
import { join } from 'node:path';
import type { Store } from './contract.js';

/** Default of {@link CreateStoreOptions.dataDir}. */
export const DEFAULT_DATA_DIR = './data';

/** The embedded store's file name inside the data directory. */
export const SQLITE_FILE_NAME = 'crossdock.sqlite';

/** Options of {@link createStore}. */
export interface CreateStoreOptions {
  /**
   * MONGODB_URI: when set (non-empty), the store is MongoDB.
   * @default null // the embedded SQLite store
   */
  readonly mongodbUri?: string | null;
  /**
   * Directory of the embedded store's file (created if missing); unused with MongoDB.
   * @default './data'
   */
  readonly dataDir?: string;
}

/** Opens the configured store; close it on shutdown, after everything that writes to it. */
export async function createStore(options: CreateStoreOptions = {}): Promise<Store> {
  const uri = options.mongodbUri ?? null;
  if (uri !== null && uri !== '') {
    const { createMongoStore } = await import('./mongodb.js');
    return createMongoStore({ uri });
  }
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== 'string' || dataDir.trim() === '') {
    throw new TypeError(
      `store: expected dataDir to be a directory path, got ${JSON.stringify(dataDir)}`,
    );
  }
  const { createSqliteStore } = await import('./sqlite.js');
  return createSqliteStore({ path: join(dataDir, SQLITE_FILE_NAME) });
}

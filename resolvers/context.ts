/**
 * What resolvers receive as context. Built per request (and per graphql-ws socket) by server/app.ts: who is calling,
 * the correlation ID, the connectors and fresh DataLoaders.
 */
import type { Store } from '../store/contract.js';
import type { EventBus } from '../subscriptions/bus.js';
import type { Workflows } from '../workflows/index.js';
import type { Loaders } from './loaders.js';
import type { Sources } from './sources.js';

/** Roles an API key can have. */
export type Role = 'admin' | 'service' | 'storefront' | 'partner';

/** The authenticated caller. */
export interface Caller {
  /** Key id for logs (never the secret itself). */
  readonly id: string;
  readonly role: Role;
  /** Channel-scoped callers (partners, storefront) see only orders of this channel. */
  readonly channel: string | null;
}

/** Something the response should tell the client without failing a field (a fallback taken). */
export interface Warning {
  readonly code: 'SOURCE_FALLBACK' | 'PARTIAL_TIMELINE';
  readonly message: string;
  readonly source: string;
}

/** Resolver context. */
export interface ResolverContext {
  readonly caller: Caller;
  readonly correlationId: string;
  readonly sources: Sources;
  /**
   * This request's DataLoaders. Replaced (resolvers/loaders.ts `renewLoaders`) after each
   * mutation and for each subscription event, so that what is read afterwards is the state after
   * the change, not what a loader cached before it (issue #8).
   */
  loaders: Loaders;
  /** Collected during execution; sent as `extensions.warnings`. */
  readonly warnings: Warning[];
  readonly store: Store;
  readonly bus: EventBus;
  readonly workflows: Workflows;
  /** The `Idempotency-Key` HTTP header, when sent. */
  readonly idempotencyKeyHeader: string | null;
  /** Idempotency outcomes of this request's mutations; sent as `extensions.idempotency`. */
  readonly idempotency: { key: string; replayed: boolean }[];
}

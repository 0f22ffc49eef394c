/**
 * What resolvers receive as context. Built per request (and per graphql-ws socket) by server/app.ts: who is calling,
 * the correlation ID, the connectors and fresh DataLoaders.
 */
import type { Store } from '../store/contract.js';
import type { HealthHistory } from '../observability/health-history.js';
import type { Trail } from '../observability/trail.js';
import type { CursorCodec } from './cursors.js';
import type { EventBus } from '../subscriptions/bus.js';
import type { Workflows } from '../workflows/index.js';
import type { Loaders } from './loaders.js';
import type { Sources } from './sources.js';

/** The principals an API key or token can be (server/identity.ts). */
export const ROLES = ['storefront', 'portal', 'partner', 'service', 'operations', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated caller. */
export interface Caller {
  /** `key:<public key id>` or `jwt:<issuer>:<subject>`, for logs (never the secret itself). */
  readonly id: string;
  /** Who owns the credential (one client may hold several keys: rotation). */
  readonly client: string;
  readonly role: Role;
  /** Channel-scoped callers (partners, storefront) see only orders of this channel. */
  readonly channel: string | null;
  /** The customer account a portal user (or a storefront session) is bound to. */
  readonly customer: string | null;
  /** A partner's allow-list: the customer accounts it may order and price for; null otherwise. */
  readonly customers: readonly string[] | null;
  /** Scopes a token grants (`scope` claim); none for API keys. */
  readonly scopes: readonly string[];
  /** When the credential stops working (ms since the epoch), or null. */
  readonly expiresAt: number | null;
}

/** An API key as the key management API shows it: never the key, never its hash. */
export interface KeyView {
  readonly id: string;
  readonly client: string;
  readonly role: Role;
  readonly channel: string | null;
  readonly customer: string | null;
  readonly customers: readonly string[] | null;
  /** Configured in API_KEYS, or made through the API. */
  readonly origin: 'CONFIGURATION' | 'API';
  readonly createdAt: number | null;
  readonly createdBy: string | null;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
}

/** What `createApiKey` asks for. */
export interface NewKey {
  readonly id: string;
  readonly client: string;
  readonly role: Role;
  readonly channel: string | null;
  readonly customer: string | null;
  readonly customers: readonly string[] | null;
  readonly expiresAt: number | null;
}

/** Why a key could not be made. */
export interface KeyRefusal {
  readonly code: 'API_KEY_ID_TAKEN' | 'INVALID_KEY_SCOPE';
  readonly message: string;
}

/** API keys: the configured ones and those made through the API (server/keys.ts). */
export interface KeyRegistry {
  list(filter: { client: string | null; includeRevoked: boolean }): Promise<KeyView[]>;
  /** Makes a key; `secret` is the key itself, to show once. */
  create(
    spec: NewKey,
    by: string,
  ): Promise<{ key: KeyView; secret: string } | { error: KeyRefusal }>;
  /** Revokes key `id` from `at` on; null when there is no such key. */
  revoke(id: string, at: number, by: string): Promise<KeyView | null>;
  /** Encrypts a key for the idempotency record (a replay shows it again). */
  seal(text: string): string;
  /** The key {@link seal} sealed, or null when it cannot be read (the secret changed). */
  unseal(sealed: string): string | null;
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
  readonly keys: KeyRegistry;
  /** Seals the bus cursors of subscription events (resolvers/cursors.ts). */
  readonly cursors: CursorCodec;
  /** This replica's recent work by correlation ID (observability/trail.ts). */
  readonly trail: Trail;
  /** This instance's samples of every source's health (`SourceHealth.history`). */
  readonly healthHistory: Pick<HealthHistory, 'capacity' | 'history'>;
  /** The `Idempotency-Key` HTTP header, when sent. */
  readonly idempotencyKeyHeader: string | null;
  /** Idempotency outcomes of this request's mutations; sent as `extensions.idempotency`. */
  readonly idempotency: { key: string; replayed: boolean }[];
}

/**
 * Who may call Crossdock (issue #10): principals, API keys stored only as hashes, and the checks
 * that refuse a key or token with missing or contradictory attributes instead of treating it as
 * unscoped.
 *
 * A key is presented as the bearer token itself; Crossdock keeps only `hmac-sha256:<hex>` of it
 * under a server-side secret (`API_KEY_SECRET`), so the key list can sit in configuration and
 * logs without letting anyone call with it. Each key has a public id (what logs and timelines
 * name), the client that owns it (several keys per client: rotation), a principal and an optional
 * expiry. `npm run keys` makes a key and prints its entry.
 *
 * | role         | who                                  | scope it must carry                     |
 * |--------------|--------------------------------------|-----------------------------------------|
 * | `storefront` | a web store                          | one channel; a customer per session (JWT) |
 * | `portal`     | a B2B portal user                    | one customer account                    |
 * | `partner`    | a marketplace, EDI partner           | one channel; the customers it orders for |
 * | `service`    | customer service                     | none (every order and customer)         |
 * | `operations` | the operations team                  | none                                    |
 * | `admin`      | platform administrators              | none                                    |
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { DemoKeys } from '../pages/shared/contract.js';
import { ROLES, type Role } from '../resolvers/context.js';
import { CHANNELS, isChannel } from '../sources/contract.js';
import { API_KEY_ID, CUSTOMER_NUMBER } from '../sources/identifiers.js';

export { ROLES, type Role };

/** What a principal is scoped to; checked by {@link checkScope}. */
export interface Scope {
  readonly role: Role;
  /** The one channel a storefront or partner acts for; null for the others. */
  readonly channel: string | null;
  /** The customer account a portal user (or a storefront session) is bound to. */
  readonly customer: string | null;
  /**
   * The customer accounts a partner may order and price for (its allow-list); null for every
   * other role. A customer outside it is answered as an unknown one.
   */
  readonly customers: readonly string[] | null;
}

/** Most customers one partner's allow-list may name. */
export const MAX_PARTNER_CUSTOMERS = 1000;

/** A customer number as the ERP keys it (BC Code[20]); defined in sources/identifiers.ts. */
export { CUSTOMER_NUMBER };

/**
 * Why a scope is missing or contradictory, or null when it is whole: a partner or storefront
 * without its channel, a portal without its customer, a channel or customer on a role that has
 * none (it would look scoped and be read as unscoped).
 */
export function checkScope(scope: Scope): string | null {
  const { role, channel, customer, customers } = scope;
  if (channel !== null && !isChannel(channel))
    return `a channel of ${CHANNELS.join(', ')}, got ${JSON.stringify(channel)}`;
  if (customer !== null && !CUSTOMER_NUMBER.test(customer))
    return `a customer number such as C10001, got ${JSON.stringify(customer)}`;
  if (customers !== null) {
    if (role !== 'partner')
      return `no customers list for a ${role} principal (only a partner has an allow-list)`;
    const wrong = customers.find((c) => !CUSTOMER_NUMBER.test(c));
    if (wrong !== undefined)
      return `customer numbers such as C10001 in customers, got ${JSON.stringify(wrong)}`;
    if (customers.length > MAX_PARTNER_CUSTOMERS)
      return `at most ${MAX_PARTNER_CUSTOMERS} customers for a partner, got ${customers.length}`;
  }
  switch (role) {
    case 'partner':
      if (channel === null) return 'a channel for a partner (the channel it acts for)';
      if (customer !== null)
        return 'no customer for a partner principal (its customers list names whom it orders for)';
      return customers === null || customers.length === 0
        ? 'a non-empty customers list for a partner (the customer accounts it may order for)'
        : null;
    case 'storefront':
      return channel === null ? `a channel for a ${role} (the channel it acts for)` : null;
    case 'portal':
      if (customer === null) return 'a customer for a portal principal (its B2B account)';
      return channel !== null && channel !== 'B2B_PORTAL'
        ? `no channel but B2B_PORTAL for a portal principal, got ${channel}`
        : null;
    default:
      return channel !== null || customer !== null
        ? `no channel or customer for a ${role} principal (it sees everything its role allows)`
        : null;
  }
}

/** One configured API key: everything but the key itself. */
export interface ApiKeyEntry extends Scope {
  /** Public id: logs, timelines and the key management API name a key by it. */
  readonly id: string;
  /** Who owns the key (one client may hold several: rotation). */
  readonly client: string;
  /** `hmac-sha256:<64 hex>` of the key under API_KEY_SECRET. */
  readonly hash: string;
  /** When the key stops working (ms since the epoch), or null. */
  readonly expiresAt: number | null;
}

const HASH = /^hmac-sha256:[0-9a-f]{64}$/;

/** The stored form of `key` under `secret`. */
export function hashApiKey(secret: string, key: string): string {
  return `hmac-sha256:${createHmac('sha256', secret).update(key).digest('hex')}`;
}

/** Whether `key` is the one `hash` was made from (constant time). */
export function matchesHash(secret: string, key: string, hash: string): boolean {
  const a = Buffer.from(hashApiKey(secret, key));
  const b = Buffer.from(hash);
  return a.length === b.length && timingSafeEqual(a, b);
}

const Entry = z
  .object({
    id: z.string().regex(API_KEY_ID, 'a key id of letters, digits, . _ -'),
    client: z.string().min(1).max(100),
    role: z.enum(ROLES),
    channel: z.string().nullish(),
    customer: z.string().nullish(),
    customers: z.array(z.string()).nullish(),
    hash: z.string().regex(HASH, 'hmac-sha256:<64 hex digits> (npm run keys)'),
    expires: z.iso.datetime({ offset: true }).nullish(),
  })
  .strict();

/**
 * Parses API_KEYS: a JSON array of `{id, client, role, channel?, customer?, customers?, hash, expires?}`.
 * Throws a message naming the entry (by id, never by hash) when one is malformed, its scope is
 * missing or contradictory, or two entries share an id or a hash.
 */
export function parseApiKeyEntries(text: string): ApiKeyEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // No cause: JSON.parse's message quotes the text, which holds key hashes.
    throw new Error(
      'a JSON array of {id, client, role, channel?, customer?, customers?, hash, expires?}',
    );
  }
  if (!Array.isArray(json) || json.length === 0) {
    throw new Error(
      'a non-empty JSON array of {id, client, role, channel?, customer?, customers?, hash, expires?}',
    );
  }
  const ids = new Set<string>();
  const hashes = new Set<string>();
  return json.map((raw, i) => {
    const parsed = Entry.safeParse(raw);
    const name = `entry ${i + 1}${typeof raw?.id === 'string' ? ` (${String(raw.id).slice(0, 64)})` : ''}`;
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `${name}: ${issue?.path.join('.') || 'entry'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const e = parsed.data;
    const entry: ApiKeyEntry = {
      id: e.id,
      client: e.client,
      role: e.role,
      channel: e.channel ?? null,
      customer: e.customer ?? null,
      customers: e.customers ?? null,
      hash: e.hash,
      expiresAt: e.expires ? Date.parse(e.expires) : null,
    };
    const wrong = checkScope(entry);
    if (wrong) throw new Error(`${name}: expected ${wrong}`);
    if (ids.has(entry.id)) throw new Error(`${name}: the id ${entry.id} is used twice`);
    if (hashes.has(entry.hash)) throw new Error(`${name}: the same key is listed twice`);
    ids.add(entry.id);
    hashes.add(entry.hash);
    return entry;
  });
}

/** A demo key of the embedded default: published in the README, refused in production. */
export interface DemoKey extends Scope {
  readonly key: string;
  readonly client: string;
}

/** The portal demo accounts: one key per demo customer account (the sandbox's first five). */
const DEMO_PORTAL_CUSTOMERS = ['C10001', 'C10002', 'C10003', 'C10004', 'C10005'] as const;

/**
 * The customer accounts each demo partner may order for: both sell to C10004 (one buyer on two
 * marketplaces); the others are each partner's own.
 */
export const DEMO_PARTNER_CUSTOMERS = {
  'demo-partner-a': ['C10004', 'C10005', 'C10006', 'C10007'],
  'demo-partner-b': ['C10004', 'C10011', 'C10012', 'C10013'],
} as const;

const demo = (
  key: string,
  role: Role,
  scope: { channel?: string; customer?: string; customers?: readonly string[] } = {},
): DemoKey => ({
  key,
  client: key,
  role,
  channel: scope.channel ?? null,
  customer: scope.customer ?? null,
  customers: scope.customers ?? null,
});

/** The demo keys of the embedded default (DESIGN.md; listed in the README). */
export const DEMO_KEYS: readonly DemoKey[] = [
  demo('demo-admin', 'admin'),
  demo('demo-operations', 'operations'),
  demo('demo-service', 'service'),
  demo('demo-storefront', 'storefront', { channel: 'WEB' }),
  ...DEMO_PORTAL_CUSTOMERS.map((customer) =>
    demo(`demo-portal-${customer.toLowerCase()}`, 'portal', { customer }),
  ),
  demo('demo-partner-a', 'partner', {
    channel: 'MARKETPLACE_A',
    customers: DEMO_PARTNER_CUSTOMERS['demo-partner-a'],
  }),
  demo('demo-partner-b', 'partner', {
    channel: 'MARKETPLACE_B',
    customers: DEMO_PARTNER_CUSTOMERS['demo-partner-b'],
  }),
];

/**
 * The server-side secret the embedded default hashes its demo keys with. Published (it is in
 * this file), so production refuses it as API_KEY_SECRET.
 */
export const DEMO_API_KEY_SECRET = 'crossdock-embedded-demo-key-secret-not-for-production';

/** The entries of the demo keys under `secret` (ids are the keys' names: they are public). */
export function demoEntries(secret: string): ApiKeyEntry[] {
  return DEMO_KEYS.map((d) => ({
    id: d.key,
    client: d.client,
    role: d.role,
    channel: d.channel,
    customer: d.customer,
    customers: d.customers,
    hash: hashApiKey(secret, d.key),
    expiresAt: null,
  }));
}

/** A key to configure: its plaintext and attributes (tests, benchmarks, `npm run keys`). */
export interface KeySpec {
  readonly id: string;
  readonly key: string;
  readonly role: Role;
  readonly client?: string;
  readonly channel?: string;
  readonly customer?: string;
  /** A partner's allow-list of customer accounts. */
  readonly customers?: readonly string[];
  /** ISO 8601 time the key stops working. */
  readonly expires?: string;
}

/** The API_KEYS entry of a key under `secret`. */
export function keyEntry(secret: string, spec: KeySpec): Record<string, unknown> {
  return {
    id: spec.id,
    client: spec.client ?? spec.id,
    role: spec.role,
    ...(spec.channel ? { channel: spec.channel } : {}),
    ...(spec.customer ? { customer: spec.customer } : {}),
    ...(spec.customers ? { customers: spec.customers } : {}),
    hash: hashApiKey(secret, spec.key),
    ...(spec.expires ? { expires: spec.expires } : {}),
  };
}

/** The settings that configure `specs` under `secret`: API_KEYS and API_KEY_SECRET. */
export function apiKeyEnv(
  secret: string,
  specs: readonly KeySpec[],
): { API_KEYS: string; API_KEY_SECRET: string } {
  return {
    API_KEYS: JSON.stringify(specs.map((s) => keyEntry(secret, s))),
    API_KEY_SECRET: secret,
  };
}

/**
 * The demo keys the pages may prefill (the playground's header editor, the console's key
 * field): only when every one of them authenticates here, which is the embedded default and
 * never production (refused at start-up there). Null otherwise.
 */
export function demoKeysOf(apiKeys: readonly ApiKeyEntry[], secret: string): DemoKeys | null {
  const keys: DemoKeys = {
    admin: 'demo-admin',
    storefront: 'demo-storefront',
    service: 'demo-service',
    partner: 'demo-partner-a',
    operations: 'demo-operations',
  };
  const valid = Object.values(keys).every((key) =>
    apiKeys.some((entry) => entry.hash === hashApiKey(secret, key)),
  );
  return valid ? keys : null;
}

/**
 * Configuration: every setting, its default and its check, in one table. Read from the
 * environment, optionally under a JSON file named by CROSSDOCK_CONFIG (the environment wins).
 * A bad value stops start-up with one line naming the setting, what was expected and what
 * arrived. README.md's configuration table lists the same settings (a test keeps them in step).
 */
import { readFileSync } from 'node:fs';
import type { LevelWithSilent } from 'pino';
import { ERP_SANDBOX, COMMERCE_SANDBOX, WMS_SANDBOX } from '../sandbox/credentials.js';
import { LOG_LEVELS } from '../observability/logger.js';
import {
  DEFAULT_HISTORY_LAST,
  DEFAULT_SOURCE_HEALTH_SAMPLES,
  DEFAULT_SOURCE_HEALTH_SAMPLE_MS,
} from '../observability/health-history.js';
import type { JSONWebKeySet } from 'jose';
import { DOCUMENT_MODES, readManifest, type TrustedDocuments } from './documents.js';
import type { BudgetPolicy } from './budget.js';
import {
  DEMO_API_KEY_SECRET,
  DEMO_KEYS,
  ROLES,
  type Role,
  demoEntries,
  hashApiKey,
  parseApiKeyEntries,
  type ApiKeyEntry,
} from './identity.js';
import { standardWebhookKey } from '../sources/erp/webhooks.js';
import type { QueryLimits } from './limits.js';
import { isSlaPattern, type SlaThreshold } from '../workflows/latency.js';

/** A configuration error: one line, naming the setting. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    expected: string,
    received: unknown,
    options?: ErrorOptions,
  ) {
    super(
      `Invalid configuration: ${setting}: expected ${expected}, got ${JSON.stringify(received)}`,
      options,
    );
    this.name = 'ConfigError';
  }
}

type Raw = Readonly<Record<string, string | undefined>>;

/** One setting: name, default (as text, for the README) and meaning. */
export interface SettingDoc {
  readonly name: string;
  readonly default: string;
  readonly description: string;
}

/** Every setting Crossdock reads, with its default. */
export const SETTINGS: readonly SettingDoc[] = [
  {
    name: 'PORT',
    default: '4000',
    description: 'HTTP port of the GraphQL endpoint (0 = ephemeral).',
  },
  {
    name: 'HOST',
    default: '127.0.0.1',
    description: 'Interface to listen on (0.0.0.0 in containers).',
  },
  {
    name: 'METRICS_KEY',
    default: '(none: loopback only)',
    description:
      'Protects /metrics (Prometheus text format): when set (16–256 printable characters), a scrape must send Authorization: Bearer <key> and may come from anywhere; when unset, only loopback peers are answered (403 otherwise).',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    default: '(none: no spans)',
    description:
      'OTLP/HTTP endpoint of an OpenTelemetry collector (e.g. http://collector:4318); spans (operation, loader batch, system call, workflow step, bus publish and delivery) go to <endpoint>/v1/traces. Unset: tracing is off and nothing is sent.',
  },
  {
    name: 'OTEL_SERVICE_NAME',
    default: 'crossdock',
    description: 'service.name of the spans.',
  },
  {
    name: 'NODE_ENV',
    default: 'development',
    description:
      'development, test or production; stack traces are only sent in development. production refuses the demo keys and every sandbox secret or credential at start-up, turns introspection and field suggestions off (unless enabled below) and keeps upstream details out of client messages.',
  },
  {
    name: 'GRAPHQL_INTROSPECTION',
    default: 'on (off when NODE_ENV=production)',
    description: 'on or off: whether __schema and __type queries are answered.',
  },
  {
    name: 'PLAYGROUND',
    default: 'on (off when NODE_ENV=production)',
    description:
      "on or off: GraphiQL at /playground and for a browser's GET /graphql (it needs GRAPHQL_INTROSPECTION to load the schema). Off: /playground is 404 and GET /graphql is GraphQL over HTTP only.",
  },
  {
    name: 'OPS_CONSOLE',
    default: 'on',
    description:
      'on or off: the operations console at /ops (it can do only what the key entered in it may do). Off: /ops is 404.',
  },
  {
    name: 'ERROR_DETAIL',
    default: 'full (redacted when NODE_ENV=production)',
    description:
      "full or redacted: with redacted, a system failure's message names the source and the reason only (library error codes, upstream paths and timings are logged under the response's correlation ID).",
  },
  {
    name: 'GRAPHQL_EXECUTION',
    default: 'compiled',
    description:
      "compiled or interpreted: queries over HTTP run as functions graphql-jit compiles on a document's second execution (server/jit-executor.ts; at most 1,000 documents kept), or on graphql-js execute. Mutations and subscriptions always run on graphql-js. Answers are the same either way (test/compiled-execution.test.ts); interpreted is the way back should a query ever differ.",
  },
  {
    name: 'GRAPHQL_SUGGESTIONS',
    default: 'on (off when NODE_ENV=production)',
    description:
      'on or off: whether validation errors suggest field and argument names ("Did you mean …?").',
  },
  {
    name: 'LOG_LEVEL',
    default: 'info',
    description: 'pino level: fatal, error, warn, info, debug, trace, silent.',
  },
  {
    name: 'CROSSDOCK_CONFIG',
    default: '(none)',
    description: 'Path of a JSON file of these same settings; the environment wins over it.',
  },
  {
    name: 'MAX_QUERY_COST',
    default: '50000',
    description:
      "Largest estimated cost of one operation (field weights × list sizes from the schema's @cost/@listSize; see server/limits.ts); above it QUERY_TOO_COMPLEX.",
  },
  {
    name: 'MAX_QUERY_TOKENS',
    default: '2000',
    description:
      'Most lexical tokens in one document: parsing stops there (QUERY_TOO_COMPLEX), so a huge or deeply nested document costs no more than this.',
  },
  {
    name: 'MAX_QUERY_ALIASES',
    default: '30',
    description:
      'Most aliased fields in one operation (fragments counted per spread); above it QUERY_TOO_COMPLEX.',
  },
  {
    name: 'MAX_QUERY_DIRECTIVES',
    default: '50',
    description: 'Most directives in one operation; above it QUERY_TOO_COMPLEX.',
  },
  {
    name: 'MAX_QUERY_DEPTH',
    default: '15',
    description: 'Deepest field nesting of one operation; above it QUERY_TOO_COMPLEX.',
  },
  {
    name: 'DATA_DIR',
    default: './data',
    description:
      'Directory of the embedded store (SQLite, WAL): idempotency records, orders, ledger, dead letters.',
  },
  {
    name: 'MONGODB_URI',
    default: '(none)',
    description:
      'Use MongoDB (replica set, majority writes) as the store instead of the embedded SQLite.',
  },
  {
    name: 'BUDGET_CAPACITY / BUDGET_REFILL_PER_S',
    default: '1000000 / 20000',
    description:
      'Cost budget of each client: a bucket of this many cost points (the query cost of server/limits.ts) refilled at this rate; an operation costing more than what is left is refused RATE_LIMITED with Retry-After. Shared by every replica through NATS key-value (BUDGET_KV_BUCKET, default <NATS_STREAM_PREFIX>_BUDGETS) when NATS_URL is set.',
  },
  {
    name: 'TRUSTED_DOCUMENTS_FILE / TRUSTED_DOCUMENTS_MODE',
    default: '(none) / off',
    description:
      'The trusted-documents manifest (npm run documents writes it): per client a mode (off, allow-list: unregistered documents logged, enforced: registered documents only) and its documents by SHA-256; clients may send documentId "sha256:<hash>" or Apollo\'s persistedQuery hash. The mode of clients the manifest does not name.',
  },
  {
    name: 'NATS_URL',
    default: '(none)',
    description:
      'Event bus on NATS JetStream (comma-separated URLs), shared by every replica; the in-process bus when unset.',
  },
  {
    name: 'NATS_STREAM_PREFIX',
    default: 'CROSSDOCK',
    description:
      'Prefix of the JetStream stream names (one stream per domain: _ORDER, _SHIPMENT, _INVENTORY, _CUSTOMER).',
  },
  {
    name: 'IDEMPOTENCY_LEASE_MS',
    default: '30000',
    description:
      'How long a running mutation holds its key before another process may take it over and resume it.',
  },
  {
    name: 'IDEMPOTENCY_RETENTION_MS',
    default: '86400000',
    description: 'How long a completed result is kept for replay (24 h).',
  },
  {
    name: 'DEAD_LETTER_RETRY_BASE_MS / DEAD_LETTER_RETRY_MAX_MS / DEAD_LETTER_MAX_ATTEMPTS',
    default: '1000 / 60000 / 50',
    description:
      'Backoff of dead-lettered steps (doubling, with jitter) and the attempts before one is ABANDONED.',
  },
  {
    name: 'DEAD_LETTER_POLL_MS',
    default: '1000',
    description: 'How often due dead letters and stalled orders are looked for.',
  },
  {
    name: 'SLA_STEP_MS',
    default: '(none: no step has an SLA)',
    description:
      'SLA thresholds of workflow steps in ms, a JSON object of step name or prefix* → ms, e.g. {"post:erp": 2000, "reserve:*": 1000, "*": 5000}: an exact name wins, then the longest prefix. Steps slower than theirs count as breaches in Query.stepLatency and are listed by Query.slaBreaches.',
  },
  {
    name: 'LEDGER_WINDOW_MAX_ENTRIES',
    default: '20000',
    description:
      'Most ledger entries one business view (Query.stepLatency, Query.slaBreaches) reads; a wider window is refused with BAD_USER_INPUT naming the limit.',
  },
  {
    name: 'SOURCE_HEALTH_SAMPLE_MS / SOURCE_HEALTH_SAMPLES',
    default: '10000 / 360',
    description:
      "Source health over time (SourceHealth.history): every SOURCE_HEALTH_SAMPLE_MS (100–3600000) each source's breaker state, calls, failures, error rate and p50/p95 latency are sampled; the newest SOURCE_HEALTH_SAMPLES (60–100000; 60 is history's default last) are kept per source, in memory, per instance: 360 × 10 s is an hour.",
  },
  {
    name: 'WS_INIT_TIMEOUT_MS / WS_KEEPALIVE_MS',
    default: '3000 / 12000',
    description:
      'graphql-ws: how long a socket may wait before connection_init (then closed 4408), and the server ping interval.',
  },
  {
    name: 'WS_SUBSCRIBER_BUFFER',
    default: '1000',
    description:
      'Events one subscription may have waiting to be sent; beyond it the socket is closed 1008 (slow consumer) and the client resumes with `after`.',
  },
  {
    name: 'HTTP_MAX_BODY_BYTES',
    default: '1048576',
    description:
      'Largest request body on /graphql (413 above it) and largest graphql-ws message (closed 1009 above it): one limit for both transports.',
  },
  {
    name: 'HTTP_MAX_HEADER_BYTES',
    default: '16384',
    description:
      'Largest request head (request line and headers, so also a GET query); 431 above it.',
  },
  {
    name: 'HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS',
    default: '10000 / 30000',
    description:
      'Time a client has to send its headers, and its whole request (a body shorter than its Content-Length included); then 408 and the connection is closed. The first must not exceed the second.',
  },
  {
    name: 'HTTP_KEEPALIVE_TIMEOUT_MS',
    default: '5000',
    description: 'How long an idle keep-alive connection is kept open for its next request.',
  },
  {
    name: 'WS_PREINIT_MAX_BYTES',
    default: '16384',
    description:
      'Largest graphql-ws message before connection_init is acknowledged (who sends it is not yet known); the socket is closed 1009 above it.',
  },
  {
    name: 'WS_MAX_SUBSCRIPTIONS',
    default: '100',
    description:
      'Operations one graphql-ws socket may run at once; one more is refused with RATE_LIMITED (the socket stays open).',
  },
  {
    name: 'WS_MAX_SOCKETS_PER_KEY',
    default: '100',
    description:
      'graphql-ws sockets one API key may hold open at once (per process); one more is closed 1008 at connection_init.',
  },
  {
    name: 'WS_REAUTH_MS',
    default: '30000',
    description:
      'How often an open graphql-ws socket re-checks the credential it authenticated with; a revoked key (revoked on another replica; on this one the socket closes at once) or an expired one is closed 4403. At most this plus API_KEY_CACHE_MS after the revocation.',
  },

  {
    name: 'WEBHOOK_TOLERANCE_MS',
    default: '300000',
    description:
      'Replay window of signed webhooks: a delivery stamped further than this from its arrival is refused (400 WEBHOOK_TIMESTAMP_STALE).',
  },
  {
    name: 'WEBHOOK_MAX_EVENT_AGE_MS',
    default: '21600000',
    description:
      "How old an event may be when its vendor stamps the event time on every retry (WMS eventDateTimeUtc, commerce Triggered-At): 6 h, the vendors' retry horizon; at most IDEMPOTENCY_RETENTION_MS so a replay inside it is a duplicate.",
  },
  {
    name: 'WEBHOOK_SECRET_ERP / WEBHOOK_SECRET_COMMERCE',
    default: 'sandbox secrets (embedded sandbox only)',
    description:
      'Secrets of the ERP extension (Standard Webhooks, whsec_…) and of the commerce app (HMAC key); a system without one receives no webhooks (404).',
  },
  {
    name: 'WEBHOOK_KEY_REFRESH_MS',
    default: '60000',
    description:
      "WMS/3PL webhooks: least time between two fetches of the signing key caused by signatures that do not verify (a key rotation), so forged deliveries cannot spend the tenant's API quota; 0 fetches on every failure.",
  },
  {
    name: 'WEBHOOK_FAILURES_PER_MINUTE',
    default: '120',
    description:
      'Refused deliveries (4xx) one system may cause per minute; beyond it its deliveries are answered 429 WEBHOOK_RATE_LIMITED with Retry-After, unverified, until the minute ends.',
  },
  {
    name: 'WEBHOOK_MAX_BYTES',
    default: '1048576',
    description: 'Largest webhook body accepted (1 MiB); above it 413.',
  },
  {
    name: 'POLL_SOURCES',
    default: 'tpl',
    description:
      'Comma-separated warehouse sources (wms, tpl) polled for changes instead of sending webhooks; none polls nothing.',
  },
  {
    name: 'POLL_INTERVAL_MS',
    default: '5000',
    description:
      'Time between the end of one poll of the polled sources and the start of the next.',
  },

  {
    name: 'SANDBOX',
    default: 'embedded',
    description:
      'embedded: start the sandbox systems in-process and point every source at them; off: use the *_URL settings.',
  },
  {
    name: 'SANDBOX_PORT_BASE',
    default: '4100',
    description: 'Sandbox ports: base+1 ERP, +2 WMS, +3 3PL, +4 commerce.',
  },
  {
    name: 'SANDBOX_CATALOG_SIZE',
    default: '500',
    description: 'Catalogue size of the sandbox (100000 for benchmarks).',
  },
  {
    name: 'SANDBOX_COMMERCE_RESTORE_RATE',
    default: '100',
    description:
      'Sandbox commerce query-cost restore rate, points/s (100 = Shopify standard plan, 1000 = Plus).',
  },
  {
    name: 'API_KEYS',
    default: 'demo keys (embedded sandbox only)',
    description:
      'JSON array of {id, client, role, channel?, customer?, hash, expires?}: keys stored only as hmac-sha256 under API_KEY_SECRET (npm run keys makes one); roles storefront, portal, partner, service, operations, admin. Required when SANDBOX=off unless JWT_ISSUER is set.',
  },
  {
    name: 'API_KEY_SECRET',
    default: 'a published demo secret (embedded only)',
    description:
      'Server-side secret the API key hashes are made with (at least 32 characters); required with API_KEYS; refused in production if it is the demo one.',
  },
  {
    name: 'BUDGET_POLICIES',
    default: 'none (every principal takes BUDGET_CAPACITY / BUDGET_REFILL_PER_S)',
    description:
      'Budget policies per principal, JSON: {"storefront":{"capacity":200000,"refillPerS":5000},"partner":{...}}; the bucket stays per client.',
  },
  {
    name: 'API_KEY_CACHE_MS',
    default: '5000',
    description:
      'How long a replica caches a key lookup in the store (keys made through the API, revocations, unknown keys): a revocation reaches other replicas within it; 0 reads the store on every request.',
  },
  {
    name: 'JWT_ISSUER / JWT_AUDIENCE',
    default: '(none: no tokens)',
    description:
      'Bearer JWTs are accepted when JWT_ISSUER is set: iss and aud must match (both required then).',
  },
  {
    name: 'JWT_JWKS_URL / JWT_PUBLIC_KEYS',
    default: '(none)',
    description:
      "The issuer's signing keys: a JWKS URL (fetched, cached, refetched for an unknown kid at most every JWT_JWKS_COOLDOWN_MS, 30000) or a JWKS JSON document; one is required with JWT_ISSUER.",
  },
  {
    name: 'JWT_ALGORITHMS / JWT_CLOCK_SKEW_S',
    default: 'RS256,ES256,EdDSA / 30',
    description: 'Signature algorithms accepted, and the tolerance on exp and nbf, in seconds.',
  },
  {
    name: 'JWT_CLAIM_ROLE / JWT_CLAIM_CHANNEL / JWT_CLAIM_CUSTOMER / JWT_CLAIM_CUSTOMERS / JWT_CLAIM_CLIENT',
    default: 'crossdock_role / crossdock_channel / crossdock_customer / crossdock_customers / azp',
    description:
      "Claims that name the token's principal, its channel, its customer account, a partner's customer allow-list (an array) and its client; a token whose claims are missing or contradictory is refused.",
  },
  {
    name: 'ERP_URL',
    default: 'sandbox ERP',
    description: 'ERP (Business Central API v2.0 shape) origin.',
  },
  {
    name: 'ERP_TENANT / ERP_ENVIRONMENT / ERP_COMPANY_ID',
    default: 'sandbox values',
    description: 'Tenant, environment and company GUID of the ERP API path.',
  },
  {
    name: 'ERP_CLIENT_ID / ERP_CLIENT_SECRET / ERP_SCOPE / ERP_TOKEN_URL',
    default: 'sandbox values',
    description:
      'OAuth2 client credentials; the token URL defaults to <ERP_URL>/<tenant>/oauth2/v2.0/token.',
  },
  {
    name: 'COMMERCE_URL / COMMERCE_API_VERSION / COMMERCE_ACCESS_TOKEN',
    default: 'sandbox values',
    description:
      'Commerce (Shopify Admin GraphQL shape) shop origin, API version and access token.',
  },
  {
    name: 'COMMERCE_SHOP_DOMAIN',
    default: 'sandbox shop; else the host of COMMERCE_URL',
    description:
      'The shop this deployment serves (X-Shopify-Shop-Domain): a signed webhook naming another shop of the same app is refused (401 WEBHOOK_SIGNATURE_INVALID).',
  },
  {
    name: 'CONTENT_CACHE_TTL_MS',
    default: '60000',
    description:
      'How long product content from commerce is served from memory (its API is metered by query cost); 0 disables the cache.',
  },
  {
    name: 'CONTENT_CACHE_MAX_ENTRIES',
    default: '50000',
    description: 'Most product content entries kept in memory.',
  },
  {
    name: 'WMS_URL / WMS_CLIENT_ID / WMS_CLIENT_SECRET / WMS_USER_LOGIN',
    default: 'sandbox values',
    description: 'Own WMS (Extensiv 3PL Warehouse Manager shape).',
  },
  {
    name: 'WMS_TPL_GUID / TPL_TPL_GUID',
    default: '(none)',
    description: 'Extensiv 3PL GUID (`tpl` in the token request), for credentials that need it.',
  },
  {
    name: 'WMS_CUSTOMER_ID / TPL_CUSTOMER_ID',
    default: '1',
    description: 'Extensiv customer (depositor) id that reservations are created for.',
  },
  {
    name: 'WMS_PAGE_SIZE / TPL_PAGE_SIZE',
    default: '1000',
    description:
      'Stock summary page size; 500 for a real Extensiv tenant (its documented maximum).',
  },
  {
    name: 'TPL_URL / TPL_CLIENT_ID / TPL_CLIENT_SECRET / TPL_USER_LOGIN',
    default: 'sandbox values',
    description: "The 3PL's WMS (same dialect).",
  },
  {
    name: 'SOURCE_TIMEOUT_MS',
    default: '2000',
    description:
      'Per-call timeout of every source; <SOURCE>_TIMEOUT_MS overrides one (ERP_, COMMERCE_, WMS_, TPL_).',
  },
  {
    name: 'BREAKER_ERROR_THRESHOLD',
    default: '50',
    description:
      'Failure percentage that opens a breaker; <SOURCE>_BREAKER_ERROR_THRESHOLD overrides one.',
  },
  {
    name: 'BREAKER_RESET_MS',
    default: '10000',
    description: 'Time a breaker stays open before one probe (half-open); per source as above.',
  },
  {
    name: 'BREAKER_VOLUME_THRESHOLD',
    default: '5',
    description: 'Calls in the window before a breaker may open; per source as above.',
  },
  {
    name: 'BREAKER_WINDOW_MS',
    default: '30000',
    description: 'Rolling window of error rate and latency percentiles; per source as above.',
  },
];

/** Shortest SOURCE_HEALTH_SAMPLE_MS: reading four breakers is cheap, but not free every tick. */
const MIN_SOURCE_HEALTH_SAMPLE_MS = 100;

/** The four sources of the embedded topology. */
export type SourceName = 'erp' | 'commerce' | 'wms' | 'tpl';

/** Sources that can be polled for changes (the warehouse systems' change feeds). */
export const POLLABLE_SOURCES = ['wms', 'tpl'] as const;

/** A source that can be polled. */
export type PollableSource = (typeof POLLABLE_SOURCES)[number];

/** Breaker and timeout settings of one source. */
export interface ResilienceConfig {
  readonly timeoutMs: number;
  readonly breaker: {
    readonly errorThresholdPercentage: number;
    readonly resetTimeoutMs: number;
    readonly volumeThreshold: number;
    readonly rollingWindowMs: number;
  };
}

/** ERP connection. */
export interface ErpConfig extends ResilienceConfig {
  readonly url: string | null;
  readonly tenant: string;
  readonly environment: string;
  readonly companyId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
  readonly tokenUrl: string | null;
}

/** Commerce connection. */
export interface CommerceConfig extends ResilienceConfig {
  readonly url: string | null;
  readonly contentCache: { readonly ttlMs: number; readonly maxEntries: number };
  readonly apiVersion: string;
  readonly accessToken: string;
  /** The shop webhooks must name; null: the host of the commerce URL. */
  readonly shopDomain: string | null;
}

/** WMS connection. */
export interface WmsConfig extends ResilienceConfig {
  readonly url: string | null;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly userLogin: string;
  readonly tplGuid: string | null;
  readonly pageSize: number;
  readonly customerId: number;
}

/** JWT verification (server/auth.ts). */
export interface JwtConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string | null;
  readonly publicKeys: JSONWebKeySet | null;
  readonly jwksCooldownMs: number;
  readonly algorithms: readonly string[];
  readonly clockSkewS: number;
  readonly claims: {
    readonly role: string;
    readonly channel: string;
    readonly customer: string;
    readonly customers: string;
    readonly client: string;
  };
}

/** Who may call (server/identity.ts, server/auth.ts). */
export interface AuthConfig {
  readonly apiKeySecret: string;
  readonly apiKeys: readonly ApiKeyEntry[];
  /** How long a key lookup (made through the API, or a revocation) is cached, ms. */
  readonly keyCacheMs: number;
  readonly jwt: JwtConfig | null;
}

/** The validated configuration. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly env: 'development' | 'test' | 'production';
  /** Whether __schema/__type are answered, and validation errors suggest names. */
  readonly graphql: {
    readonly introspection: boolean;
    readonly suggestions: boolean;
    /** System failures' messages name the source and the reason only. */
    readonly redactSourceErrors: boolean;
    /** How HTTP queries are executed: compiled by graphql-jit, or by graphql-js. */
    readonly execution: 'compiled' | 'interpreted';
  };
  /** The pages (server/pages.ts): which are served. */
  readonly pages: { readonly playground: boolean; readonly console: boolean };
  readonly logLevel: LevelWithSilent;
  /** Source health over time (observability/health-history.ts): sampling interval and samples kept. */
  readonly sourceHealth: { readonly sampleMs: number; readonly samples: number };
  /** `/metrics`: with a key, only `Authorization: Bearer <key>`; without one, loopback peers only. */
  readonly metrics: { readonly key: string | null };
  /** OpenTelemetry: OTLP/HTTP export when an endpoint is set; no spans otherwise. */
  readonly tracing: { readonly endpoint: string | null; readonly serviceName: string };
  readonly limits: QueryLimits;
  readonly ws: {
    readonly initTimeoutMs: number;
    readonly keepAliveMs: number;
    /** Events a subscriber may have waiting before it is closed as a slow consumer. */
    readonly subscriberBuffer: number;
    /** Largest message before connection_init is acknowledged. */
    readonly preInitMaxBytes: number;
    /** Operations one socket may run at once. */
    readonly maxSubscriptions: number;
    /** Sockets one key may hold at once. */
    readonly maxSocketsPerKey: number;
    /** How often an open socket re-checks its credential (revocation on another replica). */
    readonly reauthMs: number;
  };
  /** Transport limits of the HTTP server (server/transport.ts); the body limit bounds WS messages too. */
  readonly http: {
    readonly maxBodyBytes: number;
    readonly maxHeaderBytes: number;
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
  };
  readonly store: { readonly dataDir: string; readonly mongodbUri: string | null };
  readonly bus: { readonly natsUrl: string | null; readonly streamPrefix: string };
  readonly documents: TrustedDocuments;
  readonly budget: {
    readonly capacity: number;
    readonly refillPerS: number;
    /** Policies of principals that do not take the default (BUDGET_POLICIES). */
    readonly byRole: Readonly<Partial<Record<Role, BudgetPolicy>>>;
    readonly kvBucket: string;
  };
  readonly workflows: {
    readonly leaseMs: number;
    readonly retentionMs: number;
    readonly pollMs: number;
    readonly retry: {
      readonly baseMs: number;
      readonly maxMs: number;
      readonly maxAttempts: number;
    };
    /** SLA thresholds of workflow steps (SLA_STEP_MS). */
    readonly sla: readonly SlaThreshold[];
    /** Most ledger entries a business view reads. */
    readonly maxWindowEntries: number;
  };
  readonly sandbox: {
    readonly mode: 'embedded' | 'off';
    readonly portBase: number;
    readonly catalogSize: number;
    readonly commerceRestoreRate: number;
  };
  readonly auth: AuthConfig;
  /** Signed webhooks from the systems (server/webhooks.ts). */
  readonly webhooks: {
    readonly toleranceMs: number;
    /** How old an event stamped with its own time may be (the vendors' retry horizon). */
    readonly maxEventAgeMs: number;
    readonly maxBytes: number;
    /** Least time between two WMS key fetches caused by failing signatures. */
    readonly keyRefreshMs: number;
    /** Refused deliveries per system and minute before the rest are answered 429. */
    readonly failuresPerMinute: number;
    /** Per system; null: that system's webhooks are not received. */
    readonly secrets: { readonly erp: string | null; readonly commerce: string | null };
  };
  /** Sources polled for changes instead of sending webhooks (workflows/poller.ts). */
  readonly polling: {
    readonly intervalMs: number;
    readonly sources: readonly PollableSource[];
  };
  readonly sources: {
    readonly erp: ErpConfig;
    readonly commerce: CommerceConfig;
    readonly wms: WmsConfig;
    readonly tpl: WmsConfig;
  };
}

function int(raw: Raw, name: string, fallback: number, min: number, max: number): number {
  const text = raw[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `an integer from ${min} to ${max}`, text);
  }
  return value;
}

function oneOf<T extends string>(raw: Raw, name: string, allowed: readonly T[], fallback: T): T {
  const text = raw[name];
  if (text === undefined || text === '') return fallback;
  if (!(allowed as readonly string[]).includes(text))
    throw new ConfigError(name, `one of ${allowed.join(', ')}`, text);
  return text as T;
}

function url(raw: Raw, name: string): string | null {
  const text = raw[name];
  if (text === undefined || text === '') return null;
  try {
    const parsed = new URL(text);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol');
  } catch (error) {
    throw new ConfigError(name, 'an http(s) URL', text, { cause: error });
  }
  return text;
}

function str(raw: Raw, name: string, fallback: string): string {
  const text = raw[name];
  return text === undefined || text === '' ? fallback : text;
}

function resilience(raw: Raw, prefix: string): ResilienceConfig {
  // A shared setting (SOURCE_TIMEOUT_MS, BREAKER_*) with a per-source override (ERP_TIMEOUT_MS, ERP_BREAKER_*).
  const get = (name: string, fallback: number, min: number, max: number, shared = name) =>
    int(raw, `${prefix}_${name}`, int(raw, shared, fallback, min, max), min, max);
  return {
    timeoutMs: get('TIMEOUT_MS', 2_000, 1, 600_000, 'SOURCE_TIMEOUT_MS'),
    breaker: {
      errorThresholdPercentage: get('BREAKER_ERROR_THRESHOLD', 50, 1, 100),
      resetTimeoutMs: get('BREAKER_RESET_MS', 10_000, 1, 3_600_000),
      volumeThreshold: get('BREAKER_VOLUME_THRESHOLD', 5, 0, 1_000_000),
      rollingWindowMs: get('BREAKER_WINDOW_MS', 30_000, 100, 3_600_000),
    },
  };
}

/** The trusted-documents manifest, if one is configured. */
function trustedDocuments(raw: Raw): TrustedDocuments {
  const mode = oneOf(raw, 'TRUSTED_DOCUMENTS_MODE', DOCUMENT_MODES, 'off');
  const file = raw.TRUSTED_DOCUMENTS_FILE;
  if (!file) return { defaultMode: mode, clients: new Map() };
  try {
    return readManifest(file, mode);
  } catch (error) {
    throw new ConfigError(
      'TRUSTED_DOCUMENTS_FILE',
      `a readable manifest (${(error as Error).message})`,
      file,
      { cause: error },
    );
  }
}

const SLA_SHAPE =
  'a JSON object of step name or prefix* → milliseconds (1..86400000), e.g. {"post:erp": 2000, "reserve:*": 1000}';

/** SLA_STEP_MS: the SLA threshold of each step pattern. */
function slaThresholds(text: string | undefined): SlaThreshold[] {
  if (text === undefined || text.trim() === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError('SLA_STEP_MS', SLA_SHAPE, `${text.length} characters that are not JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError('SLA_STEP_MS', SLA_SHAPE, text.slice(0, 200));
  }
  return Object.entries(json).map(([pattern, ms]) => {
    if (!isSlaPattern(pattern)) {
      throw new ConfigError(
        'SLA_STEP_MS',
        'step patterns of up to 100 printable characters and an optional trailing *',
        pattern.slice(0, 200),
      );
    }
    if (!Number.isSafeInteger(ms) || (ms as number) < 1 || (ms as number) > 86_400_000) {
      throw new ConfigError('SLA_STEP_MS', `${pattern}: milliseconds from 1 to 86400000`, ms);
    }
    return { pattern, ms: ms as number };
  });
}

/** API keys and JWT settings; the demo keys when none are configured (embedded only). */
const BUDGET_POLICIES_SHAPE =
  'a JSON object of principal → {"capacity": 1..1000000000, "refillPerS": 1..1000000000}, e.g. {"storefront":{"capacity":200000,"refillPerS":5000}}';

/** BUDGET_POLICIES: the budget policy of each principal that does not take the default. */
function budgetPolicies(text: string | undefined): Partial<Record<Role, BudgetPolicy>> {
  if (!text) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      'BUDGET_POLICIES',
      BUDGET_POLICIES_SHAPE,
      `${text.length} characters that are not JSON`,
      { cause: error },
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError('BUDGET_POLICIES', BUDGET_POLICIES_SHAPE, text.slice(0, 200));
  }
  const policies: Partial<Record<Role, BudgetPolicy>> = {};
  const whole = (v: unknown) =>
    Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 1_000_000_000;
  for (const [role, value] of Object.entries(json)) {
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new ConfigError('BUDGET_POLICIES', `principals of ${ROLES.join(', ')}`, role);
    }
    const { capacity, refillPerS, ...rest } = (value ?? {}) as Record<string, unknown>;
    if (!whole(capacity) || !whole(refillPerS) || Object.keys(rest).length > 0) {
      throw new ConfigError(
        'BUDGET_POLICIES',
        `${role}: {"capacity": 1..1000000000, "refillPerS": 1..1000000000} and nothing else`,
        JSON.stringify(value ?? null).slice(0, 200),
      );
    }
    policies[role as Role] = { capacity: capacity as number, refillPerS: refillPerS as number };
  }
  return policies;
}

function authConfig(raw: Raw, apiKeysText: string | undefined): AuthConfig {
  const secretText = raw.API_KEY_SECRET;
  if (apiKeysText && !secretText) {
    throw new ConfigError('API_KEY_SECRET', 'the secret the API_KEYS hashes were made with', '');
  }
  if (secretText !== undefined && secretText !== '' && secretText.length < 32) {
    throw new ConfigError(
      'API_KEY_SECRET',
      'a secret of at least 32 characters',
      `${secretText.length} characters`,
    );
  }
  const apiKeySecret = secretText || DEMO_API_KEY_SECRET;
  let apiKeys: ApiKeyEntry[];
  if (!apiKeysText)
    apiKeys = raw.JWT_ISSUER && raw.SANDBOX === 'off' ? [] : demoEntries(apiKeySecret);
  else {
    try {
      apiKeys = parseApiKeyEntries(apiKeysText);
    } catch (error) {
      // No cause: the value holds key hashes, and only their count may reach a message.
      throw new ConfigError(
        'API_KEYS',
        (error as Error).message,
        `${apiKeysText.length} characters`,
      );
    }
  }
  return {
    apiKeySecret,
    apiKeys,
    keyCacheMs: int(raw, 'API_KEY_CACHE_MS', 5_000, 0, 300_000),
    jwt: jwtConfig(raw),
  };
}

function jwtConfig(raw: Raw): JwtConfig | null {
  const issuer = raw.JWT_ISSUER;
  if (!issuer) return null;
  const audience = raw.JWT_AUDIENCE;
  if (!audience)
    throw new ConfigError('JWT_AUDIENCE', 'the audience tokens must name (with JWT_ISSUER)', '');
  const jwksUrl = url(raw, 'JWT_JWKS_URL');
  let publicKeys: JSONWebKeySet | null = null;
  if (raw.JWT_PUBLIC_KEYS) {
    try {
      const parsed = JSON.parse(raw.JWT_PUBLIC_KEYS) as JSONWebKeySet;
      if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error('no keys');
      publicKeys = parsed;
    } catch (error) {
      throw new ConfigError(
        'JWT_PUBLIC_KEYS',
        'a JWKS JSON document {"keys": [...]} with at least one key',
        `${raw.JWT_PUBLIC_KEYS.length} characters`,
        { cause: error },
      );
    }
  }
  if ((jwksUrl === null) === (publicKeys === null)) {
    throw new ConfigError(
      'JWT_JWKS_URL',
      'exactly one of JWT_JWKS_URL and JWT_PUBLIC_KEYS with JWT_ISSUER',
      jwksUrl === null ? 'neither' : 'both',
    );
  }
  const algorithms = (raw.JWT_ALGORITHMS ?? 'RS256,ES256,EdDSA')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const allowed = [
    'RS256',
    'RS384',
    'RS512',
    'PS256',
    'PS384',
    'PS512',
    'ES256',
    'ES384',
    'ES512',
    'EdDSA',
  ];
  const bad = algorithms.find((a) => !allowed.includes(a));
  if (bad || algorithms.length === 0) {
    throw new ConfigError(
      'JWT_ALGORITHMS',
      `asymmetric algorithms of ${allowed.join(', ')}`,
      bad ?? '',
    );
  }
  return {
    issuer,
    audience,
    jwksUrl,
    publicKeys,
    jwksCooldownMs: int(raw, 'JWT_JWKS_COOLDOWN_MS', 30_000, 0, 3_600_000),
    algorithms,
    clockSkewS: int(raw, 'JWT_CLOCK_SKEW_S', 30, 0, 600),
    claims: {
      role: raw.JWT_CLAIM_ROLE || 'crossdock_role',
      channel: raw.JWT_CLAIM_CHANNEL || 'crossdock_channel',
      customer: raw.JWT_CLAIM_CUSTOMER || 'crossdock_customer',
      customers: raw.JWT_CLAIM_CUSTOMERS || 'crossdock_customers',
      client: raw.JWT_CLAIM_CLIENT || 'azp',
    },
  };
}

/** A secret's value, shown in errors only by its length. */
function secret(raw: Raw, name: string, fallback: string | null): string | null {
  const text = raw[name];
  return text === undefined || text === '' ? fallback : text;
}

function erpWebhookSecret(raw: Raw, fallback: string | null): string | null {
  const value = secret(raw, 'WEBHOOK_SECRET_ERP', fallback);
  if (value === null) return null;
  try {
    standardWebhookKey(value);
  } catch (error) {
    throw new ConfigError(
      'WEBHOOK_SECRET_ERP',
      'whsec_ followed by base64 of at least 16 bytes',
      `a secret of ${value.length} characters that is not`,
      { cause: error },
    );
  }
  return value;
}

function pollSources(raw: Raw): PollableSource[] {
  const text = raw.POLL_SOURCES;
  if (text === undefined || text === '') return ['tpl'];
  if (text.trim() === 'none') return [];
  const names = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (
    names.length === 0 ||
    !names.every((n) => (POLLABLE_SOURCES as readonly string[]).includes(n))
  ) {
    throw new ConfigError(
      'POLL_SOURCES',
      `comma-separated sources from ${POLLABLE_SOURCES.join(', ')}, or none`,
      text,
    );
  }
  return [...new Set(names)] as PollableSource[];
}

function natsUrl(raw: Raw): string | null {
  const text = raw.NATS_URL;
  if (text === undefined || text === '') return null;
  for (const part of text.split(',')) {
    if (
      !/^(nats|tls|ws|wss):\/\/[^\s/]+$/.test(part.trim()) &&
      !/^[\w.-]+:\d+$/.test(part.trim())
    ) {
      throw new ConfigError('NATS_URL', 'comma-separated nats://host:port URLs', text);
    }
  }
  return text;
}

/** Shortest METRICS_KEY accepted. */
const MIN_METRICS_KEY = 16;

function metricsKey(raw: Raw): string | null {
  const text = raw.METRICS_KEY;
  if (text === undefined || text === '') return null;
  if (text.length < MIN_METRICS_KEY || text.length > 256 || !/^[\x21-\x7e]+$/.test(text)) {
    throw new ConfigError(
      'METRICS_KEY',
      `${MIN_METRICS_KEY} to 256 printable ASCII characters without spaces`,
      `(${text.length} characters)`,
    );
  }
  return text;
}

function mongoUri(raw: Raw): string | null {
  const text = raw.MONGODB_URI;
  if (text === undefined || text === '') return null;
  if (!/^mongodb(\+srv)?:\/\//.test(text)) {
    throw new ConfigError(
      'MONGODB_URI',
      'a mongodb:// or mongodb+srv:// connection string',
      text.replace(/\/\/[^@]*@/, '//…@'),
    );
  }
  return text;
}

function readFile(path: string): Raw {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      'CROSSDOCK_CONFIG',
      'a readable JSON file',
      `${path} (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('CROSSDOCK_CONFIG', 'a JSON object of settings', path);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ConfigError(`CROSSDOCK_CONFIG ${key}`, 'a string, number or boolean', value);
    }
    out[key] = String(value);
  }
  return out;
}

/** Reads and validates the configuration; throws {@link ConfigError} on the first bad value. */
export function loadConfig(env: Raw = process.env): Config {
  const file = env.CROSSDOCK_CONFIG ? readFile(env.CROSSDOCK_CONFIG) : {};
  const raw: Raw = { ...file, ...env };
  const mode = oneOf(raw, 'SANDBOX', ['embedded', 'off'] as const, 'embedded');
  const apiKeysText = raw.API_KEYS;
  if (mode === 'off' && !apiKeysText && !raw.JWT_ISSUER) {
    throw new ConfigError(
      'API_KEYS',
      'API keys (or JWT_ISSUER) when SANDBOX=off (the demo keys are for the sandbox only)',
      '',
    );
  }
  if (mode === 'off') {
    // Where each system is comes before how to log in to it.
    for (const name of ['ERP', 'COMMERCE', 'WMS', 'TPL'])
      if (!raw[`${name}_URL`]) throw new ConfigError(`${name}_URL`, 'a URL when SANDBOX=off', '');
  }
  const nodeEnv = oneOf(
    raw,
    'NODE_ENV',
    ['development', 'test', 'production'] as const,
    'development',
  );
  const production = nodeEnv === 'production';
  /**
   * A system credential: the sandbox's own value on the embedded sandbox only. With SANDBOX=off
   * it must be set (no silent fallback to credentials published in this repository).
   */
  const credential = (name: string, sandboxValue: string): string => {
    const text = raw[name];
    if (text !== undefined && text !== '') return text;
    if (mode === 'off') throw new ConfigError(name, 'a value of your own when SANDBOX=off', '');
    return sandboxValue;
  };
  const onOff = (name: string, fallback: boolean): boolean =>
    oneOf(raw, name, ['on', 'off'] as const, fallback ? 'on' : 'off') === 'on';
  const config: Config = {
    port: int(raw, 'PORT', 4000, 0, 65_535),
    host: str(raw, 'HOST', '127.0.0.1'),
    env: nodeEnv,
    graphql: {
      introspection: onOff('GRAPHQL_INTROSPECTION', !production),
      suggestions: onOff('GRAPHQL_SUGGESTIONS', !production),
      execution: oneOf(raw, 'GRAPHQL_EXECUTION', ['compiled', 'interpreted'] as const, 'compiled'),
      redactSourceErrors:
        oneOf(
          raw,
          'ERROR_DETAIL',
          ['full', 'redacted'] as const,
          production ? 'redacted' : 'full',
        ) === 'redacted',
    },
    pages: {
      playground: onOff('PLAYGROUND', !production),
      console: onOff('OPS_CONSOLE', true),
    },
    logLevel: oneOf(raw, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    metrics: { key: metricsKey(raw) },
    sourceHealth: {
      sampleMs: int(
        raw,
        'SOURCE_HEALTH_SAMPLE_MS',
        DEFAULT_SOURCE_HEALTH_SAMPLE_MS,
        MIN_SOURCE_HEALTH_SAMPLE_MS,
        3_600_000,
      ),
      // At least history's default `last`, so a query without `last` is always in range.
      samples: int(
        raw,
        'SOURCE_HEALTH_SAMPLES',
        DEFAULT_SOURCE_HEALTH_SAMPLES,
        DEFAULT_HISTORY_LAST,
        100_000,
      ),
    },
    tracing: {
      endpoint: url(raw, 'OTEL_EXPORTER_OTLP_ENDPOINT'),
      serviceName: str(raw, 'OTEL_SERVICE_NAME', 'crossdock'),
    },
    bus: {
      natsUrl: natsUrl(raw),
      streamPrefix: str(raw, 'NATS_STREAM_PREFIX', 'CROSSDOCK'),
    },
    documents: trustedDocuments(raw),
    budget: {
      capacity: int(raw, 'BUDGET_CAPACITY', 1_000_000, 1, 1_000_000_000),
      refillPerS: int(raw, 'BUDGET_REFILL_PER_S', 20_000, 1, 1_000_000_000),
      byRole: budgetPolicies(raw.BUDGET_POLICIES),
      kvBucket: str(
        raw,
        'BUDGET_KV_BUCKET',
        `${str(raw, 'NATS_STREAM_PREFIX', 'CROSSDOCK')}_BUDGETS`,
      ),
    },
    store: {
      dataDir: str(raw, 'DATA_DIR', './data'),
      mongodbUri: mongoUri(raw),
    },
    workflows: {
      leaseMs: int(raw, 'IDEMPOTENCY_LEASE_MS', 30_000, 100, 3_600_000),
      retentionMs: int(raw, 'IDEMPOTENCY_RETENTION_MS', 86_400_000, 1_000, 31_536_000_000),
      pollMs: int(raw, 'DEAD_LETTER_POLL_MS', 1_000, 10, 3_600_000),
      retry: {
        baseMs: int(raw, 'DEAD_LETTER_RETRY_BASE_MS', 1_000, 1, 3_600_000),
        maxMs: int(raw, 'DEAD_LETTER_RETRY_MAX_MS', 60_000, 1, 86_400_000),
        maxAttempts: int(raw, 'DEAD_LETTER_MAX_ATTEMPTS', 50, 1, 100_000),
      },
      sla: slaThresholds(raw.SLA_STEP_MS),
      maxWindowEntries: int(raw, 'LEDGER_WINDOW_MAX_ENTRIES', 20_000, 1, 1_000_000),
    },
    ws: {
      initTimeoutMs: int(raw, 'WS_INIT_TIMEOUT_MS', 3_000, 10, 600_000),
      keepAliveMs: int(raw, 'WS_KEEPALIVE_MS', 12_000, 0, 600_000),
      subscriberBuffer: int(raw, 'WS_SUBSCRIBER_BUFFER', 1_000, 1, 1_000_000),
      preInitMaxBytes: int(raw, 'WS_PREINIT_MAX_BYTES', 16_384, 256, 104_857_600),
      maxSubscriptions: int(raw, 'WS_MAX_SUBSCRIPTIONS', 100, 1, 100_000),
      maxSocketsPerKey: int(raw, 'WS_MAX_SOCKETS_PER_KEY', 100, 1, 1_000_000),
      reauthMs: int(raw, 'WS_REAUTH_MS', 30_000, 50, 3_600_000),
    },
    http: {
      maxBodyBytes: int(raw, 'HTTP_MAX_BODY_BYTES', 1_048_576, 1_024, 104_857_600),
      maxHeaderBytes: int(raw, 'HTTP_MAX_HEADER_BYTES', 16_384, 1_024, 1_048_576),
      headersTimeoutMs: int(raw, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 10, 600_000),
      requestTimeoutMs: int(raw, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 10, 3_600_000),
      keepAliveTimeoutMs: int(raw, 'HTTP_KEEPALIVE_TIMEOUT_MS', 5_000, 1, 600_000),
    },
    limits: {
      maxCost: int(raw, 'MAX_QUERY_COST', 50_000, 1, 100_000_000),
      maxDepth: int(raw, 'MAX_QUERY_DEPTH', 15, 1, 1_000),
      maxTokens: int(raw, 'MAX_QUERY_TOKENS', 2_000, 50, 1_000_000),
      maxAliases: int(raw, 'MAX_QUERY_ALIASES', 30, 0, 10_000),
      maxDirectives: int(raw, 'MAX_QUERY_DIRECTIVES', 50, 0, 10_000),
    },
    sandbox: {
      mode,
      portBase: int(raw, 'SANDBOX_PORT_BASE', 4100, 0, 65_530),
      catalogSize: int(raw, 'SANDBOX_CATALOG_SIZE', 500, 1, 1_000_000),
      commerceRestoreRate: int(raw, 'SANDBOX_COMMERCE_RESTORE_RATE', 100, 1, 1_000_000),
    },
    auth: authConfig(raw, apiKeysText),
    webhooks: {
      toleranceMs: int(raw, 'WEBHOOK_TOLERANCE_MS', 300_000, 1_000, 86_400_000),
      maxEventAgeMs: int(raw, 'WEBHOOK_MAX_EVENT_AGE_MS', 21_600_000, 1_000, 604_800_000),
      maxBytes: int(raw, 'WEBHOOK_MAX_BYTES', 1_048_576, 1_024, 104_857_600),
      keyRefreshMs: int(raw, 'WEBHOOK_KEY_REFRESH_MS', 60_000, 0, 86_400_000),
      failuresPerMinute: int(raw, 'WEBHOOK_FAILURES_PER_MINUTE', 120, 1, 1_000_000),
      secrets: {
        erp: erpWebhookSecret(raw, mode === 'embedded' ? ERP_SANDBOX.webhookSecret : null),
        commerce: secret(
          raw,
          'WEBHOOK_SECRET_COMMERCE',
          mode === 'embedded' ? COMMERCE_SANDBOX.webhookSecret : null,
        ),
      },
    },
    polling: {
      intervalMs: int(raw, 'POLL_INTERVAL_MS', 5_000, 10, 3_600_000),
      sources: pollSources(raw),
    },
    sources: {
      erp: {
        url: url(raw, 'ERP_URL'),
        tenant: credential('ERP_TENANT', ERP_SANDBOX.tenant),
        environment: str(raw, 'ERP_ENVIRONMENT', ERP_SANDBOX.environment),
        companyId: credential('ERP_COMPANY_ID', ERP_SANDBOX.companyId),
        clientId: credential('ERP_CLIENT_ID', ERP_SANDBOX.clientId),
        clientSecret: credential('ERP_CLIENT_SECRET', ERP_SANDBOX.clientSecret),
        scope: str(raw, 'ERP_SCOPE', ERP_SANDBOX.scope),
        tokenUrl: url(raw, 'ERP_TOKEN_URL'),
        ...resilience(raw, 'ERP'),
      },
      commerce: {
        url: url(raw, 'COMMERCE_URL'),
        apiVersion: str(raw, 'COMMERCE_API_VERSION', COMMERCE_SANDBOX.apiVersion),
        accessToken: credential('COMMERCE_ACCESS_TOKEN', COMMERCE_SANDBOX.accessToken),
        shopDomain:
          str(raw, 'COMMERCE_SHOP_DOMAIN', '') ||
          (mode === 'embedded' ? COMMERCE_SANDBOX.shopDomain : null),
        contentCache: {
          ttlMs: int(raw, 'CONTENT_CACHE_TTL_MS', 60_000, 0, 86_400_000),
          maxEntries: int(raw, 'CONTENT_CACHE_MAX_ENTRIES', 50_000, 1, 10_000_000),
        },
        ...resilience(raw, 'COMMERCE'),
      },
      wms: wms(raw, 'WMS', WMS_SANDBOX.wms, credential),
      tpl: wms(raw, 'TPL', WMS_SANDBOX.tpl, credential),
    },
  };
  if (config.webhooks.maxEventAgeMs > config.workflows.retentionMs) {
    // A replayed delivery must still be remembered (as a duplicate) for as long as it is fresh.
    throw new ConfigError(
      'WEBHOOK_MAX_EVENT_AGE_MS',
      `at most IDEMPOTENCY_RETENTION_MS (${config.workflows.retentionMs})`,
      String(config.webhooks.maxEventAgeMs),
    );
  }
  if (config.http.headersTimeoutMs > config.http.requestTimeoutMs) {
    // Node refuses a headers timeout longer than the whole request's.
    throw new ConfigError(
      'HTTP_HEADERS_TIMEOUT_MS',
      `at most HTTP_REQUEST_TIMEOUT_MS (${config.http.requestTimeoutMs})`,
      String(config.http.headersTimeoutMs),
    );
  }
  if (config.ws.preInitMaxBytes > config.http.maxBodyBytes) {
    throw new ConfigError(
      'WS_PREINIT_MAX_BYTES',
      `at most HTTP_MAX_BODY_BYTES (${config.http.maxBodyBytes})`,
      String(config.ws.preInitMaxBytes),
    );
  }
  if (production) refuseSandboxSecrets(config);
  if (mode === 'off') {
    for (const [name, source] of Object.entries(config.sources)) {
      if (source.url === null) {
        throw new ConfigError(`${name.toUpperCase()}_URL`, 'a URL when SANDBOX=off', '');
      }
    }
  }
  return config;
}

/**
 * NODE_ENV=production: nothing this repository publishes may authenticate anyone. The demo keys
 * and the sandbox's webhook secrets and system credentials are refused at start-up, one line
 * naming the setting (they are public: with them anyone could call Crossdock or forge a webhook).
 */
function refuseSandboxSecrets(config: Config): void {
  const { auth } = config;
  const demo = DEMO_KEYS.find((d) =>
    auth.apiKeys.some((k) => k.hash === hashApiKey(auth.apiKeySecret, d.key)),
  );
  if (demo)
    throw new ConfigError(
      'API_KEYS',
      'keys of your own when NODE_ENV=production (the demo keys are for the sandbox only)',
      `the demo key ${demo.key}`,
    );
  if (auth.apiKeySecret === DEMO_API_KEY_SECRET)
    throw new ConfigError(
      'API_KEY_SECRET',
      "a secret of your own when NODE_ENV=production (this one is the embedded default's, published in the repository)",
      'the demo secret',
    );
  const published: [string, string | null, string][] = [
    ['WEBHOOK_SECRET_ERP', config.webhooks.secrets.erp, ERP_SANDBOX.webhookSecret],
    ['WEBHOOK_SECRET_COMMERCE', config.webhooks.secrets.commerce, COMMERCE_SANDBOX.webhookSecret],
    ['ERP_CLIENT_SECRET', config.sources.erp.clientSecret, ERP_SANDBOX.clientSecret],
    ['COMMERCE_ACCESS_TOKEN', config.sources.commerce.accessToken, COMMERCE_SANDBOX.accessToken],
    ['WMS_CLIENT_SECRET', config.sources.wms.clientSecret, WMS_SANDBOX.wms.clientSecret],
    ['TPL_CLIENT_SECRET', config.sources.tpl.clientSecret, WMS_SANDBOX.tpl.clientSecret],
  ];
  for (const [name, value, sandbox] of published) {
    if (value !== null && value === sandbox)
      throw new ConfigError(
        name,
        "a secret of your own when NODE_ENV=production (this one is the sandbox's, published in the repository)",
        'the sandbox secret',
      );
  }
}

function wms(
  raw: Raw,
  prefix: 'WMS' | 'TPL',
  sandbox: { clientId: string; clientSecret: string; userLogin: string },
  credential: (name: string, sandboxValue: string) => string,
): WmsConfig {
  return {
    url: url(raw, `${prefix}_URL`),
    clientId: credential(`${prefix}_CLIENT_ID`, sandbox.clientId),
    clientSecret: credential(`${prefix}_CLIENT_SECRET`, sandbox.clientSecret),
    userLogin: credential(`${prefix}_USER_LOGIN`, sandbox.userLogin),
    tplGuid: raw[`${prefix}_TPL_GUID`] || null,
    pageSize: int(raw, `${prefix}_PAGE_SIZE`, 1000, 1, 1000),
    customerId: int(raw, `${prefix}_CUSTOMER_ID`, 1, 1, 2_147_483_647),
    ...resilience(raw, prefix),
  };
}

/**
 * Configuration: defaults, a table of bad values with their exact one-line errors, the file
 * layer, and the README table listing every setting.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMERCE_SANDBOX, ERP_SANDBOX } from '../sandbox/credentials.js';
import { ConfigError, SETTINGS, loadConfig } from '../server/config.js';
import {
  DEMO_API_KEY_SECRET,
  apiKeyEnv,
  demoEntries,
  hashApiKey,
  keyEntry,
} from '../server/identity.js';

/** A key secret of a deployment's own (tests only). */
const OWN_SECRET = 'an-api-key-secret-of-our-own-32-chars-or-more';
/** Keys of a deployment's own: one admin key. */
const OWN_KEYS = apiKeyEnv(OWN_SECRET, [{ id: 'ops-1', key: 'ops-key-123', role: 'admin' }]);

/** Runs `npm start`'s entry with `env`; asserts it exits 1 printing exactly `stderr`. */
async function startFails(env: Record<string, string>, stderr: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: new URL('..', import.meta.url),
    // Not the shared NATS of CI: this process uses the in-process bus.
    env: { ...process.env, NATS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 1);
  assert.equal(err, stderr);
}

/** Asserts that `env` stops start-up with exactly `message`. */
function refuses(env: Record<string, string>, message: string | RegExp): void {
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    },
  );
}

describe('configuration', () => {
  it('has documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.port, 4000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.sandbox.mode, 'embedded');
    assert.equal(config.sandbox.portBase, 4100);
    assert.equal(config.sandbox.catalogSize, 500);
    assert.deepEqual(config.auth.apiKeys, demoEntries(DEMO_API_KEY_SECRET));
    assert.equal(config.auth.jwt, null);
    assert.equal(config.sources.erp.timeoutMs, 2000);
    assert.deepEqual(config.sources.wms.breaker, {
      errorThresholdPercentage: 50,
      resetTimeoutMs: 10_000,
      volumeThreshold: 5,
      rollingWindowMs: 30_000,
    });
  });

  it('samples source health every 10 s and keeps an hour, unless told otherwise', () => {
    assert.deepEqual(loadConfig({}).sourceHealth, { sampleMs: 10_000, samples: 360 });
    assert.deepEqual(
      loadConfig({ SOURCE_HEALTH_SAMPLE_MS: '1000', SOURCE_HEALTH_SAMPLES: '3600' }).sourceHealth,
      { sampleMs: 1_000, samples: 3_600 },
    );
  });

  it('lets one source override the shared resilience settings', () => {
    const config = loadConfig({
      SOURCE_TIMEOUT_MS: '900',
      ERP_TIMEOUT_MS: '3000',
      BREAKER_RESET_MS: '500',
      TPL_BREAKER_RESET_MS: '700',
    });
    assert.equal(config.sources.erp.timeoutMs, 3000);
    assert.equal(config.sources.commerce.timeoutMs, 900);
    assert.equal(config.sources.wms.breaker.resetTimeoutMs, 500);
    assert.equal(config.sources.tpl.breaker.resetTimeoutMs, 700);
  });

  it('refuses a webhook event age longer than deliveries are remembered', () => {
    assert.throws(
      () =>
        loadConfig({ WEBHOOK_MAX_EVENT_AGE_MS: '7200000', IDEMPOTENCY_RETENTION_MS: '3600000' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message ===
          'Invalid configuration: WEBHOOK_MAX_EVENT_AGE_MS: expected at most IDEMPOTENCY_RETENTION_MS (3600000), got "7200000"',
    );
  });

  it('receives webhooks with the sandbox secrets and polls the 3PL by default', () => {
    const config = loadConfig({});
    assert.deepEqual(config.webhooks, {
      toleranceMs: 300_000,
      maxEventAgeMs: 21_600_000,
      maxBytes: 1_048_576,
      keyRefreshMs: 60_000,
      failuresPerMinute: 120,
      secrets: { erp: ERP_SANDBOX.webhookSecret, commerce: COMMERCE_SANDBOX.webhookSecret },
    });
    assert.deepEqual(config.polling, { intervalMs: 5_000, sources: ['tpl'] });
  });

  it('receives no webhooks from a real system without its secret', () => {
    const off = {
      SANDBOX: 'off',
      ...OWN_KEYS,
      ERP_URL: 'https://erp.example',
      COMMERCE_URL: 'https://shop.example',
      WMS_URL: 'https://wms.example',
      TPL_URL: 'https://tpl.example',
      ...OWN_CREDENTIALS,
    };
    assert.deepEqual(loadConfig(off).webhooks.secrets, { erp: null, commerce: null });
    const secret = `whsec_${Buffer.from('a-real-secret-of-32-bytes-long!!').toString('base64')}`;
    assert.deepEqual(
      loadConfig({ ...off, WEBHOOK_SECRET_ERP: secret, WEBHOOK_SECRET_COMMERCE: 'shpss_x' })
        .webhooks.secrets,
      { erp: secret, commerce: 'shpss_x' },
    );
    assert.deepEqual(loadConfig({ POLL_SOURCES: 'none' }).polling.sources, []);
    assert.deepEqual(loadConfig({ POLL_SOURCES: 'wms, tpl,wms' }).polling.sources, ['wms', 'tpl']);
  });

  it('parses API keys stored as hashes, with ids, clients, scopes and expiries', () => {
    const config = loadConfig(
      apiKeyEnv(OWN_SECRET, [
        { id: 'ops-1', key: 'ops-key-123', role: 'admin', client: 'ops' },
        { id: 'web-2026a', key: 'shop-key-1', role: 'storefront', channel: 'WEB', client: 'web' },
        {
          id: 'web-2026b',
          key: 'shop-key-2',
          role: 'storefront',
          channel: 'WEB',
          client: 'web',
          expires: '2027-01-01T00:00:00Z',
        },
        { id: 'acme', key: 'portal-key', role: 'portal', customer: 'C10002' },
      ]),
    );
    assert.deepEqual(
      config.auth.apiKeys.map((k) => [k.id, k.client, k.role, k.channel, k.customer, k.expiresAt]),
      [
        ['ops-1', 'ops', 'admin', null, null, null],
        ['web-2026a', 'web', 'storefront', 'WEB', null, null],
        ['web-2026b', 'web', 'storefront', 'WEB', null, Date.parse('2027-01-01T00:00:00Z')],
        ['acme', 'acme', 'portal', null, 'C10002', null],
      ],
    );
    assert.equal(config.auth.apiKeys[0]?.hash, hashApiKey(OWN_SECRET, 'ops-key-123'));
    assert.ok(!JSON.stringify(config).includes('ops-key-123'), 'the key itself is kept nowhere');
  });

  const bad: [string, Record<string, string>, string | RegExp][] = [
    [
      'PORT not a number',
      { PORT: 'abc' },
      'Invalid configuration: PORT: expected an integer from 0 to 65535, got "abc"',
    ],
    [
      'PORT too big',
      { PORT: '70000' },
      'Invalid configuration: PORT: expected an integer from 0 to 65535, got "70000"',
    ],
    [
      'SANDBOX unknown',
      { SANDBOX: 'maybe' },
      'Invalid configuration: SANDBOX: expected one of embedded, off, got "maybe"',
    ],
    [
      'LOG_LEVEL unknown',
      { LOG_LEVEL: 'loud' },
      'Invalid configuration: LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    [
      'timeout zero',
      { ERP_TIMEOUT_MS: '0' },
      'Invalid configuration: ERP_TIMEOUT_MS: expected an integer from 1 to 600000, got "0"',
    ],
    [
      'threshold over 100',
      { BREAKER_ERROR_THRESHOLD: '150' },
      'Invalid configuration: BREAKER_ERROR_THRESHOLD: expected an integer from 1 to 100, got "150"',
    ],
    [
      'SOURCE_HEALTH_SAMPLE_MS zero',
      { SOURCE_HEALTH_SAMPLE_MS: '0' },
      'Invalid configuration: SOURCE_HEALTH_SAMPLE_MS: expected an integer from 100 to 3600000, got "0"',
    ],
    [
      'SOURCE_HEALTH_SAMPLE_MS not a number',
      { SOURCE_HEALTH_SAMPLE_MS: '10s' },
      'Invalid configuration: SOURCE_HEALTH_SAMPLE_MS: expected an integer from 100 to 3600000, got "10s"',
    ],
    [
      "SOURCE_HEALTH_SAMPLES fewer than history's default last",
      { SOURCE_HEALTH_SAMPLES: '59' },
      'Invalid configuration: SOURCE_HEALTH_SAMPLES: expected an integer from 60 to 100000, got "59"',
    ],
    [
      'URL not http',
      { ERP_URL: 'ftp://erp.example' },
      'Invalid configuration: ERP_URL: expected an http(s) URL, got "ftp://erp.example"',
    ],
    [
      'API keys that are not JSON (the old key=role form)',
      { API_KEYS: 'abcdefghij=admin', API_KEY_SECRET: OWN_SECRET },
      'Invalid configuration: API_KEYS: expected a JSON array of {id, client, role, channel?, customer?, customers?, hash, expires?}, got "16 characters"',
    ],
    [
      'API keys without their secret',
      { API_KEYS: OWN_KEYS.API_KEYS },
      'Invalid configuration: API_KEY_SECRET: expected the secret the API_KEYS hashes were made with, got ""',
    ],
    [
      'a short API key secret',
      { ...OWN_KEYS, API_KEY_SECRET: 'short' },
      'Invalid configuration: API_KEY_SECRET: expected a secret of at least 32 characters, got "5 characters"',
    ],
    ...(
      [
        [
          'a key in plain text',
          [{ ...keyEntry(OWN_SECRET, { id: 'k1', key: 'x', role: 'admin' }), hash: 'x' }],
          'entry 1 (k1): hash: hmac-sha256:<64 hex digits> (npm run keys)',
        ],
        [
          'an unknown role',
          [{ ...keyEntry(OWN_SECRET, { id: 'k1', key: 'x', role: 'admin' }), role: 'root' }],
          /^entry 1 \(k1\): role: /,
        ],
        [
          'a partner without its channel',
          [keyEntry(OWN_SECRET, { id: 'p1', key: 'x', role: 'partner' })],
          'entry 1 (p1): expected a channel for a partner (the channel it acts for)',
        ],
        [
          'a partner without the customers it may order for',
          [keyEntry(OWN_SECRET, { id: 'p1', key: 'x', role: 'partner', channel: 'EDI' })],
          'entry 1 (p1): expected a non-empty customers list for a partner (the customer accounts it may order for)',
        ],
        [
          'a partner with an empty customers list',
          [
            keyEntry(OWN_SECRET, {
              id: 'p1',
              key: 'x',
              role: 'partner',
              channel: 'EDI',
              customers: [],
            }),
          ],
          'entry 1 (p1): expected a non-empty customers list for a partner (the customer accounts it may order for)',
        ],
        [
          'a partner bound to one customer (a portal, or a list?)',
          [
            keyEntry(OWN_SECRET, {
              id: 'p1',
              key: 'x',
              role: 'partner',
              channel: 'EDI',
              customer: 'C10001',
              customers: ['C10001'],
            }),
          ],
          'entry 1 (p1): expected no customer for a partner principal (its customers list names whom it orders for)',
        ],
        [
          'a customers list on a service key',
          [keyEntry(OWN_SECRET, { id: 'v1', key: 'x', role: 'service', customers: ['C10001'] })],
          'entry 1 (v1): expected no customers list for a service principal (only a partner has an allow-list)',
        ],
        [
          'a malformed customer number in a partner list',
          [
            keyEntry(OWN_SECRET, {
              id: 'p1',
              key: 'x',
              role: 'partner',
              channel: 'EDI',
              customers: ['C10001', 'no spaces'],
            }),
          ],
          'entry 1 (p1): expected customer numbers such as C10001 in customers, got "no spaces"',
        ],
        [
          'a storefront without its channel',
          [keyEntry(OWN_SECRET, { id: 's1', key: 'x', role: 'storefront' })],
          'entry 1 (s1): expected a channel for a storefront (the channel it acts for)',
        ],
        [
          'a portal without its customer',
          [keyEntry(OWN_SECRET, { id: 'b1', key: 'x', role: 'portal' })],
          'entry 1 (b1): expected a customer for a portal principal (its B2B account)',
        ],
        [
          'an admin with a channel (scoped, or not?)',
          [keyEntry(OWN_SECRET, { id: 'a1', key: 'x', role: 'admin', channel: 'WEB' })],
          'entry 1 (a1): expected no channel or customer for a admin principal (it sees everything its role allows)',
        ],
        [
          'an unknown channel',
          [keyEntry(OWN_SECRET, { id: 'p1', key: 'x', role: 'partner', channel: 'NOPE' })],
          /^entry 1 \(p1\): expected a channel of WEB, /,
        ],
        [
          'one key twice',
          [
            keyEntry(OWN_SECRET, { id: 'a1', key: 'x', role: 'admin' }),
            keyEntry(OWN_SECRET, { id: 'a2', key: 'x', role: 'admin' }),
          ],
          'entry 2 (a2): the same key is listed twice',
        ],
        [
          'one id twice',
          [
            keyEntry(OWN_SECRET, { id: 'a1', key: 'x', role: 'admin' }),
            keyEntry(OWN_SECRET, { id: 'a1', key: 'y', role: 'admin' }),
          ],
          'entry 2 (a1): the id a1 is used twice',
        ],
        [
          'an expiry that is not a time',
          [{ ...keyEntry(OWN_SECRET, { id: 'a1', key: 'x', role: 'admin' }), expires: 'tomorrow' }],
          /^entry 1 \(a1\): expires: /,
        ],
      ] as const
    ).map(([name, entries, message]): [string, Record<string, string>, string | RegExp] => {
      const text = JSON.stringify(entries);
      const prefix = 'Invalid configuration: API_KEYS: expected ';
      return [
        `API keys with ${name}`,
        { API_KEYS: text, API_KEY_SECRET: OWN_SECRET },
        typeof message === 'string'
          ? `${prefix}${message}, got "${text.length} characters"`
          : new RegExp(`^${prefix}${message.source.slice(1)}`),
      ];
    }),
    [
      'sandbox off without keys',
      { SANDBOX: 'off' },
      'Invalid configuration: API_KEYS: expected API keys (or JWT_ISSUER) when SANDBOX=off (the demo keys are for the sandbox only), got ""',
    ],
    [
      'a JWT issuer without an audience',
      { JWT_ISSUER: 'https://idp.example' },
      'Invalid configuration: JWT_AUDIENCE: expected the audience tokens must name (with JWT_ISSUER), got ""',
    ],
    [
      'a JWT issuer without keys',
      { JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'crossdock' },
      'Invalid configuration: JWT_JWKS_URL: expected exactly one of JWT_JWKS_URL and JWT_PUBLIC_KEYS with JWT_ISSUER, got "neither"',
    ],
    [
      'a symmetric JWT algorithm',
      {
        JWT_ISSUER: 'https://idp.example',
        JWT_AUDIENCE: 'crossdock',
        JWT_JWKS_URL: 'https://idp.example/jwks',
        JWT_ALGORITHMS: 'HS256',
      },
      /^Invalid configuration: JWT_ALGORITHMS: expected asymmetric algorithms of RS256, /,
    ],
    [
      'sandbox off without URLs',
      { SANDBOX: 'off', ...OWN_KEYS },
      'Invalid configuration: ERP_URL: expected a URL when SANDBOX=off, got ""',
    ],
    [
      'ERP webhook secret not whsec_',
      { WEBHOOK_SECRET_ERP: 'hunter2' },
      'Invalid configuration: WEBHOOK_SECRET_ERP: expected whsec_ followed by base64 of at least 16 bytes, got "a secret of 7 characters that is not"',
    ],
    [
      'a source that cannot be polled',
      { POLL_SOURCES: 'tpl,erp' },
      'Invalid configuration: POLL_SOURCES: expected comma-separated sources from wms, tpl, or none, got "tpl,erp"',
    ],
    [
      'webhook tolerance under a second',
      { WEBHOOK_TOLERANCE_MS: '10' },
      'Invalid configuration: WEBHOOK_TOLERANCE_MS: expected an integer from 1000 to 86400000, got "10"',
    ],
    [
      'budget policies that are not JSON',
      { BUDGET_POLICIES: '{partner:' },
      /^Invalid configuration: BUDGET_POLICIES: expected a JSON object of principal → .*, got "9 characters that are not JSON"$/,
    ],
    [
      'a budget policy of an unknown principal',
      { BUDGET_POLICIES: '{"root":{"capacity":1,"refillPerS":1}}' },
      'Invalid configuration: BUDGET_POLICIES: expected principals of storefront, portal, partner, service, operations, admin, got "root"',
    ],
    [
      'a budget policy without its refill rate',
      { BUDGET_POLICIES: '{"partner":{"capacity":100}}' },
      'Invalid configuration: BUDGET_POLICIES: expected partner: {"capacity": 1..1000000000, "refillPerS": 1..1000000000} and nothing else, got "{\\"capacity\\":100}"',
    ],
    [
      'a budget policy with a fractional capacity',
      { BUDGET_POLICIES: '{"partner":{"capacity":1.5,"refillPerS":1}}' },
      /^Invalid configuration: BUDGET_POLICIES: expected partner: /,
    ],
    [
      'SLA thresholds that are not JSON',
      { SLA_STEP_MS: '{post:erp: 2000}' },
      'Invalid configuration: SLA_STEP_MS: expected a JSON object of step name or prefix* → milliseconds (1..86400000), e.g. {"post:erp": 2000, "reserve:*": 1000}, got "16 characters that are not JSON"',
    ],
    [
      'SLA thresholds as a list',
      { SLA_STEP_MS: '[2000]' },
      'Invalid configuration: SLA_STEP_MS: expected a JSON object of step name or prefix* → milliseconds (1..86400000), e.g. {"post:erp": 2000, "reserve:*": 1000}, got "[2000]"',
    ],
    [
      'an SLA pattern with * inside',
      { SLA_STEP_MS: '{"re*serve": 1000}' },
      'Invalid configuration: SLA_STEP_MS: expected step patterns of up to 100 printable characters and an optional trailing *, got "re*serve"',
    ],
    [
      'an SLA threshold of 0 ms',
      { SLA_STEP_MS: '{"post:erp": 0}' },
      'Invalid configuration: SLA_STEP_MS: expected post:erp: milliseconds from 1 to 86400000, got 0',
    ],
    [
      'an SLA threshold as text',
      { SLA_STEP_MS: '{"reserve:*": "1s"}' },
      'Invalid configuration: SLA_STEP_MS: expected reserve:*: milliseconds from 1 to 86400000, got "1s"',
    ],
    [
      'a ledger window bound of 0',
      { LEDGER_WINDOW_MAX_ENTRIES: '0' },
      'Invalid configuration: LEDGER_WINDOW_MAX_ENTRIES: expected an integer from 1 to 1000000, got "0"',
    ],
    [
      'config file missing',
      { CROSSDOCK_CONFIG: '/nonexistent/crossdock.json' },
      'Invalid configuration: CROSSDOCK_CONFIG: expected a readable JSON file, got "/nonexistent/crossdock.json (ENOENT: no such file or directory, open \'/nonexistent/crossdock.json\')"',
    ],
  ];
  for (const [name, env, message] of bad) it(`rejects ${name}`, () => refuses(env, message));

  it('reads budget policies per principal', () => {
    const config = loadConfig({
      BUDGET_POLICIES:
        '{"partner":{"capacity":500,"refillPerS":5},"storefront":{"capacity":9,"refillPerS":1}}',
    });
    assert.deepEqual(config.budget.byRole, {
      partner: { capacity: 500, refillPerS: 5 },
      storefront: { capacity: 9, refillPerS: 1 },
    });
    assert.deepEqual(loadConfig({}).budget.byRole, {});
  });

  it('reads a JSON file under the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossdock-config-'));
    const file = join(dir, 'crossdock.json');
    writeFileSync(file, JSON.stringify({ PORT: 4555, LOG_LEVEL: 'warn' }));
    const config = loadConfig({ CROSSDOCK_CONFIG: file, LOG_LEVEL: 'debug' });
    assert.equal(config.port, 4555);
    assert.equal(config.logLevel, 'debug');
  });

  it('is documented in README.md, setting by setting', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const setting of SETTINGS) {
      assert.ok(readme.includes(`\`${setting.name}\``), `README.md must document ${setting.name}`);
    }
  });

  it('stops `npm start` with one clear line on a bad value', () =>
    startFails(
      { PORT: 'eighty' },
      'Invalid configuration: PORT: expected an integer from 0 to 65535, got "eighty"\n',
    ));
});

/** Credentials of a real deployment (none of them the sandbox's). */
const OWN_CREDENTIALS = {
  ERP_TENANT: 'contoso',
  ERP_COMPANY_ID: '00000000-0000-4000-8000-000000000001',
  ERP_CLIENT_ID: 'crossdock-prod',
  ERP_CLIENT_SECRET: 'erp-secret-of-our-own',
  COMMERCE_ACCESS_TOKEN: 'shpat_our_own',
  WMS_CLIENT_ID: 'wms-prod',
  WMS_CLIENT_SECRET: 'wms-secret-of-our-own',
  WMS_USER_LOGIN: 'crossdock',
  TPL_CLIENT_ID: 'tpl-prod',
  TPL_CLIENT_SECRET: 'tpl-secret-of-our-own',
  TPL_USER_LOGIN: 'crossdock',
};

describe('production-safe start-up (issue #9)', () => {
  const urls = {
    SANDBOX: 'off',
    ERP_URL: 'https://erp.example',
    COMMERCE_URL: 'https://shop.example',
    WMS_URL: 'https://wms.example',
    TPL_URL: 'https://tpl.example',
  };
  const production = {
    NODE_ENV: 'production',
    ...OWN_KEYS,
    ...urls,
    ...OWN_CREDENTIALS,
  };

  it('starts with keys, secrets and credentials of its own; introspection and suggestions off', () => {
    const config = loadConfig(production);
    assert.deepEqual(config.graphql, {
      introspection: false,
      suggestions: false,
      redactSourceErrors: true,
      execution: 'compiled',
    });
    assert.deepEqual(
      loadConfig({
        ...production,
        GRAPHQL_INTROSPECTION: 'on',
        GRAPHQL_SUGGESTIONS: 'on',
        ERROR_DETAIL: 'full',
      }).graphql,
      { introspection: true, suggestions: true, redactSourceErrors: false, execution: 'compiled' },
    );
    assert.deepEqual(loadConfig({}).graphql, {
      introspection: true,
      suggestions: true,
      redactSourceErrors: false,
      execution: 'compiled',
    });
    assert.equal(loadConfig({ GRAPHQL_EXECUTION: 'interpreted' }).graphql.execution, 'interpreted');
  });

  it('serves the console but not the playground unless asked (PLAYGROUND=on)', () => {
    assert.deepEqual(loadConfig(production).pages, { playground: false, console: true });
    assert.deepEqual(loadConfig({ ...production, PLAYGROUND: 'on', OPS_CONSOLE: 'off' }).pages, {
      playground: true,
      console: false,
    });
    assert.deepEqual(loadConfig({}).pages, { playground: true, console: true });
  });

  const refused: [string, Record<string, string>, string][] = [
    [
      'the demo keys (the embedded default)',
      { NODE_ENV: 'production' },
      'Invalid configuration: API_KEYS: expected keys of your own when NODE_ENV=production (the demo keys are for the sandbox only), got "the demo key demo-admin"',
    ],
    [
      'a demo key among its own',
      {
        ...production,
        ...apiKeyEnv(OWN_SECRET, [
          { id: 'ops-1', key: 'ops-key-123', role: 'admin' },
          {
            id: 'mp',
            key: 'demo-partner-a',
            role: 'partner',
            channel: 'MARKETPLACE_A',
            customers: ['C10004'],
          },
        ]),
      },
      'Invalid configuration: API_KEYS: expected keys of your own when NODE_ENV=production (the demo keys are for the sandbox only), got "the demo key demo-partner-a"',
    ],
    [
      "the sandbox's ERP webhook secret",
      { ...production, WEBHOOK_SECRET_ERP: ERP_SANDBOX.webhookSecret },
      `Invalid configuration: WEBHOOK_SECRET_ERP: expected a secret of your own when NODE_ENV=production (this one is the sandbox's, published in the repository), got "the sandbox secret"`,
    ],
    [
      "the sandbox's commerce webhook secret",
      { ...production, WEBHOOK_SECRET_COMMERCE: COMMERCE_SANDBOX.webhookSecret },
      `Invalid configuration: WEBHOOK_SECRET_COMMERCE: expected a secret of your own when NODE_ENV=production (this one is the sandbox's, published in the repository), got "the sandbox secret"`,
    ],
    [
      "the sandbox's ERP client secret",
      { ...production, ERP_CLIENT_SECRET: ERP_SANDBOX.clientSecret },
      `Invalid configuration: ERP_CLIENT_SECRET: expected a secret of your own when NODE_ENV=production (this one is the sandbox's, published in the repository), got "the sandbox secret"`,
    ],
    [
      'the embedded sandbox with keys of its own (its webhook secrets are published)',
      { NODE_ENV: 'production', ...OWN_KEYS },
      `Invalid configuration: WEBHOOK_SECRET_ERP: expected a secret of your own when NODE_ENV=production (this one is the sandbox's, published in the repository), got "the sandbox secret"`,
    ],
    ...Object.keys(OWN_CREDENTIALS).map((name): [string, Record<string, string>, string] => {
      const { [name as keyof typeof OWN_CREDENTIALS]: _left, ...rest } = OWN_CREDENTIALS;
      return [
        `SANDBOX=off without ${name} (no fallback to the sandbox's)`,
        { ...OWN_KEYS, ...urls, ...rest },
        `Invalid configuration: ${name}: expected a value of your own when SANDBOX=off, got ""`,
      ];
    }),
    [
      'the demo API key secret',
      {
        ...production,
        API_KEY_SECRET: DEMO_API_KEY_SECRET,
        API_KEYS: apiKeyEnv(DEMO_API_KEY_SECRET, [
          { id: 'ops-1', key: 'ops-key-123', role: 'admin' },
        ]).API_KEYS,
      },
      `Invalid configuration: API_KEY_SECRET: expected a secret of your own when NODE_ENV=production (this one is the embedded default's, published in the repository), got "the demo secret"`,
    ],
    [
      'a playground setting that is not on or off',
      { PLAYGROUND: 'true' },
      'Invalid configuration: PLAYGROUND: expected one of on, off, got "true"',
    ],
    [
      'an introspection setting that is not on or off',
      { GRAPHQL_INTROSPECTION: 'yes' },
      'Invalid configuration: GRAPHQL_INTROSPECTION: expected one of on, off, got "yes"',
    ],
    [
      'an execution engine it does not have',
      { GRAPHQL_EXECUTION: 'jit' },
      'Invalid configuration: GRAPHQL_EXECUTION: expected one of compiled, interpreted, got "jit"',
    ],
  ];
  for (const [name, env, message] of refused) it(`refuses ${name}`, () => refuses(env, message));

  it('stops `npm start` in production on the demo keys with one line naming the setting', () =>
    startFails(
      { NODE_ENV: 'production', PORT: '0' },
      'Invalid configuration: API_KEYS: expected keys of your own when NODE_ENV=production (the demo keys are for the sandbox only), got "the demo key demo-admin"\n',
    ));
});

describe('SLA_STEP_MS', () => {
  it('reads step patterns and thresholds in order; none by default', () => {
    assert.deepEqual(
      loadConfig({ SLA_STEP_MS: '{"post:erp": 2000, "reserve:*": 1000, "*": 5000}' }).workflows.sla,
      [
        { pattern: 'post:erp', ms: 2000 },
        { pattern: 'reserve:*', ms: 1000 },
        { pattern: '*', ms: 5000 },
      ],
    );
    assert.deepEqual(loadConfig({}).workflows.sla, []);
    assert.equal(loadConfig({}).workflows.maxWindowEntries, 20_000);
  });
});

/**
 * Identity (issue #10): API keys kept only as hashes, with ids, clients, rotation and expiry; JWT
 * bearer tokens verified with jose against a real JWKS endpoint (issuer, audience, expiry, not
 * before, clock skew, unknown keys, key rotation, claims mapped to a principal and refused when
 * missing or contradictory); the same on graphql-ws, where a socket is closed 4403 when its token
 * expires; a portal principal bound to one customer account.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import WebSocket from 'ws';
import { createAuthenticator } from '../server/auth.js';
import { loadConfig } from '../server/config.js';
import { apiKeyEnv } from '../server/identity.js';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ISSUER = 'https://idp.test';
const AUDIENCE = 'crossdock-api';

/** A JWKS endpoint over real HTTP whose key set a test can rotate; counts its requests. */
interface Jwks {
  readonly url: string;
  serve(keys: JWK[]): void;
  requests(): number;
  close(): Promise<void>;
}

async function startJwks(): Promise<Jwks> {
  let keys: JWK[] = [];
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    serve: (next) => (keys = next),
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } };
}

/** A token of `claims`, valid for `seconds` from now unless the claims say otherwise. */
async function token(
  key: SigningKey,
  claims: Json,
  options: { seconds?: number; issuer?: string; audience?: string; nbf?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ sub: 'user-1', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.seconds ?? 300));
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(key.privateKey);
}

const KEY_SECRET = 'identity-test-api-key-secret-32-characters';
const HOUR = 3_600_000;

let jwks: Jwks;
let current: SigningKey;
let stack: Stack;

before(async () => {
  jwks = await startJwks();
  current = await signingKey('k1');
  jwks.serve([current.jwk]);
  stack = await startStack({
    catalogSize: 20,
    env: {
      POLL_SOURCES: 'none',
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_JWKS_URL: jwks.url,
      JWT_JWKS_COOLDOWN_MS: '0',
      JWT_ALGORITHMS: 'ES256',
      ...apiKeyEnv(KEY_SECRET, [
        { id: 'ops-2026a', key: 'ops-key-old', role: 'operations', client: 'ops' },
        { id: 'ops-2026b', key: 'ops-key-new', role: 'operations', client: 'ops' },
        {
          id: 'web-expired',
          key: 'web-key-expired',
          role: 'storefront',
          channel: 'WEB',
          expires: new Date(Date.now() - HOUR).toISOString(),
        },
        { id: 'acme-portal', key: 'acme-portal-key', role: 'portal', customer: 'C10002' },
        { id: 'desk', key: 'service-desk-key', role: 'service' },
      ]),
    },
  });
});
after(async () => {
  await stack?.close();
  await jwks?.close();
});

/** The first error of a query as `token`, or the data. */
async function ask(bearer: string, query = '{ warehouses { code } }', variables?: Json) {
  const res = await stack.gql<Json>(query, variables, { key: bearer });
  const [error] = res.body.errors ?? [];
  return {
    status: res.status,
    code: error?.extensions?.code as string | undefined,
    reason: error?.extensions?.reason as string | undefined,
    message: error?.message,
    data: res.body.data,
  };
}

describe('API keys', () => {
  it('are kept as hashes only; both keys of a rotating client work, each named by its id', async () => {
    const config = loadConfig({
      ...apiKeyEnv(KEY_SECRET, [
        { id: 'ops-2026a', key: 'ops-key-old', role: 'operations', client: 'ops' },
        { id: 'ops-2026b', key: 'ops-key-new', role: 'operations', client: 'ops' },
      ]),
    });
    const auth = createAuthenticator(config.auth);
    const [a, b] = await Promise.all([
      auth.authenticate('Bearer ops-key-old'),
      auth.authenticate('Bearer ops-key-new'),
    ]);
    assert.deepEqual(
      [a, b].map((c) => [c.id, c.client, c.role]),
      [
        ['key:ops-2026a', 'ops', 'operations'],
        ['key:ops-2026b', 'ops', 'operations'],
      ],
    );
    for (const key of ['ops-key-old', 'ops-key-new']) {
      assert.equal((await ask(key, '{ sourceHealth { name } }')).code, undefined);
    }
  });

  it('npm run keys makes a key whose printed entry authenticates it', async () => {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/keys.ts',
        '--id',
        'web-2027',
        '--role',
        'storefront',
        '--channel',
        'WEB',
      ],
      { env: { ...process.env, API_KEY_SECRET: KEY_SECRET }, encoding: 'utf8' },
    );
    const [, key, entry] = /\n(cdk_[A-Za-z0-9_-]{43})\n\nAPI_KEYS entry:\n(.+)\n$/.exec(out) ?? [];
    assert.ok(key && entry, out);
    assert.ok(!entry.includes(key), 'the entry holds the hash, not the key');
    const auth = createAuthenticator(
      loadConfig({ API_KEYS: `[${entry}]`, API_KEY_SECRET: KEY_SECRET }).auth,
    );
    const caller = await auth.authenticate(`Bearer ${key}`);
    assert.deepEqual(
      [caller.id, caller.role, caller.channel],
      ['key:web-2027', 'storefront', 'WEB'],
    );
  });

  it('an expired key: 401 naming the key by its id, never quoting it', async () => {
    const answer = await ask('web-key-expired');
    assert.equal(answer.status, 401);
    assert.equal(answer.code, 'UNAUTHENTICATED');
    assert.equal(answer.reason, 'KEY_EXPIRED');
    assert.match(
      answer.message ?? '',
      /^API key web-expired expired at \d{4}-.*: use its successor$/,
    );
  });

  it('the operations principal reads dead letters and source health; service does not', async () => {
    assert.equal((await ask('ops-key-new', '{ deadLetters { id } }')).code, undefined);
    const service = await ask('service-desk-key', '{ deadLetters { id } }');
    assert.equal(service.code, 'FORBIDDEN');
    assert.equal((await ask('service-desk-key', '{ sourceHealth { name } }')).code, 'FORBIDDEN');
  });
});

describe('a portal principal is bound to one customer account', () => {
  it('reads its own customer; another is NOT_FOUND like an unknown one', async () => {
    const own = await ask('acme-portal-key', '{ customer(id: "C10002") { number } }');
    assert.deepEqual(own.data, { customer: { number: 'C10002' } });
    const other = await ask('acme-portal-key', '{ customer(id: "C10003") { number } }');
    const unknown = await ask('acme-portal-key', '{ customer(id: "C99999") { number } }');
    assert.equal(other.code, 'NOT_FOUND');
    assert.equal(other.message, 'No Customer with "C10003"');
    assert.equal(unknown.message, 'No Customer with "C99999"');
  });

  it('lists only its own account and its own orders', async () => {
    const customers = await ask('acme-portal-key', '{ customers(first: 50) { nodes { number } } }');
    assert.deepEqual(customers.data, { customers: { nodes: [{ number: 'C10002' }] } });
    const orders = await ask(
      'acme-portal-key',
      '{ orders(first: 100) { nodes { customer { number } } } }',
    );
    const numbers = new Set(
      (orders.data?.orders.nodes as Json[]).map((o) => o.customer.number as string),
    );
    assert.ok(numbers.size <= 1 && [...numbers].every((n) => n === 'C10002'), [...numbers].join());
    const asked = await ask(
      'acme-portal-key',
      '{ orders(first: 5, filter: { customerId: "C10003" }) { nodes { number } } }',
    );
    assert.equal(asked.code, 'BAD_USER_INPUT');
  });

  it('places orders for itself only', async () => {
    const other = await ask(
      'acme-portal-key',
      'mutation { placeOrder(input: { channel: B2B_PORTAL, customerId: "C10003", lines: [{ sku: "SKU-000001", quantity: 1 }] }, idempotencyKey: "portal-other-1") { order { id } } }',
    );
    assert.equal(other.code, 'FORBIDDEN');
    assert.equal(
      other.message,
      'placeOrder for another customer account than C10002 is not allowed for role portal',
    );
  });
});

describe('JWT bearer tokens', () => {
  it('a valid token maps its claims to a principal', async () => {
    const jwt = await token(current, {
      crossdock_role: 'partner',
      crossdock_channel: 'MARKETPLACE_A',
      crossdock_customers: ['C10004'],
    });
    const answer = await ask(jwt, '{ orders(first: 20) { nodes { channel } } }');
    assert.equal(answer.code, undefined, answer.message);
    for (const o of answer.data?.orders.nodes as Json[]) assert.equal(o.channel, 'MARKETPLACE_A');
  });

  const refused: [string, () => Promise<string>, string, string][] = [
    [
      'expired',
      () => token(current, { crossdock_role: 'service' }, { seconds: -120 }),
      'Invalid token: expired',
      'TOKEN_EXPIRED',
    ],
    [
      'not yet valid',
      () =>
        token(current, { crossdock_role: 'service' }, { nbf: Math.floor(Date.now() / 1000) + 600 }),
      'Invalid token: claim nbf does not match',
      'TOKEN_CLAIMS',
    ],
    [
      'of another audience',
      () => token(current, { crossdock_role: 'service' }, { audience: 'someone-else' }),
      'Invalid token: claim aud does not match',
      'TOKEN_CLAIMS',
    ],
    [
      'of another issuer',
      () => token(current, { crossdock_role: 'service' }, { issuer: 'https://evil.test' }),
      'Invalid token: claim iss does not match',
      'TOKEN_CLAIMS',
    ],
    [
      'without a role claim',
      () => token(current, {}),
      'Invalid token: expected the claim crossdock_role to be one of storefront, portal, partner, service, operations, admin, got null',
      'TOKEN_CLAIMS',
    ],
    [
      'of a partner without the customers it may order for',
      () => token(current, { crossdock_role: 'partner', crossdock_channel: 'MARKETPLACE_A' }),
      'Invalid token: expected a non-empty customers list for a partner (the customer accounts it may order for)',
      'TOKEN_CLAIMS',
    ],
    [
      'of a partner whose customers claim is not a list',
      () =>
        token(current, {
          crossdock_role: 'partner',
          crossdock_channel: 'MARKETPLACE_A',
          crossdock_customers: 'C10004',
        }),
      'Invalid token: expected the claim crossdock_customers to be an array of customer numbers when present',
      'TOKEN_CLAIMS',
    ],
    [
      'of a partner without its channel (never unscoped)',
      () => token(current, { crossdock_role: 'partner' }),
      'Invalid token: expected a channel for a partner (the channel it acts for)',
      'TOKEN_CLAIMS',
    ],
    [
      'of a portal without its customer',
      () => token(current, { crossdock_role: 'portal' }),
      'Invalid token: expected a customer for a portal principal (its B2B account)',
      'TOKEN_CLAIMS',
    ],
    [
      'of an admin with a channel (contradictory)',
      () => token(current, { crossdock_role: 'admin', crossdock_channel: 'WEB' }),
      'Invalid token: expected no channel or customer for a admin principal (it sees everything its role allows)',
      'TOKEN_CLAIMS',
    ],
    [
      'signed by a key the issuer does not publish',
      async () => token(await signingKey('stranger'), { crossdock_role: 'service' }),
      'Invalid token: signed by no key of the issuer',
      'TOKEN_INVALID',
    ],
  ];
  for (const [name, make, message, reason] of refused) {
    it(`refuses a token ${name}: 401 ${reason}`, async () => {
      const answer = await ask(await make());
      assert.deepEqual(
        [answer.status, answer.code, answer.reason, answer.message],
        [401, 'UNAUTHENTICATED', reason, message],
      );
    });
  }

  it('accepts a token expired within the clock skew (30 s)', async () => {
    const jwt = await token(current, { crossdock_role: 'service' }, { seconds: -10 });
    assert.equal((await ask(jwt)).code, undefined);
  });

  it('follows a key rotation: a token of a new key is accepted once the issuer publishes it', async () => {
    const next = await signingKey('k2');
    const jwt = await token(next, { crossdock_role: 'service' });
    assert.equal((await ask(jwt)).reason, 'TOKEN_INVALID', 'not published yet');
    jwks.serve([current.jwk, next.jwk]);
    const fetched = jwks.requests();
    assert.equal((await ask(jwt)).code, undefined, 'published: the key set is fetched again');
    assert.ok(jwks.requests() > fetched);
    current = next;
  });
});

describe('JWT on graphql-ws', () => {
  /** A socket initialised with `bearer`: resolves with the ack, or the close that came instead. */
  const connect = async (bearer: string) => {
    const ws = new WebSocket(stack.crossdock.url.replace('http', 'ws'), 'graphql-transport-ws');
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    await once(ws, 'open');
    const first = new Promise<string>((resolve) =>
      ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()).type as string)),
    );
    ws.send(
      JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } }),
    );
    const answer = await Promise.race([first, closed]);
    return { ws, answer, closed };
  };

  it('a refused token closes the socket 4403', async () => {
    const jwt = await token(current, { crossdock_role: 'service' }, { seconds: -120 });
    const { answer } = await connect(jwt);
    assert.deepEqual(answer, { code: 4403, reason: 'Forbidden' });
  });

  it('a socket is closed 4403 when its token expires', { timeout: 20_000 }, async () => {
    const jwt = await token(current, { crossdock_role: 'service' }, { seconds: 2 });
    const { answer, closed } = await connect(jwt);
    assert.equal(answer, 'connection_ack');
    assert.deepEqual(await closed, {
      code: 4403,
      reason: 'Forbidden: the credential expired; reconnect with a fresh one',
    });
  });
});

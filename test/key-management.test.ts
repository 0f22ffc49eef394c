/**
 * Key management through the API (issue #10): admins make, list and revoke API keys; a key made
 * through the API works at once on this replica and on another sharing the store; revoked keys
 * (made through the API or configured) are refused 401 KEY_REVOKED; a replay of createApiKey
 * shows the same key; nobody but an admin reaches any of it. Real HTTP against the embedded
 * sandbox, two Crossdock processes on one store file for the replica cases.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { apiKeyEnv, hashApiKey } from '../server/identity.js';
import { createKeys } from '../server/keys.js';
import type { ApiKeyStore, StoredApiKey } from '../store/contract.js';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SECRET = 'key-management-test-secret-0123456789abcdef';
const CONFIGURED = apiKeyEnv(SECRET, [
  { id: 'root', key: 'root-key', role: 'admin' },
  { id: 'ops', key: 'ops-key', role: 'operations' },
  { id: 'cs-2026', key: 'cs-key', role: 'service', client: 'customer-service' },
]);

const CREATE = `mutation($input: CreateApiKeyInput!, $k: String!) {
  createApiKey(input: $input, idempotencyKey: $k) {
    key
    apiKey { id client principal channel customer customers origin createdBy expiresAt revokedAt active }
    userErrors { code field message }
  }
}`;
const REVOKE = `mutation($input: RevokeApiKeyInput!, $k: String!) {
  revokeApiKey(input: $input, idempotencyKey: $k) {
    apiKey { id origin revokedAt active }
    userErrors { code field message }
  }
}`;
const LIST = `query($client: String, $all: Boolean) {
  apiKeys(client: $client, includeRevoked: $all) { id client principal origin revokedAt active }
}`;

const ADMIN = { key: 'root-key' };
let a: Stack;
let b: Stack;

before(async () => {
  // Two replicas on one store; B reads the store on every request (no cache) so that what A
  // changes is seen by B's very next request, without waiting for a cache period.
  const dataDir = mkdtempSync(join(tmpdir(), 'crossdock-keys-'));
  // A's sockets re-check only hourly: a socket of a key revoked on A closes by A's own hook.
  a = await startStack({
    catalogSize: 20,
    env: { ...CONFIGURED, DATA_DIR: dataDir, WS_REAUTH_MS: '3600000' },
  });
  b = await startStack({
    catalogSize: 20,
    // B's sockets re-check their credential every 100 ms (revocations made on A).
    env: { ...CONFIGURED, DATA_DIR: dataDir, API_KEY_CACHE_MS: '0', WS_REAUTH_MS: '100' },
  });
});
after(async () => {
  await a?.close();
  await b?.close();
});

let counter = 0;
const unique = (name: string) => `${name}-${process.pid}-${++counter}`;

async function create(stack: Stack, input: Json, k = unique('create'), key = 'root-key') {
  const res = await stack.gql<Json>(CREATE, { input, k }, { key });
  return { res, payload: res.body.data?.createApiKey as Json | undefined };
}

describe('key management through the API', () => {
  it('an admin makes a partner key: shown once, listed without its hash, working at once on both replicas', async () => {
    const id = unique('mp-c');
    const { res, payload } = await create(a, {
      id,
      client: 'marketplace-c',
      principal: 'PARTNER',
      channel: 'MARKETPLACE_A',
      customers: ['C10004', 'C10005'],
    });
    assert.deepEqual(payload?.userErrors, [], JSON.stringify(res.body));
    const key = payload?.key as string;
    assert.match(key, /^cdk_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(payload?.apiKey, {
      id,
      client: 'marketplace-c',
      principal: 'PARTNER',
      channel: 'MARKETPLACE_A',
      customer: null,
      customers: ['C10004', 'C10005'],
      origin: 'API',
      createdBy: 'key:root',
      expiresAt: null,
      revokedAt: null,
      active: true,
    });
    for (const stack of [a, b]) {
      const orders = await stack.gql<Json>(
        `{ orders(first: 50) { nodes { channel } } }`,
        {},
        { key },
      );
      assert.equal(orders.status, 200, JSON.stringify(orders.body));
      const channels = new Set((orders.body.data?.orders.nodes as Json[]).map((o) => o.channel));
      assert.deepEqual([...channels], ['MARKETPLACE_A']);
    }
    const listed = await a.gql<Json>(LIST, { client: 'marketplace-c' }, ADMIN);
    assert.deepEqual(
      (listed.body.data?.apiKeys as Json[]).map((k) => [k.id, k.origin, k.active]),
      [[id, 'API', true]],
    );
    // Neither the key nor its hash appears anywhere in what the API lists.
    const everything = JSON.stringify((await a.gql<Json>(LIST, { all: true }, ADMIN)).body);
    assert.ok(!everything.includes(key));
    assert.ok(!everything.includes(hashApiKey(SECRET, key).slice('hmac-sha256:'.length)));
    assert.ok(!everything.includes('hmac-sha256'));
  });

  it('a replay of createApiKey shows the same key and makes no second one', async () => {
    const id = unique('replayed');
    const input = { id, client: 'web', principal: 'STOREFRONT', channel: 'WEB' };
    const k = unique('create-replay');
    const first = await create(a, input, k);
    const again = await create(a, input, k);
    assert.equal((again.res.body.extensions as Json)?.idempotency?.replayed, true);
    assert.equal((first.res.body.extensions as Json)?.idempotency?.replayed, false);
    assert.equal(again.payload?.key, first.payload?.key);
    assert.ok(first.payload?.key);
    const listed = (await a.gql<Json>(LIST, { client: 'web', all: true }, ADMIN)).body.data
      ?.apiKeys as Json[];
    assert.deepEqual(
      listed.filter((k) => k.id === id).map((k) => k.id),
      [id],
    );
  });

  it('refuses a taken id and a scope that does not fit, as userErrors', async () => {
    const taken = await create(a, { id: 'ops', client: 'x', principal: 'ADMIN' });
    assert.deepEqual(
      taken.payload?.userErrors.map((e: Json) => [e.code, e.field]),
      [['API_KEY_ID_TAKEN', ['input', 'id']]],
    );
    assert.equal(taken.payload?.key, null);
    const cases: [Json, RegExp][] = [
      [{ principal: 'PARTNER', channel: 'EDI' }, /non-empty customers list for a partner/],
      [{ principal: 'PORTAL' }, /a customer for a portal principal/],
      [{ principal: 'SERVICE', channel: 'WEB' }, /no channel or customer for a service/],
      [{ principal: 'ADMIN', customers: ['C10001'] }, /no customers list for a admin/],
      [{ principal: 'ADMIN', expiresAt: '2001-01-01T00:00:00Z' }, /expiresAt in the future/],
    ];
    for (const [scope, message] of cases) {
      const { payload } = await create(a, { id: unique('bad'), client: 'x', ...scope });
      assert.equal(payload?.userErrors[0]?.code, 'INVALID_KEY_SCOPE', JSON.stringify(scope));
      assert.match(payload?.userErrors[0]?.message, message);
      assert.equal(payload?.apiKey, null);
      assert.equal(payload?.key, null);
    }
    const malformed = await a.gql<Json>(
      CREATE,
      {
        input: { id: 'has spaces', client: 'x', principal: 'ADMIN' },
        k: unique('create'),
      },
      ADMIN,
    );
    assert.equal(malformed.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });

  it('revoking a key made through the API refuses it 401 KEY_REVOKED on both replicas', async () => {
    const id = unique('revoked');
    const { payload } = await create(a, { id, client: 'edi', principal: 'SERVICE' });
    const key = payload?.key as string;
    // Used on both first: A's cache holds it, and must forget it when A revokes it.
    for (const stack of [a, b]) {
      assert.equal((await stack.gql<Json>(`{ __typename }`, {}, { key })).status, 200);
    }
    const revoked = await a.gql<Json>(REVOKE, { input: { id }, k: unique('revoke') }, ADMIN);
    assert.equal(revoked.body.data?.revokeApiKey.apiKey.active, false);
    assert.ok(revoked.body.data?.revokeApiKey.apiKey.revokedAt);
    for (const stack of [a, b]) {
      const refused = await stack.gql<Json>(`{ __typename }`, {}, { key });
      assert.equal(refused.status, 401);
      assert.equal(refused.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
      assert.equal(refused.body.errors?.[0]?.extensions?.reason, 'KEY_REVOKED');
      assert.match(refused.body.errors?.[0]?.message, new RegExp(`API key ${id} was revoked at `));
    }
    // Listed only when revoked keys are asked for.
    const active = (await a.gql<Json>(LIST, { client: 'edi' }, ADMIN)).body.data?.apiKeys as Json[];
    assert.ok(!active.some((k) => k.id === id));
    const all = (await a.gql<Json>(LIST, { client: 'edi', all: true }, ADMIN)).body.data
      ?.apiKeys as Json[];
    assert.equal(all.find((k) => k.id === id)?.active, false);
  });

  it('revoking a key closes its open sockets 4403: at once on this replica, on the next re-check on another', async () => {
    const id = unique('socket');
    const { payload } = await create(a, { id, client: 'portal-app', principal: 'SERVICE' });
    const key = payload?.key as string;
    const sockets = await Promise.all([a, b].map((stack) => subscribed(stack, key)));
    // A live socket of another key stays open throughout.
    const bystander = await subscribed(a, 'root-key');
    try {
      const revoked = await a.gql<Json>(REVOKE, { input: { id }, k: unique('revoke') }, ADMIN);
      assert.equal(revoked.body.data?.revokeApiKey.apiKey.active, false);
      for (const socket of sockets) {
        // Bounded: a socket left open fails the test instead of hanging the file.
        const [code, reason] = await Promise.race([
          socket.closed,
          new Promise<never>((_, reject) =>
            AbortSignal.timeout(10_000).addEventListener('abort', () =>
              reject(new Error('the socket was not closed within 10 s')),
            ),
          ),
        ]);
        assert.equal(code, 4403);
        assert.match(reason, /^Forbidden: the credential was revoked/);
      }
      assert.equal(bystander.ws.readyState, WebSocket.OPEN);
    } finally {
      // A socket the server failed to close must not keep the file running.
      for (const socket of [...sockets, bystander]) socket.ws.terminate();
    }
  });

  it('a configured key can be revoked too; revocation at a later time leaves an overlap', async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await a.gql<Json>(
      REVOKE,
      {
        input: { id: 'cs-2026', at: later },
        k: unique('revoke'),
      },
      ADMIN,
    );
    assert.deepEqual(scheduled.body.data?.revokeApiKey, {
      apiKey: { id: 'cs-2026', origin: 'CONFIGURATION', revokedAt: later, active: true },
      userErrors: [],
    });
    assert.equal((await b.gql<Json>(`{ __typename }`, {}, { key: 'cs-key' })).status, 200);
    // Now: the earliest revocation wins.
    await a.gql<Json>(REVOKE, { input: { id: 'cs-2026' }, k: unique('revoke') }, ADMIN);
    for (const stack of [a, b]) {
      const refused = await stack.gql<Json>(`{ __typename }`, {}, { key: 'cs-key' });
      assert.equal(refused.body.errors?.[0]?.extensions?.reason, 'KEY_REVOKED');
    }
    const listed = (await a.gql<Json>(LIST, { client: 'customer-service', all: true }, ADMIN)).body
      .data?.apiKeys as Json[];
    assert.deepEqual(
      listed.map((k) => [k.id, k.origin, k.active]),
      [['cs-2026', 'CONFIGURATION', false]],
    );
  });

  it('revoking an unknown key is API_KEY_NOT_FOUND', async () => {
    const res = await a.gql<Json>(REVOKE, { input: { id: 'nobody' }, k: unique('revoke') }, ADMIN);
    assert.deepEqual(res.body.data?.revokeApiKey, {
      apiKey: null,
      userErrors: [
        { code: 'API_KEY_NOT_FOUND', field: ['input', 'id'], message: 'No API key with id nobody' },
      ],
    });
  });

  it('only an admin lists, makes or revokes keys', async () => {
    for (const key of ['ops-key']) {
      const list = await a.gql<Json>(LIST, {}, { key });
      assert.equal(list.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      const made = await create(
        a,
        { id: unique('x'), client: 'x', principal: 'ADMIN' },
        unique('c'),
        key,
      );
      assert.equal(made.res.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      assert.equal(made.res.body.data, null);
      const revoke = await a.gql<Json>(REVOKE, { input: { id: 'root' }, k: unique('r') }, { key });
      assert.equal(revoke.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    }
    // Nothing was made or revoked by the refused calls.
    assert.equal((await a.gql<Json>(`{ __typename }`, {}, { key: 'root-key' })).status, 200);
  });
});

describe('the key cache', () => {
  /** A store that counts reads. */
  function countingStore(keys: StoredApiKey[]): ApiKeyStore & { reads: number } {
    const store = {
      reads: 0,
      async add() {
        throw new Error('not used');
      },
      async get(id: string) {
        store.reads++;
        return keys.find((k) => k.id === id) ?? null;
      },
      async findByHash(hash: string) {
        store.reads++;
        return keys.find((k) => k.hash === hash) ?? null;
      },
      async list() {
        return keys;
      },
      async revoke() {
        return null;
      },
    };
    return store;
  }

  it('reads the store once per key per period, unknown keys included', async () => {
    let now = 1_000_000;
    const made: StoredApiKey = {
      id: 'm1',
      client: 'c',
      role: 'service',
      channel: null,
      customer: null,
      customers: null,
      hash: hashApiKey(SECRET, 'made-key'),
      expiresAt: null,
      revokedAt: null,
      createdBy: 'key:root',
      createdAt: 0,
      updatedAt: 0,
    };
    const store = countingStore([made]);
    const keys = createKeys({
      configured: [],
      secret: SECRET,
      store,
      cacheMs: 5_000,
      now: () => now,
    });
    assert.equal((await keys.resolve('made-key'))?.id, 'm1');
    assert.equal((await keys.resolve('made-key'))?.id, 'm1');
    assert.equal(await keys.resolve('made-up'), null);
    assert.equal(await keys.resolve('made-up'), null);
    assert.equal(store.reads, 2);
    now += 5_000;
    await keys.resolve('made-key');
    await keys.resolve('made-up');
    assert.equal(store.reads, 4);
  });

  it('a stored record with a role or scope this version cannot vouch for is no key', async () => {
    const base: StoredApiKey = {
      id: 'x',
      client: 'c',
      role: 'root',
      channel: null,
      customer: null,
      customers: null,
      hash: hashApiKey(SECRET, 'odd-key'),
      expiresAt: null,
      revokedAt: null,
      createdBy: 'hand',
      createdAt: 0,
      updatedAt: 0,
    };
    for (const record of [base, { ...base, role: 'partner' }]) {
      const keys = createKeys({
        configured: [],
        secret: SECRET,
        store: countingStore([record]),
        cacheMs: 0,
      });
      assert.equal(await keys.resolve('odd-key'), null, record.role);
    }
  });
});

/** A graphql-ws socket authenticated with `key`, acknowledged and running one subscription. */
async function subscribed(stack: Stack, key: string) {
  const ws = new WebSocket(stack.crossdock.url.replace('http', 'ws'), 'graphql-transport-ws');
  const closed = new Promise<[number, string]>((resolve) =>
    ws.once('close', (code, reason) => resolve([code, reason.toString()])),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      ws.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }),
      );
    });
    ws.on('message', (data) => {
      if (JSON.parse(data.toString()).type === 'connection_ack') resolve();
    });
    ws.once('error', reject);
    void closed.then(([code]) => reject(new Error(`closed ${code} before the ack`)));
  });
  ws.send(
    JSON.stringify({
      id: '1',
      type: 'subscribe',
      payload: { query: 'subscription { orderStatusChanged { status } }' },
    }),
  );
  return { ws, closed };
}

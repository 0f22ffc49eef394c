/**
 * Trusted documents (issue #10, server/documents.ts): a manifest written by `npm run documents`,
 * a storefront in `enforced` mode (registered documents only, by documentId or Apollo's
 * persistedQuery hash, over POST, GET and graphql-ws), a partner in `allow-list` mode
 * (unregistered documents served), everyone else `off`; and a manifest whose hash does not match
 * its document refused at start-up.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../server/config.js';
import { documentHash } from '../server/documents.js';
import { startStack, type Stack } from './support/stack.js';
import { collect, wsClients } from './support/ws.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const dir = mkdtempSync(join(tmpdir(), 'crossdock-documents-'));
const manifest = join(dir, 'trusted-documents.json');
const PRODUCT = 'query Product($sku: String!) { product(sku: $sku) { sku name } }\n';
const WAREHOUSES = '{ warehouses { code } }\n';
const hash = documentHash(PRODUCT);

let stack: Stack;
const ws = wsClients();

before(async () => {
  writeFileSync(join(dir, 'product.graphql'), PRODUCT);
  writeFileSync(join(dir, 'warehouses.graphql'), WAREHOUSES);
  const run = (args: string[]) =>
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/documents.ts', ...args], {
      encoding: 'utf8',
    });
  const printed = run([
    '--file',
    manifest,
    '--client',
    'demo-storefront',
    '--mode',
    'enforced',
    join(dir, 'product.graphql'),
  ]);
  assert.match(printed, new RegExp(`product\\.graphql  sha256:${hash}\\n`));
  run(['--file', manifest, '--client', 'demo-partner-a', '--mode', 'allow-list']);
  stack = await startStack({
    catalogSize: 20,
    env: { POLL_SOURCES: 'none', TRUSTED_DOCUMENTS_FILE: manifest },
  });
});
after(async () => {
  await ws.disposeAll();
  await stack?.close();
});

/** A POST of `body` as `key`. */
async function post(key: string, body: Json): Promise<{ status: number; body: Json }> {
  const res = await fetch(stack.crossdock.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

const SERVED = { product: { sku: 'SKU-000001', name: /./ } };
const served = (body: Json) => body.data?.product?.sku === SERVED.product.sku;

describe('trusted documents', () => {
  it('enforced: a registered document by documentId is served', async () => {
    const res = await post('demo-storefront', {
      documentId: `sha256:${hash}`,
      variables: { sku: 'SKU-000001' },
    });
    assert.equal(res.status, 200);
    assert.ok(served(res.body), JSON.stringify(res.body));
  });

  it("enforced: by Apollo's persistedQuery hash, and over GET", async () => {
    const apq = await post('demo-storefront', {
      variables: { sku: 'SKU-000001' },
      extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
    });
    assert.ok(served(apq.body), JSON.stringify(apq.body));
    const params = new URLSearchParams({
      documentId: `sha256:${hash}`,
      variables: JSON.stringify({ sku: 'SKU-000001' }),
    });
    const res = await fetch(`${stack.crossdock.url}?${params}`, {
      headers: { authorization: 'Bearer demo-storefront' },
    });
    assert.ok(served((await res.json()) as Json));
    const apqGet = new URLSearchParams({
      variables: JSON.stringify({ sku: 'SKU-000001' }),
      extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: hash } }),
    });
    const byHash = await fetch(`${stack.crossdock.url}?${apqGet}`, {
      headers: { authorization: 'Bearer demo-storefront' },
    });
    assert.ok(served((await byHash.json()) as Json), 'a persistedQuery hash over GET');
  });

  it('enforced: the registered text itself is served; any other text is FORBIDDEN', async () => {
    const text = await post('demo-storefront', {
      query: PRODUCT,
      variables: { sku: 'SKU-000001' },
    });
    assert.ok(served(text.body));
    const other = await post('demo-storefront', { query: WAREHOUSES });
    assert.equal(other.status, 403);
    assert.deepEqual(other.body.errors?.[0]?.extensions, {
      code: 'FORBIDDEN',
      reason: 'DOCUMENT_NOT_TRUSTED',
    });
    assert.equal(
      other.body.errors?.[0]?.message,
      `This client runs registered documents only: send documentId "sha256:<hash>" of a document registered with npm run documents (this one is sha256:${documentHash(WAREHOUSES)})`,
    );
  });

  it('an unknown documentId is NOT_FOUND; a malformed one BAD_USER_INPUT; a text and id that disagree too', async () => {
    const unknown = await post('demo-storefront', { documentId: `sha256:${'0'.repeat(64)}` });
    assert.deepEqual(
      [unknown.status, unknown.body.errors?.[0]?.extensions?.reason],
      [404, 'DOCUMENT_NOT_FOUND'],
    );
    const malformed = await post('demo-storefront', { documentId: 'md5:abc' });
    assert.deepEqual(
      [malformed.status, malformed.body.errors?.[0]?.extensions?.reason],
      [400, 'DOCUMENT_ID_INVALID'],
    );
    const mismatch = await post('demo-storefront', {
      documentId: `sha256:${hash}`,
      query: WAREHOUSES,
    });
    assert.equal(mismatch.body.errors?.[0]?.extensions?.reason, 'DOCUMENT_MISMATCH');
  });

  it('allow-list: an unregistered document is served (and logged); off: anything is', async () => {
    const partner = await post('demo-partner-a', { query: WAREHOUSES });
    assert.equal(partner.status, 200);
    assert.equal(partner.body.errors, undefined);
    const admin = await post('demo-admin', { query: WAREHOUSES });
    assert.equal(admin.body.errors, undefined);
  });

  it('graphql-ws: the same rules', async () => {
    const client = ws.client(stack, { key: 'demo-storefront' });
    await assert.rejects(collect(client, WAREHOUSES, {}, 1), /DOCUMENT_NOT_TRUSTED/);
    const [result] = await collect(
      ws.client(stack, { key: 'demo-storefront' }),
      PRODUCT,
      { sku: 'SKU-000001' },
      1,
    );
    assert.equal(result?.data?.product?.sku, 'SKU-000001');
  });

  it('refuses at start-up a manifest whose document does not hash to its key', () => {
    const bad = join(dir, 'bad.json');
    const content = JSON.parse(readFileSync(manifest, 'utf8')) as Json;
    content['demo-storefront'].documents[hash] = WAREHOUSES;
    writeFileSync(bad, JSON.stringify(content));
    assert.throws(
      () => loadConfig({ TRUSTED_DOCUMENTS_FILE: bad }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.includes(`demo-storefront: the document under ${hash} hashes to`),
    );
  });
});

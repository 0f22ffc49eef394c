/**
 * The playground (issue #12): GraphiQL served offline at GET /graphql (browsers) and at
 * /playground, driven in a real Chromium: a query's result read off the page, a subscription
 * started there receiving an event after a mutation; the HTTP rules of GraphQL over HTTP kept
 * for every request that is not a browser asking for a page.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { apiKeyEnv, demoKeysOf, DEMO_API_KEY_SECRET, demoEntries } from '../server/identity.js';
import { launchBrowser, openPage, screenshot, waitForText } from './support/browser.js';
import { placeOrder } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('the playground over HTTP', () => {
  let stack: Stack;
  let origin: string;
  before(async () => {
    stack = await startStack({ catalogSize: 20, env: { POLL_SOURCES: 'none' } });
    origin = new URL(stack.crossdock.url).origin;
  });
  after(async () => {
    await stack?.close();
  });

  it('GET /graphql from a browser is the playground page, with a policy that allows only its own scripts', async () => {
    for (const path of ['/graphql', '/playground']) {
      const res = await fetch(`${origin}${path}`, { headers: { accept: BROWSER_ACCEPT } });
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /connect-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      const html = await res.text();
      assert.match(html, /<script type="module" src="\/pages\/graphiql.js"><\/script>/);
      // The embedded default prefills its demo keys; nothing but them.
      const config = JSON.parse(
        /<script type="application\/json" id="crossdock-config">(.*)<\/script>/.exec(html)?.[1] ??
          'null',
      ) as { endpoint: string; demoKeys: Record<string, string> | null };
      assert.deepEqual(config, {
        endpoint: '/graphql',
        demoKeys: {
          admin: 'demo-admin',
          storefront: 'demo-storefront',
          service: 'demo-service',
          partner: 'demo-partner-a',
          operations: 'demo-operations',
        },
      });
    }
  });

  it('every other GET /graphql stays GraphQL over HTTP: JSON asked for, or an operation in the query string', async () => {
    const json = await fetch(`${origin}/graphql`, { headers: { accept: 'application/json' } });
    assert.match(json.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(json.status, 400);
    const any = await fetch(`${origin}/graphql`, { headers: { accept: '*/*' } });
    assert.match(any.headers.get('content-type') ?? '', /json/);
    const operation = await fetch(
      `${origin}/graphql?query=${encodeURIComponent('{ __typename }')}`,
      {
        headers: { accept: BROWSER_ACCEPT, authorization: 'Bearer demo-admin' },
      },
    );
    assert.match(operation.headers.get('content-type') ?? '', /json/);
    assert.deepEqual(((await operation.json()) as { data: unknown }).data, { __typename: 'Query' });
  });

  it('bundles are served from pages/dist only', async () => {
    const bundle = await fetch(`${origin}/pages/graphiql.js`);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
    assert.equal(bundle.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(bundle.headers.get('etag'));
    for (const path of [
      '/pages/missing.js',
      '/pages/%2e%2e/package.json',
      '/pages/..%2fpackage.json',
    ]) {
      const res = await fetch(`${origin}${path}`);
      assert.ok([400, 404].includes(res.status), `${path}: ${res.status}`);
      assert.doesNotMatch(await res.text(), /crossdock/);
    }
  });

  it('demo keys are offered only where they authenticate', () => {
    assert.ok(demoKeysOf(demoEntries(DEMO_API_KEY_SECRET), DEMO_API_KEY_SECRET));
    const own = JSON.parse(
      apiKeyEnv('an-own-secret-of-at-least-32-characters!', [
        { id: 'ops-1', key: 'ops-key-123', role: 'admin' },
      ]).API_KEYS,
    );
    assert.equal(demoKeysOf(own, 'an-own-secret-of-at-least-32-characters!'), null);
    // The demo entries hashed under another secret do not authenticate the demo keys.
    assert.equal(
      demoKeysOf(demoEntries('another-secret'), 'an-own-secret-of-at-least-32-characters!'),
      null,
    );
  });
});

describe('the pages can be turned off', () => {
  it('PLAYGROUND=off and OPS_CONSOLE=off: no pages, GET /graphql is GraphQL over HTTP only', async () => {
    const off = await startStack({
      catalogSize: 20,
      env: { POLL_SOURCES: 'none', PLAYGROUND: 'off', OPS_CONSOLE: 'off' },
    });
    try {
      const origin = new URL(off.crossdock.url).origin;
      for (const path of ['/playground', '/ops', '/']) {
        const res = await fetch(`${origin}${path}`, { headers: { accept: BROWSER_ACCEPT } });
        assert.equal(res.status, 404, path);
      }
      const graphql = await fetch(`${origin}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
      assert.equal(graphql.status, 400);
      assert.match(graphql.headers.get('content-type') ?? '', /json/);
    } finally {
      await off.close();
    }
  });
});

describe('the playground in a browser', () => {
  let stack: Stack;
  let browser: Browser;
  before(async () => {
    stack = await startStack({ catalogSize: 20, env: { POLL_SOURCES: 'none' } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('runs a query and shows its result', async () => {
    const { page, problems } = await openPage(browser, stack.crossdock.url);
    await page.getByRole('button', { name: /^Execute query/ }).click();
    // The welcome tab's query: the warehouses, as the server answers them.
    const codes = stack.sandbox.world.warehouses.map((w) => w.code);
    await waitForText(
      page,
      '.result-window',
      codes.map((code) => `"${code}"`),
    );
    const result = await page.locator('.result-window').innerText();
    assert.match(result, /"warehouses"/);
    assert.doesNotMatch(result, /"errors"/);
    // The documentation comes from the schema's descriptions.
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await page.getByText('Query', { exact: true }).first().click();
    await page.getByText('One product by SKU', { exact: false }).first().waitFor();
    await screenshot(page, 'playground');
    assert.deepEqual(problems, []);
  });

  it('an example opens with its persona key, and a subscription receives the event a mutation causes', async () => {
    const { page, problems } = await openPage(
      browser,
      `${new URL(stack.crossdock.url).origin}/playground`,
    );
    await page.getByRole('button', { name: 'Show Examples' }).click();
    await page.getByRole('button', { name: 'Customer service: follow orders live' }).click();
    // The new tab is named after its operation once GraphiQL has parsed it: ready to run.
    await page.locator('.graphiql-tab-active', { hasText: 'FollowOrders' }).waitFor();
    const headers = await page.locator('section[aria-label="Headers"]').innerText();
    assert.match(headers, /Bearer demo-service/);
    const started = once(stack.crossdock.subscriptions.events, 'started', {
      signal: AbortSignal.timeout(20_000),
    });
    await page.getByRole('button', { name: /^Execute query/ }).click();
    await started;
    const placed = await placeOrder(stack, `playground-${randomUUID()}`);
    await waitForText(page, '.result-window', [placed.number]);
    const result = await page.locator('.result-window').innerText();
    assert.match(result, /"orderStatusChanged"/);
    assert.match(result, /"status": "/);
    await screenshot(page, 'playground-subscription');
    // Stopping it in the page ends it on the server (listening first: the server runs here).
    const ended = once(stack.crossdock.subscriptions.events, 'ended', {
      signal: AbortSignal.timeout(20_000),
    });
    await page.getByRole('button', { name: /^Stop/ }).click();
    await ended;
    assert.deepEqual(problems, []);
  });
});

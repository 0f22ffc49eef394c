/**
 * The operations console at /ops (issue #12), in a real Chromium against a whole Crossdock:
 * two orders placed while the ERP refuses every POST wait as dead letters in the ORDERS queue;
 * the operator finds one by its correlation ID and sees the failed ERP call behind it, works
 * the other's exception to RESOLVED, replays the first's dead letter and watches it resolve,
 * reads the sources, the latency by step and the live feed. Every control is found by its
 * accessible name (a control without a label is not found).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { DeadLetter } from '../store/contract.js';
import { audit, launchBrowser, openPage, screenshot, waitForText } from './support/browser.js';
import { placeOrder, stockedRow, type PlacedOrder } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let stack: Stack;
let browser: Browser;
let ops: string;

/** An order the ERP refused to take: PENDING_ERP, its post waiting as a dead letter. */
interface Failed {
  readonly placed: PlacedOrder;
  readonly letter: DeadLetter;
  readonly correlationId: string;
}
let first: Failed;
let second: Failed;

async function deadLettered(key: string, skip: number, reference: string): Promise<Failed> {
  const placed = await placeOrder(stack, key, {
    stock: stockedRow(stack.sandbox.world, { warehouse: 'EAST', skip }),
    input: { externalReference: reference },
  });
  const [letter] = await stack.running.store.deadLetters.list({ orderId: placed.id, limit: 5 });
  assert.ok(letter, 'the ERP post was dead-lettered');
  const ledger = await stack.running.store.ledger.list(placed.id);
  const correlationId = ledger.find((e) => e.correlationId)?.correlationId;
  assert.ok(correlationId, 'the ledger names the request that placed it');
  return { placed, letter, correlationId };
}

/** Runs a document as demo-operations; fails on GraphQL errors. */
async function asOperator(query: string, variables: Json = {}): Promise<Json> {
  const res = await stack.gql<Json>(query, variables, { key: 'demo-operations' });
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  return res.body.data ?? {};
}

before(async () => {
  stack = await startStack({
    catalogSize: 40,
    env: {
      // The retrier stays away: the operator replays by hand.
      DEAD_LETTER_RETRY_BASE_MS: '3600000',
      DEAD_LETTER_RETRY_MAX_MS: '3600000',
      POLL_SOURCES: 'none',
    },
  });
  ops = `${new URL(stack.crossdock.url).origin}/ops`;
  // The ERP's OAuth token first: a faulted POST would refuse the token request too.
  await stack.gql(`{ product(sku: "SKU-000001") { listPrice { amount } } }`);
  stack.sandbox.erp.control.setFaults({ errorRate: 1, methods: ['POST'] });
  first = await deadLettered('ops-page-first', 0, 'PO-OPS-0001');
  second = await deadLettered('ops-page-second', 1, 'PO-OPS-0002');
  stack.sandbox.erp.control.setFaults({ errorRate: 0, methods: null });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await stack?.close();
});

async function view(path: string): Promise<{ page: Page; problems: string[] }> {
  return openPage(browser, `${ops}#/${path}`);
}

describe('the operations console', () => {
  it('finds an order by correlation ID: its timeline with step latencies and the failed ERP call behind it', async () => {
    const { page, problems } = await view('orders');
    await page
      .getByLabel('Order number, order ID, external reference or correlation ID')
      .fill(first.correlationId);
    await page.getByRole('button', { name: 'Find' }).click();
    await waitForText(page, 'p.notice', ['by correlation ID']);
    const story = page.locator(`article[data-order="${first.placed.number}"]`);
    await story.waitFor();
    assert.match(await story.locator('h3').innerText(), /PENDING_ERP/);
    const timeline = await story.locator('table.timeline').innerText();
    assert.match(timeline, /post:erp/);
    assert.match(timeline, new RegExp(first.correlationId));
    // The ERP calls made under its correlation ID, the refused ones marked.
    const failedCall = story.locator('table.calls tr[data-failed="true"]').first();
    await failedCall.waitFor();
    assert.match(await failedCall.innerText(), /erp/);
    await screenshot(page, 'ops-order');
    // The channel's own reference finds the other order; an unknown text says nothing matched.
    const search = page.getByLabel('Order number, order ID, external reference or correlation ID');
    await search.fill('PO-OPS-0002');
    await page.getByRole('button', { name: 'Find' }).click();
    await waitForText(page, 'p.notice', ['by external reference']);
    await page.locator(`article[data-order="${second.placed.number}"]`).waitFor();
    assert.equal(await page.locator('article.order').count(), 1);
    await search.fill('PO-NOBODY-9');
    await page.getByRole('button', { name: 'Find' }).click();
    await waitForText(page, 'p.notice', [
      'No order has the number, ID, external reference or correlation ID “PO-NOBODY-9”',
    ]);
    assert.equal(await page.locator('article.order').count(), 0);
    // An unknown correlation ID (36 characters, longer than any channel reference) says so too,
    // not that it is no valid reference.
    const unknown = '00000000-0000-4000-8000-000000000000';
    await search.fill(unknown);
    await page.getByRole('button', { name: 'Find' }).click();
    await waitForText(page, 'p.notice', [
      `No order has the number, ID, external reference or correlation ID “${unknown}”`,
    ]);
    assert.deepEqual(problems, []);
  });

  it('an exception is assigned and resolved from its card', async () => {
    const { page, problems } = await view('exceptions');
    const card = page.locator(`li.card[data-order-id="${second.placed.id}"]`);
    await card.waitFor();
    assert.match(await card.locator('h3').innerText(), /OPEN\s+DEAD_LETTER/);
    await card.getByLabel('Assign to').fill('alice');
    await card.getByRole('button', { name: 'Assign' }).click();
    await waitForText(page, `li.card[data-order-id="${second.placed.id}"] h3`, ['ASSIGNED']);
    await card.getByLabel('Resolution').fill('Customer called; order re-entered by phone');
    await card.getByRole('button', { name: 'Resolve' }).click();
    await waitForText(page, `li.card[data-order-id="${second.placed.id}"]`, [
      'RESOLVED',
      'by key:demo-operations: Customer called; order re-entered by phone',
    ]);
    await screenshot(page, 'ops-exceptions');
    // What the API says now: resolved by the operator, with the assignee kept.
    const data = await asOperator(
      `{ exceptions(queue: ORDERS, first: 50) { nodes { orderId status assignee resolvedBy resolution } } }`,
    );
    const item = (data.exceptions.nodes as Json[]).find((n) => n.orderId === second.placed.id);
    assert.deepEqual(item, {
      orderId: second.placed.id,
      status: 'RESOLVED',
      assignee: 'alice',
      resolvedBy: 'key:demo-operations',
      resolution: 'Customer called; order re-entered by phone',
    });
    assert.deepEqual(problems, []);
  });

  it('a dead letter is replayed and resolves, its order posted to the ERP', async () => {
    const { page, problems } = await view('dead-letters');
    const row = page.locator(`tr[data-dead-letter="${first.letter.id}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /PENDING/);
    await row.getByRole('button', { name: `Replay ${first.letter.id}` }).click();
    await waitForText(page, '[data-testid="replay-notice"]', [first.letter.id, 'RESOLVED']);
    await screenshot(page, 'ops-dead-letters');
    const data = await asOperator(`{ deadLetters(status: RESOLVED) { id } }`);
    assert.ok((data.deadLetters as Json[]).some((d) => d.id === first.letter.id));
    const order = await asOperator(`query($id: ID!) { order(id: $id) { status } }`, {
      id: first.placed.globalId,
    });
    assert.notEqual(order.order.status, 'PENDING_ERP');
    assert.deepEqual(problems, []);
  });

  it('sources show every system with its breaker state, its history charted, and the views are reached by keyboard', async () => {
    // Three samples: calm, the ERP failing every call, calm again.
    const history = stack.crossdock.healthHistory;
    history.sampleNow();
    stack.sandbox.erp.control.setFaults({ errorRate: 1 });
    await stack.gql(`{ customer(id: "C10003") { name } }`);
    history.sampleNow();
    stack.sandbox.erp.control.setFaults({ errorRate: 0 });
    history.sampleNow();
    const { page, problems } = await view('sources');
    for (const name of ['erp', 'commerce', 'wms', 'tpl']) {
      await page.locator(`tr[data-source="${name}"]`).waitFor();
      assert.match(await page.locator(`tr[data-source="${name}"]`).innerText(), /CLOSED|OPEN/);
    }
    const erp = page.locator('figure', { hasText: 'erp: error rate and latency' });
    await waitForText(page, 'figure', ['erp: error rate and latency, last 3 samples']);
    assert.equal(await erp.locator('canvas').count(), 2);
    // What the charts draw, as a table a screen reader reads: the failing sample's error rate.
    const samples = (await erp.locator('details table').textContent()) ?? '';
    assert.match(samples, /\b[1-9]\d*(\.\d)? %/, samples);
    await screenshot(page, 'ops-sources');
    // Keyboard: the navigation's links take focus in order and Enter follows them.
    await page.getByRole('link', { name: 'Sources' }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
    assert.equal(
      await page.getByRole('link', { name: 'Dead letters' }).getAttribute('aria-current'),
      'page',
    );
    assert.deepEqual(problems, []);
  });

  it('latency by step lists the timed steps of the ledger', async () => {
    const { page, problems } = await view('latency');
    // Every step the API reports for the window is a row of the chart.
    const since = new Date(Date.now() - 86_400_000).toISOString();
    const api = await asOperator(
      `query($since: DateTime!) { stepLatency(since: $since) { step } }`,
      {
        since,
      },
    );
    const steps = (api.stepLatency as Json[]).map((r) => r.step as string);
    assert.ok(
      steps.includes('post:erp') && steps.some((s) => s.startsWith('reserve:')),
      steps.join(),
    );
    await waitForText(page, 'table.bars tbody', steps);
    await page.getByLabel('Group by').selectOption({ label: 'step and channel' });
    await page.locator('table.bars tbody tr th code', { hasText: 'B2B_PORTAL' }).first().waitFor();
    await screenshot(page, 'ops-latency');
    assert.deepEqual(problems, []);
  });

  it('the live feed shows an order event as it happens', async () => {
    // The feed opens three subscriptions (orders, shipments, stock): wait for all three.
    let started = 0;
    const subscribed = new Promise<void>((resolve) => {
      const onStarted = () => {
        if (++started === 3) {
          stack.crossdock.subscriptions.events.off('started', onStarted);
          resolve();
        }
      };
      stack.crossdock.subscriptions.events.on('started', onStarted);
    });
    const { page, problems } = await view('feed');
    await Promise.race([
      subscribed,
      once(stack.crossdock.subscriptions.events, 'never', { signal: AbortSignal.timeout(20_000) }),
    ]);
    const placed = await placeOrder(stack, 'ops-page-feed', {
      stock: stockedRow(stack.sandbox.world, { warehouse: 'EAST', skip: 2 }),
    });
    await waitForText(page, 'ol.feed', [placed.number]);
    assert.match(await page.locator('ol.feed li[data-feed="orders"]').first().innerText(), /→/);
    await screenshot(page, 'ops-feed');
    assert.deepEqual(problems, []);
  });
});

describe('the operations console is usable without a mouse and with a screen reader', () => {
  for (const path of ['sources', 'dead-letters', 'exceptions', 'orders', 'latency', 'feed']) {
    it(`#/${path} has no serious accessibility violations (axe-core, WCAG 2.1 AA)`, async () => {
      const { page } = await openPage(browser, `${ops}#/${path}`, { bypassCSP: true });
      await page.locator('main section h2').waitFor();
      // Loaded: the view's first answer is in (its status line no longer says Loading).
      await page.waitForLoadState('networkidle');
      assert.deepEqual(await audit(page), []);
      await page.context().close();
    });
  }
});

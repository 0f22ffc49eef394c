/**
 * `/metrics` (issue #11) after a known workload, parsed as Prometheus text and checked family by
 * family with exact counts: operations by name, system calls by system (as many as the sandbox
 * systems served), workflow steps (as many as the ledger holds with a duration), idempotent
 * replays, webhook verdicts (as many as the log lines), deliveries and their lag (as many as the
 * fan-out delivered), open subscriptions, dead-letter depth, breaker state and transitions. And
 * who may scrape: loopback without a key, only the key's bearer with one. Real HTTP throughout.
 */
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../server/config.js';
import { isLoopback } from '../server/metrics.js';
import { orderIdOf, orderableCustomer, stockedRow } from './support/orders.js';
import { captureLogs } from './support/logs.js';
import { parseScrape, type Scrape } from './support/prometheus.js';
import { startStack, type Stack } from './support/stack.js';
import { collectLive, wsClients } from './support/ws.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const originOf = (stack: Stack) => new URL(stack.crossdock.url).origin;

async function scrape(stack: Stack, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await fetch(`${originOf(stack)}/metrics`, { headers });
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseScrape(await res.text());
}

const SYSTEMS = ['erp', 'commerce', 'wms', 'tpl'] as const;

const PLACE = `mutation Place($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) { order { id } userErrors { code message } } }`;

describe('/metrics after a known workload', () => {
  const { lines, logger } = captureLogs();
  let stack: Stack;
  const ws = wsClients();
  before(async () => {
    stack = await startStack({
      catalogSize: 40,
      logger,
      env: {
        POLL_SOURCES: 'none',
        // A dead letter stays PENDING: no automatic retry while the test reads the depth.
        DEAD_LETTER_RETRY_BASE_MS: '3600000',
        DEAD_LETTER_RETRY_MAX_MS: '3600000',
        ERP_BREAKER_VOLUME_THRESHOLD: '3',
        ERP_BREAKER_RESET_MS: '3600000',
      },
    });
  });
  after(async () => {
    await ws.disposeAll();
    await stack?.close();
  });

  it('counts every seam exactly', async () => {
    const world = stack.sandbox.world;
    // Operations: three of one name.
    for (let i = 0; i < 3; i++) {
      const res = await stack.gql(
        `query Catalogue { products(first: 2) { edges { node { sku descriptionHtml } } } }`,
      );
      assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    }
    // A live subscriber, then one order placed twice with one key (the second is a replay).
    const live = collectLive(
      stack,
      ws.client(stack),
      `subscription { orderStatusChanged { status order { id } } }`,
      {},
      1,
    );
    await live.ready;
    const delivered: string[] = [];
    stack.crossdock.subscriptions.events.on('delivered', (domain) => delivered.push(domain));
    const open = await scrape(stack);
    assert.equal(open.value('crossdock_subscriptions_open'), 1);
    const input = {
      channel: 'B2B_PORTAL',
      customerId: orderableCustomer(world).number,
      lines: [{ sku: stockedRow(world, { warehouse: 'EAST' }).sku, quantity: 1 }],
    };
    const first = await stack.gql<Json>(PLACE, { input, key: 'metrics-order-1' });
    assert.deepEqual(first.body.data?.placeOrder.userErrors, []);
    const again = await stack.gql<Json>(PLACE, { input, key: 'metrics-order-1' });
    assert.equal((again.body.extensions?.idempotency as Json | undefined)?.replayed, true);
    const orderId = orderIdOf(first.body.data?.placeOrder.order.id);
    const events = await live.done;
    assert.equal(events.length, 1);
    // Webhooks: one to a system that sends none, one with a signature that is not the ERP's.
    const nope = await fetch(`${originOf(stack)}/webhooks/nope`, { method: 'POST', body: '{}' });
    assert.equal(nope.status, 404);
    const forged = await fetch(`${originOf(stack)}/webhooks/erp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-signature': 'v1,forged' },
      body: '{}',
    });
    assert.equal(forged.status, 401);
    const forgedCode = ((await forged.json()) as Json).error.code as string;

    // The ERP refuses writes: the next order's ERP post is dead-lettered (PENDING).
    stack.sandbox.erp.control.setFaults({ errorRate: 1, methods: ['POST'] });
    const held = await stack.gql<Json>(PLACE, {
      input: { ...input, externalReference: 'metrics-held' },
      key: 'metrics-order-2',
    });
    assert.equal(held.body.errors, undefined, JSON.stringify(held.body.errors));
    // The ERP fails every call: its breaker opens once failures are half the window's calls.
    stack.sandbox.erp.control.setFaults({ errorRate: 1, methods: null });
    const erp = stack.crossdock.sources.erp;
    const CUSTOMERS = `query Customers { customers(first: 2) { edges { node { number } } } }`;
    for (let i = 0; i < 200 && erp.health().state !== 'OPEN'; i++) await stack.gql(CUSTOMERS);
    assert.equal(erp.health().state, 'OPEN');
    // One call more, refused by the open breaker without reaching the ERP.
    await stack.gql(CUSTOMERS);

    // The systems are quiet now (no polls; webhooks the sandbox sends are not our calls).
    const served = stack.requests();
    const m = await scrape(stack);
    assert.deepEqual(stack.requests(), served, 'no system call during the scrape');

    // Every family, with its type.
    for (const [name, type] of [
      ['crossdock_operation_duration_seconds', 'HISTOGRAM'],
      ['crossdock_system_call_duration_seconds', 'HISTOGRAM'],
      ['crossdock_system_call_errors_total', 'COUNTER'],
      ['crossdock_breaker_state', 'GAUGE'],
      ['crossdock_breaker_transitions_total', 'COUNTER'],
      ['crossdock_idempotency_replays_total', 'COUNTER'],
      ['crossdock_dead_letters', 'GAUGE'],
      ['crossdock_subscriptions_open', 'GAUGE'],
      ['crossdock_subscription_deliveries_total', 'COUNTER'],
      ['crossdock_event_lag_seconds', 'HISTOGRAM'],
      ['crossdock_workflow_step_duration_seconds', 'HISTOGRAM'],
      ['crossdock_workflow_compensations_total', 'COUNTER'],
      ['crossdock_webhook_deliveries_total', 'COUNTER'],
      ['process_cpu_seconds_total', 'COUNTER'],
    ] as const) {
      assert.equal(m.types.get(name), type, name);
    }

    // Operations by name: Place twice (ok), one replayed.
    assert.equal(
      m.value('crossdock_operation_duration_seconds_count', {
        operation: 'Place',
        type: 'mutation',
        outcome: 'ok',
      }),
      3,
    );
    assert.equal(m.value('crossdock_idempotency_replays_total', { operation: 'Place' }), 1);
    assert.equal(
      m.value('crossdock_operation_duration_seconds_count', {
        operation: 'Catalogue',
        type: 'query',
        outcome: 'ok',
      }),
      3,
    );
    // The customer listings: every one failed (the ERP answered 503, then the breaker refused).
    const customers = lines.filter(
      (l) => l.msg === 'graphql operation' && l.operation === 'Customers',
    );
    assert.ok(customers.length >= 2);
    assert.equal(
      m.value('crossdock_operation_duration_seconds_count', {
        operation: 'Customers',
        type: 'query',
        outcome: 'error',
      }),
      customers.length,
    );

    // System calls: as many as each system served, plus those the open breaker refused.
    const refused = m.sum('crossdock_system_call_errors_total', {
      system: 'erp',
      reason: 'breaker_open',
    });
    assert.ok(refused >= 1, 'the open breaker refused calls');
    for (const system of SYSTEMS) {
      const observed = m.sum('crossdock_system_call_duration_seconds_count', { system });
      const notSent = system === 'erp' ? refused : 0;
      assert.equal(observed, served[system] + notSent, `${system} calls`);
    }
    // One log line per system call.
    const callLines = lines.filter((l) => l.msg === 'system call');
    assert.equal(callLines.length, m.sum('crossdock_system_call_duration_seconds_count'));
    assert.ok(callLines.every((l) => typeof l.durationMs === 'number' && l.system && l.operation));
    // The commerce platform names its answers (X-Request-Id): each line carries the vendor's id.
    const commerceLines = callLines.filter((l) => l.system === 'commerce');
    assert.ok(commerceLines.length >= 1);
    for (const line of commerceLines) assert.match(line.vendorRequestId, /^[0-9a-f-]{36}$/);
    // Errors by reason: as many as the warn lines of failed calls, and as the outcomes not ok.
    const failedCalls = m.samples
      .filter(
        (s) =>
          s.name === 'crossdock_system_call_duration_seconds_count' && s.labels.outcome !== 'ok',
      )
      .reduce((total, s) => total + s.value, 0);
    assert.equal(m.sum('crossdock_system_call_errors_total'), failedCalls);
    assert.ok(
      m.sum('crossdock_system_call_errors_total', { system: 'erp', reason: 'http_503' }) >= 3,
    );

    // The breaker: open now, entered once.
    assert.equal(m.value('crossdock_breaker_state', { source: 'erp' }), 2);
    assert.equal(
      m.value('crossdock_breaker_transitions_total', { source: 'erp', state: 'OPEN' }),
      1,
    );
    assert.equal(lines.filter((l) => l.msg === 'breaker opened' && l.source === 'erp').length, 1);

    // Workflow steps: as many as the ledger of the first order holds with a duration.
    const ledger = await stack.running.store.ledger.list(orderId);
    const timed = ledger.filter((e) => e.durationMs !== null);
    assert.ok(timed.length >= 2, JSON.stringify(ledger.map((e) => e.step)));
    for (const step of new Set(timed.map((e) => e.step))) {
      const expected = timed.filter((e) => e.step === step).length;
      const counted = m.sum('crossdock_workflow_step_duration_seconds_count', {
        step,
        channel: 'B2B_PORTAL',
      });
      // The held order ran the same steps: the count is of both orders' ledgers.
      const heldLedger = await stack.running.store.ledger.list(
        orderIdOf(held.body.data?.placeOrder.order.id),
      );
      const heldTimed = heldLedger.filter((e) => e.durationMs !== null && e.step === step).length;
      assert.equal(counted, expected + heldTimed, `step ${step}`);
    }

    // Dead letters: the held order's ERP post, PENDING; one log line for it.
    assert.deepEqual(await stack.running.store.deadLetters.count(), {
      PENDING: 1,
      RETRYING: 0,
      RESOLVED: 0,
      ABANDONED: 0,
    });
    assert.equal(m.value('crossdock_dead_letters', { status: 'PENDING' }), 1);
    assert.equal(m.value('crossdock_dead_letters', { status: 'RESOLVED' }), 0);
    assert.equal(lines.filter((l) => l.msg === 'dead letter added').length, 1);

    // Webhooks: the two refusals by code, and every accepted delivery as logged.
    assert.equal(
      m.value('crossdock_webhook_deliveries_total', { system: '(unknown)', outcome: 'NOT_FOUND' }),
      1,
    );
    assert.equal(
      m.value('crossdock_webhook_deliveries_total', { system: 'erp', outcome: forgedCode }),
      1,
    );
    assert.equal(
      m.sum('crossdock_webhook_deliveries_total', { outcome: 'accepted' }),
      lines.filter((l) => l.msg === 'webhook accepted').length,
    );

    // Deliveries and their lag: as many as the fan-out delivered; the subscription has ended.
    const orderDeliveries = delivered.filter((d) => d === 'order').length;
    assert.ok(orderDeliveries >= 1);
    assert.equal(
      m.value('crossdock_subscription_deliveries_total', { domain: 'order' }),
      orderDeliveries,
    );
    assert.equal(
      m.value('crossdock_event_lag_seconds_count', { domain: 'order' }),
      orderDeliveries,
    );
    assert.equal(m.value('crossdock_subscriptions_open'), 0);
  });
});

describe('who may scrape /metrics', () => {
  let stack: Stack;
  const KEY = 'metrics-key-0123456789abcdef';
  before(async () => {
    stack = await startStack({ catalogSize: 10, env: { POLL_SOURCES: 'none', METRICS_KEY: KEY } });
  });
  after(async () => {
    await stack?.close();
  });

  it('with METRICS_KEY: only its bearer, wherever it comes from', async () => {
    const url = `${originOf(stack)}/metrics`;
    const none = await fetch(url);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as Json).error.code, 'UNAUTHENTICATED');
    const wrong = await fetch(url, { headers: { authorization: `Bearer ${KEY}x` } });
    assert.equal(wrong.status, 403);
    assert.equal(((await wrong.json()) as Json).error.code, 'FORBIDDEN');
    const m = await scrape(stack, { authorization: `Bearer ${KEY}` });
    assert.equal(m.types.get('crossdock_breaker_transitions_total'), 'COUNTER');
  });

  it('refuses a METRICS_KEY too short to be a secret', () => {
    assert.throws(() => loadConfig({ METRICS_KEY: 'short' }), {
      message:
        'Invalid configuration: METRICS_KEY: expected 16 to 256 printable ASCII characters without spaces, got "(5 characters)"',
    });
  });
});

describe('/metrics without a key', () => {
  // An address of this machine that is not loopback: a peer there is not on loopback.
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4')?.address;
  let stack: Stack;
  before(async () => {
    stack = await startStack({ catalogSize: 10, env: { POLL_SOURCES: 'none', HOST: '0.0.0.0' } });
  });
  after(async () => {
    await stack?.close();
  });

  it(
    'answers loopback peers and refuses others',
    { skip: !external && 'no non-loopback IPv4 address' },
    async () => {
      const port = stack.crossdock.port;
      const local = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(local.status, 200);
      const remote = await fetch(`http://${external}:${port}/metrics`);
      assert.equal(remote.status, 403);
      assert.deepEqual(await remote.json(), {
        error: {
          code: 'FORBIDDEN',
          message:
            'metrics are served to loopback peers only; set METRICS_KEY to scrape from elsewhere',
        },
      });
    },
  );

  it('knows loopback in every form', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
      assert.ok(isLoopback(a), a);
    for (const a of [undefined, '192.0.2.2', '::ffff:10.0.0.1', 'fd00::2', '127.0.0.1.evil'])
      assert.ok(!isLoopback(a), String(a));
  });
});

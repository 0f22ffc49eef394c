/**
 * One order followed end to end by its correlation ID (issue #11): the GraphQL request names it
 * (with a W3C traceparent); the response echoes it; the sandbox ERP and WMS receive it on every
 * call the placement makes, with the caller's trace id and a new parent id each; the NATS
 * messages of the order carry it in their headers; the live subscriber's event and the order's
 * ledger name it. Real HTTP, real NATS (the shared server, a stream prefix of its own).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import {
  correlationFrom,
  correlationHeaders,
  correlationOf,
  correlationOfSocket,
  mintCorrelationId,
  withCorrelation,
  withCorrelationId,
} from '../observability/correlation.js';
import { captureLogs } from './support/logs.js';
import { deleteStreamsOf, natsUrl } from './support/nats.js';
import { orderIdOf, orderableCustomer, stockedRow } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';
import { collect, collectLive, wsClients } from './support/ws.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The lines Crossdock logs, parsed. */
const { lines, logger } = captureLogs();

describe('correlation IDs, accepted or minted in one place', () => {
  it('accepts a well-formed x-correlation-id and a valid traceparent; mints otherwise', () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const given = correlationFrom({
      'x-correlation-id': 'order-flow-0001',
      traceparent: `00-${trace}-00f067aa0ba902b7-01`,
    });
    assert.deepEqual(given, {
      correlationId: 'order-flow-0001',
      traceId: trace,
      traceFlags: '01',
      parentId: '00f067aa0ba902b7',
    });
    const minted = correlationFrom({ 'x-correlation-id': 'bad id!', traceparent: '00-zz' });
    assert.match(minted.correlationId, /^[0-9a-f-]{36}$/);
    // Without a trace context, the trace id is derived from the correlation ID: the same
    // everywhere one transaction goes.
    assert.equal(minted.traceId, correlationOf(minted.correlationId).traceId);
    assert.match(mintCorrelationId('poll', 'tpl'), /^poll:tpl:[0-9a-f-]{36}$/);
    // An all-zero trace id is invalid (W3C): not accepted.
    assert.notEqual(
      correlationOf('x-12345678', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`).traceId,
      '0'.repeat(32),
    );
    assert.equal(
      correlationOfSocket({ correlationId: 'from-params-1' }, { 'x-correlation-id': 'upgrade-1' })
        .correlationId,
      'from-params-1',
    );
    assert.match(correlationOfSocket({}, {}).correlationId, /^ws:/);
  });

  it('carries the current correlation through async work into outgoing headers', async () => {
    assert.deepEqual(correlationHeaders(), {});
    const seen = await withCorrelation(correlationOf('tx-00000001'), async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return Promise.all([correlationHeaders(), correlationHeaders()]);
    });
    const [a, b] = seen;
    assert.equal(a?.['x-correlation-id'], 'tx-00000001');
    const trace = correlationOf('tx-00000001').traceId;
    assert.match(a?.traceparent ?? '', new RegExp(`^00-${trace}-[0-9a-f]{16}-01$`));
    assert.notEqual(a?.traceparent, b?.traceparent, 'a new parent id per call');
    assert.equal(
      withCorrelationId(null, () => correlationHeaders()['x-correlation-id']),
      undefined,
    );
  });
});

describe('one order followed by its correlation ID', () => {
  const prefix = `XDCORR_${randomUUID().slice(0, 8).toUpperCase()}`;
  let servers: string;
  let stack: Stack;
  let nc: NatsConnection;
  const ws = wsClients();

  before(async () => {
    servers = await natsUrl();
    stack = await startStack({
      catalogSize: 30,
      logger,
      env: { NATS_URL: servers, NATS_STREAM_PREFIX: prefix, POLL_SOURCES: 'none' },
    });
    nc = await connect({ servers: servers.split(',') });
  });
  after(async () => {
    await ws.disposeAll();
    await nc?.drain();
    await stack?.close();
    await deleteStreamsOf(servers, prefix);
  });

  it('reaches the ERP, the WMS, the bus headers, the subscriber, the ledger and the log lines', async () => {
    const correlationId = `e2e-${randomUUID()}`;
    const trace = randomBytes(16).toString('hex');
    const traceparent = `00-${trace}-${randomBytes(8).toString('hex')}-01`;
    // The order's bus messages, as any NATS consumer sees them.
    const messages: Msg[] = [];
    const raw = nc.subscribe(`${prefix}.order.>`, {
      callback: (_e, m) => {
        messages.push(m);
      },
    });
    await nc.flush();
    const live = collectLive(
      stack,
      ws.client(stack),
      `subscription { orderStatusChanged { status correlationId order { id } } }`,
      {},
      3,
    );
    await live.ready;

    const world = stack.sandbox.world;
    const res = await stack.gql<Json>(
      `mutation($input: PlaceOrderInput!) { placeOrder(input: $input, idempotencyKey: "corr-e2e-1") {
        order { id number status timeline { step correlationId } } userErrors { code message } } }`,
      {
        input: {
          channel: 'B2B_PORTAL',
          customerId: orderableCustomer(world).number,
          lines: [{ sku: stockedRow(world, { warehouse: 'EAST' }).sku, quantity: 1 }],
        },
      },
      { headers: { 'x-correlation-id': correlationId, traceparent } },
    );
    assert.deepEqual(res.body.data?.placeOrder.userErrors, [], JSON.stringify(res.body));
    assert.equal(res.headers.get('x-correlation-id'), correlationId);
    const order = res.body.data?.placeOrder.order as Json;
    assert.equal(order.status, 'RELEASED_TO_WAREHOUSE');

    // The systems received it on every call of the placement, each with the caller's trace.
    const erp = stack.sandbox.erp.control.stats().byCorrelation[correlationId] ?? [];
    const wms = stack.sandbox.wms.control.stats().byCorrelation[correlationId] ?? [];
    assert.ok(
      erp.some((c) => c.route.startsWith('POST ') && /salesOrders/.test(c.route)),
      JSON.stringify(erp),
    );
    assert.ok(
      wms.some((c) => c.route.startsWith('POST ')),
      JSON.stringify(wms),
    );
    const parents = new Set<string>();
    for (const call of [...erp, ...wms]) {
      const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(call.traceparent ?? '');
      assert.ok(match, `${call.route}: ${call.traceparent}`);
      assert.equal(match[1], trace, call.route);
      parents.add(match[2] as string);
    }
    assert.equal(parents.size, erp.length + wms.length, 'a new parent id per call');

    // The ledger names it on every entry the request wrote.
    const steps = order.timeline as Json[];
    assert.ok(steps.length >= 3);
    for (const step of steps) assert.equal(step.correlationId, correlationId, step.step);

    // The subscriber's events, and the NATS headers of the same messages.
    const events = await live.done;
    assert.deepEqual(
      events.map((e) => [
        e.data?.orderStatusChanged.status,
        e.data?.orderStatusChanged.correlationId,
      ]),
      [
        ['RECEIVED', correlationId],
        ['ALLOCATED', correlationId],
        ['ACCEPTED', correlationId],
      ],
    );
    await nc.flush();
    const ours = messages.filter((m) => m.headers?.get('x-correlation-id') === correlationId);
    assert.equal(ours.length, 3, `${messages.length} messages on ${prefix}.order.>`);
    for (const m of ours) {
      assert.match(
        m.headers?.get('traceparent') ?? '',
        new RegExp(`^00-${trace}-[0-9a-f]{16}-01$`),
      );
    }
    raw.unsubscribe();

    // An operator asks for everything it touched.
    const traced = await stack.gql<Json>(
      `query($c: String!) { trace(correlationId: $c) { correlationId orderIds entries { kind name outcome orderId } } }`,
      { c: correlationId },
      { key: 'demo-operations' },
    );
    const everything = traced.body.data?.trace as Json;
    assert.equal(everything.correlationId, correlationId);
    assert.deepEqual(everything.orderIds, [orderIdOf(order.id)]);
    const kinds = (everything.entries as Json[]).map((e) => e.kind);
    assert.equal(kinds[0], 'OPERATION', 'the mutation started first');
    assert.deepEqual(
      (everything.entries as Json[])
        .filter((e) => e.kind === 'OPERATION')
        .map((e) => [e.name, e.outcome]),
      [['mutation anonymous', 'ok']],
    );
    assert.equal(kinds.filter((k) => k === 'STEP').length, steps.length);
    assert.equal(kinds.filter((k) => k === 'EVENT').length, 3);
    // Every call the systems received under it is in the trace, named by system and operation.
    for (const system of ['erp', 'wms', 'tpl', 'commerce'] as const) {
      const received = stack.sandbox[system].control.stats().byCorrelation[correlationId] ?? [];
      const calls = (everything.entries as Json[]).filter(
        (e) => e.kind === 'SYSTEM_CALL' && e.name.startsWith(`${system} `),
      );
      assert.equal(calls.length, received.length, `${system}: ${JSON.stringify(calls)}`);
    }
    assert.ok(
      (everything.entries as Json[]).some(
        (e) =>
          e.kind === 'SYSTEM_CALL' && e.name === 'erp POST salesOrders' && e.outcome === 'ok 201',
      ),
      JSON.stringify(everything.entries),
    );
    // The log lines: the operation's, and one per system call it made, all naming it.
    const mine = lines.filter((l) => l.correlationId === correlationId);
    assert.deepEqual(
      mine.filter((l) => l.msg === 'graphql operation').map((l) => [l.type, l.outcome]),
      [['mutation', 'ok']],
    );
    for (const system of ['erp', 'wms'] as const) {
      const received = stack.sandbox[system].control.stats().byCorrelation[correlationId] ?? [];
      const logged = mine.filter((l) => l.msg === 'system call' && l.system === system);
      assert.equal(logged.length, received.length, `${system} call lines`);
    }
    const refused = await stack.gql<Json>(
      `query($c: String!) { trace(correlationId: $c) { correlationId } }`,
      { c: correlationId },
      { key: 'demo-service' },
    );
    assert.equal(refused.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  });

  it('a graphql-ws operation runs in the correlation its connectionParams name', async () => {
    const correlationId = `ws-e2e-${randomUUID()}`;
    const trace = randomBytes(16).toString('hex');
    const client = ws.client(stack, {
      params: { correlationId, traceparent: `00-${trace}-${randomBytes(8).toString('hex')}-01` },
    });
    const [result] = await collect(client, `{ customer(id: "C10002") { name } }`, {}, 1);
    assert.ok(result?.data?.customer?.name, JSON.stringify(result));
    const erp = stack.sandbox.erp.control.stats().byCorrelation[correlationId] ?? [];
    assert.ok(erp.length >= 1, 'the ERP saw the operation');
    for (const call of erp) assert.match(call.traceparent ?? '', new RegExp(`^00-${trace}-`));
  });
});

describe('retries and recovery run in a correlation of their own', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      catalogSize: 20,
      // The test runs the retry itself: the automatic one waits an hour.
      env: { POLL_SOURCES: 'none', DEAD_LETTER_RETRY_BASE_MS: '3600000' },
    });
  });
  after(async () => {
    await stack?.close();
  });

  it("a dead letter's retry calls the ERP under dead-letter:<id>", async () => {
    const world = stack.sandbox.world;
    // A read first: the ERP token is fetched (a POST) before the ERP refuses POSTs.
    const warm = await stack.gql<Json>(`{ customer(id: "C10002") { name } }`);
    assert.ok(warm.body.data?.customer?.name, JSON.stringify(warm.body));
    stack.sandbox.erp.control.setFaults({ errorRate: 1, methods: ['POST'] });
    const placed = await stack.gql<Json>(
      `mutation($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) { order { id status } userErrors { code } } }`,
      {
        input: {
          channel: 'B2B_PORTAL',
          customerId: orderableCustomer(world).number,
          lines: [{ sku: stockedRow(world, { warehouse: 'EAST' }).sku, quantity: 1 }],
        },
        key: `retry-correlation-${randomUUID()}`,
      },
    );
    assert.equal(placed.body.data?.placeOrder.order.status, 'PENDING_ERP');
    const orderId = orderIdOf(placed.body.data?.placeOrder.order.id);
    const [letter] = await stack.running.store.deadLetters.list({ orderId, limit: 1 });
    assert.ok(letter);
    stack.sandbox.erp.control.setFaults({ errorRate: 0, methods: null });
    const outcome = await stack.running.workflows.orders.retryDeadLetter('test', letter.id);
    assert.equal(outcome?.resolved, true);
    const correlationId = `dead-letter:${letter.id}`;
    const calls = stack.sandbox.erp.control.stats().byCorrelation[correlationId] ?? [];
    assert.ok(
      calls.some((c) => c.route.startsWith('POST ') && /salesOrders/.test(c.route)),
      JSON.stringify(stack.sandbox.erp.control.stats().byCorrelation),
    );
    const ledger = await stack.running.store.ledger.byCorrelation(correlationId, 50);
    assert.ok(ledger.some((e) => e.step === 'post:erp' && e.outcome === 'SUCCEEDED'));
  });
});

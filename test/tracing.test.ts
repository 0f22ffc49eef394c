/**
 * Traces (issue #11): spans collected with an in-memory exporter for one order placed with a
 * W3C traceparent — the operation (a child of the caller's span), the system calls (whose span
 * ids are the parents the sandbox systems received), the workflow steps and the bus publishes,
 * all in the caller's trace and each naming the correlation ID; a query's loader batch as the
 * parent of the call it makes; a subscriber's delivery. OTLP export to a real HTTP server when an
 * endpoint is configured; no span and nothing sent when none is.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { correlationOf, withCorrelation } from '../observability/correlation.js';
import {
  CORRELATION_ATTRIBUTE,
  NO_TRACING,
  createTracing,
  endSpan,
} from '../observability/tracing.js';
import { orderableCustomer, stockedRow } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';
import { collectLive, wsClients } from './support/ws.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

describe('spans of one order, in the caller trace', () => {
  const exporter = new InMemorySpanExporter();
  let stack: Stack;
  const ws = wsClients();
  before(async () => {
    stack = await startStack({
      catalogSize: 30,
      env: { POLL_SOURCES: 'none' },
      tracing: createTracing({ exporter }),
    });
  });
  after(async () => {
    await ws.disposeAll();
    await stack?.close();
  });

  it('operation → system call → step → publish → delivery', async () => {
    const world = stack.sandbox.world;
    const correlationId = `trace-e2e-${randomUUID()}`;
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const live = collectLive(
      stack,
      ws.client(stack),
      `subscription { orderStatusChanged { status } }`,
      {},
      1,
    );
    await live.ready;
    exporter.reset();
    const res = await stack.gql<Json>(
      `mutation Place($input: PlaceOrderInput!, $key: String!) {
        placeOrder(input: $input, idempotencyKey: $key) { order { id } userErrors { code } } }`,
      {
        input: {
          channel: 'B2B_PORTAL',
          customerId: orderableCustomer(world).number,
          lines: [{ sku: stockedRow(world, { warehouse: 'EAST' }).sku, quantity: 1 }],
        },
        key: `trace-${randomUUID()}`,
      },
      {
        headers: {
          'x-correlation-id': correlationId,
          traceparent: `00-${traceId}-${callerSpan}-01`,
        },
      },
    );
    assert.deepEqual(res.body.data?.placeOrder.userErrors, []);
    await live.done;
    const spans = exporter.getFinishedSpans();
    const mine = spans.filter((s) => s.spanContext().traceId === traceId);

    // The operation: named, a server span, child of the caller's span.
    const operation = mine.find((s) => s.name === 'mutation Place');
    assert.ok(operation, spans.map((s) => s.name).join(', '));
    assert.equal(parentOf(operation), callerSpan);
    assert.equal(operation.attributes[CORRELATION_ATTRIBUTE], correlationId);
    const operationId = operation.spanContext().spanId;

    // System calls: children of the operation, each the parent the system was told of.
    const calls = mine.filter((s) => s.attributes['crossdock.system'] !== undefined);
    const erpPost = calls.find((s) => s.name === 'erp POST salesOrders');
    assert.ok(erpPost, calls.map((s) => s.name).join(', '));
    assert.equal(erpPost.attributes['http.response.status_code'], 201);
    const received = [
      ...(stack.sandbox.erp.control.stats().byCorrelation[correlationId] ?? []),
      ...(stack.sandbox.wms.control.stats().byCorrelation[correlationId] ?? []),
      ...(stack.sandbox.tpl.control.stats().byCorrelation[correlationId] ?? []),
    ];
    assert.ok(received.length >= 2);
    const callIds = new Set(calls.map((s) => s.spanContext().spanId));
    for (const call of received) {
      const parent = /^00-[0-9a-f]{32}-([0-9a-f]{16})-01$/.exec(call.traceparent ?? '')?.[1];
      assert.ok(parent && callIds.has(parent), `${call.route}: ${call.traceparent}`);
    }
    assert.equal(calls.length, received.length, 'one span per call the systems received');
    for (const call of calls) {
      assert.equal(call.attributes[CORRELATION_ATTRIBUTE], correlationId);
      assert.ok(
        parentOf(call) === operationId ||
          mine.some((s) => s.spanContext().spanId === parentOf(call)),
        `${call.name} has a parent in the trace`,
      );
    }

    // Workflow steps: one span per ledger step, in the trace.
    const orderId = String(res.body.data?.placeOrder.order.id);
    assert.ok(orderId);
    const steps = mine.filter((s) => s.name.startsWith('step '));
    assert.ok(
      steps.some((s) => s.name === 'step post:erp'),
      steps.map((s) => s.name).join(', '),
    );
    for (const step of steps) assert.equal(step.attributes[CORRELATION_ATTRIBUTE], correlationId);

    // Bus publishes, in the trace; the subscriber's delivery names the event's correlation.
    const publishes = mine.filter((s) => s.name === 'publish order');
    assert.ok(publishes.length >= 1);
    const delivery = spans.find(
      (s) =>
        s.name === 'deliver order' &&
        s.attributes['crossdock.event_correlation_id'] === correlationId,
    );
    assert.ok(delivery, 'a delivery span');
  });

  it('a loader batch is the parent of the call it makes', async () => {
    exporter.reset();
    const res = await stack.gql(`query Customers { customer(id: "C10002") { name } }`, undefined, {
      headers: { 'x-correlation-id': `trace-loader-${randomUUID()}` },
    });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const spans = exporter.getFinishedSpans();
    const batch = spans.find((s) => s.name === 'loader customer');
    assert.ok(batch, spans.map((s) => s.name).join(', '));
    assert.equal(batch.attributes['crossdock.batch_size'], 1);
    const call = spans.find((s) => parentOf(s) === batch.spanContext().spanId);
    assert.ok(call?.name.startsWith('erp '), call?.name);
    const operation = spans.find((s) => s.name === 'query Customers');
    assert.equal(parentOf(batch), operation?.spanContext().spanId);
  });
});

describe('export', () => {
  it('is off without an endpoint: no span, nothing sent', () => {
    const tracing = createTracing({ endpoint: null });
    assert.equal(tracing, NO_TRACING);
    assert.equal(
      withCorrelation(correlationOf('trace-off-0001'), () => tracing.start('x')),
      null,
    );
  });

  it('sends OTLP/HTTP to the configured endpoint', async () => {
    const received: { url: string; type: string; body: string }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          url: req.url ?? '',
          type: String(req.headers['content-type']),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const tracing = createTracing({ endpoint: `http://127.0.0.1:${port}/` });
      const correlationId = `trace-otlp-${randomUUID()}`;
      withCorrelation(correlationOf(correlationId), () => endSpan(tracing.start('exported')));
      await tracing.shutdown(); // flushes the batch
      assert.equal(received.length, 1);
      assert.equal(received[0]?.url, '/v1/traces');
      // The protobuf body carries the span's name and its correlation ID as bytes.
      assert.ok(received[0]?.body.includes('exported'));
      assert.ok(received[0]?.body.includes(correlationId));
    } finally {
      server.close();
    }
  });
});

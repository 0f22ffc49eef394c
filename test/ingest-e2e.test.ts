/**
 * Events from the systems, end to end, with the sandbox really emitting them (issue #4): the
 * sandbox WMS, ERP and commerce platform sign and send webhooks to Crossdock's
 * `/webhooks/<system>`, Crossdock verifies, applies and publishes. Each test acts on a system
 * through its own API, waits for the sandbox's deliveries to settle (`webhooks.idle()`: a
 * delivery settles when Crossdock answered it, i.e. after it was applied), then asserts what
 * Crossdock holds: order status, ledger, bus, graphql-ws subscribers. No sleeps.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { COMMERCE_SANDBOX } from '../sandbox/credentials.js';
import { buildWorld, type SeedWorld } from '../sandbox/seed.js';
import type { SourceEvent } from '../sources/contract.js';
import type { createMemoryBus } from '../subscriptions/memory-bus.js';
import { orderableCustomer, placeOrder, stockedRow } from './support/orders.js';
import { erpCompanyUrl, erpToken, wmsToken } from './support/sandbox-api.js';
import { startStack, type Stack } from './support/stack.js';
import { collect, wsClients } from './support/ws.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type MemoryBus = ReturnType<typeof createMemoryBus>;

let stack: Stack;
let world: SeedWorld;
const ws = wsClients();

before(async () => {
  world = buildWorld({ catalogSize: 150 });
  stack = await startStack({ world });
});

after(async () => {
  await ws.disposeAll();
  await stack.close();
});

afterEach(async () => {
  for (const system of stack.sandbox.systems) system.webhooks.setFaults({ duplicate: false });
  await settle();
});

const bus = (): MemoryBus => stack.running.bus as MemoryBus;

/** Resolves once every sandbox system has delivered (or given up on) everything it emitted. */
async function settle(): Promise<void> {
  await Promise.all(stack.sandbox.systems.map((system) => system.webhooks.idle()));
}

const ORDER_REL = 'http://api.3plCentral.com/rels/orders/order';

// --- acting on the systems through their own APIs ----------------------------------------------

/** The WMS order (reservation) of a Crossdock order in the own WMS. */
async function reservationOf(orderId: string): Promise<Json> {
  const token = await wmsToken(stack.sandbox);
  const rql = encodeURIComponent(`referenceNum==${orderId}*`);
  const res = await fetch(
    `${stack.sandbox.wms.url}/orders?rql=${rql}&detail=All&pgsiz=100&pgnum=1`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  const body = (await res.json()) as Json;
  const orders = (body._embedded?.[ORDER_REL] ?? []) as Json[];
  assert.equal(orders.length, 1, `one reservation of ${orderId} in the own WMS`);
  return orders[0] as Json;
}

/** Ships a WMS order (Extensiv's confirmer, with the order's ETag). */
async function confirm(wmsOrderId: number, trackingNumber: string): Promise<void> {
  const token = await wmsToken(stack.sandbox);
  const url = `${stack.sandbox.wms.url}/orders/${wmsOrderId}`;
  const current = await fetch(`${url}?detail=All`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const etag = current.headers.get('etag');
  assert.ok(etag);
  const res = await fetch(`${url}/confirmer`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'if-match': etag,
    },
    body: JSON.stringify({ trackingNumber }),
  });
  assert.equal(res.status, 204, await res.text());
}

/** Adjusts stock in the own WMS, as its staff would: answers the WMS's response. */
async function adjustStock(
  facilityId: number,
  sku: string,
  qty: number,
  reason: string,
): Promise<Response> {
  const token = await wmsToken(stack.sandbox);
  return fetch(`${stack.sandbox.wms.url}/inventory/adjustments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      facilityId,
      adjustmentItems: [{ itemIdentifier: { sku }, qty, reason }],
    }),
  });
}

/** BC's Ship & Invoice on a sales order (by number): posts its invoice. */
async function shipAndInvoice(orderNumber: string): Promise<void> {
  const token = await erpToken(stack.sandbox);
  const company = erpCompanyUrl(stack.sandbox);
  const filter = encodeURIComponent(`number eq '${orderNumber}'`);
  const found = (await (
    await fetch(`${company}/salesOrders?$filter=${filter}`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as { value: Json[] };
  const id = found.value[0]?.id as string | undefined;
  assert.ok(id, `ERP order ${orderNumber}`);
  const res = await fetch(`${company}/salesOrders(${id})/Microsoft.NAV.shipAndInvoice`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 204, await res.text());
}

/** One call to the sandbox commerce Admin GraphQL API. */
async function shopify(query: string, variables: Record<string, unknown> = {}): Promise<Json> {
  const res = await fetch(
    `${stack.sandbox.commerce.url}/admin/api/${COMMERCE_SANDBOX.apiVersion}/graphql.json`,
    {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-access-token': COMMERCE_SANDBOX.accessToken,
      },
      body: JSON.stringify({ query, variables }),
    },
  );
  const body = (await res.json()) as Json;
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data as Json;
}

// --- Crossdock -----------------------------------------------------------------------------------

/** A customer who can order; a SKU with stock in an owned warehouse (skipping `skip` of them). */
function orderable(skip: number): { customer: string; sku: string } {
  return { customer: orderableCustomer(world).number, sku: stockedRow(world, { skip }).sku };
}

/** Places an order of the `skip`-th SKU of {@link orderable} through GraphQL. */
const place = (key: string, skip: number, input: Record<string, unknown> = {}) =>
  placeOrder(stack, key, { stock: stockedRow(world, { skip }), input });

async function orderView(globalId: string): Promise<Json> {
  const res = await stack.gql<Json>(
    `query($id: ID!) { order(id: $id) { status shipments { status trackingNumber } timeline { step status caller detail } } }`,
    { id: globalId },
  );
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  return res.body.data?.order as Json;
}

/** Status events of an order on the bus, oldest first. */
function statusEvents(orderId: string): Json[] {
  return bus()
    .history('order')
    .filter((e) => (e.payload as Json).orderId === orderId)
    .map((e) => e.payload as Json);
}

/** A graphql-ws subscriber to an order's status, from the start of the bus's history. */
async function subscribeStatus(orderId: string, until: string): Promise<Json[]> {
  const results = await collect(
    ws.client(stack),
    `subscription($orderId: ID) { orderStatusChanged(orderId: $orderId, after: "0") {
      cursor status previousStatus } }`,
    { orderId },
    (result) => result.data?.orderStatusChanged.status === until,
  );
  const failed = results.find((result) => result.errors);
  if (failed) throw new Error(JSON.stringify(failed.errors));
  return results.map((result) => result.data?.orderStatusChanged as Json);
}

// --- tests -----------------------------------------------------------------------------------------

// The timeout turns a wait for events that never come (the behaviour broken) into a failure.
describe('webhooks from the sandbox systems move orders', { timeout: 60_000 }, () => {
  it('WMS ships → SHIPPED with a ledger entry and a subscriber told; delivered; ERP invoices → INVOICED', async () => {
    const order = await place('e2e-ship-1', 0);
    const subscriber = subscribeStatus(order.id, 'INVOICED');
    const reservation = await reservationOf(order.id);
    const wmsOrderId = Number(reservation.readOnly.orderId);

    await confirm(wmsOrderId, '1Z-E2E-0001');
    await settle();
    let view = await orderView(order.globalId);
    assert.equal(view.status, 'SHIPPED');
    const shipped = (view.timeline as Json[]).find(
      (t) => t.step === 'event:shipment:SHIPPED succeeded',
    );
    assert.ok(shipped, JSON.stringify(view.timeline));
    assert.equal(shipped.status, 'SHIPPED');
    assert.equal(shipped.caller, 'webhook:wms');
    assert.equal(JSON.parse(String(shipped.detail)).trackingNumber, '1Z-E2E-0001');
    const shipmentEvents = bus()
      .history('shipment')
      .filter((e) => (e.payload as Json).orderId === order.id);
    assert.deepEqual(
      shipmentEvents.map((e) => (e.payload as Json).kind),
      ['CREATED', 'SHIPPED'],
    );
    const shippedEvent = shipmentEvents[1]?.payload as Json;
    assert.equal(shippedEvent.shipmentId, `wms:${wmsOrderId}`);
    assert.equal(shippedEvent.channel, 'B2B_PORTAL');
    assert.equal(shippedEvent.customerNumber, orderable(0).customer);
    assert.equal(shippedEvent.trackingNumber, '1Z-E2E-0001');

    // The carrier delivered it: a DELIVERED shipment event and a ledger entry; still SHIPPED.
    const delivered = await fetch(`${stack.sandbox.wms.url}/_carrier/${wmsOrderId}/delivered`, {
      method: 'POST',
    });
    assert.equal(delivered.status, 200, await delivered.text());
    await settle();
    view = await orderView(order.globalId);
    assert.equal(view.status, 'SHIPPED');
    assert.equal(
      (view.timeline as Json[]).filter((t) => t.step === 'event:shipment:DELIVERED succeeded')
        .length,
      1,
    );
    // Queries map the WMS's deliveredDate the same way.
    assert.deepEqual(view.shipments, [{ status: 'DELIVERED', trackingNumber: '1Z-E2E-0001' }]);
    const afterDelivery = bus()
      .history('shipment')
      .filter((e) => (e.payload as Json).orderId === order.id)
      .map((e) => [(e.payload as Json).kind, (e.payload as Json).status]);
    assert.deepEqual(afterDelivery, [
      ['CREATED', 'PENDING'],
      ['SHIPPED', 'SHIPPED'],
      ['DELIVERED', 'DELIVERED'],
    ]);

    // The ERP posts the invoice: INVOICED.
    await shipAndInvoice(order.number);
    await settle();
    view = await orderView(order.globalId);
    assert.equal(view.status, 'INVOICED');
    const invoiced = (view.timeline as Json[]).find(
      (t) => t.step === 'event:invoicePosted succeeded',
    );
    assert.equal(invoiced?.caller, 'webhook:erp');
    assert.equal(invoiced?.status, 'INVOICED');

    const seen = await subscriber;
    assert.deepEqual(
      seen.map((e) => e.status),
      ['RECEIVED', 'ALLOCATED', 'ACCEPTED', 'SHIPPED', 'INVOICED'],
    );
    assert.deepEqual(
      statusEvents(order.id).map((e) => e.status),
      ['RECEIVED', 'ALLOCATED', 'ACCEPTED', 'SHIPPED', 'INVOICED'],
    );
  });

  it('a stock adjustment in the WMS becomes an inventory event', async () => {
    const { sku } = orderable(3);
    const facility = world.warehouses.find((w) => w.system === 'wms');
    assert.ok(facility);
    const before = bus().history('inventory').length;
    const res = await adjustStock(facility.facilityId, sku, 7, 'cycle count');
    assert.equal(res.status, 201, await res.text());
    await settle();
    const added = bus().history('inventory').slice(before);
    assert.equal(added.length, 1);
    const payload = added[0]?.payload as Json;
    assert.equal(payload.sku, sku);
    assert.equal(payload.warehouseCode, facility.code);
    assert.equal(payload.source, 'wms');
    assert.equal(payload.delta, 7);
    assert.equal(payload.reason, 'cycle count');
    assert.equal(
      added[0]?.subject,
      `crossdock.inventory.${facility.code}.${sku.replace(/[^A-Za-z0-9_-]/g, '_')}`,
    );
  });

  it('accepts the WMS key rotation after one fetch of the new key', async () => {
    const { sku } = orderable(4);
    const facility = world.warehouses.find((w) => w.system === 'wms');
    assert.ok(facility);
    const rotated = await fetch(`${stack.sandbox.wms.url}/_webhooks/rotate-key`, {
      method: 'POST',
    });
    assert.equal(rotated.status, 200);
    const keyFetches = () =>
      stack.sandbox.wms.control.stats().byRoute['GET /events/webhook/key'] ?? 0;
    const fetchesBefore = keyFetches();
    const before = bus().history('inventory').length;
    const res = await adjustStock(facility.facilityId, sku, 2, 'found');
    assert.equal(res.status, 201);
    await settle();
    assert.equal(bus().history('inventory').length, before + 1);
    assert.equal(keyFetches() - fetchesBefore, 1, 'the new key was fetched exactly once');
    const last = stack.sandbox.wms.webhooks.deliveries().at(-1);
    assert.equal(last?.status, 'delivered');
    assert.equal(last?.attempts, 1);
  });

  it('a storefront cancellation cancels the WEB order placed for it', async () => {
    const data = await shopify(`{ orders(first: 5) { nodes { id name cancelledAt } } }`);
    const storefront = (data.orders.nodes as Json[]).find((o) => o.cancelledAt === null);
    assert.ok(storefront);
    const order = await place(`e2e-web-${String(storefront.name)}`, 5, {
      channel: 'WEB',
      externalReference: storefront.name,
    });
    // An order of another channel that carries the same reference is not the storefront's.
    const other = await place(`e2e-b2b-${String(storefront.name)}`, 10, {
      channel: 'B2B_PORTAL',
      externalReference: storefront.name,
    });
    const cancelled = await shopify(
      `mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, refund: false, restock: false) {
        orderCancelUserErrors { code message } } }`,
      { id: storefront.id },
    );
    assert.deepEqual(cancelled.orderCancel.orderCancelUserErrors, []);
    await settle();
    const view = await orderView(order.globalId);
    assert.equal(view.status, 'CANCELLED');
    const entry = (view.timeline as Json[]).find(
      (t) => t.step === 'event:channelOrder:CANCELLED succeeded',
    );
    assert.equal(entry?.caller, 'webhook:commerce');
    assert.equal(JSON.parse(String(entry?.detail)).name, storefront.name);
    // Its reservation was released in the WMS.
    assert.equal((await reservationOf(order.id)).readOnly.status, 2);
    // The B2B order with the same reference is untouched: live, no storefront event recorded.
    const untouched = await orderView(other.globalId);
    assert.equal(untouched.status, 'RELEASED_TO_WAREHOUSE');
    assert.deepEqual(
      (untouched.timeline as Json[]).filter((t) => String(t.step).startsWith('event:')),
      [],
    );
    assert.notEqual((await reservationOf(other.id)).readOnly.status, 2);
  });

  it('a storefront cancellation of an order that has shipped is refused in the ledger', async () => {
    const data = await shopify(`{ orders(first: 20) { nodes { id name cancelledAt } } }`);
    const storefront = (data.orders.nodes as Json[]).filter((o) => o.cancelledAt === null)[1];
    assert.ok(storefront);
    const order = await place(`e2e-web-shipped-${String(storefront.name)}`, 6, {
      channel: 'WEB',
      externalReference: storefront.name,
    });
    await confirm(Number((await reservationOf(order.id)).readOnly.orderId), '1Z-E2E-0006');
    await settle();
    await shopify(
      `mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, refund: false, restock: false) {
        orderCancelUserErrors { code } } }`,
      { id: storefront.id },
    );
    await settle();
    const view = await orderView(order.globalId);
    assert.equal(view.status, 'SHIPPED');
    const refusal = (view.timeline as Json[]).find(
      (t) => t.step === 'event:channelOrder:CANCELLED failed',
    );
    assert.ok(refusal, JSON.stringify(view.timeline));
    assert.equal(JSON.parse(String(refusal.detail)).refused, 'ALREADY_SHIPPED');
  });

  it('a delivery sent twice (duplicate fault) moves the order once', async () => {
    const order = await place('e2e-duplicate-1', 7);
    const wmsOrderId = Number((await reservationOf(order.id)).readOnly.orderId);
    stack.sandbox.wms.webhooks.setFaults({ duplicate: true });
    await confirm(wmsOrderId, '1Z-E2E-0007');
    await settle();
    const confirmDelivery = stack.sandbox.wms.webhooks
      .deliveries()
      .filter((d) => d.type === 'OrderConfirm')
      .at(-1);
    assert.equal(confirmDelivery?.attempts, 2, 'the sandbox did send it twice');
    const view = await orderView(order.globalId);
    assert.equal(view.status, 'SHIPPED');
    assert.equal(
      (view.timeline as Json[]).filter((t) => t.step === 'event:shipment:SHIPPED succeeded').length,
      1,
    );
    assert.deepEqual(
      statusEvents(order.id).map((e) => e.status),
      ['RECEIVED', 'ALLOCATED', 'ACCEPTED', 'SHIPPED'],
    );
    assert.equal(
      bus()
        .history('shipment')
        .filter(
          (e) => (e.payload as Json).orderId === order.id && (e.payload as Json).kind === 'SHIPPED',
        ).length,
      1,
    );
  });

  it('ends in the right state whatever order the events arrive in', async () => {
    const order = await place('e2e-out-of-order-1', 8);
    const reservation = await reservationOf(order.id);
    const shipment = {
      id: `wms:${reservation.readOnly.orderId}`,
      source: 'wms',
      orderNumber: String(reservation.referenceNum),
      warehouseCode: 'EAST',
      carrier: null,
      trackingNumber: '1Z-LATE',
      shippedAt: null,
      lines: [],
    };
    const at = new Date().toISOString();
    const events: SourceEvent[] = [
      {
        id: `erp:test-invoice-${order.id}`,
        source: 'erp',
        occurredAt: at,
        type: 'invoicePosted',
        invoiceNumber: 'PSI-TEST-1',
        orderNumber: order.number,
        customerNumber: orderable(8).customer,
        externalDocumentNumber: order.id,
        total: { amount: '1.00', currencyCode: 'USD' },
      },
      {
        id: `wms:test-delivered-${order.id}`,
        source: 'wms',
        occurredAt: at,
        type: 'shipment',
        kind: 'DELIVERED',
        shipment: { ...shipment, status: 'DELIVERED' },
      },
      {
        id: `wms:test-shipped-${order.id}`,
        source: 'wms',
        occurredAt: at,
        type: 'shipment',
        kind: 'SHIPPED',
        shipment: { ...shipment, status: 'SHIPPED' },
      },
    ];
    // Newest first, then once more in full (a poll overlapping a webhook): the same end state.
    await stack.running.ingest.apply(events, { caller: 'test', correlationId: null });
    await stack.running.ingest.apply([...events].reverse(), {
      caller: 'test',
      correlationId: null,
    });
    const view = await orderView(order.globalId);
    assert.equal(view.status, 'INVOICED');
    assert.deepEqual(
      statusEvents(order.id).map((e) => e.status),
      ['RECEIVED', 'ALLOCATED', 'ACCEPTED', 'SHIPPED', 'INVOICED'],
    );
    const steps = (view.timeline as Json[])
      .map((t) => String(t.step))
      .filter((s) => s.startsWith('event:'));
    assert.deepEqual(steps, [
      'event:invoicePosted succeeded',
      'event:shipment:DELIVERED succeeded',
      'event:shipment:SHIPPED succeeded',
    ]);
  });

  it('publishes a status change whose publish failed when the event is applied again', async () => {
    const order = await place('e2e-bus-down-1', 9);
    const reservation = await reservationOf(order.id);
    const event: SourceEvent = {
      id: `wms:test-bus-down-${order.id}`,
      source: 'wms',
      occurredAt: new Date().toISOString(),
      type: 'shipment',
      kind: 'SHIPPED',
      shipment: {
        id: `wms:${reservation.readOnly.orderId}`,
        source: 'wms',
        orderNumber: String(reservation.referenceNum),
        warehouseCode: 'EAST',
        status: 'SHIPPED',
        carrier: null,
        trackingNumber: null,
        shippedAt: null,
        lines: [],
      },
    };
    const publish = bus().publish;
    // The order's status events cannot be published; the rest of the bus works.
    bus().publish = async (e) => {
      if (e.domain === 'order') throw new Error('order stream unavailable');
      return publish(e);
    };
    try {
      await assert.rejects(
        stack.running.ingest.apply([event], { caller: 'test', correlationId: null }),
        /order stream unavailable/,
      );
    } finally {
      bus().publish = publish;
    }
    assert.deepEqual(
      statusEvents(order.id).map((e) => e.status),
      ['RECEIVED', 'ALLOCATED', 'ACCEPTED'],
      'stored as SHIPPED, not yet on the bus',
    );
    // The retry (the vendor's, or the next poll): the change goes out, once.
    const { published } = await stack.running.ingest.apply([event], {
      caller: 'test',
      correlationId: null,
    });
    assert.equal(published, 1, 'the shipment event; the status event was a re-publication');
    assert.deepEqual(
      statusEvents(order.id).map((e) => e.status),
      ['RECEIVED', 'ALLOCATED', 'ACCEPTED', 'SHIPPED'],
    );
    assert.equal((await orderView(order.globalId)).status, 'SHIPPED');
    const stored = await stack.running.store.orders.get(order.id);
    assert.equal((stored?.data as Json).unpublished, undefined, 'the marker is cleared');
  });
});

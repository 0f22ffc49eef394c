/**
 * Canonical queries for every type, end to end: GraphQL over HTTP → resolvers → DataLoaders →
 * connectors → real HTTP → sandbox systems. Expected values are computed from the seed world.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildWorld, centsToDecimal, type SeedWorld } from '../sandbox/seed.js';
import { toGlobalId } from '../resolvers/ids.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
let world: SeedWorld;

before(async () => {
  world = buildWorld({ catalogSize: 300 });
  stack = await startStack({ world });
});

after(() => stack.close());

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function data(
  query: string,
  variables?: Record<string, unknown>,
  key?: string,
): Promise<Json> {
  const res = await stack.gql<Json>(query, variables, key ? { key } : {});
  assert.deepEqual(
    res.body.errors,
    undefined,
    `unexpected errors: ${JSON.stringify(res.body.errors)}`,
  );
  assert.equal(res.status, 200);
  return res.body.data as Json;
}

function product(index: number) {
  const p = world.products[index - 1];
  assert.ok(p);
  return p;
}

describe('Product', () => {
  it('merges ERP, commerce and both warehouse systems by SKU', async () => {
    const p = product(7);
    const d = await data(
      `query($sku: String!) { product(sku: $sku) {
        id sku name descriptionHtml webStatus category gtin unitOfMeasure blocked
        listPrice { amount currencyCode }
        inventory { sku onHand allocated onHold available asOf source warehouse { code name kind } }
        availableToPromise
      } }`,
      { sku: p.sku },
    );
    const got = d.product;
    assert.equal(got.id, toGlobalId('Product', p.sku));
    assert.equal(got.sku, p.sku);
    assert.equal(got.name, p.name);
    assert.equal(got.category, p.category);
    assert.equal(got.gtin, p.gtin);
    assert.equal(got.unitOfMeasure, p.unitOfMeasure);
    assert.equal(got.blocked, p.blocked);
    assert.equal(got.webStatus, p.webStatus);
    assert.deepEqual(got.listPrice, { amount: centsToDecimal(p.priceCents), currencyCode: 'USD' });
    const stock = world.stock.filter((s) => s.sku === p.sku);
    assert.equal(got.inventory.length, stock.length);
    for (const s of stock) {
      const position = got.inventory.find((i: Json) => i.warehouse.code === s.warehouse);
      assert.ok(position, `position in ${s.warehouse}`);
      assert.equal(position.onHand, s.onHand);
      assert.equal(position.allocated, s.allocated);
      assert.equal(position.onHold, s.onHold);
      assert.equal(position.available, s.onHand - s.allocated - s.onHold);
      assert.equal(position.source, s.warehouse === '3PL-SOUTH' ? 'tpl' : 'wms');
      assert.equal(position.warehouse.kind, s.warehouse === '3PL-SOUTH' ? 'THIRD_PARTY' : 'OWNED');
    }
    const atp = stock.reduce((n, s) => n + s.onHand - s.allocated - s.onHold, 0);
    assert.equal(got.availableToPromise, atp);
  });

  it('narrows inventory and availableToPromise to some warehouses', async () => {
    const p = product(3);
    const d = await data(
      `query($sku: String!) { product(sku: $sku) { inventory(warehouses: ["EAST"]) { warehouse { code } } availableToPromise(warehouses: ["EAST"]) } }`,
      { sku: p.sku },
    );
    const east = world.stock.find((s) => s.sku === p.sku && s.warehouse === 'EAST');
    assert.ok(east);
    assert.deepEqual(d.product.inventory, [{ warehouse: { code: 'EAST' } }]);
    assert.equal(d.product.availableToPromise, east.onHand - east.allocated - east.onHold);
  });

  it('prices for a customer with its price group discount', async () => {
    const customer = world.customers.find((c) => c.priceGroup === 'WHOLESALE');
    assert.ok(customer);
    const p = product(11);
    const d = await data(
      `query($sku: String!, $c: ID!) { product(sku: $sku) { customerPrice(customerId: $c) { priceGroup discountPercent unitPrice { amount } } } }`,
      { sku: p.sku, c: customer.number },
    );
    assert.deepEqual(d.product.customerPrice, {
      priceGroup: 'WHOLESALE',
      discountPercent: 10,
      unitPrice: { amount: centsToDecimal(Math.round((p.priceCents * 90) / 100)) },
    });
  });

  it('cross-references a product, an order, a customer and an invoice into each system', async () => {
    const o = world.orders.find((x) => x.stage === 'INVOICED');
    assert.ok(o);
    const d = await data(
      `query($sku: String!, $id: ID!) {
        product(sku: $sku) { externalIds { source entity id } }
        order(id: $id) { externalIds { source entity id } customer { externalIds { source entity id } } invoices { externalIds { source entity id } } shipments { id } }
      }`,
      { sku: product(1).sku, id: o.number },
    );
    const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const [item, prod, variant] = d.product.externalIds;
    assert.deepEqual([item.source, item.entity], ['erp', 'item']);
    assert.match(item.id, guid);
    assert.deepEqual([prod.source, prod.entity], ['commerce', 'product']);
    assert.match(prod.id, /^gid:\/\/shopify\/Product\/\d+$/);
    assert.deepEqual([variant.source, variant.entity], ['commerce', 'productVariant']);
    assert.match(variant.id, /^gid:\/\/shopify\/ProductVariant\/\d+$/);
    const [salesOrder, warehouseOrder] = d.order.externalIds;
    assert.deepEqual([salesOrder.source, salesOrder.entity], ['erp', 'salesOrder']);
    assert.match(salesOrder.id, guid);
    const source = o.warehouse === '3PL-SOUTH' ? 'tpl' : 'wms';
    assert.deepEqual([warehouseOrder.source, warehouseOrder.entity], [source, 'order']);
    assert.match(warehouseOrder.id, /^\d+$/);
    assert.deepEqual(
      [d.order.customer.externalIds[0].source, d.order.customer.externalIds[0].entity],
      ['erp', 'customer'],
    );
    assert.deepEqual(
      [d.order.invoices[0].externalIds[0].source, d.order.invoices[0].externalIds[0].entity],
      ['erp', 'salesInvoice'],
    );
  });

  it('walks the whole catalogue page by page with no duplicates or gaps', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const d: Json = await data(
        `query($after: String) { products(first: 70, after: $after, filter: { includeBlocked: true }) {
          edges { cursor node { sku } } pageInfo { hasNextPage endCursor } } }`,
        { after: cursor },
      );
      const conn = d.products;
      seen.push(...conn.edges.map((e: Json) => e.node.sku));
      cursor = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
      pages++;
      assert.ok(pages < 20, 'the walk must end');
    } while (cursor);
    assert.equal(pages, 5);
    assert.deepEqual(
      seen,
      world.products.map((p) => p.sku),
    );
  });

  it('leaves blocked items out of the default listing and filters by category', async () => {
    const d = await data(
      `{ products(first: 250, filter: { category: "Safety" }) { nodes { sku category blocked } } }`,
    );
    const expected = world.products
      .filter((p) => p.category === 'Safety' && !p.blocked)
      .map((p) => p.sku);
    assert.deepEqual(
      d.products.nodes.map((n: Json) => n.sku),
      expected,
    );
    assert.ok(d.products.nodes.every((n: Json) => n.category === 'Safety' && n.blocked === false));
  });
});

describe('Inventory and warehouses', () => {
  it('lists every warehouse of both warehouse systems', async () => {
    const d = await data(
      `{ warehouses { id code name kind source address { city countryCode } } }`,
    );
    const codes = d.warehouses.map((w: Json) => w.code).sort();
    assert.deepEqual(codes, world.warehouses.map((w) => w.code).sort());
    const tpl = d.warehouses.find((w: Json) => w.code === '3PL-SOUTH');
    assert.equal(tpl.kind, 'THIRD_PARTY');
    assert.equal(tpl.source, 'tpl');
    assert.equal(tpl.address.city, 'Irving');
  });

  it('answers Query.inventory for many SKUs and some warehouses', async () => {
    const skus = [product(1).sku, product(2).sku, product(150).sku];
    const d = await data(
      `query($s: [String!]!) { inventory(skus: $s, warehouses: ["EAST", "3PL-SOUTH"]) { sku warehouse { code } onHand } }`,
      { s: skus },
    );
    const expected = world.stock.filter(
      (s) => skus.includes(s.sku) && (s.warehouse === 'EAST' || s.warehouse === '3PL-SOUTH'),
    );
    assert.equal(d.inventory.length, expected.length);
    for (const s of expected) {
      assert.ok(
        d.inventory.some(
          (i: Json) => i.sku === s.sku && i.warehouse.code === s.warehouse && i.onHand === s.onHand,
        ),
      );
    }
  });
});

describe('Customer', () => {
  it('reads a customer with credit standing', async () => {
    const c = world.customers[2]; // customer 3 is over its credit limit (seed)
    assert.ok(c);
    const d = await data(
      `query($id: ID!) { customer(id: $id) { id number name type paymentTerms priceGroup blocked creditStatus
        creditLimit { amount } balanceDue { amount } availableCredit { amount } address { city } } }`,
      { id: c.number },
    );
    assert.equal(d.customer.number, c.number);
    assert.equal(d.customer.name, c.name);
    assert.equal(d.customer.creditLimit.amount, centsToDecimal(c.creditLimitCents));
    assert.equal(d.customer.balanceDue.amount, centsToDecimal(c.balanceDueCents));
    assert.equal(d.customer.creditStatus, 'OVER_LIMIT');
    assert.equal(d.customer.availableCredit.amount, '0.00');
    assert.equal(d.customer.priceGroup, c.priceGroup);
    assert.equal(d.customer.address.city, c.address.city);
  });

  it('marks a customer blocked for shipping as ON_HOLD', async () => {
    const c = world.customers.find((x) => x.blocked === 'Ship');
    assert.ok(c);
    const d = await data(`query($id: ID!) { customer(id: $id) { blocked creditStatus } }`, {
      id: c.number,
    });
    assert.deepEqual(d.customer, { blocked: 'SHIP', creditStatus: 'ON_HOLD' });
  });

  it('pages through customers', async () => {
    const first = await data(
      `{ customers(first: 25) { nodes { number } pageInfo { hasNextPage endCursor } } }`,
    );
    const second = await data(
      `query($a: String) { customers(first: 100, after: $a) { nodes { number } pageInfo { hasNextPage } } }`,
      {
        a: first.customers.pageInfo.endCursor,
      },
    );
    const numbers = [...first.customers.nodes, ...second.customers.nodes].map(
      (n: Json) => n.number,
    );
    assert.deepEqual(
      numbers,
      world.customers.map((c) => c.number),
    );
    assert.equal(second.customers.pageInfo.hasNextPage, false);
  });
});

describe('Order, Shipment, Invoice', () => {
  it('reads an invoiced order with lines, shipments, invoices and timeline', async () => {
    const o = world.orders.find((x) => x.stage === 'INVOICED');
    assert.ok(o);
    const d = await data(
      `query($id: ID!) { order(id: $id) {
        id number channel status externalReference orderedAt
        customer { number }
        lines { sequence sku quantity shippedQuantity invoicedQuantity unitPrice { amount } product { sku name } }
        shipments { id status carrier trackingNumber warehouse { code } source order { number } }
        invoices { number status order { number } }
        timeline { step status source at }
      } }`,
      { id: o.number },
    );
    const got = d.order;
    assert.equal(got.number, o.number);
    assert.equal(got.channel, o.channel);
    assert.equal(got.status, 'INVOICED');
    assert.equal(got.customer.number, o.customerNumber);
    assert.equal(got.externalReference, o.externalReference);
    assert.deepEqual(
      got.lines.map((l: Json) => [l.sku, l.quantity, l.unitPrice.amount]),
      o.lines.map((l) => [l.sku, l.quantity, centsToDecimal(l.unitPriceCents)]),
    );
    assert.equal(got.shipments.length, 1);
    assert.equal(got.shipments[0].status, 'SHIPPED');
    assert.equal(got.shipments[0].trackingNumber, o.trackingNumber);
    assert.equal(got.shipments[0].warehouse.code, o.warehouse);
    assert.equal(got.shipments[0].order.number, o.number);
    assert.deepEqual(
      got.invoices.map((i: Json) => i.number),
      [o.invoiceNumber],
    );
    assert.deepEqual(
      got.timeline.map((t: Json) => t.step),
      ['ordered', 'shipped', 'invoiced'],
    );
  });

  it('derives RELEASED_TO_WAREHOUSE, SHIPPED and ACCEPTED/RECEIVED', async () => {
    const expectations: Record<string, string> = {
      RELEASED: 'RELEASED_TO_WAREHOUSE',
      SHIPPED: 'SHIPPED',
      OPEN: 'RECEIVED',
    };
    for (const [stage, status] of Object.entries(expectations)) {
      const o = world.orders.find((x) => x.stage === stage);
      assert.ok(o, stage);
      const d = await data(`query($id: ID!) { order(id: $id) { status } }`, { id: o.number });
      assert.equal(d.order.status, status, `${o.number} at stage ${stage}`);
    }
  });

  it('lists orders by channel and customer', async () => {
    const d = await data(
      `{ orders(first: 250, filter: { channel: EDI }) { nodes { number channel } } }`,
    );
    assert.deepEqual(
      d.orders.nodes.map((n: Json) => n.number),
      world.orders.filter((o) => o.channel === 'EDI').map((o) => o.number),
    );
    const c = world.orders[0]?.customerNumber ?? '';
    const byCustomer = await data(
      `query($c: ID) { orders(first: 250, filter: { customerId: $c }) { nodes { number customer { number } } } }`,
      { c },
    );
    const theirs = world.orders.filter((o) => o.customerNumber === c);
    assert.ok(
      theirs.length > 0 && theirs.length < world.orders.length,
      'a customer of some orders',
    );
    assert.deepEqual(
      byCustomer.orders.nodes.map((n: Json) => [n.number, n.customer.number]),
      theirs.map((o) => [o.number, c]),
    );
  });

  it('reads a shipment and an invoice by ID, and every type through node()', async () => {
    const o = world.orders.find((x) => x.stage === 'INVOICED');
    assert.ok(o);
    const d = await data(
      `query($id: ID!) { order(id: $id) { id shipments { id } invoices { id number } customer { id } lines { product { id } } } }`,
      { id: o.number },
    );
    const shipmentId = d.order.shipments[0].id;
    const invoiceId = d.order.invoices[0].id;
    const shipment = await data(
      `query($id: ID!) { shipment(id: $id) { status order { number } } }`,
      { id: shipmentId },
    );
    assert.equal(shipment.shipment.order.number, o.number);
    const invoice = await data(
      `query($id: ID!) { invoice(id: $id) { number status total { amount currencyCode } amountDue { amount } customer { number } } }`,
      { id: invoiceId },
    );
    assert.equal(invoice.invoice.number, o.invoiceNumber);
    assert.equal(invoice.invoice.customer.number, o.customerNumber);
    const warehouses = await data(`{ warehouses { id } }`);
    const ids: [string, string][] = [
      ['Order', d.order.id],
      ['Shipment', shipmentId],
      ['Invoice', invoiceId],
      ['Customer', d.order.customer.id],
      ['Product', d.order.lines[0].product.id],
      ['Warehouse', warehouses.warehouses[0].id],
    ];
    for (const [type, id] of ids) {
      const n = await data(`query($id: ID!) { node(id: $id) { __typename id } }`, { id });
      assert.deepEqual(n.node, { __typename: type, id });
    }
  });
});

describe('Source health and access', () => {
  it('reports every source with its breaker state', async () => {
    // A query that calls every system, so each has requests in its window whatever ran before.
    await data(
      `query($sku: String!) { product(sku: $sku) { name listPrice { amount } inventory { onHand } } }`,
      { sku: product(1).sku },
    );
    const d = await data(
      `{ sourceHealth { name kind state requests failures errorRate latencyMs { p50 p95 p99 } windowSeconds } }`,
    );
    assert.deepEqual(
      d.sourceHealth.map((h: Json) => [h.name, h.kind, h.state]),
      [
        ['erp', 'ERP', 'CLOSED'],
        ['commerce', 'COMMERCE', 'CLOSED'],
        ['wms', 'WMS', 'CLOSED'],
        ['tpl', 'WMS', 'CLOSED'],
      ],
    );
    for (const h of d.sourceHealth) {
      assert.ok(h.requests > 0, `${h.name} has requests`);
      assert.equal(typeof h.latencyMs.p50, 'number', `${h.name} latency`);
      // No test of this file makes a system fail.
      assert.equal(h.failures, 0, `${h.name} failures`);
    }
  });

  it('scopes partner keys to their channel', async () => {
    const mine = world.orders.find((o) => o.channel === 'MARKETPLACE_A');
    const other = world.orders.find((o) => o.channel === 'WEB');
    assert.ok(mine && other);
    const d = await data(
      `{ orders(first: 250) { nodes { number channel } } }`,
      undefined,
      'demo-partner-a',
    );
    // Exactly the channel's orders: none of another channel, none left out.
    assert.ok(world.orders.length <= 250, 'one page holds every order');
    assert.deepEqual(
      d.orders.nodes.map((n: Json) => [n.number, n.channel]),
      world.orders.filter((o) => o.channel === 'MARKETPLACE_A').map((o) => [o.number, o.channel]),
    );
    const visible = await data(
      `query($id: ID!) { order(id: $id) { number } }`,
      { id: mine.number },
      'demo-partner-a',
    );
    assert.equal(visible.order.number, mine.number);
    const hidden = await stack.gql(
      `query($id: ID!) { order(id: $id) { number } }`,
      { id: other.number },
      { key: 'demo-partner-a' },
    );
    assert.equal(hidden.body.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    const customers = await stack.gql(`{ customers { nodes { number } } }`, undefined, {
      key: 'demo-partner-a',
    });
    assert.equal(customers.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal(
      customers.body.errors?.[0]?.message,
      'Query.customers is not allowed for role partner',
    );
  });

  it('echoes the correlation ID in the header and the extensions', async () => {
    const res = await stack.gql(`{ warehouses { code } }`, undefined, {
      headers: { 'x-correlation-id': 'test-correlation-0001' },
    });
    assert.equal(res.headers.get('x-correlation-id'), 'test-correlation-0001');
    assert.equal(res.body.extensions?.correlationId, 'test-correlation-0001');
  });
});

/**
 * The ERP connector against the sandbox ERP (catalogue of 300): every contract method, batch
 * order and length, requests per batch (from the sandbox's own counters), token reuse and
 * re-authentication, and how each injected fault surfaces as a SourceError.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import express from 'express';
import {
  SourceError,
  type ErpConnector,
  type InvoiceRecord,
  type OrderRecord,
} from '../sources/contract.js';
import { createErpConnector, type ErpConnectorOptions } from '../sources/erp/index.js';
import { ERP_SANDBOX } from '../sandbox/credentials.js';
import { createErpApp } from '../sandbox/erp.js';
import { listen, type RunningSystem } from '../sandbox/faults.js';
import {
  PRICE_GROUPS,
  buildWorld,
  centsToDecimal,
  stableGuid,
  type SeedOrder,
} from '../sandbox/seed.js';
import { customerOf, productOf, usd } from './support/world.js';

const world = buildWorld({ catalogSize: 300 });
const C = ERP_SANDBOX;
const TOKEN_ROUTE = `POST /${C.tenant}/oauth2/v2.0/token`;
let clock = Date.now();
let erp: RunningSystem;
const closeWaiters: (() => void)[] = [];
const connectors: ErpConnector[] = [];
let shared: ErpConnector;

/** Resolves when the sandbox next closes a response (after its own `aborted` bookkeeping). */
const nextResponseClose = (): Promise<void> => new Promise((resolve) => closeWaiters.push(resolve));

function connect(overrides: Partial<ErpConnectorOptions> = {}): ErpConnector {
  const connector = createErpConnector({
    baseUrl: erp.url,
    tenant: C.tenant,
    environment: C.environment,
    companyId: C.companyId,
    clientId: C.clientId,
    clientSecret: C.clientSecret,
    scope: C.scope,
    ...overrides,
  });
  connectors.push(connector);
  return connector;
}

/** Requests the sandbox saw whose route ends with `/<set>` (token calls excluded). */
function requestsTo(set: string): number {
  let n = 0;
  for (const [route, count] of Object.entries(erp.control.stats().byRoute)) {
    if (route.endsWith(`/${set}`)) n += count;
  }
  return n;
}

async function rejection(promise: Promise<unknown>): Promise<SourceError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SourceError, `expected a SourceError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

before(async () => {
  const made = createErpApp(world, { now: () => clock });
  // An outer app whose close listener runs before the sandbox's, so a test can await the
  // moment a response closes instead of sleeping.
  const outer = express();
  outer.use((_req, res, next) => {
    res.on('close', () => {
      for (const resolve of closeWaiters.splice(0)) resolve();
    });
    next();
  });
  outer.use(made.app);
  erp = await listen('erp', outer, made.control, 0);
  shared = connect();
});

beforeEach(() => {
  erp.control.setFaults({ latencyMs: 0, errorRate: 0, down: false, malformed: false });
  erp.control.resetStats();
});

after(async () => {
  await Promise.all(connectors.map((c) => c.close()));
  await erp.close();
});

const product = (sku: string) => productOf(world, sku);

describe('catalog', () => {
  it('answers itemsBySku in key order with null for unknown keys, in one request', async () => {
    const keys = ['SKU-000003', 'NOPE', 'SKU-000001', 'SKU-000003'];
    const items = await shared.itemsBySku(keys);
    assert.equal(items.length, 4);
    assert.equal(items[1], null);
    assert.deepEqual(items[0], items[3]);
    const p = product('SKU-000003');
    assert.deepEqual(items[0], {
      sku: 'SKU-000003',
      erpId: stableGuid('item:SKU-000003'),
      displayName: p.name,
      category: p.category,
      gtin: p.gtin,
      baseUnitOfMeasure: p.unitOfMeasure,
      listPrice: usd(p.priceCents),
      blocked: false,
      lastModified: items[0]?.lastModified,
    });
    assert.equal(items[2]?.listPrice.amount, centsToDecimal(product('SKU-000001').priceCents));
    assert.equal(requestsTo('items'), 1);
  });

  it('looks 250 SKUs up in one request and 251 in two', async () => {
    const skus = world.products.slice(0, 251).map((p) => p.sku);
    const first = await shared.itemsBySku(skus.slice(0, 250));
    assert.deepEqual(
      first.map((i) => i?.sku),
      skus.slice(0, 250),
    );
    assert.equal(requestsTo('items'), 1);
    const second = await shared.itemsBySku([...skus].reverse());
    assert.deepEqual(
      second.map((i) => i?.sku),
      [...skus].reverse(),
    );
    assert.equal(requestsTo('items'), 3);
    assert.deepEqual(await shared.itemsBySku([]), []);
    assert.equal(requestsTo('items'), 3);
  });

  it('lists items by keyset, one request per page, leaving blocked items out', async () => {
    const seen: string[] = [];
    let afterSku: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await shared.listItems({ first: 50, after: afterSku });
      pages++;
      seen.push(...page.items.map((i) => i.sku));
      if (!page.hasNextPage) break;
      afterSku = page.items.at(-1)?.sku;
    }
    assert.deepEqual(
      seen,
      world.products.filter((p) => !p.blocked).map((p) => p.sku),
    );
    assert.equal(pages, 6);
    assert.equal(requestsTo('items'), 6);
  });

  it('filters the listing by category, search and includeBlocked', async () => {
    const tools = await shared.listItems(
      { first: 500 },
      { category: 'Tools', search: 'SET', includeBlocked: true },
    );
    assert.deepEqual(
      tools.items.map((i) => i.sku),
      world.products
        .filter((p) => p.category === 'Tools' && p.name.toLowerCase().includes('set'))
        .map((p) => p.sku),
    );
    const all = await shared.listItems({ first: 300 }, { includeBlocked: true });
    assert.equal(all.items.length, 300);
    assert.equal(all.hasNextPage, false);
    // A page asked for in one piece comes back in one response: maxpagesize is raised to first+1.
    assert.equal(requestsTo('items'), 2);
    const quoted = await shared.listItems({ first: 5 }, { search: "it's" });
    assert.deepEqual(quoted.items, []);
  });
});

describe('pricing', () => {
  it('prices SKUs for a customer in key order, in one request', async () => {
    const customer = customerOf(world, 'C10001');
    const discount = PRICE_GROUPS[customer.priceGroup] ?? 0;
    const prices = await shared.customerPrices('C10001', ['SKU-000002', 'NOPE', 'SKU-000001']);
    assert.deepEqual(
      prices,
      ['SKU-000002', null, 'SKU-000001'].map((sku) =>
        sku === null
          ? null
          : {
              sku,
              customerNumber: 'C10001',
              priceGroup: customer.priceGroup,
              unitPrice: usd(Math.round((product(sku).priceCents * (100 - discount)) / 100)),
              discountPercent: discount,
            },
      ),
    );
    assert.equal(requestsTo('customerPrices'), 1);
    assert.deepEqual(await shared.customerPrices("O'Brien", ['SKU-000001']), [null]);
  });
});

describe('customers', () => {
  it('answers customersByNumber with price groups merged, two requests per batch', async () => {
    const found = await shared.customersByNumber([
      'C10017',
      'C99999',
      'C10029',
      'C10017',
      "O'Brien",
    ]);
    assert.equal(found.length, 5);
    assert.equal(found[1], null);
    assert.equal(found[4], null);
    const c = customerOf(world, 'C10017');
    assert.deepEqual(found[0], {
      number: 'C10017',
      erpId: stableGuid('customer:C10017'),
      name: c.name,
      type: c.type === 'Company' ? 'COMPANY' : 'PERSON',
      email: c.email,
      phone: c.phone,
      address: {
        name: c.name,
        line1: c.address.line1,
        line2: null,
        city: c.address.city,
        region: c.address.state,
        postalCode: c.address.postalCode,
        countryCode: 'US',
      },
      currencyCode: 'USD',
      paymentTermsCode: c.paymentTerms,
      creditLimit: usd(c.creditLimitCents),
      balanceDue: usd(c.balanceDueCents),
      blocked: 'SHIP',
      priceGroup: c.priceGroup,
      lastModified: found[0]?.lastModified,
    });
    assert.equal(found[2]?.blocked, 'ALL');
    assert.equal(requestsTo('customers'), 1);
    assert.equal(requestsTo('customerPriceGroups'), 1);
  });

  it('lists customers by keyset and filters on blocked and search', async () => {
    const numbers: string[] = [];
    let afterNumber: string | undefined;
    for (;;) {
      const page = await shared.listCustomers({ first: 25, after: afterNumber });
      numbers.push(...page.items.map((c) => c.number));
      assert.ok(page.items.every((c) => c.priceGroup === customerOf(world, c.number).priceGroup));
      if (!page.hasNextPage) break;
      afterNumber = page.items.at(-1)?.number;
    }
    assert.deepEqual(
      numbers,
      world.customers.map((c) => c.number),
    );
    assert.equal(requestsTo('customers'), 3);
    assert.equal(requestsTo('customerPriceGroups'), 3);

    erp.control.resetStats();
    const onHold = await shared.listCustomers({ first: 100 }, { blocked: 'SHIP' });
    assert.deepEqual(
      onHold.items.map((c) => c.number),
      world.customers.filter((c) => c.blocked === 'Ship').map((c) => c.number),
    );
    const word = customerOf(world, 'C10002').name.split(' ')[0] ?? '';
    const search = await shared.listCustomers({ first: 100 }, { search: word.toLowerCase() });
    assert.deepEqual(
      search.items.map((c) => c.number),
      world.customers
        .filter((c) => c.name.toLowerCase().includes(word.toLowerCase()))
        .map((c) => c.number),
    );
    // Each filtered page: one customers request and one for their price groups.
    assert.equal(requestsTo('customers'), 2);
    assert.equal(requestsTo('customerPriceGroups'), 2);
  });
});

describe('orders', () => {
  const expectedOrder = (order: SeedOrder): Omit<OrderRecord, 'lastModified' | 'shipTo'> => {
    const totalCents = order.lines.reduce((sum, l) => sum + l.unitPriceCents * l.quantity, 0);
    return {
      number: order.number,
      erpId: stableGuid(`salesOrder:${order.number}`),
      channel: order.channel,
      customerNumber: order.customerNumber,
      externalReference: order.externalReference,
      orderDate: order.orderDate.slice(0, 10),
      erpStatus: order.stage === 'OPEN' ? 'DRAFT' : 'OPEN',
      fullyShipped: order.lines.every((l) => l.shippedQuantity === l.quantity),
      currencyCode: 'USD',
      totalExcludingTax: usd(totalCents),
      totalIncludingTax: usd(totalCents),
      lines: order.lines.map((l) => ({
        sequence: l.sequence,
        sku: l.sku,
        description: product(l.sku).name,
        quantity: l.quantity,
        unitPrice: usd(l.unitPriceCents),
        lineAmount: usd(l.unitPriceCents * l.quantity),
        shippedQuantity: l.shippedQuantity,
        invoicedQuantity: l.invoicedQuantity,
      })),
    };
  };
  const strip = (order: OrderRecord | null | undefined) => {
    assert.ok(order);
    const { lastModified: _lastModified, shipTo: _shipTo, ...rest } = order;
    return rest;
  };

  it('answers ordersByNumber with lines in one request', async () => {
    const draft = world.orders.find((o) => o.stage === 'OPEN');
    const invoiced = world.orders.find(
      (o) => o.stage === 'INVOICED' && o.externalReference !== null,
    );
    assert.ok(draft && invoiced);
    const found = await shared.ordersByNumber([invoiced.number, 'SO-999999', draft.number]);
    assert.equal(found.length, 3);
    assert.deepEqual(strip(found[0]), expectedOrder(invoiced));
    assert.equal(found[1], null);
    assert.deepEqual(strip(found[2]), expectedOrder(draft));
    const customer = customerOf(world, draft.customerNumber);
    assert.deepEqual(found[2]?.shipTo, {
      name: customer.name,
      line1: customer.address.line1,
      line2: null,
      city: customer.address.city,
      region: customer.address.state,
      postalCode: customer.address.postalCode,
      countryCode: 'US',
    });
    assert.equal(requestsTo('salesOrders'), 1);
  });

  it('lists orders by channel, channels and customer, one request per page', async () => {
    const edi = world.orders.filter((o) => o.channel === 'EDI');
    const numbers: string[] = [];
    let afterNumber: string | undefined;
    for (;;) {
      const page = await shared.listOrders({ first: 8, after: afterNumber }, { channel: 'EDI' });
      numbers.push(...page.items.map((o) => o.number));
      if (!page.hasNextPage) break;
      afterNumber = page.items.at(-1)?.number;
    }
    assert.deepEqual(
      numbers,
      edi.map((o) => o.number),
    );
    assert.equal(requestsTo('salesOrders'), Math.ceil((edi.length + 1) / 8));

    erp.control.resetStats();
    const two = await shared.listOrders({ first: 500 }, { channels: ['WEB', 'MARKETPLACE_A'] });
    assert.deepEqual(
      two.items.map((o) => o.number),
      world.orders
        .filter((o) => o.channel === 'WEB' || o.channel === 'MARKETPLACE_A')
        .map((o) => o.number),
    );
    const first = world.orders[0];
    assert.ok(first);
    const mine = await shared.listOrders(
      { first: 500 },
      { customerNumber: first.customerNumber, channels: ['WEB', first.channel] },
    );
    assert.deepEqual(
      mine.items.map((o) => o.number),
      world.orders
        .filter(
          (o) =>
            o.customerNumber === first.customerNumber &&
            (o.channel === 'WEB' || o.channel === first.channel),
        )
        .map((o) => o.number),
    );
    // Each filtered listing asked for in one piece is one request.
    assert.equal(requestsTo('salesOrders'), 2);
    const before = requestsTo('salesOrders');
    assert.deepEqual(await shared.listOrders({ first: 5 }, { channel: 'EDI', channels: ['WEB'] }), {
      items: [],
      hasNextPage: false,
    });
    assert.equal(requestsTo('salesOrders'), before);
  });

  it('lists orders by external document number, exactly, the filter applied by the ERP', async () => {
    const edi = world.orders.find((o) => o.channel === 'EDI' && o.externalReference !== null);
    assert.ok(edi?.externalReference);
    erp.control.resetStats();
    const found = await shared.listOrders(
      { first: 5 },
      { externalReference: edi.externalReference, channel: 'EDI' },
    );
    assert.deepEqual(
      found.items.map((o) => [o.number, o.externalReference]),
      [[edi.number, edi.externalReference]],
    );
    assert.equal(found.hasNextPage, false);
    assert.equal(requestsTo('salesOrders'), 1);
    // Exact: a prefix, another case, or another channel's orders hold none; a value with quotes
    // is a literal (quotes doubled), never more filter.
    for (const [reference, channel] of [
      [edi.externalReference.slice(0, -1), 'EDI'],
      [edi.externalReference.toLowerCase(), 'EDI'],
      [edi.externalReference, 'WEB'],
      [`${edi.externalReference}' or number gt '`, 'EDI'],
    ] as const) {
      assert.deepEqual(
        await shared.listOrders({ first: 5 }, { externalReference: reference, channel }),
        { items: [], hasNextPage: false },
        reference,
      );
    }
  });
});

describe('invoices', () => {
  const invoiced = world.orders.filter((o) => o.invoiceNumber !== null);
  const expectedInvoice = (
    order: SeedOrder,
    index: number,
  ): Omit<InvoiceRecord, 'invoiceDate' | 'dueDate'> => {
    const totalCents = order.lines.reduce((sum, l) => sum + l.unitPriceCents * l.quantity, 0);
    const paid = (index + 1) % 3 === 0;
    return {
      number: order.invoiceNumber ?? '',
      erpId: stableGuid(`salesInvoice:${order.invoiceNumber ?? ''}`),
      orderNumber: order.number,
      customerNumber: order.customerNumber,
      status: paid ? 'PAID' : 'OPEN',
      total: usd(totalCents),
      remaining: usd(paid ? 0 : totalCents),
    };
  };

  it('answers invoicesByNumber in key order, every third one paid, in one request', async () => {
    const keys = [invoiced[2]?.invoiceNumber ?? '', 'PSI-0', invoiced[0]?.invoiceNumber ?? ''];
    const found = await shared.invoicesByNumber(keys);
    assert.equal(found.length, 3);
    const { invoiceDate, dueDate, ...rest } = found[0] ?? assert.fail('missing invoice');
    assert.deepEqual(rest, expectedInvoice(invoiced[2] ?? assert.fail(), 2));
    assert.equal(invoiceDate, invoiced[2]?.shippedAt?.slice(0, 10));
    assert.match(dueDate, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(found[1], null);
    assert.equal(found[2]?.status, 'OPEN');
    assert.equal(requestsTo('salesInvoices'), 1);
  });

  it('groups invoicesByOrder per order, empty for orders without one, in one request', async () => {
    const open = world.orders.find((o) => o.invoiceNumber === null);
    const a = invoiced[5];
    const b = invoiced[1];
    assert.ok(open && a && b);
    const found = await shared.invoicesByOrder([a.number, open.number, b.number]);
    assert.deepEqual(
      found.map((list) => list.map((i) => i.number)),
      [[a.invoiceNumber], [], [b.invoiceNumber]],
    );
    assert.equal(found[0]?.[0]?.status, 'PAID');
    assert.equal(requestsTo('salesInvoices'), 1);
  });
});

describe('auth', () => {
  it('fetches one token for many requests', async () => {
    const connector = connect();
    await Promise.all([
      connector.itemsBySku(['SKU-000001']),
      connector.customersByNumber(['C10001']),
    ]);
    await connector.invoicesByNumber(['PSI-0']);
    await connector.listItems({ first: 2 });
    assert.equal(erp.control.stats().byRoute[TOKEN_ROUTE], 1);
    assert.equal(erp.control.stats().requests, 6);
  });

  it('re-authenticates once when the sandbox rejects an expired token', async () => {
    const connector = connect();
    await connector.itemsBySku(['SKU-000001']);
    clock += 3601 * 1000;
    try {
      const [item] = await connector.itemsBySku(['SKU-000002']);
      assert.equal(item?.sku, 'SKU-000002');
      assert.equal(erp.control.stats().byRoute[TOKEN_ROUTE], 2);
      assert.equal(requestsTo('items'), 3);
      await connector.itemsBySku(['SKU-000003']);
      assert.equal(erp.control.stats().byRoute[TOKEN_ROUTE], 2);
    } finally {
      // The shared connector's token stays valid for the tests after this one.
      clock -= 3601 * 1000;
    }
  });

  it('names a refused client secret as SOURCE_REJECTED', async () => {
    const error = await rejection(connect({ clientSecret: 'wrong' }).itemsBySku(['SKU-000001']));
    assert.equal(error.code, 'SOURCE_REJECTED');
    assert.equal(error.source, 'erp');
    assert.equal(error.reason, 'auth_failed');
    assert.equal(
      error.message,
      'erp: token answered HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided.',
    );
  });

  it('validates options at construction', () => {
    assert.throws(() => connect({ companyId: 'CRONUS' }), {
      message: 'erp connector: companyId: expected a GUID, got "CRONUS"',
    });
    assert.throws(() => connect({ pageSize: 0 }), {
      message: 'erp connector: pageSize: expected an integer from 1 to 20000, got 0',
    });
  });
});

describe('faults', () => {
  it('turns an injected 503 into SOURCE_UNAVAILABLE', async () => {
    const connector = connect();
    await connector.itemsBySku(['SKU-000001']);
    erp.control.setFaults({ errorRate: 1 });
    const error = await rejection(connector.itemsBySku(['SKU-000001']));
    assert.equal(error.code, 'SOURCE_UNAVAILABLE');
    assert.equal(error.source, 'erp');
    assert.equal(error.reason, 'http_503');
    assert.equal(error.status, 503);
    assert.equal(error.message, 'erp: items answered HTTP 503');
  });

  it('turns a system that is down into SOURCE_UNAVAILABLE', async () => {
    const connector = connect();
    await connector.itemsBySku(['SKU-000001']);
    erp.control.setFaults({ down: true });
    const error = await rejection(connector.listItems({ first: 1 }));
    assert.equal(error.code, 'SOURCE_UNAVAILABLE');
    assert.equal(error.source, 'erp');
    assert.equal(error.reason, 'connection_error');
  });

  it('turns a malformed answer into SOURCE_BAD_RESPONSE', async () => {
    const connector = connect();
    await connector.itemsBySku(['SKU-000001']);
    erp.control.setFaults({ malformed: true });
    const error = await rejection(connector.itemsBySku(['SKU-000001']));
    assert.equal(error.code, 'SOURCE_BAD_RESPONSE');
    assert.equal(error.source, 'erp');
    assert.equal(error.reason, 'schema_mismatch');
    assert.equal(
      error.message,
      'erp: malformed items response at value: Invalid input: expected array, received string',
    );
  });

  it('times out a slow answer, and the sandbox sees the request aborted', async () => {
    const connector = connect({ timeoutMs: 50 });
    await connector.itemsBySku(['SKU-000001']);
    erp.control.resetStats();
    erp.control.setFaults({ latencyMs: 1_000 });
    const closed = nextResponseClose();
    const error = await rejection(connector.itemsBySku(['SKU-000001']));
    assert.equal(error.code, 'SOURCE_TIMEOUT');
    assert.equal(error.source, 'erp');
    assert.equal(error.message, 'erp: items timed out after 50 ms');
    await closed;
    assert.equal(erp.control.stats().aborted, 1);
  });

  it('reports health of the upstream and closes idempotently', async () => {
    const connector = connect();
    await connector.itemsBySku(['SKU-000001']);
    const health = connector.health();
    assert.equal(health.name, 'erp');
    assert.equal(health.kind, 'erp');
    assert.equal(health.state, 'CLOSED');
    assert.equal(health.baseUrl, `${erp.url}/v2.0/${C.tenant}/${C.environment}/api/`);
    // The token and the items, through one breaker (the sandbox serves both from one origin).
    assert.equal(health.requests, 2);
    assert.equal(erp.control.stats().requests, 2);
    await connector.close();
    await connector.close();
  });
});

describe('server-driven paging', () => {
  it('follows @odata.nextLink when the ERP caps pages below what was asked', async () => {
    const made = createErpApp(world, { maxPageSize: 7 });
    const capped = await listen('erp-capped', made.app, made.control, 0);
    try {
      const connector = connect({ baseUrl: capped.url });
      const page = await connector.listItems({ first: 20 }, { includeBlocked: true });
      assert.deepEqual(
        page.items.map((i) => i.sku),
        world.products.slice(0, 20).map((p) => p.sku),
      );
      assert.equal(page.hasNextPage, true);
      // 21 rows (first + 1) in pages of 7: three item requests, plus the token.
      const itemRequests = Object.entries(made.control.stats().byRoute)
        .filter(([route]) => route.endsWith('/items'))
        .reduce((n, [, count]) => n + count, 0);
      assert.equal(itemRequests, 3);
    } finally {
      await capped.close();
    }
  });
});

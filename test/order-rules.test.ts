/**
 * The rules that have one home each (issue #11): identifiers (sources/identifiers.ts), the order
 * status (workflows/status.ts), the typed order data (workflows/model.ts), the timeline and the
 * product listing read models (workflows/timeline.ts, workflows/catalogue.ts). Case by case,
 * without servers: the graph-level tests prove the same behaviour end to end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  SourceError,
  type OrderRecord,
  type Page,
  type PageRequest,
  type ShipmentRecord,
} from '../sources/contract.js';
import {
  CUSTOMER_NUMBER,
  CUSTOMER_NUMBER_ARGUMENT,
  ORDER_NUMBER,
  SKU,
  deadLetterIdFor,
  orderIdFor,
  orderIdOfReservation,
  orderIdWithin,
  reservationReference,
  returnReferenceFor,
} from '../sources/identifiers.js';
import type { StoredOrder } from '../store/contract.js';
import { listProducts, type CatalogueSources } from '../workflows/catalogue.js';
import { orderDataOf, storedDataOf, type OrderData } from '../workflows/model.js';
import {
  nextStatusToward,
  orderStatus,
  reportedStatus,
  type OrderStatus,
} from '../workflows/status.js';
import { systemsTimeline } from '../workflows/timeline.js';

const usd = (amount: string) => ({ amount, currencyCode: 'USD' });

/** An ERP order of one line of 10, `shipped` and `invoiced` of them. */
function erpOrder(erpStatus: OrderRecord['erpStatus'], shipped = 0, invoiced = 0): OrderRecord {
  return {
    number: 'SO-1001',
    erpId: 'e-1',
    channel: 'WEB',
    customerNumber: 'C10001',
    externalReference: null,
    orderDate: '2024-05-01T00:00:00.000Z',
    erpStatus,
    fullyShipped: false,
    shipTo: {
      name: null,
      line1: '1 Main St',
      line2: null,
      city: 'Springfield',
      region: null,
      postalCode: '12345',
      countryCode: 'US',
    },
    currencyCode: 'USD',
    totalExcludingTax: usd('100'),
    totalIncludingTax: usd('100'),
    lines: [
      {
        sequence: 10_000,
        sku: 'A',
        description: 'A',
        quantity: 10,
        unitPrice: usd('10'),
        lineAmount: usd('100'),
        shippedQuantity: shipped,
        invoicedQuantity: invoiced,
      },
    ],
    lastModified: '2024-05-01T00:00:00.000Z',
  };
}

function shipment(status: ShipmentRecord['status'], shippedAt: string | null = null) {
  return {
    id: 'wms:1',
    source: 'wms',
    orderNumber: 'SO-1001',
    warehouseCode: 'EAST',
    status,
    carrier: 'UPS',
    trackingNumber: '1Z',
    shippedAt,
    lines: [],
  } satisfies ShipmentRecord;
}

describe('identifiers', () => {
  it('keys customer scopes at the ERP length (20) and arguments at 32, as before', () => {
    const number = (n: number) => `C${'1'.repeat(n - 1)}`;
    assert.equal(CUSTOMER_NUMBER.test(number(20)), true);
    assert.equal(CUSTOMER_NUMBER.test(number(21)), false);
    assert.equal(CUSTOMER_NUMBER_ARGUMENT.test(number(32)), true);
    assert.equal(CUSTOMER_NUMBER_ARGUMENT.test(number(33)), false);
    assert.equal(ORDER_NUMBER.test(orderIdFor('key:a', 'k1')), true);
    for (const bad of ['', '-C1', 'C 1', "C1'", 'C1;']) {
      assert.equal(CUSTOMER_NUMBER.test(bad), false, bad);
      assert.equal(CUSTOMER_NUMBER_ARGUMENT.test(bad), false, bad);
    }
  });

  it('accepts SKUs of 1 to 64 printable characters without spaces', () => {
    assert.equal(SKU.test('A'), true);
    assert.equal(SKU.test('x'.repeat(64)), true);
    assert.equal(SKU.test('x'.repeat(65)), false);
    assert.equal(SKU.test(''), false);
    assert.equal(SKU.test('A B'), false);
    assert.equal(SKU.test('A\u00e9'), false);
  });

  it('mints deterministic order ids, return references and dead-letter ids', () => {
    const id = orderIdFor('key:a', 'k1');
    assert.match(id, /^XD-[0-9A-F]{16}$/);
    assert.equal(orderIdFor('key:a', 'k1'), id);
    assert.notEqual(orderIdFor('key:b', 'k1'), id);
    const rma = returnReferenceFor('key:a', 'k1');
    assert.equal(rma, `RMA-${orderIdFor('key:a', 'k1', 'createReturn').slice(3)}`);
    assert.equal(deadLetterIdFor(id, 'post:erp'), `DL-${id}-post-erp`);
    assert.equal(reservationReference(id, 'EAST', 2), `${id}-EAST-2`);
  });

  it('reads reservation references strictly for ingestion and laxly for the graph', () => {
    const id = 'XD-0123456789ABCDEF';
    const cases: [reference: string, strict: string | null, lax: string | null][] = [
      [`${id}-EAST-1`, id, id],
      [`${id}-3PL-SOUTH-12`, id, id],
      [id, null, id],
      [`${id}-EAST`, null, id],
      ['SO-1001', null, null],
      ['XD-0123456789abcdef-EAST-1', null, null],
    ];
    for (const [reference, strict, lax] of cases) {
      assert.equal(orderIdOfReservation(reference), strict, reference);
      assert.equal(orderIdWithin(reference), lax, reference);
    }
  });
});

describe('order status', () => {
  const known = (status: OrderStatus) => ({ kind: 'known', status });

  it("keeps Crossdock's status unless the systems may be further along", () => {
    const order = erpOrder('OPEN', 10, 10);
    assert.deepEqual(orderStatus({ own: 'CANCELLED', order, inErp: true }), known('CANCELLED'));
    assert.deepEqual(
      orderStatus({ own: 'PENDING_ERP', order, inErp: false }),
      known('PENDING_ERP'),
    );
    assert.deepEqual(orderStatus({ own: 'ACCEPTED', order, inErp: true }), known('INVOICED'));
    assert.deepEqual(orderStatus({ own: 'ACCEPTED', order, inErp: false }), known('ACCEPTED'));
    assert.deepEqual(orderStatus({ own: null, order, inErp: true }), known('INVOICED'));
    assert.throws(
      () => orderStatus({ own: 'LOST', order, inErp: false }),
      new Error('order SO-1001 has unknown status LOST'),
    );
  });

  it('asks the warehouses only about an open ERP order with nothing shipped', () => {
    assert.deepEqual(orderStatus({ own: null, order: erpOrder('OPEN', 4), inErp: true }), {
      kind: 'known',
      status: 'PARTIALLY_SHIPPED',
    });
    assert.deepEqual(orderStatus({ own: null, order: erpOrder('DRAFT'), inErp: true }), {
      kind: 'known',
      status: 'RECEIVED',
    });
    const answer = orderStatus({ own: 'ACCEPTED', order: erpOrder('OPEN'), inErp: true });
    assert.equal(answer.kind, 'needs-shipments');
    if (answer.kind !== 'needs-shipments') return;
    assert.equal(answer.decide([]), 'ACCEPTED');
    assert.equal(answer.decide([shipment('CANCELLED')]), 'ACCEPTED');
    assert.equal(answer.decide([shipment('PICKING')]), 'RELEASED_TO_WAREHOUSE');
  });

  it('moves towards what the reports justify, one allowed hop at a time', () => {
    assert.equal(nextStatusToward('ACCEPTED', 'INVOICED'), 'SHIPPED');
    assert.equal(nextStatusToward('SHIPPED', 'INVOICED'), 'INVOICED');
    assert.equal(nextStatusToward('INVOICED', 'SHIPPED'), null);
    assert.equal(nextStatusToward('SHIPPED', 'SHIPPED'), null);
    const allocations = [
      { reference: 'R-1', released: false },
      { reference: 'R-2', released: false },
    ];
    assert.equal(reportedStatus(undefined, allocations), null);
    assert.equal(
      reportedStatus({ shipments: { 'R-1': 'DELIVERED' }, invoices: [] }, allocations),
      'PARTIALLY_SHIPPED',
    );
    assert.equal(
      reportedStatus({ shipments: { 'R-1': 'SHIPPED', 'R-2': 'SHIPPED' }, invoices: [] }, []),
      'SHIPPED',
    );
    assert.equal(reportedStatus({ shipments: {}, invoices: ['INV-1'] }, allocations), 'INVOICED');
  });
});

describe('order data', () => {
  const data: OrderData = {
    origin: 'crossdock',
    channel: 'WEB',
    customerNumber: 'C10001',
    externalReference: null,
    shipTo: null,
    currencyCode: 'USD',
    lines: [],
    total: '0',
    attempt: 1,
    allocations: [],
    returns: [],
    cancelReason: null,
    request: null,
  };
  const stored = (json: Readonly<Record<string, unknown>>): StoredOrder => ({
    id: 'XD-1',
    channel: 'WEB',
    customerNumber: 'C10001',
    status: 'RECEIVED',
    erpNumber: null,
    data: json,
    version: 1,
    createdAt: 0,
    updatedAt: 0,
  });

  it('reads back what was written, and refuses a record the workflows did not write', () => {
    assert.deepEqual(orderDataOf(stored(storedDataOf(data))), data);
    assert.throws(
      () => orderDataOf(stored({})),
      new Error('order XD-1 has no workflow state: expected origin crossdock or erp, got nothing'),
    );
    assert.throws(
      () => orderDataOf(stored({ ...data, allocations: null })),
      new Error('order XD-1 has no workflow state: expected allocations of type array, got null'),
    );
  });
});

describe('timeline read model', () => {
  it('puts an invoice after its shipment on the same day and names each missing system', () => {
    const timeline = systemsTimeline({
      order: erpOrder('OPEN', 10, 10),
      erpSource: 'erp',
      shipments: [shipment('SHIPPED', '2024-05-02T15:00:00.000Z'), shipment('PICKING')],
      invoices: [
        {
          number: 'INV-1',
          erpId: 'i-1',
          orderNumber: 'SO-1001',
          customerNumber: 'C10001',
          status: 'OPEN',
          invoiceDate: '2024-05-02',
          dueDate: '2024-06-01',
          total: usd('100'),
          remaining: usd('100'),
        },
      ],
      gaps: [{ source: 'tpl', reason: 'tpl is down' }],
    });
    assert.deepEqual(
      timeline.entries.map((e) => [e.step, e.status, e.sincePreviousMs]),
      [
        ['ordered', 'ACCEPTED', null],
        ['shipped', 'SHIPPED', 1 * 86_400_000 + 15 * 3_600_000],
        // A date-only invoice date before the shipping time: no latency, not a negative one.
        ['invoiced', 'INVOICED', null],
      ],
    );
    assert.deepEqual(timeline.warnings, [
      {
        code: 'PARTIAL_TIMELINE',
        source: 'tpl',
        message: 'timeline of SO-1001 is missing entries: tpl is down',
      },
    ]);
  });
});

describe('product listing read model', () => {
  const failing = new SourceError('SOURCE_UNAVAILABLE', 'erp is down', {
    source: 'erp',
    breaker: 'OPEN',
    reason: 'breaker_open',
  });
  const sources = (erpFails: boolean): CatalogueSources => ({
    erp: {
      name: 'erp',
      listItems: async () => {
        if (erpFails) throw failing;
        return { items: [], hasNextPage: false };
      },
    },
    commerce: {
      name: 'commerce',
      listContent: async () => ({ items: [], hasNextPage: true }),
    },
  });
  const read = <R>(list: (request: PageRequest) => Promise<Page<R>>) => list({ first: 10 });

  it('serves an unfiltered page from commerce when the ERP fails, and says so', async () => {
    assert.deepEqual(await listProducts(sources(false), {}, read), {
      from: 'erp',
      page: { items: [], hasNextPage: false },
    });
    assert.deepEqual(await listProducts(sources(true), {}, read), {
      from: 'commerce',
      page: { items: [], hasNextPage: true },
      fallback: {
        code: 'SOURCE_FALLBACK',
        source: 'erp',
        message: 'products listed from commerce because erp is down',
      },
    });
  });

  it('fails a filtered listing, which only the ERP can answer', async () => {
    await assert.rejects(listProducts(sources(true), { search: 'bolt' }, read), failing);
    await assert.rejects(listProducts(sources(true), { includeBlocked: true }, read), failing);
  });
});

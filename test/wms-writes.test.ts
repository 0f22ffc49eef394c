/**
 * The WMS's write side, over real HTTP: the sandbox's order creation with per-line allocation,
 * the canceler and confirmer under If-Match (428/412/403), expected receipts; then the
 * connector's ReservationSource on top: one WMS order and one allocation however often a
 * reservation is sent (stock read back from `/inventory/stocksummaries`), release with its 412
 * retry, release after shipping, expected returns, and every failure as a SourceError.
 *
 * The sandbox sits behind an outer express app whose `intercept` can tamper with one request
 * (make an ETag stale): network trouble, not a test hook.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { WMS_SANDBOX } from '../sandbox/credentials.js';
import type { Faults } from '../sandbox/faults.js';
import { listen, type RunningSystem } from '../sandbox/faults.js';
import { buildWorld, type SeedStock } from '../sandbox/seed.js';
import { createWmsApp, ORDER_REL, RECEIVER_REL } from '../sandbox/wms.js';
import {
  SourceError,
  type ReservationRequest,
  type ReturnDraft,
  type WmsConnector,
} from '../sources/contract.js';
import { createWmsConnector, type WmsConnectorOptions } from '../sources/wms/index.js';

const world = buildWorld({ catalogSize: 300 });
const STAMP = '2026-11-27T10:00:00.1230000';
const CENTRAL = 2;

/** Tampers with the next requests it is given; `null` lets everything through. */
type Intercept = (req: Request, res: Response, next: NextFunction) => void;

interface Running {
  readonly system: RunningSystem;
  readonly token: string;
  intercept: Intercept | null;
}

interface Answer<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

interface Allocation {
  qty: number;
}
interface OrderItemRow {
  itemIdentifier: { sku: string };
  qty: number;
  readOnly: { orderItemId: number; fullyAllocated: boolean; allocations?: Allocation[] };
}
interface OrderRow {
  readOnly: { orderId: number; status: number; isClosed: boolean; fullyAllocated: boolean };
  referenceNum: string;
  shipTo: Record<string, string | null>;
  routingInfo: { trackingNumber: string | null };
  orderItems?: OrderItemRow[];
}
interface StockRow {
  onHand: number;
  available: number;
  allocated: number;
  onHold: number;
  orderedNotAllocated: number;
}

async function start(system: 'wms' | 'tpl'): Promise<Running> {
  const made = createWmsApp(world, { system, now: () => Date.parse('2026-11-27T10:00:00.123Z') });
  const running: { intercept: Intercept | null } = { intercept: null };
  const outer = express();
  outer.use((req, res, next) => {
    if (running.intercept) running.intercept(req, res, next);
    else next();
  });
  outer.use(made.app);
  const listening = await listen(system, outer, made.control, 0);
  const creds = WMS_SANDBOX[system];
  const res = await fetch(`${listening.url}/AuthServer/api/Token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ grant_type: 'client_credentials', user_login: creds.userLogin }),
  });
  const { access_token: token } = (await res.json()) as { access_token: string };
  return Object.assign(running, { system: listening, token });
}

async function http<T = Record<string, unknown>>(
  wms: Running,
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${wms.token}`,
    ...init.headers,
  };
  if (init.body !== undefined) headers['content-type'] = 'application/hal+json';
  const res = await fetch(new URL(path, wms.system.url), {
    method,
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as T };
}

/** The quantities of a SKU's stock row (its timestamp moves with every change, even a release). */
async function stockOf(wms: Running, sku: string, facilityId = CENTRAL): Promise<StockRow> {
  const res = await http<{ summaries: StockRow[] }>(
    wms,
    'GET',
    `/inventory/stocksummaries?rql=${encodeURIComponent(`itemIdentifier.sku==${sku};facilityId==${facilityId}`)}`,
  );
  const [row] = res.body.summaries;
  assert.ok(row, `no stock row of ${sku} at facility ${facilityId}`);
  const { onHand, available, allocated, onHold, orderedNotAllocated } = row;
  return { onHand, available, allocated, onHold, orderedNotAllocated };
}

async function ordersUnder(wms: Running, reference: string): Promise<OrderRow[]> {
  const res = await http<{ _embedded?: Record<string, OrderRow[]> }>(
    wms,
    'GET',
    `/orders?rql=${encodeURIComponent(`referenceNum==${reference}`)}&detail=All&itemdetail=All`,
  );
  return res.body._embedded?.[ORDER_REL] ?? [];
}

const orderBody = (reference: string, lines: readonly [string, number][]) => ({
  customerIdentifier: { id: 1 },
  facilityIdentifier: { id: CENTRAL },
  referenceNum: reference,
  shipTo: { companyName: 'Dock 4', address1: '10 Harbor Rd', city: 'Boston', zip: '02110' },
  orderItems: lines.map(([sku, qty]) => ({ itemIdentifier: { sku }, qty })),
});

/** SKUs stocked at CENTRAL with room to allocate, handed out once each so tests don't share. */
const pool = world.stock.filter(
  (s) => s.warehouse === 'CENTRAL' && s.onHand - s.allocated - s.onHold >= 20,
);
let nextSku = 0;
function freshStock(): SeedStock {
  const row = pool[nextSku++];
  assert.ok(row, 'the pool of CENTRAL SKUs ran out');
  return row;
}
const availableOf = (s: SeedStock): number => s.onHand - s.allocated - s.onHold;

const routes = (wms: Running): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [route, count] of Object.entries(wms.system.control.stats().byRoute)) {
    out[route.replace(/\/\d+(\/|$)/, '/{id}$1')] = count;
  }
  return out;
};

async function rejection(promise: Promise<unknown>): Promise<SourceError> {
  const outcome = await promise.then(
    () => assert.fail('expected a SourceError, but the call succeeded'),
    (error: unknown) => error,
  );
  assert.ok(outcome instanceof SourceError, `expected a SourceError, got ${String(outcome)}`);
  return outcome;
}

let wms: Running;
before(async () => {
  wms = await start('wms');
});
beforeEach(() => {
  wms.system.control.setFaults({ latencyMs: 0, errorRate: 0, down: false, malformed: false });
  wms.system.control.resetStats();
});
afterEach(() => {
  wms.intercept = null;
});
after(() => wms.system.close());

describe('sandbox WMS: orders allocate per line', () => {
  test('POST /orders allocates what is available and leaves a short line partly unallocated', async () => {
    const full = freshStock();
    const short = freshStock();
    const shortBy = 5;
    const created = await http<OrderRow>(wms, 'POST', '/orders', {
      body: orderBody('XD-RES-HTTP-1', [
        [full.sku, 4],
        [short.sku, availableOf(short) + shortBy],
      ]),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.headers.get('etag') ?? '', /^"\d+-\d+"$/);
    const order = created.body;
    assert.equal(order.readOnly.fullyAllocated, false);
    assert.deepEqual(order.shipTo, {
      companyName: 'Dock 4',
      name: null,
      address1: '10 Harbor Rd',
      address2: null,
      city: 'Boston',
      state: null,
      zip: '02110',
      country: null,
      phoneNumber: null,
      emailAddress: null,
    });
    assert.deepEqual(
      order.orderItems?.map((i) => [
        i.itemIdentifier.sku,
        i.qty,
        i.readOnly.fullyAllocated,
        i.readOnly.allocations?.map((a) => a.qty),
      ]),
      [
        [full.sku, 4, true, [4]],
        [short.sku, availableOf(short) + shortBy, false, [availableOf(short)]],
      ],
    );
    assert.deepEqual(await stockOf(wms, full.sku), {
      onHold: full.onHold,
      onHand: full.onHand,
      allocated: full.allocated + 4,
      available: availableOf(full) - 4,
      orderedNotAllocated: 0,
    });
    const shortRow = await stockOf(wms, short.sku);
    assert.deepEqual(
      [shortRow.onHand, shortRow.allocated, shortRow.available, shortRow.orderedNotAllocated],
      [short.onHand, short.allocated + availableOf(short), 0, shortBy],
    );
  });

  test('GET /orders?rql=referenceNum==… shows allocations with itemdetail=All only', async () => {
    const stock = freshStock();
    await http(wms, 'POST', '/orders', { body: orderBody('XD-RES-HTTP-2', [[stock.sku, 2]]) });
    const [withDetail] = await ordersUnder(wms, 'XD-RES-HTTP-2');
    assert.deepEqual(withDetail?.orderItems?.[0]?.readOnly.allocations, [
      { receiveItemId: CENTRAL * 1_000_000 + Number(stock.sku.slice(4)), qty: 2 },
    ]);
    const plain = await http<{ _embedded: Record<string, OrderRow[]> }>(
      wms,
      'GET',
      '/orders?rql=referenceNum==XD-RES-HTTP-2&detail=All',
    );
    const item = plain.body._embedded[ORDER_REL]?.[0]?.orderItems?.[0];
    assert.ok(item);
    assert.deepEqual(Object.keys(item.readOnly).sort(), ['fullyAllocated', 'orderItemId']);
  });
});

describe('sandbox WMS: canceler and confirmer', () => {
  const create = async (reference: string, lines: readonly [string, number][]) => {
    const created = await http<OrderRow>(wms, 'POST', '/orders', {
      body: orderBody(reference, lines),
    });
    assert.equal(created.status, 201);
    return { id: created.body.readOnly.orderId, etag: created.headers.get('etag') ?? '' };
  };
  const PRECONDITION =
    'Crossdock.Sandbox.Wms.Exceptions.PreconditionException, Crossdock.Sandbox.Wms';
  const OPERATION = 'Crossdock.Sandbox.Wms.Exceptions.OperationException, Crossdock.Sandbox.Wms';

  test('the canceler needs a current If-Match (428, 412) and a reason (400)', async () => {
    const stock = freshStock();
    const { id, etag } = await create('XD-CANCEL-HTTP-1', [[stock.sku, 3]]);
    const path = `/orders/${id}/canceler`;
    const missing = await http(wms, 'POST', path, { body: { reason: 'x' } });
    assert.equal(missing.status, 428);
    assert.deepEqual(missing.body, {
      $type: PRECONDITION,
      ErrorCode: 'PreconditionRequired',
      Hint: `expected an If-Match header with the ETag of order ${id}; got none`,
    });
    const stale = await http(wms, 'POST', path, {
      body: { reason: 'x' },
      headers: { 'if-match': `"${id}-0"` },
    });
    assert.equal(stale.status, 412);
    assert.deepEqual(stale.body, {
      $type: PRECONDITION,
      ErrorCode: 'PreconditionFailed',
      Hint: `If-Match "${id}-0" is not the current ETag ${etag} of order ${id}`,
    });
    const noReason = await http(wms, 'POST', path, { body: {}, headers: { 'if-match': etag } });
    assert.equal(noReason.status, 400);
    assert.deepEqual(noReason.body, {
      $type: 'Crossdock.Sandbox.Wms.Exceptions.ModelValidationException, Crossdock.Sandbox.Wms',
      Properties: ['reason'],
      ErrorCode: 'Required',
      Hint: 'reason: Invalid input: expected string, received undefined',
    });
    const unknown = await http(wms, 'POST', '/orders/999/canceler', { body: { reason: 'x' } });
    assert.equal(unknown.status, 404);
    assert.equal((await ordersUnder(wms, 'XD-CANCEL-HTTP-1'))[0]?.readOnly.status, 0);
  });

  test('cancelling releases the stock exactly; a second cancel is 403 AlreadyCanceled', async () => {
    const stock = freshStock();
    const before = await stockOf(wms, stock.sku);
    const qty = availableOf(stock) + 3; // short by 3
    const { id, etag } = await create('XD-CANCEL-HTTP-2', [[stock.sku, qty]]);
    const held = await stockOf(wms, stock.sku);
    assert.deepEqual([held.available, held.orderedNotAllocated], [0, 3]);
    const cancelled = await http(wms, 'POST', `/orders/${id}/canceler`, {
      body: { reason: 'customer changed their mind' },
      headers: { 'if-match': etag },
    });
    assert.equal(cancelled.status, 204);
    assert.deepEqual(await stockOf(wms, stock.sku), before);
    const one = await http<OrderRow>(wms, 'GET', `/orders/${id}?itemdetail=All`);
    assert.equal(one.body.readOnly.status, 2);
    assert.deepEqual(one.body.orderItems?.[0]?.readOnly.allocations, []);
    const fresh = one.headers.get('etag') ?? '';
    assert.notEqual(fresh, etag, 'a cancel moves the ETag on');
    const again = await http(wms, 'POST', `/orders/${id}/canceler`, {
      body: { reason: 'again' },
      headers: { 'if-match': fresh },
    });
    assert.equal(again.status, 403);
    assert.deepEqual(again.body, {
      $type: OPERATION,
      ErrorCode: 'AlreadyCanceled',
      Hint: `order ${id} is canceled; it cannot be canceled`,
    });
  });

  test('the confirmer ships a fully allocated order; a Closed order cannot be canceled', async () => {
    const stock = freshStock();
    const { id, etag } = await create('XD-SHIP-HTTP-1', [[stock.sku, 6]]);
    const confirmed = await http(wms, 'POST', `/orders/${id}/confirmer`, {
      body: { trackingNumber: '1Z999' },
      headers: { 'if-match': etag },
    });
    assert.equal(confirmed.status, 204);
    const after = await stockOf(wms, stock.sku);
    assert.deepEqual(
      [after.onHand, after.allocated, after.available],
      [stock.onHand - 6, stock.allocated, availableOf(stock) - 6],
    );
    const one = await http<OrderRow>(wms, 'GET', `/orders/${id}`);
    assert.deepEqual(
      [one.body.readOnly.status, one.body.readOnly.isClosed, one.body.routingInfo.trackingNumber],
      [1, true, '1Z999'],
    );
    const cancel = await http(wms, 'POST', `/orders/${id}/canceler`, {
      body: { reason: 'too late' },
      headers: { 'if-match': one.headers.get('etag') ?? '' },
    });
    assert.equal(cancel.status, 403);
    assert.deepEqual(cancel.body, {
      $type: OPERATION,
      ErrorCode: 'OrderConfirmed',
      Hint: `order ${id} is closed (confirmed as shipped); it cannot be canceled`,
    });
  });

  test('the confirmer refuses a short order with 403 NotFullyAllocated', async () => {
    const stock = freshStock();
    const { id, etag } = await create('XD-SHIP-HTTP-2', [[stock.sku, availableOf(stock) + 1]]);
    const refused = await http(wms, 'POST', `/orders/${id}/confirmer`, {
      body: {},
      headers: { 'if-match': etag },
    });
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.body, {
      $type: OPERATION,
      ErrorCode: 'NotFullyAllocated',
      Hint: `order ${id} is not fully allocated; allocate it before confirming`,
    });
  });
});

describe('sandbox WMS: expected receipts', () => {
  const receiverBody = (reference: string, sku: string) => ({
    customerIdentifier: { id: 1 },
    facilityIdentifier: { id: CENTRAL },
    referenceNum: reference,
    notes: 'return',
    receiveItems: [{ itemIdentifier: { sku }, qty: 2 }],
  });

  test('POST /inventory/receivers records an expected receipt once; stock waits for it', async (t) => {
    // A WMS of its own: the first receiver's id must not depend on what other tests created.
    const own = await start('wms');
    t.after(() => own.system.close());
    const stock = freshStock();
    const before = await stockOf(own, stock.sku);
    const created = await http<{ readOnly: { receiverId: number; status: number } }>(
      own,
      'POST',
      '/inventory/receivers',
      { body: receiverBody('RMA-HTTP-1', stock.sku) },
    );
    assert.equal(created.status, 201);
    const id = created.body.readOnly.receiverId;
    assert.equal(id, 20_001);
    assert.equal(created.body.readOnly.status, 0);
    assert.equal(created.headers.get('location'), `/inventory/receivers/${id}`);
    assert.match(created.headers.get('etag') ?? '', /^"\d+-\d+"$/);
    const duplicate = await http(own, 'POST', '/inventory/receivers', {
      body: receiverBody('RMA-HTTP-1', stock.sku),
    });
    assert.equal(duplicate.status, 400);
    assert.deepEqual(duplicate.body, {
      $type: 'Crossdock.Sandbox.Wms.Exceptions.ModelValidationException, Crossdock.Sandbox.Wms',
      Properties: ['referenceNum'],
      ErrorCode: 'Duplicate',
      Hint: 'a receiver with referenceNum "RMA-HTTP-1" already exists',
    });
    const listed = await http<{ totalResults: number; _embedded: Record<string, unknown[]> }>(
      own,
      'GET',
      '/inventory/receivers?rql=referenceNum==RMA-HTTP-1',
    );
    assert.equal(listed.body.totalResults, 1);
    assert.equal(listed.body._embedded[RECEIVER_REL]?.length, 1);
    assert.equal((await http(own, 'GET', `/inventory/receivers/${id}`)).status, 200);
    assert.deepEqual(await stockOf(own, stock.sku), before);
    const unknown = await http(own, 'POST', '/inventory/receivers', {
      body: receiverBody('RMA-HTTP-2', 'SKU-999999'),
    });
    assert.equal(unknown.status, 400);
    assert.equal((unknown.body as { ErrorCode?: string }).ErrorCode, 'DoesNotExist');
  });

  test('writes are counted in _stats and injected faults apply to them', async () => {
    const stock = freshStock();
    wms.system.control.setFaults({ errorRate: 1 });
    const failed = await fetch(`${wms.system.url}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${wms.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(orderBody('XD-RES-FAULT', [[stock.sku, 1]])),
    });
    assert.equal(failed.status, 503);
    assert.equal(await failed.text(), 'Service Unavailable');
    wms.system.control.setFaults({ errorRate: 0 });
    assert.deepEqual(await ordersUnder(wms, 'XD-RES-FAULT'), []);
    assert.deepEqual(routes(wms), { 'POST /orders': 1, 'GET /orders': 1 });
  });
});

// ---------------------------------------------------------------------------------------------
// The connector.
// ---------------------------------------------------------------------------------------------

const connectors: WmsConnector[] = [];
after(() => Promise.all(connectors.map((c) => c.close())));

function connect(on: Running, overrides: Partial<WmsConnectorOptions> = {}): WmsConnector {
  const system = on.system.name === 'tpl' ? 'tpl' : 'wms';
  const creds = WMS_SANDBOX[system];
  const connector = createWmsConnector({
    name: system,
    baseUrl: on.system.url,
    clientId: creds.clientId,
    clientSecret: creds.clientSecret,
    userLogin: creds.userLogin,
    tplGuid: creds.tplGuid,
    warehouseKind: system === 'wms' ? 'OWNED' : 'THIRD_PARTY',
    breaker: { volumeThreshold: 1_000 },
    ...overrides,
  });
  connectors.push(connector);
  return connector;
}

const SHIP_TO: ReservationRequest['shipTo'] = {
  name: 'Dock 4',
  line1: '10 Harbor Rd',
  line2: null,
  city: 'Boston',
  region: 'MA',
  postalCode: '02110',
  countryCode: 'US',
};
const reservation = (
  reference: string,
  lines: readonly [string, number][],
  warehouseCode = 'CENTRAL',
): ReservationRequest => ({
  reference,
  warehouseCode,
  shipTo: SHIP_TO,
  lines: lines.map(([sku, quantity]) => ({ sku, quantity })),
});

/** Ships an order the way a warehouse does: confirm it with the ETag of its latest read. */
async function ship(on: Running, orderId: string): Promise<void> {
  const one = await http(on, 'GET', `/orders/${orderId}`);
  const confirmed = await http(on, 'POST', `/orders/${orderId}/confirmer`, {
    body: { trackingNumber: '1ZSHIPPED' },
    headers: { 'if-match': one.headers.get('etag') ?? '' },
  });
  assert.equal(confirmed.status, 204);
}

describe('WMS connector: ReservationSource', () => {
  let connector: WmsConnector;
  before(async () => {
    connector = connect(wms);
    await connector.warehouses(); // token and facilities first: the routes below are the writes'
  });

  test('reserve twice → one WMS order, stock allocated once', async () => {
    const a = freshStock();
    const b = freshStock();
    const stockBefore = [await stockOf(wms, a.sku), await stockOf(wms, b.sku)];
    const request = reservation('XD-RES-1', [
      [a.sku, 5],
      [b.sku, 2],
    ]);
    wms.system.control.resetStats();
    const first = await connector.reserve(request);
    assert.match(first.nativeId, /^\d+$/);
    assert.deepEqual(first, {
      reference: 'XD-RES-1',
      nativeId: first.nativeId,
      source: 'wms',
      warehouseCode: 'CENTRAL',
      status: 'RESERVED',
      lines: [
        { sku: a.sku, quantity: 5, allocated: 5 },
        { sku: b.sku, quantity: 2, allocated: 2 },
      ],
    });
    assert.deepEqual(routes(wms), { 'POST /orders': 1 });
    wms.system.control.resetStats();

    const second = await connector.reserve(request);
    assert.deepEqual(second, first);
    // The WMS refused the second order as a Duplicate; the connector read the first back.
    assert.deepEqual(routes(wms), { 'POST /orders': 1, 'GET /orders': 1 });
    assert.equal((await ordersUnder(wms, 'XD-RES-1')).length, 1);
    const stockAfter = [await stockOf(wms, a.sku), await stockOf(wms, b.sku)];
    assert.deepEqual(
      stockAfter.map((row) => row.allocated),
      [stockBefore[0]!.allocated + 5, stockBefore[1]!.allocated + 2],
      'allocated once',
    );
    assert.deepEqual(await connector.findReservation('XD-RES-1'), first);
  });

  test('a short line makes the reservation PARTIAL with what the WMS could allocate', async () => {
    const stock = freshStock();
    const record = await connector.reserve(
      reservation('XD-RES-SHORT', [[stock.sku, availableOf(stock) + 7]]),
    );
    assert.equal(record.status, 'PARTIAL');
    assert.deepEqual(record.lines, [
      { sku: stock.sku, quantity: availableOf(stock) + 7, allocated: availableOf(stock) },
    ]);
  });

  test('findReservation of an unknown reference is null', async () => {
    assert.equal(await connector.findReservation('XD-NOWHERE'), null);
    assert.deepEqual(routes(wms), { 'GET /orders': 1 });
  });

  test('release returns the stock; releasing again, or an unknown reference, is success', async () => {
    const stock = freshStock();
    const before = await stockOf(wms, stock.sku);
    const record = await connector.reserve(reservation('XD-REL-1', [[stock.sku, 9]]));
    assert.equal((await stockOf(wms, stock.sku)).allocated, before.allocated + 9);
    wms.system.control.resetStats();
    await connector.release('XD-REL-1');
    assert.deepEqual(routes(wms), {
      'GET /orders': 1,
      'GET /orders/{id}': 1,
      'POST /orders/{id}/canceler': 1,
    });
    assert.deepEqual(await stockOf(wms, stock.sku), before);
    assert.deepEqual(await connector.findReservation('XD-REL-1'), {
      ...record,
      status: 'CANCELLED',
      lines: [{ sku: stock.sku, quantity: 9, allocated: 0 }],
    });
    wms.system.control.resetStats();
    await connector.release('XD-REL-1');
    await connector.release('XD-NOWHERE');
    assert.deepEqual(routes(wms), { 'GET /orders': 2, 'GET /orders/{id}': 1 });
    assert.deepEqual(await stockOf(wms, stock.sku), before, 'released once');
  });

  test('release after ship is SOURCE_REJECTED already_shipped', async () => {
    const stock = freshStock();
    const record = await connector.reserve(reservation('XD-REL-SHIPPED', [[stock.sku, 1]]));
    await ship(wms, record.nativeId);
    wms.system.control.resetStats();
    const error = await rejection(connector.release('XD-REL-SHIPPED'));
    assert.equal(error.code, 'SOURCE_REJECTED');
    assert.equal(error.reason, 'already_shipped');
    assert.equal(error.source, 'wms');
    assert.equal(
      error.message,
      `wms: reservation "XD-REL-SHIPPED" (order ${record.nativeId}) has shipped; it cannot be released`,
    );
    assert.deepEqual(routes(wms), { 'GET /orders': 1, 'GET /orders/{id}': 1 });
    assert.equal((await connector.findReservation('XD-REL-SHIPPED'))?.status, 'SHIPPED');
  });

  test('release re-reads and retries once when the ETag went stale (412)', async () => {
    const stock = freshStock();
    const before = await stockOf(wms, stock.sku);
    await connector.reserve(reservation('XD-REL-412', [[stock.sku, 4]]));
    wms.system.control.resetStats();
    wms.intercept = (req, _res, next) => {
      if (req.path.endsWith('/canceler')) {
        wms.intercept = null;
        req.headers['if-match'] = '"0-0"';
      }
      next();
    };
    await connector.release('XD-REL-412');
    assert.deepEqual(routes(wms), {
      'GET /orders': 1,
      'GET /orders/{id}': 2,
      'POST /orders/{id}/canceler': 2,
    });
    assert.deepEqual(await stockOf(wms, stock.sku), before);
  });

  test('expectReturn twice → one receiver', async () => {
    const stock = freshStock();
    const draft: ReturnDraft & { warehouseCode: string } = {
      reference: 'RMA-CONN-1',
      orderNumber: 'SO-100121',
      customerNumber: 'C10001',
      reason: 'damaged in transit',
      warehouseCode: 'CENTRAL',
      lines: [{ sku: stock.sku, quantity: 2 }],
    };
    const first = await connector.expectReturn(draft);
    assert.deepEqual(first, { reference: 'RMA-CONN-1', nativeId: first.nativeId, number: null });
    assert.deepEqual(routes(wms), { 'POST /inventory/receivers': 1 });
    wms.system.control.resetStats();
    assert.deepEqual(await connector.expectReturn(draft), first);
    assert.deepEqual(routes(wms), {
      'POST /inventory/receivers': 1,
      'GET /inventory/receivers': 1,
    });
    const listed = await http<{ totalResults: number; _embedded: Record<string, unknown[]> }>(
      wms,
      'GET',
      '/inventory/receivers?rql=referenceNum==RMA-CONN-1&detail=All',
    );
    assert.equal(listed.body.totalResults, 1);
    assert.deepEqual(listed.body._embedded[RECEIVER_REL]?.[0], {
      readOnly: {
        receiverId: Number(first.nativeId),
        status: 0,
        facilityIdentifier: { id: CENTRAL, name: 'Columbus Distribution Center' },
        customerIdentifier: { id: 1, name: 'Crossdock Distributor' },
        creationDate: STAMP,
        lastModifiedDate: STAMP,
      },
      referenceNum: 'RMA-CONN-1',
      poNum: null,
      notes: 'Return RMA-CONN-1 of order SO-100121 (customer C10001): damaged in transit',
      receiveItems: [
        { itemIdentifier: { sku: stock.sku, id: Number(stock.sku.slice(4)) }, qty: 2 },
      ],
      _links: { self: { href: `/inventory/receivers/${first.nativeId}` } },
    });
  });

  test('a warehouse this WMS does not run is SOURCE_REJECTED unknown_warehouse', async () => {
    const error = await rejection(
      connector.reserve(reservation('XD-RES-ELSEWHERE', [['SKU-000001', 1]], '3PL-SOUTH')),
    );
    assert.equal(error.reason, 'unknown_warehouse');
    assert.equal(
      error.message,
      'wms: this WMS runs no warehouse "3PL-SOUTH" (it runs EAST, CENTRAL, WEST)',
    );
    // The facility list was reloaded once in case the warehouse was new; nothing was written.
    assert.deepEqual(routes(wms), { 'GET /properties/facilities': 1 });
  });

  test('a SKU the WMS does not know is SOURCE_REJECTED with its hint', async () => {
    const error = await rejection(
      connector.reserve(reservation('XD-RES-UNKNOWN', [['SKU-999999', 1]])),
    );
    assert.equal(error.code, 'SOURCE_REJECTED');
    assert.equal(error.reason, 'http_400');
    assert.equal(
      error.message,
      'wms: POST orders answered HTTP 400 DoesNotExist: no item "SKU-999999"',
    );
  });
});

describe('WMS connector: the 3PL instance', () => {
  test('reserves at 3PL-SOUTH and releases', async () => {
    const tpl = await start('tpl');
    try {
      const connector = connect(tpl);
      const stock = world.stock.find(
        (s) => s.warehouse === '3PL-SOUTH' && s.onHand - s.allocated - s.onHold >= 2,
      );
      assert.ok(stock);
      const record = await connector.reserve(
        reservation('XD-TPL-1', [[stock.sku, 2]], '3PL-SOUTH'),
      );
      // The 3PL numbers orders from 70001, the seed orders released to it first.
      const released = world.orders.filter(
        (o) => o.stage !== 'OPEN' && o.warehouse === '3PL-SOUTH',
      );
      assert.deepEqual(
        [record.source, record.warehouseCode, record.status, record.nativeId],
        ['tpl', '3PL-SOUTH', 'RESERVED', String(70_001 + released.length)],
      );
      await connector.release('XD-TPL-1');
      assert.equal((await connector.findReservation('XD-TPL-1'))?.status, 'CANCELLED');
    } finally {
      await tpl.system.close();
    }
  });
});

describe('WMS connector: faults on writes', () => {
  test('injected errors, a system that is down, malformed answers and timeouts', async () => {
    const connector = connect(wms, { timeoutMs: 100 });
    await connector.warehouses();
    const stock = freshStock();
    const cases: [Partial<Faults>, string, string][] = [
      [{ errorRate: 1 }, 'SOURCE_UNAVAILABLE', 'http_503'],
      [{ down: true }, 'SOURCE_UNAVAILABLE', 'connection_error'],
      [{ malformed: true }, 'SOURCE_BAD_RESPONSE', 'schema_mismatch'],
      [{ latencyMs: 5_000 }, 'SOURCE_TIMEOUT', 'timeout'],
    ];
    for (const [faults, code, reason] of cases) {
      wms.system.control.setFaults(faults);
      for (const write of [
        () => connector.reserve(reservation('XD-RES-FAULTS', [[stock.sku, 1]])),
        () => connector.release('XD-RES-1'),
        () =>
          connector.expectReturn({
            reference: 'RMA-FAULTS',
            orderNumber: 'SO-100121',
            customerNumber: 'C10001',
            reason: 'x',
            warehouseCode: 'CENTRAL',
            lines: [{ sku: stock.sku, quantity: 1 }],
          }),
      ]) {
        const error = await rejection(write());
        assert.deepEqual([error.code, error.reason, error.source], [code, reason, 'wms']);
      }
      wms.system.control.setFaults({ latencyMs: 0, errorRate: 0, down: false, malformed: false });
    }
    assert.deepEqual(await ordersUnder(wms, 'XD-RES-FAULTS'), []);
    assert.equal((await stockOf(wms, stock.sku)).allocated, stock.allocated);
  });

  test('a malformed answer to POST orders names what broke', async () => {
    const connector = connect(wms);
    await connector.warehouses();
    wms.system.control.setFaults({ malformed: true });
    const error = await rejection(
      connector.reserve(reservation('XD-RES-MALFORMED', [['SKU-000001', 1]])),
    );
    assert.equal(
      error.message,
      'wms: malformed POST orders response at readOnly: Invalid input: expected object, received undefined',
    );
  });
});

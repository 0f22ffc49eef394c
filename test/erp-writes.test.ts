/**
 * The ERP's write side, over real HTTP: the sandbox's `POST salesOrders` (deep insert),
 * `DELETE salesOrders({id})` under If-Match and `POST salesCreditMemos`, each refusal with its
 * exact BC error; then the connector's OrderWriteSource on top: one ERP order however often a
 * draft is sent (counted with a filtered GET and the sandbox's own `_stats`), cancellation with
 * its 409 retry, returns, and every failure as a SourceError.
 *
 * The sandbox sits behind an outer express app whose `intercept` can tamper with one request
 * (lose an answer, make an etag stale, fail only a POST): network trouble, not a test hook.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it, type TestContext } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ERP_SANDBOX } from '../sandbox/credentials.js';
import { createErpApp } from '../sandbox/erp.js';
import { listen, type RunningSystem } from '../sandbox/faults.js';
import { buildWorld, stableGuid } from '../sandbox/seed.js';
import {
  SourceError,
  type ErpConnector,
  type OrderRecord,
  type SalesOrderDraft,
} from '../sources/contract.js';
import { createErpConnector, type ErpConnectorOptions } from '../sources/erp/index.js';
import { customerOf, productOf, usd } from './support/world.js';

const world = buildWorld({ catalogSize: 300 });
const C = ERP_SANDBOX;
const clock = Date.parse('2026-11-27T10:00:00.000Z');
const COMPANY = `/v2.0/${C.tenant}/${C.environment}/api/v2.0/companies(${C.companyId})`;
let erp: RunningSystem;
let token: string;
let shared: ErpConnector;
const connectors: ErpConnector[] = [];

/** Tampers with the next requests it is given; `null` lets everything through. */
type Intercept = (req: Request, res: Response, next: NextFunction) => void;
let intercept: Intercept | null = null;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}
type Rows = Record<string, unknown>[];

/** Where a call goes: the shared sandbox ERP, or one a test started for itself. */
interface Target {
  readonly url: string;
  readonly token: string;
}

async function call(
  method: string,
  path: string,
  init: { body?: unknown; raw?: string; headers?: Record<string, string>; on?: Target } = {},
): Promise<Answer> {
  const on = init.on ?? { url: erp.url, token };
  const headers: Record<string, string> = { authorization: `Bearer ${on.token}`, ...init.headers };
  let body: string | undefined;
  if (init.raw !== undefined || init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = init.raw ?? JSON.stringify(init.body);
  }
  const res = await fetch(`${on.url}${COMPANY}/${path}`, { method, headers, body });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

const f = (filter: string): string => `$filter=${encodeURIComponent(filter)}`;

const values = (answer: Answer): Rows => {
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body['value'] as Rows;
};

/** The BC error of an answer, with the random CorrelationId suffix checked and removed. */
function bcError(answer: Answer): { status: number; code: string; message: string } {
  const error = answer.body['error'] as { code: string; message: string } | undefined;
  assert.ok(error, `expected a BC error body, got ${answer.status} ${JSON.stringify(answer.body)}`);
  const match = /^([\s\S]*)  CorrelationId:  [0-9a-f-]{36}\.$/.exec(error.message);
  assert.ok(match, `message without CorrelationId suffix: ${error.message}`);
  return { status: answer.status, code: error.code, message: match[1] ?? '' };
}

/** Requests the sandbox (the shared one unless given) saw per route, under the company's path. */
function routes(system: RunningSystem = erp): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [route, count] of Object.entries(system.control.stats().byRoute)) {
    const [method = '', path = ''] = route.split(' ');
    if (path.startsWith(COMPANY)) {
      const rest = path.slice(COMPANY.length + 1).replace(/\([0-9a-f-]{36}\)/, '({id})');
      out[`${method} ${rest}`] = count;
    }
  }
  return out;
}

function connect(overrides: Partial<ErpConnectorOptions> = {}): ErpConnector {
  const connector = createErpConnector({
    baseUrl: erp.url,
    tenant: C.tenant,
    environment: C.environment,
    companyId: C.companyId,
    clientId: C.clientId,
    clientSecret: C.clientSecret,
    scope: C.scope,
    // Each failure case must see the system's answer, not an open breaker.
    breaker: { volumeThreshold: 1_000 },
    ...overrides,
  });
  connectors.push(connector);
  return connector;
}

async function rejection(promise: Promise<unknown>): Promise<SourceError> {
  const outcome = await promise.then(
    () => assert.fail('expected a SourceError, but the call succeeded'),
    (error: unknown) => error,
  );
  assert.ok(outcome instanceof SourceError, `expected a SourceError, got ${String(outcome)}`);
  return outcome;
}

/** Orders the ERP holds under an external document number (BC keeps it upper-cased). */
async function ordersUnder(externalDocumentNumber: string): Promise<Rows> {
  return values(
    await call(
      'GET',
      `salesOrders?${f(`externalDocumentNumber eq '${externalDocumentNumber}'`)}&$select=number`,
    ),
  );
}

const product = (sku: string) => productOf(world, sku);
const customer = (number: string) => customerOf(world, number);

/** A bearer token of the sandbox ERP at `url`. */
async function tokenOf(url: string): Promise<string> {
  const res = await fetch(`${url}/${C.tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: C.clientId,
      client_secret: C.clientSecret,
      scope: C.scope,
    }).toString(),
  });
  return String(((await res.json()) as Record<string, unknown>)['access_token']);
}

/** A sandbox ERP of a test's own (closed after it), its requests not counted yet. */
async function ownErp(t: TestContext): Promise<Target & { readonly system: RunningSystem }> {
  const made = createErpApp(world, { now: () => clock });
  const system = await listen('erp', made.app, made.control, 0);
  t.after(() => system.close());
  const on = { url: system.url, token: await tokenOf(system.url), system };
  system.control.resetStats();
  return on;
}

before(async () => {
  const made = createErpApp(world, { now: () => clock });
  const outer = express();
  outer.use((req, res, next) => {
    if (intercept) intercept(req, res, next);
    else next();
  });
  outer.use(made.app);
  erp = await listen('erp', outer, made.control, 0);
  token = await tokenOf(erp.url);
  shared = connect();
});

beforeEach(() => {
  erp.control.setFaults({ latencyMs: 0, errorRate: 0, down: false, malformed: false });
  erp.control.resetStats();
});

afterEach(() => {
  intercept = null;
});

after(async () => {
  await Promise.all(connectors.map((c) => c.close()));
  await erp.close();
});

/** A deep-insert body of three lines, one priced by the ERP. */
function orderBody(externalDocumentNumber: string, customerNumber = 'C10001') {
  return {
    externalDocumentNumber,
    customerNumber,
    orderDate: '2026-11-27',
    currencyCode: 'USD',
    crossdockChannel: 'B2B_PORTAL',
    shipToName: 'Dock 4',
    shipToAddressLine1: '10 Harbor Rd',
    shipToCity: 'Boston',
    shipToState: 'MA',
    shipToPostCode: '02110',
    shipToCountry: 'US',
    salesOrderLines: [
      { lineType: 'Item', lineObjectNumber: 'SKU-000001', quantity: 3, unitPrice: 19.99 },
      { lineType: 'Item', lineObjectNumber: 'SKU-000002', quantity: 1.5, unitPrice: 0.33 },
      { lineType: 'Item', lineObjectNumber: 'SKU-000003', quantity: 2 },
    ],
  };
}

describe('sandbox ERP: POST salesOrders', () => {
  it('creates the order with its lines, numbered after the seed, Open, totals to the cent', async (t) => {
    // An ERP of its own: the number must not depend on what other tests created (or deleted).
    const on = await ownErp(t);
    const created = await call('POST', 'salesOrders?$expand=salesOrderLines', {
      body: orderBody('xd-http-1'),
      on,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = String(created.body['id']);
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(created.headers.get('location'), `${on.url}${COMPANY}/salesOrders(${id})`);
    assert.equal(created.headers.get('etag'), created.body['@odata.etag']);
    assert.match(String(created.body['@odata.etag']), /^W\/"JzQ0O[A-Za-z0-9+/=]+"$/);
    const third = product('SKU-000003').priceCents;
    // 3 × 19.99 = 59.97; 1.5 × 0.33 = 0.495 → 0.50 (half up); 2 × the item's own price.
    const total = 5997 + 50 + 2 * third;
    const c = customer('C10001');
    assert.deepEqual(
      {
        number: created.body['number'],
        externalDocumentNumber: created.body['externalDocumentNumber'],
        status: created.body['status'],
        customerId: created.body['customerId'],
        customerName: created.body['customerName'],
        crossdockChannel: created.body['crossdockChannel'],
        shipToName: created.body['shipToName'],
        shipToAddressLine1: created.body['shipToAddressLine1'],
        totalAmountExcludingTax: created.body['totalAmountExcludingTax'],
        totalAmountIncludingTax: created.body['totalAmountIncludingTax'],
        fullyShipped: created.body['fullyShipped'],
      },
      {
        number: `SO-${100000 + world.orders.length + 1}`,
        externalDocumentNumber: 'XD-HTTP-1',
        status: 'Open',
        customerId: stableGuid('customer:C10001'),
        customerName: c.name,
        crossdockChannel: 'B2B_PORTAL',
        shipToName: 'Dock 4',
        shipToAddressLine1: '10 Harbor Rd',
        totalAmountExcludingTax: total / 100,
        totalAmountIncludingTax: total / 100,
        fullyShipped: false,
      },
    );
    const lines = created.body['salesOrderLines'] as Rows;
    assert.deepEqual(
      lines.map((l) => [
        l['sequence'],
        l['lineObjectNumber'],
        l['quantity'],
        l['unitPrice'],
        l['amountExcludingTax'],
        l['shippedQuantity'],
        l['documentId'],
      ]),
      [
        [10000, 'SKU-000001', 3, 19.99, 59.97, 0, id],
        [20000, 'SKU-000002', 1.5, 0.33, 0.5, 0, id],
        [30000, 'SKU-000003', 2, third / 100, (2 * third) / 100, 0, id],
      ],
    );
    assert.deepEqual(routes(on.system), { 'POST salesOrders': 1 });
  });

  it('keeps reads consistent: filter, key, lines and listing all see the new order', async () => {
    const created = await call('POST', 'salesOrders', { body: orderBody('XD-HTTP-2') });
    assert.equal(created.status, 201);
    const id = String(created.body['id']);
    const number = String(created.body['number']);
    assert.equal(created.body['salesOrderLines'], undefined, 'lines only with $expand');
    assert.deepEqual(
      (await ordersUnder('XD-HTTP-2')).map((r) => r['number']),
      [number],
    );
    const one = await call('GET', `salesOrders(${id})?$expand=salesOrderLines`);
    assert.equal(one.status, 200);
    assert.equal((one.body['salesOrderLines'] as Rows).length, 3);
    assert.equal(
      values(await call('GET', `salesOrderLines?${f(`documentId eq ${id}`)}`)).length,
      3,
    );
    const tail = values(
      await call('GET', `salesOrders?${f(`number ge '${number}'`)}&$select=number`),
    );
    assert.equal(tail[0]?.['number'], number);
  });

  it('is not idempotent, as in BC: the same body twice makes two orders', async () => {
    const first = await call('POST', 'salesOrders', { body: orderBody('XD-HTTP-TWICE') });
    const second = await call('POST', 'salesOrders', { body: orderBody('XD-HTTP-TWICE') });
    assert.deepEqual([first.status, second.status], [201, 201]);
    assert.notEqual(first.body['number'], second.body['number']);
    assert.equal((await ordersUnder('XD-HTTP-TWICE')).length, 2);
  });

  const line = (extra: Record<string, unknown>) => ({
    lineType: 'Item',
    lineObjectNumber: 'SKU-000001',
    quantity: 1,
    ...extra,
  });
  const refused: [string, Record<string, unknown>, number, string, string][] = [
    [
      'an unknown customer',
      { customerNumber: 'C99999' },
      400,
      'Application_DialogException',
      "The sell-to customer cannot be found. Identification fields and values: No.='C99999'.",
    ],
    [
      'a customer blocked for shipping',
      { customerNumber: 'C10017' },
      400,
      'Application_DialogException',
      'You cannot create this type of document when Customer C10017 is blocked with type Ship.',
    ],
    [
      'a customer blocked for everything',
      { customerNumber: 'C10029' },
      400,
      'Application_DialogException',
      'You cannot create this type of document when Customer C10029 is blocked with type All.',
    ],
    [
      'no customer',
      { customerNumber: undefined },
      400,
      'Application_DialogException',
      'A "customerNumber" or a "customerId" must be provided.',
    ],
    [
      'a customerId and a customerNumber of two customers',
      { customerId: stableGuid('customer:C10002') },
      400,
      'Application_DialogException',
      'The sell-to customer values do not match to a specific Customer.',
    ],
    [
      'an unknown item',
      { salesOrderLines: [line({ lineObjectNumber: 'SKU-999999' })] },
      400,
      'Application_DialogException',
      "Item does not exist. Identification fields and values: No.='SKU-999999'.",
    ],
    [
      'a blocked item',
      { salesOrderLines: [line({ lineObjectNumber: 'SKU-000097' })] },
      400,
      'Application_DialogException',
      "Blocked must be equal to 'No' in Item: No.=SKU-000097. Current value is 'Yes'.",
    ],
    [
      'a zero quantity',
      { salesOrderLines: [line({}), line({ lineObjectNumber: 'SKU-000002', quantity: 0 })] },
      400,
      'Application_FieldValidationException',
      'Quantity must be greater than 0 on line 2 (SKU-000002); got 0.',
    ],
    [
      'a negative quantity',
      { salesOrderLines: [line({ quantity: -2 })] },
      400,
      'Application_FieldValidationException',
      'Quantity must be greater than 0 on line 1 (SKU-000001); got -2.',
    ],
    [
      'a unit price of three decimals',
      { salesOrderLines: [line({ unitPrice: 1.234 })] },
      400,
      'Application_FieldValidationException',
      'Unit Price must be a non-negative amount below 10000000000 with at most 2 decimal places on line 1 (SKU-000001); got 1.234.',
    ],
    [
      'an absurd quantity',
      { salesOrderLines: [line({ quantity: 1e21 })] },
      400,
      'Application_FieldValidationException',
      'Quantity must be below 10000000000 with at most 5 decimal places on line 1 (SKU-000001); got 1e+21.',
    ],
    [
      'an external document number over 35 characters',
      { externalDocumentNumber: 'X'.repeat(36) },
      400,
      'Application_StringExceededLength',
      `The length of the string is 36, but it must be less than or equal to 35 characters. Value: ${'X'.repeat(36)}`,
    ],
    [
      'a foreign currency',
      { currencyCode: 'EUR' },
      400,
      'Application_DialogException',
      `The "currencyCode" does not match to a Currency. Identification fields and values: Code='EUR'.`,
    ],
    [
      'an unknown property',
      { foo: 1 },
      400,
      'BadRequest_NotFound',
      "Could not find a property named 'foo' on type 'Microsoft.NAV.salesOrder'.",
    ],
    [
      'a quantity as a string',
      { salesOrderLines: [line({ quantity: '3' })] },
      400,
      'BadRequest_InvalidToken',
      `Cannot convert the literal '"3"' to the expected type 'Edm.Decimal'.`,
    ],
    [
      'a line of another type',
      { salesOrderLines: [line({ lineType: 'Account' })] },
      400,
      'BadRequest_NotSupported',
      "The sandbox writes item lines only: expected lineType 'Item' on line 1, got 'Account'.",
    ],
    [
      'an unknown channel',
      { crossdockChannel: 'FAX' },
      400,
      'BadRequest_InvalidToken',
      `Cannot convert the literal '"FAX"' to the expected type 'Microsoft.NAV.crossdockChannel (one of WEB, B2B_PORTAL, EDI, INSIDE_SALES, MARKETPLACE_A, MARKETPLACE_B)'.`,
    ],
  ];
  for (const [what, change, status, code, message] of refused) {
    it(`refuses ${what} with ${code}, creating nothing`, async () => {
      const body: Record<string, unknown> = { ...orderBody('XD-REFUSED'), ...change };
      for (const [key, value] of Object.entries(change)) if (value === undefined) delete body[key];
      assert.deepEqual(bcError(await call('POST', 'salesOrders', { body })), {
        status,
        code,
        message,
      });
      assert.deepEqual(await ordersUnder('XD-REFUSED'), []);
    });
  }

  it('refuses a field BC writes but the sandbox does not with BadRequest_NotSupported', async () => {
    const answer = await call('POST', 'salesOrders', {
      body: { ...orderBody('XD-REFUSED'), billToCustomerNumber: 'C10002' },
    });
    const error = bcError(answer);
    assert.deepEqual([error.status, error.code], [400, 'BadRequest_NotSupported']);
    assert.match(
      error.message,
      /^The sandbox does not write 'billToCustomerNumber' of 'Microsoft\.NAV\.salesOrder'; it writes externalDocumentNumber, /,
    );
  });

  it('answers a body that is not JSON with BadRequest_InvalidToken', async () => {
    const error = bcError(await call('POST', 'salesOrders', { raw: '{"customerNumber":' }));
    assert.deepEqual([error.status, error.code], [400, 'BadRequest_InvalidToken']);
    assert.match(error.message, /^The request body is not valid JSON: /);
  });

  it('does not spend a number on a refused order', async () => {
    const first = await call('POST', 'salesOrders', { body: orderBody('XD-SERIES') });
    await call('POST', 'salesOrders', { body: orderBody('XD-SERIES', 'C99999') });
    const second = await call('POST', 'salesOrders', { body: orderBody('XD-SERIES') });
    const n = (answer: Answer) => Number(String(answer.body['number']).slice(3));
    assert.equal(n(second), n(first) + 1);
  });

  it('counts writes in _stats and applies injected faults to them', async () => {
    erp.control.setFaults({ errorRate: 1 });
    assert.deepEqual(bcError(await call('POST', 'salesOrders', { body: orderBody('XD-FAULT') })), {
      status: 503,
      code: 'Internal_TenantUnavailable',
      message: 'The tenant is temporarily unavailable. Please try again later.',
    });
    erp.control.setFaults({ errorRate: 0 });
    assert.deepEqual(await ordersUnder('XD-FAULT'), []);
    assert.deepEqual(routes(), { 'POST salesOrders': 1, 'GET salesOrders': 1 });
  });
});

describe('sandbox ERP: DELETE salesOrders({id})', () => {
  const create = async (reference: string) => {
    const created = await call('POST', 'salesOrders', { body: orderBody(reference) });
    assert.equal(created.status, 201);
    return { id: String(created.body['id']), etag: String(created.body['@odata.etag']) };
  };

  it('needs If-Match: missing is BadRequest_InvalidToken, stale is 409 Request_EntityChanged', async () => {
    const { id, etag } = await create('XD-DEL-1');
    assert.deepEqual(bcError(await call('DELETE', `salesOrders(${id})`)), {
      status: 400,
      code: 'BadRequest_InvalidToken',
      message:
        'Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.',
    });
    const stale = `W/"${Buffer.from(`'44;${Buffer.from(id).toString('base64')}1;1;'`).toString('base64')}"`;
    assert.notEqual(stale, etag);
    assert.deepEqual(
      bcError(await call('DELETE', `salesOrders(${id})`, { headers: { 'if-match': stale } })),
      {
        status: 409,
        code: 'Request_EntityChanged',
        message: 'Another user has already changed the record.',
      },
    );
    assert.equal((await ordersUnder('XD-DEL-1')).length, 1, 'refused deletes delete nothing');
  });

  it('deletes with the current etag: the order and its lines are gone', async () => {
    const { id, etag } = await create('XD-DEL-2');
    const deleted = await call('DELETE', `salesOrders(${id})`, { headers: { 'if-match': etag } });
    assert.equal(deleted.status, 204);
    assert.deepEqual(bcError(await call('GET', `salesOrders(${id})`)), {
      status: 404,
      code: 'BadRequest_NotFound',
      message: "Resource not found for the segment 'salesOrders'.",
    });
    assert.deepEqual(await ordersUnder('XD-DEL-2'), []);
    assert.deepEqual(values(await call('GET', `salesOrderLines?${f(`documentId eq ${id}`)}`)), []);
    assert.equal(
      bcError(await call('DELETE', `salesOrders(${id})`, { headers: { 'if-match': '*' } })).status,
      404,
    );
  });

  it('accepts If-Match: *', async () => {
    const { id } = await create('XD-DEL-3');
    const deleted = await call('DELETE', `salesOrders(${id})`, { headers: { 'if-match': '*' } });
    assert.equal(deleted.status, 204);
  });

  it('refuses to delete an order that has shipped', async () => {
    const shipped = world.orders.find((o) => o.stage === 'SHIPPED');
    assert.ok(shipped);
    const [first] = shipped.lines;
    assert.ok(first);
    const id = stableGuid(`salesOrder:${shipped.number}`);
    assert.deepEqual(
      bcError(await call('DELETE', `salesOrders(${id})`, { headers: { 'if-match': '*' } })),
      {
        status: 400,
        code: 'Application_DialogException',
        message: `You cannot delete order ${shipped.number} because it has been shipped: line ${first.sequence} (${first.sku}) has a shipped quantity of ${first.shippedQuantity}.`,
      },
    );
    assert.equal((await call('GET', `salesOrders(${id})`)).status, 200);
  });
});

describe('sandbox ERP: POST salesCreditMemos', () => {
  const memoBody = (reference: string, customerNumber = 'C10001') => ({
    externalDocumentNumber: reference,
    customerNumber,
    salesCreditMemoLines: [{ lineType: 'Item', lineObjectNumber: 'SKU-000004', quantity: 2 }],
  });

  it('creates a Draft credit memo from its own series and finds it by external number', async (t) => {
    // An ERP of its own: the series starts at SCM-100001 whatever other tests created.
    const on = await ownErp(t);
    const created = await call('POST', 'salesCreditMemos?$expand=salesCreditMemoLines', {
      body: memoBody('rma-http-1'),
      on,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const price = product('SKU-000004').priceCents;
    assert.deepEqual(
      [
        created.body['number'],
        created.body['externalDocumentNumber'],
        created.body['status'],
        created.body['creditMemoDate'],
        created.body['totalAmountIncludingTax'],
      ],
      ['SCM-100001', 'RMA-HTTP-1', 'Draft', '2026-11-27', (2 * price) / 100],
    );
    assert.deepEqual(
      (created.body['salesCreditMemoLines'] as Rows).map((l) => [
        l['lineObjectNumber'],
        l['quantity'],
        l['amountExcludingTax'],
      ]),
      [['SKU-000004', 2, (2 * price) / 100]],
    );
    const found = values(
      await call('GET', `salesCreditMemos?${f("externalDocumentNumber eq 'RMA-HTTP-1'")}`, { on }),
    );
    assert.deepEqual(
      found.map((r) => r['id']),
      [created.body['id']],
    );
  });

  it('takes a customer blocked for shipping, refuses one blocked for everything', async () => {
    assert.equal(
      (await call('POST', 'salesCreditMemos', { body: memoBody('RMA-S', 'C10017') })).status,
      201,
    );
    assert.deepEqual(
      bcError(await call('POST', 'salesCreditMemos', { body: memoBody('RMA-A', 'C10029') })),
      {
        status: 400,
        code: 'Application_DialogException',
        message:
          'You cannot create this type of document when Customer C10029 is blocked with type All.',
      },
    );
  });

  it('is not idempotent either', async () => {
    await call('POST', 'salesCreditMemos', { body: memoBody('RMA-TWICE') });
    await call('POST', 'salesCreditMemos', { body: memoBody('RMA-TWICE') });
    const found = values(
      await call('GET', `salesCreditMemos?${f("externalDocumentNumber eq 'RMA-TWICE'")}`),
    );
    assert.equal(found.length, 2);
  });
});

// ---------------------------------------------------------------------------------------------
// The connector.
// ---------------------------------------------------------------------------------------------

function draft(reference: string, customerNumber = 'C10001'): SalesOrderDraft {
  return {
    externalDocumentNumber: reference,
    customerNumber,
    channel: 'WEB',
    orderDate: '2026-11-27',
    shipTo: {
      name: 'Dock 4',
      line1: '10 Harbor Rd',
      line2: null,
      city: 'Boston',
      region: 'MA',
      postalCode: '02110',
      countryCode: 'US',
    },
    currencyCode: 'USD',
    lines: [
      { sku: 'SKU-000005', quantity: 4, unitPrice: '12.50' },
      { sku: 'SKU-000006', quantity: 3, unitPrice: '0.35' },
    ],
  };
}

describe('ERP connector: OrderWriteSource', () => {
  it("declares 'orderWrites' beside its read capabilities", () => {
    assert.deepEqual([...shared.capabilities].sort(), [
      'catalog',
      'customers',
      'invoices',
      'orderWrites',
      'orders',
      'pricing',
    ]);
  });

  it('creates the order and maps it like a read; the same draft twice makes ONE ERP order', async () => {
    const order = await shared.createSalesOrder(draft('xd-conn-1'));
    const { lastModified: _lastModified, erpId, number, ...rest } = order;
    assert.match(erpId, /^[0-9a-f-]{36}$/);
    assert.match(number, /^SO-\d{6}$/);
    assert.deepEqual(rest, {
      channel: 'WEB',
      customerNumber: 'C10001',
      externalReference: 'XD-CONN-1',
      orderDate: '2026-11-27',
      erpStatus: 'OPEN',
      fullyShipped: false,
      shipTo: {
        name: 'Dock 4',
        line1: '10 Harbor Rd',
        line2: null,
        city: 'Boston',
        region: 'MA',
        postalCode: '02110',
        countryCode: 'US',
      },
      currencyCode: 'USD',
      // 4 × 12.50 + 3 × 0.35
      totalExcludingTax: usd(5105),
      totalIncludingTax: usd(5105),
      lines: [
        {
          sequence: 10000,
          sku: 'SKU-000005',
          description: product('SKU-000005').name,
          quantity: 4,
          unitPrice: usd(1250),
          lineAmount: usd(5000),
          shippedQuantity: 0,
          invoicedQuantity: 0,
        },
        {
          sequence: 20000,
          sku: 'SKU-000006',
          description: product('SKU-000006').name,
          quantity: 3,
          unitPrice: usd(35),
          lineAmount: usd(105),
          shippedQuantity: 0,
          invoicedQuantity: 0,
        },
      ],
    });
    assert.deepEqual(routes(), { 'GET salesOrders': 1, 'POST salesOrders': 1 });

    erp.control.resetStats();
    const again: OrderRecord = await shared.createSalesOrder(draft('xd-conn-1'));
    assert.deepEqual(again, order);
    assert.deepEqual(routes(), { 'GET salesOrders': 1 }, 'the second call only looks it up');
    assert.deepEqual(
      (await ordersUnder('XD-CONN-1')).map((r) => r['number']),
      [number],
    );
    // The read side sees it too.
    assert.deepEqual((await shared.ordersByNumber([number]))[0], order);
  });

  it('shares one attempt between concurrent calls with the same reference', async () => {
    const [a, b] = await Promise.all([
      shared.createSalesOrder(draft('XD-CONN-RACE')),
      shared.createSalesOrder(draft('XD-CONN-RACE')),
    ]);
    assert.deepEqual(a, b);
    assert.equal((await ordersUnder('XD-CONN-RACE')).length, 1);
    assert.equal(routes()['POST salesOrders'], 1);
  });

  it('recovers a lost answer: the retry finds the order the first POST made', async () => {
    intercept = (req, res, next) => {
      if (req.method === 'POST' && req.path.endsWith('/salesOrders')) {
        intercept = null;
        // The ERP does the work; the answer never reaches the client.
        res.end = (() => {
          req.socket.destroy();
          return res;
        }) as unknown as Response['end'];
      }
      next();
    };
    const lost = await rejection(shared.createSalesOrder(draft('XD-CONN-LOST')));
    assert.equal(lost.code, 'SOURCE_UNAVAILABLE');
    assert.equal(lost.reason, 'connection_error');
    const [made] = await ordersUnder('XD-CONN-LOST');
    assert.ok(made, 'the first POST created the order');
    const retried = await shared.createSalesOrder(draft('XD-CONN-LOST'));
    assert.equal(retried.number, made['number']);
    assert.equal((await ordersUnder('XD-CONN-LOST')).length, 1);
    assert.equal(routes()['POST salesOrders'], 1);
  });

  it('turns BC business errors into SOURCE_REJECTED business_rule with BC’s message', async () => {
    const error = await rejection(shared.createSalesOrder(draft('XD-CONN-BLOCKED', 'C10017')));
    assert.equal(error.code, 'SOURCE_REJECTED');
    assert.equal(error.reason, 'business_rule');
    assert.equal(error.status, 400);
    assert.equal(error.source, 'erp');
    assert.equal(
      error.message,
      'erp: POST salesOrders refused by the ERP (Application_DialogException): You cannot create this type of document when Customer C10017 is blocked with type Ship.',
    );
    const item = await rejection(
      shared.createSalesOrder({
        ...draft('XD-CONN-ITEM'),
        lines: [{ sku: 'SKU-999999', quantity: 1, unitPrice: '1.00' }],
      }),
    );
    assert.equal(item.reason, 'business_rule');
    assert.equal(
      item.message,
      "erp: POST salesOrders refused by the ERP (Application_DialogException): Item does not exist. Identification fields and values: No.='SKU-999999'.",
    );
  });

  it('refuses a draft with a malformed price before calling the ERP', async () => {
    const error = await rejection(
      shared.createSalesOrder({
        ...draft('XD-CONN-PRICE'),
        lines: [{ sku: 'SKU-000005', quantity: 1, unitPrice: '12,50' }],
      }),
    );
    assert.equal(error.reason, 'invalid_draft');
    assert.equal(
      error.message,
      'erp: createSalesOrder: lines[0].unitPrice: expected a decimal string such as "12.50", got "12,50"',
    );
    assert.deepEqual(routes(), {});
  });

  it('will not adopt another customer’s order that carries the same external number', async () => {
    const edi = world.orders.find((o) => o.channel === 'EDI' && o.customerNumber !== 'C10001');
    assert.ok(edi?.externalReference);
    const error = await rejection(shared.createSalesOrder(draft(edi.externalReference)));
    assert.equal(error.code, 'SOURCE_REJECTED');
    assert.equal(error.reason, 'reference_conflict');
    assert.equal(
      error.message,
      `erp: order ${edi.number} already carries the reference "${edi.externalReference}" for customer ${edi.customerNumber}, not for C10001`,
    );
    assert.deepEqual(routes(), { 'GET salesOrders': 1 });
  });

  it('finds an order by external number in any case, and answers null for none', async () => {
    // A quote in the reference: found only if the connector quotes it as OData wants ('').
    const order = await shared.createSalesOrder(draft("XD-CONN-O'FIND"));
    assert.equal(order.externalReference, "XD-CONN-O'FIND");
    assert.deepEqual(await shared.findSalesOrderByExternalNumber("xd-conn-o'find"), order);
    assert.equal(await shared.findSalesOrderByExternalNumber('XD-NOWHERE'), null);
  });

  it('cancels with the etag it read; cancelling again, or an unknown order, is success', async () => {
    const order = await shared.createSalesOrder(draft('XD-CONN-CANCEL'));
    erp.control.resetStats();
    await shared.cancelSalesOrder(order.number);
    assert.deepEqual(routes(), { 'GET salesOrders': 1, 'DELETE salesOrders({id})': 1 });
    assert.deepEqual(await shared.ordersByNumber([order.number]), [null]);
    erp.control.resetStats();
    await shared.cancelSalesOrder(order.number);
    await shared.cancelSalesOrder('SO-999999');
    assert.deepEqual(routes(), { 'GET salesOrders': 2 });
  });

  it('re-reads and retries once when the order changed under it (409)', async () => {
    const order = await shared.createSalesOrder(draft('XD-CONN-409'));
    erp.control.resetStats();
    intercept = (req, _res, next) => {
      if (req.method === 'DELETE') {
        intercept = null;
        req.headers['if-match'] = 'W/"stale"';
      }
      next();
    };
    await shared.cancelSalesOrder(order.number);
    assert.deepEqual(routes(), { 'GET salesOrders': 2, 'DELETE salesOrders({id})': 2 });
    assert.deepEqual(await ordersUnder('XD-CONN-409'), []);
  });

  it('refuses to cancel a shipped order as already_shipped, without a DELETE', async () => {
    const shipped = world.orders.find((o) => o.stage === 'SHIPPED');
    assert.ok(shipped);
    const [first] = shipped.lines;
    assert.ok(first);
    const error = await rejection(shared.cancelSalesOrder(shipped.number));
    assert.equal(error.code, 'SOURCE_REJECTED');
    assert.equal(error.reason, 'already_shipped');
    assert.equal(
      error.message,
      `erp: order ${shipped.number} cannot be cancelled: line ${first.sequence} (${first.sku}) has shipped ${first.shippedQuantity}`,
    );
    assert.deepEqual(routes(), { 'GET salesOrders': 1 });
  });

  it('records a return as one credit memo however often it is sent', async () => {
    const rma = {
      reference: 'rma-conn-1',
      orderNumber: world.orders[1]?.number ?? '',
      customerNumber: 'C10001',
      reason: 'damaged in transit',
      lines: [{ sku: 'SKU-000007', quantity: 1 }],
    };
    const first = await shared.createReturn(rma);
    assert.equal(first.reference, 'rma-conn-1');
    assert.match(first.number ?? '', /^SCM-\d{6}$/);
    assert.deepEqual(routes(), { 'GET salesCreditMemos': 1, 'POST salesCreditMemos': 1 });
    erp.control.resetStats();
    assert.deepEqual(await shared.createReturn(rma), first);
    assert.deepEqual(routes(), { 'GET salesCreditMemos': 1 });
    const memos = values(
      await call('GET', `salesCreditMemos?${f("externalDocumentNumber eq 'RMA-CONN-1'")}`),
    );
    assert.deepEqual(
      memos.map((m) => m['id']),
      [first.nativeId],
    );
    const blocked = await rejection(
      shared.createReturn({ ...rma, reference: 'RMA-CONN-ALL', customerNumber: 'C10029' }),
    );
    assert.equal(blocked.reason, 'business_rule');
  });
});

describe('ERP connector: faults on writes', () => {
  it('a 5xx on the POST alone is SOURCE_UNAVAILABLE, and nothing was created', async () => {
    intercept = (req, res, next) => {
      if (req.method === 'POST' && req.path.endsWith('/salesOrders')) {
        res.status(503).json({ error: { code: 'Internal_TenantUnavailable', message: 'x' } });
        return;
      }
      next();
    };
    const error = await rejection(shared.createSalesOrder(draft('XD-FAULT-POST')));
    assert.equal(error.code, 'SOURCE_UNAVAILABLE');
    assert.equal(error.reason, 'http_503');
    assert.equal(error.status, 503);
    assert.equal(error.message, 'erp: POST salesOrders answered HTTP 503');
    intercept = null;
    assert.deepEqual(await ordersUnder('XD-FAULT-POST'), []);
  });

  it('injected errors, a system that is down, malformed answers and timeouts', async () => {
    const connector = connect({ timeoutMs: 100 });
    await connector.findSalesOrderByExternalNumber('XD-WARM'); // token first
    const cases: [Parameters<RunningSystem['control']['setFaults']>[0], string, string][] = [
      [{ errorRate: 1 }, 'SOURCE_UNAVAILABLE', 'http_503'],
      [{ down: true }, 'SOURCE_UNAVAILABLE', 'connection_error'],
      [{ malformed: true }, 'SOURCE_BAD_RESPONSE', 'schema_mismatch'],
      [{ latencyMs: 5_000 }, 'SOURCE_TIMEOUT', 'timeout'],
    ];
    for (const [faults, code, reason] of cases) {
      erp.control.setFaults(faults);
      for (const write of [
        () => connector.createSalesOrder(draft('XD-FAULTS')),
        () => connector.cancelSalesOrder('SO-100001'),
        () =>
          connector.createReturn({
            reference: 'RMA-FAULTS',
            orderNumber: 'SO-100001',
            customerNumber: 'C10001',
            reason: 'x',
            lines: [{ sku: 'SKU-000001', quantity: 1 }],
          }),
      ]) {
        const error = await rejection(write());
        assert.deepEqual([error.code, error.reason, error.source], [code, reason, 'erp']);
      }
      erp.control.setFaults({ latencyMs: 0, errorRate: 0, down: false, malformed: false });
    }
    assert.deepEqual(await ordersUnder('XD-FAULTS'), []);
  });
});

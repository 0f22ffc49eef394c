/**
 * The sandbox ERP's OData dialect over raw HTTP: auth, the `$filter` grammar, server-driven
 * paging, `$select`, `$expand`, keys, errors, the pricing custom API and the injected faults.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createErpApp } from '../sandbox/erp.js';
import { ERP_SANDBOX } from '../sandbox/credentials.js';
import { MAX_CORRELATIONS, listen, type RunningSystem } from '../sandbox/faults.js';
import { PRICE_GROUPS, buildWorld, centsToDecimal, stableGuid } from '../sandbox/seed.js';

const world = buildWorld({ catalogSize: 300 });
const C = ERP_SANDBOX;
let clock = Date.now();
let erp: RunningSystem;
let token: string;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

type Rows = Record<string, unknown>[];

const apiBase = (): string =>
  `${erp.url}/v2.0/${C.tenant}/${C.environment}/api/v2.0/companies(${C.companyId})`;
const pricingBase = (): string =>
  `${erp.url}/v2.0/${C.tenant}/${C.environment}/api/crossdock/pricing/v1.0/companies(${C.companyId})`;

async function call(
  url: string,
  init: { headers?: Record<string, string>; method?: string; bearer?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  const bearer = init.bearer === undefined ? token : init.bearer;
  if (bearer !== null) headers['authorization'] = `Bearer ${bearer}`;
  const res = await fetch(url, { method: init.method ?? 'GET', headers });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as Record<string, unknown>,
  };
}

const api = (path: string, init?: Parameters<typeof call>[1]): Promise<Answer> =>
  call(`${apiBase()}/${path}`, init);

/** `$filter` made URL-safe. */
const f = (filter: string): string => `$filter=${encodeURIComponent(filter)}`;

const values = (answer: Answer): Rows => {
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.ok(Array.isArray(answer.body['value']));
  return answer.body['value'] as Rows;
};

const numbers = (answer: Answer): string[] => values(answer).map((row) => String(row['number']));

/** The BC error of an answer, with the random CorrelationId suffix checked and removed. */
function bcError(answer: Answer): { status: number; code: string; message: string } {
  const error = answer.body['error'] as { code: string; message: string };
  const match = /^(.*)  CorrelationId:  [0-9a-f-]{36}\.$/.exec(error.message);
  assert.ok(match, `message without CorrelationId suffix: ${error.message}`);
  return { status: answer.status, code: error.code, message: match[1] ?? '' };
}

async function fetchToken(
  body: string,
  contentType: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${erp.url}/${C.tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const GOOD = {
  grant_type: 'client_credentials',
  client_id: C.clientId,
  client_secret: C.clientSecret,
  scope: C.scope,
};

before(async () => {
  const made = createErpApp(world, { now: () => clock });
  erp = await listen('erp', made.app, made.control, 0);
  const answer = await fetchToken(form(GOOD), 'application/x-www-form-urlencoded');
  token = String(answer.body['access_token']);
});

after(async () => {
  await erp.close();
});

describe('auth', () => {
  it('issues a bearer token for form-encoded and JSON client credentials', async () => {
    const viaForm = await fetchToken(form(GOOD), 'application/x-www-form-urlencoded');
    assert.equal(viaForm.status, 200);
    assert.equal(viaForm.body['token_type'], 'Bearer');
    assert.equal(viaForm.body['expires_in'], 3600);
    assert.match(String(viaForm.body['access_token']), /^[A-Za-z0-9_-]{32}$/);
    const viaJson = await fetchToken(JSON.stringify(GOOD), 'application/json');
    assert.equal(viaJson.status, 200);
    assert.notEqual(viaJson.body['access_token'], viaForm.body['access_token']);
  });

  const refused: [string, Record<string, string>, number, string, string][] = [
    [
      'a wrong secret',
      { ...GOOD, client_secret: 'nope' },
      401,
      'invalid_client',
      'AADSTS7000215: Invalid client secret provided.',
    ],
    [
      'an unknown client',
      { ...GOOD, client_id: 'who' },
      400,
      'unauthorized_client',
      "AADSTS700016: Application with identifier 'who' was not found in the directory 'crossdock-sandbox'.",
    ],
    [
      'another grant',
      { ...GOOD, grant_type: 'password' },
      400,
      'unsupported_grant_type',
      "AADSTS70003: The app requested an unsupported grant type 'password'; expected 'client_credentials'.",
    ],
    [
      'a missing scope',
      { grant_type: 'client_credentials', client_id: C.clientId, client_secret: C.clientSecret },
      400,
      'invalid_request',
      "AADSTS900144: The request body must contain the following parameter: 'scope'.",
    ],
  ];
  for (const [what, fields, status, error, description] of refused) {
    it(`refuses ${what}`, async () => {
      const answer = await fetchToken(form(fields), 'application/x-www-form-urlencoded');
      assert.equal(answer.status, status);
      assert.equal(answer.body['error'], error);
      assert.equal(answer.body['error_description'], description);
    });
  }

  it('answers 401 Authentication_InvalidCredentials without a valid bearer', async () => {
    for (const bearer of [null, 'not-a-token']) {
      const answer = await api('items?$top=1', { bearer });
      assert.deepEqual(bcError(answer), {
        status: 401,
        code: 'Authentication_InvalidCredentials',
        message: 'The server has rejected the client credentials.',
      });
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer authorization_uri=/);
    }
  });

  it('rejects a token once it has expired', async () => {
    const fresh = await fetchToken(form(GOOD), 'application/x-www-form-urlencoded');
    const bearer = String(fresh.body['access_token']);
    assert.equal((await api('items?$top=1', { bearer })).status, 200);
    clock += 3600 * 1000;
    try {
      const answer = await api('items?$top=1', { bearer });
      assert.equal(bcError(answer).code, 'Authentication_InvalidCredentials');
    } finally {
      clock -= 3600 * 1000;
    }
  });
});

describe('resources', () => {
  it('lists the company', async () => {
    const answer = await call(`${erp.url}/v2.0/${C.tenant}/${C.environment}/api/v2.0/companies`);
    const rows = values(answer);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.['id'], C.companyId);
  });

  it('serves items in BC fields with inventory summed over the stock', async () => {
    const product = world.products[41];
    assert.ok(product);
    const [item] = values(await api(`items?${f(`number eq '${product.sku}'`)}`));
    const onHand = world.stock
      .filter((s) => s.sku === product.sku)
      .reduce((sum, s) => sum + s.onHand, 0);
    assert.ok(item);
    assert.match(String(item['@odata.etag']), /^W\/"JzQ0O[A-Za-z0-9+/=]+"$/);
    assert.deepEqual(
      {
        id: item['id'],
        displayName: item['displayName'],
        type: item['type'],
        itemCategoryCode: item['itemCategoryCode'],
        blocked: item['blocked'],
        gtin: item['gtin'],
        inventory: item['inventory'],
        unitPrice: item['unitPrice'],
        unitCost: item['unitCost'],
        baseUnitOfMeasureCode: item['baseUnitOfMeasureCode'],
      },
      {
        id: stableGuid(`item:${product.sku}`),
        displayName: product.name,
        type: 'Inventory',
        itemCategoryCode: product.category,
        blocked: product.blocked,
        gtin: product.gtin,
        inventory: onHand,
        unitPrice: Number(centsToDecimal(product.priceCents)),
        unitCost: Number(centsToDecimal(product.costCents)),
        baseUnitOfMeasureCode: product.unitOfMeasure,
      },
    );
  });

  it('answers a single entity by key, and 404 BadRequest_NotFound for an unknown one', async () => {
    const id = stableGuid('item:SKU-000007');
    const found = await api(`items(${id})`);
    assert.equal(found.status, 200);
    assert.equal(found.body['number'], 'SKU-000007');
    assert.match(
      String(found.body['@odata.context']),
      /\/\$metadata#companies\([0-9a-f-]+\)\/items\/\$entity$/,
    );
    assert.deepEqual(bcError(await api('items(00000000-0000-4000-a000-000000000001)')), {
      status: 404,
      code: 'BadRequest_NotFound',
      message: "Resource not found for the segment 'items'.",
    });
    assert.deepEqual(bcError(await api('widgets')), {
      status: 404,
      code: 'BadRequest_NotFound',
      message: "Resource not found for the segment 'widgets'.",
    });
    assert.deepEqual(bcError(await api('items(SKU-000007)')), {
      status: 400,
      code: 'BadRequest_InvalidToken',
      message:
        "Bad Request - Error in query syntax: the key 'SKU-000007' of 'items' is not a GUID.",
    });
  });

  it('refuses writes other than its own with BadRequest_MethodNotAllowed', async () => {
    const writes =
      'it writes POST salesOrders, DELETE salesOrders({id}), POST salesOrders({id})/Microsoft.NAV.shipAndInvoice, PATCH customers({id}) (blocked only) and POST salesCreditMemos.';
    assert.deepEqual(bcError(await api('items', { method: 'POST' })), {
      status: 405,
      code: 'BadRequest_MethodNotAllowed',
      message: `'POST' requests for 'items' are not supported by the sandbox; ${writes}`,
    });
    const order = stableGuid(`salesOrder:${world.orders[0]?.number ?? ''}`);
    assert.deepEqual(bcError(await api(`salesOrders(${order})`, { method: 'PATCH' })), {
      status: 405,
      code: 'BadRequest_MethodNotAllowed',
      message: `'PATCH' requests for 'salesOrders(${order})' are not supported by the sandbox; ${writes}`,
    });
  });

  it('maps order stages to Draft/Open and carries channel and external document number', async () => {
    const rows = values(
      await api(
        `salesOrders?$select=number,status,crossdockChannel,externalDocumentNumber,fullyShipped`,
      ),
    );
    assert.equal(rows.length, world.orders.length);
    for (const order of world.orders) {
      const row = rows.find((r) => r['number'] === order.number);
      assert.deepEqual(
        row && [
          row['status'],
          row['crossdockChannel'],
          row['externalDocumentNumber'],
          row['fullyShipped'],
        ],
        [
          order.stage === 'OPEN' ? 'Draft' : 'Open',
          order.channel,
          order.externalReference ?? '',
          order.lines.every((l) => l.shippedQuantity === l.quantity),
        ],
      );
    }
  });

  it('makes every third invoice Paid and dates it by payment terms', async () => {
    const rows = values(await api('salesInvoices'));
    const invoiced = world.orders.filter((o) => o.invoiceNumber !== null);
    assert.deepEqual(
      rows.map((r) => r['number']),
      invoiced.map((o) => o.invoiceNumber),
    );
    rows.forEach((row, i) => {
      const order = invoiced[i];
      assert.ok(order);
      const totalCents = order.lines.reduce((sum, l) => sum + l.unitPriceCents * l.quantity, 0);
      const paid = (i + 1) % 3 === 0;
      const terms = world.customers.find((c) => c.number === order.customerNumber)?.paymentTerms;
      const days = terms === 'NET60' ? 60 : terms === 'COD' ? 0 : 30;
      const invoiceDate = (order.shippedAt ?? '').slice(0, 10);
      const due = new Date(Date.parse(`${invoiceDate}T00:00:00Z`) + days * 86_400_000)
        .toISOString()
        .slice(0, 10);
      assert.deepEqual(
        [
          row['status'],
          row['orderNumber'],
          row['totalAmountIncludingTax'],
          row['remainingAmount'],
          row['dueDate'],
        ],
        [paid ? 'Paid' : 'Open', order.number, totalCents / 100, paid ? 0 : totalCents / 100, due],
      );
    });
  });
});

describe('$filter', () => {
  const skus = (pred: (p: (typeof world.products)[number]) => boolean): string[] =>
    world.products.filter(pred).map((p) => p.sku);
  const cases: [string, string, string[]][] = [
    ['eq', "number eq 'SKU-000002'", ['SKU-000002']],
    [
      'in, answered in key order',
      "number in ('SKU-000003','SKU-000001','NOPE')",
      ['SKU-000001', 'SKU-000003'],
    ],
    [
      'or on one field',
      "number eq 'SKU-000005' or number eq 'SKU-000001'",
      ['SKU-000001', 'SKU-000005'],
    ],
    ['ge', "number ge 'SKU-000298'", ['SKU-000298', 'SKU-000299', 'SKU-000300']],
    [
      'gt and lt',
      "number gt 'SKU-000290' and number lt 'SKU-000293'",
      ['SKU-000291', 'SKU-000292'],
    ],
    [
      'ne and a boolean',
      "blocked eq true and number ne 'SKU-000194'",
      ['SKU-000097', 'SKU-000291'],
    ],
    ['startswith', "startswith(number,'SKU-00001')", skus((p) => p.sku.startsWith('SKU-00001'))],
    [
      'contains, case-insensitive',
      "contains(displayName,'hex bolt')",
      skus((p) => p.name.toLowerCase().includes('hex bolt')),
    ],
    [
      'a decimal comparison',
      "itemCategoryCode eq 'Tools' and unitPrice gt 250.5",
      skus((p) => p.category === 'Tools' && p.priceCents > 25050),
    ],
    [
      'parentheses',
      "(number eq 'SKU-000001' or number eq 'SKU-000097') and blocked eq false",
      ['SKU-000001'],
    ],
    ['a guid', `id eq ${stableGuid('item:SKU-000009').toUpperCase()}`, ['SKU-000009']],
  ];
  for (const [what, filter, expected] of cases) {
    it(`filters with ${what}`, async () => {
      assert.deepEqual(numbers(await api(`items?$select=number&${f(filter)}`)), expected);
    });
  }

  it('filters with a doubled quote: the literal holds one quote', async (t) => {
    // No seed value holds a quote, so an ERP of its own gets an order whose reference does.
    const made = createErpApp(world, { now: () => clock });
    const own = await listen('erp', made.app, made.control, 0);
    t.after(() => own.close());
    const granted = await fetch(`${own.url}/${C.tenant}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form(GOOD),
    });
    const bearer = String(((await granted.json()) as Record<string, unknown>)['access_token']);
    const orders = `${own.url}/v2.0/${C.tenant}/${C.environment}/api/v2.0/companies(${C.companyId})/salesOrders`;
    const posted = await fetch(orders, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        externalDocumentNumber: "IT'S-1",
        customerNumber: 'C10001',
        salesOrderLines: [{ lineType: 'Item', lineObjectNumber: 'SKU-000001', quantity: 1 }],
      }),
    });
    assert.equal(posted.status, 201);
    const number = String(((await posted.json()) as Record<string, unknown>)['number']);
    const matching = async (filter: string) =>
      numbers(await call(`${orders}?$select=number&${f(filter)}`, { bearer }));
    assert.deepEqual(await matching("externalDocumentNumber eq 'IT''S-1'"), [number]);
    assert.deepEqual(await matching("contains(externalDocumentNumber,'''')"), [number]);
    assert.deepEqual(await matching("externalDocumentNumber eq 'ITS-1'"), []);
    // The reference is indexed (sandbox/erp/table.ts): lists and `or` look it up too, and a
    // deleted order leaves the index.
    assert.deepEqual(await matching("externalDocumentNumber in ('IT''S-1','NONE')"), [number]);
    assert.deepEqual(
      await matching("externalDocumentNumber eq 'NONE' or externalDocumentNumber eq 'IT''S-1'"),
      [number],
    );
    const created = (await (
      await fetch(`${orders}?$filter=${encodeURIComponent(`number eq '${number}'`)}`, {
        headers: { authorization: `Bearer ${bearer}` },
      })
    ).json()) as { value: { id: string; '@odata.etag': string }[] };
    const row = created.value[0];
    assert.ok(row);
    const deleted = await fetch(`${orders}(${row.id})`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${bearer}`, 'if-match': row['@odata.etag'] },
    });
    assert.equal(deleted.status, 204);
    assert.deepEqual(await matching("externalDocumentNumber eq 'IT''S-1'"), []);
  });

  it('filters dates', async () => {
    const from = '2026-10-30';
    const expected = world.orders
      .filter((o) => o.orderDate.slice(0, 10) >= from)
      .map((o) => o.number);
    assert.ok(expected.length > 0 && expected.length < world.orders.length);
    assert.deepEqual(
      numbers(await api(`salesOrders?$select=number&${f(`orderDate ge ${from}`)}`)),
      expected,
    );
  });

  const errors: [string, string, string][] = [
    [
      "number eq 'A' or displayName eq 'B'",
      'BadRequest_NotSupported',
      "The 'or' operator can only combine conditions on the same field; found 'number' and 'displayName'.",
    ],
    [
      'nosuch eq 1',
      'BadRequest_NotFound',
      "Could not find a property named 'nosuch' on type 'Microsoft.NAV.item'.",
    ],
    [
      'number eq 5',
      'BadRequest_InvalidToken',
      "A binary operator with incompatible types was detected. Found operand types 'Edm.String' and 'Edm.Int32' for operator kind 'Equal'.",
    ],
    [
      "blocked in (true,'x')",
      'BadRequest_InvalidToken',
      "A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'In'.",
    ],
    [
      "number eq 'x",
      'BadRequest_InvalidToken',
      "Syntax error at position 10 in 'number eq 'x': expected a closing quote for the string literal, found the end of the expression.",
    ],
    [
      'number eq',
      'BadRequest_InvalidToken',
      "Syntax error at position 9 in 'number eq': expected a literal value, found the end of the expression.",
    ],
    [
      "number in ('a' 'b')",
      'BadRequest_InvalidToken',
      "Syntax error at position 15 in 'number in ('a' 'b')': expected ',' or ')', found ''b''.",
    ],
    [
      "number eq 'a' and",
      'BadRequest_InvalidToken',
      "Syntax error at position 17 in 'number eq 'a' and': expected a field or a function, found the end of the expression.",
    ],
    [
      "number like 'a'",
      'BadRequest_InvalidToken',
      "Syntax error at position 7 in 'number like 'a'': expected an operator (eq, ne, gt, ge, lt, le, in), found 'like'.",
    ],
    [
      "number eq 'a' number",
      'BadRequest_InvalidToken',
      "Syntax error at position 14 in 'number eq 'a' number': expected 'and', 'or' or the end of the expression, found 'number'.",
    ],
    [
      "number eq 'a' ; x",
      'BadRequest_InvalidToken',
      "Syntax error at position 14 in 'number eq 'a' ; x': expected a field, an operator or a literal, found ';'.",
    ],
    [
      "tolower(number) eq 'x'",
      'BadRequest_NotSupported',
      "The function 'tolower' is not supported; expected contains, startswith or endswith.",
    ],
    [
      "contains(tolower(displayName),'x')",
      'BadRequest_NotSupported',
      "Nested function calls are not supported: 'tolower(' inside 'contains'.",
    ],
    [
      "contains(unitPrice,'1')",
      'BadRequest_InvalidToken',
      "No function signature for the function with name 'contains' matches the specified arguments. The function signatures considered are: contains(Edm.String Nullable=true, Edm.String Nullable=true).",
    ],
    [
      'not blocked eq true',
      'BadRequest_NotSupported',
      "The 'not' operator is not supported in $filter.",
    ],
  ];
  for (const [filter, code, message] of errors) {
    it(`rejects ${filter}`, async () => {
      assert.deepEqual(bcError(await api(`items?${f(filter)}`)), { status: 400, code, message });
    });
  }
});

describe('paging', () => {
  async function walk(
    first: string,
    maxPageSize: number,
  ): Promise<{ rows: string[]; pages: number[] }> {
    const rows: string[] = [];
    const pages: number[] = [];
    let url: string | undefined = first;
    while (url !== undefined) {
      const answer = await call(url, { headers: { prefer: `odata.maxpagesize=${maxPageSize}` } });
      assert.equal(answer.headers.get('preference-applied'), `odata.maxpagesize=${maxPageSize}`);
      const page = numbers(answer);
      pages.push(page.length);
      rows.push(...page);
      const next = answer.body['@odata.nextLink'];
      url = typeof next === 'string' ? next : undefined;
      if (url !== undefined) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v2\.0\/.*\$skiptoken=/);
    }
    return { rows, pages };
  }

  it('walks every item through nextLink without gaps or duplicates', async () => {
    const { rows, pages } = await walk(`${apiBase()}/items?$select=number`, 7);
    assert.deepEqual(
      rows,
      world.products.map((p) => p.sku),
    );
    assert.equal(pages.length, Math.ceil(300 / 7));
    assert.ok(pages.slice(0, -1).every((n) => n === 7));
    assert.equal(pages.at(-1), 300 % 7);
  });

  it('keeps $filter, $orderby, $skip and $top across pages', async () => {
    const { rows, pages } = await walk(
      `${apiBase()}/items?$select=number&${f('blocked eq false')}&$orderby=${encodeURIComponent('number desc')}&$skip=2&$top=10`,
      4,
    );
    const expected = world.products
      .filter((p) => !p.blocked)
      .map((p) => p.sku)
      .reverse()
      .slice(2, 12);
    assert.deepEqual(rows, expected);
    assert.deepEqual(pages, [4, 4, 2]);
  });

  it('answers everything in one page without a Prefer header', async () => {
    const answer = await api('items?$select=number');
    assert.equal(values(answer).length, 300);
    assert.equal(answer.body['@odata.nextLink'], undefined);
    assert.equal(answer.headers.get('preference-applied'), null);
  });

  it('caps pages at the server maximum', async () => {
    const made = createErpApp(world, { maxPageSize: 120 });
    const small = await listen('erp', made.app, made.control, 0);
    try {
      const granted = await fetch(`${small.url}/${C.tenant}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form(GOOD),
      });
      const bearer = String(((await granted.json()) as Record<string, unknown>)['access_token']);
      const items = `${small.url}/v2.0/${C.tenant}/${C.environment}/api/v2.0/companies(${C.companyId})/items`;
      const res = await fetch(`${items}?$select=number`, {
        headers: { authorization: `Bearer ${bearer}`, prefer: 'odata.maxpagesize=500' },
      });
      const body = (await res.json()) as { value: unknown[]; '@odata.nextLink'?: string };
      assert.equal(body.value.length, 120);
      assert.equal(res.headers.get('preference-applied'), 'odata.maxpagesize=120');
      assert.match(body['@odata.nextLink'] ?? '', /\$skiptoken=/);
    } finally {
      await small.close();
    }
  });

  it('rejects a skip token it did not issue and a bad $top', async () => {
    assert.deepEqual(bcError(await api('items?$skiptoken=garbage')), {
      status: 400,
      code: 'BadRequest_InvalidToken',
      message: "The skip token 'garbage' is not valid.",
    });
    assert.deepEqual(bcError(await api('items?$top=-1')), {
      status: 400,
      code: 'BadRequest_InvalidToken',
      message:
        "Invalid value '-1' for $top query option found. The $top query option requires a non-negative integer value.",
    });
    assert.deepEqual(bcError(await api('items?$count=true')), {
      status: 400,
      code: 'BadRequest_NotSupported',
      message: "The query option '$count' is not supported.",
    });
  });
});

describe('$select and $expand', () => {
  it('returns only the selected fields, with the etag, and names them in the context', async () => {
    const answer = await api(`items?$select=number,displayName&${f("number eq 'SKU-000001'")}`);
    const [row] = values(answer);
    assert.deepEqual(Object.keys(row ?? {}), ['@odata.etag', 'number', 'displayName']);
    assert.match(String(answer.body['@odata.context']), /\/items\(number,displayName\)$/);
    assert.deepEqual(bcError(await api('items?$select=number,price')), {
      status: 400,
      code: 'BadRequest_NotFound',
      message: "Could not find a property named 'price' on type 'Microsoft.NAV.item'.",
    });
  });

  it('expands order lines, and serves them as a navigation', async () => {
    const order = world.orders[4];
    assert.ok(order);
    const [row] = values(
      await api(`salesOrders?${f(`number eq '${order.number}'`)}&$expand=salesOrderLines`),
    );
    const lines = row?.['salesOrderLines'] as Rows;
    const expected = order.lines.map((l) => [
      l.sequence,
      l.sku,
      l.quantity,
      l.unitPriceCents / 100,
      l.shippedQuantity,
    ]);
    assert.deepEqual(
      lines.map((l) => [
        l['sequence'],
        l['lineObjectNumber'],
        l['quantity'],
        l['unitPrice'],
        l['shippedQuantity'],
      ]),
      expected,
    );
    const nav = values(await api(`salesOrders(${String(row?.['id'])})/salesOrderLines`));
    assert.deepEqual(
      nav.map((l) => [
        l['sequence'],
        l['lineObjectNumber'],
        l['quantity'],
        l['unitPrice'],
        l['shippedQuantity'],
      ]),
      expected,
    );
    const filtered = values(
      await api(`salesOrderLines?${f(`documentId eq ${String(row?.['id'])}`)}`),
    );
    assert.equal(filtered.length, order.lines.length);
    assert.deepEqual(bcError(await api('salesOrderLines')), {
      status: 400,
      code: 'BadRequest_RequiredParamNotProvided',
      message:
        "You must specify an Id or a Document Id to get the lines: expected a $filter with 'documentId eq <guid>' or 'id eq <guid>'.",
    });
  });

  it("expands a customer's payment terms", async () => {
    const customer = world.customers[1];
    assert.ok(customer);
    const [row] = values(
      await api(`customers?${f(`number eq '${customer.number}'`)}&$expand=paymentTerm`),
    );
    assert.equal((row?.['paymentTerm'] as Record<string, unknown>)['code'], customer.paymentTerms);
    assert.equal(row?.['blocked'], customer.blocked);
    assert.deepEqual(bcError(await api('customers?$expand=salesOrders')), {
      status: 400,
      code: 'BadRequest_NotFound',
      message: "Could not find a property named 'salesOrders' on type 'Microsoft.NAV.customer'.",
    });
  });
});

describe('pricing custom API', () => {
  it('prices items for a customer by its price group', async () => {
    const customer = world.customers[0];
    assert.ok(customer);
    const discount = PRICE_GROUPS[customer.priceGroup] ?? 0;
    const filter = `customerNumber eq '${customer.number}' and itemNumber in ('SKU-000002','SKU-000001','NOPE')`;
    const rows = values(await call(`${pricingBase()}/customerPrices?${f(filter)}`));
    assert.deepEqual(
      rows.map((r) => [
        r['customerNumber'],
        r['itemNumber'],
        r['priceGroupCode'],
        r['discountPercent'],
        r['unitPrice'],
      ]),
      ['SKU-000001', 'SKU-000002'].map((sku) => {
        const p = world.products.find((x) => x.sku === sku);
        assert.ok(p);
        return [
          customer.number,
          sku,
          customer.priceGroup,
          discount,
          Math.round((p.priceCents * (100 - discount)) / 100) / 100,
        ];
      }),
    );
    assert.deepEqual(
      bcError(await call(`${pricingBase()}/customerPrices?${f("itemNumber eq 'SKU-000001'")}`)),
      {
        status: 400,
        code: 'BadRequest_RequiredParamNotProvided',
        message:
          "customerPrices needs the customer: expected a $filter with 'customerNumber eq' or 'customerNumber in (...)'.",
      },
    );
  });

  it('lists customer price groups', async () => {
    const rows = values(await call(`${pricingBase()}/customerPriceGroups`));
    assert.deepEqual(
      rows.map((r) => [r['customerNumber'], r['priceGroupCode']]),
      world.customers.map((c) => [c.number, c.priceGroup]),
    );
  });
});

describe('faults', () => {
  it('answers an injected error with the BC 503 body, and malformed with a value that is not a list', async () => {
    erp.control.setFaults({ errorRate: 1 });
    try {
      assert.deepEqual(bcError(await api('items')), {
        status: 503,
        code: 'Internal_TenantUnavailable',
        message: 'The tenant is temporarily unavailable. Please try again later.',
      });
    } finally {
      erp.control.setFaults({ errorRate: 0 });
    }
    erp.control.setFaults({ malformed: true });
    try {
      const answer = await api('items');
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { value: 'not-a-list' });
    } finally {
      erp.control.setFaults({ malformed: false });
    }
  });

  it('keeps the requests of the last MAX_CORRELATIONS correlation IDs, dropping the oldest', async () => {
    erp.control.resetStats();
    const ids = Array.from({ length: MAX_CORRELATIONS + 2 }, (_, i) => `cap-${i}`);
    for (const id of ids) await api('items?$top=1', { headers: { 'x-correlation-id': id } });
    // A second request of a kept ID adds to its list and evicts nothing.
    await api('items?$top=1', { headers: { 'x-correlation-id': 'cap-2' } });
    const kept = erp.control.stats().byCorrelation;
    assert.equal(Object.keys(kept).length, MAX_CORRELATIONS);
    assert.equal(kept['cap-0'], undefined);
    assert.equal(kept['cap-1'], undefined);
    assert.equal(kept['cap-2']?.length, 2);
    assert.equal(kept[`cap-${MAX_CORRELATIONS + 1}`]?.length, 1);
    erp.control.resetStats();
    await api('items?$top=1', { headers: { 'x-correlation-id': 'cap-0' } });
    assert.deepEqual(Object.keys(erp.control.stats().byCorrelation), ['cap-0']);
  });
});

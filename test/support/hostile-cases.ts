/**
 * The hostile-input table (issue #9): requests an attacker would send over HTTP, raw TCP,
 * graphql-ws (whole messages and hand-made frames) and the webhook endpoints, each with its exact
 * expected answer. Run by test/hostile-table.test.ts against a stack with the limits of
 * {@link TABLE_LIMITS}; a case marked `hardened` runs against one with the production defaults.
 */
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { COMMERCE_SANDBOX, ERP_SANDBOX } from '../../sandbox/credentials.js';
import { signShopifyWebhook } from '../../sources/commerce/webhooks.js';
import { signStandardWebhook } from '../../sources/erp/webhooks.js';
import { shownValue } from '../../resolvers/errors.js';
import { sealCursor } from './ws.js';
import {
  frame,
  holdSockets,
  overFrames,
  overHttp,
  overTcp,
  overWebSocket,
  type Answer,
  type Expected,
  type WsScript,
} from './hostile.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The settings of the table's stacks: small limits, so going over them is cheap. */
export const TABLE_LIMITS = {
  HTTP_MAX_BODY_BYTES: '65536',
  HTTP_MAX_HEADER_BYTES: '4096',
  HTTP_HEADERS_TIMEOUT_MS: '200',
  HTTP_REQUEST_TIMEOUT_MS: '300',
  HTTP_KEEPALIVE_TIMEOUT_MS: '100',
  WS_PREINIT_MAX_BYTES: '1024',
  WS_INIT_TIMEOUT_MS: '300',
  WS_MAX_SUBSCRIPTIONS: '2',
  WS_MAX_SOCKETS_PER_KEY: '2',
  WEBHOOK_MAX_BYTES: '16384',
  WEBHOOK_FAILURES_PER_MINUTE: '60',
  WEBHOOK_KEY_REFRESH_MS: '60000',
  POLL_SOURCES: 'none',
} as const;

/** What production defaults to (a `hardened` case's stack). */
export const HARDENED = {
  GRAPHQL_INTROSPECTION: 'off',
  GRAPHQL_SUGGESTIONS: 'off',
  ERROR_DETAIL: 'redacted',
} as const;

/** Where a case is sent. */
export interface Target {
  readonly origin: string;
  readonly port: number;
  readonly wsUrl: string;
}

/** One row of the table. */
export interface Case {
  readonly category: string;
  readonly name: string;
  readonly hardened?: boolean;
  readonly send: (target: Target) => Promise<Answer>;
  readonly expect: Expected;
}

// --- request makers ----------------------------------------------------------------------------

const ADMIN = { authorization: 'Bearer demo-admin' };
const JSON_TYPE = { 'content-type': 'application/json' };

/** A POST of a raw body to /graphql as the admin key. */
const body =
  (text: string | Buffer, headers: Record<string, string> = JSON_TYPE) =>
  (t: Target) =>
    overHttp(t.origin, { headers: { ...ADMIN, ...headers }, body: text });

/** A GraphQL operation over POST. */
const op =
  (query: string, variables?: Json, headers: Record<string, string> = ADMIN) =>
  (t: Target) =>
    overHttp(t.origin, {
      headers: { ...JSON_TYPE, ...headers },
      body: JSON.stringify(variables === undefined ? { query } : { query, variables }),
    });

/** A GraphQL operation over GET. */
const get =
  (params: Record<string, string>, headers: Record<string, string> = ADMIN) =>
  (t: Target) =>
    overHttp(t.origin, {
      method: 'GET',
      path: `/graphql?${new URLSearchParams(params).toString()}`,
      headers,
    });

const tcp = (chunks: readonly (string | Buffer)[]) => (t: Target) => overTcp(t.port, chunks);

/** A POST /graphql head (for raw TCP cases), Content-Length of `body` unless given. */
const rawPost = (payload: string, extra = '', contentLength: number | string = payload.length) =>
  `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer demo-admin\r\n${extra}Content-Length: ${contentLength}\r\n\r\n${payload}`;

/** A placeOrder of one line for C10001 on WEB, with `over` replacing parts of the input. */
const placeOrder = (over: Json) =>
  op(
    'mutation($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) { order { id } userErrors { code message } } }',
    {
      key: 'key' in over ? over.key : `hostile-${randomUUID()}`,
      input: {
        channel: 'WEB',
        customerId: 'C10001',
        lines: [{ sku: 'SKU-000001', quantity: 1 }],
        ...Object.fromEntries(Object.entries(over).filter(([k]) => k !== 'key')),
      },
    },
  );

const ws = (script: WsScript) => (t: Target) => overWebSocket(t.wsUrl, script);

const INIT = { type: 'connection_init', payload: { authorization: 'Bearer demo-admin' } };
/** An initialised socket that sends `messages` after the ack; the answer is the next message. */
const afterInit = (...messages: (Json | string | Buffer)[]) => ws({ init: INIT, frames: messages });
const subscribe = (query: string, variables?: Json, id = 'h1') => ({
  id,
  type: 'subscribe',
  payload: variables ? { query, variables } : { query },
});

const frames =
  (list: readonly Buffer[], headers?: Record<string, string | undefined>) => (t: Target) =>
    overFrames(t.port, list, headers);
const text = (s: string | Json) =>
  frame(1, Buffer.from(typeof s === 'string' ? s : JSON.stringify(s)));

const webhook =
  (system: string, payload: string | Buffer, headers: Record<string, string>, method = 'POST') =>
  (t: Target) =>
    overHttp(t.origin, { method, path: `/webhooks/${system}`, headers, body: payload });

const nowSeconds = () => Math.floor(Date.now() / 1000);
const ERP_SIGNATURE =
  'expected webhook-signature to hold v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>"> under the ERP webhook secret, got ';
const WMS_SIGNATURE =
  'expected Signature to be the base64 RSA-SHA256 signature of the body under the key of GET events/webhook/key, got ';
const creditBody = (number = 'C10001') =>
  JSON.stringify({
    type: 'customer.creditStatusChanged',
    timestamp: new Date().toISOString(),
    data: { id: randomUUID(), number, blocked: 'Ship', previousBlocked: ' ', creditLimit: 1000 },
  });
/** ERP (Standard Webhooks) headers signed with the sandbox secret, with overrides. */
const erpSigned = (payload: string, over: Record<string, string | undefined> = {}) => {
  const id = over['webhook-id'] ?? `msg_${randomUUID()}`;
  const ts = over['webhook-timestamp'] ?? String(nowSeconds());
  const headers: Record<string, string | undefined> = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': ts,
    'webhook-signature': signStandardWebhook(ERP_SANDBOX.webhookSecret, id, ts, payload),
    ...over,
  };
  return Object.fromEntries(
    Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined),
  );
};
const erp = (payload: string, over: Record<string, string | undefined> = {}) =>
  webhook('erp', payload, erpSigned(payload, over));
/** A delivery signed once and sent twice: the answer is the second's. */
const erpTwice = (payload: string) => async (t: Target) => {
  const headers = erpSigned(payload);
  await webhook('erp', payload, headers)(t);
  return webhook('erp', payload, headers)(t);
};
const shopifyHeaders = (payload: string, over: Record<string, string | undefined> = {}) => {
  const headers: Record<string, string | undefined> = {
    'content-type': 'application/json',
    'x-shopify-topic': 'orders/updated',
    'x-shopify-hmac-sha256': signShopifyWebhook(COMMERCE_SANDBOX.webhookSecret, payload),
    'x-shopify-shop-domain': COMMERCE_SANDBOX.shopDomain,
    'x-shopify-api-version': COMMERCE_SANDBOX.apiVersion,
    'x-shopify-webhook-id': randomUUID(),
    'x-shopify-event-id': randomUUID(),
    'x-shopify-triggered-at': new Date().toISOString(),
    ...over,
  };
  return Object.fromEntries(
    Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined),
  );
};
const shopify = (payload: string, over: Record<string, string | undefined> = {}) =>
  webhook('commerce', payload, shopifyHeaders(payload, over));
const wmsForged = (payload: string, signature = 'bm90IGEgc2lnbmF0dXJl') =>
  webhook('wms', payload, { 'content-type': 'application/json', signature });

// --- documents ---------------------------------------------------------------------------------

const x = (n: number) => 'x'.repeat(n);
const deep = (n: number) => `${'{ a'.repeat(n)}${' }'.repeat(n)}`;
const fragmentBomb = (levels: number, leaf = '__typename') =>
  `{ ...F0 } ${Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F${levels} on Query { ${leaf} }`;
const aliases = (n: number) =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ')} }`;
const directives = (n: number) => `{ ${'__typename @include(if: true) '.repeat(n)}}`;
/** Selections `depth` levels deep through Product.inventory.warehouse... (real fields). */
/** Orders and their customers' orders, `levels` times: 3 fields deeper per level. */
const nested = (levels: number) =>
  `{ orders(first: 1) { nodes { ${'customer { orders(first: 1) { nodes { '.repeat(levels)}number${' } } }'.repeat(levels)} } } }`;
const tooComplexTokens = 'Query has more than 2000 tokens, the limit';
const range = (n: number | string) => `first: expected an integer from 0 to 250, got ${n}`;

const NORMAL = '{ warehouses { code } }';
const PRODUCT_1 = '{ product(sku: "SKU-000001") { sku } }';
const INVENTORY_SUB = 'subscription { inventoryChanged { cursor } }';

// --- the table ---------------------------------------------------------------------------------

export const CASES: readonly Case[] = [
  // HTTP framing: sizes, timeouts and the parser, over raw TCP or fetch.
  ...[
    ['a body over HTTP_MAX_BODY_BYTES', body(JSON.stringify({ query: NORMAL, pad: x(70_000) }))],
    [
      'a chunked body over HTTP_MAX_BODY_BYTES',
      tcp([
        `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer demo-admin\r\nTransfer-Encoding: chunked\r\n\r\n`,
        `${(70_000).toString(16)}\r\n${x(70_000)}\r\n0\r\n\r\n`,
      ]),
    ],
    // Answered from the head, before any of the body is sent (it would be 408 if waited for).
    ['a Content-Length over HTTP_MAX_BODY_BYTES, no body sent', tcp([rawPost('', '', 70_000)])],
    [
      'a gzip bomb: 64 KB compressed, 50 MB inflated',
      body(gzipSync(Buffer.alloc(50_000_000, 0x20)), {
        ...JSON_TYPE,
        'content-encoding': 'gzip',
      }),
    ],
  ].map(([name, send]): Case => ({
    category: 'http framing',
    name: name as string,
    send: send as Case['send'],
    expect: {
      status: 413,
      code: 'BAD_USER_INPUT',
      message: 'Request body too large: expected at most 65536 bytes of JSON',
    },
  })),
  {
    category: 'http framing',
    name: 'a head over HTTP_MAX_HEADER_BYTES',
    send: tcp([
      `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nX-Pad: ${x(5_000)}\r\n\r\n`,
    ]),
    expect: { status: 431 },
  },
  {
    category: 'http framing',
    name: 'a URL over HTTP_MAX_HEADER_BYTES',
    send: tcp([`GET /graphql?query=${x(5_000)} HTTP/1.1\r\nHost: x\r\n\r\n`]),
    expect: { status: 431 },
  },
  {
    category: 'http framing',
    name: 'an Authorization header of 5,000 characters',
    send: tcp([
      `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${x(5_000)}\r\n\r\n`,
    ]),
    expect: { status: 431 },
  },
  {
    category: 'http framing',
    name: '3,000 tiny headers',
    send: tcp([`GET /graphql HTTP/1.1\r\nHost: x\r\n${'a:b\r\n'.repeat(3_000)}\r\n`]),
    expect: { status: 431 },
  },
  {
    category: 'http framing',
    name: 'headers never finished (slowloris)',
    send: tcp([`POST /graphql HTTP/1.1\r\nHost: x\r\n`]),
    expect: { status: 408 },
  },
  {
    category: 'http framing',
    name: 'a body shorter than its Content-Length',
    send: tcp([rawPost('{"query":', '', 100)]),
    expect: { status: 408 },
  },
  {
    category: 'http framing',
    name: 'a chunked body never finished',
    send: tcp([
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"que`,
    ]),
    expect: { status: 408 },
  },
  ...(
    [
      ['a request line of garbage', 'GARBAGE\r\n\r\n'],
      ['an unknown HTTP version', 'GET /graphql HTTP/9.9\r\nHost: x\r\n\r\n'],
      ['Content-Length not a number', rawPost('{}', '', 'abc')],
      ['a negative Content-Length', rawPost('{}', '', -1)],
      ['two different Content-Lengths', rawPost('{}', 'Content-Length: 5\r\n')],
      [
        'Content-Length and Transfer-Encoding both (smuggling)',
        rawPost('{}', 'Transfer-Encoding: chunked\r\n'),
      ],
      [
        'Transfer-Encoding: chunked, identity',
        rawPost('{}', 'Transfer-Encoding: chunked, identity\r\n'),
      ],
      ['a header name with a space', 'GET /graphql HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n'],
      ['a NUL byte in a header value', 'GET /graphql HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n'],
      ['a bare LF line ending', 'GET /graphql HTTP/1.1\nHost: x\n\n'],
      [
        'a header folded over two lines (obs-fold)',
        'GET /graphql HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n',
      ],
      [
        'an invalid chunk size',
        `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      ],
      [
        'a chunk-size of 2^64',
        `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n{}\r\n0\r\n\r\n`,
      ],
    ] as const
  ).map(([name, chunk]): Case => ({
    category: 'http framing',
    name,
    send: tcp([chunk]),
    expect: { status: 400 },
  })),
  {
    category: 'http framing',
    name: 'HTTP/1.0 without Host: served',
    send: tcp([
      `GET /graphql?query=%7B__typename%7D HTTP/1.0\r\nAuthorization: Bearer demo-admin\r\n\r\n`,
    ]),
    expect: { status: 200, data: { __typename: 'Query' } },
  },
  {
    category: 'http framing',
    name: 'Content-Encoding unknown (x-compress)',
    send: body(JSON.stringify({ query: NORMAL }), {
      ...JSON_TYPE,
      'content-encoding': 'x-compress',
    }),
    expect: {
      status: 415,
      code: 'BAD_USER_INPUT',
      message:
        'Unsupported Content-Encoding: expected gzip, deflate, br or identity, got "x-compress"',
    },
  },
  {
    category: 'http framing',
    name: 'Content-Encoding gzip on a body that is not gzip',
    send: body(JSON.stringify({ query: NORMAL }), { ...JSON_TYPE, 'content-encoding': 'gzip' }),
    expect: {
      status: 400,
      code: 'BAD_USER_INPUT',
      message:
        'Malformed request body: it does not decode as its Content-Encoding says (incorrect header check)',
    },
  },
  {
    category: 'http framing',
    name: 'Content-Encoding gzip on a small valid body: served',
    send: body(gzipSync(JSON.stringify({ query: '{ __typename }' })), {
      ...JSON_TYPE,
      'content-encoding': 'gzip',
    }),
    expect: { status: 200, data: { __typename: 'Query' } },
  },

  // HTTP method, media types and negotiation (GraphQL over HTTP).
  ...(['PUT', 'DELETE', 'PATCH'] as const).map((method): Case => ({
    category: 'http protocol',
    name: `${method} /graphql`,
    send: (t) => overHttp(t.origin, { method, headers: { ...JSON_TYPE, ...ADMIN }, body: '{}' }),
    expect: {
      status: 405,
      code: 'BAD_USER_INPUT',
      message: 'Apollo Server supports only GET/POST requests.',
    },
  })),
  ...(
    [
      ['text/plain (a simple request a browser may send cross-site)', 'text/plain'],
      ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
      ['multipart/form-data', 'multipart/form-data; boundary=x'],
      ['application/graphql', 'application/graphql'],
      ['application/xml', 'application/xml'],
      ['no Content-Type', ''],
    ] as const
  ).map(([name, type]): Case => ({
    category: 'http protocol',
    name: `a POST body of ${name}`,
    send: body(JSON.stringify({ query: '{ __typename }' }), type ? { 'content-type': type } : {}),
    expect: {
      status: 415,
      code: 'BAD_USER_INPUT',
      message: `Unsupported Content-Type: expected application/json, got ${JSON.stringify(type || 'text/plain;charset=UTF-8')}`,
    },
  })),
  {
    category: 'http protocol',
    name: 'application/json in UTF-16: decoded and served',
    send: body(Buffer.from(JSON.stringify({ query: '{ __typename }' }), 'utf16le'), {
      'content-type': 'application/json; charset=utf-16',
    }),
    expect: { status: 200, data: { __typename: 'Query' } },
  },
  {
    category: 'http protocol',
    name: 'application/json in a charset nobody knows',
    send: body(JSON.stringify({ query: '{ __typename }' }), {
      'content-type': 'application/json; charset=klingon',
    }),
    expect: {
      status: 415,
      code: 'BAD_USER_INPUT',
      message: 'Unsupported charset: expected utf-8, got "klingon"',
    },
  },
  {
    category: 'http protocol',
    name: 'Accept: application/xml only',
    send: op('{ __typename }', undefined, { ...ADMIN, accept: 'application/xml' }),
    expect: {
      status: 406,
      code: 'BAD_USER_INPUT',
      message:
        "An 'accept' header was provided for this request which does not accept application/json; charset=utf-8 or application/graphql-response+json; charset=utf-8",
    },
  },
  {
    category: 'http protocol',
    name: 'a mutation over GET',
    send: get({ query: 'mutation { __typename }' }),
    expect: {
      status: 405,
      code: 'BAD_USER_INPUT',
      message: 'GET requests only support query operations, not mutation operations',
    },
  },
  {
    category: 'http protocol',
    name: 'GET without a query',
    send: get({}),
    expect: {
      status: 400,
      code: 'BAD_USER_INPUT',
      message:
        'GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.',
    },
  },
  {
    category: 'http protocol',
    name: 'GET with variables that are not JSON',
    send: get({ query: '{ __typename }', variables: '{nope' }),
    expect: {
      status: 400,
      code: 'BAD_USER_INPUT',
      message: 'The variables search parameter contains invalid JSON.',
    },
  },
  {
    category: 'http protocol',
    name: 'GET with extensions that are not JSON',
    send: get({ query: '{ __typename }', extensions: '[' }),
    expect: {
      status: 400,
      code: 'BAD_USER_INPUT',
      message: 'The extensions search parameter contains invalid JSON.',
    },
  },
  {
    category: 'http protocol',
    name: 'GET with a query given twice',
    send: (t) =>
      overHttp(t.origin, {
        method: 'GET',
        path: '/graphql?query=%7B__typename%7D&query=%7Ba%7D',
        headers: ADMIN,
      }),
    expect: {
      status: 400,
      code: 'BAD_USER_INPUT',
      message: "The 'query' search parameter may only be specified once.",
    },
  },
  {
    category: 'http protocol',
    name: 'a subscription over HTTP',
    send: op(INVENTORY_SUB),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message:
        'Subscriptions are served over graphql-ws (WebSocket subprotocol graphql-transport-ws) at this URL, not over HTTP',
    },
  },
  {
    category: 'http protocol',
    name: 'an unknown path',
    send: (t) => overHttp(t.origin, { method: 'GET', path: '/nope', headers: ADMIN }),
    expect: { status: 404 },
  },
  {
    category: 'http protocol',
    name: 'a path below /graphql',
    send: (t) =>
      overHttp(t.origin, {
        method: 'GET',
        path: '/graphql/x?query=%7B__typename%7D',
        headers: ADMIN,
      }),
    expect: {
      status: 404,
      code: 'NOT_FOUND',
      message: 'Not found: GraphQL is served at /graphql, not "/graphql/x?query=%7B__typename%7D"',
    },
  },
  {
    category: 'http protocol',
    name: 'a path with traversal',
    send: tcp([`GET /graphql/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]),
    expect: {
      status: 404,
      code: 'NOT_FOUND',
      message: 'Not found: GraphQL is served at /graphql, not "/graphql/../../etc/passwd"',
    },
  },
  {
    category: 'http protocol',
    name: 'POST /healthz',
    send: (t) =>
      overHttp(t.origin, { method: 'POST', path: '/healthz', headers: JSON_TYPE, body: '{}' }),
    expect: { status: 404 },
  },

  // HTTP body: the JSON of a GraphQL request, as anything but what it should be.
  ...(
    [
      [
        'not JSON',
        '{',
        "Malformed request body: expected JSON, got a body that does not parse (Expected property name or '}' in JSON at position 1)",
      ],
      ['empty', '', 'POST body missing, invalid Content-Type, or JSON object has no keys.'],
      [
        'JSON null',
        'null',
        `Malformed request body: expected JSON, got a body that does not parse (Unexpected token 'n', "null" is not valid JSON)`,
      ],
      [
        'a JSON string',
        '"{ __typename }"',
        `Malformed request body: expected JSON, got a body that does not parse (Unexpected token '"', ""{ __typename }"" is not valid JSON)`,
      ],
      [
        'a JSON number',
        '42',
        `Malformed request body: expected JSON, got a body that does not parse (Unexpected token '4', "42" is not valid JSON)`,
      ],
      [
        'a JSON array (a batch: not enabled)',
        '[{"query":"{ __typename }"}]',
        'Operation batching disabled.',
      ],
      ['an empty batch', '[]', 'Operation batching disabled.'],
      [
        'an empty object',
        '{}',
        'POST body missing, invalid Content-Type, or JSON object has no keys.',
      ],
      [
        'trailing garbage after the JSON',
        '{"query":"{ __typename }"}xyz',
        'Malformed request body: expected JSON, got a body that does not parse (Unexpected non-whitespace character after JSON at position 26)',
      ],
    ] as const
  ).map(([name, payload, message]): Case => ({
    category: 'http body',
    name: `a body that is ${name}`,
    send: body(payload),
    expect: { status: 400, code: 'BAD_USER_INPUT', message },
  })),
  {
    category: 'http body',
    name: 'a UTF-8 byte-order mark, then JSON: served',
    send: body('\ufeff{"query":"{ __typename }"}'),
    expect: { status: 200, data: { __typename: 'Query' } },
  },
  ...(
    [
      [
        'query null',
        { query: null },
        'GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.',
      ],
      ['query a number', { query: 1 }, 'GraphQL queries must be strings.'],
      ['query an array', { query: ['{ __typename }'] }, 'GraphQL queries must be strings.'],
      ['query an object', { query: {} }, 'GraphQL queries must be strings.'],
      [
        'query an empty string',
        { query: '' },
        'GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.',
      ],
      [
        'variables a string',
        { query: '{ __typename }', variables: '{}' },
        '`variables` in a POST body should be provided as an object, not a recursively JSON-encoded string.',
      ],
      [
        'variables an array',
        { query: '{ __typename }', variables: [] },
        '`variables` in a POST body must be an object if provided.',
      ],
      [
        'variables a number',
        { query: '{ __typename }', variables: 1 },
        '`variables` in a POST body must be an object if provided.',
      ],
      [
        'operationName a number',
        { query: '{ __typename }', operationName: 1 },
        '`operationName` in a POST body must be a string if provided.',
      ],
      [
        'extensions a string',
        { query: '{ __typename }', extensions: 'x' },
        '`extensions` in a POST body should be provided as an object, not a recursively JSON-encoded string.',
      ],
      [
        'extensions an array',
        { query: '{ __typename }', extensions: [] },
        '`extensions` in a POST body must be an object if provided.',
      ],
    ] as const
  ).map(([name, payload, message]): Case => ({
    category: 'http body',
    name,
    send: body(JSON.stringify(payload)),
    expect: { status: 400, code: 'BAD_USER_INPUT', message },
  })),
  {
    category: 'http body',
    name: 'operationName naming no operation',
    send: body(JSON.stringify({ query: 'query A { __typename }', operationName: 'B' })),
    expect: {
      status: 400,
      code: 'OPERATION_RESOLUTION_FAILURE',
      message: 'Unknown operation named "B".',
    },
  },
  {
    category: 'http body',
    name: 'two operations and no operationName',
    send: body(JSON.stringify({ query: 'query A { __typename } query B { __typename }' })),
    expect: {
      status: 400,
      code: 'OPERATION_RESOLUTION_FAILURE',
      message: 'Must provide operation name if query contains multiple operations.',
    },
  },
  {
    category: 'http body',
    name: 'a persisted-query hash (persisted queries are off)',
    send: body(
      JSON.stringify({
        extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } },
      }),
    ),
    expect: {
      status: 200,
      code: 'PERSISTED_QUERY_NOT_SUPPORTED',
      message: 'PersistedQueryNotSupported',
    },
  },
  {
    category: 'http body',
    name: 'duplicate "query" keys: the last wins',
    send: body('{"query":"{ nope }","query":"{ __typename }"}'),
    expect: { status: 200, data: { __typename: 'Query' } },
  },
  {
    category: 'http body',
    name: 'variables with __proto__ do not pollute',
    send: body(
      '{"query":"query($s: String!) { product(sku: $s) { sku } }","variables":{"__proto__":{"s":"SKU-000001"}}}',
    ),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: 'Variable "$s" of required type "String!" was not provided.',
    },
  },
  {
    category: 'http body',
    name: 'a 50,000-deep JSON array as a variable',
    send: body(
      `{"query":"query($s: String) { product(sku: $s) { sku } }","variables":{"s":${'['.repeat(50_000)}${']'.repeat(50_000)}}}`,
    ),
    expect: { status: 413, code: 'BAD_USER_INPUT', message: /too large/ },
  },
  {
    category: 'http body',
    name: 'a 10,000-deep JSON array as a variable',
    send: body(
      `{"query":"query($s: String!) { product(sku: $s) { sku } }","variables":{"s":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`,
    ),
    expect: { status: 200, code: 'BAD_USER_INPUT', message: /^Variable "\$s" got invalid value/ },
  },
  {
    category: 'http body',
    name: '5,000 undeclared variables',
    send: body(
      JSON.stringify({
        query: '{ __typename }',
        variables: Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`v${i}`, i])),
      }),
    ),
    expect: { status: 200, data: { __typename: 'Query' } },
  },

  // Authentication.
  ...(
    [
      ['no Authorization header', {}, 'Missing Authorization header: expected "Bearer <API key>"'],
      [
        'Authorization: Bearer (no key)',
        { authorization: 'Bearer' },
        /^Malformed Authorization header/,
      ],
      [
        'Authorization: Basic',
        { authorization: 'Basic ZGVtbzpkZW1v' },
        /^Malformed Authorization header/,
      ],
      [
        'the key without a scheme',
        { authorization: 'demo-admin' },
        /^Malformed Authorization header: expected "Bearer <API key>", got 10 characters that are not$/,
      ],
      [
        'a key and more',
        { authorization: 'Bearer demo-admin extra' },
        /^Malformed Authorization header/,
      ],
      ['an unknown key', { authorization: 'Bearer nope' }, 'Unknown API key'],
      ['a 3,000-character key', { authorization: `Bearer ${x(3_000)}` }, 'Unknown API key'],
      ['a key with a NUL', { authorization: 'Bearer demo-admin%00' }, 'Unknown API key'],
      ['a key of a different case', { authorization: 'Bearer DEMO-ADMIN' }, 'Unknown API key'],
      ['a key with unicode', { authorization: 'Bearer dém0' }, 'Unknown API key'],
    ] as const
  ).map(([name, headers, message]): Case => ({
    category: 'authentication',
    name,
    send: op('{ __typename }', undefined, headers),
    expect: { status: 401, code: 'UNAUTHENTICATED', message },
  })),
  {
    category: 'authentication',
    name: 'a lower-case bearer scheme: accepted (schemes are case-insensitive)',
    send: op('{ __typename }', undefined, { authorization: 'bearer demo-admin' }),
    expect: { status: 200, data: { __typename: 'Query' } },
  },
  {
    category: 'authentication',
    name: 'two Authorization headers',
    send: tcp([
      `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer demo-admin\r\nAuthorization: Bearer demo-storefront\r\n\r\n`,
    ]),
    expect: {
      status: 401,
      code: 'UNAUTHENTICATED',
      message: 'Ambiguous credentials: expected one Authorization header, got 2',
    },
  },
  {
    category: 'authentication',
    name: 'a malformed Authorization header is not quoted back',
    send: op('{ __typename }', undefined, { authorization: `Token sk_live_${x(20)}` }),
    expect: {
      status: 401,
      code: 'UNAUTHENTICATED',
      message:
        'Malformed Authorization header: expected "Bearer <API key>", got 34 characters that are not',
    },
  },

  // Documents: parsing and demand control.
  {
    category: 'demand control',
    name: 'a 10,000-deep document (refused before it is parsed recursively)',
    send: op(deep(10_000)),
    expect: { status: 400, code: 'QUERY_TOO_COMPLEX', message: tooComplexTokens },
  },
  {
    category: 'demand control',
    name: 'a 100,000-deep document over GET',
    send: get({ query: deep(100_000).slice(0, 3_000) }),
    expect: { status: 431 },
  },
  {
    category: 'demand control',
    name: '2,001 tokens',
    send: op(`{ ${'__typename '.repeat(1_999)}}`),
    expect: { status: 400, code: 'QUERY_TOO_COMPLEX', message: tooComplexTokens },
  },
  {
    category: 'demand control',
    name: '1,996 fields of one name: graphql-js gives up merging them',
    send: op(`{ ${'__typename '.repeat(1_996)}}`),
    expect: {
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message:
        'Query too complex to validate: too many fields to merge under one response name; ask for each field once',
    },
  },
  {
    category: 'demand control',
    name: '300 fields of one name: served',
    send: op(`{ ${'__typename '.repeat(300)}}`),
    expect: { status: 200, data: { __typename: 'Query' } },
  },
  {
    category: 'demand control',
    name: 'a fragment bomb, 21 levels (2^21 spreads of a free field): estimated once per fragment, served',
    send: op(fragmentBomb(21)),
    expect: { status: 200, data: { __typename: 'Query' } },
  },
  {
    category: 'demand control',
    name: 'a fragment bomb of priced fields, 16 levels',
    send: op(fragmentBomb(16, 'warehouses { code }')),
    expect: {
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /^Query cost \d+ exceeds the limit of 50000/,
    },
  },
  {
    category: 'demand control',
    name: 'a fragment cycle',
    send: op('{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }'),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: 'Cannot spread fragment "A" within itself via "B".',
    },
  },
  {
    category: 'demand control',
    name: 'a fragment spread within itself',
    send: op('{ ...A } fragment A on Query { __typename ...A }'),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: 'Cannot spread fragment "A" within itself.',
    },
  },
  {
    category: 'demand control',
    name: '31 aliases',
    send: op(aliases(31)),
    expect: {
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: 'Query has 31 aliases, more than the limit of 30',
    },
  },
  {
    category: 'demand control',
    name: '30 aliases: served',
    send: op(aliases(30)),
    expect: {
      status: 200,
      data: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`a${i}`, 'Query'])),
    },
  },
  {
    category: 'demand control',
    name: '16 aliases through a fragment spread twice',
    send: op(
      `{ ...F ...F } fragment F on Query { ${Array.from({ length: 16 }, (_, i) => `a${i}: __typename`).join(' ')} }`,
    ),
    expect: {
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: 'Query has 32 aliases, more than the limit of 30',
    },
  },
  {
    category: 'demand control',
    name: '51 directives',
    send: op(directives(51)),
    expect: { status: 400, code: 'QUERY_TOO_COMPLEX', message: /directives/ },
  },
  {
    category: 'demand control',
    name: 'a directive repeated on one field (not repeatable)',
    send: op('{ __typename @include(if: true) @include(if: true) }'),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: 'The directive "@include" can only be used once at this location.',
    },
  },
  {
    category: 'demand control',
    name: 'nesting deeper than MAX_QUERY_DEPTH',
    send: op(nested(5)),
    expect: { status: 400, code: 'QUERY_TOO_COMPLEX', message: /depth/i },
  },
  {
    category: 'demand control',
    name: 'nesting within MAX_QUERY_DEPTH: served',
    send: op(nested(3)),
    expect: { status: 200, data: /^\{"orders":\{"nodes":\[/ },
  },
  {
    category: 'demand control',
    name: 'cost over MAX_QUERY_COST from page sizes',
    send: op(
      '{ customers(first: 250) { nodes { orders(first: 250) { nodes { lines { product { inventory { sku } } } } } } } }',
    ),
    expect: {
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message:
        'Query cost 3813001 exceeds the limit of 50000: ask for smaller pages (first) or fewer nested lists',
    },
  },
  {
    category: 'demand control',
    name: 'cost over MAX_QUERY_COST from page sizes given as variables',
    send: op(
      'query($n: Int) { customers(first: $n) { nodes { orders(first: $n) { nodes { lines { product { inventory { sku } } } } } } } }',
      { n: 250 },
    ),
    expect: {
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message:
        'Query cost 3813001 exceeds the limit of 50000: ask for smaller pages (first) or fewer nested lists',
    },
  },
  {
    category: 'demand control',
    name: 'introspection nested 12 levels of ofType (cheap, no lists): served',
    send: op(`{ __schema { queryType { ${'ofType { '.repeat(12)}name${' }'.repeat(12)} } } }`),
    expect: { status: 200, data: /^\{"__schema":\{"queryType":\{"ofType":null\}\}\}$/ },
  },
  ...([3, 6] as const).map((levels): Case => ({
    category: 'demand control',
    name: `introspection amplification: fields of types of fields, ${levels} times`,
    send: op(
      `{ __schema { types { ${'fields { type { '.repeat(levels)}name${' } }'.repeat(levels)} } } }`,
    ),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: 'Maximum introspection depth exceeded',
    },
  })),
  {
    category: 'demand control',
    name: 'introspection amplification over graphql-ws',
    send: afterInit(
      subscribe(
        `{ __schema { types { ${'fields { type { '.repeat(3)}name${' } }'.repeat(3)} } } }`,
      ),
    ),
    expect: {
      type: 'error',
      code: 'BAD_USER_INPUT',
      message: 'Maximum introspection depth exceeded',
    },
  },
  {
    category: 'demand control',
    name: '300 operations in one document, one chosen: served',
    send: body(
      JSON.stringify({
        query: Array.from({ length: 300 }, (_, i) => `query Q${i} { __typename }`).join(' '),
        operationName: 'Q299',
      }),
    ),
    expect: { status: 200, data: { __typename: 'Query' } },
  },
  {
    category: 'demand control',
    name: '450 operations in one document',
    send: body(
      JSON.stringify({
        query: Array.from({ length: 450 }, (_, i) => `query Q${i} { __typename }`).join(' '),
        operationName: 'Q1',
      }),
    ),
    expect: { status: 400, code: 'QUERY_TOO_COMPLEX', message: tooComplexTokens },
  },
  {
    category: 'demand control',
    name: '380 identical object fields: merged, served',
    send: op(`{ ${'warehouses { code } '.repeat(380)}}`),
    expect: {
      status: 200,
      data: {
        warehouses: [
          { code: 'EAST' },
          { code: 'CENTRAL' },
          { code: 'WEST' },
          { code: '3PL-SOUTH' },
        ],
      },
    },
  },
  {
    category: 'demand control',
    name: 'conflicting fields under one response name',
    send: op('{ p: product(sku: "A") { sku } p: product(sku: "B") { sku } }'),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: /^Fields "p" conflict because they have differing arguments/,
    },
  },
  ...(
    [
      ['a syntax error', '{', 'Syntax Error: Expected Name, found <EOF>.'],
      [
        'an unterminated string',
        '{ product(sku: "abc) { sku } }',
        'Syntax Error: Unterminated string.',
      ],
      [
        'an invalid unicode escape',
        '{ product(sku: "\\uD800") { sku } }',
        /^Syntax Error: Invalid Unicode escape sequence/,
      ],
      ['a lone "query" keyword', 'query', 'Syntax Error: Expected "{", found <EOF>.'],
      ['a NUL character', '{ __typename \u0000 }', 'Syntax Error: Unexpected character: U+0000.'],
      ['only a comment', '# nothing', 'Syntax Error: Unexpected <EOF>.'],
    ] as const
  ).map(([name, query, message]): Case => ({
    category: 'demand control',
    name: `a document with ${name}`,
    send: op(query),
    expect: { status: 200, code: 'BAD_USER_INPUT', message },
  })),

  // Validation of the operation against the schema.
  ...(
    [
      [
        'an unknown field',
        '{ nope }',
        'Cannot query field "nope" on type "Query". Did you mean "node"?',
      ],
      [
        'an unknown field with a near name',
        '{ product(sku: "SKU-000001") { skuu } }',
        'Cannot query field "skuu" on type "Product". Did you mean "sku"?',
      ],
      [
        'an unknown argument',
        '{ products(firsts: 1) { nodes { sku } } }',
        /^Unknown argument "firsts" on field "Query\.products"\./,
      ],
      [
        'a missing required argument',
        '{ product { sku } }',
        'Field "product" argument "sku" of type "String!" is required, but it was not provided.',
      ],
      [
        'a string for an Int literal',
        '{ products(first: "ten") { nodes { sku } } }',
        'Int cannot represent non-integer value: "ten"',
      ],
      [
        'a float for an Int literal',
        '{ products(first: 1.5) { nodes { sku } } }',
        'Int cannot represent non-integer value: 1.5',
      ],
      [
        'an Int literal over 2^31',
        '{ products(first: 2147483648) { nodes { sku } } }',
        'Int cannot represent non 32-bit signed integer value: 2147483648',
      ],
      [
        'an unknown enum value',
        '{ deadLetters(status: NOPE) { id } }',
        /^Value "NOPE" does not exist in "DeadLetterStatus" enum\./,
      ],
      [
        'an unknown input field',
        '{ products(filter: { nope: 1 }) { nodes { sku } } }',
        /^Field "nope" is not defined by type "ProductFilter"\./,
      ],
      [
        'null for a non-null argument',
        '{ product(sku: null) { sku } }',
        'Expected value of type "String!", found null.',
      ],
      [
        'a selection on a scalar',
        '{ warehouses { code { x } } }',
        'Field "code" must not have a selection since type "String!" has no subfields.',
      ],
      [
        'no selection on an object',
        '{ warehouses }',
        /^Field "warehouses" of type "\[Warehouse\]!" must have a selection of subfields\./,
      ],
      ['an undefined variable', '{ product(sku: $s) { sku } }', 'Variable "$s" is not defined.'],
      ['an unused variable', 'query($s: String) { __typename }', 'Variable "$s" is never used.'],
      [
        'a variable of an unknown type',
        'query($s: Nope) { product(sku: $s) { sku } }',
        'Unknown type "Nope". Did you mean "Node"?',
      ],
      [
        'a variable of an output type',
        'query($s: Product) { __typename }',
        /^Variable "\$s" cannot be non-input type "Product"\./,
      ],
      ['an unknown directive', '{ __typename @nope }', 'Unknown directive "@nope".'],
      ['an unknown fragment', '{ ...Nope }', 'Unknown fragment "Nope".'],
      [
        'an unused fragment',
        '{ __typename } fragment F on Query { __typename }',
        'Fragment "F" is never used.',
      ],
      [
        'a fragment on an unknown type',
        '{ ...F } fragment F on Nope { __typename }',
        'Unknown type "Nope". Did you mean "Node"?',
      ],
      [
        'a mutation field in a query',
        '{ placeOrder(input: {}, idempotencyKey: "k") { __typename } }',
        /^Cannot query field "placeOrder" on type "Query"\./,
      ],
      [
        'two anonymous operations',
        '{ __typename } { __typename }',
        'This anonymous operation must be the only defined operation.',
      ],
      ['a schema definition', 'type X { a: Int }', /^The "X" definition is not executable\.$/],
    ] as const
  ).map(([name, query, message]): Case => ({
    category: 'validation',
    name,
    send: op(query),
    expect: { status: 200, code: 'BAD_USER_INPUT', message },
  })),

  // Arguments within their documented ranges (see also test/hostile-arguments.test.ts).
  ...(['products', 'orders', 'customers'] as const).flatMap((field): Case[] =>
    ([-1, 251, 2_147_483_647] as const).map((n) => ({
      category: 'arguments',
      name: `${field}(first: ${n})`,
      send: op(`{ ${field}(first: ${n}) { nodes { __typename } } }`),
      expect: { status: 200, code: 'BAD_USER_INPUT', message: range(n) },
    })),
  ),
  ...(['products', 'orders', 'customers'] as const).map((field): Case => ({
    category: 'arguments',
    name: `${field}(first: 0): an empty page`,
    send: op(`{ ${field}(first: 0) { nodes { __typename } } }`),
    expect: { status: 200, data: { [field]: { nodes: [] } } },
  })),
  {
    category: 'arguments',
    name: 'Customer.orders(first: -5)',
    send: op('{ customers(first: 1) { nodes { orders(first: -5) { nodes { number } } } } }'),
    expect: { status: 200, code: 'BAD_USER_INPUT', message: range(-5) },
  },
  {
    category: 'arguments',
    name: 'deadLetters(first: 251)',
    send: op('{ deadLetters(first: 251) { id } }'),
    expect: { status: 200, code: 'BAD_USER_INPUT', message: range(251) },
  },
  {
    category: 'arguments',
    name: 'first as a variable of 1e309 (Infinity in JSON)',
    send: body(
      '{"query":"query($n: Int) { products(first: $n) { nodes { sku } } }","variables":{"n":1e309}}',
    ),
    expect: { status: 200, code: 'BAD_USER_INPUT', message: /^Variable "\$n" got invalid value/ },
  },
  {
    category: 'arguments',
    name: 'first as a variable of "10"',
    send: op('query($n: Int) { products(first: $n) { nodes { sku } } }', { n: '10' }),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: /^Variable "\$n" got invalid value "10"/,
    },
  },
  ...(
    [
      ['not a cursor', 'zzz'],
      ['base64 of nothing we made', Buffer.from('hello').toString('base64url')],
      ['5,000 characters', x(5_000)],
      ['empty', ''],
    ] as const
  ).map(([name, cursor]): Case => ({
    category: 'arguments',
    name: `products(after) ${name}`,
    send: op('query($a: String) { products(first: 1, after: $a) { nodes { sku } } }', {
      a: cursor,
    }),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: /^after: expected a cursor returned by this API/,
    },
  })),
  ...(
    [
      ['empty', ''],
      ['with a space', 'SKU 1'],
      ['5,000 characters', x(5_000)],
      ['a NUL', 'SKU\u0000'],
      ['an OData injection', "SKU-1' or 1 eq 1 or '"],
      ['a lone surrogate', 'SKU-\ud800'],
    ] as const
  ).map(([name, sku]): Case => ({
    category: 'arguments',
    name: `product(sku) ${name}`,
    send: op('query($s: String!) { product(sku: $s) { sku } }', { s: sku }),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: /^sku: expected a SKU of 1 to 64 printable ASCII characters without spaces, got /,
    },
  })),
  ...(
    [
      ['unknown', 'SKU-999999'],
      ['a path', '../../etc/passwd'],
      ['an OData quote without spaces', "SKU-1'or'1'eq'1"],
      ['a URL-encoded slash', 'SKU%2F..%2F'],
    ] as const
  ).map(([name, sku]): Case => ({
    category: 'arguments',
    name: `product(sku) ${name}: NOT_FOUND, quoted as given`,
    send: op('query($s: String!) { product(sku: $s) { sku } }', { s: sku }),
    expect: { status: 200, code: 'NOT_FOUND', message: `No Product with ${JSON.stringify(sku)}` },
  })),
  {
    category: 'arguments',
    name: 'products(after) a cursor past the catalogue: an empty page',
    send: op('query($a: String) { products(first: 1, after: $a) { nodes { sku } } }', {
      a: Buffer.from('v1:order:1').toString('base64url'),
    }),
    expect: { status: 200, data: { products: { nodes: [] } } },
  },
  {
    category: 'arguments',
    name: 'inventory(skus) of 251 SKUs',
    send: op('query($s: [String!]!) { inventory(skus: $s) { sku } }', {
      s: Array.from({ length: 251 }, (_, i) => `SKU-${i}`),
    }),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: 'skus: expected 1 to 250 SKUs, got "251 SKUs"',
    },
  },
  {
    category: 'arguments',
    name: 'inventory(skus) empty',
    send: op('{ inventory(skus: []) { sku } }'),
    expect: { status: 200, code: 'BAD_USER_INPUT', message: /^skus: expected 1 to 250 SKUs/ },
  },
  {
    category: 'arguments',
    name: 'inventory(skus) with a bad SKU',
    send: op('{ inventory(skus: ["a b"]) { sku } }'),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message:
        'skus[0]: expected a SKU of 1 to 64 printable ASCII characters without spaces, got "a b"',
    },
  },
  {
    category: 'arguments',
    name: 'inventory(warehouses) of 5,000-character codes',
    send: op('query($w: [String!]) { inventory(skus: ["SKU-000001"], warehouses: $w) { sku } }', {
      w: [x(5_000)],
    }),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message:
        /^warehouses\[0\]: expected a warehouse code such as EAST, got "x+… \(5002 characters\)$/,
    },
  },
  ...(
    [
      [
        'search of 101 characters',
        { search: x(101) },
        /^filter\.search: expected at most 100 characters/,
      ],
      [
        'search of 100,000 characters',
        { search: x(60_000) },
        /^filter\.search: expected at most 100 characters, got "x{63}… \(60002 characters\)$/,
      ],
      [
        'category of 21 characters',
        { category: x(21) },
        /^filter\.category: expected at most 20 characters/,
      ],
    ] as const
  ).map(([name, filter, message]): Case => ({
    category: 'arguments',
    name: `products(filter.${name})`,
    send: op('query($f: ProductFilter) { products(first: 1, filter: $f) { nodes { sku } } }', {
      f: filter,
    }),
    expect: { status: 200, code: 'BAD_USER_INPUT', message },
  })),
  ...(
    [
      [
        'of 5,000 characters',
        x(5_000),
        /^filter\.externalReference: expected a channel reference of 1 to 35 printable characters, got "x{63}… \(5002 characters\)$/,
      ],
      [
        'empty',
        '',
        'filter.externalReference: expected a channel reference of 1 to 35 printable characters, got ""',
      ],
      [
        'with a NUL',
        'MP-1\u0000',
        'filter.externalReference: expected a channel reference of 1 to 35 printable characters, got "MP-1\\u0000"',
      ],
    ] as const
  ).map(([name, reference, message]): Case => ({
    category: 'arguments',
    name: `orders(filter.externalReference) ${name}`,
    send: op(
      'query($r: String) { orders(first: 1, filter: { externalReference: $r }) { nodes { number } } }',
      { r: reference },
    ),
    expect: { status: 200, code: 'BAD_USER_INPUT', message },
  })),
  ...([0, 361] as const).map((last): Case => ({
    category: 'arguments',
    name: `SourceHealth.history(last: ${last})`,
    send: op(`{ sourceHealth { history(last: ${last}) { at } } }`),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: `last: expected an integer from 1 to 360, got ${last}`,
    },
  })),
  {
    category: 'arguments',
    name: 'customers(filter.search) of 101 characters',
    send: op(
      'query($s: String) { customers(first: 1, filter: { search: $s }) { nodes { number } } }',
      { s: x(101) },
    ),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: /^filter\.search: expected at most 100 characters/,
    },
  },
  ...(
    [
      ['garbage', 'zzz'],
      ['empty', ''],
      ['5,000 characters', x(5_000)],
      ['a well-formed ID of an unknown type', Buffer.from('Nope:1').toString('base64url')],
      ['a Product ID of an unknown SKU', Buffer.from('Product:SKU-999999').toString('base64url')],
    ] as const
  ).map(([name, id]): Case => ({
    category: 'arguments',
    name: `node(id) ${name}`,
    send: op('query($id: ID!) { node(id: $id) { id } }', { id }),
    expect:
      name === 'a Product ID of an unknown SKU'
        ? { status: 200, code: 'NOT_FOUND', message: 'No Product with "SKU-999999"' }
        : {
            status: 200,
            code: 'BAD_USER_INPUT',
            message: /^id: expected a global ID returned by this API, got /,
          },
  })),
  ...(['order', 'customer', 'invoice', 'shipment'] as const).flatMap((field): Case[] =>
    (
      [
        ['garbage', 'zzz'],
        ['5,000 characters', x(5_000)],
        ['an injection', "1' or '1'='1"],
      ] as const
    ).map(([name, id]) => ({
      category: 'arguments',
      name: `${field}(id) ${name}`,
      send: op(`query($id: ID!) { ${field}(id: $id) { id } }`, { id }),
      expect:
        field === 'shipment'
          ? {
              status: 200,
              code: 'BAD_USER_INPUT',
              message: /^id: expected a Shipment global ID, got /,
            }
          : name === 'garbage'
            ? { status: 200, code: 'NOT_FOUND', message: /^No \w+ with "zzz"$/ }
            : {
                status: 200,
                code: 'BAD_USER_INPUT',
                message: /^id: expected an? \w+ global ID or key, got /,
              },
    })),
  ),

  // Mutations with hostile input (idempotency keys, lines, references).
  ...(
    [
      [
        'an empty idempotency key',
        { key: '' },
        /^idempotencyKey: expected 1 to 255 printable ASCII characters, got ""$/,
      ],
      [
        'a 5,000-character idempotency key',
        { key: x(5_000) },
        /^idempotencyKey: expected 1 to 255 printable ASCII characters, got "x+… \(5000 characters\)"$/,
      ],
      [
        'a bad SKU',
        { lines: [{ sku: 'a b', quantity: 1 }] },
        'input.lines[0].sku: expected a SKU of 1 to 64 printable ASCII characters without spaces, got "a b"',
      ],
      [
        'a 5,000-character externalReference',
        { externalReference: x(5_000) },
        /^input\.externalReference: expected at most 35 characters, got "x+… \(5002 characters\)$/,
      ],
      [
        'a bad customerId',
        { customerId: "C1' or 1 eq 1" },
        `input.customerId: expected a Customer global ID or key, got "C1' or 1 eq 1"`,
      ],
      [
        'a customerId of another type',
        { customerId: Buffer.from('Order:XD-1').toString('base64url') },
        /^input\.customerId: expected a Customer ID, got "an Order ID \(T3JkZXI6WEQtMQ\)"$/,
      ],
      [
        'a shipTo country of 5 letters',
        { shipTo: { line1: 'a', city: 'b', postalCode: '1', countryCode: 'XXXXX' } },
        'input.shipTo.countryCode: expected an ISO 3166-1 alpha-2 code of two capital letters, got "XXXXX"',
      ],
      [
        'a shipTo line of 5,000 characters',
        { shipTo: { line1: x(5_000), city: 'b', postalCode: '1', countryCode: 'US' } },
        /^input\.shipTo\.line1: expected 1 to 100 characters, got "x+… \(5002 characters\)$/,
      ],
      [
        'an empty shipTo city',
        { shipTo: { line1: 'a', city: '', postalCode: '1', countryCode: 'US' } },
        'input.shipTo.city: expected 1 to 30 characters, got ""',
      ],
      [
        'a shipTo postal code of 21 characters',
        { shipTo: { line1: 'a', city: 'b', postalCode: x(21), countryCode: 'US' } },
        `input.shipTo.postalCode: expected 1 to 20 characters, got "${x(21)}"`,
      ],
    ] as const
  ).map(([name, over, message]): Case => ({
    category: 'mutations',
    name: `placeOrder with ${name}`,
    send: placeOrder(over),
    expect: { status: 200, code: 'BAD_USER_INPUT', message },
  })),
  ...(
    [
      ['no lines', { lines: [] }, 'TOO_MANY_LINES', 'expected 1 to 100 lines, got 0'],
      [
        '101 lines',
        {
          lines: Array.from({ length: 101 }, (_, i) => ({
            sku: `SKU-${String(i + 1).padStart(6, '0')}`,
            quantity: 1,
          })),
        },
        'TOO_MANY_LINES',
        'expected 1 to 100 lines, got 101',
      ],
      [
        'quantity 0',
        { lines: [{ sku: 'SKU-000001', quantity: 0 }] },
        'INVALID_QUANTITY',
        'expected a whole quantity from 1 to 100000, got 0',
      ],
      [
        'quantity -1',
        { lines: [{ sku: 'SKU-000001', quantity: -1 }] },
        'INVALID_QUANTITY',
        'expected a whole quantity from 1 to 100000, got -1',
      ],
      [
        'quantity 2^31-1',
        { lines: [{ sku: 'SKU-000001', quantity: 2_147_483_647 }] },
        'INVALID_QUANTITY',
        'expected a whole quantity from 1 to 100000, got 2147483647',
      ],
      [
        'one SKU on two lines',
        {
          lines: [
            { sku: 'SKU-000001', quantity: 1 },
            { sku: 'SKU-000001', quantity: 1 },
          ],
        },
        'DUPLICATE_SKU',
        'SKU SKU-000001 is already on line 1; put its whole quantity on one line',
      ],
    ] as const
  ).map(([name, over, code, message]): Case => ({
    category: 'mutations',
    name: `placeOrder with ${name}: a userError, nothing placed`,
    send: placeOrder(over),
    expect: { status: 200, data: { placeOrder: { order: null, userErrors: [{ code, message }] } } },
  })),
  {
    category: 'mutations',
    name: 'placeOrder with an unknown channel',
    send: op(
      'mutation { placeOrder(input: { channel: NOPE, customerId: "C10001", lines: [] }, idempotencyKey: "k") { __typename } }',
    ),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: 'Value "NOPE" does not exist in "Channel" enum.',
    },
  },
  {
    category: 'mutations',
    name: 'cancelOrder of a bad order id',
    send: op(
      `mutation { cancelOrder(input: { orderId: "'; drop", reason: "x" }, idempotencyKey: "hostile-c1") { userErrors { code } } }`,
    ),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: `input.orderId: expected an Order global ID or key, got "'; drop"`,
    },
  },
  {
    category: 'mutations',
    name: 'cancelOrder of an unknown order: a userError',
    send: op(
      'mutation { cancelOrder(input: { orderId: "zzz", reason: "x" }, idempotencyKey: "hostile-c3") { userErrors { code message } } }',
    ),
    expect: { status: 200, data: /^\{"cancelOrder":\{"userErrors":\[\{"code":"ORDER_NOT_FOUND"/ },
  },
  {
    category: 'mutations',
    name: 'cancelOrder with a 5,000-character reason',
    send: op(
      `mutation { cancelOrder(input: { orderId: "zzz", reason: "${x(5_000)}" }, idempotencyKey: "hostile-c2") { __typename } }`,
    ),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: /^input\.reason: expected 1 to 250 characters, got "x+… \(5002 characters\)$/,
    },
  },
  {
    category: 'mutations',
    name: 'cancelOrder with an empty reason',
    send: op(
      'mutation { cancelOrder(input: { orderId: "zzz", reason: "" }, idempotencyKey: "hostile-c4") { __typename } }',
    ),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: 'input.reason: expected 1 to 250 characters, got ""',
    },
  },
  {
    category: 'mutations',
    name: 'createReturn of a bad order id',
    send: op(
      'mutation { createReturn(input: { orderId: "zzz", reason: "x" }, idempotencyKey: "hostile-r1") { userErrors { code } } }',
    ),
    expect: { status: 200, data: /^\{"createReturn":\{"userErrors":\[\{"code":"ORDER_NOT_FOUND"/ },
  },
  {
    category: 'mutations',
    name: 'createReturn with a bad SKU',
    send: op(
      'mutation { createReturn(input: { orderId: "zzz", reason: "x", lines: [{ sku: "a b", quantity: 1 }] }, idempotencyKey: "hostile-r2") { __typename } }',
    ),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message:
        'input.lines[0].sku: expected a SKU of 1 to 64 printable ASCII characters without spaces, got "a b"',
    },
  },
  {
    category: 'mutations',
    name: 'replayDeadLetter of a bad id',
    send: op(
      'mutation { replayDeadLetter(id: "zzz", idempotencyKey: "hostile-d1") { userErrors { code } } }',
    ),
    expect: {
      status: 200,
      data: { replayDeadLetter: { userErrors: [{ code: 'DEAD_LETTER_NOT_FOUND' }] } },
    },
  },
  {
    category: 'mutations',
    name: 'replayDeadLetter of a 5,000-character id',
    send: op(
      `mutation { replayDeadLetter(id: "${x(5_000)}", idempotencyKey: "hostile-d3") { __typename } }`,
    ),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: /^id: expected 1 to 200 characters, got "x+… \(5002 characters\)$/,
    },
  },
  {
    category: 'mutations',
    name: 'replayDeadLetter as a storefront key',
    send: op(
      'mutation { replayDeadLetter(id: "zzz", idempotencyKey: "hostile-d2") { __typename } }',
      undefined,
      {
        authorization: 'Bearer demo-storefront',
      },
    ),
    expect: {
      status: 200,
      code: 'FORBIDDEN',
      message: 'Mutation.replayDeadLetter is not allowed for role storefront',
    },
  },
  {
    category: 'mutations',
    name: 'a mutation with 31 aliased calls',
    send: op(
      `mutation { ${Array.from({ length: 31 }, (_, i) => `m${i}: replayDeadLetter(id: "zzz", idempotencyKey: "k${i}") { __typename }`).join(' ')} }`,
    ),
    expect: {
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: 'Query has 31 aliases, more than the limit of 30',
    },
  },

  // graphql-ws: the protocol, message by message.
  {
    category: 'graphql-ws protocol',
    name: 'the legacy subprotocol graphql-ws',
    send: frames([], { 'Sec-WebSocket-Protocol': 'graphql-ws' }),
    expect: { close: 4406, reason: 'Subprotocol not acceptable' },
  },
  {
    category: 'graphql-ws protocol',
    name: 'no subprotocol',
    send: frames([], { 'Sec-WebSocket-Protocol': undefined }),
    expect: { close: 4406, reason: 'Subprotocol not acceptable' },
  },
  {
    category: 'graphql-ws protocol',
    name: 'no connection_init within WS_INIT_TIMEOUT_MS',
    send: ws({ frames: [] }),
    expect: { close: 4408, reason: 'Connection initialisation timeout' },
  },
  ...(
    [
      ['a message that is not JSON', '{'],
      ['a JSON array', '[]'],
      ['a JSON string', '"connection_init"'],
      ['a message of an unknown type', { type: 'nope' }],
      ['a message without a type', { payload: {} }],
      ['connection_init with a string payload', { type: 'connection_init', payload: 'x' }],
    ] as const
  ).map(([name, message]): Case => ({
    category: 'graphql-ws protocol',
    name,
    send: ws({ frames: [message] }),
    expect: { close: 4400, reason: 'Invalid message received' },
  })),
  {
    category: 'graphql-ws protocol',
    name: 'connection_init as a binary frame: read as text, acknowledged',
    send: ws({ frames: [Buffer.from(JSON.stringify(INIT))] }),
    expect: { type: 'connection_ack' },
  },
  {
    category: 'graphql-ws protocol',
    name: 'subscribe before connection_init',
    send: ws({ frames: [subscribe(INVENTORY_SUB)] }),
    expect: { close: 4401, reason: 'Unauthorized' },
  },
  {
    category: 'graphql-ws protocol',
    name: 'connection_init twice',
    send: ws({ init: INIT, frames: [INIT] }),
    expect: { close: 4429, reason: 'Too many initialisation requests' },
  },
  ...(
    [
      ['connection_init without a payload', { type: 'connection_init' }],
      [
        'connection_init with an unknown key',
        { type: 'connection_init', payload: { authorization: 'Bearer nope' } },
      ],
      [
        'connection_init with a Basic authorization',
        { type: 'connection_init', payload: { authorization: 'Basic eA==' } },
      ],
      [
        'connection_init with a numeric authorization',
        { type: 'connection_init', payload: { authorization: 42 } },
      ],
    ] as const
  ).map(([name, message]): Case => ({
    category: 'graphql-ws protocol',
    name,
    send: ws({ frames: [message] }),
    expect: { close: 4403, reason: 'Forbidden' },
  })),
  ...(
    [
      ['subscribe without an id', { type: 'subscribe', payload: { query: INVENTORY_SUB } }],
      [
        'subscribe with a numeric id',
        { id: 1, type: 'subscribe', payload: { query: INVENTORY_SUB } },
      ],
      ['subscribe without a payload', { id: 'a', type: 'subscribe' }],
      ['subscribe with a numeric query', { id: 'a', type: 'subscribe', payload: { query: 1 } }],
      [
        'subscribe with variables that are a string',
        { id: 'a', type: 'subscribe', payload: { query: INVENTORY_SUB, variables: 'x' } },
      ],
      ['complete without an id', { type: 'complete' }],
      ['next from the client', { id: 'a', type: 'next', payload: {} }],
      ['connection_ack from the client', { type: 'connection_ack' }],
    ] as const
  ).map(([name, message]): Case => ({
    category: 'graphql-ws protocol',
    name,
    send: afterInit(message),
    expect: { close: 4400, reason: 'Invalid message received' },
  })),
  {
    category: 'graphql-ws protocol',
    name: 'two subscriptions with one id',
    send: afterInit(
      subscribe(INVENTORY_SUB, undefined, 'dup'),
      subscribe(INVENTORY_SUB, undefined, 'dup'),
    ),
    expect: { close: 4409, reason: 'Subscriber for dup already exists' },
  },
  {
    category: 'graphql-ws protocol',
    name: 'ping: answered with pong',
    send: afterInit({ type: 'ping' }),
    expect: { type: 'pong' },
  },
  {
    category: 'graphql-ws protocol',
    name: 'complete of an unknown id, then a query: served',
    send: afterInit({ id: 'zz', type: 'complete' }, subscribe('{ __typename }')),
    expect: { type: 'next', data: { __typename: 'Query' } },
  },
  {
    category: 'graphql-ws protocol',
    name: 'an unsolicited pong, then a query: served',
    send: afterInit({ type: 'pong' }, subscribe('{ __typename }')),
    expect: { type: 'next', data: { __typename: 'Query' } },
  },

  // graphql-ws: operations, refused as over HTTP.
  ...(
    [
      ['a syntax error', '{', 'BAD_USER_INPUT', 'Syntax Error: Expected Name, found <EOF>.'],
      [
        'an unknown field',
        'subscription { nope }',
        'BAD_USER_INPUT',
        'Cannot query field "nope" on type "Subscription".',
      ],
      ['2,001 tokens', `{ ${'__typename '.repeat(1_999)}}`, 'QUERY_TOO_COMPLEX', tooComplexTokens],
      ['a 5,000-deep document', deep(5_000), 'QUERY_TOO_COMPLEX', tooComplexTokens],
      [
        '1,996 fields of one name',
        `{ ${'__typename '.repeat(1_996)}}`,
        'QUERY_TOO_COMPLEX',
        /^Query too complex to validate/,
      ],
      [
        'a fragment bomb of priced fields',
        fragmentBomb(16, 'warehouses { code }'),
        'QUERY_TOO_COMPLEX',
        /^Query cost \d+ exceeds the limit of 50000/,
      ],
      [
        '31 aliases',
        aliases(31),
        'QUERY_TOO_COMPLEX',
        'Query has 31 aliases, more than the limit of 30',
      ],
      ['51 directives', directives(51), 'QUERY_TOO_COMPLEX', /directives/],
      ['nesting deeper than MAX_QUERY_DEPTH', nested(5), 'QUERY_TOO_COMPLEX', /depth/i],
      [
        'two subscription root fields',
        'subscription { inventoryChanged { cursor } shipmentUpdated { cursor } }',
        'BAD_USER_INPUT',
        'Anonymous Subscription must select only one top level field.',
      ],
    ] as const
  ).map(([name, query, code, message]): Case => ({
    category: 'graphql-ws operations',
    name,
    send: afterInit(subscribe(query)),
    expect: { type: 'error', code, message },
  })),
  {
    category: 'graphql-ws operations',
    name: 'a fragment bomb of a free field: estimated once per fragment, served',
    send: afterInit(subscribe(fragmentBomb(21))),
    expect: { type: 'next', data: { __typename: 'Query' } },
  },
  ...(
    [
      [
        'inventoryChanged(after) not a cursor',
        'subscription { inventoryChanged(after: "zzz") { cursor } }',
        `after: expected a cursor of this subscription's events, as received, or "0" for every event kept, got "zzz"`,
      ],
      [
        "inventoryChanged(after) the bus's own cursor form (forged)",
        'subscription { inventoryChanged(after: "inventory:5") { cursor } }',
        `after: expected a cursor of this subscription's events, as received, or "0" for every event kept, got "inventory:5"`,
      ],
      [
        'inventoryChanged(after) a sealed cursor of orders',
        `subscription { inventoryChanged(after: "${sealCursor('order:5')}") { cursor } }`,
        `after: expected a cursor of this subscription's events, as received, or "0" for every event kept, got ${shownValue(sealCursor('order:5'))}`,
      ],
      [
        'inventoryChanged(after) a sealed cursor of another client',
        `subscription { inventoryChanged(after: "${sealCursor('inventory:5', 'demo-partner-a')}") { cursor } }`,
        `after: expected a cursor of this subscription's events, as received, or "0" for every event kept, got ${shownValue(sealCursor('inventory:5', 'demo-partner-a'))}`,
      ],
      [
        'inventoryChanged(after) a 10,000-character cursor (not quoted back whole)',
        `subscription { inventoryChanged(after: "${'A'.repeat(10_000)}") { cursor } }`,
        `after: expected a cursor of this subscription's events, as received, or "0" for every event kept, got ${shownValue('A'.repeat(10_000))}`,
      ],
      [
        'inventoryChanged(skus) of a bad SKU',
        'subscription { inventoryChanged(skus: ["a b"]) { cursor } }',
        'skus[0]: expected a SKU of 1 to 64 printable ASCII characters without spaces, got "a b"',
      ],
      [
        'inventoryChanged(warehouses) of a bad code',
        'subscription { inventoryChanged(warehouses: ["a b"]) { cursor } }',
        'warehouses[0]: expected a warehouse code such as EAST, got "a b"',
      ],
      [
        'orderStatusChanged(orderId) an injection',
        `subscription { orderStatusChanged(orderId: "' or 1=1") { cursor } }`,
        `orderId: expected an Order global ID or key, got "' or 1=1"`,
      ],
      [
        'customerCreditChanged(customerId) an injection',
        `subscription { customerCreditChanged(customerId: "' or 1=1") { cursor } }`,
        `customerId: expected a Customer global ID or key, got "' or 1=1"`,
      ],
      [
        'products(first: -1) as a query',
        '{ products(first: -1) { nodes { sku } } }',
        /^first: expected/,
      ],
    ] as const
  ).map(([name, query, message]): Case => ({
    category: 'graphql-ws operations',
    name,
    send: afterInit(subscribe(query)),
    expect: { type: 'next', code: 'BAD_USER_INPUT', message },
  })),
  {
    category: 'graphql-ws operations',
    name: 'dead letters over graphql-ws as a storefront key',
    send: ws({
      init: { type: 'connection_init', payload: { authorization: 'Bearer demo-storefront' } },
      frames: [subscribe('{ deadLetters { id } }')],
    }),
    expect: {
      type: 'next',
      code: 'FORBIDDEN',
      message: 'Query.deadLetters is not allowed for role storefront',
    },
  },

  // graphql-ws: sizes and counts.
  {
    category: 'graphql-ws limits',
    name: 'a connection_init over WS_PREINIT_MAX_BYTES',
    send: ws({
      frames: [
        { type: 'connection_init', payload: { authorization: 'Bearer demo-admin', pad: x(2_000) } },
      ],
    }),
    expect: {
      close: 1009,
      reason: 'Message too big before connection_init is acknowledged: at most 1024 bytes',
    },
  },
  {
    category: 'graphql-ws limits',
    name: 'a 5 MB binary frame before connection_init',
    send: ws({ frames: [Buffer.alloc(5 * 1024 * 1024, 0x20)] }),
    expect: { close: 1009, reason: '' },
  },
  {
    category: 'graphql-ws limits',
    name: 'a subscribe before connection_init over WS_PREINIT_MAX_BYTES',
    send: ws({ frames: [subscribe(`{ ${'__typename '.repeat(200)}}`)] }),
    expect: {
      close: 1009,
      reason: 'Message too big before connection_init is acknowledged: at most 1024 bytes',
    },
  },
  {
    category: 'graphql-ws limits',
    name: 'a message over HTTP_MAX_BODY_BYTES after connection_init',
    send: afterInit(subscribe('{ __typename }', { pad: x(70_000) })),
    expect: { close: 1009, reason: '' },
  },
  {
    category: 'graphql-ws limits',
    name: 'a 40 MB subscribe after connection_init',
    send: afterInit(subscribe(`{ ${'__typename '.repeat(3_700_000)}}`)),
    expect: { close: 1009, reason: '' },
  },
  {
    category: 'graphql-ws limits',
    name: 'a message just under HTTP_MAX_BODY_BYTES: served',
    send: afterInit(
      subscribe('query($p: String!) { __type(name: $p) { name } }', { p: x(60_000) }),
    ),
    expect: { type: 'next', data: { __type: null } },
  },
  {
    category: 'graphql-ws limits',
    name: 'more operations than WS_MAX_SUBSCRIPTIONS on one socket',
    send: afterInit(
      subscribe(INVENTORY_SUB, undefined, 's1'),
      subscribe(INVENTORY_SUB, undefined, 's2'),
      subscribe(INVENTORY_SUB, undefined, 's3'),
    ),
    expect: {
      type: 'error',
      code: 'RATE_LIMITED',
      message: 'Too many operations on this socket: at most 2 at once; complete one first',
    },
  },
  {
    category: 'graphql-ws limits',
    name: 'more sockets than WS_MAX_SOCKETS_PER_KEY for one key',
    send: async (t) => {
      const release = await holdSockets(t.wsUrl, 'demo-service', 2);
      try {
        return await overWebSocket(t.wsUrl, {
          frames: [{ type: 'connection_init', payload: { authorization: 'Bearer demo-service' } }],
        });
      } finally {
        await release();
      }
    },
    expect: { close: 1008, reason: 'Too many sockets for this key: at most 2' },
  },

  // graphql-ws: hand-made frames the ws library refuses (RFC 6455).
  ...(
    [
      ['an unmasked client frame', frame(1, Buffer.from('{}'), { unmasked: true }), 1002],
      [
        'a frame with RSV1 set (no extension agreed)',
        frame(1, Buffer.from('{}'), { rsv: 4 }),
        1002,
      ],
      ['a reserved opcode 3', frame(3, Buffer.from('{}')), 1002],
      ['a control frame of 126 bytes', frame(9, Buffer.alloc(126)), 1002],
      ['a fragmented control frame', frame(9, Buffer.from('x'), { fin: false }), 1002],
      ['a continuation frame with nothing to continue', frame(0, Buffer.from('x')), 1002],
      ['a text frame of invalid UTF-8', frame(1, Buffer.from([0xc3, 0x28])), 1007],
      ['a close frame with code 999', frame(8, Buffer.from([0x03, 0xe7])), 1002],
      [
        'a frame length of 2^63',
        Buffer.concat([
          Buffer.from([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
          Buffer.alloc(4),
        ]),
        1009,
      ],
      [
        'a frame header claiming 90 MB',
        Buffer.concat([
          Buffer.from([0x82, 0xff]),
          Buffer.from([0, 0, 0, 0, 0x05, 0x5d, 0x4a, 0x80]),
          Buffer.alloc(4),
        ]),
        1009,
      ],
    ] as const
  ).map(([name, bytes, close]): Case => ({
    category: 'websocket frames',
    name,
    send: frames([bytes]),
    expect: { close, reason: '' },
  })),
  {
    category: 'websocket frames',
    name: 'a 2 MB message in 1,000 fragments after connection_init',
    send: frames([
      text(INIT),
      ...Array.from({ length: 1_000 }, (_, i) =>
        frame(i === 0 ? 1 : 0, Buffer.alloc(2_000, 0x20), { fin: false }),
      ),
      frame(0, Buffer.from('{}')),
    ]),
    expect: { close: 1009, reason: '' },
  },
  {
    category: 'websocket frames',
    name: 'an upgrade with Sec-WebSocket-Version 7',
    send: frames([], { 'Sec-WebSocket-Version': '7' }),
    expect: { status: 400 },
  },
  {
    category: 'websocket frames',
    name: 'an upgrade with a malformed Sec-WebSocket-Key',
    send: frames([], { 'Sec-WebSocket-Key': 'short' }),
    expect: { status: 400 },
  },
  {
    category: 'websocket frames',
    name: 'an upgrade to another path',
    send: (t) => overFrames(t.port, [], {}, '/nope'),
    expect: { status: 400 },
  },

  // Webhooks.
  {
    category: 'webhooks',
    name: 'an unknown system, its name of 3,000 characters quoted cut short',
    send: webhook(x(3_000), '{}', JSON_TYPE),
    expect: {
      status: 404,
      code: 'NOT_FOUND',
      message: `expected a system that sends webhooks (erp, commerce, wms, tpl), got "${x(64)}… (3000 characters)"`,
    },
  },
  {
    category: 'webhooks',
    name: 'GET /webhooks/erp',
    send: (t) => overHttp(t.origin, { method: 'GET', path: '/webhooks/erp' }),
    expect: { status: 404 },
  },
  {
    category: 'webhooks',
    name: 'a body over WEBHOOK_MAX_BYTES',
    send: webhook('erp', JSON.stringify({ pad: x(20_000) }), JSON_TYPE),
    expect: {
      status: 413,
      code: 'WEBHOOK_TOO_LARGE',
      message: 'expected a body of at most 16384 bytes, got more',
    },
  },
  {
    category: 'webhooks',
    name: 'ERP: no signature headers',
    send: webhook('erp', creditBody(), JSON_TYPE),
    expect: {
      status: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
      message:
        'expected the headers webhook-id, webhook-timestamp and webhook-signature, got no webhook-id, no webhook-timestamp, no webhook-signature',
    },
  },
  {
    category: 'webhooks',
    name: 'ERP: a signature of another secret',
    send: erp(creditBody(), { 'webhook-signature': `v1,${Buffer.from(x(32)).toString('base64')}` }),
    expect: {
      status: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
      message: `${ERP_SIGNATURE}"v1,${Buffer.from(x(32)).toString('base64')}", which does not match`,
    },
  },
  {
    category: 'webhooks',
    name: 'ERP: a signature header of 3,000 characters',
    send: erp(creditBody(), { 'webhook-signature': `v1,${x(3_000)}` }),
    expect: {
      status: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
      message: new RegExp(
        `^${ERP_SIGNATURE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"v1,x{74}\\.\\.\\.", which does not match$`,
      ),
    },
  },
  {
    category: 'webhooks',
    name: 'ERP: a timestamp an hour old',
    send: erp(creditBody(), { 'webhook-timestamp': String(nowSeconds() - 3_600) }),
    expect: {
      status: 400,
      code: 'WEBHOOK_TIMESTAMP_STALE',
      message:
        /^expected webhook-timestamp within 300000 ms before the time of receipt \(.+\), got "\d+", \d+ ms earlier$/,
    },
  },
  {
    category: 'webhooks',
    name: 'ERP: a timestamp an hour ahead',
    send: erp(creditBody(), { 'webhook-timestamp': String(nowSeconds() + 3_600) }),
    expect: {
      status: 400,
      code: 'WEBHOOK_TIMESTAMP_STALE',
      message:
        /^expected webhook-timestamp within 300000 ms after the time of receipt \(.+\), got "\d+", \d+ ms later$/,
    },
  },
  {
    category: 'webhooks',
    name: 'ERP: a timestamp that is not a number',
    send: erp(creditBody(), { 'webhook-timestamp': 'yesterday' }),
    expect: {
      status: 400,
      code: 'WEBHOOK_MALFORMED',
      message: 'expected webhook-timestamp as integer unix seconds, got "yesterday"',
    },
  },
  {
    category: 'webhooks',
    name: 'ERP: signed, but not JSON',
    send: erp('{'),
    expect: {
      status: 400,
      code: 'WEBHOOK_MALFORMED',
      message: `expected a JSON body, got "{" (Expected property name or '}' in JSON at position 1)`,
    },
  },
  {
    category: 'webhooks',
    name: 'ERP: signed JSON of the wrong shape',
    send: erp(JSON.stringify({ type: 'customer.creditStatusChanged', data: { number: 5 } })),
    expect: {
      status: 400,
      code: 'WEBHOOK_MALFORMED',
      message:
        'expected a Standard Webhooks body {type, timestamp, data}: at timestamp: Invalid input: expected string, received undefined',
    },
  },
  {
    category: 'webhooks',
    name: 'ERP: signed, of an unknown event type',
    send: erp(JSON.stringify({ type: 'nope', timestamp: new Date().toISOString(), data: {} })),
    expect: {
      status: 400,
      code: 'WEBHOOK_UNKNOWN_TYPE',
      message: 'expected type salesInvoice.posted or customer.creditStatusChanged, got "nope"',
    },
  },
  {
    category: 'webhooks',
    name: 'ERP: signed, a customer number of 5,000 characters',
    send: erp(creditBody(x(5_000))),
    expect: {
      status: 400,
      code: 'WEBHOOK_MALFORMED',
      message:
        'expected customer.creditStatusChanged data: at number: Too big: expected string to have <=20 characters',
    },
  },
  {
    category: 'webhooks',
    name: 'ERP: a genuine delivery sent twice: the second is a duplicate, answered 200',
    send: erpTwice(creditBody()),
    expect: { status: 200 },
  },
  {
    category: 'webhooks',
    name: 'commerce: no HMAC header',
    send: shopify(JSON.stringify({ id: 1 }), { 'x-shopify-hmac-sha256': undefined }),
    expect: {
      status: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
      message: 'expected the header X-Shopify-Hmac-Sha256, got nothing',
    },
  },
  {
    category: 'webhooks',
    name: 'commerce: an HMAC of another body',
    send: (t) => {
      const headers = shopifyHeaders(JSON.stringify({ id: 1 }));
      return webhook('commerce', JSON.stringify({ id: 2 }), headers)(t);
    },
    expect: {
      status: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
      message:
        /^expected X-Shopify-Hmac-Sha256 to be the base64 HMAC-SHA256 of the body under the commerce webhook secret, got "[A-Za-z0-9+/=]+", which does not match$/,
    },
  },
  {
    category: 'webhooks',
    name: 'commerce: signed, of an unknown topic',
    send: shopify(JSON.stringify({ id: 1 }), { 'x-shopify-topic': 'shop/redact' }),
    expect: {
      status: 400,
      code: 'WEBHOOK_UNKNOWN_TYPE',
      message: 'expected X-Shopify-Topic orders/updated or orders/cancelled, got "shop/redact"',
    },
  },
  {
    category: 'webhooks',
    name: 'commerce: signed, not JSON',
    send: shopify('nope'),
    expect: {
      status: 400,
      code: 'WEBHOOK_MALFORMED',
      message: `expected a JSON body, got "nope" (Unexpected token 'o', "nope" is not valid JSON)`,
    },
  },
  {
    category: 'webhooks',
    name: 'commerce: signed by the app, for another shop it is installed on',
    send: shopify(JSON.stringify({ id: 1 }), { 'x-shopify-shop-domain': 'evil.myshopify.com' }),
    expect: {
      status: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
      message: `expected X-Shopify-Shop-Domain ${COMMERCE_SANDBOX.shopDomain} (the shop this deployment serves), got "evil.myshopify.com"`,
    },
  },
  {
    category: 'webhooks',
    name: 'WMS: a forged RSA signature',
    send: wmsForged(JSON.stringify({ wmsEventId: randomUUID() })),
    expect: {
      status: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
      message: `${WMS_SIGNATURE}"bm90IGEgc2lnbmF0dXJl", which does not verify`,
    },
  },
  {
    category: 'webhooks',
    name: 'WMS: no signature',
    send: webhook('wms', '{}', JSON_TYPE),
    expect: {
      status: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
      message: 'expected the header Signature (base64 RSA-SHA256 of the body), got nothing',
    },
  },
  {
    category: 'webhooks',
    name: 'WMS: a signature that is not base64',
    send: wmsForged('{}', '!!!'),
    expect: {
      status: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
      message: `${WMS_SIGNATURE}"!!!", which does not verify`,
    },
  },
  {
    category: 'webhooks',
    name: `3PL: refused deliveries past WEBHOOK_FAILURES_PER_MINUTE`,
    send: async (t) => {
      for (let i = 0; i <= Number(TABLE_LIMITS.WEBHOOK_FAILURES_PER_MINUTE); i++) {
        const answer = await webhook('tpl', '{}', JSON_TYPE)(t);
        if (answer.status === 429) return answer;
      }
      return webhook('tpl', '{}', JSON_TYPE)(t);
    },
    expect: {
      status: 429,
      code: 'WEBHOOK_RATE_LIMITED',
      message: /^more than 60 refused deliveries from this system in a minute; retry in \d+ s$/,
    },
  },

  // What production tells clients (the hardened stack).
  {
    category: 'production',
    hardened: true,
    name: 'introspection',
    send: op('{ __schema { queryType { name } } }'),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message:
        /^GraphQL introspection has been disabled, but the requested query contained the field "__(schema|type)"\.$/,
    },
  },
  {
    category: 'production',
    hardened: true,
    name: '__type',
    send: op('{ __type(name: "Customer") { fields { name } } }'),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message:
        /^GraphQL introspection has been disabled, but the requested query contained the field "__(schema|type)"\.$/,
    },
  },
  {
    category: 'production',
    hardened: true,
    name: 'introspection over GET',
    send: get({ query: '{ __schema { types { name } } }' }),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message:
        /^GraphQL introspection has been disabled, but the requested query contained the field "__(schema|type)"\.$/,
    },
  },
  {
    category: 'production',
    hardened: true,
    name: 'introspection over graphql-ws',
    send: afterInit(subscribe('{ __schema { queryType { name } } }')),
    expect: {
      type: 'error',
      code: 'BAD_USER_INPUT',
      message:
        'GraphQL introspection has been disabled, but the requested query contained the field "__schema".',
    },
  },
  {
    category: 'production',
    hardened: true,
    name: 'a misspelt field: no suggestion',
    send: op('{ product(sku: "SKU-000001") { skuu } }'),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: 'Cannot query field "skuu" on type "Product".',
    },
  },
  {
    category: 'production',
    hardened: true,
    name: 'a misspelt argument: no suggestion',
    send: op('{ products(firts: 1) { nodes { sku } } }'),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: 'Unknown argument "firts" on field "Query.products".',
    },
  },
  {
    category: 'production',
    hardened: true,
    name: 'a misspelt enum value: no suggestion',
    send: op('{ deadLetters(status: OPN) { id } }'),
    expect: {
      status: 200,
      code: 'BAD_USER_INPUT',
      message: 'Value "OPN" does not exist in "DeadLetterStatus" enum.',
    },
  },
  {
    category: 'production',
    hardened: true,
    name: 'a misspelt type in a fragment: no suggestion',
    send: op('{ ...F } fragment F on Querry { __typename }'),
    expect: { status: 200, code: 'BAD_USER_INPUT', message: 'Unknown type "Querry".' },
  },
  {
    category: 'production',
    hardened: true,
    name: 'a malformed Authorization header: not quoted back',
    send: op('{ __typename }', undefined, { authorization: 'sk_live_secret' }),
    expect: {
      status: 401,
      code: 'UNAUTHENTICATED',
      message:
        'Malformed Authorization header: expected "Bearer <API key>", got 14 characters that are not',
    },
  },
];

/** The normal operations that must still answer after each case. */
export const NORMAL_QUERY = NORMAL;
export const NORMAL_PRODUCT = PRODUCT_1;

/**
 * `POST /webhooks/:system`: the table of bad deliveries, per system and vendor scheme, each with
 * its exact status, `error.code`, exactly one warn log line (system, code, deliveryId) and
 * nothing published; accepted and duplicate deliveries; a reused delivery id; the WMS key
 * rotation; unknown and polled systems; a body over the limit; and a failure while applying
 * (503, the retry runs).
 *
 * The ERP (Standard Webhooks) and commerce (Shopify) deliveries are signed here with the shared
 * sandbox secrets, as the vendors would sign them. RSA deliveries need the WMS's private key,
 * which the sandbox keeps to itself: here the WMS source points at a small Extensiv stand-in
 * (token, facilities, `GET /events/webhook/key` with its 304) whose key pair the test holds,
 * so it can sign bad deliveries too. The sandbox's own RSA emission is exercised end to end in
 * test/ingest-e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { pino } from 'pino';
import { COMMERCE_SANDBOX, ERP_SANDBOX } from '../sandbox/credentials.js';
import { buildWorld } from '../sandbox/seed.js';
import { loadConfig } from '../server/config.js';
import { startEmbedded, type Embedded } from '../server/embedded.js';
import { signShopifyWebhook } from '../sources/commerce/webhooks.js';
import { signStandardWebhook } from '../sources/erp/webhooks.js';
import { FACILITY_REL } from '../sources/wms/mapping.js';
import { EVENT_DOMAINS, type DeliveredEvent } from '../subscriptions/bus.js';
import type { createMemoryBus } from '../subscriptions/memory-bus.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type MemoryBus = ReturnType<typeof createMemoryBus>;

// --- an Extensiv stand-in whose webhook key the test holds ----------------------------------

interface FakeWms {
  readonly url: string;
  privateKey: KeyObject;
  /** `GET /events/webhook/key` requests served, 304s included. */
  keyFetches: number;
  rotate(): void;
  close(): Promise<void>;
}

async function startFakeWms(): Promise<FakeWms> {
  const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
  let keys = pair();
  let retrievalDateISO = new Date().toISOString();
  const app = express();
  const fake: Omit<FakeWms, 'url' | 'close'> = {
    privateKey: keys.privateKey,
    keyFetches: 0,
    rotate() {
      keys = pair();
      this.privateKey = keys.privateKey;
      retrievalDateISO = new Date(Date.parse(retrievalDateISO) + 1000).toISOString();
    },
  };
  app.post('/AuthServer/api/Token', (_req, res) => {
    res.json({ access_token: 'fake-token', token_type: 'Bearer', expires_in: 1800 });
  });
  app.get('/properties/facilities', (_req, res) => {
    res.json({
      totalResults: 1,
      _embedded: { [FACILITY_REL]: [{ id: 1, name: 'East', code: 'EAST', address: {} }] },
    });
  });
  app.get('/events/webhook/key', (req, res) => {
    fake.keyFetches++;
    if (req.headers.authorization !== 'Bearer fake-token') return void res.status(401).end();
    if (req.query.previousRetrievalDateISO === retrievalDateISO) return void res.status(304).end();
    res.json({
      publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }),
      retrievalDateISO,
    });
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

// --- the stack, with its log lines captured ---------------------------------------------------

let running: Embedded;
let fakeWms: FakeWms;
let base: string;
const logLines: Json[] = [];

before(async () => {
  fakeWms = await startFakeWms();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        logLines.push(JSON.parse(line) as Json);
      }
      done();
    },
  });
  const config = loadConfig({
    DATA_DIR: mkdtempSync(join(tmpdir(), 'crossdock-webhooks-')),
    PORT: '0',
    SANDBOX_PORT_BASE: '0',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    WMS_URL: fakeWms.url,
    WEBHOOK_MAX_BYTES: '4096',
    // Every test here may rotate the fake WMS's key: a refused signature earlier in the file must
    // not hold the next rotation back (the window itself: webhook-abuse.test.ts).
    WEBHOOK_KEY_REFRESH_MS: '0',
  });
  running = await startEmbedded(config, {
    logger: pino({ level: 'info' }, sink),
    world: buildWorld({ catalogSize: 20 }),
  });
  base = new URL(running.crossdock.url).origin;
});

after(async () => {
  await running.close();
  await fakeWms.close();
});

const bus = (): MemoryBus => running.bus as MemoryBus;

/** How long "nothing was published" is waited for after an answer (an expiring wait). */
const QUIET_MS = 50;

/**
 * Subscribes to every domain of the bus now (before a delivery); `quietFor(ms)`, called once the
 * answer is in, resolves with the first event published since, or 'nothing' when none comes
 * within `ms` — so publishing late, after answering, fails too.
 */
function watchBus(): { quietFor(ms: number): Promise<DeliveredEvent | 'nothing'> } {
  const subscriptions = EVENT_DOMAINS.map((domain) => bus().subscribe(domain, {}));
  const never = new Promise<never>(() => undefined);
  const first = Promise.race(
    subscriptions.map((subscription) =>
      subscription[Symbol.asyncIterator]()
        .next()
        .then((next) => (next.done ? never : next.value)),
    ),
  );
  return {
    async quietFor(ms) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'nothing'>((resolve) => {
        timer = setTimeout(resolve, ms, 'nothing');
      });
      try {
        return await Promise.race([first, timeout]);
      } finally {
        clearTimeout(timer);
        await Promise.all(subscriptions.map((subscription) => subscription.return()));
      }
    },
  };
}

async function post(
  system: string,
  body: string | Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}/webhooks/${system}`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Json };
}

// --- deliveries, signed as each vendor signs them ---------------------------------------------

const nowSeconds = () => Math.floor(Date.now() / 1000);
const OTHER_WHSEC = `whsec_${Buffer.from('not-the-crossdock-erp-secret!!!!').toString('base64')}`;

function creditBody(number: string, blocked = 'Ship'): string {
  return JSON.stringify({
    type: 'customer.creditStatusChanged',
    timestamp: new Date().toISOString(),
    data: { id: randomUUID(), number, blocked, previousBlocked: ' ', creditLimit: 1000 },
  });
}

function erpHeaders(
  id: string,
  body: string,
  options: { timestamp?: number; secret?: string; omit?: string } = {},
): Record<string, string> {
  const timestamp = options.timestamp ?? nowSeconds();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(
      options.secret ?? ERP_SANDBOX.webhookSecret,
      id,
      timestamp,
      body,
    ),
  };
  if (options.omit) delete headers[options.omit];
  return headers;
}

function shopifyBody(name: string, note = 'leave at the door'): string {
  return JSON.stringify({
    id: 820982911946154500,
    admin_graphql_api_id: 'gid://shopify/Order/820982911946154500',
    name,
    email: 'jon@example.com',
    created_at: new Date(Date.now() - 60_000).toISOString(),
    updated_at: new Date().toISOString(),
    cancelled_at: null,
    cancel_reason: null,
    financial_status: 'paid',
    fulfillment_status: null,
    tags: 'vip, wholesale',
    note,
    line_items: [{ id: 1, sku: 'SKU-000001', quantity: 1, price: '12.00' }],
  });
}

function shopifyHeaders(
  id: string,
  body: string,
  options: {
    topic?: string;
    triggeredAt?: string;
    secret?: string;
    omit?: string;
  } = {},
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-shopify-topic': options.topic ?? 'orders/updated',
    'x-shopify-hmac-sha256': signShopifyWebhook(
      options.secret ?? COMMERCE_SANDBOX.webhookSecret,
      body,
    ),
    'x-shopify-shop-domain': COMMERCE_SANDBOX.shopDomain,
    'x-shopify-api-version': COMMERCE_SANDBOX.apiVersion,
    'x-shopify-webhook-id': id,
    'x-shopify-event-id': randomUUID(),
    'x-shopify-triggered-at': options.triggeredAt ?? new Date().toISOString(),
  };
  if (options.omit) delete headers[options.omit];
  return headers;
}

/** An Extensiv datetime: 7 fractional digits, no offset, UTC. */
const extensivTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 23)}0000`;

function adjustmentBody(
  eventId: string,
  options: { qty?: number; eventType?: string; at?: number } = {},
): string {
  const qty = options.qty ?? 3;
  return JSON.stringify({
    tplId: '{8c5e2a71-0c61-4f7e-9b1f-0e2a6d3c4b51}',
    wmsEventId: eventId,
    eventDateTimeUtc: extensivTime(options.at ?? Date.now()),
    eventType: options.eventType ?? 'Adjustment',
    tags: 'Adjusted',
    resource: {
      rel: 'stocksummary',
      href: '/inventory/stocksummaries?rql=itemIdentifier.sku==SKU-000001;facilityId==1',
      body: {
        itemIdentifier: { sku: 'SKU-000001', id: 1 },
        facilityId: 1,
        onHand: 100 + qty,
        available: 90 + qty,
        allocated: 10,
        onHold: 0,
      },
    },
    links: JSON.stringify({ stocksummary: '/inventory/stocksummaries' }),
    data: JSON.stringify({ FacilityId: 1, Sku: 'SKU-000001', Qty: qty, Reason: 'cycle count' }),
  });
}

function wmsHeaders(body: string, key?: KeyObject): Record<string, string> {
  return {
    'content-type': 'application/json',
    signature: sign('sha256', Buffer.from(body), key ?? fakeWms.privateKey).toString('base64'),
  };
}

const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

// --- the table ---------------------------------------------------------------------------------

interface BadCase {
  readonly name: string;
  readonly system: 'erp' | 'commerce' | 'wms';
  /** Builds the delivery; may send a first one (a reused id) before. */
  readonly make: () => Promise<{ body: string; headers: Record<string, string> }>;
  readonly status: number;
  readonly code: string;
  /** The delivery id the refusal names (null: not known before verification). */
  readonly deliveryId: string | null;
  /** A fragment of `error.message`. */
  readonly message: RegExp;
}

const id = (prefix: string) => `${prefix}-${randomUUID()}`;
const fixed = new Map<string, string>();
const idOf = (name: string, prefix: string) => {
  if (!fixed.has(name)) fixed.set(name, id(prefix));
  return fixed.get(name) as string;
};
const TEN_MINUTES = 600_000;
/** Past WEBHOOK_MAX_EVENT_AGE_MS (6 h): vendors that stamp the event's own time keep it on retries. */
const SEVEN_HOURS = 7 * 3_600_000;

const CASES: BadCase[] = [
  // ERP: Standard Webhooks v1
  {
    name: 'bad signature',
    system: 'erp',
    make: async () => {
      const body = creditBody('C10001');
      return { body, headers: erpHeaders(idOf('erp-bad', 'msg'), body, { secret: OTHER_WHSEC }) };
    },
    status: 401,
    code: 'WEBHOOK_SIGNATURE_INVALID',
    deliveryId: idOf('erp-bad', 'msg'),
    message: /expected webhook-signature to hold v1,<base64 HMAC-SHA256/,
  },
  {
    name: 'missing signature',
    system: 'erp',
    make: async () => {
      const body = creditBody('C10001');
      return {
        body,
        headers: erpHeaders(idOf('erp-missing', 'msg'), body, { omit: 'webhook-signature' }),
      };
    },
    status: 401,
    code: 'WEBHOOK_SIGNATURE_INVALID',
    deliveryId: idOf('erp-missing', 'msg'),
    message:
      /^expected the headers webhook-id, webhook-timestamp and webhook-signature, got no webhook-signature$/,
  },
  {
    name: 'stale timestamp',
    system: 'erp',
    make: async () => {
      const body = creditBody('C10001');
      const timestamp = nowSeconds() - TEN_MINUTES / 1000;
      return { body, headers: erpHeaders(idOf('erp-stale', 'msg'), body, { timestamp }) };
    },
    status: 400,
    code: 'WEBHOOK_TIMESTAMP_STALE',
    deliveryId: idOf('erp-stale', 'msg'),
    message:
      /^expected webhook-timestamp within 300000 ms before the time of receipt .*, got "\d+", 6\d{5} ms earlier$/,
  },
  {
    name: 'malformed JSON',
    system: 'erp',
    make: async () => {
      const body = '{"type": "customer.creditStatusChanged",';
      return { body, headers: erpHeaders(idOf('erp-json', 'msg'), body) };
    },
    status: 400,
    code: 'WEBHOOK_MALFORMED',
    deliveryId: idOf('erp-json', 'msg'),
    message: /^expected a JSON body, got "\{\\"type\\": \\"customer.creditStatusChanged\\","/,
  },
  {
    name: 'wrong shape',
    system: 'erp',
    make: async () => {
      const body = JSON.stringify({
        type: 'customer.creditStatusChanged',
        timestamp: new Date().toISOString(),
        data: { id: 'x', number: 42, blocked: 'Ship', creditLimit: 0 },
      });
      return { body, headers: erpHeaders(idOf('erp-shape', 'msg'), body) };
    },
    status: 400,
    code: 'WEBHOOK_MALFORMED',
    deliveryId: idOf('erp-shape', 'msg'),
    message:
      /^expected customer.creditStatusChanged data: at number: Invalid input: expected string, received number$/,
  },
  {
    name: 'unknown event type',
    system: 'erp',
    make: async () => {
      const body = JSON.stringify({
        type: 'salesOrder.released',
        timestamp: new Date().toISOString(),
        data: {},
      });
      return { body, headers: erpHeaders(idOf('erp-type', 'msg'), body) };
    },
    status: 400,
    code: 'WEBHOOK_UNKNOWN_TYPE',
    deliveryId: idOf('erp-type', 'msg'),
    message:
      /^expected type salesInvoice.posted or customer.creditStatusChanged, got "salesOrder.released"$/,
  },
  {
    name: 'same delivery id with another body',
    system: 'erp',
    make: async () => {
      const first = creditBody('C10002', 'All');
      const sent = await post('erp', first, erpHeaders(idOf('erp-reuse', 'msg'), first));
      assert.equal(sent.status, 200);
      const body = creditBody('C10002', 'Invoice');
      return { body, headers: erpHeaders(idOf('erp-reuse', 'msg'), body) };
    },
    status: 409,
    code: 'WEBHOOK_ID_REUSED',
    deliveryId: idOf('erp-reuse', 'msg'),
    message: /got another body$/,
  },
  // Commerce: Shopify HMAC
  {
    name: 'bad signature',
    system: 'commerce',
    make: async () => {
      const body = shopifyBody('#9001');
      return {
        body,
        headers: shopifyHeaders(idOf('shop-bad', 'wh'), body, { secret: 'shpss_someone_else' }),
      };
    },
    status: 401,
    code: 'WEBHOOK_SIGNATURE_INVALID',
    deliveryId: idOf('shop-bad', 'wh'),
    message: /^expected X-Shopify-Hmac-Sha256 to be the base64 HMAC-SHA256 of the body/,
  },
  {
    name: 'missing signature',
    system: 'commerce',
    make: async () => {
      const body = shopifyBody('#9001');
      return {
        body,
        headers: shopifyHeaders(idOf('shop-missing', 'wh'), body, {
          omit: 'x-shopify-hmac-sha256',
        }),
      };
    },
    status: 401,
    code: 'WEBHOOK_SIGNATURE_INVALID',
    deliveryId: idOf('shop-missing', 'wh'),
    message: /^expected the header X-Shopify-Hmac-Sha256, got nothing$/,
  },
  {
    name: 'stale timestamp',
    system: 'commerce',
    make: async () => {
      const body = shopifyBody('#9001');
      const triggeredAt = new Date(Date.now() - SEVEN_HOURS).toISOString();
      return { body, headers: shopifyHeaders(idOf('shop-stale', 'wh'), body, { triggeredAt }) };
    },
    status: 400,
    code: 'WEBHOOK_TIMESTAMP_STALE',
    deliveryId: idOf('shop-stale', 'wh'),
    message: /^expected X-Shopify-Triggered-At within 21600000 ms before the time of receipt/,
  },
  {
    name: 'malformed JSON',
    system: 'commerce',
    make: async () => {
      const body = 'name=#9001';
      return { body, headers: shopifyHeaders(idOf('shop-json', 'wh'), body) };
    },
    status: 400,
    code: 'WEBHOOK_MALFORMED',
    deliveryId: idOf('shop-json', 'wh'),
    message: /^expected a JSON body, got "name=#9001"/,
  },
  {
    name: 'wrong shape',
    system: 'commerce',
    make: async () => {
      const body = JSON.stringify({ ...JSON.parse(shopifyBody('#9001')), name: null });
      return { body, headers: shopifyHeaders(idOf('shop-shape', 'wh'), body) };
    },
    status: 400,
    code: 'WEBHOOK_MALFORMED',
    deliveryId: idOf('shop-shape', 'wh'),
    message:
      /^expected a orders\/updated order body: at name: Invalid input: expected string, received null$/,
  },
  {
    name: 'unknown event type',
    system: 'commerce',
    make: async () => {
      const body = shopifyBody('#9001');
      return {
        body,
        headers: shopifyHeaders(idOf('shop-type', 'wh'), body, { topic: 'orders/create' }),
      };
    },
    status: 400,
    code: 'WEBHOOK_UNKNOWN_TYPE',
    deliveryId: idOf('shop-type', 'wh'),
    message:
      /^expected X-Shopify-Topic orders\/updated or orders\/cancelled, got "orders\/create"$/,
  },
  {
    name: 'same delivery id with another body',
    system: 'commerce',
    make: async () => {
      const first = shopifyBody('#9002', 'first');
      const sent = await post('commerce', first, shopifyHeaders(idOf('shop-reuse', 'wh'), first));
      assert.equal(sent.status, 200);
      const body = shopifyBody('#9002', 'second');
      return { body, headers: shopifyHeaders(idOf('shop-reuse', 'wh'), body) };
    },
    status: 409,
    code: 'WEBHOOK_ID_REUSED',
    deliveryId: idOf('shop-reuse', 'wh'),
    message: /got another body$/,
  },
  // WMS: Extensiv RSA
  {
    name: 'bad signature',
    system: 'wms',
    make: async () => {
      const body = adjustmentBody(idOf('wms-bad', 'evt'));
      return { body, headers: wmsHeaders(body, strangerKey) };
    },
    status: 401,
    code: 'WEBHOOK_SIGNATURE_INVALID',
    deliveryId: null,
    message:
      /^expected Signature to be the base64 RSA-SHA256 signature of the body under the key of GET events\/webhook\/key/,
  },
  {
    name: 'missing signature',
    system: 'wms',
    make: async () => ({
      body: adjustmentBody(idOf('wms-missing', 'evt')),
      headers: { 'content-type': 'application/json' },
    }),
    status: 401,
    code: 'WEBHOOK_SIGNATURE_INVALID',
    deliveryId: null,
    message: /^expected the header Signature \(base64 RSA-SHA256 of the body\), got nothing$/,
  },
  {
    name: 'stale timestamp',
    system: 'wms',
    make: async () => {
      const body = adjustmentBody(idOf('wms-stale', 'evt'), { at: Date.now() - SEVEN_HOURS });
      return { body, headers: wmsHeaders(body) };
    },
    status: 400,
    code: 'WEBHOOK_TIMESTAMP_STALE',
    deliveryId: idOf('wms-stale', 'evt'),
    message: /^expected eventDateTimeUtc within 21600000 ms before the time of receipt/,
  },
  {
    name: 'malformed JSON',
    system: 'wms',
    make: async () => {
      const body = '<event/>';
      return { body, headers: wmsHeaders(body) };
    },
    status: 400,
    code: 'WEBHOOK_MALFORMED',
    deliveryId: null,
    message: /^expected a JSON body, got "<event\/>"/,
  },
  {
    name: 'wrong shape',
    system: 'wms',
    make: async () => {
      const event = JSON.parse(adjustmentBody(idOf('wms-shape', 'evt'))) as Json;
      const body = JSON.stringify({ ...event, data: { FacilityId: 1 } });
      return { body, headers: wmsHeaders(body) };
    },
    status: 400,
    code: 'WEBHOOK_MALFORMED',
    deliveryId: idOf('wms-shape', 'evt'),
    message:
      /^expected an Extensiv event .*: at data: Invalid input: expected string, received object$/,
  },
  {
    name: 'unknown event type',
    system: 'wms',
    make: async () => {
      const body = adjustmentBody(idOf('wms-type', 'evt'), {
        eventType: 'OrderPickJobUserAssigned',
      });
      return { body, headers: wmsHeaders(body) };
    },
    status: 400,
    code: 'WEBHOOK_UNKNOWN_TYPE',
    deliveryId: idOf('wms-type', 'evt'),
    message:
      /^expected eventType OrderCreate, OrderConfirm, OrderCancel, OrderDelivered, Adjustment, got "OrderPickJobUserAssigned"$/,
  },
  {
    name: 'same delivery id with another body',
    system: 'wms',
    make: async () => {
      const first = adjustmentBody(idOf('wms-reuse', 'evt'), { qty: 4 });
      const sent = await post('wms', first, wmsHeaders(first));
      assert.equal(sent.status, 200);
      const body = adjustmentBody(idOf('wms-reuse', 'evt'), { qty: 5 });
      return { body, headers: wmsHeaders(body) };
    },
    status: 409,
    code: 'WEBHOOK_ID_REUSED',
    deliveryId: idOf('wms-reuse', 'evt'),
    message: /got another body$/,
  },
];

/** Warn lines logged since `from`. */
const warnsSince = (from: number) => logLines.slice(from).filter((l) => l.level === 40);

describe('bad webhook deliveries', () => {
  for (const c of CASES) {
    it(`${c.system}: ${c.name} → ${c.status} ${c.code}, one warn line, nothing published`, async () => {
      const { body, headers } = await c.make();
      const watch = watchBus();
      const logged = logLines.length;
      const res = await post(c.system, body, headers);
      assert.equal(res.status, c.status, JSON.stringify(res.body));
      assert.equal(res.body.error?.code, c.code);
      assert.equal(res.body.error?.deliveryId, c.deliveryId);
      assert.match(String(res.body.error?.message), c.message);
      const warns = warnsSince(logged);
      assert.equal(warns.length, 1, JSON.stringify(warns));
      assert.equal(warns[0]?.system, c.system);
      assert.equal(warns[0]?.code, c.code);
      assert.equal(warns[0]?.deliveryId, c.deliveryId);
      assert.equal(warns[0]?.reason, res.body.error?.message);
      assert.equal(await watch.quietFor(QUIET_MS), 'nothing', 'nothing published');
    });
  }

  it('answers 404 for a system that sends no webhooks (unknown, or polled) ', async () => {
    for (const system of ['nope', 'tpl']) {
      const watch = watchBus();
      const logged = logLines.length;
      const res = await post(system, '{}', { 'content-type': 'application/json' });
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'NOT_FOUND');
      assert.equal(
        res.body.error.message,
        `expected a system that sends webhooks (erp, commerce, wms), got "${system}"`,
      );
      assert.equal(warnsSince(logged).length, 1);
      assert.equal(await watch.quietFor(QUIET_MS), 'nothing', 'nothing published');
    }
  });

  it('answers 413 for a body over WEBHOOK_MAX_BYTES', async () => {
    const watch = watchBus();
    const logged = logLines.length;
    const body = creditBody('C10001').replace('"data"', `"padding": "${'x'.repeat(5000)}", "data"`);
    const res = await post('erp', body, erpHeaders(id('msg'), body));
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'WEBHOOK_TOO_LARGE');
    assert.equal(res.body.error.message, 'expected a body of at most 4096 bytes, got more');
    assert.equal(warnsSince(logged).length, 1);
    assert.equal(await watch.quietFor(QUIET_MS), 'nothing', 'nothing published');
  });
});

describe('good webhook deliveries', () => {
  it('erp: accepted once, a retry of it is a duplicate, one customer event', async () => {
    const before = bus().history('customer').length;
    const webhookId = id('msg');
    const body = creditBody('C10003', 'Ship');
    const first = await post('erp', body, erpHeaders(webhookId, body));
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { status: 'accepted', events: 1 });
    // The retry comes with a timestamp (and signature) of its own attempt, the same body.
    const watch = watchBus();
    const again = await post(
      'erp',
      body,
      erpHeaders(webhookId, body, { timestamp: nowSeconds() + 1 }),
    );
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { status: 'duplicate' });
    assert.equal(await watch.quietFor(QUIET_MS), 'nothing', 'the duplicate publishes nothing');
    const added = bus().history('customer').slice(before);
    assert.equal(added.length, 1);
    assert.equal(added[0]?.id, `erp:${webhookId}`);
    assert.equal(added[0]?.subject, 'crossdock.customer.credit.C10003');
    assert.deepEqual(
      { ...(added[0]?.payload as Json), occurredAt: null },
      { customerNumber: 'C10003', blocked: 'SHIP', previousBlocked: 'NONE', occurredAt: null },
    );
  });

  it('erp: accepts any of several listed signatures (secret rotation)', async () => {
    const before = bus().history('customer').length;
    const webhookId = id('msg');
    const body = creditBody('C10004', 'All');
    const headers = erpHeaders(webhookId, body);
    const stale = erpHeaders(webhookId, body, { secret: OTHER_WHSEC })['webhook-signature'];
    headers['webhook-signature'] = `${stale} ${headers['webhook-signature']}`;
    const res = await post('erp', body, headers);
    assert.deepEqual(res.body, { status: 'accepted', events: 1 });
    assert.deepEqual(
      bus()
        .history('customer')
        .slice(before)
        .map((e) => e.id),
      [`erp:${webhookId}`],
    );
  });

  it('commerce: accepted once, a retry is a duplicate, one ledger entry', async () => {
    // A WEB order placed for storefront order #9100 (made directly in the store: this stack's
    // WMS is a stand-in that cannot reserve).
    const orderId = 'XD-00000000000000C1';
    await running.store.orders.create({
      id: orderId,
      channel: 'WEB',
      customerNumber: 'C10001',
      status: 'ACCEPTED',
      erpNumber: null,
      data: {
        origin: 'crossdock',
        channel: 'WEB',
        customerNumber: 'C10001',
        externalReference: '#9100',
        shipTo: null,
        currencyCode: 'USD',
        lines: [],
        total: '0.00',
        attempt: 1,
        allocations: [],
        returns: [],
        cancelReason: null,
        request: null,
      },
      createdAt: Date.now(),
    });
    await running.store.xrefs.put({
      type: 'Order',
      key: orderId,
      source: 'channel:WEB',
      entity: 'externalReference',
      nativeId: '#9100',
    });
    const webhookId = id('wh');
    const body = shopifyBody('#9100', 'ring twice');
    const headers = shopifyHeaders(webhookId, body);
    assert.deepEqual((await post('commerce', body, headers)).body, {
      status: 'accepted',
      events: 1,
    });
    assert.deepEqual((await post('commerce', body, headers)).body, { status: 'duplicate' });
    const entries = (await running.store.ledger.list(orderId)).filter(
      (e) => e.step === 'event:channelOrder:UPDATED',
    );
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.caller, 'webhook:commerce');
    assert.equal(entries[0]?.detail.note, 'ring twice');
    assert.deepEqual(entries[0]?.detail.tags, ['vip', 'wholesale']);
  });

  it('wms: accepted once, a retry is a duplicate, one inventory event', async () => {
    const before = bus().history('inventory').length;
    const eventId = randomUUID();
    const body = adjustmentBody(eventId, { qty: -2 });
    const first = await post('wms', body, wmsHeaders(body));
    assert.deepEqual(first.body, { status: 'accepted', events: 1 });
    const watch = watchBus();
    const again = await post('wms', body, wmsHeaders(body));
    assert.deepEqual(again.body, { status: 'duplicate' });
    assert.equal(await watch.quietFor(QUIET_MS), 'nothing', 'the duplicate publishes nothing');
    const added = bus().history('inventory').slice(before);
    assert.equal(added.length, 1);
    assert.equal(added[0]?.id, `wms:${eventId}`);
    assert.deepEqual(added[0]?.payload, {
      sku: 'SKU-000001',
      warehouseCode: 'EAST',
      source: 'wms',
      onHand: 98,
      available: 88,
      allocated: 10,
      delta: -2,
      reason: 'cycle count',
      occurredAt: (added[0]?.payload as Json).occurredAt,
    });
  });

  it('accepts a late vendor retry stamped with the event time, within the retry horizon', async () => {
    // Extensiv and Shopify keep the event's own time on every retry: an hour-old retry is
    // legitimate (their retries run for hours); the signed ERP attempt timestamp is not.
    const wmsBody = adjustmentBody(randomUUID(), { at: Date.now() - 3_600_000 });
    assert.deepEqual((await post('wms', wmsBody, wmsHeaders(wmsBody))).body, {
      status: 'accepted',
      events: 1,
    });
    const erpBody = creditBody('C10001');
    const erpLate = await post(
      'erp',
      erpBody,
      erpHeaders(id('msg'), erpBody, { timestamp: nowSeconds() - 3_600 }),
    );
    assert.equal(erpLate.status, 400);
    assert.equal(erpLate.body.error.code, 'WEBHOOK_TIMESTAMP_STALE');
  });

  it('wms: a rotated key is fetched once, then the delivery is accepted', async () => {
    fakeWms.rotate();
    const fetches = fakeWms.keyFetches;
    const body = adjustmentBody(randomUUID());
    const res = await post('wms', body, wmsHeaders(body));
    assert.deepEqual(res.body, { status: 'accepted', events: 1 });
    assert.equal(fakeWms.keyFetches - fetches, 1);
    // And the new key stays cached.
    const next = adjustmentBody(randomUUID());
    assert.equal((await post('wms', next, wmsHeaders(next))).status, 200);
    assert.equal(fakeWms.keyFetches - fetches, 1);
  });

  it('answers 503 while the bus is down, and the retry runs once it is back', async () => {
    const webhookId = id('msg');
    const body = creditBody('C10005', 'Invoice');
    const before = bus().history('customer').length;
    const publish = bus().publish;
    bus().publish = async () => {
      throw new Error('bus unavailable');
    };
    const logged = logLines.length;
    let res;
    try {
      res = await post('erp', body, erpHeaders(webhookId, body));
    } finally {
      bus().publish = publish;
    }
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'WEBHOOK_APPLY_FAILED');
    assert.equal(res.body.error.deliveryId, webhookId);
    assert.equal(warnsSince(logged).length, 1);
    // The vendor's retry: not "in progress" (the claim was released), applied now.
    const retry = await post('erp', body, erpHeaders(webhookId, body));
    assert.deepEqual(retry.body, { status: 'accepted', events: 1 });
    assert.equal(bus().history('customer').length, before + 1);
  });
});

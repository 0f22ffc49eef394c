/**
 * Idempotent mutations and the order workflow, end to end over GraphQL against the sandbox
 * systems. Every test reconciles what Crossdock recorded against what the sandbox ERP and WMS
 * hold: for each order, exactly one ERP sales order and one live reservation per warehouse
 * (lost = 0, duplicated = 0).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it, type TestContext } from 'node:test';
import { allConnectors } from '../resolvers/sources.js';
import { buildWorld, type SeedWorld } from '../sandbox/seed.js';
import type { BreakerState, Connector } from '../sources/contract.js';
import type { DeadLetter } from '../store/contract.js';
import { orderableCustomer, orderIdOf, stockedRow } from './support/orders.js';
import { erpCompanyUrl, erpToken, wmsToken } from './support/sandbox-api.js';
import { startStack, type GqlResponse, type Stack } from './support/stack.js';

let stack: Stack;
let world: SeedWorld;

before(async () => {
  world = buildWorld({ catalogSize: 200 });
  stack = await startStack({
    world,
    env: {
      // Fast retries so the ERP-outage test sees its dead letters drained within the test.
      DEAD_LETTER_RETRY_BASE_MS: '20',
      DEAD_LETTER_RETRY_MAX_MS: '200',
      DEAD_LETTER_POLL_MS: '25',
      // Every breaker a test opens half-opens soon, so the next test can start with it closed.
      BREAKER_RESET_MS: '200',
      ERP_BREAKER_RESET_MS: '200',
    },
  });
});

after(() => stack.close());

afterEach(async () => {
  stack.sandbox.reset();
  await breakersClosed();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PLACE = `mutation($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) {
    order { id number status channel customer { number } lines { sku quantity unitPrice { amount } } total { amount } }
    userErrors { code field message }
  } }`;

/** A customer who can order (not blocked, far from its credit limit). */
const goodCustomer = (): string => orderableCustomer(world).number;

/** A SKU with at least `n` available in some owned warehouse. */
const stockedSku = (n: number, skip = 0): string => stockedRow(world, { free: n, skip }).sku;

function orderInput(lines: { sku: string; quantity: number }[], customer = goodCustomer()) {
  return { channel: 'B2B_PORTAL', customerId: customer, lines };
}

async function place(input: Record<string, unknown>, key: string): Promise<GqlResponse<Json>> {
  return stack.gql<Json>(PLACE, { input, key });
}

// --- what the systems hold ---------------------------------------------------------------------

/** ERP sales orders carrying this external document number (Crossdock's order id). */
async function erpOrdersFor(externalDocumentNumber: string): Promise<Json[]> {
  const filter = encodeURIComponent(`externalDocumentNumber eq '${externalDocumentNumber}'`);
  const res = await fetch(`${erpCompanyUrl(stack.sandbox)}/salesOrders?$filter=${filter}`, {
    headers: { authorization: `Bearer ${await erpToken(stack.sandbox)}` },
  });
  return ((await res.json()) as { value: Json[] }).value;
}

/** WMS orders (reservations) whose reference starts with the order id, in both warehouse systems. */
async function reservationsFor(orderId: string): Promise<Json[]> {
  const found: Json[] = [];
  for (const system of ['wms', 'tpl'] as const) {
    const token = await wmsToken(stack.sandbox, system);
    const rql = encodeURIComponent(`referenceNum==${orderId}*`);
    const res = await fetch(
      `${stack.sandbox[system].url}/orders?rql=${rql}&pgsiz=1000&pgnum=1&detail=All`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    const body = (await res.json()) as { _embedded?: Record<string, Json[]> };
    for (const list of Object.values(body._embedded ?? {}))
      found.push(...list.map((o) => ({ ...o, system })));
  }
  return found;
}

const live = (reservations: Json[]) => reservations.filter((r) => r.readOnly?.status !== 2);

/** Writes (not GETs, not token requests) each sandbox system served since the last reset. */
function writes(): Record<'erp' | 'commerce' | 'wms' | 'tpl', number> {
  const count = (system: 'erp' | 'commerce' | 'wms' | 'tpl') =>
    Object.entries(stack.sandbox[system].control.stats().byRoute)
      .filter(([route]) => !route.startsWith('GET ') && !/token$/i.test(route))
      .reduce((n, [, served]) => n + served, 0);
  return { erp: count('erp'), commerce: count('commerce'), wms: count('wms'), tpl: count('tpl') };
}

/** ERP sales orders POSTed since the last reset of the sandbox's counters. */
const erpPosts = (): number =>
  Object.entries(stack.sandbox.erp.control.stats().byRoute)
    .filter(([route]) => route.startsWith('POST ') && route.endsWith('/salesOrders'))
    .reduce((n, [, served]) => n + served, 0);

// --- what Crossdock itself is doing ----------------------------------------------------------------

/** Resolves when `connector`'s breaker is in `state` (at once if it already is). */
function breakerReaches(connector: Connector, state: BreakerState): Promise<void> {
  return new Promise((resolve) => {
    const off = connector.onStateChange((now) => {
      if (now !== state) return;
      off();
      resolve();
    });
    if (connector.health().state === state) {
      off();
      resolve();
    }
  });
}

/**
 * Resolves when every connector's breaker is CLOSED, so that no test inherits one an earlier
 * test opened: an OPEN breaker half-opens by itself (BREAKER_RESET_MS), and a query that reads
 * from every system is its probe.
 */
async function breakersClosed(): Promise<void> {
  const sku = stockedSku(1);
  for (const connector of allConnectors(stack.crossdock.sources)) {
    while (connector.health().state !== 'CLOSED') {
      await breakerReaches(connector, 'HALF_OPEN');
      await stack.gql(
        `query($sku: String!) { product(sku: $sku) { name listPrice { amount } inventory { available } } }`,
        { sku },
      );
    }
  }
}

/** Resolves once the workflows announced the dead letter of every order of `ids` RESOLVED. */
function lettersResolved(ids: readonly string[]): Promise<void> {
  const waiting = new Set(ids);
  const { events } = stack.running.workflows.orders;
  return new Promise((resolve) => {
    const listener = (letter: DeadLetter) => {
      waiting.delete(letter.orderId);
      if (waiting.size > 0) return;
      events.off('deadLetterResolved', listener);
      resolve();
    };
    events.on('deadLetterResolved', listener);
  });
}

/**
 * Stops the background dead-letter retrier until test `t` ends (then starts it again), so that
 * what runs a dead letter is the test's own call.
 */
async function withoutRetrier(t: TestContext): Promise<void> {
  await stack.running.workflows.close();
  t.after(() => stack.running.workflows.start());
}

// --- tests -------------------------------------------------------------------------------------

describe('placeOrder', () => {
  it('places an order: ERP sales order, WMS reservation, ledger timeline; a retry replays it', async () => {
    const sku = stockedSku(5);
    const first = await place(orderInput([{ sku, quantity: 2 }]), 'happy-path-1');
    assert.deepEqual(first.body.errors, undefined);
    const payload = first.body.data?.placeOrder;
    assert.deepEqual(payload.userErrors, []);
    // Posted to the ERP with a live warehouse order: released to the warehouse.
    assert.equal(payload.order.status, 'RELEASED_TO_WAREHOUSE');
    assert.equal((first.body.extensions?.idempotency as Json | undefined)?.replayed, false);
    const orderId = orderIdOf(payload.order.id);
    assert.match(orderId, /^XD-[0-9A-F]{16}$/);
    assert.match(payload.order.number, /^SO-\d+$/, 'the ERP number once posted');

    const erpOrders = await erpOrdersFor(orderId);
    assert.equal(erpOrders.length, 1);
    assert.equal(live(await reservationsFor(orderId)).length, 1);

    stack.resetCounts();
    const again = await place(orderInput([{ sku, quantity: 2 }]), 'happy-path-1');
    assert.equal((again.body.extensions?.idempotency as Json | undefined)?.replayed, true);
    assert.equal(again.body.data?.placeOrder.order.id, payload.order.id);
    // The replay reads the order as it is now, and writes nothing anywhere.
    assert.deepEqual(writes(), { erp: 0, commerce: 0, wms: 0, tpl: 0 });
    assert.equal((await erpOrdersFor(orderId)).length, 1, 'no second ERP order');
    const timeline = await stack.gql<Json>(
      `query($id: ID!) { order(id: $id) { timeline { step status latencyMs caller } } }`,
      { id: payload.order.id },
    );
    const steps = timeline.body.data?.order.timeline.map((t: Json) => t.step);
    assert.deepEqual(
      steps.filter((s: string) => !s.startsWith('reserve:')),
      ['receive succeeded', 'reserve succeeded', 'post:erp succeeded'],
    );
    assert.ok(
      timeline.body.data?.order.timeline.some(
        (t: Json) => t.step === 'post:erp succeeded' && typeof t.latencyMs === 'number',
      ),
    );
  });

  it("answers with the ERP's reply to the posting: the order is not read back from the ERP", async () => {
    const sku = stockedSku(2);
    stack.resetCounts();
    const placed = await place(orderInput([{ sku, quantity: 1 }]), 'payload-from-post-1');
    assert.deepEqual(placed.body.errors, undefined);
    const order = placed.body.data?.placeOrder.order;
    assert.match(order.number, /^SO-\d+$/);
    const salesOrderReads = Object.entries(stack.sandbox.erp.control.stats().byRoute)
      .filter(([route]) => route.startsWith('GET ') && route.endsWith('/salesOrders'))
      .reduce((n, [, served]) => n + served, 0);
    // One read: the ERP-side duplicate check before the POST (by externalDocumentNumber).
    assert.equal(salesOrderReads, 1);
    assert.equal(erpPosts(), 1);
    // What a later read of the order answers is what the payload said.
    const read = await stack.gql<Json>(
      `query($id: ID!) { order(id: $id) { id number status channel customer { number } lines { sku quantity unitPrice { amount } } total { amount } } }`,
      { id: order.id },
    );
    assert.deepEqual(read.body.data?.order, order);
  });

  it('returns domain failures as userErrors and replays them without calling the systems again', async () => {
    const blocked = world.customers.find((c) => c.blocked === 'Ship');
    assert.ok(blocked);
    // The cheapest product, so asking for more than all its stock stays within the credit limit.
    const cheap = [...world.products]
      .filter((p) => !p.blocked)
      .sort((a, b) => a.priceCents - b.priceCents)[0];
    assert.ok(cheap);
    const cheapAvailable = world.stock
      .filter((s) => s.sku === cheap.sku)
      .reduce((n, s) => n + s.onHand - s.allocated - s.onHold, 0);
    const cases: [Record<string, unknown>, string, (string | number)[] | null][] = [
      [
        orderInput([{ sku: 'SKU-999999', quantity: 1 }]),
        'UNKNOWN_SKU',
        ['input', 'lines', '0', 'sku'],
      ],
      [
        orderInput([{ sku: stockedSku(1), quantity: 0 }]),
        'INVALID_QUANTITY',
        ['input', 'lines', '0', 'quantity'],
      ],
      [
        orderInput([{ sku: stockedSku(1), quantity: 1 }], blocked.number),
        'CREDIT_HOLD',
        ['input', 'customerId'],
      ],
      [
        orderInput([{ sku: stockedSku(1), quantity: 1 }], 'C99999'),
        'CUSTOMER_NOT_FOUND',
        ['input', 'customerId'],
      ],
      [
        orderInput([{ sku: cheap.sku, quantity: cheapAvailable + 1 }]),
        'INSUFFICIENT_STOCK',
        ['input', 'lines', '0', 'quantity'],
      ],
      [
        orderInput([
          { sku: stockedSku(1), quantity: 1 },
          { sku: stockedSku(1), quantity: 1 },
        ]),
        'DUPLICATE_SKU',
        ['input', 'lines', '1', 'sku'],
      ],
    ];
    for (const [input, code, field] of cases) {
      const key = `domain-${code}`;
      const res = await place(input, key);
      assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
      assert.equal(res.body.data?.placeOrder.order, null);
      const [error] = res.body.data?.placeOrder.userErrors ?? [];
      assert.equal(error?.code, code, error?.message);
      assert.deepEqual(error?.field, field?.map(String));
      stack.resetCounts();
      const replay = await place(input, key);
      assert.equal((replay.body.extensions?.idempotency as Json | undefined)?.replayed, true);
      assert.deepEqual(
        replay.body.data?.placeOrder.userErrors,
        res.body.data?.placeOrder.userErrors,
      );
      assert.deepEqual(
        stack.requests(),
        { erp: 0, commerce: 0, wms: 0, tpl: 0 },
        `${code} replay must not call a system`,
      );
    }
  });

  it('refuses the same key with a different input, and malformed keys', async () => {
    const sku = stockedSku(3, 1);
    const ok = await place(orderInput([{ sku, quantity: 1 }]), 'reused-key');
    assert.equal(ok.body.data?.placeOrder.order.status, 'RELEASED_TO_WAREHOUSE');
    const reused = await place(orderInput([{ sku, quantity: 2 }]), 'reused-key');
    assert.equal(reused.body.errors?.[0]?.extensions?.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(
      reused.body.errors?.[0]?.message,
      'idempotencyKey "reused-key" was already used for placeOrder with different input; use a new key for a new request',
    );
    const bad: [string, string][] = [
      ['', 'idempotencyKey: expected 1 to 255 printable ASCII characters, got ""'],
      [
        'x'.repeat(256),
        `idempotencyKey: expected 1 to 255 printable ASCII characters, got "${'x'.repeat(40)}… (256 characters)"`,
      ],
      [
        'tab\there',
        'idempotencyKey: expected 1 to 255 printable ASCII characters, got "tab\\there"',
      ],
    ];
    for (const [key, message] of bad) {
      const res = await place(orderInput([{ sku, quantity: 1 }]), key);
      assert.equal(res.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(res.body.errors?.[0]?.message, message);
    }
    const mismatch = await stack.gql(
      PLACE,
      { input: orderInput([{ sku, quantity: 1 }]), key: 'body-key' },
      { headers: { 'idempotency-key': 'header-key' } },
    );
    assert.equal(mismatch.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(
      mismatch.body.errors?.[0]?.message,
      'idempotencyKey: expected the same key as the Idempotency-Key header ("header-key"), got "body-key"',
    );
  });

  it('runs 50 concurrent requests with one key exactly once', async () => {
    const sku = stockedSku(10, 2);
    const input = orderInput([{ sku, quantity: 1 }]);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => place(input, 'fifty-at-once')),
    );
    const orderIds = new Set<string>();
    let inProgress = 0;
    for (const res of answers) {
      const code = res.body.errors?.[0]?.extensions?.code;
      if (code === 'IDEMPOTENCY_IN_PROGRESS') inProgress++;
      else {
        assert.equal(code, undefined, JSON.stringify(res.body.errors));
        orderIds.add(orderIdOf(res.body.data?.placeOrder.order.id));
      }
    }
    assert.equal(orderIds.size, 1, 'every answer names the same order');
    assert.ok(inProgress < 50, 'at least the first request got the order');
    const [orderId] = [...orderIds];
    assert.equal((await erpOrdersFor(orderId ?? '')).length, 1);
    assert.equal(live(await reservationsFor(orderId ?? '')).length, 1);
  });

  it('survives a retry storm: 200 keys × 5 concurrent retries with client timeouts make exactly 200 orders', async (t) => {
    const sku = stockedSku(300, 0);
    const keys = Array.from({ length: 200 }, (_, i) => `storm-${i}`);
    const started = performance.now();
    // Each key: five attempts at once; clients give up after 2 s (a timed-out request still runs).
    await Promise.all(
      keys.flatMap((key) =>
        Array.from({ length: 5 }, () =>
          stack
            .gql(
              PLACE,
              { input: orderInput([{ sku, quantity: 1 }]), key },
              { signal: AbortSignal.timeout(2_000) },
            )
            .catch(() => null),
        ),
      ),
    );
    // Then each client retries until it gets its answer.
    const orderIds = new Set<string>();
    for (const key of keys) {
      for (let attempt = 0; attempt < 50; attempt++) {
        const res = await place(orderInput([{ sku, quantity: 1 }]), key);
        if (res.body.errors?.[0]?.extensions?.code === 'IDEMPOTENCY_IN_PROGRESS') continue;
        assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
        orderIds.add(orderIdOf(res.body.data?.placeOrder.order.id));
        break;
      }
    }
    t.diagnostic(
      `retry storm: 1000 requests + retries in ${Math.round(performance.now() - started)} ms`,
    );
    assert.equal(orderIds.size, 200);
    let duplicated = 0;
    let lost = 0;
    for (const orderId of orderIds) {
      const n = (await erpOrdersFor(orderId)).length;
      if (n === 0) lost++;
      if (n > 1) duplicated += n - 1;
    }
    assert.deepEqual({ lost, duplicated }, { lost: 0, duplicated: 0 });
  });
});

/**
 * The dead letters of the orders of `ids`, from the store (`Query.deadLetters` would load each
 * letter's order, which needs the ERP for orders it knows).
 */
async function lettersOf(ids: readonly string[]): Promise<DeadLetter[]> {
  const wanted = new Set(ids);
  const all = await stack.running.store.deadLetters.list({ limit: 10_000 });
  return all.filter((l) => wanted.has(l.orderId));
}

/** Resolves once every order of `ids` has published `status` on the bus. */
function statusReached(ids: readonly string[], status: string): Promise<void> {
  const waiting = new Set(ids);
  const events = stack.running.bus.subscribe<{ orderId: string; status: string }>('order', {
    filter: (event) => event.payload.status === status && waiting.has(event.payload.orderId),
  });
  return (async () => {
    for await (const event of events) {
      waiting.delete(event.payload.orderId);
      if (waiting.size === 0) break;
    }
    await events.return();
  })();
}

describe('compensation and dead letters', () => {
  // The timeout turns a wait for events that never come (the behaviour broken) into a failure.
  it(
    'accepts 100 orders as PENDING_ERP while the ERP is down, then posts each exactly once',
    { timeout: 120_000 },
    async (t) => {
      const sku = stockedSku(200, 3);
      // One order while the ERP answers: Crossdock now knows the customer, item and price.
      const warm = await place(orderInput([{ sku, quantity: 1 }]), 'erp-outage-warm');
      assert.equal(warm.body.data?.placeOrder.order.status, 'RELEASED_TO_WAREHOUSE');
      stack.sandbox.erp.control.setFaults({ down: true });
      const keys = Array.from({ length: 100 }, (_, i) => `erp-outage-${i}`);
      // The payload asks only for what Crossdock itself knows (the customer is ERP-owned).
      const results = await Promise.all(
        keys.map((key) =>
          stack.gql<Json>(
            `mutation($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) { order { id status } userErrors { code } } }`,
            { input: orderInput([{ sku, quantity: 1 }]), key },
          ),
        ),
      );
      const ids = results.map((res) => {
        assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
        assert.equal(res.body.data?.placeOrder.order.status, 'PENDING_ERP');
        return orderIdOf(res.body.data?.placeOrder.order.id);
      });
      assert.equal(new Set(ids).size, 100);
      // One dead letter per order, its ERP post, waiting (or being retried against the down ERP).
      const waiting = await lettersOf(ids);
      assert.deepEqual(
        waiting.map((l) => [l.orderId, l.step]).sort(),
        ids.map((id) => [id, 'post:erp']).sort(),
      );
      assert.deepEqual(
        waiting.filter((l) => l.status !== 'PENDING' && l.status !== 'RETRYING'),
        [],
        'no letter resolved or abandoned while the ERP is down',
      );
      // The ERP answers again: the retrier posts every waiting order once and resolves its letter.
      const accepted = statusReached(ids, 'ACCEPTED');
      const resolved = lettersResolved(ids);
      const started = performance.now();
      stack.sandbox.erp.control.setFaults({ down: false });
      await Promise.all([accepted, resolved]);
      t.diagnostic(
        `100 PENDING_ERP orders posted ${Math.round(performance.now() - started)} ms after the ERP came back`,
      );
      let duplicated = 0;
      let lost = 0;
      for (const id of ids) {
        const n = (await erpOrdersFor(id)).length;
        if (n === 0) lost++;
        if (n > 1) duplicated += n - 1;
      }
      assert.deepEqual({ lost, duplicated }, { lost: 0, duplicated: 0 });
      const after = await lettersOf(ids);
      assert.equal(after.length, 100);
      assert.deepEqual(new Set(after.map((l) => l.status)), new Set(['RESOLVED']));
    },
  );

  it('releases everything reserved when a warehouse system fails during reservation', async () => {
    // A line only the 3PL and an owned warehouse can cover together: the order is split.
    const price = (sku: string) =>
      world.products.find((p) => p.sku === sku)?.priceCents ?? Infinity;
    // Among such SKUs the cheapest, so the order stays within the customer's credit limit.
    const row = world.stock
      .filter(
        (s) =>
          s.warehouse === '3PL-SOUTH' &&
          s.onHand - s.allocated - s.onHold >= 5 &&
          world.stock.some(
            (o) =>
              o.sku === s.sku &&
              o.warehouse !== '3PL-SOUTH' &&
              o.onHand - o.allocated - o.onHold >= 5,
          ),
      )
      .sort((a, b) => price(a.sku) - price(b.sku))[0];
    assert.ok(row);
    // What the owned warehouses hold now (not in the seed: earlier tests may have ordered it).
    const before = await stack.gql<Json>(
      `query($s: String!) { product(sku: $s) { availableToPromise inventory { warehouse { code } available } } }`,
      { s: row.sku },
    );
    const owned = (before.body.data?.product.inventory as Json[]).filter(
      (p) => p.warehouse.code !== '3PL-SOUTH' && p.available > 0,
    );
    const ownedAvailable = owned.reduce((n, p) => n + Number(p.available), 0);
    const quantity = ownedAvailable + 1; // more than the owned warehouses hold: the 3PL must ship one
    // The 3PL answers reads (stock) but fails its writes: the own WMS reserves, the 3PL does not.
    stack.sandbox.tpl.control.setFaults({ errorRate: 1, methods: ['POST'] });
    const res = await place(orderInput([{ sku: row.sku, quantity }]), 'wms-fails-mid-reservation');
    stack.sandbox.tpl.control.setFaults({ errorRate: 0, methods: null });
    assert.equal(res.body.errors?.[0]?.extensions?.code, 'SOURCE_UNAVAILABLE');
    assert.equal(res.body.errors?.[0]?.extensions?.source, 'tpl');
    const after = await stack.gql<Json>(
      `query($s: String!) { product(sku: $s) { availableToPromise } }`,
      { s: row.sku },
    );
    assert.equal(
      after.body.data?.product.availableToPromise,
      before.body.data?.product.availableToPromise,
      'nothing stays reserved',
    );
    // A retry with the same key starts a new attempt and succeeds now that the 3PL answers.
    const retry = await place(
      orderInput([{ sku: row.sku, quantity }]),
      'wms-fails-mid-reservation',
    );
    assert.equal(retry.body.errors, undefined, JSON.stringify(retry.body.errors));
    assert.equal(retry.body.data?.placeOrder.order.status, 'RELEASED_TO_WAREHOUSE');
    const id = orderIdOf(retry.body.data?.placeOrder.order.id);
    // [system, reference, released] of every reservation made for the order, in both systems.
    const made = (await reservationsFor(id))
      .map((r) => [r.system, String(r.referenceNum), r.readOnly?.status === 2])
      .sort();
    assert.deepEqual(
      made,
      [
        // The first attempt: every owned warehouse reserved its part, and all were released.
        ...owned.map((p) => ['wms', `${id}-${p.warehouse.code}-1`, true]),
        // The second: the same warehouses and the 3PL, one reservation each, all live.
        ...owned.map((p) => ['wms', `${id}-${p.warehouse.code}-2`, false]),
        ['tpl', `${id}-3PL-SOUTH-2`, false],
      ].sort(),
    );
    assert.equal((await erpOrdersFor(id)).length, 1);
  });
});

describe('cancelOrder and createReturn', () => {
  const CANCEL = `mutation($input: CancelOrderInput!, $key: String!) { cancelOrder(input: $input, idempotencyKey: $key) { order { status } userErrors { code message } } }`;
  const RETURN = `mutation($input: CreateReturnInput!, $key: String!) { createReturn(input: $input, idempotencyKey: $key) { returnReference order { status } userErrors { code message } } }`;

  it('cancels an order: reservations released, ERP order removed; a second cancel is ALREADY_CANCELLED', async () => {
    const sku = stockedSku(5, 4);
    const placed = await place(orderInput([{ sku, quantity: 3 }]), 'to-cancel');
    const id = orderIdOf(placed.body.data?.placeOrder.order.id);
    assert.equal(live(await reservationsFor(id)).length, 1);
    const cancelled = await stack.gql<Json>(CANCEL, {
      input: { orderId: id, reason: 'customer changed their mind' },
      key: 'cancel-1',
    });
    assert.deepEqual(cancelled.body.data?.cancelOrder, {
      order: { status: 'CANCELLED' },
      userErrors: [],
    });
    assert.equal(live(await reservationsFor(id)).length, 0);
    assert.equal((await erpOrdersFor(id)).length, 0, 'the ERP order was deleted');
    const again = await stack.gql<Json>(CANCEL, {
      input: { orderId: id, reason: 'again' },
      key: 'cancel-2',
    });
    assert.equal(again.body.data?.cancelOrder.userErrors[0]?.code, 'ALREADY_CANCELLED');
  });

  it('refuses to cancel a shipped order, and records a return for it in the ERP and the warehouse', async () => {
    const shipped = world.orders.find((o) => o.stage === 'SHIPPED');
    assert.ok(shipped);
    const refused = await stack.gql<Json>(CANCEL, {
      input: { orderId: shipped.number, reason: 'too late' },
      key: 'cancel-shipped',
    });
    assert.equal(refused.body.data?.cancelOrder.userErrors[0]?.code, 'ALREADY_SHIPPED');
    const line = shipped.lines[0];
    assert.ok(line);
    const returned = await stack.gql<Json>(RETURN, {
      input: {
        orderId: shipped.number,
        lines: [{ sku: line.sku, quantity: 1 }],
        reason: 'damaged',
      },
      key: 'return-1',
    });
    assert.equal(returned.body.errors, undefined, JSON.stringify(returned.body.errors));
    assert.deepEqual(returned.body.data?.createReturn.userErrors, []);
    assert.equal(returned.body.data?.createReturn.order.status, 'RETURN_REQUESTED');
    const rma = String(returned.body.data?.createReturn.returnReference);
    assert.match(rma, /^RMA-[0-9A-F]{16}$/);
    // In the ERP: one sales credit memo under the RMA reference, for the order's customer.
    const filter = encodeURIComponent(`externalDocumentNumber eq '${rma}'`);
    const memos = (await (
      await fetch(`${erpCompanyUrl(stack.sandbox)}/salesCreditMemos?$filter=${filter}`, {
        headers: { authorization: `Bearer ${await erpToken(stack.sandbox)}` },
      })
    ).json()) as { value: Json[] };
    assert.deepEqual(
      memos.value.map((m) => [m.externalDocumentNumber, m.customerNumber]),
      [[rma, shipped.customerNumber]],
    );
    // At the warehouse: one expected receipt under the same reference, in one of the systems.
    const receipts: string[] = [];
    for (const system of ['wms', 'tpl'] as const) {
      const rql = encodeURIComponent(`referenceNum==${rma}`);
      const res = await fetch(`${stack.sandbox[system].url}/inventory/receivers?rql=${rql}`, {
        headers: { authorization: `Bearer ${await wmsToken(stack.sandbox, system)}` },
      });
      const body = (await res.json()) as { _embedded?: Record<string, Json[]> };
      for (const list of Object.values(body._embedded ?? {}))
        receipts.push(...list.map((r) => String(r.referenceNum)));
    }
    assert.deepEqual(receipts, [rma]);
    const tooMany = await stack.gql<Json>(RETURN, {
      input: {
        orderId: shipped.number,
        lines: [{ sku: line.sku, quantity: line.quantity }],
        reason: 'all of it',
      },
      key: 'return-2',
    });
    assert.equal(tooMany.body.data?.createReturn.userErrors[0]?.code, 'INVALID_RETURN_QUANTITY');
  });
});

describe('PENDING_ERP orders', () => {
  const PLACE_MIN = `mutation($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) { order { id status } userErrors { code } } }`;

  it('cancels a PENDING_ERP order: released, never posted once the ERP is back', async (t) => {
    // The test runs the dead letter itself, once the ERP is back: nothing runs it before.
    await withoutRetrier(t);
    const sku = stockedSku(20, 5);
    const warm = await place(orderInput([{ sku, quantity: 1 }]), 'pending-cancel-warm');
    assert.deepEqual(warm.body.data?.placeOrder.userErrors, []);
    stack.sandbox.erp.control.setFaults({ errorRate: 1, methods: ['POST', 'DELETE'] });
    const placed = await stack.gql<Json>(PLACE_MIN, {
      input: orderInput([{ sku, quantity: 1 }]),
      key: 'pending-cancel',
    });
    assert.equal(placed.body.data?.placeOrder.order.status, 'PENDING_ERP');
    const id = orderIdOf(placed.body.data?.placeOrder.order.id);
    const cancelled = await stack.gql<Json>(
      `mutation($input: CancelOrderInput!, $key: String!) { cancelOrder(input: $input, idempotencyKey: $key) { order { status } userErrors { code } } }`,
      { input: { orderId: id, reason: 'no longer needed' }, key: 'pending-cancel-1' },
    );
    assert.equal(cancelled.body.errors, undefined, JSON.stringify(cancelled.body.errors));
    assert.deepEqual(cancelled.body.data?.cancelOrder, {
      order: { status: 'CANCELLED' },
      userErrors: [],
    });
    assert.equal(live(await reservationsFor(id)).length, 0, 'stock released');
    const [open, ...more] = await stack.running.store.deadLetters.list({ orderId: id, limit: 10 });
    assert.ok(open, 'the ERP post was dead-lettered');
    assert.deepEqual(more, []);
    assert.equal(open.status, 'PENDING');
    // The ERP answers again (counters reset); its dead letter runs and resolves without posting.
    stack.sandbox.reset();
    const outcome = await stack.running.workflows.orders.retryDeadLetter('test-replay', open.id);
    assert.equal(outcome?.resolved, true);
    assert.equal(outcome.letter.status, 'RESOLVED');
    assert.equal(erpPosts(), 0, 'the cancelled order was not posted to the ERP');
    assert.equal((await erpOrdersFor(id)).length, 0);
    const letters = await stack.gql<Json>(`{ deadLetters(first: 250) { status order { id } } }`);
    const mine = letters.body.data?.deadLetters.filter((l: Json) => orderIdOf(l.order.id) === id);
    assert.deepEqual(
      mine.map((l: Json) => l.status),
      ['RESOLVED'],
    );
  });

  it('replays a dead letter by hand, and refuses unknown or resolved ones', async (t) => {
    // The replay must be the one that runs the letter: the automatic retrier waits meanwhile.
    await withoutRetrier(t);
    const sku = stockedSku(20, 6);
    const warm = await place(orderInput([{ sku, quantity: 1 }]), 'replay-warm');
    assert.deepEqual(warm.body.data?.placeOrder.userErrors, []);
    stack.sandbox.erp.control.setFaults({ errorRate: 1, methods: ['POST'] });
    const placed = await stack.gql<Json>(PLACE_MIN, {
      input: orderInput([{ sku, quantity: 1 }]),
      key: 'replay-me',
    });
    assert.equal(placed.body.data?.placeOrder.order.status, 'PENDING_ERP');
    const id = orderIdOf(placed.body.data?.placeOrder.order.id);
    const letters = await stack.gql<Json>(`{ deadLetters(first: 250) { id status order { id } } }`);
    const letter = letters.body.data?.deadLetters.find((l: Json) => orderIdOf(l.order.id) === id);
    assert.ok(letter, 'a dead letter for the ERP post');
    const REPLAY = `mutation($id: ID!, $key: String!) { replayDeadLetter(id: $id, idempotencyKey: $key) { deadLetter { status attempts lastError } userErrors { code message } } }`;
    stack.sandbox.erp.control.setFaults({ errorRate: 0, methods: null });
    const replayed = await stack.gql<Json>(REPLAY, { id: letter.id, key: 'replay-1' });
    assert.equal(replayed.body.errors, undefined, JSON.stringify(replayed.body.errors));
    assert.deepEqual(replayed.body.data?.replayDeadLetter.userErrors, []);
    assert.equal(replayed.body.data?.replayDeadLetter.deadLetter.status, 'RESOLVED');
    assert.equal(
      replayed.body.data?.replayDeadLetter.deadLetter.attempts,
      1,
      'run by the replay only',
    );
    assert.equal((await erpOrdersFor(id)).length, 1, 'posted exactly once');
    const again = await stack.gql<Json>(REPLAY, { id: letter.id, key: 'replay-2' });
    assert.equal(again.body.data?.replayDeadLetter.userErrors[0]?.code, 'DEAD_LETTER_RESOLVED');
    const unknown = await stack.gql<Json>(REPLAY, { id: 'DL-nope', key: 'replay-3' });
    assert.equal(unknown.body.data?.replayDeadLetter.userErrors[0]?.code, 'DEAD_LETTER_NOT_FOUND');
    const partner = await stack.gql<Json>(
      REPLAY,
      { id: letter.id, key: 'replay-4' },
      { key: 'demo-partner-a' },
    );
    assert.equal(partner.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  });
});

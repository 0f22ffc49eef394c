/**
 * Mutation payloads show the state after the mutation (issue #8): every field of a payload's
 * order (status, lines, shipments, timeline) equals what a fresh `order(id)` query answers right
 * after, on every path: new, replayed with the same key, after a compensation, refused, and for
 * channel-scoped callers, whose scope check loads the order before the mutation runs (the
 * reported bug: `cancelOrder` by demo-partner-b answered `status: ACCEPTED` for the order it had
 * just cancelled, read from that earlier load).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildWorld, type SeedWorld } from '../sandbox/seed.js';
import { orderableCustomer, orderIdOf, stockedRow } from './support/orders.js';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let stack: Stack;
let world: SeedWorld;

before(async () => {
  world = buildWorld({ catalogSize: 200 });
  stack = await startStack({
    world,
    // No automatic dead-letter retries within a test's lifetime: the manual replay is the one
    // that posts the order, whatever order the tests run in.
    env: { DEAD_LETTER_RETRY_BASE_MS: '3600000', DEAD_LETTER_RETRY_MAX_MS: '3600000' },
  });
  // The systems' webhooks would change the orders at moments of their own (a reservation
  // released in the WMS comes back as a shipment event on the timeline), between a payload and
  // the fresh read it is compared with: this file is about what mutations answer, not ingestion.
  for (const system of [
    stack.sandbox.erp,
    stack.sandbox.wms,
    stack.sandbox.tpl,
    stack.sandbox.commerce,
  ])
    system.webhooks.unregister();
});

after(() => stack.close());

/** Everything of an order a payload shows, except timings. */
const ORDER = `id number status channel customer { number }
  lines { sku quantity } shipments { id status } timeline { step status source }`;

const PLACE = `mutation($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) { order { ${ORDER} } userErrors { code } } }`;
const CANCEL = `mutation($input: CancelOrderInput!, $key: String!) {
  cancelOrder(input: $input, idempotencyKey: $key) { order { ${ORDER} } userErrors { code } } }`;
const RETURN = `mutation($input: CreateReturnInput!, $key: String!) {
  createReturn(input: $input, idempotencyKey: $key) { order { ${ORDER} } returnReference userErrors { code } } }`;
const REPLAY = `mutation($id: ID!, $key: String!) {
  replayDeadLetter(id: $id, idempotencyKey: $key) { deadLetter { status order { ${ORDER} } } userErrors { code } } }`;

/** Runs a mutation as `key`; fails the test on GraphQL errors; answers the payload. */
async function mutate(
  query: string,
  variables: Record<string, unknown>,
  field: string,
  key = 'demo-admin',
): Promise<Json> {
  const res = await stack.gql<Json>(query, variables, { key });
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  const payload = res.body.data?.[field] as Json | undefined;
  assert.ok(payload, `${field} answered a payload`);
  return payload;
}

/** The order as a fresh query answers it now. */
async function fresh(id: string, key = 'demo-admin'): Promise<Json> {
  const res = await stack.gql<Json>(
    `query($id: ID!) { order(id: $id) { ${ORDER} } }`,
    { id },
    { key },
  );
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  return res.body.data?.order as Json;
}

/** Asserts a payload's order is the order as it is now, with the expected status. */
async function assertFresh(order: Json | null | undefined, status: string, key = 'demo-admin') {
  assert.ok(order, 'the payload has the order');
  assert.equal(order.status, status);
  assert.deepEqual(order, await fresh(order.id, key), 'the payload equals a fresh read');
}

let keys = 0;
/** An idempotency key no other test uses. */
const newKey = (what: string) => `payload-${what}-${++keys}`;

function input(channel: string, skip: number, quantity = 1) {
  return {
    channel,
    customerId: orderableCustomer(world).number,
    lines: [{ sku: stockedRow(world, { warehouse: 'EAST', free: 5, skip }).sku, quantity }],
  };
}

describe('mutation payloads read the state after the mutation', () => {
  it('placeOrder: new, then replayed after the order was cancelled', async () => {
    const key = newKey('place');
    const placed = await mutate(PLACE, { input: input('B2B_PORTAL', 0), key }, 'placeOrder');
    await assertFresh(placed.order, 'RELEASED_TO_WAREHOUSE');
    const id = orderIdOf(placed.order.id);
    await mutate(
      CANCEL,
      { input: { orderId: id, reason: 'test' }, key: newKey('cancel') },
      'cancelOrder',
    );
    // The recorded result names the order; the payload shows it as it is now.
    const replayed = await mutate(PLACE, { input: input('B2B_PORTAL', 0), key }, 'placeOrder');
    await assertFresh(replayed.order, 'CANCELLED');
  });

  it('cancelOrder by a channel-scoped partner (its scope check loads the order first), and its replay', async () => {
    const partner = 'demo-partner-b';
    const placed = await mutate(
      PLACE,
      { input: input('MARKETPLACE_B', 1), key: newKey('place-b') },
      'placeOrder',
      partner,
    );
    await assertFresh(placed.order, 'RELEASED_TO_WAREHOUSE', partner);
    const id = orderIdOf(placed.order.id);
    assert.match(id, /^XD-/);
    const key = newKey('cancel-b');
    const variables = { input: { orderId: id, reason: 'customer changed their mind' }, key };
    const cancelled = await mutate(CANCEL, variables, 'cancelOrder', partner);
    assert.deepEqual(cancelled.userErrors, []);
    await assertFresh(cancelled.order, 'CANCELLED', partner);
    assert.ok(
      cancelled.order.timeline.some(
        (t: Json) => t.step === 'cancel succeeded' && t.status === 'CANCELLED',
      ),
      `the cancellation is on the timeline: ${JSON.stringify(cancelled.order.timeline)}`,
    );
    const replayed = await mutate(CANCEL, variables, 'cancelOrder', partner);
    await assertFresh(replayed.order, 'CANCELLED', partner);
    // Refused (a second cancellation under a new key): the payload still shows it as it is.
    const refused = await mutate(
      CANCEL,
      { input: { orderId: id, reason: 'again' }, key: newKey('cancel-b-again') },
      'cancelOrder',
      partner,
    );
    assert.deepEqual(refused.userErrors, [{ code: 'ALREADY_CANCELLED' }]);
    await assertFresh(refused.order, 'CANCELLED', partner);
  });

  it('cancelOrder of a PENDING_ERP order (compensated: reservations released)', async () => {
    stack.sandbox.erp.control.setFaults({ errorRate: 1, methods: ['POST', 'DELETE'] });
    try {
      const placed = await mutate(
        PLACE,
        { input: input('B2B_PORTAL', 2), key: newKey('pending') },
        'placeOrder',
      );
      await assertFresh(placed.order, 'PENDING_ERP');
      const cancelled = await mutate(
        CANCEL,
        { input: { orderId: orderIdOf(placed.order.id), reason: 'test' }, key: newKey('c') },
        'cancelOrder',
      );
      await assertFresh(cancelled.order, 'CANCELLED');
    } finally {
      stack.sandbox.erp.control.setFaults({ errorRate: 0, methods: null });
    }
  });

  it('placeOrder retried after a compensated attempt (a warehouse failed mid-reservation)', async () => {
    const key = newKey('compensated');
    const order = input('B2B_PORTAL', 3);
    stack.sandbox.wms.control.setFaults({ errorRate: 1, methods: ['POST'] });
    let first;
    try {
      first = await stack.gql<Json>(PLACE, { input: order, key });
    } finally {
      stack.sandbox.wms.control.setFaults({ errorRate: 0, methods: null });
    }
    assert.equal(first.body.errors?.[0]?.extensions?.code, 'SOURCE_UNAVAILABLE');
    const retried = await mutate(PLACE, { input: order, key }, 'placeOrder');
    await assertFresh(retried.order, 'RELEASED_TO_WAREHOUSE');
  });

  it('createReturn by a channel-scoped partner on a shipped order, and its replay', async () => {
    const shipped = world.orders.find(
      (o) => o.stage === 'SHIPPED' && o.channel === 'MARKETPLACE_A',
    );
    assert.ok(shipped, 'a shipped MARKETPLACE_A order in the seed');
    const line = shipped.lines[0];
    assert.ok(line);
    const partner = 'demo-partner-a';
    const variables = {
      input: {
        orderId: shipped.number,
        lines: [{ sku: line.sku, quantity: 1 }],
        reason: 'damaged',
      },
      key: newKey('return'),
    };
    const returned = await mutate(RETURN, variables, 'createReturn', partner);
    assert.deepEqual(returned.userErrors, []);
    await assertFresh(returned.order, 'RETURN_REQUESTED', partner);
    const replayed = await mutate(RETURN, variables, 'createReturn', partner);
    assert.equal(replayed.returnReference, returned.returnReference);
    await assertFresh(replayed.order, 'RETURN_REQUESTED', partner);
  });

  it('a later mutation field of the same operation sees what an earlier one changed', async () => {
    const shipped = world.orders.filter(
      (o) => o.stage === 'SHIPPED' && o.channel !== 'MARKETPLACE_A',
    )[0];
    assert.ok(shipped, 'a shipped order in the seed');
    const line = shipped.lines[0];
    assert.ok(line);
    // The first field loads the order (refused: shipped); the second changes it.
    const res = await stack.gql<Json>(
      `mutation($id: ID!, $sku: String!, $k1: String!, $k2: String!) {
        refused: cancelOrder(input: { orderId: $id, reason: "late" }, idempotencyKey: $k1) {
          order { status } userErrors { code } }
        returned: createReturn(input: { orderId: $id, lines: [{ sku: $sku, quantity: 1 }], reason: "damaged" }, idempotencyKey: $k2) {
          order { ${ORDER} } userErrors { code } } }`,
      { id: shipped.number, sku: line.sku, k1: newKey('refused'), k2: newKey('returned') },
    );
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    assert.deepEqual(res.body.data?.refused, {
      order: { status: 'SHIPPED' },
      userErrors: [{ code: 'ALREADY_SHIPPED' }],
    });
    assert.deepEqual(res.body.data?.returned.userErrors, []);
    await assertFresh(res.body.data?.returned.order, 'RETURN_REQUESTED');
  });

  it('replayDeadLetter: the dead letter and its order after the replay', async () => {
    stack.sandbox.erp.control.setFaults({ errorRate: 1, methods: ['POST'] });
    let placed;
    try {
      placed = await mutate(
        PLACE,
        { input: input('B2B_PORTAL', 4), key: newKey('dead') },
        'placeOrder',
      );
    } finally {
      stack.sandbox.erp.control.setFaults({ errorRate: 0, methods: null });
    }
    assert.equal(placed.order.status, 'PENDING_ERP');
    const id = orderIdOf(placed.order.id);
    const [letter] = await stack.running.store.deadLetters.list({ orderId: id, limit: 10 });
    assert.ok(letter, 'the ERP post was dead-lettered');
    const replayed = await mutate(
      REPLAY,
      { id: letter.id, key: newKey('replay') },
      'replayDeadLetter',
    );
    assert.deepEqual(replayed.userErrors, []);
    assert.equal(replayed.deadLetter.status, 'RESOLVED');
    await assertFresh(replayed.deadLetter.order, 'RELEASED_TO_WAREHOUSE');
  });
});

/**
 * Orders for tests that need one in place: a customer who can order and stock to order from in
 * the seed world, and `placeOrder`, which places one over GraphQL.
 */
import assert from 'node:assert/strict';
import type { SeedCustomer, SeedStock, SeedWorld } from '../../sandbox/seed.js';
import type { Stack } from './stack.js';

/** The first seed customer who can order: not blocked, far from a credit limit of 50,000.00+. */
export function orderableCustomer(world: SeedWorld): SeedCustomer {
  const customer = world.customers.find(
    (c) =>
      c.blocked === ' ' &&
      c.balanceDueCents < c.creditLimitCents / 4 &&
      c.creditLimitCents >= 5_000_000,
  );
  assert.ok(customer, 'a customer who can order');
  return customer;
}

/** Which row {@link stockedRow} answers. */
export interface StockWanted {
  /**
   * The warehouse the row is in.
   * @default any warehouse of the own WMS or ERP (not the 3PL's 3PL-SOUTH)
   */
  readonly warehouse?: string;
  /**
   * Units free at least (on hand less allocated and on hold).
   * @default 10
   */
  readonly free?: number;
  /**
   * How many matching rows to pass over, so tests do not share a SKU.
   * @default 0
   */
  readonly skip?: number;
}

/** A seed stock row to order from (failing the test when the seed has none). */
export function stockedRow(world: SeedWorld, wanted: StockWanted = {}): SeedStock {
  const { warehouse, free = 10, skip = 0 } = wanted;
  const rows = world.stock.filter(
    (s) =>
      (warehouse === undefined ? s.warehouse !== '3PL-SOUTH' : s.warehouse === warehouse) &&
      s.onHand - s.allocated - s.onHold >= free,
  );
  const row = rows[skip];
  assert.ok(row, `a SKU with ${free} available`);
  return row;
}

/** Crossdock's order id (XD-…) out of an Order's global ID. */
export const orderIdOf = (globalId: string): string =>
  Buffer.from(globalId, 'base64url').toString('utf8').split(':')[1] ?? '';

/** What {@link placeOrder} orders: one unit, for {@link orderableCustomer}. */
export interface OrderWanted {
  /**
   * The sales channel.
   * @default 'B2B_PORTAL'
   */
  readonly channel?: string;
  /**
   * The row the one unit is ordered from.
   * @default stockedRow(world, { warehouse: 'EAST' })
   */
  readonly stock?: SeedStock;
  /** More fields of `PlaceOrderInput` (`externalReference`, ...); they win over the above. */
  readonly input?: Record<string, unknown>;
}

/** An order as {@link placeOrder} placed it. */
export interface PlacedOrder {
  /** Its global ID. */
  readonly globalId: string;
  /** Crossdock's order id (XD-…). */
  readonly id: string;
  /** Its ERP number. */
  readonly number: string;
}

/**
 * Places an order over GraphQL as demo-admin with idempotency key `key`; fails the test on a
 * GraphQL error or a user error.
 */
export async function placeOrder(
  stack: Stack,
  key: string,
  wanted: OrderWanted = {},
): Promise<PlacedOrder> {
  const world = stack.sandbox.world;
  const stock = wanted.stock ?? stockedRow(world, { warehouse: 'EAST' });
  const res = await stack.gql<{
    placeOrder: {
      order: { id: string; number: string } | null;
      userErrors: { code: string; message: string }[];
    };
  }>(
    `mutation($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) {
      order { id number } userErrors { code message } } }`,
    {
      input: {
        channel: wanted.channel ?? 'B2B_PORTAL',
        customerId: orderableCustomer(world).number,
        lines: [{ sku: stock.sku, quantity: 1 }],
        ...wanted.input,
      },
      key,
    },
  );
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  const payload = res.body.data?.placeOrder;
  assert.deepEqual(payload?.userErrors, []);
  const order = payload?.order;
  assert.ok(order);
  return { globalId: order.id, id: orderIdOf(order.id), number: order.number };
}

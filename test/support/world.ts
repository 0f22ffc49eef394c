/**
 * Lookups into the seed world that tests share: the record of a SKU or customer number (failing
 * the test when absent) and money in the canonical form.
 */
import assert from 'node:assert/strict';
import {
  centsToDecimal,
  type SeedCustomer,
  type SeedProduct,
  type SeedWorld,
} from '../../sandbox/seed.js';

/** The seed product of `sku`. */
export function productOf(world: SeedWorld, sku: string): SeedProduct {
  const p = world.products.find((x) => x.sku === sku);
  assert.ok(p, sku);
  return p;
}

/** The seed customer numbered `number`. */
export function customerOf(world: SeedWorld, number: string): SeedCustomer {
  const c = world.customers.find((x) => x.number === number);
  assert.ok(c, number);
  return c;
}

/** US dollars from cents, as the connectors answer money. */
export const usd = (cents: number) => ({ amount: centsToDecimal(cents), currencyCode: 'USD' });

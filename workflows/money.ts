/**
 * Decimal arithmetic on money amounts without floats: amounts are parsed into scaled BigInts.
 * Shared by the workflows (order totals, credit checks) and the resolvers (available credit).
 */
import type { MoneyRecord } from '../sources/contract.js';

const SCALE = 4;

function toScaled(amount: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount);
  if (!match) throw new RangeError(`expected a decimal string, got ${JSON.stringify(amount)}`);
  const [, sign, whole, fraction = ''] = match;
  const digits = `${whole}${fraction.padEnd(SCALE, '0').slice(0, SCALE)}`;
  const value = BigInt(digits);
  return sign === '-' ? -value : value;
}

function fromScaled(value: bigint, places = 2): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const divisor = 10n ** BigInt(SCALE - places);
  // Round half away from zero to `places`.
  const rounded = (abs + divisor / 2n) / divisor;
  const unit = 10n ** BigInt(places);
  const text = `${rounded / unit}.${(rounded % unit).toString().padStart(places, '0')}`;
  return negative && rounded !== 0n ? `-${text}` : text;
}

/** a − b, same currency. */
export function subtractMoney(a: MoneyRecord, b: MoneyRecord): MoneyRecord {
  assertSameCurrency(a, b);
  return {
    amount: fromScaled(toScaled(a.amount) - toScaled(b.amount)),
    currencyCode: a.currencyCode,
  };
}

/** Negative, zero or positive as a is less than, equal to or greater than b. */
export function compareMoney(a: MoneyRecord, b: MoneyRecord): number {
  assertSameCurrency(a, b);
  const d = toScaled(a.amount) - toScaled(b.amount);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** max(amount, 0). */
export function nonNegative(a: MoneyRecord): MoneyRecord {
  return toScaled(a.amount) < 0n ? { amount: fromScaled(0n), currencyCode: a.currencyCode } : a;
}

function assertSameCurrency(a: MoneyRecord, b: MoneyRecord): void {
  if (a.currencyCode !== b.currencyCode) {
    throw new RangeError(`currency mismatch: ${a.currencyCode} vs ${b.currencyCode}`);
  }
}

/** The amount of `unit × quantity`, rounded to two places. */
export function multiplyMoney(unit: MoneyRecord, quantity: number): MoneyRecord {
  if (!Number.isInteger(quantity))
    throw new RangeError(`expected an integer quantity, got ${quantity}`);
  return {
    amount: fromScaled(toScaled(unit.amount) * BigInt(quantity)),
    currencyCode: unit.currencyCode,
  };
}

/** The sum of `amounts` (all in `currencyCode`). */
export function sumMoney(amounts: readonly MoneyRecord[], currencyCode: string): MoneyRecord {
  let total = 0n;
  for (const a of amounts) {
    assertSameCurrency(a, { amount: '0', currencyCode });
    total += toScaled(a.amount);
  }
  return { amount: fromScaled(total), currencyCode };
}

/** a + b, same currency. */
export function addMoney(a: MoneyRecord, b: MoneyRecord): MoneyRecord {
  assertSameCurrency(a, b);
  return {
    amount: fromScaled(toScaled(a.amount) + toScaled(b.amount)),
    currencyCode: a.currencyCode,
  };
}

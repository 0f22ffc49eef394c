/**
 * Planning an order before anything is written: the shape of the input (lines, quantities,
 * duplicate SKUs), then validation against the systems — customer (and the caller's allow-list),
 * items, the customer's prices, credit, and the stock of every warehouse. While the ERP cannot
 * answer, the last-known master data of the context (at most DEFAULT_LAST_KNOWN_MAX_AGE_MS old)
 * stands in, and the plan says so (`erpData: last-known`).
 */
import { isSourceError, type CustomerRecord, type MoneyRecord } from '../sources/contract.js';
import type { StockAvailability } from './allocation.js';
import type { OrderWorkflowContext } from './context.js';
import type { PricedLine } from './model.js';
import { addMoney, compareMoney, multiplyMoney, sumMoney } from './money.js';
import {
  DEFAULT_LAST_KNOWN_MAX_AGE_MS,
  MAX_LINE_QUANTITY,
  MAX_ORDER_LINES,
  type PlaceOrderInput,
} from './order-types.js';
import { ue, type UserError } from './user-errors.js';

/** What {@link Planner.plan} answers: the user errors, or everything placement needs. */
export type Plan =
  | { errors: UserError[] }
  | {
      errors: [];
      customer: CustomerRecord;
      lines: PricedLine[];
      total: MoneyRecord;
      stock: StockAvailability[];
      erpData: 'live' | 'last-known';
    };

/** Validation and planning of placeOrder. */
export interface Planner {
  /** The input's own faults (no system asked). */
  validateShape(input: PlaceOrderInput): UserError[];
  /** Validation against the systems: customer, items, prices, credit, stock. */
  plan(input: PlaceOrderInput, allowed: readonly string[] | null): Promise<Plan>;
}

/** Makes the planner over the context's ERP, warehouses and last-known data. */
export function createPlanner(ctx: OrderWorkflowContext): Planner {
  const { erp, now, lastKnown } = ctx;

  const readThrough = async <V>(
    used: { lastKnown: boolean },
    kind: string,
    keys: readonly string[],
    fetch: (keys: readonly string[]) => Promise<(V | null)[]>,
  ): Promise<(V | null)[]> => {
    try {
      const values = await fetch(keys);
      values.forEach((value, i) => {
        if (value !== null) lastKnown.set(`${kind}\u0000${keys[i]}`, { value, at: now() });
      });
      return values;
    } catch (error) {
      if (!isSourceError(error) || error.code === 'SOURCE_BAD_RESPONSE') throw error;
      const known = keys.map((key) => lastKnown.get(`${kind}\u0000${key}`));
      if (known.some((entry) => !entry || now() - entry.at > DEFAULT_LAST_KNOWN_MAX_AGE_MS))
        throw error;
      used.lastKnown = true;
      return known.map((entry) => (entry?.value as V | undefined) ?? null);
    }
  };

  const validateShape = (input: PlaceOrderInput): UserError[] => {
    const errors: UserError[] = [];
    if (input.lines.length === 0 || input.lines.length > MAX_ORDER_LINES) {
      errors.push(
        ue('TOO_MANY_LINES', `expected 1 to ${MAX_ORDER_LINES} lines, got ${input.lines.length}`, [
          'lines',
        ]),
      );
    }
    const seen = new Map<string, number>();
    input.lines.forEach((line, i) => {
      if (
        !Number.isInteger(line.quantity) ||
        line.quantity < 1 ||
        line.quantity > MAX_LINE_QUANTITY
      ) {
        errors.push(
          ue(
            'INVALID_QUANTITY',
            `expected a whole quantity from 1 to ${MAX_LINE_QUANTITY}, got ${line.quantity}`,
            ['lines', i, 'quantity'],
          ),
        );
      }
      const first = seen.get(line.sku);
      if (first !== undefined) {
        errors.push(
          ue(
            'DUPLICATE_SKU',
            `SKU ${line.sku} is already on line ${first + 1}; put its whole quantity on one line`,
            ['lines', i, 'sku'],
          ),
        );
      } else seen.set(line.sku, i);
    });
    return errors;
  };

  /** Validation against the systems: customer, items, prices, credit, stock. */
  const plan = async (input: PlaceOrderInput, allowed: readonly string[] | null): Promise<Plan> => {
    const used = { lastKnown: false };
    const [customer] = await readThrough(used, 'customer', [input.customerNumber], (k) =>
      erp.customersByNumber(k),
    );
    if (!customer || (allowed !== null && !allowed.includes(customer.number)))
      return {
        errors: [
          ue('CUSTOMER_NOT_FOUND', `No customer with number ${input.customerNumber}`, [
            'customerId',
          ]),
        ],
      };
    if (customer.blocked === 'SHIP' || customer.blocked === 'ALL') {
      return {
        errors: [
          ue(
            'CREDIT_HOLD',
            `Customer ${customer.number} is on hold in the ERP (blocked: ${customer.blocked}); no new orders can be accepted`,
            ['customerId'],
          ),
        ],
      };
    }
    const skus = input.lines.map((l) => l.sku);
    const [items, prices] = await Promise.all([
      readThrough(used, 'item', skus, (k) => erp.itemsBySku(k)),
      readThrough(used, `price\u0000${customer.number}`, skus, (k) =>
        erp.customerPrices(customer.number, k),
      ),
    ]);
    const errors: UserError[] = [];
    const lines: PricedLine[] = [];
    input.lines.forEach((line, i) => {
      const item = items[i];
      if (!item)
        return void errors.push(
          ue('UNKNOWN_SKU', `No product with SKU ${line.sku}`, ['lines', i, 'sku']),
        );
      if (item.blocked)
        return void errors.push(
          ue('ITEM_BLOCKED', `Product ${line.sku} is blocked for sale in the ERP`, [
            'lines',
            i,
            'sku',
          ]),
        );
      const unit = prices[i]?.unitPrice ?? item.listPrice;
      lines.push({
        sku: line.sku,
        quantity: line.quantity,
        unitPrice: unit.amount,
        lineAmount: multiplyMoney(unit, line.quantity).amount,
      });
    });
    if (errors.length > 0) return { errors };
    const currencyCode = customer.currencyCode;
    const total = sumMoney(
      lines.map((l) => ({ amount: l.lineAmount, currencyCode })),
      currencyCode,
    );
    if (compareMoney(addMoney(customer.balanceDue, total), customer.creditLimit) > 0) {
      return {
        errors: [
          ue(
            'CREDIT_LIMIT_EXCEEDED',
            `Order total ${total.amount} ${currencyCode} plus balance due ${customer.balanceDue.amount} exceeds the credit limit ${customer.creditLimit.amount} of customer ${customer.number}`,
            ['customerId'],
          ),
        ],
      };
    }
    const stock: StockAvailability[] = [];
    await Promise.all(
      ctx.warehouses.map(async (wms) => {
        const [positions, warehouses] = await Promise.all([wms.positions(skus), wms.warehouses()]);
        const kind = new Map(warehouses.map((w) => [w.code, w.kind]));
        for (const p of positions) {
          stock.push({
            sku: p.sku,
            warehouseCode: p.warehouseCode,
            source: wms.name,
            kind: kind.get(p.warehouseCode) ?? 'OWNED',
            available: p.available,
          });
        }
      }),
    );
    return {
      errors: [],
      customer,
      lines,
      total,
      stock,
      erpData: used.lastKnown ? 'last-known' : 'live',
    };
  };

  return { validateShape, plan };
}

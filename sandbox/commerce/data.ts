/**
 * The commerce sandbox's records, built once from the seed world and kept in mutable Maps
 * (the `orderUpdate` and `orderCancel` mutations change orders, then call
 * {@link CommerceData.touch}).
 *
 * One seed product is one Shopify product with one variant ("Default Title"), as a
 * distributor's web store usually lists single-SKU items. Only WEB-channel orders exist here.
 */
import { centsToDecimal, type SeedWorld } from '../seed.js';

/** A MoneyV2. */
export interface ShopMoney {
  readonly amount: string;
  readonly currencyCode: string;
}

/** Fields every record shares: the GraphQL type name (for `Node` resolution) and ids. */
interface Base {
  readonly __typename: 'Product' | 'ProductVariant' | 'Order' | 'Customer' | 'LineItem';
  readonly numericId: number;
  readonly id: string;
}

/** A Product. */
export interface ShopProduct extends Base {
  readonly __typename: 'Product';
  title: string;
  handle: string;
  descriptionHtml: string;
  vendor: string;
  productType: string;
  tags: string[];
  status: 'ACTIVE' | 'DRAFT' | 'ARCHIVED';
  createdAt: string;
  updatedAt: string;
  /** `updatedAt` in ms, for searching and sorting without re-parsing. */
  updatedAtMs: number;
  variantIds: number[];
}

/** A ProductVariant. */
export interface ShopVariant extends Base {
  readonly __typename: 'ProductVariant';
  sku: string;
  title: string;
  price: string;
  compareAtPrice: string | null;
  barcode: string;
  inventoryQuantity: number;
  productId: number;
  position: number;
  createdAt: string;
  updatedAt: string;
  updatedAtMs: number;
}

/** A LineItem of an order. */
export interface ShopLineItem extends Base {
  readonly __typename: 'LineItem';
  sku: string | null;
  title: string;
  name: string;
  quantity: number;
  currentQuantity: number;
  variantId: number | null;
  originalUnitPriceSet: { shopMoney: ShopMoney; presentmentMoney: ShopMoney };
}

/** An Order. */
export interface ShopOrder extends Base {
  readonly __typename: 'Order';
  name: string;
  email: string | null;
  createdAt: string;
  createdAtMs: number;
  updatedAt: string;
  updatedAtMs: number;
  processedAt: string;
  cancelledAt: string | null;
  /** Why the order was cancelled (Shopify's OrderCancelReason); null while it is not. */
  cancelReason: OrderCancelReason | null;
  /** The merchant's note; null when there is none. */
  note: string | null;
  tags: string[];
  displayFinancialStatus: 'AUTHORIZED' | 'PAID' | 'PENDING' | 'REFUNDED' | 'VOIDED';
  displayFulfillmentStatus: 'UNFULFILLED' | 'IN_PROGRESS' | 'FULFILLED';
  currencyCode: string;
  totalPriceSet: { shopMoney: ShopMoney; presentmentMoney: ShopMoney };
  totalCents: number;
  customerId: number | null;
  lineItems: ShopLineItem[];
  sourceName: string;
}

/** Shopify's `OrderCancelReason` (the sandbox leaves out STAFF: see commerce.ts). */
export type OrderCancelReason = 'CUSTOMER' | 'DECLINED' | 'FRAUD' | 'INVENTORY' | 'OTHER';

/** A Customer. */
export interface ShopCustomer extends Base {
  readonly __typename: 'Customer';
  displayName: string;
  firstName: string | null;
  lastName: string | null;
  email: string;
  phone: string;
  tags: string[];
  numberOfOrders: string;
  amountSpent: ShopMoney;
  createdAt: string;
  updatedAt: string;
  updatedAtMs: number;
}

/** Any record a `node(id:)` can return. */
export type ShopNode = ShopProduct | ShopVariant | ShopOrder | ShopCustomer | ShopLineItem;

/** The global id of a record: `gid://shopify/<Type>/<n>`. */
export function gid(type: Base['__typename'], numericId: number): string {
  return `gid://shopify/${type}/${numericId}`;
}

/** Splits a global id; `null` when it is not one. */
export function parseGid(id: string): { type: string; numericId: number } | null {
  const match = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)$/.exec(id);
  return match?.[1] && match[2] ? { type: match[1], numericId: Number(match[2]) } : null;
}

// Id spaces apart, so a connector that mixes a product id with a variant id finds nothing.
const VARIANT_ID_BASE = 40_000_000_000;
const ORDER_ID_BASE = 5_100_000_000;
const CUSTOMER_ID_BASE = 7_200_000_000;
const HOUR = 3_600_000;

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** All commerce records with their indexes. */
export interface CommerceData {
  readonly currencyCode: string;
  readonly shopName: string;
  readonly products: Map<number, ShopProduct>;
  readonly variants: Map<number, ShopVariant>;
  /** Lower-cased SKU → variants carrying it (Shopify does not enforce unique SKUs). */
  readonly variantsBySku: Map<string, ShopVariant[]>;
  readonly orders: Map<number, ShopOrder>;
  readonly customers: Map<number, ShopCustomer>;
  readonly lineItems: Map<number, ShopLineItem>;
  /** Bumped on every change, so cached sort orders are rebuilt. */
  readonly version: () => number;
  /** Records that something changed (invalidates sort caches). */
  touch(): void;
  /** Looks a global id up across every type. */
  node(id: string): ShopNode | null;
  /** A sort order of one collection, cached until the next {@link touch}. */
  sorted<T>(cacheKey: string, build: () => T[]): readonly T[];
}

/** Builds the commerce records from the seed world. */
export function buildCommerceData(world: SeedWorld): CommerceData {
  const epochMs = Date.parse(world.epoch);
  const currencyCode = world.currencyCode;
  const money = (cents: number): ShopMoney => ({ amount: centsToDecimal(cents), currencyCode });

  const available = new Map<string, number>();
  for (const s of world.stock) {
    available.set(s.sku, (available.get(s.sku) ?? 0) + (s.onHand - s.allocated - s.onHold));
  }

  const products = new Map<number, ShopProduct>();
  const variants = new Map<number, ShopVariant>();
  const variantsBySku = new Map<string, ShopVariant[]>();
  const total = world.products.length;
  for (const p of world.products) {
    const createdMs = epochMs - (total - p.index + 1) * HOUR - 400 * 24 * HOUR;
    // Spread updates over the last 30 days, deterministically, so `updated_at:` has something to cut.
    const updatedMs = epochMs - ((p.index * 7919) % 720) * HOUR;
    const product: ShopProduct = {
      __typename: 'Product',
      numericId: p.index,
      id: gid('Product', p.index),
      title: p.name,
      handle: `${slug(p.name)}-${p.sku.toLowerCase()}`,
      descriptionHtml: p.description,
      vendor: p.vendor,
      productType: p.category,
      tags: [p.category.toLowerCase(), `uom:${p.unitOfMeasure}`],
      status: p.webStatus,
      createdAt: new Date(createdMs).toISOString(),
      updatedAt: new Date(updatedMs).toISOString(),
      updatedAtMs: updatedMs,
      variantIds: [VARIANT_ID_BASE + p.index],
    };
    const variant: ShopVariant = {
      __typename: 'ProductVariant',
      numericId: VARIANT_ID_BASE + p.index,
      id: gid('ProductVariant', VARIANT_ID_BASE + p.index),
      sku: p.sku,
      title: 'Default Title',
      price: centsToDecimal(p.priceCents),
      compareAtPrice: p.index % 5 === 0 ? centsToDecimal(Math.round((p.priceCents * 5) / 4)) : null,
      barcode: p.gtin,
      inventoryQuantity: available.get(p.sku) ?? 0,
      productId: p.index,
      position: 1,
      createdAt: product.createdAt,
      updatedAt: product.updatedAt,
      updatedAtMs: updatedMs,
    };
    products.set(product.numericId, product);
    variants.set(variant.numericId, variant);
    const key = variant.sku.toLowerCase();
    const list = variantsBySku.get(key);
    if (list) list.push(variant);
    else variantsBySku.set(key, [variant]);
  }

  const customers = new Map<number, ShopCustomer>();
  const customerIdByNumber = new Map<string, number>();
  world.customers.forEach((c, i) => {
    const numericId = CUSTOMER_ID_BASE + i + 1;
    const person = c.type === 'Person';
    const [first, ...rest] = c.name.split(' ');
    const createdMs = epochMs - (900 - i) * 24 * HOUR;
    customers.set(numericId, {
      __typename: 'Customer',
      numericId,
      id: gid('Customer', numericId),
      displayName: c.name,
      firstName: person ? (first ?? null) : null,
      lastName: person ? rest.join(' ') || null : null,
      email: c.email,
      phone: c.phone,
      // The ERP customer number travels as a tag: Shopify has no field for a foreign key.
      tags: [`erp:${c.number}`, `price-group:${c.priceGroup}`],
      numberOfOrders: '0',
      amountSpent: money(0),
      createdAt: new Date(createdMs).toISOString(),
      updatedAt: new Date(createdMs).toISOString(),
      updatedAtMs: createdMs,
    });
    customerIdByNumber.set(c.number, numericId);
  });

  const orders = new Map<number, ShopOrder>();
  const lineItems = new Map<number, ShopLineItem>();
  const spent = new Map<number, { orders: number; cents: number }>();
  world.orders.forEach((o, i) => {
    if (o.channel !== 'WEB' || o.externalReference === null) return;
    const numericId = ORDER_ID_BASE + i + 1;
    const customerId = customerIdByNumber.get(o.customerNumber) ?? null;
    const items = o.lines.map((line, n): ShopLineItem => {
      const lineId = numericId * 100 + n + 1;
      const variant = variantsBySku.get(line.sku.toLowerCase())?.[0];
      const product = variant ? products.get(variant.productId) : undefined;
      const item: ShopLineItem = {
        __typename: 'LineItem',
        numericId: lineId,
        id: gid('LineItem', lineId),
        sku: line.sku,
        title: product?.title ?? line.sku,
        name: product?.title ?? line.sku,
        quantity: line.quantity,
        currentQuantity: line.quantity,
        variantId: variant?.numericId ?? null,
        originalUnitPriceSet: {
          shopMoney: money(line.unitPriceCents),
          presentmentMoney: money(line.unitPriceCents),
        },
      };
      lineItems.set(lineId, item);
      return item;
    });
    const totalCents = o.lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
    const createdMs = Date.parse(o.orderDate);
    const updatedMs = o.shippedAt ? Date.parse(o.shippedAt) : createdMs;
    const customer = customerId === null ? undefined : customers.get(customerId);
    orders.set(numericId, {
      __typename: 'Order',
      numericId,
      id: gid('Order', numericId),
      name: o.externalReference,
      email: customer?.email ?? null,
      createdAt: o.orderDate,
      createdAtMs: createdMs,
      updatedAt: new Date(updatedMs).toISOString(),
      updatedAtMs: updatedMs,
      processedAt: o.orderDate,
      cancelledAt: null,
      cancelReason: null,
      note: null,
      tags: [],
      displayFinancialStatus: financialStatusOf(o.stage),
      displayFulfillmentStatus: fulfillmentStatusOf(o.stage),
      currencyCode,
      totalPriceSet: { shopMoney: money(totalCents), presentmentMoney: money(totalCents) },
      totalCents,
      customerId,
      lineItems: items,
      sourceName: 'web',
    });
    if (customerId !== null) {
      const s = spent.get(customerId) ?? { orders: 0, cents: 0 };
      spent.set(customerId, { orders: s.orders + 1, cents: s.cents + totalCents });
    }
  });
  for (const [id, s] of spent) {
    const c = customers.get(id);
    if (c) {
      c.numberOfOrders = String(s.orders);
      c.amountSpent = money(s.cents);
    }
  }

  let version = 0;
  const cache = new Map<string, { version: number; items: readonly unknown[] }>();
  return {
    currencyCode,
    shopName: 'Crossdock Sandbox Supply',
    products,
    variants,
    variantsBySku,
    orders,
    customers,
    lineItems,
    version: () => version,
    touch() {
      version++;
    },
    node(id) {
      const parsed = parseGid(id);
      if (!parsed) return null;
      switch (parsed.type) {
        case 'Product':
          return products.get(parsed.numericId) ?? null;
        case 'ProductVariant':
          return variants.get(parsed.numericId) ?? null;
        case 'Order':
          return orders.get(parsed.numericId) ?? null;
        case 'Customer':
          return customers.get(parsed.numericId) ?? null;
        case 'LineItem':
          return lineItems.get(parsed.numericId) ?? null;
        default:
          return null;
      }
    },
    sorted<T>(cacheKey: string, build: () => T[]): readonly T[] {
      const hit = cache.get(cacheKey);
      if (hit && hit.version === version) return hit.items as readonly T[];
      const items = build();
      cache.set(cacheKey, { version, items });
      return items;
    },
  };
}

/** Web orders are authorised at checkout and captured when they ship. */
function financialStatusOf(
  stage: 'OPEN' | 'RELEASED' | 'SHIPPED' | 'INVOICED',
): ShopOrder['displayFinancialStatus'] {
  switch (stage) {
    case 'OPEN':
    case 'RELEASED':
      return 'AUTHORIZED';
    case 'SHIPPED':
    case 'INVOICED':
      return 'PAID';
    default:
      return unreachable(stage);
  }
}

function fulfillmentStatusOf(
  stage: 'OPEN' | 'RELEASED' | 'SHIPPED' | 'INVOICED',
): ShopOrder['displayFulfillmentStatus'] {
  switch (stage) {
    case 'OPEN':
      return 'UNFULFILLED';
    case 'RELEASED':
      return 'IN_PROGRESS';
    case 'SHIPPED':
    case 'INVOICED':
      return 'FULFILLED';
    default:
      return unreachable(stage);
  }
}

function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}

/**
 * The four root collections of the commerce sandbox: how each sorts (`sortKey`), which
 * `query:` fields it understands, which comparisons can cut a sort order by binary search,
 * and the SKU index a pure OR of `sku:` terms is answered from.
 */
import type { SortKeyOf } from './connection.js';
import type {
  CommerceData,
  ShopCustomer,
  ShopNode,
  ShopOrder,
  ShopProduct,
  ShopVariant,
} from './data.js';
import type { SearchFields } from './search.js';

/** One root collection: its sort keys, searchable fields, and the fast paths it allows. */
export interface Collection<T extends ShopNode> {
  readonly name: string;
  readonly records: (data: CommerceData) => Iterable<T>;
  readonly sortKeys: Readonly<Record<string, SortKeyOf<T>>>;
  readonly search: SearchFields<T>;
  /** Sort key → search field whose comparisons can cut that sort order by binary search. */
  readonly rangeFields: Readonly<Record<string, string>>;
  /** Answers a pure OR of exact `field:value` terms from an index. */
  readonly exact?: {
    readonly field: string;
    readonly lookup: (data: CommerceData, values: readonly string[]) => T[];
  };
}

function orderNumberOf(name: string): number {
  const digits = /\d+/.exec(name);
  return digits ? Number(digits[0]) : 0;
}

function variantsOfSkus(data: CommerceData, values: readonly string[]): ShopVariant[] {
  const out = new Set<ShopVariant>();
  for (const value of values) {
    for (const variant of data.variantsBySku.get(value.toLowerCase()) ?? []) out.add(variant);
  }
  return [...out];
}

const PRODUCTS: Collection<ShopProduct> = {
  name: 'products',
  records: (data) => data.products.values(),
  sortKeys: {
    ID: (p) => p.numericId,
    RELEVANCE: (p) => p.numericId,
    TITLE: (p) => p.title,
    CREATED_AT: (p) => p.createdAt,
    UPDATED_AT: (p) => p.updatedAtMs,
    PRODUCT_TYPE: (p) => p.productType,
    VENDOR: (p) => p.vendor,
  },
  rangeFields: { ID: 'id', UPDATED_AT: 'updated_at' },
  search: {
    defaults: ['title', 'sku', 'vendor', 'product_type'],
    fields: {
      id: { kind: 'number', get: (p) => p.numericId },
      title: { kind: 'text', get: (p) => p.title },
      handle: { kind: 'keyword', get: (p) => p.handle },
      status: { kind: 'keyword', get: (p) => p.status },
      product_type: { kind: 'text', get: (p) => p.productType },
      vendor: { kind: 'text', get: (p) => p.vendor },
      tag: { kind: 'keyword', get: (p) => p.tags },
      created_at: { kind: 'date', get: (p) => Date.parse(p.createdAt) },
      updated_at: { kind: 'date', get: (p) => p.updatedAtMs },
      // Filled in by the product's variants at run time: see `productSearch`.
      sku: { kind: 'keyword', get: () => null },
      barcode: { kind: 'keyword', get: () => null },
    },
  },
  exact: {
    field: 'sku',
    lookup: (data, values) => {
      const out = new Set<ShopProduct>();
      for (const variant of variantsOfSkus(data, values)) {
        const product = data.products.get(variant.productId);
        if (product) out.add(product);
      }
      return [...out];
    },
  },
};

/** Products (search needs the variants for `sku:` and `barcode:`). */
export function productSearch(data: CommerceData): Collection<ShopProduct> {
  const variantsOf = (p: ShopProduct): ShopVariant[] =>
    p.variantIds.flatMap((id) => data.variants.get(id) ?? []);
  return {
    ...PRODUCTS,
    search: {
      ...PRODUCTS.search,
      fields: {
        ...PRODUCTS.search.fields,
        sku: { kind: 'keyword', get: (p) => variantsOf(p).map((v) => v.sku) },
        barcode: { kind: 'keyword', get: (p) => variantsOf(p).map((v) => v.barcode) },
      },
    },
  };
}

/** Product variants. */
export function variantCollection(data: CommerceData): Collection<ShopVariant> {
  const product = (v: ShopVariant): ShopProduct | undefined => data.products.get(v.productId);
  return {
    name: 'productVariants',
    records: (d) => d.variants.values(),
    sortKeys: {
      ID: (v) => v.numericId,
      RELEVANCE: (v) => v.numericId,
      SKU: (v) => v.sku,
      TITLE: (v) => product(v)?.title ?? v.title,
      POSITION: (v) => v.position,
      INVENTORY_QUANTITY: (v) => v.inventoryQuantity,
    },
    rangeFields: { SKU: 'sku', ID: 'id' },
    search: {
      defaults: ['sku', 'title', 'barcode'],
      fields: {
        id: { kind: 'number', get: (v) => v.numericId },
        sku: { kind: 'keyword', get: (v) => v.sku },
        barcode: { kind: 'keyword', get: (v) => v.barcode },
        // A variant's own title is "Default Title"; searching the product's title is what callers mean.
        title: { kind: 'text', get: (v) => product(v)?.title ?? v.title },
        product_id: { kind: 'number', get: (v) => v.productId },
        product_status: { kind: 'keyword', get: (v) => product(v)?.status ?? null },
        status: { kind: 'keyword', get: (v) => product(v)?.status ?? null },
        product_type: { kind: 'text', get: (v) => product(v)?.productType ?? null },
        vendor: { kind: 'text', get: (v) => product(v)?.vendor ?? null },
        inventory_quantity: { kind: 'number', get: (v) => v.inventoryQuantity },
        updated_at: { kind: 'date', get: (v) => v.updatedAtMs },
      },
    },
    exact: { field: 'sku', lookup: variantsOfSkus },
  };
}

/** Orders (WEB channel). */
export function orderCollection(data: CommerceData): Collection<ShopOrder> {
  const customer = (o: ShopOrder): ShopCustomer | undefined =>
    o.customerId === null ? undefined : data.customers.get(o.customerId);
  return {
    name: 'orders',
    records: (d) => d.orders.values(),
    sortKeys: {
      ID: (o) => o.numericId,
      RELEVANCE: (o) => o.numericId,
      ORDER_NUMBER: (o) => orderNumberOf(o.name),
      CREATED_AT: (o) => o.createdAtMs,
      PROCESSED_AT: (o) => o.createdAtMs,
      UPDATED_AT: (o) => o.updatedAtMs,
      TOTAL_PRICE: (o) => o.totalCents,
    },
    rangeFields: {
      ORDER_NUMBER: 'name',
      ID: 'id',
      CREATED_AT: 'created_at',
      PROCESSED_AT: 'created_at',
      UPDATED_AT: 'updated_at',
    },
    search: {
      defaults: ['name', 'email', 'sku'],
      fields: {
        id: { kind: 'number', get: (o) => o.numericId },
        name: { kind: 'orderName', get: (o) => o.name },
        email: { kind: 'keyword', get: (o) => o.email },
        created_at: { kind: 'date', get: (o) => o.createdAtMs },
        processed_at: { kind: 'date', get: (o) => o.createdAtMs },
        updated_at: { kind: 'date', get: (o) => o.updatedAtMs },
        financial_status: { kind: 'keyword', get: (o) => o.displayFinancialStatus },
        fulfillment_status: { kind: 'keyword', get: (o) => o.displayFulfillmentStatus },
        sku: {
          kind: 'keyword',
          get: (o) => o.lineItems.flatMap((l) => (l.sku === null ? [] : [l.sku])),
        },
        customer_id: { kind: 'number', get: (o) => o.customerId },
        tag: { kind: 'keyword', get: (o) => customer(o)?.tags ?? [] },
        source_name: { kind: 'keyword', get: (o) => o.sourceName },
      },
    },
  };
}

/** Customers. */
export const CUSTOMERS: Collection<ShopCustomer> = {
  name: 'customers',
  records: (data) => data.customers.values(),
  sortKeys: {
    ID: (c) => c.numericId,
    RELEVANCE: (c) => c.numericId,
    NAME: (c) => c.displayName,
    CREATED_AT: (c) => c.createdAt,
    UPDATED_AT: (c) => c.updatedAtMs,
  },
  rangeFields: { ID: 'id', UPDATED_AT: 'updated_at' },
  search: {
    defaults: ['name', 'email'],
    fields: {
      id: { kind: 'number', get: (c) => c.numericId },
      name: { kind: 'text', get: (c) => c.displayName },
      email: { kind: 'keyword', get: (c) => c.email },
      tag: { kind: 'keyword', get: (c) => c.tags },
      updated_at: { kind: 'date', get: (c) => c.updatedAtMs },
    },
  },
};

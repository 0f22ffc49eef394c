/**
 * Per-request DataLoaders: every key of one kind asked for in one tick goes to its system in
 * one batch call. Made fresh for each request by the context factory, so nothing is cached
 * across callers. Each batch honours dataloader's contract (same length and order as the keys).
 */
import { inSpan } from '../observability/tracing.js';
import DataLoader from 'dataloader';
import type {
  CatalogItemRecord,
  CustomerPriceRecord,
  CustomerRecord,
  InventoryPositionRecord,
  InvoiceRecord,
  OrderRecord,
  ProductContentRecord,
  ShipmentRecord,
  WarehouseRecord,
  WmsConnector,
} from '../sources/contract.js';
import { CROSSDOCK_ORDER_ID } from '../sources/identifiers.js';
import type { Store, StoredOrder } from '../store/contract.js';
import type { Sources } from './sources.js';

/** Loaders of one WMS connector. */
export interface WarehouseSystemLoaders {
  readonly connector: WmsConnector;
  /** Every position of a SKU in this system's warehouses. */
  readonly positions: DataLoader<string, InventoryPositionRecord[]>;
  readonly shipmentsByOrder: DataLoader<string, ShipmentRecord[]>;
  readonly shipment: DataLoader<string, ShipmentRecord | null>;
  /** The system's warehouses (one call per request at most). */
  warehouses(): Promise<WarehouseRecord[]>;
}

/** Every loader of one request. */
export interface Loaders {
  readonly catalogItem: DataLoader<string, CatalogItemRecord | null>;
  readonly content: DataLoader<string, ProductContentRecord | null>;
  readonly customer: DataLoader<string, CustomerRecord | null>;
  readonly customerPrice: DataLoader<CustomerPriceKey, CustomerPriceRecord | null, string>;
  readonly order: DataLoader<string, OrderRecord | null>;
  readonly invoice: DataLoader<string, InvoiceRecord | null>;
  readonly invoicesByOrder: DataLoader<string, InvoiceRecord[]>;
  /**
   * Crossdock's own order records (orders placed through it, and ERP orders it acted on), by its
   * order id or by ERP order number.
   */
  readonly storedOrder: DataLoader<string, StoredOrder | null>;
  /** One entry per warehouse system, in the order of `sources.warehouses`. */
  readonly warehouseSystems: readonly WarehouseSystemLoaders[];
}

/** Key of a customer-specific price. */
export interface CustomerPriceKey {
  readonly customerNumber: string;
  readonly sku: string;
}

function groupBy<T>(keys: readonly string[], rows: readonly T[], keyOf: (row: T) => string): T[][] {
  const byKey = new Map<string, T[]>();
  for (const row of rows) {
    const key = keyOf(row);
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(row);
  }
  return keys.map((key) => byKey.get(key) ?? []);
}

/**
 * Runs a batch so that a failure of the whole batch lands in every key's slot. dataloader
 * clears its cache when a batch function rejects, so without this a second field asking for
 * the same key would call the failing system again within the same request (doubling the
 * wait behind a hanging system and the failures its breaker counts).
 */
function settled<K, V>(name: string, batch: (keys: readonly K[]) => Promise<V[]>) {
  return async (keys: readonly K[]): Promise<(V | Error)[]> => {
    try {
      // One span per batch (when the request is traced): the parent of the calls it makes.
      return await inSpan(`loader ${name}`, { 'crossdock.batch_size': keys.length }, () =>
        batch(keys),
      );
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error), { cause: error });
      return keys.map(() => failure);
    }
  };
}

/** Makes the loaders of one request. */
export function createLoaders(sources: Sources, store: Store): Loaders {
  const { erp, commerce } = sources;
  return {
    catalogItem: new DataLoader(
      settled('catalogItem', (skus: readonly string[]) => erp.itemsBySku(skus)),
      { name: 'catalogItem' },
    ),
    content: new DataLoader(
      settled('content', (skus: readonly string[]) => commerce.contentBySku(skus)),
      { name: 'content' },
    ),
    customer: new DataLoader(
      settled('customer', (numbers: readonly string[]) => erp.customersByNumber(numbers)),
      { name: 'customer' },
    ),
    customerPrice: new DataLoader(
      settled('customerPrice', async (keys: readonly CustomerPriceKey[]) => {
        // One pricing call per customer in the batch (a page usually prices for one customer).
        const byCustomer = new Map<string, string[]>();
        for (const key of keys) {
          const skus = byCustomer.get(key.customerNumber) ?? [];
          skus.push(key.sku);
          byCustomer.set(key.customerNumber, skus);
        }
        const prices = new Map<string, CustomerPriceRecord | null>();
        await Promise.all(
          [...byCustomer].map(async ([customerNumber, skus]) => {
            const answer = await erp.customerPrices(customerNumber, skus);
            skus.forEach((sku, i) =>
              prices.set(`${customerNumber}\u0000${sku}`, answer[i] ?? null),
            );
          }),
        );
        return keys.map((key) => prices.get(`${key.customerNumber}\u0000${key.sku}`) ?? null);
      }),
      { name: 'customerPrice', cacheKeyFn: (key) => `${key.customerNumber}\u0000${key.sku}` },
    ),
    order: new DataLoader(
      settled('order', (numbers: readonly string[]) => erp.ordersByNumber(numbers)),
      { name: 'order' },
    ),
    invoice: new DataLoader(
      settled('invoice', (numbers: readonly string[]) => erp.invoicesByNumber(numbers)),
      { name: 'invoice' },
    ),
    invoicesByOrder: new DataLoader(
      settled('invoicesByOrder', (numbers: readonly string[]) => erp.invoicesByOrder(numbers)),
      {
        name: 'invoicesByOrder',
      },
    ),
    // The store is local (SQLite) or one round trip per id (MongoDB); batching it buys little.
    storedOrder: new DataLoader(
      settled('storedOrder', (keys: readonly string[]) =>
        // By Crossdock's id, else by the ERP number of an order it placed (whose record is kept
        // under its XD- id): an order is the same however it is reached (workflows read alike).
        Promise.all(
          keys.map(
            async (key) =>
              (await store.orders.get(key)) ??
              (CROSSDOCK_ORDER_ID.test(key) ? null : store.orders.getByErpNumber(key)),
          ),
        ),
      ),
      { name: 'storedOrder' },
    ),
    warehouseSystems: sources.warehouses.map((connector) => {
      let warehouses: Promise<WarehouseRecord[]> | undefined;
      return {
        connector,
        positions: new DataLoader(
          settled(`positions:${connector.name}`, async (skus: readonly string[]) =>
            groupBy(skus, await connector.positions(skus), (row) => row.sku),
          ),
          { name: `positions:${connector.name}` },
        ),
        shipmentsByOrder: new DataLoader(
          settled(`shipmentsByOrder:${connector.name}`, (numbers: readonly string[]) =>
            connector.shipmentsByOrder(numbers),
          ),
          {
            name: `shipmentsByOrder:${connector.name}`,
          },
        ),
        shipment: new DataLoader(
          settled(`shipment:${connector.name}`, (ids: readonly string[]) =>
            connector.shipmentsById(ids),
          ),
          {
            name: `shipment:${connector.name}`,
          },
        ),
        warehouses: () => (warehouses ??= connector.warehouses()),
      };
    }),
  };
}

/**
 * Gives the request new, empty loaders: after a mutation (GraphQL runs mutation fields one after
 * another) and for each subscription event, so nothing read afterwards comes from a cache filled
 * before the change.
 */
export function renewLoaders(ctx: {
  loaders: Loaders;
  readonly sources: Sources;
  readonly store: Store;
}): void {
  ctx.loaders = createLoaders(ctx.sources, ctx.store);
}

/**
 * What every peer server shares: Crossdock's own connectors (made from the same settings, by
 * server/connectors.ts), one DataLoader per source per request, and the field resolvers of the
 * few types the peer workloads select. A peer differs from Crossdock in the server around them,
 * never in how the systems are called.
 */
import DataLoader from 'dataloader';
import { createSources } from '../../server/connectors.js';
import { loadConfig } from '../../server/config.js';
import type { Sources } from '../../resolvers/sources.js';
import type {
  CatalogItemRecord,
  InventoryPositionRecord,
  OrderRecord,
  ProductContentRecord,
  ShipmentRecord,
} from '../../sources/contract.js';

/** Crossdock's connectors, configured from this process's environment as Crossdock would be. */
export function peerSources(): Sources {
  return createSources(loadConfig(process.env));
}

/** The port a peer listens on (PEER_PORT). */
export function peerPort(): number {
  const port = Number(process.env['PEER_PORT']);
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error(`PEER_PORT: expected a port number, got ${process.env['PEER_PORT']}`);
  }
  return port;
}

/** The loaders of one request: one per source and kind of key. */
export interface PeerLoaders {
  readonly item: DataLoader<string, CatalogItemRecord | null>;
  readonly order: DataLoader<string, OrderRecord | null>;
  readonly content: DataLoader<string, ProductContentRecord | null>;
  /** One per warehouse system, in the order of `sources.warehouses`. */
  readonly positions: readonly DataLoader<string, InventoryPositionRecord[]>[];
  readonly shipments: readonly DataLoader<string, ShipmentRecord[]>[];
}

/** The context every peer resolver gets. */
export interface PeerContext {
  readonly sources: Sources;
  readonly loaders: PeerLoaders;
}

/** Fresh loaders for one request (nothing is cached across requests). */
export function peerContext(sources: Sources): PeerContext {
  const { erp, commerce, warehouses } = sources;
  return {
    sources,
    loaders: {
      item: new DataLoader((skus: readonly string[]) => erp.itemsBySku(skus)),
      order: new DataLoader((numbers: readonly string[]) => erp.ordersByNumber(numbers)),
      content: new DataLoader((skus: readonly string[]) => commerce.contentBySku(skus)),
      positions: warehouses.map(
        (system) =>
          new DataLoader(async (skus: readonly string[]) => {
            const rows = await system.positions(skus);
            return skus.map((sku) => rows.filter((row) => row.sku === sku));
          }),
      ),
      shipments: warehouses.map(
        (system) =>
          new DataLoader((numbers: readonly string[]) => system.shipmentsByOrder(numbers)),
      ),
    },
  };
}

/** A product as the peers pass it between resolvers: its key. */
export interface ProductRef {
  readonly sku: string;
}

/** An order as the peers pass it between resolvers: its key (and the ERP record, once read). */
export interface OrderRef {
  readonly number: string;
}

/** Every position of `sku` in every warehouse system. */
async function positionsOf(ctx: PeerContext, sku: string): Promise<InventoryPositionRecord[]> {
  return (await Promise.all(ctx.loaders.positions.map((loader) => loader.load(sku)))).flat();
}

/** Decodes Crossdock's cursor (resolvers/ids.ts: base64url of `v1:<sku>`), so the same variables serve every server. */
function skuOfCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('v1:')) throw new Error(`expected a cursor of this API, got ${cursor}`);
  return text.slice(3);
}

/** Root fields the ERP answers: the product lookup and listing (item master), the order. */
export const erpQueries = {
  async product(_root: unknown, { sku }: { sku: string }, ctx: PeerContext) {
    return (await ctx.loaders.item.load(sku)) ? { sku } : null;
  },
  async products(
    _root: unknown,
    { first, after }: { first: number; after?: string | null },
    ctx: PeerContext,
  ) {
    const page = await ctx.sources.erp.listItems({
      first,
      after: after ? skuOfCursor(after) : undefined,
    });
    // The listing already carries the item: no second ERP call for its price.
    for (const item of page.items) ctx.loaders.item.prime(item.sku, item);
    return { nodes: page.items.map((item) => ({ sku: item.sku })) };
  },
  async order(_root: unknown, { id }: { id: string }, ctx: PeerContext) {
    return (await ctx.loaders.order.load(id)) ? { number: id } : null;
  },
};

/** Product fields the ERP owns. */
export const erpProduct = {
  sku: ({ sku }: ProductRef) => sku,
  listPrice: async ({ sku }: ProductRef, _args: unknown, ctx: PeerContext) =>
    (await ctx.loaders.item.load(sku))?.listPrice ?? null,
};

/** Order fields the ERP owns. */
export const erpOrder = {
  number: ({ number }: OrderRef) => number,
  channel: async ({ number }: OrderRef, _args: unknown, ctx: PeerContext) =>
    (await ctx.loaders.order.load(number))?.channel ?? null,
  lines: async ({ number }: OrderRef, _args: unknown, ctx: PeerContext) =>
    (await ctx.loaders.order.load(number))?.lines ?? [],
};

/** Product fields commerce owns. */
export const commerceProduct = {
  sku: ({ sku }: ProductRef) => sku,
  // Crossdock falls back to the ERP's item description when a SKU is not on the web store; a
  // commerce subgraph cannot see the ERP, so every peer gives commerce's title only.
  name: async ({ sku }: ProductRef, _args: unknown, ctx: PeerContext) =>
    (await ctx.loaders.content.load(sku))?.title ?? null,
};

/** Product fields the warehouse systems own. */
export const wmsProduct = {
  sku: ({ sku }: ProductRef) => sku,
  inventory: ({ sku }: ProductRef, _args: unknown, ctx: PeerContext) => positionsOf(ctx, sku),
  availableToPromise: async ({ sku }: ProductRef, _args: unknown, ctx: PeerContext) =>
    (await positionsOf(ctx, sku)).reduce((sum, row) => sum + row.available, 0),
};

/** Order fields the warehouse systems own. */
export const wmsOrder = {
  number: ({ number }: OrderRef) => number,
  shipments: async ({ number }: OrderRef, _args: unknown, ctx: PeerContext) =>
    (await Promise.all(ctx.loaders.shipments.map((loader) => loader.load(number)))).flat(),
};

/** Types only the warehouse systems answer. */
export const wmsTypes = {
  InventoryPosition: {
    warehouse: (row: InventoryPositionRecord) => ({ code: row.warehouseCode }),
  },
};

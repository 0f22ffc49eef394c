/**
 * Stock and warehouses, read from every warehouse system (own WMS and 3PLs) at once.
 */
import type {
  InventoryPositionResolvers,
  QueryResolvers,
  WarehouseResolvers,
} from '../generated/resolvers-types.js';
import type { WarehouseRecord } from '../sources/contract.js';
import type { ResolverContext } from './context.js';
import { badInput, notFound, toGraphQLError } from './errors.js';
import { fromEveryWarehouseSystem, withErrorSlots } from './fanout.js';
import { MAX_PAGE_SIZE, checkWarehouseCode, toGlobalId } from './ids.js';
import type { WarehouseParent } from './parents.js';
import { checkSku } from './product.js';

/** Finds a warehouse record by code among the systems' warehouse lists. */
async function warehouseRecord(
  ctx: ResolverContext,
  parent: WarehouseParent,
): Promise<WarehouseRecord> {
  if (parent.record) return parent.record;
  const systems = ctx.loaders.warehouseSystems.filter(
    (system) => parent.source === null || system.connector.name === parent.source,
  );
  let failure: unknown = null;
  for (const system of systems) {
    try {
      const found = (await system.warehouses()).find((w) => w.code === parent.code);
      if (found) return found;
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== null) throw toGraphQLError(failure);
  throw notFound('Warehouse', parent.code);
}

/** Resolvers of Warehouse. */
export const Warehouse: WarehouseResolvers<ResolverContext> = {
  id: ({ code }) => toGlobalId('Warehouse', code),
  code: ({ code }) => code,
  name: async (parent, _args, ctx) => (await warehouseRecord(ctx, parent)).name,
  kind: async (parent, _args, ctx) => (await warehouseRecord(ctx, parent)).kind,
  source: async (parent, _args, ctx) =>
    parent.source ?? (await warehouseRecord(ctx, parent)).source,
  address: async (parent, _args, ctx) => (await warehouseRecord(ctx, parent)).address,
};

/** Resolvers of InventoryPosition. */
export const InventoryPosition: InventoryPositionResolvers<ResolverContext> = {
  warehouse: (position) => ({ code: position.warehouseCode, source: position.source }),
};

/** Loads a warehouse by code from whichever system runs it. */
export async function loadWarehouse(ctx: ResolverContext, code: string): Promise<WarehouseParent> {
  const record = await warehouseRecord(ctx, { code, source: null });
  return { code, source: record.source, record };
}

/** Query fields of stock and warehouses. */
export const inventoryQueries: Pick<QueryResolvers<ResolverContext>, 'inventory' | 'warehouses'> = {
  async inventory(_root, { skus, warehouses }, ctx) {
    if (skus.length === 0 || skus.length > MAX_PAGE_SIZE) {
      throw badInput('skus', `1 to ${MAX_PAGE_SIZE} SKUs`, `${skus.length} SKUs`);
    }
    skus.forEach((sku, i) => checkSku(sku, `skus[${i}]`));
    const unique = [...new Set(skus)];
    if (warehouses && warehouses.length > MAX_PAGE_SIZE) {
      throw badInput('warehouses', `at most ${MAX_PAGE_SIZE} codes`, `${warehouses.length} codes`);
    }
    const wanted = warehouses
      ? new Set(warehouses.map((code, i) => checkWarehouseCode(code, `warehouses[${i}]`)))
      : null;
    const fan = await fromEveryWarehouseSystem(ctx, async (system) => {
      const perSku = await system.positions.loadMany(unique);
      return perSku.flatMap((rows) => {
        if (rows instanceof Error) throw rows;
        return wanted ? rows.filter((row) => wanted.has(row.warehouseCode)) : rows;
      });
    });
    // SKUs no warehouse stocks may simply be unknown: ask the item master (when it answers).
    const stocked = new Set(fan.items.map((row) => row.sku));
    const unstocked = unique.filter((sku) => !stocked.has(sku));
    const unknown: Error[] = [];
    if (unstocked.length > 0 && !wanted) {
      const items = await ctx.loaders.catalogItem.loadMany(unstocked);
      items.forEach((item, i) => {
        if (item === null) unknown.push(notFound('Product', unstocked[i] ?? ''));
      });
    }
    return withErrorSlots(fan, unknown);
  },
  async warehouses(_root, _args, ctx) {
    const fan = await fromEveryWarehouseSystem(ctx, (system) => system.warehouses());
    return withErrorSlots({
      items: fan.items.map((record) => ({ code: record.code, source: record.source, record })),
      errors: fan.errors,
    });
  },
};

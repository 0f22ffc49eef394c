/**
 * Product: ERP item master + commerce content + stock from every warehouse system, by SKU.
 */
import { Kind, type FieldNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { ProductResolvers, QueryResolvers } from '../generated/resolvers-types.js';
import type { InventoryPositionRecord } from '../sources/contract.js';
import { CUSTOMER_NUMBER_ARGUMENT, MAX_SKU_CHARS, SKU } from '../sources/identifiers.js';
import { listProducts } from '../workflows/catalogue.js';
import { mayActFor } from './access.js';
import type { ResolverContext } from './context.js';
import type { Loaders } from './loaders.js';
import { listPage, pageRequest, toConnection } from './connection.js';
import { badInput, notFound, toGraphQLError } from './errors.js';
import { fromEveryWarehouseSystem, withErrorSlots, type FanOut } from './fanout.js';
import {
  MAX_CODE_CHARS,
  MAX_TEXT_CHARS,
  boundedText,
  keyFromIdArgument,
  toGlobalId,
} from './ids.js';
import type { ExternalIdParent, ProductParent } from './parents.js';

/** Validates a SKU argument: 1 to 64 printable characters (sources/identifiers.ts `SKU`). */
export function checkSku(sku: string, argument = 'sku'): string {
  if (!SKU.test(sku)) {
    throw badInput(
      argument,
      `a SKU of 1 to ${MAX_SKU_CHARS} printable ASCII characters without spaces`,
      sku,
    );
  }
  return sku;
}

/**
 * Every warehouse system's positions of a SKU, asked once per request: a product's `inventory`
 * and each `availableToPromise` (with or without `warehouses`) share one fan-out instead of
 * settling every system's loader again each (issue #13: the storefront page asked 150 times for
 * 50 SKUs). Keyed by the request's loaders, so a renewed set of loaders starts afresh.
 */
const fanOutsByRequest = new WeakMap<
  Loaders,
  Map<string, Promise<FanOut<InventoryPositionRecord>>>
>();

function everyPositionOf(
  ctx: ResolverContext,
  sku: string,
): Promise<FanOut<InventoryPositionRecord>> {
  let bySku = fanOutsByRequest.get(ctx.loaders);
  if (!bySku) fanOutsByRequest.set(ctx.loaders, (bySku = new Map()));
  let fan = bySku.get(sku);
  if (!fan) {
    fan = fromEveryWarehouseSystem(ctx, (system) => system.positions.load(sku));
    bySku.set(sku, fan);
  }
  return fan;
}

/** The positions of `sku` from every warehouse system, narrowed to `warehouses` when given. */
async function positionsOf(
  ctx: ResolverContext,
  sku: string,
  warehouses: readonly string[] | null | undefined,
): Promise<FanOut<InventoryPositionRecord>> {
  const fan = await everyPositionOf(ctx, sku);
  if (!warehouses) return fan;
  const wanted = new Set(warehouses);
  return { items: fan.items.filter((row) => wanted.has(row.warehouseCode)), errors: fan.errors };
}

/** Product fields that read the warehouse systems' positions. */
const STOCK_FIELDS = new Set(['inventory', 'availableToPromise']);

/** Whether the selection of `nodes` names one of `fields` (through fragments too). */
function selects(
  nodes: readonly FieldNode[],
  fragments: Record<string, FragmentDefinitionNode>,
  fields: ReadonlySet<string>,
): boolean {
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((selection) => {
      switch (selection.kind) {
        case Kind.FIELD:
          return fields.has(selection.name.value);
        case Kind.INLINE_FRAGMENT:
          return walk(selection.selectionSet);
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          if (seen.has(name)) return false;
          seen.add(name);
          return walk(fragments[name]?.selectionSet);
        }
        default: {
          const unreachable: never = selection;
          return unreachable;
        }
      }
    });
  return nodes.some((node) => walk(node.selectionSet));
}

/** Starts loading `sku`'s positions from every warehouse system; a failure surfaces in the fields. */
function prefetchPositions(ctx: ResolverContext, sku: string): void {
  for (const system of ctx.loaders.warehouseSystems) {
    system.positions.load(sku).catch(() => undefined);
  }
}

/** Resolves to the product of `sku`, or NOT_FOUND when neither the ERP nor commerce knows it. */
export async function loadProduct(ctx: ResolverContext, sku: string): Promise<ProductParent> {
  const [item, content] = await Promise.allSettled([
    ctx.loaders.catalogItem.load(sku),
    ctx.loaders.content.load(sku),
  ]);
  if (item.status === 'fulfilled' && item.value) return { sku };
  if (content.status === 'fulfilled' && content.value) return { sku };
  // Neither found it: unknown only if both answered; otherwise we cannot tell.
  if (item.status === 'rejected') throw toGraphQLError(item.reason);
  if (content.status === 'rejected') throw toGraphQLError(content.reason);
  throw notFound('Product', sku);
}

/** Resolvers of Product. */
export const Product: ProductResolvers<ResolverContext> = {
  id: ({ sku }) => toGlobalId('Product', sku),
  sku: ({ sku }) => sku,
  async name({ sku }, _args, ctx) {
    const content = await ctx.loaders.content.load(sku);
    if (content) return content.title;
    // Not on the web store: the ERP's item description is the only name there is.
    return (await ctx.loaders.catalogItem.load(sku))?.displayName ?? null;
  },
  descriptionHtml: async ({ sku }, _args, ctx) =>
    (await ctx.loaders.content.load(sku))?.descriptionHtml ?? null,
  webStatus: async ({ sku }, _args, ctx) => (await ctx.loaders.content.load(sku))?.status ?? null,
  category: async ({ sku }, _args, ctx) =>
    (await ctx.loaders.catalogItem.load(sku))?.category ?? null,
  gtin: async ({ sku }, _args, ctx) => (await ctx.loaders.catalogItem.load(sku))?.gtin ?? null,
  unitOfMeasure: async ({ sku }, _args, ctx) =>
    (await ctx.loaders.catalogItem.load(sku))?.baseUnitOfMeasure ?? null,
  blocked: async ({ sku }, _args, ctx) =>
    (await ctx.loaders.catalogItem.load(sku))?.blocked ?? null,
  listPrice: async ({ sku }, _args, ctx) =>
    (await ctx.loaders.catalogItem.load(sku))?.listPrice ?? null,
  async customerPrice({ sku }, { customerId }, ctx) {
    const customerNumber = keyFromIdArgument(
      customerId,
      'Customer',
      CUSTOMER_NUMBER_ARGUMENT,
      'customerId',
    );
    // A portal or storefront session prices for its own customer only, a partner for those of
    // its allow-list; others look unknown.
    if (!mayActFor(ctx, customerNumber)) {
      throw notFound('customer price', `${customerNumber}/${sku}`);
    }
    const price = await ctx.loaders.customerPrice.load({ customerNumber, sku });
    if (!price) throw notFound('customer price', `${customerNumber}/${sku}`);
    return price;
  },
  async inventory({ sku }, { warehouses }, ctx) {
    return withErrorSlots(await positionsOf(ctx, sku, warehouses));
  },
  async externalIds({ sku }, _args, ctx) {
    const [item, content] = await Promise.allSettled([
      ctx.loaders.catalogItem.load(sku),
      ctx.loaders.content.load(sku),
    ]);
    const ids: (ExternalIdParent | Error)[] = [];
    if (item.status === 'rejected') ids.push(toGraphQLError(item.reason));
    else if (item.value)
      ids.push({ source: ctx.sources.erp.name, entity: 'item', id: item.value.erpId });
    if (content.status === 'rejected') ids.push(toGraphQLError(content.reason));
    else if (content.value) {
      const source = ctx.sources.commerce.name;
      ids.push({ source, entity: 'product', id: content.value.productGid });
      ids.push({ source, entity: 'productVariant', id: content.value.variantGid });
    }
    // Error items become null slots plus errors[] entries (see fanout.ts).
    return ids as ExternalIdParent[];
  },
  async availableToPromise({ sku }, { warehouses }, ctx) {
    const fan = await positionsOf(ctx, sku, warehouses);
    const [first] = fan.errors;
    if (first) throw first;
    return fan.items.reduce((sum, row) => sum + row.available, 0);
  },
};

/** Query fields of the catalogue. */
export const productQueries: Pick<QueryResolvers<ResolverContext>, 'product' | 'products'> = {
  product: (_root, { sku }, ctx, info) => {
    const checked = checkSku(sku);
    // Stock does not depend on the item master or the content: when the selection asks for it,
    // the warehouse systems are asked now, alongside the ERP and commerce, instead of after them
    // (the query's wait was ERP or commerce plus the warehouses; issue #13). The loaders keep the
    // calls, so the inventory fields below find them in flight: still one call per system.
    if (selects(info.fieldNodes, info.fragments, STOCK_FIELDS)) prefetchPositions(ctx, checked);
    return loadProduct(ctx, checked);
  },
  async products(_root, { first, after, filter }, ctx) {
    const page = pageRequest(first, after);
    const catalogFilter = {
      category: boundedText('filter.category', filter?.category, MAX_CODE_CHARS),
      search: boundedText('filter.search', filter?.search, MAX_TEXT_CHARS),
      includeBlocked: filter?.includeBlocked ?? undefined,
    };
    const listing = await listProducts(ctx.sources, catalogFilter, (list) =>
      listPage(page, list),
    ).catch((error: unknown) => {
      throw toGraphQLError(error);
    });
    switch (listing.from) {
      case 'erp':
        for (const item of listing.page.items) ctx.loaders.catalogItem.prime(item.sku, item);
        return toConnection(
          listing.page,
          (item) => item.sku,
          (item) => ({ sku: item.sku }),
        );
      case 'commerce':
        for (const record of listing.page.items) ctx.loaders.content.prime(record.sku, record);
        ctx.warnings.push(listing.fallback);
        return toConnection(
          listing.page,
          (record) => record.sku,
          (record) => ({ sku: record.sku }),
        );
      default: {
        const unreachable: never = listing;
        throw new Error(`unknown product listing ${JSON.stringify(unreachable)}`);
      }
    }
  },
};

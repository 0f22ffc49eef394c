/**
 * Product: ERP item master + commerce content + stock from every warehouse system, by SKU.
 */
import type { ProductResolvers, QueryResolvers } from '../generated/resolvers-types.js';
import { isSourceError } from '../sources/contract.js';
import { mayActFor } from './access.js';
import type { ResolverContext } from './context.js';
import { listPage, pageRequest, toConnection } from './connection.js';
import { badInput, notFound, toGraphQLError } from './errors.js';
import { fromEveryWarehouseSystem, withErrorSlots } from './fanout.js';
import {
  MAX_CODE_CHARS,
  MAX_TEXT_CHARS,
  boundedText,
  keyFromIdArgument,
  toGlobalId,
} from './ids.js';
import type { ExternalIdParent, ProductParent } from './parents.js';

/** A customer number (the ERP's key), as customer.ts's CUSTOMER_NUMBER. */
const CUSTOMER_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/** Validates a SKU argument: 1 to 64 printable characters. */
export function checkSku(sku: string, argument = 'sku'): string {
  if (sku.length === 0 || sku.length > 64 || !/^[\x21-\x7e]+$/.test(sku)) {
    throw badInput(argument, 'a SKU of 1 to 64 printable ASCII characters without spaces', sku);
  }
  return sku;
}

/** The positions of `sku` from every warehouse system, narrowed to `warehouses` when given. */
async function positionsOf(
  ctx: ResolverContext,
  sku: string,
  warehouses: readonly string[] | null | undefined,
) {
  const wanted = warehouses ? new Set(warehouses) : null;
  return fromEveryWarehouseSystem(ctx, async (system) => {
    const rows = await system.positions.load(sku);
    return wanted ? rows.filter((row) => wanted.has(row.warehouseCode)) : rows;
  });
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
    const customerNumber = keyFromIdArgument(customerId, 'Customer', CUSTOMER_KEY, 'customerId');
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
  product: (_root, { sku }, ctx) => loadProduct(ctx, checkSku(sku)),
  async products(_root, { first, after, filter }, ctx) {
    const page = pageRequest(first, after);
    const catalogFilter = {
      category: boundedText('filter.category', filter?.category, MAX_CODE_CHARS),
      search: boundedText('filter.search', filter?.search, MAX_TEXT_CHARS),
      includeBlocked: filter?.includeBlocked ?? undefined,
    };
    try {
      const items = await listPage(page, (p) => ctx.sources.erp.listItems(p, catalogFilter));
      for (const item of items.items) ctx.loaders.catalogItem.prime(item.sku, item);
      return toConnection(
        items,
        (item) => item.sku,
        (item) => ({ sku: item.sku }),
      );
    } catch (error) {
      const filtered = Boolean(filter?.category || filter?.search || filter?.includeBlocked);
      if (!isSourceError(error) || filtered) throw toGraphQLError(error);
      // The ERP owns the listing, but commerce lists the same SKUs in the same order: serve
      // the page from there and say so, rather than failing the storefront's whole page.
      const content = await listPage(page, (p) => ctx.sources.commerce.listContent(p));
      for (const record of content.items) ctx.loaders.content.prime(record.sku, record);
      ctx.warnings.push({
        code: 'SOURCE_FALLBACK',
        source: ctx.sources.erp.name,
        message: `products listed from ${ctx.sources.commerce.name} because ${error.message}`,
      });
      return toConnection(
        content,
        (record) => record.sku,
        (record) => ({ sku: record.sku }),
      );
    }
  },
};

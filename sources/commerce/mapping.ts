/**
 * Native (Shopify Admin GraphQL) → canonical records. Pure functions, no I/O.
 */
import type { ChannelOrderRecord, ProductContentRecord } from '../contract.js';
import type { NativeLineItem, NativeOrder, NativeVariant } from './queries.js';

/** Customer tag prefix carrying the ERP customer number (`erp:C10001`). */
export const ERP_CUSTOMER_TAG_PREFIX = 'erp:';

/** The product content of a variant; `null` for a variant without a SKU (nothing to key it by). */
export function toProductContent(variant: NativeVariant): ProductContentRecord | null {
  if (variant.sku === null || variant.sku === '') return null;
  const { product } = variant;
  return {
    sku: variant.sku,
    productGid: product.id,
    variantGid: variant.id,
    title: product.title,
    descriptionHtml: product.descriptionHtml,
    handle: product.handle,
    // Shopify answers an empty string for "no vendor"; canonical records say null.
    vendor: product.vendor === null || product.vendor === '' ? null : product.vendor,
    tags: product.tags,
    status: product.status,
    updatedAt: product.updatedAt,
  };
}

/** The ERP customer number from a customer's tags, or `null` when none is tagged. */
export function customerNumberFromTags(tags: readonly string[]): string | null {
  for (const tag of tags) {
    if (tag.startsWith(ERP_CUSTOMER_TAG_PREFIX)) {
      const number = tag.slice(ERP_CUSTOMER_TAG_PREFIX.length).trim();
      if (number !== '') return number;
    }
  }
  return null;
}

/**
 * A storefront order. `lines` are all of the order's line items (the first page plus any
 * fetched after it); the quantity is `currentQuantity`, what is left after edits and removals.
 * A custom line without a SKU keeps an empty SKU rather than vanishing from the order.
 */
export function toChannelOrder(
  order: NativeOrder,
  lines: readonly NativeLineItem[],
): ChannelOrderRecord {
  return {
    gid: order.id,
    name: order.name,
    createdAt: order.createdAt,
    // Shopify leaves it null when there is nothing to pay; say so rather than invent a state.
    financialStatus: order.displayFinancialStatus ?? 'UNKNOWN',
    fulfillmentStatus: order.displayFulfillmentStatus,
    total: {
      amount: order.totalPriceSet.shopMoney.amount,
      currencyCode: order.totalPriceSet.shopMoney.currencyCode,
    },
    customerNumber: order.customer === null ? null : customerNumberFromTags(order.customer.tags),
    lines: lines.map((line) => ({ sku: line.sku ?? '', quantity: line.currentQuantity })),
  };
}

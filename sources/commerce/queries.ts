/**
 * The Admin GraphQL documents the commerce connector sends, their response schemas (zod), their
 * calculated cost, and the search-syntax quoting. Variables carry every value, so no SKU or
 * cursor is ever spliced into a GraphQL document.
 *
 * Cost rule (Shopify's documented one, which the sandbox implements): object 1, scalar 0,
 * connection 2 + first × (1 + nested objects of one node). A single query may request at most
 * {@link MAX_QUERY_COST}; page sizes below are derived from that, not guessed.
 */
import { z } from 'zod';

/** Shopify's single-query cost ceiling. */
export const MAX_QUERY_COST = 1_000;

/** Shopify's largest page (and largest `first`). */
export const MAX_PAGE_SIZE = 250;

/** Largest `first` for a connection whose node costs `nodeCost`, within one query's budget. */
export function maxFirst(nodeCost: number, overhead = 0): number {
  return Math.max(
    1,
    Math.min(MAX_PAGE_SIZE, Math.floor((MAX_QUERY_COST - overhead - 2) / nodeCost)),
  );
}

/** Requested cost of a connection of `first` nodes of `nodeCost` each. */
export function connectionCost(first: number, nodeCost: number): number {
  return 2 + first * nodeCost;
}

/**
 * Quotes a value for Shopify search syntax: single quotes, with `\` and `'` escaped by a
 * backslash. Double quotes, spaces, colons and `*` need nothing inside single quotes, and
 * quoting keeps `*` literal (no prefix match).
 */
export function quoteSearchValue(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** `sku:'A' OR sku:'B' …`: an exact match on any of `skus`. */
export function skuSearch(skus: readonly string[]): string {
  return skus.map((sku) => `sku:${quoteSearchValue(sku)}`).join(' OR ');
}

// ---------------------------------------------------------------------------------------------
// Response envelope.
// ---------------------------------------------------------------------------------------------

const Decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal string');

/** `extensions.cost.throttleStatus`. */
export const ThrottleStatusSchema = z.object({
  maximumAvailable: z.number(),
  currentlyAvailable: z.number(),
  restoreRate: z.number(),
});

/** `extensions.cost`. */
export const CostSchema = z.object({
  requestedQueryCost: z.number().nullable(),
  actualQueryCost: z.number().nullable(),
  throttleStatus: ThrottleStatusSchema,
});

/** One entry of top-level `errors[]`. */
export const GraphQLErrorSchema = z.object({
  message: z.string(),
  extensions: z.looseObject({ code: z.string().optional() }).optional(),
});

/** What one GraphQL call produced: data, or the errors Shopify put in a 200. */
export type GraphQLOutcome<T> =
  | {
      readonly kind: 'data';
      readonly data: T;
      readonly cost: z.output<typeof CostSchema> | undefined;
    }
  | {
      readonly kind: 'errors';
      readonly errors: readonly z.output<typeof GraphQLErrorSchema>[];
      readonly cost: z.output<typeof CostSchema> | undefined;
    };

/**
 * The response envelope around `data`. `data` is checked only when there are no `errors`
 * (Shopify answers THROTTLED with no data at all), and a mismatch is reported at its path.
 */
export function envelope<S extends z.ZodType>(data: S): z.ZodType<GraphQLOutcome<z.output<S>>> {
  return z
    .object({
      data: z.unknown().optional(),
      errors: z.array(GraphQLErrorSchema).optional(),
      extensions: z.looseObject({ cost: CostSchema.optional() }).optional(),
    })
    .transform((body, ctx): GraphQLOutcome<z.output<S>> => {
      const cost = body.extensions?.cost;
      if (body.errors !== undefined && body.errors.length > 0)
        return { kind: 'errors', errors: body.errors, cost };
      const parsed = data.safeParse(body.data);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        ctx.addIssue({
          code: 'custom',
          message: issue?.message ?? 'invalid',
          path: ['data', ...(issue?.path ?? [])],
        });
        return z.NEVER;
      }
      return { kind: 'data', data: parsed.data as z.output<S>, cost };
    }) as unknown as z.ZodType<GraphQLOutcome<z.output<S>>>;
}

// ---------------------------------------------------------------------------------------------
// Product content by SKU, and the SKU-ordered listing.
// ---------------------------------------------------------------------------------------------

const VARIANT_CONTENT = /* GraphQL */ `
  fragment VariantContent on ProductVariant {
    id
    sku
    product {
      id
      title
      descriptionHtml
      handle
      vendor
      tags
      status
      updatedAt
    }
  }
`;

/** A variant and its product (1 + 1 points per node). */
export const VARIANT_NODE_COST = 2;

/** Most SKUs one `ContentBySku` query may ask for: min(250, (1000 − 2) / 2) = 250. */
export const CONTENT_CHUNK = maxFirst(VARIANT_NODE_COST);

/** Variants by SKU: `$query` is {@link skuSearch}, `$first` the number of SKUs. */
export const CONTENT_BY_SKU = /* GraphQL */ `
  query ContentBySku($first: Int!, $query: String!) {
    productVariants(first: $first, query: $query) {
      nodes {
        ...VariantContent
      }
    }
  }
  ${VARIANT_CONTENT}
`;

/** Variants in SKU order after `$query` = `sku:>'<after>'`. */
export const LIST_CONTENT = /* GraphQL */ `
  query ListContent($first: Int!, $query: String) {
    productVariants(first: $first, sortKey: SKU, query: $query) {
      nodes {
        ...VariantContent
      }
    }
  }
  ${VARIANT_CONTENT}
`;

/** One ProductVariant with its product, as both content queries select it. */
export const VariantContentSchema = z.object({
  id: z.string(),
  sku: z.string().nullable(),
  product: z.object({
    id: z.string(),
    title: z.string(),
    descriptionHtml: z.string(),
    handle: z.string(),
    vendor: z.string().nullable(),
    tags: z.array(z.string()),
    status: z.string(),
    updatedAt: z.string(),
  }),
});

/** `data` of {@link CONTENT_BY_SKU} and {@link LIST_CONTENT}. */
export const VariantsDataSchema = z.object({
  productVariants: z.object({ nodes: z.array(VariantContentSchema) }),
});

// ---------------------------------------------------------------------------------------------
// Storefront orders.
// ---------------------------------------------------------------------------------------------

/** Line items fetched with each order; an order with more gets them from {@link ORDER_LINE_ITEMS}. */
export const ORDER_LINE_ITEMS_FIRST = 25;

/** Order 1 + totalPriceSet 1 + shopMoney 1 + customer 1 + lineItems (2 + 25 × 1) = 31. */
export const ORDER_NODE_COST = 4 + connectionCost(ORDER_LINE_ITEMS_FIRST, 1);

/** Most orders one `ChannelOrders` query may ask for: (1000 − 2) / 31 = 32. */
export const ORDERS_CHUNK = maxFirst(ORDER_NODE_COST);

const LINE_ITEMS = /* GraphQL */ `
  fragment LineItems on LineItemConnection {
    nodes {
      sku
      quantity
      currentQuantity
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
`;

/** WEB orders in order-number order after `$query` = `name:>'<after>'`. */
export const CHANNEL_ORDERS = /* GraphQL */ `
  query ChannelOrders($first: Int!, $query: String, $lineItems: Int!) {
    orders(first: $first, sortKey: ORDER_NUMBER, query: $query) {
      nodes {
        id
        name
        createdAt
        displayFinancialStatus
        displayFulfillmentStatus
        totalPriceSet {
          shopMoney {
            amount
            currencyCode
          }
        }
        customer {
          id
          tags
        }
        lineItems(first: $lineItems) {
          ...LineItems
        }
      }
    }
  }
  ${LINE_ITEMS}
`;

/** The rest of one order's line items (node 1 + 2 + 250 = 253 points). */
export const ORDER_LINE_ITEMS = /* GraphQL */ `
  query OrderLineItems($id: ID!, $after: String) {
    order(id: $id) {
      lineItems(first: 250, after: $after) {
        ...LineItems
      }
    }
  }
  ${LINE_ITEMS}
`;

/** Requested cost of {@link ORDER_LINE_ITEMS}. */
export const ORDER_LINE_ITEMS_COST = 1 + connectionCost(MAX_PAGE_SIZE, 1);

const LineItemsSchema = z.object({
  nodes: z.array(
    z.object({
      sku: z.string().nullable(),
      quantity: z.number().int(),
      currentQuantity: z.number().int(),
    }),
  ),
  pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
});

/** One order of {@link CHANNEL_ORDERS}. */
export const ChannelOrderSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  displayFinancialStatus: z.string().nullable(),
  displayFulfillmentStatus: z.string(),
  totalPriceSet: z.object({ shopMoney: z.object({ amount: Decimal, currencyCode: z.string() }) }),
  customer: z.object({ id: z.string(), tags: z.array(z.string()) }).nullable(),
  lineItems: LineItemsSchema,
});

/** `data` of {@link CHANNEL_ORDERS}. */
export const ChannelOrdersDataSchema = z.object({
  orders: z.object({ nodes: z.array(ChannelOrderSchema) }),
});

/** `data` of {@link ORDER_LINE_ITEMS}. */
export const OrderLineItemsDataSchema = z.object({
  order: z.object({ lineItems: LineItemsSchema }).nullable(),
});

/** A native order as validated. */
export type NativeOrder = z.output<typeof ChannelOrderSchema>;
/** A native variant with its product as validated. */
export type NativeVariant = z.output<typeof VariantContentSchema>;
/** A native line item as validated. */
export type NativeLineItem = z.output<typeof LineItemsSchema>['nodes'][number];

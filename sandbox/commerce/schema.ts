/**
 * The executable schema of the commerce sandbox: the SDL of ./sdl.ts with resolvers attached.
 * Root connections page through sort orders cached in {@link CommerceData}; a pure
 * `sku:A OR sku:B …` query is answered from the SKU index (./collections.ts). The mutations
 * `orderUpdate` and `orderCancel` change an order and report it through the context's `notify`
 * (the webhooks); refusals are `userErrors` / `orderCancelUserErrors`, as Shopify answers them.
 */
import { randomUUID } from 'node:crypto';
import {
  GraphQLError,
  GraphQLInterfaceType,
  GraphQLObjectType,
  buildSchema,
  responsePathAsArray,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import {
  paginate,
  type Connection,
  type KeyRange,
  type PageArgs,
  type SortKeyOf,
  type SortValue,
} from './connection.js';
import {
  CUSTOMERS,
  orderCollection,
  productSearch,
  variantCollection,
  type Collection,
} from './collections.js';
import type {
  CommerceData,
  OrderCancelReason,
  ShopCustomer,
  ShopLineItem,
  ShopNode,
  ShopOrder,
  ShopProduct,
  ShopVariant,
} from './data.js';
import {
  compileSearch,
  comparableValue,
  exactValuesOf,
  parseSearch,
  rangeTermsOf,
  SearchSyntaxError,
  type SearchNode,
  type SearchWarning,
} from './search.js';
import { SDL } from './sdl.js';

/** Largest `ids` list `nodes(ids:)` accepts (shopify.dev …/usage/limits: input arrays). */
export const MAX_IDS = 250;

/** Searches of one request, reported in `extensions.search` when they carried warnings. */
export interface SearchReport {
  readonly path: readonly (string | number)[];
  readonly query: string;
  readonly warnings: readonly SearchWarning[];
}

/** What a mutation did to an order, for the webhooks (Shopify's topic names). */
export type OrderChange = 'orders/updated' | 'orders/cancelled';

/** Per-request context of the resolvers. */
export interface CommerceContext {
  readonly data: CommerceData;
  readonly shopDomain: string;
  readonly searches: SearchReport[];
  /** The shop's clock (ms): `updatedAt`, `cancelledAt`. */
  readonly now: () => number;
  /** Reports a changed order (sends its webhook). */
  readonly notify: (change: OrderChange, order: ShopOrder) => void;
}

/** Longest tag Shopify accepts. */
export const MAX_TAG_LENGTH = 255;

/** A `UserError`: the input path that caused it and what went wrong. */
interface UserError {
  readonly field: readonly string[] | null;
  readonly message: string;
}

interface OrderUpdateArgs {
  readonly input: {
    readonly id: string;
    readonly note?: string | null;
    readonly tags?: readonly string[] | null;
  };
}

interface OrderCancelArgs {
  readonly orderId: string;
  readonly reason: OrderCancelReason;
  readonly refund: boolean;
  readonly restock: boolean;
}

/** The order a mutation names, or undefined. */
function orderNamed(context: CommerceContext, id: string): ShopOrder | undefined {
  const node = context.data.node(id);
  return node?.__typename === 'Order' ? node : undefined;
}

/** Stamps a change on an order and invalidates the cached sort orders. */
function touchOrder(context: CommerceContext, order: ShopOrder, at: number): void {
  order.updatedAt = new Date(at).toISOString();
  order.updatedAtMs = at;
  context.data.touch();
}

/** `orderUpdate(input:)`: the note and tags (Shopify's OrderInput, the subset the sandbox writes). */
function orderUpdate(context: CommerceContext, args: OrderUpdateArgs) {
  const { input } = args;
  const order = orderNamed(context, input.id);
  if (!order) {
    return {
      order: null,
      userErrors: [{ field: ['id'], message: `Order does not exist: ${input.id}` }],
    };
  }
  const tags =
    input.tags === undefined
      ? undefined
      : [...new Set((input.tags ?? []).map((tag) => tag.trim()).filter((tag) => tag !== ''))];
  const tooLong = tags?.findIndex((tag) => tag.length > MAX_TAG_LENGTH) ?? -1;
  if (tags && tooLong >= 0) {
    const errors: UserError[] = [
      {
        field: ['tags'],
        message: `Tag ${tooLong + 1} is too long (maximum is ${MAX_TAG_LENGTH} characters, got ${tags[tooLong]?.length ?? 0})`,
      },
    ];
    return { order, userErrors: errors };
  }
  if (input.note === undefined && tags === undefined) return { order, userErrors: [] };
  if (input.note !== undefined) order.note = input.note;
  if (tags !== undefined) order.tags = tags;
  touchOrder(context, order, context.now());
  context.notify('orders/updated', order);
  return { order, userErrors: [] };
}

/** An `orderCancel` refusal, in both the current and the deprecated error lists. */
function cancelRefused(code: 'NOT_FOUND' | 'INVALID', message: string) {
  const field = ['orderId'];
  return {
    job: null,
    orderCancelUserErrors: [{ code, field, message }],
    userErrors: [{ field, message }],
  };
}

/**
 * `orderCancel`: cancels at once (Shopify runs a job; the sandbox's is done when it answers).
 * An authorization is voided whatever `refund` says, a captured payment refunded when `refund`;
 * `restock` puts an unfulfilled order's quantities back on its variants.
 */
function orderCancel(context: CommerceContext, args: OrderCancelArgs) {
  const order = orderNamed(context, args.orderId);
  if (!order) return cancelRefused('NOT_FOUND', `Order does not exist: ${args.orderId}`);
  if (order.cancelledAt !== null) {
    return cancelRefused(
      'INVALID',
      `Order ${order.name} has already been cancelled (at ${order.cancelledAt})`,
    );
  }
  const at = context.now();
  order.cancelledAt = new Date(at).toISOString();
  order.cancelReason = args.reason;
  if (order.displayFinancialStatus === 'AUTHORIZED') order.displayFinancialStatus = 'VOIDED';
  else if (args.refund && order.displayFinancialStatus === 'PAID') {
    order.displayFinancialStatus = 'REFUNDED';
  }
  if (args.restock && order.displayFulfillmentStatus !== 'FULFILLED') {
    for (const item of order.lineItems) {
      const variant =
        item.variantId === null ? undefined : context.data.variants.get(item.variantId);
      if (variant) variant.inventoryQuantity += item.currentQuantity;
    }
  }
  touchOrder(context, order, at);
  context.notify('orders/cancelled', order);
  return {
    job: { id: `gid://shopify/Job/${randomUUID()}`, done: true },
    orderCancelUserErrors: [],
    userErrors: [],
  };
}

interface ConnectionArgs extends PageArgs {
  readonly sortKey?: string | null;
  readonly query?: string | null;
}

function compareValues(a: SortValue, b: SortValue): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The tightest bounds the query's top-level comparisons put on the sort key. */
function rangeOf<T extends ShopNode>(
  collection: Collection<T>,
  sortKey: string,
  root: SearchNode | null,
): KeyRange | undefined {
  const fieldName = collection.rangeFields[sortKey];
  const field = fieldName === undefined ? undefined : collection.search.fields[fieldName];
  if (fieldName === undefined || field === undefined) return undefined;
  let lower: KeyRange['lower'];
  let upper: KeyRange['upper'];
  for (const bound of rangeTermsOf(root, fieldName)) {
    const value = comparableValue(field.kind, bound.value);
    if (value === null) continue;
    const inclusive = bound.comparator === 'gte' || bound.comparator === 'lte';
    if (bound.comparator === 'gt' || bound.comparator === 'gte') {
      const c = lower === undefined ? 1 : compareValues(value, lower.value);
      if (c > 0 || (c === 0 && !inclusive)) lower = { value, inclusive };
    } else {
      const c = upper === undefined ? -1 : compareValues(value, upper.value);
      if (c < 0 || (c === 0 && !inclusive)) upper = { value, inclusive };
    }
  }
  return lower === undefined && upper === undefined
    ? undefined
    : { ...(lower && { lower }), ...(upper && { upper }) };
}

function sortedBy<T extends ShopNode>(records: Iterable<T>, key: SortKeyOf<T>): T[] {
  return [...records].sort((a, b) => compareValues(key(a), key(b)) || a.numericId - b.numericId);
}

/** Resolves one root connection: parse the search, pick the index or the sort order, page. */
function rootConnection<T extends ShopNode>(
  collectionOf: (data: CommerceData) => Collection<T>,
): GraphQLFieldResolver<unknown, CommerceContext, ConnectionArgs> {
  return (_source, args, context, info) => {
    const collection = collectionOf(context.data);
    const sortKey = args.sortKey ?? 'ID';
    const key = collection.sortKeys[sortKey];
    if (!key)
      throw new GraphQLError(`Unknown sortKey ${sortKey} for ${collection.name}`, {
        extensions: { code: 'BAD_REQUEST' },
      });
    let root: SearchNode | null;
    let predicate: (record: T) => boolean;
    try {
      root = args.query == null ? null : parseSearch(args.query);
      const compiled = compileSearch(root, collection.search);
      predicate = compiled.predicate;
      if (compiled.warnings.length > 0) {
        context.searches.push({
          path: responsePathAsArray(info.path),
          query: args.query ?? '',
          warnings: compiled.warnings,
        });
      }
    } catch (error) {
      if (error instanceof SearchSyntaxError)
        throw new GraphQLError(error.message, { extensions: { code: 'BAD_REQUEST' } });
      throw error;
    }
    const exact =
      collection.exact === undefined ? null : exactValuesOf(root, collection.exact.field);
    if (collection.exact && exact !== null) {
      // The index already holds exactly the matches: sort the few candidates, no scan.
      const candidates = sortedBy(collection.exact.lookup(context.data, exact), key);
      return paginate({ sorted: candidates, key, predicate: () => true }, args);
    }
    const sorted = context.data.sorted(`${collection.name}:${sortKey}`, () =>
      sortedBy(collection.records(context.data), key),
    );
    return paginate({ sorted, key, predicate, range: rangeOf(collection, sortKey, root) }, args);
  };
}

function byId<T extends ShopNode>(
  typename: T['__typename'],
): GraphQLFieldResolver<unknown, CommerceContext, { id: string }> {
  return (_source, args, context) => {
    const node = context.data.node(args.id);
    return node !== null && node.__typename === typename ? node : null;
  };
}

const VARIANT_SORT_KEYS: Readonly<Record<string, SortKeyOf<ShopVariant>>> = {
  ID: (v) => v.numericId,
  RELEVANCE: (v) => v.position,
  POSITION: (v) => v.position,
  SKU: (v) => v.sku,
  TITLE: (v) => v.title,
  INVENTORY_QUANTITY: (v) => v.inventoryQuantity,
};

type AnyResolver = GraphQLFieldResolver<unknown, CommerceContext, Record<string, unknown>>;

/** Erases a resolver's source and argument types; graphql-js checks neither at run time. */
function r<S, A>(
  fn: (source: S, args: A, context: CommerceContext, info: Parameters<AnyResolver>[3]) => unknown,
): AnyResolver {
  return fn as unknown as AnyResolver;
}

const resolvers: Record<string, Record<string, AnyResolver>> = {
  QueryRoot: {
    shop: r((_s: unknown, _a: unknown, context) => ({
      name: context.data.shopName,
      myshopifyDomain: context.shopDomain,
      currencyCode: context.data.currencyCode,
    })),
    node: r((_s: unknown, args: { id: string }, context) => context.data.node(args.id)),
    nodes: r((_s: unknown, args: { ids: readonly string[] }, context) => {
      if (args.ids.length > MAX_IDS) {
        throw new GraphQLError(
          `The input array size of ${args.ids.length} is greater than the maximum allowed of ${MAX_IDS}.`,
          { extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' } },
        );
      }
      return args.ids.map((id) => context.data.node(id));
    }),
    product: r(byId<ShopProduct>('Product')),
    productVariant: r(byId<ShopVariant>('ProductVariant')),
    order: r(byId<ShopOrder>('Order')),
    customer: r(byId<ShopCustomer>('Customer')),
    products: r(rootConnection(productSearch)),
    productVariants: r(rootConnection(variantCollection)),
    orders: r(rootConnection(orderCollection)),
    customers: r(rootConnection(() => CUSTOMERS)),
  },
  Product: {
    totalInventory: r((p: ShopProduct, _a: unknown, context) =>
      p.variantIds.reduce(
        (sum, id) => sum + (context.data.variants.get(id)?.inventoryQuantity ?? 0),
        0,
      ),
    ),
    variants: r((p: ShopProduct, args: ConnectionArgs, context): Connection<ShopVariant> => {
      const key = VARIANT_SORT_KEYS[args.sortKey ?? 'POSITION'] ?? ((v: ShopVariant) => v.position);
      const own = p.variantIds.flatMap((id) => context.data.variants.get(id) ?? []);
      return paginate({ sorted: sortedBy(own, key), key, predicate: () => true }, args);
    }),
  },
  ProductVariant: {
    displayName: r(
      (v: ShopVariant, _a: unknown, context) =>
        `${context.data.products.get(v.productId)?.title ?? ''} - ${v.title}`,
    ),
    product: r((v: ShopVariant, _a: unknown, context) => context.data.products.get(v.productId)),
  },
  Order: {
    customer: r((o: ShopOrder, _a: unknown, context) =>
      o.customerId === null ? null : (context.data.customers.get(o.customerId) ?? null),
    ),
    lineItems: r((o: ShopOrder, args: PageArgs): Connection<ShopLineItem> =>
      paginate({ sorted: o.lineItems, key: (l) => l.numericId, predicate: () => true }, args),
    ),
  },
  Mutation: {
    orderUpdate: r((_s: unknown, args: OrderUpdateArgs, context) => orderUpdate(context, args)),
    orderCancel: r((_s: unknown, args: OrderCancelArgs, context) => orderCancel(context, args)),
  },
  LineItem: {
    variant: r((l: ShopLineItem, _a: unknown, context) =>
      l.variantId === null ? null : (context.data.variants.get(l.variantId) ?? null),
    ),
  },
};

/** Builds the executable schema (graphql-js `buildSchema`, resolvers attached to its fields). */
export function createCommerceSchema(): GraphQLSchema {
  const schema = buildSchema(SDL);
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    if (!(type instanceof GraphQLObjectType))
      throw new Error(`schema has no object type ${typeName}`);
    const defs = type.getFields();
    for (const [fieldName, resolve] of Object.entries(fields)) {
      const def = defs[fieldName];
      if (!def) throw new Error(`schema has no field ${typeName}.${fieldName}`);
      def.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
    }
  }
  const node = schema.getType('Node');
  if (node instanceof GraphQLInterfaceType) {
    // Records carry their GraphQL type name; graphql-js's default type resolver reads it.
    node.resolveType = (value: { __typename?: string }) => value.__typename;
  }
  return schema;
}

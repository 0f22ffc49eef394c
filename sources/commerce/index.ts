/**
 * The commerce connector: product content and storefront orders from a Shopify-shaped Admin
 * GraphQL API. Every call goes through {@link createUpstream} (breaker, timeout, SourceError);
 * GraphQL errors inside a 200 are judged here: THROTTLED waits for the bucket once when the
 * wait fits the budget, anything else is SOURCE_REJECTED naming Shopify's error code.
 */
import type { CallObserver } from '../../observability/instruments.js';
import { setTimeout as delay } from 'node:timers/promises';
import type { z } from 'zod';
import type {
  ChannelOrderRecord,
  CommerceConnector,
  Capability,
  Page,
  PageRequest,
  ProductContentRecord,
  WebhookReceiver,
} from '../contract.js';
import { createUpstream, type BreakerOptions } from '../upstream.js';
import { toChannelOrder, toProductContent } from './mapping.js';
import { createCommerceWebhookReceiver } from './webhooks.js';
import {
  CHANNEL_ORDERS,
  CONTENT_BY_SKU,
  CONTENT_CHUNK,
  ChannelOrdersDataSchema,
  LIST_CONTENT,
  MAX_PAGE_SIZE,
  ORDERS_CHUNK,
  ORDER_LINE_ITEMS,
  ORDER_LINE_ITEMS_COST,
  ORDER_LINE_ITEMS_FIRST,
  ORDER_NODE_COST,
  OrderLineItemsDataSchema,
  VARIANT_NODE_COST,
  VariantsDataSchema,
  connectionCost,
  envelope,
  quoteSearchValue,
  skuSearch,
  type GraphQLOutcome,
  type NativeLineItem,
  type NativeOrder,
} from './queries.js';

/**
 * Configured name of the source.
 * @default 'commerce'
 */
export const DEFAULT_NAME = 'commerce';

/**
 * Admin API version in the endpoint path.
 * @default '2026-01'
 */
export const DEFAULT_API_VERSION = '2026-01';

/**
 * Largest page `listContent` and `listChannelOrders` ask for (further capped by the cost limit).
 * @default 100
 */
export const DEFAULT_PAGE_SIZE = 100;

/**
 * Longest the connector waits for the cost bucket to refill before one retry of a THROTTLED
 * query (or before sending a query the last known bucket cannot afford).
 * @default 2_000 // 2 seconds, the default request timeout
 */
export const DEFAULT_MAX_THROTTLE_WAIT_MS = 2_000;

/** Options of {@link createCommerceConnector}. */
export interface CommerceConnectorOptions {
  /**
   * Configured name of the source, in errors and health.
   * @default 'commerce' // DEFAULT_NAME
   */
  readonly name?: string | undefined;
  /** Shop origin, e.g. `https://example.myshopify.com` or `http://127.0.0.1:4104`. */
  readonly baseUrl: string;
  /**
   * Admin API version (`YYYY-MM`).
   * @default '2026-01' // DEFAULT_API_VERSION
   */
  readonly apiVersion?: string | undefined;
  /** Admin API access token, sent as `X-Shopify-Access-Token`. */
  readonly accessToken: string;
  /**
   * Per-request timeout.
   * @default 2_000 // upstream's DEFAULT_TIMEOUT_MS
   */
  readonly timeoutMs?: number | undefined;
  /**
   * Circuit breaker tuning.
   * @default DEFAULT_BREAKER of sources/upstream.ts
   */
  readonly breaker?: BreakerOptions | undefined;
  /** Told of every system call and breaker transition (observability/instruments.ts). */
  readonly observer?: CallObserver | undefined;
  /**
   * Largest page of the listings.
   * @default 100 // DEFAULT_PAGE_SIZE
   */
  readonly pageSize?: number | undefined;
  /**
   * Longest wait for the cost bucket before giving up with reason `throttled`.
   * @default 2_000 // DEFAULT_MAX_THROTTLE_WAIT_MS
   */
  readonly maxThrottleWaitMs?: number | undefined;
  /**
   * The app's webhook secret (Shopify's HMAC key). When set, the connector is a
   * {@link WebhookReceiver} (./webhooks.ts); when absent it receives none.
   * @default undefined // no webhooks
   */
  readonly webhookSecret?: string | undefined;
  /**
   * The shop webhooks must name in X-Shopify-Shop-Domain (one app's secret signs every shop it
   * is installed on).
   * @default the host of `baseUrl`
   */
  readonly shopDomain?: string | undefined;
}

/** The bucket as last reported in `extensions.cost.throttleStatus`, and when. */
export interface KnownThrottleStatus {
  readonly maximumAvailable: number;
  readonly currentlyAvailable: number;
  readonly restoreRate: number;
  /** Epoch ms of the response that reported it. */
  readonly at: number;
}

/** The commerce connector, plus the throttle status it tracks (and webhooks, when configured). */
export interface ShopifyCommerceConnector extends CommerceConnector, Partial<WebhookReceiver> {
  /** The last reported cost bucket, or `null` before the first answer. */
  throttleStatus(): KnownThrottleStatus | null;
}

const CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>(['content', 'channelOrders']);

const VariantsEnvelope = envelope(VariantsDataSchema);
const OrdersEnvelope = envelope(ChannelOrdersDataSchema);
const LineItemsEnvelope = envelope(OrderLineItemsDataSchema);

function positiveInteger(setting: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${setting}: expected an integer from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

function checkFirst(page: PageRequest): void {
  positiveInteger('first', page.first);
}

/** Makes the commerce connector. */
export function createCommerceConnector(
  options: CommerceConnectorOptions,
): ShopifyCommerceConnector {
  const name = options.name ?? DEFAULT_NAME;
  const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
  if (!/^(\d{4}-\d{2}|unstable)$/.test(apiVersion)) {
    throw new RangeError(
      `apiVersion: expected YYYY-MM or "unstable", got ${JSON.stringify(apiVersion)}`,
    );
  }
  if (options.accessToken === '')
    throw new RangeError('accessToken: expected a non-empty token, got ""');
  const pageSize = positiveInteger(
    'pageSize',
    options.pageSize ?? DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE - 1,
  );
  const maxThrottleWaitMs = options.maxThrottleWaitMs ?? DEFAULT_MAX_THROTTLE_WAIT_MS;
  const webhooks =
    options.webhookSecret === undefined
      ? null
      : createCommerceWebhookReceiver({
          name,
          secret: options.webhookSecret,
          shopDomain: options.shopDomain ?? new URL(options.baseUrl).host,
        });
  const upstream = createUpstream({
    name,
    kind: 'commerce',
    baseUrl: options.baseUrl,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.observer === undefined ? {} : { observer: options.observer }),
    ...(options.breaker === undefined ? {} : { breaker: options.breaker }),
  });
  const path = `admin/api/${apiVersion}/graphql.json`;
  const headers = { 'x-shopify-access-token': options.accessToken };
  let throttle: KnownThrottleStatus | null = null;
  let closing: Promise<void> | null = null;

  /** How long until the bucket, as last reported, holds `cost` points (0 if it does now). */
  const budgetWaitMs = (cost: number): number => {
    if (throttle === null) return 0;
    const restored = ((Date.now() - throttle.at) / 1000) * throttle.restoreRate;
    const available = Math.min(throttle.maximumAvailable, throttle.currentlyAvailable + restored);
    return cost <= available ? 0 : Math.ceil(((cost - available) / throttle.restoreRate) * 1000);
  };

  /** One GraphQL call: `what` names it in errors, `cost` is its requested cost. */
  async function call<T>(
    what: string,
    query: string,
    variables: Record<string, unknown>,
    schema: z.ZodType<GraphQLOutcome<T>>,
    cost: number,
  ): Promise<T> {
    const ahead = budgetWaitMs(cost);
    // Waiting a little beats being refused; a longer wait is left for the server to judge.
    if (ahead > 0 && ahead <= maxThrottleWaitMs) await delay(ahead);
    for (let attempt = 1; ; attempt++) {
      const outcome = await upstream.requestOk(
        { method: 'POST', path, headers, json: { query, variables }, what },
        schema,
      );
      if (outcome.cost) throttle = { ...outcome.cost.throttleStatus, at: Date.now() };
      if (outcome.kind === 'data') return outcome.data;

      const throttled = outcome.errors.find((e) => e.extensions?.code === 'THROTTLED');
      if (throttled === undefined) {
        const first = outcome.errors[0];
        const code = first?.extensions?.code ?? 'GRAPHQL_ERROR';
        throw upstream.error(
          'SOURCE_REJECTED',
          `${what} answered ${code}: ${first?.message ?? '(no message)'}`,
          `graphql_${code.toLowerCase()}`,
        );
      }
      const status = outcome.cost?.throttleStatus;
      const requested = outcome.cost?.requestedQueryCost ?? cost;
      const waitMs =
        status === undefined || status.restoreRate <= 0
          ? Number.POSITIVE_INFINITY
          : Math.max(
              0,
              Math.ceil(((requested - status.currentlyAvailable) / status.restoreRate) * 1000),
            );
      if (attempt === 1 && waitMs <= maxThrottleWaitMs) {
        await delay(waitMs);
        continue;
      }
      throw upstream.error(
        'SOURCE_UNAVAILABLE',
        `${what} was throttled: expected ${requested} cost points available, got ${status?.currentlyAvailable ?? 'unknown'} ` +
          `(restoring ${status?.restoreRate ?? 'unknown'}/s; ${attempt === 1 ? `a ${waitMs} ms wait exceeds the ${maxThrottleWaitMs} ms budget` : 'still throttled after one wait'})`,
        'throttled',
      );
    }
  }

  async function contentChunk(skus: readonly string[]): Promise<ProductContentRecord[]> {
    const data = await call(
      'productVariants',
      CONTENT_BY_SKU,
      { first: skus.length, query: skuSearch(skus) },
      VariantsEnvelope,
      connectionCost(skus.length, VARIANT_NODE_COST),
    );
    return data.productVariants.nodes.flatMap((node) => toProductContent(node) ?? []);
  }

  /** Every line item of `order`: the first page came with it, the rest is fetched by cursor. */
  async function linesOf(order: NativeOrder): Promise<NativeLineItem[]> {
    const lines = [...order.lineItems.nodes];
    let pageInfo = order.lineItems.pageInfo;
    while (pageInfo.hasNextPage && pageInfo.endCursor !== null) {
      const data = await call(
        'order.lineItems',
        ORDER_LINE_ITEMS,
        { id: order.id, after: pageInfo.endCursor },
        LineItemsEnvelope,
        ORDER_LINE_ITEMS_COST,
      );
      if (data.order === null) {
        throw upstream.error(
          'SOURCE_BAD_RESPONSE',
          `order ${order.id} vanished while paging its line items`,
          'vanished',
        );
      }
      lines.push(...data.order.lineItems.nodes);
      pageInfo = data.order.lineItems.pageInfo;
    }
    return lines;
  }

  return {
    name,
    kind: 'commerce',
    capabilities: CAPABILITIES,

    async contentBySku(skus: readonly string[]): Promise<(ProductContentRecord | null)[]> {
      // An empty SKU would be `sku:''`, which matches every variant without one: never ask.
      const unique = [...new Set(skus.filter((sku) => sku !== ''))];
      const chunks: string[][] = [];
      for (let i = 0; i < unique.length; i += CONTENT_CHUNK)
        chunks.push(unique.slice(i, i + CONTENT_CHUNK));
      const found = new Map<string, ProductContentRecord>();
      for (const records of await Promise.all(chunks.map(contentChunk))) {
        // Shopify matches `sku:` case-insensitively; the canonical key is the exact SKU.
        for (const record of records) if (!found.has(record.sku)) found.set(record.sku, record);
      }
      return skus.map((sku) => found.get(sku) ?? null);
    },

    async listContent(page: PageRequest): Promise<Page<ProductContentRecord>> {
      checkFirst(page);
      const first = Math.min(page.first, pageSize);
      const data = await call(
        'productVariants',
        LIST_CONTENT,
        {
          first: first + 1,
          query: page.after === undefined ? null : `sku:>${quoteSearchValue(page.after)}`,
        },
        VariantsEnvelope,
        connectionCost(first + 1, VARIANT_NODE_COST),
      );
      const nodes = data.productVariants.nodes;
      return {
        items: nodes.slice(0, first).flatMap((node) => toProductContent(node) ?? []),
        hasNextPage: nodes.length > first,
      };
    },

    async listChannelOrders(page: PageRequest): Promise<Page<ChannelOrderRecord>> {
      checkFirst(page);
      // One more than the page to learn hasNextPage, within the single-query cost limit.
      const first = Math.min(page.first, pageSize, ORDERS_CHUNK - 1);
      const data = await call(
        'orders',
        CHANNEL_ORDERS,
        {
          first: first + 1,
          query: page.after === undefined ? null : `name:>${quoteSearchValue(page.after)}`,
          lineItems: ORDER_LINE_ITEMS_FIRST,
        },
        OrdersEnvelope,
        connectionCost(first + 1, ORDER_NODE_COST),
      );
      const nodes = data.orders.nodes;
      const orders = nodes.slice(0, first);
      const lines = await Promise.all(orders.map(linesOf));
      return {
        items: orders.map((order, i) => toChannelOrder(order, lines[i] ?? [])),
        hasNextPage: nodes.length > first,
      };
    },

    throttleStatus: () => throttle,
    ...(webhooks === null ? {} : { receiveWebhook: webhooks.receiveWebhook }),
    health: () => upstream.health(),
    onStateChange: (listener) => upstream.onStateChange(listener),
    close: () => (closing ??= upstream.close()),
  };
}

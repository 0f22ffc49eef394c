/**
 * The sandbox commerce platform: a GraphQL Admin API in the shape of Shopify's
 * (`POST /admin/api/{version}/graphql.json`, `X-Shopify-Access-Token`), over the seed world.
 *
 * Built: Product, ProductVariant, Order (WEB channel), LineItem, Customer, Shop; root
 * connections `products`, `productVariants`, `orders`, `customers` with Relay paging, opaque
 * cursors, `sortKey`/`reverse` and the `query:` search grammar (sandbox/commerce/search.ts);
 * `node`, `nodes`, `product`, `productVariant`, `order`, `customer`; calculated query cost,
 * MAX_COST_EXCEEDED and a per-token leaky bucket with THROTTLED (sandbox/commerce/cost.ts).
 *
 * Mutations (sandbox/commerce/schema.ts): `orderUpdate(input: {id, note, tags})` →
 * `{order, userErrors}`; `orderCancel(orderId, reason, refund, restock, notifyCustomer,
 * staffNote)` → `{job {id done}, orderCancelUserErrors {code field message}, userErrors}`,
 * done at once (Shopify runs a job). Unknown ids answer NOT_FOUND / "Order does not exist", a
 * second cancel INVALID. Cancelling voids an authorization, refunds a payment when `refund`,
 * and with `restock` puts an unfulfilled order's quantities back on its variants.
 *
 * Webhooks (sandbox/commerce/webhooks.ts; webhook signing: shared/reference/wms-apis-and-webhooks.md §4): `orders/updated` from
 * orderUpdate, `orders/cancelled` from orderCancel, REST-shaped bodies, the X-Shopify-* headers
 * (Topic, Hmac-Sha256, Shop-Domain, API-Version, Webhook-Id and Triggered-At the same on every
 * retry, Event-Id) and a base64 HMAC-SHA256 of the raw body keyed with
 * `COMMERCE_SANDBOX.webhookSecret`. Delivery, retries and faults: sandbox/webhooks.ts.
 *
 * Left out (later issues or not needed yet): other mutations, `@idempotent`,
 * `changeFromQuantity`, webhook subscriptions through the API (`webhookSubscriptionCreate`;
 * the control plane registers instead), other topics, OrderCancelReason STAFF (outside the
 * webhook contract's `cancel_reason` set), refusing to cancel fulfilled orders or orders with
 * pending payments, the `refundMethod` input, OrderInput fields beyond note and tags,
 * InventoryItem/InventoryLevel/Location and the quantity
 * names, FulfillmentOrder/Fulfillment, bulk operations, the 25,000-reachable-items limit,
 * multiple variants per product, presentment currencies other than the shop's, relevance
 * ranking (RELEVANCE sorts by id), `extensions.search` beyond unknown-field warnings, the
 * 402/403/423 shop states, and the `Retry-After`-less 429 some clients see.
 */
import { randomUUID } from 'node:crypto';
import type { Express, Request, Response } from 'express';
import {
  GraphQLError,
  execute,
  getOperationAST,
  getVariableValues,
  parse,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
} from 'graphql';
import { actualCost, createCostBucket, requestedCost } from './commerce/cost.js';
import { buildCommerceData, type CommerceData } from './commerce/data.js';
import {
  createCommerceSchema,
  type CommerceContext,
  type SearchReport,
} from './commerce/schema.js';
import { sendOrderWebhook } from './commerce/webhooks.js';
import { COMMERCE_SANDBOX } from './credentials.js';
import { createSystemApp, type SystemControl } from './faults.js';
import type { SeedWorld } from './seed.js';
import { createWebhookDispatcher, shopifySigner, type WebhookOptions } from './webhooks.js';

/**
 * Bucket size in cost points (Shopify's `maximumAvailable`).
 * @default 2000
 */
export const DEFAULT_BUCKET_SIZE = 2_000;

/**
 * Points restored per second (Shopify's Standard plan).
 * @default 100
 */
export const DEFAULT_RESTORE_RATE = 100;

/**
 * Largest requested cost of a single query.
 * @default 1000
 */
export const DEFAULT_MAX_QUERY_COST = 1_000;

/** Options of {@link createCommerceApp}. */
export interface CommerceSandboxOptions {
  /**
   * Leaky bucket size per access token.
   * @default 2000 // DEFAULT_BUCKET_SIZE
   */
  readonly bucketSize?: number;
  /**
   * Points per second the bucket restores.
   * @default 100 // DEFAULT_RESTORE_RATE
   */
  readonly restoreRate?: number;
  /**
   * Largest requested cost of one query; above it, MAX_COST_EXCEEDED.
   * @default 1000 // DEFAULT_MAX_QUERY_COST
   */
  readonly maxQueryCost?: number;
  /**
   * API versions served; any other version in the path answers 404.
   * @default [COMMERCE_SANDBOX.apiVersion]
   */
  readonly apiVersions?: readonly string[];
  /**
   * The access token accepted in `X-Shopify-Access-Token`.
   * @default COMMERCE_SANDBOX.accessToken
   */
  readonly accessToken?: string;
  /**
   * Clock of the leaky bucket and of order changes, in ms (tests pass a fake one).
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Outbound webhook delivery (retry schedule, timeout).
   * @default {} // DEFAULT_RETRY_DELAYS_MS, 5 s timeout (Shopify's)
   */
  readonly webhooks?: WebhookOptions;
  /**
   * The app secret webhooks are signed with.
   * @default COMMERCE_SANDBOX.webhookSecret
   */
  readonly webhookSecret?: string;
}

const UNAUTHORIZED = '[API] Invalid API key or access token (unrecognized login or wrong password)';
const DOCS = 'https://shopify.dev/api/usage/rate-limits';

/** The commerce sandbox's express app and control plane. */
export function createCommerceApp(
  world: SeedWorld,
  options: CommerceSandboxOptions = {},
): { app: Express; control: SystemControl } {
  const bucketSize = options.bucketSize ?? DEFAULT_BUCKET_SIZE;
  const restoreRate = options.restoreRate ?? DEFAULT_RESTORE_RATE;
  const maxQueryCost = options.maxQueryCost ?? DEFAULT_MAX_QUERY_COST;
  const versions = new Set(options.apiVersions ?? [COMMERCE_SANDBOX.apiVersion]);
  const accessToken = options.accessToken ?? COMMERCE_SANDBOX.accessToken;
  const now = options.now ?? Date.now;
  const bucket = createCostBucket({ size: bucketSize, restoreRate, now });
  const data: CommerceData = buildCommerceData(world);
  const schema = createCommerceSchema();
  const webhooks = createWebhookDispatcher(
    shopifySigner(options.webhookSecret ?? COMMERCE_SANDBOX.webhookSecret),
    options.webhooks,
    now,
  );
  const shop = { shopDomain: COMMERCE_SANDBOX.shopDomain, apiVersion: COMMERCE_SANDBOX.apiVersion };

  const { app, control } = createSystemApp({
    system: 'commerce',
    onInjectedError: (res) => {
      res.status(503).json({ errors: 'Internal Server Error' });
    },
    onMalformed: (res) => {
      res.status(200).json({
        data: { productVariants: { nodes: [{ id: 5 }] }, orders: { nodes: [{ id: 5 }] } },
      });
    },
    webhooks,
  });

  app.post('/admin/api/:version/graphql.json', async (req: Request, res: Response) => {
    // Shopify names each response for its support (X-Request-Id); callers log it.
    res.setHeader('x-request-id', randomUUID());
    const version = String(req.params['version']);
    if (!versions.has(version)) {
      res.status(404).json({ errors: 'Not Found' });
      return;
    }
    const token = req.get('x-shopify-access-token');
    if (token !== accessToken) {
      res.status(401).json({ errors: UNAUTHORIZED });
      return;
    }
    const body: unknown = req.body;
    const { query, variables, operationName } = (
      typeof body === 'object' && body !== null ? body : {}
    ) as {
      query?: unknown;
      variables?: unknown;
      operationName?: unknown;
    };
    if (
      typeof query !== 'string' ||
      (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) ||
      (operationName != null && typeof operationName !== 'string')
    ) {
      res.status(400).json({ errors: { query: 'Required parameter missing or invalid' } });
      return;
    }
    const costOf = (requested: number, actual: number | null): Record<string, unknown> => ({
      cost: {
        requestedQueryCost: requested,
        actualQueryCost: actual,
        throttleStatus: bucket.status(token),
      },
    });
    const fail = (
      errors: readonly (GraphQLError | GraphQLFormattedError)[],
      requested = 0,
    ): void => {
      res.json({
        errors: errors.map((e) => (e instanceof GraphQLError ? e.toJSON() : e)),
        extensions: costOf(requested, requested === 0 ? 0 : null),
      });
    };

    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      if (error instanceof GraphQLError) return fail([error]);
      throw error;
    }
    const invalid = validate(schema, document);
    if (invalid.length > 0) return fail(invalid);
    const operation = getOperationAST(
      document,
      typeof operationName === 'string' ? operationName : undefined,
    );
    if (!operation) {
      return fail([
        new GraphQLError('An operation name is required when the document has several operations.'),
      ]);
    }
    const coerced = getVariableValues(
      schema,
      operation.variableDefinitions ?? [],
      (variables ?? {}) as Record<string, unknown>,
    );
    if (coerced.errors) return fail(coerced.errors);

    const requested = requestedCost(schema, document, operation, coerced.coerced);
    if (requested.errors.length > 0) return fail(requested.errors);
    if (requested.cost > maxQueryCost) {
      return fail(
        [
          {
            message: `Query cost is ${requested.cost}, which exceeds the single query max cost limit (${maxQueryCost}).`,
            extensions: {
              code: 'MAX_COST_EXCEEDED',
              cost: requested.cost,
              maxCost: maxQueryCost,
              documentation: DOCS,
            },
          },
        ],
        requested.cost,
      );
    }
    if (!bucket.take(token, requested.cost)) {
      return fail(
        [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: DOCS } }],
        requested.cost,
      );
    }

    const context: CommerceContext = {
      data,
      shopDomain: COMMERCE_SANDBOX.shopDomain,
      searches: [],
      now,
      // Triggered when the change was stamped on the order (its `updatedAt`).
      notify: (topic, order) => sendOrderWebhook(webhooks, shop, topic, order, order.updatedAtMs),
    };
    const result: ExecutionResult = await execute({
      schema,
      document,
      contextValue: context,
      variableValues: coerced.coerced,
      ...(typeof operationName === 'string' ? { operationName } : {}),
    });
    const actual = Math.min(
      requested.cost,
      actualCost(
        schema,
        document,
        operation,
        coerced.coerced,
        result.data as Record<string, unknown> | null | undefined,
      ),
    );
    bucket.refund(token, requested.cost - actual);
    res.json({
      ...(result.errors ? { errors: result.errors.map((e) => e.toJSON()) } : {}),
      data: result.data ?? null,
      extensions: { ...costOf(requested.cost, actual), ...searchExtension(context.searches) },
    });
  });

  return { app, control };
}

function searchExtension(searches: readonly SearchReport[]): Record<string, unknown> {
  return searches.length === 0 ? {} : { search: searches };
}

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
 * Left out (later issues or not needed yet): mutations and `userErrors`, `@idempotent`,
 * `changeFromQuantity`, webhooks, InventoryItem/InventoryLevel/Location and the quantity
 * names, FulfillmentOrder/Fulfillment, bulk operations, the 25,000-reachable-items limit,
 * multiple variants per product, presentment currencies other than the shop's, relevance
 * ranking (RELEVANCE sorts by id), `extensions.search` beyond unknown-field warnings, the
 * 402/403/423 shop states, and the `Retry-After`-less 429 some clients see.
 */
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
import { COMMERCE_SANDBOX } from './credentials.js';
import { createSystemApp, type SystemControl } from './faults.js';
import type { SeedWorld } from './seed.js';

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
   * Clock of the leaky bucket, in ms (tests pass a fake one).
   * @default Date.now
   */
  readonly now?: () => number;
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
  const bucket = createCostBucket({ size: bucketSize, restoreRate, now: options.now ?? Date.now });
  const data: CommerceData = buildCommerceData(world);
  const schema = createCommerceSchema();

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
  });

  app.post('/admin/api/:version/graphql.json', async (req: Request, res: Response) => {
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

/**
 * The sandbox ERP: an OData v4 API in the shape of Business Central API v2.0, over the seed
 * world, with an Entra-style client-credentials token endpoint and a partner custom API for
 * customer pricing (`api/crossdock/pricing/v1.0`).
 *
 *   POST   /{tenant}/oauth2/v2.0/token                                 (form or JSON body)
 *   GET    /v2.0/{tenant}/{environment}/api/v2.0/companies[({id})]
 *   GET    /v2.0/{tenant}/{environment}/api/v2.0/companies({id})/{set}[({id})[/{navigation}]]
 *          sets: items customers paymentTerms salesOrders salesOrderLines salesInvoices
 *                salesCreditMemos locations
 *   POST   .../companies({id})/salesOrders       deep insert of salesOrderLines → 201 + entity
 *   DELETE .../companies({id})/salesOrders({id}) If-Match required → 204
 *   POST   .../companies({id})/salesCreditMemos  deep insert of salesCreditMemoLines → 201
 *   POST   .../companies({id})/salesOrders({id})/Microsoft.NAV.shipAndInvoice
 *          bound action → 204; posts a salesInvoice (`PSI-…`, `orderNumber` = the order's)
 *   PATCH  .../companies({id})/customers({id})   If-Match required, {"blocked": " "|"Ship"|"Invoice"|"All"}
 *          → 200 + entity with a new ETag
 *   GET    /v2.0/{tenant}/{environment}/api/crossdock/pricing/v1.0/companies({id})/customerPrices
 *   GET    /v2.0/{tenant}/{environment}/api/crossdock/pricing/v1.0/companies({id})/customerPriceGroups
 *
 * A POST answers 201 with `Location`, `ETag` and the entity, honouring `$select` and `$expand`
 * (`?$expand=salesOrderLines` returns the deep-inserted lines). Numbers come from series that
 * continue after the seed (`SO-100121`, ...; credit memos `SCM-100001`, ...; invoices after the
 * last seeded `PSI-`). POST is not idempotent, as in BC. Validation and its errors:
 * `erp/writes.ts`. shipAndInvoice on an order with nothing left to invoice, or of a customer
 * blocked for shipping or invoicing, answers 400 `Application_DialogException`; PATCH without
 * `If-Match` answers 400 `BadRequest_InvalidToken`, with a stale one 409 `Request_EntityChanged`.
 *
 * Webhooks: BC's own (`subscriptions`) carry no data and no signature, so the sandbox models a
 * partner extension whose event subscribers post Standard Webhooks v1 (`webhook-id: msg_<ulid>`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` keyed with the decoded
 * `ERP_SANDBOX.webhookSecret`): `salesInvoice.posted` on shipAndInvoice and
 * `customer.creditStatusChanged` on a PATCH that changes `blocked` (`erp/webhooks.ts`; delivery,
 * retries and faults: `webhooks.ts`).
 *
 * Deliberately not reproduced (see the reference's "faithful BC sandbox" list):
 * - PATCH other than of a customer's `blocked`, POST/DELETE on other sets, POST of lines to an
 *   existing document, bound actions other than shipAndInvoice (post, release, ...): answered
 *   405 `BadRequest_MethodNotAllowed`;
 * - BC's own webhooks (`subscriptions`: handshake, 3-day expiry, 30 s merge, `collection`
 *   notifications), `$batch`, `$count`, `$metadata` documents;
 * - shipAndInvoice writes no salesShipments or item ledger entries, always posts every
 *   remaining quantity (no `shipQuantity`/`invoiceQuantity` partials) and keeps the order;
 * - throttling (429 after 6,000 requests / 5 min, 5 concurrent + 95 queued) and 408/504 limits;
 * - salesInvoiceLines, salesShipments, itemLedgerEntries; tax (every amount is tax-exempt);
 * - `$filter` beyond eq/ne/gt/ge/lt/le/and/or/in/contains/startswith/endswith (no `not`,
 *   arithmetic, tolower or nested calls of `$schemaversion=2.1`); `contains` and friends are
 *   case-insensitive here (BC on a case-insensitive collation; UNCONFIRMED);
 * - real BC deletes a fully posted (shipped and invoiced) sales order; the sandbox keeps
 *   invoiced orders in `salesOrders` so the order graph stays whole;
 * - `crossdockChannel` on salesOrders is not a BC field: it is what a partner table extension
 *   on Sales Header (exposed by an API page extension) would add, since BC has no channel;
 * - the token endpoint lives on the API host (Entra's is login.microsoftonline.com), accepts a
 *   JSON body as well as the form Entra requires, and issues opaque tokens, not JWTs;
 * - `$skiptoken` encodes a position in the result, not a key: an order created or deleted
 *   between two page requests can shift a page (BC's skip tokens are keys; keyset paging on
 *   `number gt '...'`, as the connector does, is not affected);
 * - a body that is not JSON answers 400 `BadRequest_InvalidToken` before the fault and
 *   statistics middleware sees the request.
 */
import { randomBytes } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { ERP_SANDBOX } from './credentials.js';
import { createSystemApp, type SystemControl } from './faults.js';
import type { SeedWorld } from './seed.js';
import { ODataError, bcErrorBody, sendODataError } from './erp/errors.js';
import { encodeSkipToken, parseQueryOptions, runQuery, shapeEntity } from './erp/query.js';
import { buildErpStore, type ErpStore } from './erp/store.js';
import type { Entity, EntitySet } from './erp/table.js';
import { createErpEvents } from './erp/webhooks.js';
import {
  createSalesCreditMemo,
  createSalesOrder,
  deleteSalesOrder,
  patchCustomer,
  shipAndInvoice,
  type WriteContext,
} from './erp/writes.js';
import {
  createWebhookDispatcher,
  standardWebhooksSigner,
  type WebhookOptions,
} from './webhooks.js';

/**
 * Lifetime of an access token.
 * @default 3600 // one hour, as Entra issues them
 */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/**
 * Most entities in one page; BC online fixes it at 20,000.
 * @default 20_000
 */
export const DEFAULT_MAX_PAGE_SIZE = 20_000;

/** Options of {@link createErpApp}. */
export interface ErpSandboxOptions {
  /**
   * Lifetime of issued access tokens, in seconds.
   * @default 3600
   */
  readonly tokenTtlSeconds?: number;
  /**
   * Largest page the server answers, whatever `Prefer: odata.maxpagesize` asks.
   * @default 20_000
   */
  readonly maxPageSize?: number;
  /**
   * The clock tokens expire by (ms since the epoch); tests move it to expire tokens.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Outbound webhook delivery (retry schedule, timeout).
   * @default {} // DEFAULT_RETRY_DELAYS_MS, 15 s timeout (Standard Webhooks)
   */
  readonly webhooks?: WebhookOptions;
  /**
   * The Standard Webhooks secret (`whsec_` + base64) events are signed with.
   * @default ERP_SANDBOX.webhookSecret
   */
  readonly webhookSecret?: string;
}

const COMPANY_NAME = 'CRONUS Crossdock Distribution';

const TokenRequest = z.object({
  grant_type: z.string(),
  client_id: z.string(),
  client_secret: z.string(),
  scope: z.string(),
});

/** Entra's error body (AADSTS codes) for a refused token request. */
function entraError(
  res: Response,
  status: number,
  error: string,
  code: number,
  description: string,
): void {
  res.status(status).json({
    error,
    error_description: `AADSTS${code}: ${description}`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
  });
}

/** API groups the sandbox publishes: BC's standard API and the partner pricing API. */
type ApiGroup = 'standard' | 'pricing';

function setsOf(store: ErpStore, group: ApiGroup): Readonly<Record<string, EntitySet>> {
  switch (group) {
    case 'standard':
      return {
        items: store.items,
        customers: store.customers,
        paymentTerms: store.paymentTerms,
        salesOrders: store.salesOrders,
        salesOrderLines: store.salesOrderLines,
        salesInvoices: store.salesInvoices,
        salesCreditMemos: store.salesCreditMemos,
        locations: store.locations,
      };
    case 'pricing':
      return {
        customerPrices: store.customerPrices,
        customerPriceGroups: store.customerPriceGroups,
      };
    default: {
      const never: never = group;
      throw new Error(`unknown API group ${String(never)}`);
    }
  }
}

const SEGMENT = /^([A-Za-z][A-Za-z0-9]*)(?:\(([^()]*)\))?$/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * The document writes of the sandbox, for the message of a refused method. (shipAndInvoice and
 * PATCH of a customer's `blocked` are left out of the text, which test/erp-sandbox.test.ts pins.)
 */
const WRITES =
  'POST salesOrders, DELETE salesOrders({id}), POST salesOrders({id})/Microsoft.NAV.shipAndInvoice, PATCH customers({id}) (blocked only) and POST salesCreditMemos';

/** The bound action that posts an order (BC's `Microsoft.NAV.shipAndInvoice`). */
const SHIP_AND_INVOICE = 'Microsoft.NAV.shipAndInvoice';

function methodNotAllowed(method: string, segment: string): ODataError {
  return new ODataError(
    405,
    'BadRequest_MethodNotAllowed',
    `'${method}' requests for '${segment}' are not supported by the sandbox; it writes ${WRITES}.`,
  );
}

/** True for body-parser's error on a body that is not JSON. */
function isBodyParseError(error: unknown): error is Error {
  return error instanceof Error && (error as { type?: unknown }).type === 'entity.parse.failed';
}

function notFoundSegment(segment: string): ODataError {
  return new ODataError(
    404,
    'BadRequest_NotFound',
    `Resource not found for the segment '${segment}'.`,
  );
}

function parseSegment(segment: string): { name: string; key: string | undefined } {
  const match = SEGMENT.exec(segment);
  if (!match?.[1]) throw notFoundSegment(segment);
  const key = match[2];
  if (key !== undefined && !GUID.test(key)) {
    throw new ODataError(
      400,
      'BadRequest_InvalidToken',
      `Bad Request - Error in query syntax: the key '${key}' of '${match[1]}' is not a GUID.`,
    );
  }
  return { name: match[1], key: key?.toLowerCase() };
}

/** Reads `odata.maxpagesize` from a `Prefer` header (RFC 7240, OData 4.0 §8.2.8.3). */
function preferredPageSize(header: string | undefined): number | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /^\s*odata\.maxpagesize\s*=\s*"?(\d{1,9})"?\s*$/i.exec(part);
    if (match?.[1]) {
      const size = Number(match[1]);
      if (size > 0) return size;
    }
  }
  return undefined;
}

/** A read-only entity set over a fixed list (a navigation's targets). */
function arraySet(name: string, shape: EntitySet['shape'], entities: readonly Entity[]): EntitySet {
  return {
    name,
    shape,
    naturalOrder: [],
    navigations: {},
    candidates: () => entities,
    byId: () => undefined,
  };
}

/** Builds the sandbox ERP's express app and its fault/stats control. */
export function createErpApp(
  world: SeedWorld,
  options: ErpSandboxOptions = {},
): { app: Express; control: SystemControl } {
  const ttlSeconds = options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  const maxPageSize = options.maxPageSize ?? DEFAULT_MAX_PAGE_SIZE;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new RangeError(
      `erp sandbox: tokenTtlSeconds: expected a positive integer, got ${ttlSeconds}`,
    );
  }
  if (!Number.isInteger(maxPageSize) || maxPageSize < 1) {
    throw new RangeError(
      `erp sandbox: maxPageSize: expected a positive integer, got ${maxPageSize}`,
    );
  }
  const creds = ERP_SANDBOX;
  const store = buildErpStore(world, { id: creds.companyId, name: COMPANY_NAME });
  const writes: WriteContext = { store, now, localCurrency: world.currencyCode };
  const webhooks = createWebhookDispatcher(
    standardWebhooksSigner(options.webhookSecret ?? creds.webhookSecret),
    options.webhooks,
    now,
  );
  const events = createErpEvents(webhooks, now);
  const tokens = new Map<string, { readonly tenant: string; readonly expiresAt: number }>();

  const { app, control } = createSystemApp({
    system: 'erp',
    onInjectedError: (res) => {
      res
        .status(503)
        .json(
          bcErrorBody(
            'Internal_TenantUnavailable',
            'The tenant is temporarily unavailable. Please try again later.',
          ),
        );
    },
    onMalformed: (res) => {
      res.status(200).json({ value: 'not-a-list' });
    },
    webhooks,
  });

  app.post(
    '/:tenant/oauth2/v2.0/token',
    express.urlencoded({ extended: false, limit: '16kb' }),
    (req, res) => {
      const tenant = String(req.params['tenant']);
      if (tenant !== creds.tenant) {
        entraError(res, 400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
        return;
      }
      const parsed = TokenRequest.safeParse(req.body ?? {});
      if (!parsed.success) {
        const missing = parsed.error.issues[0]?.path.join('.') ?? 'grant_type';
        entraError(
          res,
          400,
          'invalid_request',
          900144,
          `The request body must contain the following parameter: '${missing}'.`,
        );
        return;
      }
      const body = parsed.data;
      if (body.grant_type !== 'client_credentials') {
        entraError(
          res,
          400,
          'unsupported_grant_type',
          70003,
          `The app requested an unsupported grant type '${body.grant_type}'; expected 'client_credentials'.`,
        );
        return;
      }
      if (body.client_id !== creds.clientId) {
        entraError(
          res,
          400,
          'unauthorized_client',
          700016,
          `Application with identifier '${body.client_id}' was not found in the directory '${tenant}'.`,
        );
        return;
      }
      if (body.client_secret !== creds.clientSecret) {
        entraError(res, 401, 'invalid_client', 7000215, 'Invalid client secret provided.');
        return;
      }
      if (body.scope !== creds.scope) {
        entraError(
          res,
          400,
          'invalid_scope',
          1002012,
          `The provided value for scope ${body.scope} is not valid; expected '${creds.scope}'.`,
        );
        return;
      }
      const accessToken = randomBytes(24).toString('base64url');
      tokens.set(accessToken, { tenant, expiresAt: now() + ttlSeconds * 1000 });
      res.json({
        token_type: 'Bearer',
        expires_in: ttlSeconds,
        ext_expires_in: ttlSeconds,
        access_token: accessToken,
      });
    },
  );

  app.use((req, res, next) => {
    if (!req.path.startsWith('/v2.0/')) {
      next();
      return;
    }
    try {
      serveApi(req, res);
    } catch (error) {
      if (error instanceof ODataError) {
        sendODataError(res, error);
        return;
      }
      throw error;
    }
  });

  const authorized = (req: Request, tenant: string): boolean => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const token = match?.[1] ? tokens.get(match[1]) : undefined;
    if (!token || token.tenant !== tenant) return false;
    if (token.expiresAt <= now()) {
      tokens.delete(match?.[1] ?? '');
      return false;
    }
    return true;
  };

  function serveApi(req: Request, res: Response): void {
    const segments = req.path
      .split('/')
      .slice(2)
      .map((s) => decodeURIComponent(s));
    const [tenant = '', environment = '', api = '', ...rest] = segments;
    if (!authorized(req, tenant)) {
      res.setHeader(
        'WWW-Authenticate',
        `Bearer authorization_uri="https://login.microsoftonline.com/${tenant}/oauth2/authorize"`,
      );
      throw new ODataError(
        401,
        'Authentication_InvalidCredentials',
        'The server has rejected the client credentials.',
      );
    }
    if (environment !== creds.environment) {
      throw new ODataError(
        404,
        'BadRequest_NotFound',
        `The environment '${environment}' does not exist in tenant '${tenant}'.`,
      );
    }
    if (api !== 'api') throw notFoundSegment(api);
    let group: ApiGroup;
    let apiPath: string;
    if (rest[0] === 'v2.0') {
      group = 'standard';
      apiPath = 'v2.0';
      rest.shift();
    } else if (rest[0] === 'crossdock' && rest[1] === 'pricing' && rest[2] === 'v1.0') {
      group = 'pricing';
      apiPath = 'crossdock/pricing/v1.0';
      rest.splice(0, 3);
    } else {
      throw notFoundSegment(rest.join('/'));
    }
    const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    const contextBase = `${origin}/v2.0/${tenant}/${environment}/api/${apiPath}/$metadata#`;
    const [companySegment = '', setSegment, keyedNavigation, ...tooDeep] = rest;
    if (tooDeep.length > 0) throw notFoundSegment(tooDeep.join('/'));
    const method = req.method;
    if (method !== 'GET' && method !== 'POST' && method !== 'DELETE' && method !== 'PATCH') {
      throw methodNotAllowed(method, setSegment ?? companySegment);
    }
    const params = new URL(req.originalUrl, origin).searchParams;
    const company = parseSegment(companySegment);
    if (company.name !== 'companies') throw notFoundSegment(company.name);

    if (setSegment === undefined) {
      if (method !== 'GET') throw methodNotAllowed(method, companySegment);
      if (company.key === undefined) {
        sendList(req, res, store.companies, params, `${contextBase}companies`);
      } else {
        sendEntity(
          res,
          store.companies,
          company.key,
          params,
          `${contextBase}companies/$entity`,
          'companies',
        );
      }
      return;
    }
    if (company.key === undefined || store.companies.byId(company.key) === undefined) {
      throw new ODataError(
        404,
        'Internal_CompanyNotFound',
        `The company '${company.key ?? ''}' does not exist.`,
      );
    }
    const scope = `${contextBase}companies(${company.key})/`;
    const target = parseSegment(setSegment);
    const set = setsOf(store, group)[target.name];
    if (!set) throw notFoundSegment(target.name);
    if (method !== 'GET') {
      const where = keyedNavigation ?? setSegment;
      if (group !== 'standard') throw methodNotAllowed(method, where);
      const keyed = target.key === undefined ? '' : '({id})';
      const route = `${method} ${set.name}${keyed}${keyedNavigation === undefined ? '' : `/${keyedNavigation}`}`;
      switch (route) {
        case 'POST salesOrders':
          sendCreated(req, res, set, createSalesOrder(writes, req.body), params, scope);
          return;
        case 'POST salesCreditMemos':
          sendCreated(req, res, set, createSalesCreditMemo(writes, req.body), params, scope);
          return;
        case 'DELETE salesOrders({id})':
          deleteSalesOrder(writes, target.key ?? '', req.get('if-match'));
          res.status(204).end();
          return;
        case `POST salesOrders({id})/${SHIP_AND_INVOICE}`: {
          const invoice = shipAndInvoice(writes, target.key ?? '');
          events.invoicePosted(invoice.row);
          res.status(204).end();
          return;
        }
        case 'PATCH customers({id})': {
          const patched = patchCustomer(writes, target.key ?? '', req.get('if-match'), req.body);
          if (patched.entity.row.blocked !== patched.previousBlocked) {
            events.creditStatusChanged(patched.entity.row, patched.previousBlocked);
          }
          sendUpdated(res, set, patched.entity, params, `${scope}${set.name}/$entity`);
          return;
        }
        default:
          throw methodNotAllowed(method, where);
      }
    }
    if (target.key === undefined) {
      if (keyedNavigation !== undefined) throw notFoundSegment(keyedNavigation);
      sendList(req, res, set, params, `${scope}${set.name}`);
      return;
    }
    if (keyedNavigation === undefined) {
      sendEntity(res, set, target.key, params, `${scope}${set.name}/$entity`, set.name);
      return;
    }
    const parent = set.byId(target.key);
    if (!parent) throw notFoundSegment(set.name);
    const navigation = set.navigations[keyedNavigation];
    if (!navigation?.collection) throw notFoundSegment(keyedNavigation);
    const children = arraySet(keyedNavigation, navigation.shape, navigation.related(parent));
    sendList(req, res, children, params, `${scope}${set.name}(${target.key})/${keyedNavigation}`);
  }

  function sendList(
    req: Request,
    res: Response,
    set: EntitySet,
    params: URLSearchParams,
    context: string,
  ): void {
    const query = parseQueryOptions(params, set);
    const preferred = preferredPageSize(req.get('prefer'));
    const pageSize = Math.min(preferred ?? maxPageSize, maxPageSize);
    const page = runQuery(set, query, pageSize);
    const body: Record<string, unknown> = {
      '@odata.context': query.select ? `${context}(${query.select.join(',')})` : context,
      value: page.entities.map((entity) =>
        shapeEntity(entity, query.select, query.expand, set.navigations),
      ),
    };
    if (page.more) {
      const next = new URLSearchParams(params);
      next.set('$skiptoken', encodeSkipToken(query.offset + page.entities.length));
      const search = [...next]
        .map(
          ([key, value]) =>
            `${encodeURIComponent(key).replaceAll('%24', '$')}=${encodeURIComponent(value)}`,
        )
        .join('&');
      // Absolute and opaque, as BC gives it (`$` left as is); the client sends it back unchanged.
      body['@odata.nextLink'] =
        `${req.protocol}://${req.get('host') ?? 'localhost'}${req.path}?${search}`;
    }
    if (preferred !== undefined)
      res.setHeader('Preference-Applied', `odata.maxpagesize=${pageSize}`);
    res.setHeader('OData-Version', '4.0');
    res.json(body);
  }

  /** 201 Created: the new entity with its `Location` and `ETag` (OData 4.0 §11.4.2). */
  function sendCreated(
    req: Request,
    res: Response,
    set: EntitySet,
    entity: Entity,
    params: URLSearchParams,
    scope: string,
  ): void {
    const query = parseQueryOptions(params, set);
    const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    res
      .status(201)
      .setHeader('OData-Version', '4.0')
      .setHeader('ETag', entity.etag)
      .setHeader('Location', `${origin}${req.path}(${String(entity.row['id'])})`);
    res.json({
      '@odata.context': `${scope}${set.name}/$entity`,
      ...shapeEntity(entity, query.select, query.expand, set.navigations),
    });
  }

  /** 200 OK after a PATCH: the entity with its new `ETag` (OData 4.0 §11.4.3). */
  function sendUpdated(
    res: Response,
    set: EntitySet,
    entity: Entity,
    params: URLSearchParams,
    context: string,
  ): void {
    const query = parseQueryOptions(params, set);
    res.setHeader('OData-Version', '4.0').setHeader('ETag', entity.etag);
    res.json({
      '@odata.context': context,
      ...shapeEntity(entity, query.select, query.expand, set.navigations),
    });
  }

  function sendEntity(
    res: Response,
    set: EntitySet,
    id: string,
    params: URLSearchParams,
    context: string,
    segment: string,
  ): void {
    const query = parseQueryOptions(params, set);
    const entity = set.byId(id);
    if (!entity) throw notFoundSegment(segment);
    res.setHeader('OData-Version', '4.0');
    res.json({
      '@odata.context': context,
      ...shapeEntity(entity, query.select, query.expand, set.navigations),
    });
  }

  // Registered last: body-parser fails before any route, and an express error handler sees it.
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (isBodyParseError(error) && req.path.startsWith('/v2.0/')) {
      sendODataError(
        res,
        new ODataError(
          400,
          'BadRequest_InvalidToken',
          `The request body is not valid JSON: ${error.message}`,
        ),
      );
      return;
    }
    next(error);
  });

  return { app, control };
}

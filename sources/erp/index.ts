/**
 * The ERP connector: Business Central API v2.0 (OData v4) for items, customers, sales orders
 * and invoices, plus a partner custom API (`crossdock/pricing/v1.0`) for customer price groups
 * and customer prices. OAuth2 client credentials against Entra, tokens cached until shortly
 * before expiry and renewed once on a 401. Batches become `$filter=<key> in (...)` requests of
 * at most {@link DEFAULT_MAX_KEYS_PER_REQUEST} keys; listings page by key (`number gt 'after'`).
 *
 * Writes (paths under `v2.0/companies({company})/`; BC's POST is not idempotent, so every
 * create looks its reference up first, and those look-ups go to the primary, never to a
 * read-only replica that may not have the previous attempt's document yet):
 *   createSalesOrder(d)            GET  salesOrders?$filter=externalDocumentNumber eq 'D.EXT'&$select=…&$expand=salesOrderLines&$orderby=number asc
 *                                  then, only when none: POST salesOrders?$expand=salesOrderLines (deep insert)
 *   findSalesOrderByExternalNumber the same GET
 *   cancelSalesOrder(n)            GET  salesOrders?$filter=number eq 'n'&$select=…&$expand=salesOrderLines
 *                                  DELETE salesOrders({id}) with If-Match: <@odata.etag>; on 409 once more from the GET
 *   createReturn(d)                GET  salesCreditMemos?$filter=externalDocumentNumber eq 'D.REF'&$select=id,number,externalDocumentNumber,customerNumber&$orderby=number asc
 *                                  then, only when none: POST salesCreditMemos (deep insert of salesCreditMemoLines)
 * References are written and looked up upper-cased (BC's Code[35] `External Document No.`).
 * Concurrent calls with one reference share one attempt. BC business errors (`Application_*`)
 * become SOURCE_REJECTED with reason `business_rule` and BC's message.
 *
 * The order listing filters in the ERP, each clause only when asked (a quote in a value doubled,
 * OData's SQUOTE-in-string), the external document number as given, not upper-cased:
 *   listOrders(p, f)               GET  salesOrders?$filter=number gt 'after' and customerNumber eq 'c' and crossdockChannel in (…) and externalDocumentNumber eq 'r'&…&$orderby=number asc
 */
import type { CallObserver } from '../../observability/instruments.js';
import type { z } from 'zod';
import {
  SourceError,
  type Capability,
  type CatalogFilter,
  type CatalogItemRecord,
  type CustomerFilter,
  type CustomerPriceRecord,
  type CustomerRecord,
  type ErpConnector,
  type InvoiceRecord,
  type OrderFilter,
  type OrderRecord,
  type Page,
  type PageRequest,
  type ReturnDraft,
  type ReturnRecord,
  type SalesOrderDraft,
  type WebhookReceiver,
} from '../contract.js';
import { createTokenCache, type IssuedToken } from '../token.js';
import {
  createUpstream,
  type BreakerOptions,
  type Upstream,
  type UpstreamRequest,
  type UpstreamResponse,
} from '../upstream.js';
import {
  AnyBody,
  BcErrorBody,
  CUSTOMER_SELECT,
  NativeCustomer,
  NativeCustomerPrice,
  NativeCustomerPriceGroup,
  NativeItem,
  NativeSalesCreditMemo,
  NativeSalesInvoice,
  NativeSalesOrder,
  NativeSalesOrderWithEtag,
  SALES_ORDER_SELECT,
  TokenResponse,
  bcBlockedOf,
  bcCode,
  bcErrorOf,
  creditMemoBody,
  decimalToNumber,
  fieldsOf,
  salesOrderBody,
  pageOf,
  toCatalogItem,
  toCustomer,
  toCustomerPrice,
  toInvoice,
  toOrder,
} from './mapping.js';
import { createErpWebhookReceiver } from './webhooks.js';
import {
  and,
  chunk,
  contains,
  eq,
  gt,
  inList,
  preferMaxPageSize,
  queryParams,
  type ODataQuery,
} from './odata.js';

/** Default configured name of the ERP source. */
export const DEFAULT_ERP_NAME = 'erp';

/**
 * Default `Prefer: odata.maxpagesize` of listings.
 * @default 200
 */
export const DEFAULT_PAGE_SIZE = 200;

/**
 * Keys per `$filter=... in (...)` request. 250 keeps a DataLoader batch of a GraphQL page
 * (≤ 250) at one request while the URL stays near 8 KB (250 SKUs of ~15 encoded characters).
 * @default 250
 */
export const DEFAULT_MAX_KEYS_PER_REQUEST = 250;

/**
 * Path of the partner pricing API under `/api/`.
 * @default 'crossdock/pricing/v1.0'
 */
export const DEFAULT_PRICING_API_PATH = 'crossdock/pricing/v1.0';

/**
 * Currency of amounts BC reports without one (items; `currencyCode` '' means local currency).
 * @default 'USD'
 */
export const DEFAULT_LOCAL_CURRENCY = 'USD';

/** What the ERP connector serves. */
export const ERP_CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>([
  'catalog',
  'pricing',
  'customers',
  'orders',
  'invoices',
  'orderWrites',
]);

/** Options of {@link createErpConnector}. */
export interface ErpConnectorOptions {
  /**
   * Configured name of the source, in errors and health.
   * @default 'erp'
   */
  readonly name?: string;
  /** Origin of the BC API, e.g. `https://api.businesscentral.dynamics.com`. */
  readonly baseUrl: string;
  /** Entra tenant (id or domain). */
  readonly tenant: string;
  /** BC environment name, e.g. `production`. */
  readonly environment: string;
  /** Company id (GUID). */
  readonly companyId: string;
  /** Entra application (client) id registered in BC's "Microsoft Entra Applications". */
  readonly clientId: string;
  /** Its client secret. */
  readonly clientSecret: string;
  /** OAuth scope, e.g. `https://api.businesscentral.dynamics.com/.default`. */
  readonly scope: string;
  /**
   * Token endpoint.
   * @default `${baseUrl}/${tenant}/oauth2/v2.0/token`
   */
  readonly tokenUrl?: string;
  /**
   * Per-call timeout in ms.
   * @default 2_000 (upstream DEFAULT_TIMEOUT_MS)
   */
  readonly timeoutMs?: number;
  /**
   * Breaker tuning.
   * @default DEFAULT_BREAKER of sources/upstream.ts
   */
  readonly breaker?: BreakerOptions;
  /** Told of every system call and breaker transition (observability/instruments.ts). */
  readonly observer?: CallObserver | undefined;
  /**
   * `Prefer: odata.maxpagesize` of listings (1..20,000).
   * @default 200
   */
  readonly pageSize?: number;
  /**
   * Keys per batch request.
   * @default 250
   */
  readonly maxKeysPerRequest?: number;
  /**
   * Path of the pricing custom API under `/api/`.
   * @default 'crossdock/pricing/v1.0'
   */
  readonly pricingApiPath?: string;
  /**
   * Local currency code of the company.
   * @default 'USD'
   */
  readonly localCurrency?: string;
  /**
   * The `whsec_…` secret the Crossdock extension signs its Standard Webhooks with. When set, the
   * connector is a {@link WebhookReceiver} (./webhooks.ts); when absent it receives none.
   * @default undefined // no webhooks
   */
  readonly webhookSecret?: string | undefined;
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function invalid(option: string, expected: string, got: unknown): Error {
  return new Error(`erp connector: ${option}: expected ${expected}, got ${JSON.stringify(got)}`);
}

function checkOptions(options: ErpConnectorOptions): void {
  const urlOk = (value: string | undefined): boolean => {
    if (value === undefined) return true;
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  };
  if (!urlOk(options.baseUrl)) throw invalid('baseUrl', 'an http(s) URL', options.baseUrl);
  if (!urlOk(options.tokenUrl)) throw invalid('tokenUrl', 'an http(s) URL', options.tokenUrl);
  for (const key of ['tenant', 'environment', 'clientId', 'clientSecret', 'scope'] as const) {
    if (typeof options[key] !== 'string' || options[key].length === 0)
      throw invalid(key, 'a non-empty string', options[key]);
  }
  if (!GUID.test(options.companyId)) throw invalid('companyId', 'a GUID', options.companyId);
  const { pageSize, maxKeysPerRequest } = options;
  if (
    pageSize !== undefined &&
    (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 20_000)
  ) {
    throw invalid('pageSize', 'an integer from 1 to 20000', pageSize);
  }
  if (
    maxKeysPerRequest !== undefined &&
    (!Number.isInteger(maxKeysPerRequest) || maxKeysPerRequest < 1)
  ) {
    throw invalid('maxKeysPerRequest', 'a positive integer', maxKeysPerRequest);
  }
}

function checkPage(page: PageRequest): void {
  if (!Number.isInteger(page.first) || page.first < 1) {
    throw new RangeError(`erp: first: expected a positive integer, got ${page.first}`);
  }
}

/** Makes the ERP connector. Options are validated here; a bad one throws naming it. */
export function createErpConnector(
  options: ErpConnectorOptions,
): ErpConnector & Partial<WebhookReceiver> {
  checkOptions(options);
  const name = options.name ?? DEFAULT_ERP_NAME;
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const maxKeys = options.maxKeysPerRequest ?? DEFAULT_MAX_KEYS_PER_REQUEST;
  const localCurrency = options.localCurrency ?? DEFAULT_LOCAL_CURRENCY;
  const webhooks =
    options.webhookSecret === undefined
      ? null
      : createErpWebhookReceiver({ name, secret: options.webhookSecret, localCurrency });
  const pricingApi = (options.pricingApiPath ?? DEFAULT_PRICING_API_PATH).replace(/^\/+|\/+$/g, '');
  const origin = options.baseUrl.replace(/\/+$/, '');
  const tenant = encodeURIComponent(options.tenant);
  const tokenUrl = options.tokenUrl ?? `${origin}/${tenant}/oauth2/v2.0/token`;

  const upstreamOptions = {
    name,
    kind: 'erp' as const,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.observer === undefined ? {} : { observer: options.observer }),
    ...(options.breaker === undefined ? {} : { breaker: options.breaker }),
  };
  const upstream = createUpstream({
    ...upstreamOptions,
    baseUrl: `${origin}/v2.0/${tenant}/${encodeURIComponent(options.environment)}/api/`,
  });
  // Entra lives on another host in production; the sandbox serves both from one.
  const tokenUpstream: Upstream =
    new URL(tokenUrl).origin === new URL(upstream.baseUrl).origin
      ? upstream
      : createUpstream({ ...upstreamOptions, baseUrl: new URL(tokenUrl).origin });

  const company = `companies(${options.companyId.toLowerCase()})`;
  const standard = (set: string): string => `v2.0/${company}/${set}`;
  const pricing = (set: string): string => `${pricingApi}/${company}/${set}`;

  // --- auth ---------------------------------------------------------------------------------
  const fetchToken = async (): Promise<IssuedToken> => {
    // Entra accepts only application/x-www-form-urlencoded token requests.
    const res = await tokenUpstream.request(
      {
        method: 'POST',
        path: tokenUrl,
        form: {
          grant_type: 'client_credentials',
          client_id: options.clientId,
          client_secret: options.clientSecret,
          scope: options.scope,
        },
        what: 'token',
      },
      TokenResponse,
    );
    if (!res.ok) {
      const body = res.body as { error?: unknown; error_description?: unknown } | null;
      const detail =
        typeof body?.error === 'string'
          ? `${body.error}: ${String(body.error_description ?? '')}`
          : JSON.stringify(res.body);
      throw upstream.error(
        'SOURCE_REJECTED',
        `token answered HTTP ${res.status}: ${detail.slice(0, 300)}`,
        'auth_failed',
      );
    }
    return { accessToken: res.body.access_token, expiresInSeconds: res.body.expires_in };
  };
  const tokens = createTokenCache(fetchToken);

  // --- requests -----------------------------------------------------------------------------
  /** One call with the bearer; a 401 drops the token and retries once (nothing was written). */
  const send = async <S extends z.ZodType>(
    req: UpstreamRequest,
    schema: S,
  ): Promise<UpstreamResponse<z.output<S>>> => {
    const attempt = (bearer: string) =>
      upstream.request(
        { ...req, headers: { ...req.headers, authorization: `Bearer ${bearer}` } },
        schema,
      );
    let bearer = await tokens.get();
    let res = await attempt(bearer);
    if (!res.ok && res.status === 401) {
      // Revoked or expired early: forget this token (unless a caller already replaced it), retry once.
      tokens.invalidate(bearer);
      bearer = await tokens.get();
      res = await attempt(bearer);
    }
    return res;
  };

  /**
   * Where a read is answered: BC may serve `ReadOnly` reads from a replica, sparing the primary;
   * the look-ups that guard a write must see the previous write, so they ask the primary.
   */
  type Intent = 'ReadOnly' | 'ReadWrite';

  const get = async <S extends z.ZodType>(
    what: string,
    path: string,
    query: ODataQuery | undefined,
    maxPageSize: number,
    schema: S,
    intent: Intent = 'ReadOnly',
  ): Promise<z.output<S>> => {
    const res = await send(
      {
        path,
        ...(query ? { query: queryParams(query) } : {}),
        headers: {
          prefer: preferMaxPageSize(maxPageSize),
          ...(intent === 'ReadOnly' ? { 'data-access-intent': 'ReadOnly' } : {}),
        },
        what,
      },
      schema,
    );
    if (!res.ok) {
      const parsed = BcErrorBody.safeParse(res.body);
      const detail = parsed.success
        ? `${parsed.data.error.code}: ${parsed.data.error.message}`
        : JSON.stringify(res.body);
      throw upstream.error(
        'SOURCE_REJECTED',
        `${what} answered HTTP ${res.status} ${detail.slice(0, 300)}`,
        res.status === 401 ? 'unauthorized' : `http_${res.status}`,
      );
    }
    return res.body;
  };

  /** Every entity of a query, following `@odata.nextLink` to the end. */
  const getAll = async <S extends z.ZodType>(
    what: string,
    path: string,
    query: ODataQuery,
    maxPageSize: number,
    item: S,
    intent: Intent = 'ReadOnly',
  ): Promise<z.output<S>[]> => {
    const schema = pageOf(item);
    const out: z.output<S>[] = [];
    let page = await get(what, path, query, maxPageSize, schema, intent);
    out.push(...page.value);
    const seen = new Set<string>();
    while (page['@odata.nextLink'] !== undefined) {
      const link = page['@odata.nextLink'];
      if (seen.has(link))
        throw upstream.error(
          'SOURCE_BAD_RESPONSE',
          `${what} repeated the nextLink ${link}`,
          'paging_loop',
        );
      seen.add(link);
      page = await get(what, link, undefined, maxPageSize, schema, intent);
      out.push(...page.value);
    }
    return out;
  };

  /** Looks keys up in chunks; answers in key order with null for unknown keys. */
  const byKeys = async <T>(
    keys: readonly string[],
    fetchChunk: (chunk: readonly string[]) => Promise<readonly T[]>,
    keyOf: (record: T) => string,
  ): Promise<(T | null)[]> => {
    const found = new Map<string, T>();
    for (const part of chunk([...new Set(keys)], maxKeys)) {
      for (const record of await fetchChunk(part)) found.set(keyOf(record), record);
    }
    return keys.map((key) => found.get(key) ?? null);
  };

  const batchPageSize = Math.max(pageSize, maxKeys);

  // --- customers ----------------------------------------------------------------------------
  const priceGroupsOf = async (numbers: readonly string[]): Promise<Map<string, string>> => {
    const groups = new Map<string, string>();
    if (numbers.length === 0) return groups;
    const rows = await getAll(
      'customerPriceGroups',
      pricing('customerPriceGroups'),
      { filter: inList('customerNumber', numbers), select: fieldsOf(NativeCustomerPriceGroup) },
      batchPageSize,
      NativeCustomerPriceGroup,
    );
    for (const row of rows) groups.set(row.customerNumber, row.priceGroupCode);
    return groups;
  };
  const customersQuery = (filter: string | undefined, extra: ODataQuery = {}): ODataQuery => ({
    filter,
    select: CUSTOMER_SELECT,
    expand: ['paymentTerm'],
    ...extra,
  });

  const listPage = async <S extends z.ZodType, T>(
    what: string,
    path: string,
    page: PageRequest,
    query: ODataQuery,
    item: S,
    map: (rows: z.output<S>[]) => Promise<T[]> | T[],
  ): Promise<Page<T>> => {
    checkPage(page);
    // One more than asked tells whether a next page exists without a count.
    const rows = await getAll(
      what,
      path,
      { ...query, orderby: 'number asc', top: page.first + 1 },
      // A page the caller asked for in one piece should come back in one response.
      Math.max(pageSize, page.first + 1),
      item,
    );
    const items = await map(rows.slice(0, page.first));
    return { items, hasNextPage: rows.length > page.first };
  };
  const after = (page: PageRequest): string | undefined =>
    page.after === undefined ? undefined : gt('number', page.after);

  // --- writes -------------------------------------------------------------------------------
  /** A SourceError of this source for a write, not from a system's answer. */
  const refused = (message: string, reason: string, cause?: unknown): SourceError =>
    new SourceError('SOURCE_REJECTED', `${name}: ${message}`, {
      source: name,
      breaker: upstream.state(),
      reason,
      cause,
    });

  /** A write's 4xx: BC's business errors (`Application_*`) apart from every other refusal. */
  const writeRejected = (what: string, status: number, body: unknown): SourceError => {
    const bc = bcErrorOf(body);
    if (bc && status === 400 && bc.code.startsWith('Application_')) {
      return new SourceError(
        'SOURCE_REJECTED',
        `${name}: ${what} refused by the ERP (${bc.code}): ${bc.message}`,
        { source: name, breaker: upstream.state(), reason: 'business_rule', status, cause: bc },
      );
    }
    const detail = bc ? `${bc.code}: ${bc.message}` : JSON.stringify(body);
    return new SourceError(
      'SOURCE_REJECTED',
      `${name}: ${what} answered HTTP ${status} ${detail.slice(0, 300)}`,
      {
        source: name,
        breaker: upstream.state(),
        reason: status === 401 ? 'unauthorized' : `http_${status}`,
        status,
        cause: bc ?? body,
      },
    );
  };

  /** Concurrent writes under one reference share one attempt (BC's POST is not idempotent). */
  const inFlight = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, run: () => Promise<T>): Promise<T> => {
    const running = inFlight.get(key);
    if (running) return running as Promise<T>;
    const started = run().finally(() => inFlight.delete(key));
    inFlight.set(key, started);
    return started;
  };

  const ordersByExternal = (externalDocumentNumber: string) =>
    getAll(
      'salesOrders',
      standard('salesOrders'),
      {
        filter: eq('externalDocumentNumber', bcCode(externalDocumentNumber)),
        select: SALES_ORDER_SELECT,
        expand: ['salesOrderLines'],
        // Several orders can share the number (a POST that was retried elsewhere): the first wins.
        orderby: 'number asc',
      },
      pageSize,
      NativeSalesOrder,
      'ReadWrite',
    );

  /** The document found under a reference must be the same customer's, or it is not ours. */
  const checkOwner = (
    kind: string,
    reference: string,
    found: { readonly number: string; readonly customerNumber: string },
    customerNumber: string,
  ): void => {
    if (found.customerNumber.toUpperCase() !== customerNumber.toUpperCase()) {
      throw refused(
        `${kind} ${found.number} already carries the reference ${JSON.stringify(bcCode(reference))} for customer ${found.customerNumber}, not for ${customerNumber}`,
        'reference_conflict',
      );
    }
  };

  // async: a refused draft must reject the promise, never throw at the call site.
  const createSalesOrder = async (draft: SalesOrderDraft): Promise<OrderRecord> => {
    const prices = draft.lines.map((line, i) => {
      const price = decimalToNumber(line.unitPrice);
      if (price === undefined) {
        throw refused(
          `createSalesOrder: lines[${i}].unitPrice: expected a decimal string such as "12.50", got ${JSON.stringify(line.unitPrice)}`,
          'invalid_draft',
        );
      }
      return price;
    });
    const reference = bcCode(draft.externalDocumentNumber);
    return once(`salesOrder:${reference}`, async () => {
      const [existing] = await ordersByExternal(reference);
      if (existing) {
        checkOwner('order', reference, existing, draft.customerNumber);
        return toOrder(existing, localCurrency);
      }
      const res = await send(
        {
          method: 'POST',
          path: standard('salesOrders'),
          query: queryParams({ expand: ['salesOrderLines'] }),
          json: salesOrderBody(draft, prices),
          what: 'POST salesOrders',
        },
        NativeSalesOrder,
      );
      if (!res.ok) throw writeRejected('POST salesOrders', res.status, res.body);
      return toOrder(res.body, localCurrency);
    });
  };

  const cancelSalesOrder = (orderNumber: string): Promise<void> =>
    once(`cancel:${orderNumber}`, async () => {
      for (let attempt = 1; ; attempt++) {
        const [order] = await getAll(
          'salesOrders',
          standard('salesOrders'),
          {
            filter: eq('number', orderNumber),
            select: SALES_ORDER_SELECT,
            expand: ['salesOrderLines'],
          },
          pageSize,
          NativeSalesOrderWithEtag,
          'ReadWrite',
        );
        // Already gone (deleted, or never created): that is what cancelling wants.
        if (!order) return;
        const shipped = order.salesOrderLines.find((line) => line.shippedQuantity > 0);
        if (shipped) {
          throw refused(
            `order ${order.number} cannot be cancelled: line ${shipped.sequence} (${shipped.lineObjectNumber}) has shipped ${shipped.shippedQuantity}`,
            'already_shipped',
          );
        }
        const res = await send(
          {
            method: 'DELETE',
            path: standard(`salesOrders(${order.id})`),
            headers: { 'if-match': order['@odata.etag'] },
            what: 'DELETE salesOrders',
          },
          AnyBody,
        );
        if (res.ok || res.status === 404) return;
        // Request_EntityChanged: someone changed the order since the GET; read it again, once.
        if (res.status === 409 && attempt === 1) continue;
        throw writeRejected('DELETE salesOrders', res.status, res.body);
      }
    });

  const createReturn = async (draft: ReturnDraft): Promise<ReturnRecord> => {
    const reference = bcCode(draft.reference);
    return once(`salesCreditMemo:${reference}`, async () => {
      const [existing] = await getAll(
        'salesCreditMemos',
        standard('salesCreditMemos'),
        {
          filter: eq('externalDocumentNumber', reference),
          select: fieldsOf(NativeSalesCreditMemo),
          orderby: 'number asc',
        },
        pageSize,
        NativeSalesCreditMemo,
        'ReadWrite',
      );
      let memo = existing;
      if (memo) {
        checkOwner('credit memo', reference, memo, draft.customerNumber);
      } else {
        const res = await send(
          {
            method: 'POST',
            path: standard('salesCreditMemos'),
            json: creditMemoBody(draft),
            what: 'POST salesCreditMemos',
          },
          NativeSalesCreditMemo,
        );
        if (!res.ok) throw writeRejected('POST salesCreditMemos', res.status, res.body);
        memo = res.body;
      }
      return { reference: draft.reference, nativeId: memo.id, number: memo.number };
    });
  };

  let closed: Promise<void> | undefined;

  return {
    name,
    kind: 'erp',
    capabilities: ERP_CAPABILITIES,

    async itemsBySku(skus): Promise<(CatalogItemRecord | null)[]> {
      const found = await byKeys(
        skus,
        (part) =>
          getAll(
            'items',
            standard('items'),
            { filter: inList('number', part), select: fieldsOf(NativeItem) },
            batchPageSize,
            NativeItem,
          ),
        (item) => item.number,
      );
      return found.map((item) => (item ? toCatalogItem(item, localCurrency) : null));
    },

    listItems(page, filter: CatalogFilter = {}) {
      return listPage(
        'items',
        standard('items'),
        page,
        {
          filter: and(
            after(page),
            filter.category === undefined ? undefined : eq('itemCategoryCode', filter.category),
            filter.search === undefined || filter.search === ''
              ? undefined
              : contains('displayName', filter.search),
            filter.includeBlocked === true ? undefined : eq('blocked', false),
          ),
          select: fieldsOf(NativeItem),
        },
        NativeItem,
        (rows) => rows.map((item) => toCatalogItem(item, localCurrency)),
      );
    },

    async customerPrices(customerNumber, skus): Promise<(CustomerPriceRecord | null)[]> {
      const found = await byKeys(
        skus,
        (part) =>
          getAll(
            'customerPrices',
            pricing('customerPrices'),
            { filter: and(eq('customerNumber', customerNumber), inList('itemNumber', part)) },
            batchPageSize,
            NativeCustomerPrice,
          ),
        (price) => price.itemNumber,
      );
      return found.map((price) => (price ? toCustomerPrice(price, localCurrency) : null));
    },

    async customersByNumber(numbers): Promise<(CustomerRecord | null)[]> {
      const unique = [...new Set(numbers)];
      // Customers and their price groups in parallel: two requests per chunk, not per customer.
      const found = await byKeys(
        unique,
        async (part) => {
          const [customers, groups] = await Promise.all([
            getAll(
              'customers',
              standard('customers'),
              customersQuery(inList('number', part)),
              batchPageSize,
              NativeCustomer,
            ),
            priceGroupsOf(part),
          ]);
          return customers.map((customer) =>
            toCustomer(customer, groups.get(customer.number) ?? null, localCurrency),
          );
        },
        (customer) => customer.number,
      );
      const byNumber = new Map(unique.map((number, i) => [number, found[i] ?? null]));
      return numbers.map((number) => byNumber.get(number) ?? null);
    },

    listCustomers(page, filter: CustomerFilter = {}) {
      return listPage(
        'customers',
        standard('customers'),
        page,
        customersQuery(
          and(
            after(page),
            filter.search === undefined || filter.search === ''
              ? undefined
              : contains('displayName', filter.search),
            filter.blocked === undefined ? undefined : eq('blocked', bcBlockedOf(filter.blocked)),
          ),
        ),
        NativeCustomer,
        async (rows) => {
          const groups = await priceGroupsOf(rows.map((row) => row.number));
          return rows.map((row) => toCustomer(row, groups.get(row.number) ?? null, localCurrency));
        },
      );
    },

    async ordersByNumber(numbers): Promise<(OrderRecord | null)[]> {
      const found = await byKeys(
        numbers,
        (part) =>
          getAll(
            'salesOrders',
            standard('salesOrders'),
            {
              filter: inList('number', part),
              select: SALES_ORDER_SELECT,
              expand: ['salesOrderLines'],
            },
            batchPageSize,
            NativeSalesOrder,
          ),
        (order) => order.number,
      );
      return found.map((order) => (order ? toOrder(order, localCurrency) : null));
    },

    async listOrders(page, filter: OrderFilter = {}): Promise<Page<OrderRecord>> {
      let channels: readonly string[] | undefined = filter.channels;
      if (filter.channel !== undefined) {
        channels =
          channels === undefined || channels.includes(filter.channel) ? [filter.channel] : [];
      }
      if (channels !== undefined && channels.length === 0) {
        checkPage(page);
        return { items: [], hasNextPage: false };
      }
      return listPage(
        'salesOrders',
        standard('salesOrders'),
        page,
        {
          filter: and(
            after(page),
            filter.customerNumber === undefined
              ? undefined
              : eq('customerNumber', filter.customerNumber),
            channels === undefined ? undefined : inList('crossdockChannel', channels),
            // As given, unlike the write path's own references: the caller asks for an exact match.
            filter.externalReference === undefined
              ? undefined
              : eq('externalDocumentNumber', filter.externalReference),
          ),
          select: SALES_ORDER_SELECT,
          expand: ['salesOrderLines'],
        },
        NativeSalesOrder,
        (rows) => rows.map((order) => toOrder(order, localCurrency)),
      );
    },

    async invoicesByNumber(numbers): Promise<(InvoiceRecord | null)[]> {
      const found = await byKeys(
        numbers,
        (part) =>
          getAll(
            'salesInvoices',
            standard('salesInvoices'),
            { filter: inList('number', part), select: fieldsOf(NativeSalesInvoice) },
            batchPageSize,
            NativeSalesInvoice,
          ),
        (invoice) => invoice.number,
      );
      return found.map((invoice) => (invoice ? toInvoice(invoice, localCurrency) : null));
    },

    async invoicesByOrder(orderNumbers): Promise<InvoiceRecord[][]> {
      const byOrder = new Map<string, InvoiceRecord[]>();
      for (const part of chunk([...new Set(orderNumbers)], maxKeys)) {
        const rows = await getAll(
          'salesInvoices',
          standard('salesInvoices'),
          {
            filter: inList('orderNumber', part),
            select: fieldsOf(NativeSalesInvoice),
            orderby: 'number asc',
          },
          batchPageSize,
          NativeSalesInvoice,
        );
        for (const row of rows) {
          const list = byOrder.get(row.orderNumber) ?? [];
          list.push(toInvoice(row, localCurrency));
          byOrder.set(row.orderNumber, list);
        }
      }
      return orderNumbers.map((number) => byOrder.get(number) ?? []);
    },

    createSalesOrder,

    async findSalesOrderByExternalNumber(externalDocumentNumber): Promise<OrderRecord | null> {
      const [order] = await ordersByExternal(externalDocumentNumber);
      return order ? toOrder(order, localCurrency) : null;
    },

    cancelSalesOrder,
    createReturn,

    ...(webhooks === null ? {} : { receiveWebhook: webhooks.receiveWebhook }),

    health: () => upstream.health(),
    onStateChange: (listener) => upstream.onStateChange(listener),

    close() {
      closed ??= Promise.all([
        upstream.close(),
        tokenUpstream === upstream ? undefined : tokenUpstream.close(),
      ]).then(() => undefined);
      return closed;
    },
  };
}

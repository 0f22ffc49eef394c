/**
 * The source port: the whole vocabulary a connector speaks to the rest of Crossdock.
 *
 * A connector owns transport, auth, paging, rate limits and the native→canonical mapping of
 * one kind of back-office system. Everything it returns is a canonical record defined here;
 * everything it throws is a {@link SourceError}. Nothing in this folder knows GraphQL.
 */

/** The kinds of system Crossdock connects to. */
export type SourceKind = 'erp' | 'commerce' | 'wms';

/** What a connector can be asked for. A connector declares the subset it serves. */
export type Capability =
  | 'catalog'
  | 'content'
  | 'pricing'
  | 'inventory'
  | 'warehouses'
  | 'customers'
  | 'orders'
  | 'shipments'
  | 'invoices'
  | 'channelOrders'
  | 'orderWrites'
  | 'reservations';

/** The selling channels an order can come from (DESIGN.md); the GraphQL `Channel` enum. */
export const CHANNELS = [
  'WEB',
  'B2B_PORTAL',
  'EDI',
  'INSIDE_SALES',
  'MARKETPLACE_A',
  'MARKETPLACE_B',
] as const;

/** One selling channel. */
export type ChannelCode = (typeof CHANNELS)[number];

/** True when `value` is a known channel code. */
export function isChannel(value: string): value is ChannelCode {
  return (CHANNELS as readonly string[]).includes(value);
}

/** Circuit breaker states as the public contract names them (DESIGN.md). */
export type BreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

/**
 * Error codes a source failure carries. The first two are public GraphQL codes; the others
 * surface as `SOURCE_UNAVAILABLE` in the graph with the detail in `extensions.reason`.
 */
export type SourceErrorCode =
  'SOURCE_UNAVAILABLE' | 'SOURCE_TIMEOUT' | 'SOURCE_BAD_RESPONSE' | 'SOURCE_REJECTED';

/** Options for {@link SourceError}. */
export interface SourceErrorOptions {
  readonly source: string;
  readonly breaker: BreakerState;
  /** A short machine-readable reason: `breaker_open`, `http_503`, `connection_reset`, ... */
  readonly reason: string;
  readonly cause?: unknown;
  /** HTTP status of the upstream answer, when there was one. */
  readonly status?: number;
}

/** A failure of one back-office system, named by source and carrying its breaker state. */
export class SourceError extends Error {
  readonly code: SourceErrorCode;
  readonly source: string;
  readonly breaker: BreakerState;
  readonly reason: string;
  readonly status: number | undefined;

  constructor(code: SourceErrorCode, message: string, options: SourceErrorOptions) {
    super(message, { cause: options.cause });
    this.name = 'SourceError';
    this.code = code;
    this.source = options.source;
    this.breaker = options.breaker;
    this.reason = options.reason;
    this.status = options.status;
  }
}

/** True when `error` is a {@link SourceError}. */
export function isSourceError(error: unknown): error is SourceError {
  return error instanceof SourceError;
}

/** A decimal number as a string, never a float (`"12.50"`). */
export type Decimal = string;

/** An amount of money: decimal string plus ISO 4217 code. */
export interface MoneyRecord {
  readonly amount: Decimal;
  readonly currencyCode: string;
}

/** A postal address in canonical form. */
export interface AddressRecord {
  readonly name: string | null;
  readonly line1: string;
  readonly line2: string | null;
  readonly city: string;
  readonly region: string | null;
  readonly postalCode: string;
  readonly countryCode: string;
}

/** One page of a keyset-paginated list. `after` keys are canonical keys (SKU, number...). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly hasNextPage: boolean;
}

/** Keyset page request: items whose canonical key sorts after `after`, at most `first`. */
export interface PageRequest {
  readonly first: number;
  readonly after?: string | undefined;
}

// ---------------------------------------------------------------------------------------------
// Canonical records, one per kind of fact a system owns.
// ---------------------------------------------------------------------------------------------

/** Item master data the ERP owns: identity, list price, cost, status. */
export interface CatalogItemRecord {
  readonly sku: string;
  /** The ERP's own id for the item (GUID). */
  readonly erpId: string;
  readonly displayName: string;
  readonly category: string | null;
  readonly gtin: string | null;
  readonly baseUnitOfMeasure: string;
  readonly listPrice: MoneyRecord;
  readonly blocked: boolean;
  readonly lastModified: string;
}

/** Product content the commerce platform owns: title, description, web status. */
export interface ProductContentRecord {
  readonly sku: string;
  /** Commerce global ids (`gid://...`) of the product and of the variant carrying the SKU. */
  readonly productGid: string;
  readonly variantGid: string;
  readonly title: string;
  readonly descriptionHtml: string;
  readonly handle: string;
  readonly vendor: string | null;
  readonly tags: readonly string[];
  /** ACTIVE | ARCHIVED | DRAFT | UNLISTED, as the platform reports it. */
  readonly status: string;
  readonly updatedAt: string;
}

/** Stock of one SKU in one warehouse, as one WMS reports it. */
export interface InventoryPositionRecord {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly onHand: number;
  readonly allocated: number;
  readonly available: number;
  readonly onHold: number;
  /** When the WMS last changed this position (ISO 8601). */
  readonly asOf: string;
  /** The configured name of the source that reported it (`wms`, `tpl`). */
  readonly source: string;
}

/** Whether a warehouse is run by the distributor or by a third-party logistics provider. */
export type WarehouseKind = 'OWNED' | 'THIRD_PARTY';

/** A warehouse (WMS facility). */
export interface WarehouseRecord {
  readonly code: string;
  readonly name: string;
  readonly kind: WarehouseKind;
  readonly source: string;
  readonly address: AddressRecord;
  /** The WMS's own facility id. */
  readonly nativeId: string;
}

/** ERP blocking of a customer, after Business Central's `blocked` option. */
export type CustomerBlock = 'NONE' | 'SHIP' | 'INVOICE' | 'ALL';

/** A customer as the ERP keeps it, plus the price group from its pricing extension. */
export interface CustomerRecord {
  /** The customer number (canonical key). */
  readonly number: string;
  readonly erpId: string;
  readonly name: string;
  readonly type: 'COMPANY' | 'PERSON';
  readonly email: string | null;
  readonly phone: string | null;
  readonly address: AddressRecord;
  readonly currencyCode: string;
  readonly paymentTermsCode: string | null;
  readonly creditLimit: MoneyRecord;
  readonly balanceDue: MoneyRecord;
  readonly blocked: CustomerBlock;
  readonly priceGroup: string | null;
  readonly lastModified: string;
}

/** One line of a sales order. */
export interface OrderLineRecord {
  readonly sequence: number;
  readonly sku: string;
  readonly description: string;
  readonly quantity: number;
  readonly unitPrice: MoneyRecord;
  readonly lineAmount: MoneyRecord;
  readonly shippedQuantity: number;
  readonly invoicedQuantity: number;
}

/** Sales order header status as the ERP reports it. */
export type ErpOrderStatus = 'DRAFT' | 'IN_REVIEW' | 'OPEN' | 'POSTED';

/** A sales order as the ERP keeps it. */
export interface OrderRecord {
  /** The ERP order number (canonical key). */
  readonly number: string;
  readonly erpId: string;
  /** Channel code as recorded on the order (WEB, B2B_PORTAL, EDI, ...). */
  readonly channel: string;
  readonly customerNumber: string;
  readonly externalReference: string | null;
  readonly orderDate: string;
  readonly erpStatus: ErpOrderStatus;
  readonly fullyShipped: boolean;
  readonly shipTo: AddressRecord;
  readonly currencyCode: string;
  readonly totalExcludingTax: MoneyRecord;
  readonly totalIncludingTax: MoneyRecord;
  readonly lines: readonly OrderLineRecord[];
  readonly lastModified: string;
}

/** Shipment status in canonical form. */
export type ShipmentStatus =
  'PENDING' | 'PICKING' | 'PACKED' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED';

/** A shipment (WMS order) against a sales order. */
export interface ShipmentRecord {
  /** Canonical shipment id: `<source>:<wms order id>`. */
  readonly id: string;
  readonly source: string;
  readonly orderNumber: string;
  readonly warehouseCode: string;
  readonly status: ShipmentStatus;
  readonly carrier: string | null;
  readonly trackingNumber: string | null;
  readonly shippedAt: string | null;
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[];
}

/** Invoice status in canonical form. */
export type InvoiceStatus = 'DRAFT' | 'OPEN' | 'PAID' | 'CANCELLED';

/** A posted (or draft) sales invoice in the ERP. */
export interface InvoiceRecord {
  readonly number: string;
  readonly erpId: string;
  readonly orderNumber: string | null;
  readonly customerNumber: string;
  readonly status: InvoiceStatus;
  readonly invoiceDate: string;
  readonly dueDate: string;
  readonly total: MoneyRecord;
  readonly remaining: MoneyRecord;
}

/** A storefront order as the commerce platform keeps it (before it reaches the ERP). */
export interface ChannelOrderRecord {
  readonly gid: string;
  /** The storefront's order name, e.g. `#1001`; the ERP's `externalDocumentNumber`. */
  readonly name: string;
  readonly createdAt: string;
  readonly financialStatus: string;
  readonly fulfillmentStatus: string;
  readonly total: MoneyRecord;
  readonly customerNumber: string | null;
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[];
}

// ---------------------------------------------------------------------------------------------
// Capabilities. Batch methods take many keys and answer in the same order and length, with
// `null` where a key is unknown, so DataLoader batches map onto them one to one.
// ---------------------------------------------------------------------------------------------

/** Filters on the catalogue listing. */
export interface CatalogFilter {
  readonly category?: string | undefined;
  /** Case-insensitive substring of the display name. */
  readonly search?: string | undefined;
  readonly includeBlocked?: boolean | undefined;
}

/** Item master: listing and lookup by SKU. */
export interface CatalogSource {
  listItems(page: PageRequest, filter?: CatalogFilter): Promise<Page<CatalogItemRecord>>;
  itemsBySku(skus: readonly string[]): Promise<(CatalogItemRecord | null)[]>;
}

/** Product content: lookup by SKU, and a SKU-ordered listing usable as a fallback catalogue. */
export interface ContentSource {
  contentBySku(skus: readonly string[]): Promise<(ProductContentRecord | null)[]>;
  listContent(page: PageRequest): Promise<Page<ProductContentRecord>>;
}

/** A customer-specific price for one SKU. */
export interface CustomerPriceRecord {
  readonly sku: string;
  readonly customerNumber: string;
  readonly priceGroup: string | null;
  readonly unitPrice: MoneyRecord;
  readonly discountPercent: number;
}

/** Customer-specific pricing. */
export interface PricingSource {
  customerPrices(
    customerNumber: string,
    skus: readonly string[],
  ): Promise<(CustomerPriceRecord | null)[]>;
}

/** Stock positions; `warehouses` narrows to those warehouse codes. */
export interface InventorySource {
  positions(
    skus: readonly string[],
    warehouses?: readonly string[],
  ): Promise<InventoryPositionRecord[]>;
  warehouses(): Promise<WarehouseRecord[]>;
}

/** Filters on the customer listing. */
export interface CustomerFilter {
  readonly search?: string | undefined;
  readonly blocked?: CustomerBlock | undefined;
}

/** Customers. */
export interface CustomerSource {
  customersByNumber(numbers: readonly string[]): Promise<(CustomerRecord | null)[]>;
  listCustomers(page: PageRequest, filter?: CustomerFilter): Promise<Page<CustomerRecord>>;
}

/** Filters on the order listing. */
export interface OrderFilter {
  readonly customerNumber?: string | undefined;
  readonly channel?: string | undefined;
  readonly channels?: readonly string[] | undefined;
  /**
   * Only orders whose reference the ERP keeps (`externalDocumentNumber`) is exactly this: the
   * channel's reference of an order entered in the ERP, Crossdock's order id of one it placed.
   */
  readonly externalReference?: string | undefined;
}

/** Sales orders (newest numbers last; keyset on the order number). */
export interface OrderSource {
  ordersByNumber(numbers: readonly string[]): Promise<(OrderRecord | null)[]>;
  listOrders(page: PageRequest, filter?: OrderFilter): Promise<Page<OrderRecord>>;
}

/** Invoices. */
export interface InvoiceSource {
  invoicesByNumber(numbers: readonly string[]): Promise<(InvoiceRecord | null)[]>;
  invoicesByOrder(orderNumbers: readonly string[]): Promise<InvoiceRecord[][]>;
}

/** Shipments. */
export interface ShipmentSource {
  shipmentsById(ids: readonly string[]): Promise<(ShipmentRecord | null)[]>;
  shipmentsByOrder(orderNumbers: readonly string[]): Promise<ShipmentRecord[][]>;
}

/** Storefront orders. */
export interface ChannelOrderSource {
  listChannelOrders(page: PageRequest): Promise<Page<ChannelOrderRecord>>;
}

// ---------------------------------------------------------------------------------------------
// Writes. Every write carries a reference of Crossdock's own (an order id, a reservation or RMA
// reference) that the system stores, so a retried write finds what the first attempt did instead
// of doing it twice. Each method is idempotent on that reference.
// ---------------------------------------------------------------------------------------------

/** A sales order to create in the ERP. */
export interface SalesOrderDraft {
  /** Crossdock's order id, stored by the ERP as `externalDocumentNumber`: the idempotency token. */
  readonly externalDocumentNumber: string;
  readonly customerNumber: string;
  readonly channel: ChannelCode;
  /** ISO date (`2026-11-27`). */
  readonly orderDate: string;
  readonly shipTo: AddressRecord;
  readonly currencyCode: string;
  readonly lines: readonly {
    readonly sku: string;
    readonly quantity: number;
    readonly unitPrice: Decimal;
  }[];
}

/** A return (RMA) to record. */
export interface ReturnDraft {
  /** Crossdock's RMA id: the idempotency token. */
  readonly reference: string;
  readonly orderNumber: string;
  readonly customerNumber: string;
  readonly reason: string;
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[];
}

/** What a system recorded for a return. */
export interface ReturnRecord {
  readonly reference: string;
  /** The system's own id and number (credit memo in the ERP, receiver in the WMS). */
  readonly nativeId: string;
  readonly number: string | null;
}

/** Sales order writes in the ERP. */
export interface OrderWriteSource {
  /**
   * Creates the sales order, or returns the one an earlier attempt created with the same
   * `externalDocumentNumber` (looked up first: the ERP's POST is not idempotent).
   */
  createSalesOrder(draft: SalesOrderDraft): Promise<OrderRecord>;
  findSalesOrderByExternalNumber(externalDocumentNumber: string): Promise<OrderRecord | null>;
  /** Cancels the sales order; an order that is already gone counts as cancelled. */
  cancelSalesOrder(orderNumber: string): Promise<void>;
  /** Records the return (a sales credit memo); idempotent on `reference`. */
  createReturn(draft: ReturnDraft): Promise<ReturnRecord>;
}

/** Where a reservation is in the WMS. */
export type ReservationStatus = 'RESERVED' | 'PARTIAL' | 'SHIPPED' | 'CANCELLED';

/** A request to reserve stock in one warehouse (a WMS order released for picking). */
export interface ReservationRequest {
  /** Crossdock's reservation reference (the WMS `referenceNum`): the idempotency token. */
  readonly reference: string;
  readonly warehouseCode: string;
  readonly shipTo: AddressRecord;
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[];
}

/** What the WMS holds for a reservation. */
export interface ReservationRecord {
  readonly reference: string;
  /** The WMS's own order id. */
  readonly nativeId: string;
  readonly source: string;
  readonly warehouseCode: string;
  readonly status: ReservationStatus;
  /** Per line: ordered and actually allocated (less when stock ran short). */
  readonly lines: readonly {
    readonly sku: string;
    readonly quantity: number;
    readonly allocated: number;
  }[];
}

/** Stock reservations and expected returns in a WMS. */
export interface ReservationSource {
  /** Reserves, or returns the reservation an earlier attempt made under `reference`. */
  reserve(request: ReservationRequest): Promise<ReservationRecord>;
  findReservation(reference: string): Promise<ReservationRecord | null>;
  /** Cancels the reservation, releasing its stock; unknown or already cancelled is success. */
  release(reference: string): Promise<void>;
  /** Announces a return the warehouse will receive; idempotent on `reference`. */
  expectReturn(request: ReturnDraft & { readonly warehouseCode: string }): Promise<ReturnRecord>;
}

/** Latency percentiles in milliseconds over the breaker's rolling window. */
export interface LatencySnapshot {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly mean: number | null;
}

/** What `Query.sourceHealth` shows of one source. */
export interface SourceHealthSnapshot {
  readonly name: string;
  readonly kind: SourceKind;
  readonly baseUrl: string;
  readonly state: BreakerState;
  /** Calls in the rolling window (successes, failures, rejections, timeouts). */
  readonly requests: number;
  readonly failures: number;
  /** Failures (incl. timeouts) divided by calls that reached the system, 0..1. */
  readonly errorRate: number;
  readonly latencyMs: LatencySnapshot;
  readonly windowMs: number;
  readonly lastError: string | null;
  readonly lastStateChangeAt: string | null;
}

/** What every connector is, whatever it serves. */
export interface Connector {
  readonly name: string;
  readonly kind: SourceKind;
  readonly capabilities: ReadonlySet<Capability>;
  health(): SourceHealthSnapshot;
  /** Calls `listener` on every breaker transition (exactly once each); returns an unsubscribe. */
  onStateChange(listener: (state: BreakerState, previous: BreakerState) => void): () => void;
  /** Releases sockets and timers. Idempotent. */
  close(): Promise<void>;
}

/** The ERP connector: item master, pricing, customers, orders, invoices. */
export interface ErpConnector
  extends
    Connector,
    CatalogSource,
    PricingSource,
    CustomerSource,
    OrderSource,
    InvoiceSource,
    OrderWriteSource {
  readonly kind: 'erp';
}

/** The commerce connector: product content and storefront orders. */
export interface CommerceConnector extends Connector, ContentSource, ChannelOrderSource {
  readonly kind: 'commerce';
}

/** A WMS connector: stock, warehouses and shipments of the facilities it runs. */
export interface WmsConnector
  extends Connector, InventorySource, ShipmentSource, ReservationSource {
  readonly kind: 'wms';
}

// ---------------------------------------------------------------------------------------------
// Events from the systems: signed webhooks and change feeds (polling), normalized
// ---------------------------------------------------------------------------------------------

/** What every normalized event from a system carries. */
interface SourceEventBase {
  /** Deterministic id of the cause: `<source>:<vendor event id>` or, polled, `<source>:<record>:<stamp>`. */
  readonly id: string;
  /** Configured source name. */
  readonly source: string;
  /** When it happened in the system (ISO-8601 UTC), not when Crossdock heard of it. */
  readonly occurredAt: string;
}

/** A shipment (WMS order) was created, shipped, delivered or cancelled. */
export interface ShipmentSourceEvent extends SourceEventBase {
  readonly type: 'shipment';
  readonly kind: 'CREATED' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED';
  /** The shipment after the change (its `orderNumber` is the WMS reference). */
  readonly shipment: ShipmentRecord;
}

/** Stock of one SKU in one warehouse changed. */
export interface StockSourceEvent extends SourceEventBase {
  readonly type: 'stock';
  readonly sku: string;
  readonly warehouseCode: string;
  readonly onHand: number;
  readonly available: number;
  readonly allocated: number;
  /** Change of on-hand when the system reports one (an adjustment), else null. */
  readonly delta: number | null;
  readonly reason: string | null;
}

/** The ERP posted a sales invoice for an order. */
export interface InvoicePostedSourceEvent extends SourceEventBase {
  readonly type: 'invoicePosted';
  readonly invoiceNumber: string;
  /** The ERP sales order number it invoices. */
  readonly orderNumber: string;
  readonly customerNumber: string;
  readonly externalDocumentNumber: string | null;
  readonly total: MoneyRecord;
}

/** The ERP changed a customer's credit status (its blocked option). */
export interface CreditStatusSourceEvent extends SourceEventBase {
  readonly type: 'creditStatus';
  readonly customerNumber: string;
  readonly blocked: CustomerBlock;
  readonly previousBlocked: CustomerBlock | null;
}

/** A storefront (commerce) order was updated or cancelled on the platform. */
export interface ChannelOrderSourceEvent extends SourceEventBase {
  readonly type: 'channelOrder';
  readonly change: 'UPDATED' | 'CANCELLED';
  /** The platform's order id (a GID) and its display name (`#1001`). */
  readonly channelOrderId: string;
  readonly name: string;
  readonly cancelReason: string | null;
  readonly note: string | null;
  readonly tags: readonly string[];
}

/** One normalized event from a system. */
export type SourceEvent =
  | ShipmentSourceEvent
  | StockSourceEvent
  | InvoicePostedSourceEvent
  | CreditStatusSourceEvent
  | ChannelOrderSourceEvent;

/** A webhook delivery as received: raw bytes, lower-cased header names. */
export interface WebhookDelivery {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
  /** When it arrived (epoch ms): the replay window is measured from it. */
  readonly receivedAt: number;
}

/** Why a delivery was refused. */
export type WebhookRejection =
  | 'WEBHOOK_SIGNATURE_INVALID'
  | 'WEBHOOK_TIMESTAMP_STALE'
  | 'WEBHOOK_MALFORMED'
  | 'WEBHOOK_UNKNOWN_TYPE';

/** The verdict on a delivery: its verified, normalized events, or why it was refused. */
export type WebhookVerdict =
  | {
      readonly ok: true;
      /** The vendor's delivery id (stable across its retries): what de-duplication keys on. */
      readonly deliveryId: string;
      readonly events: readonly SourceEvent[];
    }
  | {
      readonly ok: false;
      readonly code: WebhookRejection;
      /** What was expected and what arrived. */
      readonly message: string;
      readonly deliveryId: string | null;
    };

/** A connector whose system sends signed webhooks: it verifies them in its vendor's scheme. */
export interface WebhookReceiver {
  /** Verifies signature and replay window on the raw bytes, then parses and normalizes. */
  receiveWebhook(
    delivery: WebhookDelivery,
    options: {
      /** Replay window around a timestamp the vendor signs per attempt (Standard Webhooks). */
      readonly toleranceMs: number;
      /**
       * How old an event may be when the vendor stamps the event's own time, kept on every retry
       * (Extensiv's eventDateTimeUtc, Shopify's Triggered-At): the vendor's retry horizon, so a
       * late retry is not refused; replays inside it are caught by the delivery id.
       */
      readonly maxEventAgeMs: number;
    },
  ): Promise<WebhookVerdict>;
}

/** A connector whose system is polled for changes instead (no webhooks). */
export interface ChangeFeed {
  /**
   * Changes since `checkpoint` (null: from now — the first poll only takes a checkpoint), oldest
   * first, with the checkpoint to pass next time. Overlaps the previous window a little; the
   * ids make the repeats harmless.
   */
  changesSince(checkpoint: string | null): Promise<{
    readonly events: readonly SourceEvent[];
    readonly checkpoint: string;
  }>;
}

/** True when the connector verifies webhooks. */
export const isWebhookReceiver = (c: Connector): c is Connector & WebhookReceiver =>
  typeof (c as Partial<WebhookReceiver>).receiveWebhook === 'function';

/** True when the connector can be polled for changes. */
export const isChangeFeed = (c: Connector): c is Connector & ChangeFeed =>
  typeof (c as Partial<ChangeFeed>).changesSince === 'function';

/** Throws when a batch answer does not line up with its keys (dataloader's contract). */
export function assertSameLength(
  source: string,
  keys: readonly unknown[],
  values: readonly unknown[],
): void {
  if (keys.length !== values.length) {
    throw new SourceError(
      'SOURCE_BAD_RESPONSE',
      `${source}: expected ${keys.length} results for ${keys.length} keys, got ${values.length}`,
      { source, breaker: 'CLOSED', reason: 'batch_length_mismatch' },
    );
  }
}

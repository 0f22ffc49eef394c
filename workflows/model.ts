/**
 * The order status model and the state an order workflow keeps (StoredOrder.data).
 * The allowed transitions are the single source of truth; workflows/README.md shows them.
 */
import type { AddressRecord, ChannelCode, Decimal, ReturnRecord } from '../sources/contract.js';

/** Every status an order can have (the GraphQL `OrderStatus` enum). */
export const ORDER_STATUSES = [
  'RECEIVED',
  'CREDIT_HOLD',
  'ACCEPTED',
  'ALLOCATED',
  'PENDING_ERP',
  'RELEASED_TO_WAREHOUSE',
  'PARTIALLY_SHIPPED',
  'SHIPPED',
  'INVOICED',
  'CANCELLED',
  'RETURN_REQUESTED',
] as const;

/** One order status. */
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * Allowed transitions. RECEIVED → RECEIVED is a new attempt after a failure was compensated.
 * Shipping and invoicing are reported by the systems (webhooks and polling, workflows/ingest.ts);
 * the placement workflows move orders through the first half and to CANCELLED / RETURN_REQUESTED.
 */
export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  RECEIVED: ['RECEIVED', 'CREDIT_HOLD', 'ALLOCATED', 'CANCELLED'],
  CREDIT_HOLD: ['RECEIVED', 'CANCELLED'],
  ALLOCATED: ['PENDING_ERP', 'ACCEPTED', 'RECEIVED', 'CANCELLED'],
  PENDING_ERP: ['ACCEPTED', 'CANCELLED'],
  ACCEPTED: ['RELEASED_TO_WAREHOUSE', 'PARTIALLY_SHIPPED', 'SHIPPED', 'CANCELLED'],
  RELEASED_TO_WAREHOUSE: ['PARTIALLY_SHIPPED', 'SHIPPED', 'CANCELLED'],
  PARTIALLY_SHIPPED: ['SHIPPED', 'INVOICED', 'RETURN_REQUESTED'],
  SHIPPED: ['INVOICED', 'RETURN_REQUESTED'],
  INVOICED: ['RETURN_REQUESTED'],
  CANCELLED: [],
  RETURN_REQUESTED: ['RETURN_REQUESTED'],
};

/** Whether `from → to` is allowed. */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** True when `value` is an order status. */
export function isOrderStatus(value: string): value is OrderStatus {
  return (ORDER_STATUSES as readonly string[]).includes(value);
}

/**
 * The ship-to of an order placed without one (it ships to the customer's address of record): what
 * the systems are sent and the graph shows instead.
 */
export const NO_SHIP_TO: AddressRecord = Object.freeze({
  name: null,
  line1: '',
  line2: null,
  city: '',
  region: null,
  postalCode: '',
  countryCode: 'US',
});

/** A priced line. */
export interface PricedLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: Decimal;
  readonly lineAmount: Decimal;
}

/** One warehouse's part of an order and its reservation there. */
export interface AllocationState {
  readonly warehouseCode: string;
  readonly source: string;
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[];
  /** The WMS reference (its `referenceNum`): unique per order, warehouse and attempt. */
  readonly reference: string;
  /** The WMS order id once reserved. */
  readonly nativeId: string | null;
  readonly released: boolean;
}

/** A return requested through Crossdock. */
export interface ReturnState {
  readonly reference: string;
  readonly reason: string;
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[];
  readonly erp: ReturnRecord | null;
  readonly wms: ReturnRecord | null;
  readonly at: number;
}

/** How far one shipment has come, as its warehouse system reported it (webhooks, polling). */
export type ShipmentProgress = 'CREATED' | 'CANCELLED' | 'SHIPPED' | 'DELIVERED';

/** Order of {@link ShipmentProgress}: facts only move forward, whatever order they arrive in. */
export const SHIPMENT_PROGRESS_RANK: Readonly<Record<ShipmentProgress, number>> = {
  CREATED: 0,
  CANCELLED: 1,
  SHIPPED: 2,
  DELIVERED: 3,
};

/**
 * What the systems reported about an order's fulfilment (issue #4), merged monotonically: the
 * order's status is derived from it, so events arriving out of order end in the same state.
 */
export interface FulfilmentState {
  /** Furthest progress per shipment: keyed by allocation reference, else by shipment id. */
  readonly shipments: Readonly<Record<string, ShipmentProgress>>;
  /** Numbers of the invoices the ERP posted for the order. */
  readonly invoices: readonly string[];
}

/**
 * A status change stored but perhaps not yet on the bus (the publish failed, or the process
 * died): published again by the next event that follows the order, then cleared.
 */
export interface UnpublishedStatus {
  /** The order version the change produced: the event id is `order:<id>:<version>`. */
  readonly version: number;
  readonly status: OrderStatus;
  readonly previous: OrderStatus;
}

/** What the order workflows keep in StoredOrder.data. */
export interface OrderData {
  /** How the order came in (orders placed through Crossdock) or `erp` (an ERP order Crossdock acted on). */
  readonly origin: 'crossdock' | 'erp';
  readonly channel: ChannelCode;
  readonly customerNumber: string;
  readonly externalReference: string | null;
  readonly shipTo: AddressRecord | null;
  readonly currencyCode: string;
  readonly lines: readonly PricedLine[];
  readonly total: Decimal;
  /** Attempt number; reservation references carry it so a retried attempt never reuses a released one. */
  readonly attempt: number;
  readonly allocations: readonly AllocationState[];
  readonly returns: readonly ReturnState[];
  /** Why the order ended CANCELLED, when it did. */
  readonly cancelReason: string | null;
  /**
   * The request that placed it (orders placed through Crossdock): lets the recovery sweep
   * finish an order whose process died, under the same idempotency key.
   */
  readonly request: {
    readonly scope: string;
    readonly key: string;
    readonly input: unknown;
  } | null;
  /** What the systems reported (webhooks, polling); absent until the first report. */
  readonly fulfilment?: FulfilmentState;
  /** A status change the ingestion stored but has not confirmed published; see the type. */
  readonly unpublished?: UnpublishedStatus | null;
}

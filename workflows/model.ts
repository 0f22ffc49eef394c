/**
 * The state an order workflow keeps (StoredOrder.data), and the one typed way in and out of
 * the store's JSON. The status rules are in status.ts.
 */
import type { AddressRecord, ChannelCode, Decimal, ReturnRecord } from '../sources/contract.js';
import type { StoredOrder } from '../store/contract.js';
import type { FulfilmentState, OrderStatus } from './status.js';

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

/** The fields every writer of OrderData sets, and the type each must have. */
const REQUIRED_FIELDS: readonly (readonly [keyof OrderData, 'string' | 'number' | 'array'])[] = [
  ['channel', 'string'],
  ['customerNumber', 'string'],
  ['currencyCode', 'string'],
  ['total', 'string'],
  ['attempt', 'number'],
  ['lines', 'array'],
  ['allocations', 'array'],
  ['returns', 'array'],
];

/** What keeps `data` from being OrderData at its top level, or null when nothing does. */
function faultOf(data: object): string | null {
  const fields = new Map<string, unknown>(Object.entries(data));
  const origin = fields.get('origin');
  if (origin !== 'crossdock' && origin !== 'erp')
    return `origin crossdock or erp, got ${JSON.stringify(origin) ?? 'nothing'}`;
  for (const [field, type] of REQUIRED_FIELDS) {
    const value = fields.get(field);
    const ok = type === 'array' ? Array.isArray(value) : typeof value === type;
    if (!ok) return `${field} of type ${type}, got ${JSON.stringify(value) ?? 'nothing'}`;
  }
  return null;
}

/** Whether `data` has OrderData's top level (what {@link orderDataOf} checks). */
function isOrderData(data: object): data is OrderData {
  return faultOf(data) === null;
}

/**
 * The workflow state of a stored order. The store keeps it as JSON it does not interpret; this
 * checks its top level (the origin and the fields every writer sets, with their types) and
 * throws naming the order when the record was not written by the order workflows. What those
 * fields hold is trusted as the workflows wrote it: they are its only writers.
 */
export function orderDataOf(order: StoredOrder): OrderData {
  const data: object = order.data;
  if (isOrderData(data)) return data;
  throw new Error(`order ${order.id} has no workflow state: expected ${faultOf(data)}`);
}

/** OrderData as the store keeps it (a JSON object); the inverse of {@link orderDataOf}. */
export function storedDataOf(data: OrderData): Readonly<Record<string, unknown>> {
  return { ...data };
}

/**
 * The WMS references an order's shipments are found by: its reservations when Crossdock placed
 * it, else its ERP number (ERP orders are released to the warehouses under their own number).
 */
export function warehouseReferencesOf(data: OrderData | null, orderNumber: string): string[] {
  if (data?.origin === 'crossdock') return data.allocations.map((a) => a.reference);
  return [orderNumber];
}

/**
 * Where an order Crossdock placed keeps its channel's reference (`PlaceOrderInput.externalReference`)
 * as a cross-reference: the ERP's `externalDocumentNumber` of such an order is Crossdock's own id
 * (its idempotency token), so the channel's events (a storefront cancellation) and a search by
 * reference (order-lookup.ts) find the order through this.
 */
export function channelReferenceOf(channel: string): {
  readonly source: string;
  readonly entity: 'externalReference';
} {
  return { source: `channel:${channel}`, entity: 'externalReference' };
}

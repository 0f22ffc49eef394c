/**
 * Extensiv 3PL Warehouse Manager's native shapes (zod schemas, so a malformed answer fails
 * inside the breaker) and their mapping to Crossdock's canonical records.
 */
import { z } from 'zod';
import type {
  AddressRecord,
  InventoryPositionRecord,
  ReservationRecord,
  ReservationRequest,
  ReservationStatus,
  ReturnDraft,
  ShipmentRecord,
  ShipmentStatus,
  WarehouseKind,
  WarehouseRecord,
} from '../contract.js';

/** HAL rel of a facility in `/properties/facilities`. */
export const FACILITY_REL = 'http://api.3plCentral.com/rels/properties/facility';
/** HAL rel of an order in `/orders`. */
export const ORDER_REL = 'http://api.3plCentral.com/rels/orders/order';
/** HAL rel of an order item, where a tenant embeds items instead of listing `orderItems`. */
export const ORDER_ITEM_REL = 'http://api.3plCentral.com/rels/orders/item';
/** HAL rel of a receiver in `/inventory/receivers`. */
export const RECEIVER_REL = 'http://api.3plCentral.com/rels/inventory/receiver';

/** `POST /AuthServer/api/Token`. */
export const TokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i),
  expires_in: z.number().int().min(0),
});

/**
 * An Extensiv datetime: .NET's round-trip format, up to 7 fractional digits and usually no
 * offset. `null`, absent and .NET's `DateTime.MinValue` (`0001-01-01T00:00:00`) all mean "never".
 */
export const WmsDate = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?(?:Z|[+-]\d{2}:\d{2})?$/,
    'expected yyyy-MM-ddTHH:mm:ss.fffffff',
  )
  .nullish();

/** A HAL collection whose items sit under `_embedded[rel]`; present whenever there are results. */
export function halCollection<T extends z.ZodType>(rel: string, item: T) {
  return z
    .object({
      totalResults: z.number().int().min(0),
      _embedded: z.object({ [rel]: z.array(item) }).optional(),
    })
    .superRefine((value, ctx) => {
      if (value.totalResults > 0 && value._embedded === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['_embedded'],
          message: `expected _embedded["${rel}"] for ${value.totalResults} results`,
        });
      }
    })
    .transform((value) => ({
      totalResults: value.totalResults,
      items: (value._embedded?.[rel] ?? []) as z.output<T>[],
    }));
}

/** A facility of `/properties/facilities`. `code` is the short warehouse code (EAST, 3PL-SOUTH). */
export const Facility = z.object({
  id: z.number().int(),
  name: z.string(),
  code: z.string().min(1),
  address: z
    .object({
      address1: z.string().nullish(),
      address2: z.string().nullish(),
      city: z.string().nullish(),
      state: z.string().nullish(),
      zip: z.string().nullish(),
      country: z.string().nullish(),
    })
    .nullish(),
});
/** A facility as the WMS lists it. */
export type Facility = z.output<typeof Facility>;

/** `GET /properties/facilities`. */
export const FacilitiesResponse = halCollection(FACILITY_REL, Facility);

/** A row of `/inventory/stocksummaries`. */
export const StockSummary = z.object({
  itemIdentifier: z.object({ sku: z.string(), id: z.number().int().optional() }),
  facilityId: z.number().int(),
  onHand: z.number(),
  available: z.number(),
  allocated: z.number(),
  onHold: z.number(),
  /** Sandbox addition; a real tenant omits it and `asOf` becomes the time of the answer. */
  lastModifiedDate: WmsDate,
});
/** A stock summary row. */
export type StockSummary = z.output<typeof StockSummary>;

/** `GET /inventory/stocksummaries`: the one listing without a HAL envelope. */
export const StockSummariesResponse = z.object({
  totalResults: z.number().int().min(0),
  summaries: z.array(StockSummary),
});

/**
 * An order line. `readOnly` comes with `detail=All`; its `allocations` (the stock the line
 * holds) only with `itemdetail=All`.
 */
const OrderItem = z.object({
  itemIdentifier: z.object({ sku: z.string() }),
  qty: z.number(),
  readOnly: z
    .object({
      fullyAllocated: z.boolean().optional(),
      allocations: z.array(z.object({ qty: z.number() })).optional(),
    })
    .optional(),
});

/** An order of `/orders?detail=All`. */
export const WmsOrder = z.object({
  readOnly: z.object({
    orderId: z.number().int(),
    status: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    facilityIdentifier: z.object({ id: z.number().int() }),
    pickDoneDate: WmsDate,
    packDoneDate: WmsDate,
    processDate: WmsDate,
    /**
     * Sandbox addition (Extensiv has no delivery tracking; in reality a carrier feed): when the
     * carrier delivered a shipped order, null until then. A real tenant omits it.
     */
    deliveredDate: WmsDate,
  }),
  referenceNum: z.string(),
  routingInfo: z
    .object({ carrier: z.string().nullish(), trackingNumber: z.string().nullish() })
    .nullish(),
  orderItems: z.array(OrderItem).optional(),
  _embedded: z.object({ [ORDER_ITEM_REL]: z.array(OrderItem).optional() }).optional(),
});
/** A WMS order. */
export type WmsOrder = z.output<typeof WmsOrder>;

/** `GET /orders`. */
export const OrdersResponse = halCollection(ORDER_REL, WmsOrder);

/** A receiver (expected receipt), the fields the connector reads. */
export const Receiver = z.object({
  readOnly: z.object({ receiverId: z.number().int() }),
  referenceNum: z.string(),
});
/** A WMS receiver. */
export type Receiver = z.output<typeof Receiver>;

/** `GET /inventory/receivers`. */
export const ReceiversResponse = halCollection(RECEIVER_REL, Receiver);

/** Any body (a 204's empty one included): what an order operator answers. */
export const AnyBody = z.unknown();

/** The `ErrorCode` of an Extensiv error body (`Duplicate`, `OrderConfirmed`, ...), if any. */
export function errorCodeOf(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const code = (body as Record<string, unknown>)['ErrorCode'];
  return typeof code === 'string' ? code : undefined;
}

/** Extensiv's `shipTo` of a canonical address; absent parts are left out, not sent as null. */
function shipToOf(address: AddressRecord): Record<string, string> {
  const out: Record<string, string> = {
    address1: address.line1,
    city: address.city,
    zip: address.postalCode,
    country: address.countryCode,
  };
  if (address.name !== null) {
    out['companyName'] = address.name;
    out['name'] = address.name;
  }
  if (address.line2 !== null) out['address2'] = address.line2;
  if (address.region !== null) out['state'] = address.region;
  return out;
}

/** The body of `POST /orders` that reserves `request` in facility `facilityId`. */
export function orderBody(
  request: ReservationRequest,
  customerId: number,
  facilityId: number,
): Record<string, unknown> {
  return {
    customerIdentifier: { id: customerId },
    facilityIdentifier: { id: facilityId },
    referenceNum: request.reference,
    shipTo: shipToOf(request.shipTo),
    orderItems: request.lines.map((line) => ({
      itemIdentifier: { sku: line.sku },
      qty: line.quantity,
    })),
  };
}

/** The body of `POST /inventory/receivers` announcing the return `draft`. */
export function receiverBody(
  draft: ReturnDraft,
  customerId: number,
  facilityId: number,
): Record<string, unknown> {
  return {
    customerIdentifier: { id: customerId },
    facilityIdentifier: { id: facilityId },
    referenceNum: draft.reference,
    notes: `Return ${draft.reference} of order ${draft.orderNumber} (customer ${draft.customerNumber}): ${draft.reason}`,
    receiveItems: draft.lines.map((line) => ({
      itemIdentifier: { sku: line.sku },
      qty: line.quantity,
    })),
  };
}

/**
 * Datetimes already converted: a stock answer repeats the same few `lastModifiedDate`s on many
 * rows and from one request to the next, and the regular expression, Date.parse and
 * toISOString were 2.8 % of the storefront page's CPU (issue #13). Emptied when full, so a
 * system answering a new timestamp on every row costs a conversion each, as before, and no more
 * memory than this.
 */
const MAX_CONVERTED_DATES = 4_096;
/** The longest Extensiv datetime (`2026-11-01T12:00:00.1234567-05:00`); longer text is none. */
const MAX_DATETIME_CHARS = 33;
const convertedDates = new Map<string, string | null>();

/** Extensiv datetime → ISO 8601 UTC; offset-less times are UTC (Extensiv reports UTC here). */
export function parseWmsDate(text: string | null | undefined): string | null {
  if (text === null || text === undefined || text.startsWith('0001-01-01')) return null;
  if (text.length > MAX_DATETIME_CHARS) return null;
  const known = convertedDates.get(text);
  if (known !== undefined) return known;
  if (convertedDates.size >= MAX_CONVERTED_DATES) convertedDates.clear();
  const iso = convertWmsDate(text);
  convertedDates.set(text, iso);
  return iso;
}

function convertWmsDate(text: string): string | null {
  const m = /^(.{19})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?$/.exec(text);
  if (!m) return null;
  // JavaScript dates hold milliseconds; the 100 ns ticks beyond them are dropped.
  const ms = (m[2] ?? '').slice(0, 3).padEnd(3, '0');
  const parsed = Date.parse(`${m[1]}.${ms}${m[3] ?? 'Z'}`);
  return Number.isNaN(parsed) ? null : new Date(parsed).toISOString();
}

/** Facility → canonical warehouse. */
export function toWarehouse(
  facility: Facility,
  kind: WarehouseKind,
  source: string,
): WarehouseRecord {
  const a = facility.address;
  return {
    code: facility.code,
    name: facility.name,
    kind,
    source,
    nativeId: String(facility.id),
    address: {
      name: facility.name,
      line1: a?.address1 ?? '',
      line2: a?.address2 || null,
      city: a?.city ?? '',
      region: a?.state || null,
      postalCode: a?.zip ?? '',
      countryCode: a?.country ?? '',
    },
  };
}

/** Stock summary row → canonical position; `fallbackAsOf` when the row has no timestamp. */
export function toPosition(
  row: StockSummary,
  warehouseCode: string,
  source: string,
  fallbackAsOf: string,
): InventoryPositionRecord {
  return {
    sku: row.itemIdentifier.sku,
    warehouseCode,
    onHand: row.onHand,
    allocated: row.allocated,
    available: row.available,
    onHold: row.onHold,
    asOf: parseWmsDate(row.lastModifiedDate) ?? fallbackAsOf,
    source,
  };
}

/**
 * Canonical status of a WMS order: open orders by their pick/pack progress, closed ones SHIPPED
 * until the (sandbox-added) `readOnly.deliveredDate` says DELIVERED.
 */
export function shipmentStatusOf(order: WmsOrder): ShipmentStatus {
  const status = order.readOnly.status;
  switch (status) {
    case 0:
      if (parseWmsDate(order.readOnly.packDoneDate)) return 'PACKED';
      if (parseWmsDate(order.readOnly.pickDoneDate)) return 'PICKING';
      return 'PENDING';
    case 1:
      return parseWmsDate(order.readOnly.deliveredDate) ? 'DELIVERED' : 'SHIPPED';
    case 2:
      return 'CANCELLED';
    default: {
      const unreachable: never = status;
      throw new Error(`unknown Extensiv order status ${String(unreachable)}`);
    }
  }
}

/** The canonical shipment id of WMS order `orderId` at `source`. */
export function shipmentIdOf(source: string, orderId: number): string {
  return `${source}:${orderId}`;
}

/** WMS order → canonical shipment. */
export function toShipment(order: WmsOrder, warehouseCode: string, source: string): ShipmentRecord {
  const status = shipmentStatusOf(order);
  const items = order.orderItems ?? order._embedded?.[ORDER_ITEM_REL] ?? [];
  return {
    id: shipmentIdOf(source, order.readOnly.orderId),
    source,
    orderNumber: order.referenceNum,
    warehouseCode,
    status,
    carrier: order.routingInfo?.carrier || null,
    trackingNumber: order.routingInfo?.trackingNumber || null,
    shippedAt:
      status === 'SHIPPED' || status === 'DELIVERED'
        ? parseWmsDate(order.readOnly.processDate)
        : null,
    lines: items.map((item) => ({ sku: item.itemIdentifier.sku, quantity: item.qty })),
  };
}

/** What a line holds: the sum of its allocations, else all or nothing by `fullyAllocated`. */
function allocatedOf(item: z.output<typeof OrderItem>): number {
  const allocations = item.readOnly?.allocations;
  if (allocations) return allocations.reduce((sum, a) => sum + a.qty, 0);
  return item.readOnly?.fullyAllocated === true ? item.qty : 0;
}

/** WMS order → canonical reservation: Closed is SHIPPED, Canceled CANCELLED, Open by allocation. */
export function toReservation(
  order: WmsOrder,
  warehouseCode: string,
  source: string,
): ReservationRecord {
  const items = order.orderItems ?? order._embedded?.[ORDER_ITEM_REL] ?? [];
  const lines = items.map((item) => ({
    sku: item.itemIdentifier.sku,
    quantity: item.qty,
    // A canceled order holds nothing, whatever a tenant still lists under it.
    allocated: order.readOnly.status === 2 ? 0 : allocatedOf(item),
  }));
  let status: ReservationStatus;
  const code = order.readOnly.status;
  switch (code) {
    case 0:
      status = lines.every((line) => line.allocated >= line.quantity) ? 'RESERVED' : 'PARTIAL';
      break;
    case 1:
      status = 'SHIPPED';
      break;
    case 2:
      status = 'CANCELLED';
      break;
    default: {
      const unreachable: never = code;
      throw new Error(`unknown Extensiv order status ${String(unreachable)}`);
    }
  }
  return {
    reference: order.referenceNum,
    nativeId: String(order.readOnly.orderId),
    source,
    warehouseCode,
    status,
    lines,
  };
}

/**
 * The canonical events: what each domain's events carry and how their subjects are made. Every
 * producer (the order workflows, webhook ingestion, polling) builds its events here, so a
 * subject or a payload field is defined once.
 *
 * Subjects (tokens outside `[A-Za-z0-9_-]` become `_`):
 *
 *   crossdock.order.status.<orderId>                  OrderStatusPayload
 *   crossdock.shipment.<source>.<nativeShipmentId>    ShipmentEventPayload
 *   crossdock.inventory.<warehouseCode>.<sku>         InventoryEventPayload
 *   crossdock.customer.credit.<customerNumber>        CustomerCreditPayload
 *
 * Event ids are derived from what caused the event (an order version, a vendor's event id, a
 * polled record's modification stamp), never random: the same cause published twice — a
 * retried webhook, two replicas polling — is one event on the bus.
 */
import type { BusEvent, EventDomain } from './bus.js';

/** An order changed status (published by the order workflows and by ingestion). */
export interface OrderStatusPayload {
  readonly orderId: string;
  readonly erpNumber: string | null;
  readonly channel: string;
  readonly customerNumber: string;
  readonly status: string;
  readonly previousStatus: string | null;
}

/** What happened to a shipment. */
export type ShipmentEventKind = 'CREATED' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED';

/** A shipment was created, shipped, delivered or cancelled in a warehouse system. */
export interface ShipmentEventPayload {
  readonly kind: ShipmentEventKind;
  /** Canonical shipment id `<source>:<native id>` (as `ShipmentRecord.id`). */
  readonly shipmentId: string;
  readonly source: string;
  readonly warehouseCode: string;
  /** The Crossdock order it ships, when it ships one (`XD-…`), else null. */
  readonly orderId: string | null;
  /** The order number the warehouse knows (its reference: an ERP number or a reservation reference). */
  readonly orderNumber: string;
  /** Of the order, when known (channel-scoped keys see their channel's shipments only). */
  readonly channel: string | null;
  readonly customerNumber: string | null;
  /** Canonical ShipmentStatus after the event. */
  readonly status: string;
  readonly carrier: string | null;
  readonly trackingNumber: string | null;
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[];
  /** When it happened in the warehouse system (ISO-8601), not when Crossdock heard of it. */
  readonly occurredAt: string;
}

/** Stock of one SKU in one warehouse changed. */
export interface InventoryEventPayload {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly source: string;
  readonly onHand: number;
  readonly available: number;
  readonly allocated: number;
  /** The change of on-hand, when the system reports it (an adjustment); null for a snapshot. */
  readonly delta: number | null;
  readonly reason: string | null;
  readonly occurredAt: string;
}

/** A customer's credit status (the ERP's blocked option) changed. */
export interface CustomerCreditPayload {
  readonly customerNumber: string;
  /** Canonical CustomerBlock: NONE, SHIP, INVOICE, ALL. */
  readonly blocked: string;
  readonly previousBlocked: string | null;
  readonly occurredAt: string;
}

/** Payload type of each domain. */
export interface DomainPayloads {
  readonly order: OrderStatusPayload;
  readonly shipment: ShipmentEventPayload;
  readonly inventory: InventoryEventPayload;
  readonly customer: CustomerCreditPayload;
}

/** One subject token: NATS tokens may not hold `.`, `*`, `>` or whitespace. */
export const subjectToken = (value: string): string =>
  value === '' ? '_' : value.replace(/[^A-Za-z0-9_-]/g, '_');

/** What every builder needs besides the payload. */
export interface EventMeta {
  /** Deterministic id of the cause (see the module comment). */
  readonly id: string;
  /** When it was published (ISO-8601). */
  readonly at: string;
  readonly correlationId: string | null;
}

const build = <D extends EventDomain>(
  domain: D,
  subject: string,
  meta: EventMeta,
  payload: DomainPayloads[D],
): BusEvent<DomainPayloads[D]> => ({
  id: meta.id,
  domain,
  subject,
  at: meta.at,
  correlationId: meta.correlationId,
  payload,
});

/** An order status event. */
export const orderStatusEvent = (meta: EventMeta, payload: OrderStatusPayload) =>
  build('order', `crossdock.order.status.${subjectToken(payload.orderId)}`, meta, payload);

/** A shipment event. */
export const shipmentEvent = (meta: EventMeta, payload: ShipmentEventPayload) => {
  const native = payload.shipmentId.startsWith(`${payload.source}:`)
    ? payload.shipmentId.slice(payload.source.length + 1)
    : payload.shipmentId;
  return build(
    'shipment',
    `crossdock.shipment.${subjectToken(payload.source)}.${subjectToken(native)}`,
    meta,
    payload,
  );
};

/** An inventory event. */
export const inventoryEvent = (meta: EventMeta, payload: InventoryEventPayload) =>
  build(
    'inventory',
    `crossdock.inventory.${subjectToken(payload.warehouseCode)}.${subjectToken(payload.sku)}`,
    meta,
    payload,
  );

/** A customer credit event. */
export const customerCreditEvent = (meta: EventMeta, payload: CustomerCreditPayload) =>
  build(
    'customer',
    `crossdock.customer.credit.${subjectToken(payload.customerNumber)}`,
    meta,
    payload,
  );

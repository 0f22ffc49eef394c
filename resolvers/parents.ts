/**
 * The objects resolvers pass down as parents (GraphQL Code Generator `mappers`). Most canonical
 * types are the connector's record itself; these are the few that are not.
 */
import type { DeadLetter, ExceptionItem } from '../store/contract.js';
import type { SlaBreach } from '../workflows/business-views.js';
import type { UserError } from '../workflows/orders.js';
import type { TimelineEntry } from '../workflows/timeline.js';
import type { DeliveredEvent } from '../subscriptions/bus.js';
import type {
  CustomerCreditPayload,
  InventoryEventPayload,
  OrderStatusPayload,
  ShipmentEventPayload,
} from '../subscriptions/events.js';
import type { CustomerRecord, OrderRecord, WarehouseRecord } from '../sources/contract.js';
import type { HealthSample } from '../observability/health-history.js';

/** A product is its SKU; every field is loaded (batched) by SKU from its owning system. */
export interface ProductParent {
  readonly sku: string;
}

/** A warehouse known by code; the record is loaded from its WMS when a field needs it. */
export interface WarehouseParent {
  readonly code: string;
  /** The WMS that runs it, when known (positions and shipments name it). */
  readonly source: string | null;
  readonly record?: WarehouseRecord;
}

/** One entry of an order's timeline before it is exposed: the read model's (workflows/timeline.ts). */
export type TimelineEntryParent = TimelineEntry;

/** An edge before it is exposed. */
export interface EdgeParent<T> {
  readonly cursor: string;
  readonly node: T;
}

/** A connection before it is exposed. */
export interface ConnectionParent<T> {
  readonly edges: readonly EdgeParent<T>[];
  readonly nodes: readonly T[];
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    readonly hasPreviousPage: boolean;
    readonly startCursor: string | null;
    readonly endCursor: string | null;
  };
}

/** Product connection parent. */
export type ProductConnectionParent = ConnectionParent<ProductParent>;
/** Product edge parent. */
export type ProductEdgeParent = EdgeParent<ProductParent>;
/** Customer connection parent. */
export type CustomerConnectionParent = ConnectionParent<CustomerRecord>;
/** Customer edge parent. */
export type CustomerEdgeParent = EdgeParent<CustomerRecord>;
/** Order connection parent. */
export type OrderConnectionParent = ConnectionParent<OrderRecord>;
/** Order edge parent. */
export type OrderEdgeParent = EdgeParent<OrderRecord>;

/** One cross-reference entry. */
export interface ExternalIdParent {
  readonly source: string;
  readonly entity: string;
  readonly id: string;
}

/** A mutation payload about an order: the recorded outcome; `order` is loaded as it is now. */
export interface OrderPayloadParent {
  readonly orderId: string | null;
  readonly userErrors: readonly UserError[];
}

/** createReturn's payload. */
export interface ReturnPayloadParent extends OrderPayloadParent {
  readonly returnReference: string | null;
}

/** replayDeadLetter's payload. */
export interface ReplayPayloadParent {
  readonly deadLetter: DeadLetter | null;
  readonly userErrors: readonly UserError[];
}

/** An order status event as the bus delivers it. */
export type OrderStatusEventParent = DeliveredEvent<OrderStatusPayload>;

/** A shipment event as the bus delivers it. */
export type ShipmentEventParent = DeliveredEvent<ShipmentEventPayload>;

/** A customer credit event as the bus delivers it. */
export type CustomerCreditEventParent = DeliveredEvent<CustomerCreditPayload>;

/** An inventory event as the bus delivers it. */
export type InventoryEventParent = DeliveredEvent<InventoryEventPayload>;

/** An exception item connection parent. */
export type ExceptionConnectionParent = ConnectionParent<ExceptionItem>;
/** An exception item edge parent. */
export type ExceptionEdgeParent = EdgeParent<ExceptionItem>;
/** An SLA breach connection parent. */
export type SlaBreachConnectionParent = ConnectionParent<SlaBreach>;
/** An SLA breach edge parent. */
export type SlaBreachEdgeParent = EdgeParent<SlaBreach>;

/** The payload of an action on an exception item: the item as the action left it. */
export interface ExceptionPayloadParent {
  readonly exception: ExceptionItem | null;
  readonly userErrors: readonly UserError[];
}

/** One sample of a source's health, as this instance's health history keeps it. */
export type SourceHealthSampleParent = HealthSample;

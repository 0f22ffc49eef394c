/**
 * The order status rules, in one place (issue #11): the statuses and their allowed transitions,
 * the status the systems' reports justify (webhooks, polling), the status an ERP sales order
 * shows, and which of Crossdock's own status and the systems' the graph answers. The order
 * workflows (order-records.ts, system-events.ts, cancellation.ts, returns.ts) and the graph
 * (resolvers/order.ts) ask this module; neither derives a status of its own. The transition
 * table is shown in workflows/README.md.
 */
import type { OrderRecord, ShipmentRecord } from '../sources/contract.js';

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

/** The next status towards `target` that the model allows from `from`; null for none. */
export function nextStatusToward(from: OrderStatus, target: OrderStatus): OrderStatus | null {
  if (from === target) return null;
  if (canTransition(from, target)) return target;
  // Invoiced before Crossdock saw it ship: through SHIPPED, as the model requires.
  if (target === 'INVOICED' && canTransition(from, 'SHIPPED')) return 'SHIPPED';
  return null;
}

/** Statuses of an order that has (at least partly) left a warehouse. */
const SHIPPED_STATUSES: readonly string[] = [
  'PARTIALLY_SHIPPED',
  'SHIPPED',
  'INVOICED',
  'RETURN_REQUESTED',
] satisfies readonly OrderStatus[];

/** Whether a stored status says the order has shipped (so it can be returned, not cancelled). */
export function hasShipped(status: string): boolean {
  return SHIPPED_STATUSES.includes(status);
}

// --- what the systems report (issue #4) ----------------------------------------------------

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
 * The status the reported facts justify: INVOICED once the ERP posted an invoice (BC's ship
 * and invoice posts the shipment with it); SHIPPED when every live allocation has shipped (or,
 * for an ERP order, every shipment seen), PARTIALLY_SHIPPED when some have; DELIVERED counts
 * as shipped. Null when nothing has shipped.
 */
export function reportedStatus(
  fulfilment: FulfilmentState | undefined,
  allocations: readonly { readonly reference: string; readonly released: boolean }[],
): OrderStatus | null {
  if (!fulfilment) return null;
  if (fulfilment.invoices.length > 0) return 'INVOICED';
  const shipped = (p: ShipmentProgress | undefined) => p === 'SHIPPED' || p === 'DELIVERED';
  const live = allocations.filter((a) => !a.released);
  const progress =
    live.length > 0
      ? live.map((a) => fulfilment.shipments[a.reference])
      : Object.values(fulfilment.shipments).filter((p) => p !== 'CANCELLED');
  const count = progress.filter(shipped).length;
  if (count === 0) return null;
  return count === progress.length ? 'SHIPPED' : 'PARTIALLY_SHIPPED';
}

// --- what the ERP records --------------------------------------------------------------------

/**
 * The canonical status from what the ERP records (line quantities, header status), refined by
 * the warehouse systems for orders released but not yet shipped. Documented in schema/README.md.
 */
export function deriveStatus(order: OrderRecord, releasedToWarehouse: boolean): OrderStatus {
  const lines = order.lines;
  const ordered = lines.reduce((n, l) => n + l.quantity, 0);
  const shipped = lines.reduce((n, l) => n + l.shippedQuantity, 0);
  const invoiced = lines.reduce((n, l) => n + l.invoicedQuantity, 0);
  if (ordered > 0 && invoiced >= ordered) return 'INVOICED';
  if (ordered > 0 && shipped >= ordered) return 'SHIPPED';
  if (shipped > 0) return 'PARTIALLY_SHIPPED';
  if (releasedToWarehouse) return 'RELEASED_TO_WAREHOUSE';
  switch (order.erpStatus) {
    case 'OPEN':
    case 'POSTED':
      return 'ACCEPTED';
    case 'DRAFT':
    case 'IN_REVIEW':
      return 'RECEIVED';
    default: {
      const unreachable: never = order.erpStatus;
      throw new Error(`unknown ERP order status ${String(unreachable)}`);
    }
  }
}

/**
 * The status of the `ordered` entry of an ERP order's timeline (workflows/timeline.ts): RECEIVED
 * for a draft, ACCEPTED otherwise. An order IN_REVIEW is ACCEPTED here, where
 * {@link deriveStatus} answers RECEIVED; kept as the timeline has always shown it.
 */
export function orderedStatus(erpStatus: OrderRecord['erpStatus']): OrderStatus {
  return erpStatus === 'DRAFT' ? 'RECEIVED' : 'ACCEPTED';
}

/**
 * The status of an ERP order that has shipped (something), as createReturn records it when it
 * adopts the order: INVOICED when every line is invoiced, SHIPPED when every line shipped, else
 * PARTIALLY_SHIPPED. Line by line, where {@link deriveStatus} compares the order's totals: the
 * two differ only for an order with more than ordered on one line and less on another.
 */
export function shippedStatus(order: OrderRecord): OrderStatus {
  if (order.lines.every((l) => l.invoicedQuantity >= l.quantity)) return 'INVOICED';
  if (order.lines.every((l) => l.shippedQuantity >= l.quantity)) return 'SHIPPED';
  return 'PARTIALLY_SHIPPED';
}

/** Whether the warehouse systems hold a live order for it: some shipment not cancelled. */
export function releasedToWarehouse(shipments: readonly ShipmentRecord[]): boolean {
  return shipments.some((s) => s.status !== 'CANCELLED');
}

// --- what the graph shows --------------------------------------------------------------------

/** Crossdock's own statuses that the systems may have overtaken (they ship and invoice). */
const SYSTEMS_MAY_BE_FURTHER: readonly OrderStatus[] = ['ACCEPTED', 'RELEASED_TO_WAREHOUSE'];

/** What {@link orderStatus} decides from. */
export interface OrderStatusFacts {
  /** Crossdock's own workflow status, when Crossdock placed or acted on the order. */
  readonly own: string | null;
  /** The order as the ERP records it (or as Crossdock's record shows it, see `inErp`). */
  readonly order: OrderRecord;
  /** False while the ERP does not have the order yet (PENDING_ERP): `order` is Crossdock's. */
  readonly inErp: boolean;
}

/**
 * The status `Order.status` answers, or what it still needs: only the warehouse systems can
 * tell whether an open ERP order with nothing shipped has been released to them.
 */
export type StatusAnswer =
  | { readonly kind: 'known'; readonly status: OrderStatus }
  | {
      readonly kind: 'needs-shipments';
      /** The status once the order's shipments from every warehouse system are known. */
      readonly decide: (shipments: readonly ShipmentRecord[]) => OrderStatus;
    };

/**
 * Which status the graph shows: Crossdock's workflow status rules, unless the systems report
 * the order further along (an ACCEPTED or RELEASED_TO_WAREHOUSE order the ERP has, which may
 * have shipped or been invoiced since); then the ERP's record, refined by the warehouses.
 */
export function orderStatus(facts: OrderStatusFacts): StatusAnswer {
  const { own, order } = facts;
  if (own !== null && isOrderStatus(own) && !SYSTEMS_MAY_BE_FURTHER.includes(own))
    return { kind: 'known', status: own };
  if (own !== null && !facts.inErp) {
    // A stored status outside the model is a data fault: masked as an internal error.
    if (!isOrderStatus(own)) throw new Error(`order ${order.number} has unknown status ${own}`);
    return { kind: 'known', status: own };
  }
  // Only an order with nothing shipped can be "released": ask the WMS only then.
  if (order.lines.some((l) => l.shippedQuantity > 0) || order.erpStatus !== 'OPEN') {
    return { kind: 'known', status: deriveStatus(order, false) };
  }
  return {
    kind: 'needs-shipments',
    decide: (shipments) => deriveStatus(order, releasedToWarehouse(shipments)),
  };
}

/**
 * What the sandbox WMS's writes do to its state: allocating a new order's lines from stock,
 * the order operators (canceler releases the stock, confirmer ships it), the carrier's delivery
 * of a shipped order, inventory adjustments, and expected receipts.
 * Stock stays consistent throughout: `onHand = available + allocated + onHold` per row.
 */
import type { SeedWarehouse } from '../seed.js';
import {
  addOrder,
  addReceiver,
  addStockRow,
  receiveItemIdOf,
  touchOrder,
  WMS_CUSTOMER,
  type StockSummary,
  type WmsOrder,
  type WmsOrderItem,
  type WmsReceiver,
  type WmsShipTo,
  type WmsStore,
} from './store.js';

/** A line of a new order or receiver: a SKU and a quantity. */
export interface WantedLine {
  readonly sku: string;
  readonly qty: number;
}

/** The stock row of `sku` in `facilityId`, if the facility holds it. */
export function stockRow(
  store: WmsStore,
  sku: string,
  facilityId: number,
): StockSummary | undefined {
  return store.stockBySku.get(sku)?.find((row) => row.facilityId === facilityId);
}

/** Options of {@link createOrder}. */
export interface NewOrder {
  readonly facility: SeedWarehouse;
  readonly referenceNum: string;
  readonly shipTo: WmsShipTo;
  readonly routingInfo: WmsOrder['routingInfo'];
  readonly lines: readonly WantedLine[];
  /** Extensiv's datetime of now. */
  readonly stamp: string;
}

/**
 * Creates an order and allocates what the facility has available of each line; a short line
 * keeps the rest unallocated (the stock row's `orderedNotAllocated` grows by it).
 */
export function createOrder(store: WmsStore, wanted: NewOrder): WmsOrder {
  const { facility, stamp } = wanted;
  const orderItems = wanted.lines.map((line): WmsOrderItem => {
    const itemId = store.itemIds.get(line.sku) ?? 0;
    const row = stockRow(store, line.sku, facility.facilityId);
    const allocate = Math.min(line.qty, Math.max(0, row?.available ?? 0));
    if (row) {
      row.allocated += allocate;
      row.available -= allocate;
      row.orderedNotAllocated += line.qty - allocate;
      row.lastModifiedDate = stamp;
    }
    return {
      readOnly: {
        orderItemId: store.ids.orderItem++,
        fullyAllocated: allocate === line.qty,
        allocations:
          allocate > 0
            ? [{ receiveItemId: receiveItemIdOf(facility.facilityId, itemId), qty: allocate }]
            : [],
      },
      itemIdentifier: { sku: line.sku, id: itemId },
      qty: line.qty,
    };
  });
  const order: WmsOrder = {
    readOnly: {
      orderId: store.ids.order++,
      status: 0,
      isClosed: false,
      facilityIdentifier: { id: facility.facilityId, name: facility.name },
      customerIdentifier: { ...WMS_CUSTOMER },
      creationDate: stamp,
      pickDoneDate: null,
      packDoneDate: null,
      processDate: null,
      lastModifiedDate: stamp,
      fullyAllocated: orderItems.every((item) => item.readOnly.fullyAllocated),
      deliveredDate: null,
    },
    referenceNum: wanted.referenceNum,
    shipTo: wanted.shipTo,
    routingInfo: wanted.routingInfo,
    orderItems,
  };
  addOrder(store, order);
  return order;
}

/**
 * Cancels an open order: every allocation goes back to available, and the unallocated rest
 * of each line stops counting as ordered. Seeded orders' stock is part of the seeded
 * `allocated` figure, so a release never takes a row's `allocated` below zero.
 */
export function cancelOrder(store: WmsStore, order: WmsOrder, stamp: string): void {
  for (const item of order.orderItems) {
    const row = stockRow(store, item.itemIdentifier.sku, order.readOnly.facilityIdentifier.id);
    const held = item.readOnly.allocations.reduce((sum, a) => sum + a.qty, 0);
    if (row) {
      const release = Math.min(held, row.allocated);
      row.allocated -= release;
      row.available += release;
      row.orderedNotAllocated = Math.max(0, row.orderedNotAllocated - (item.qty - held));
      row.lastModifiedDate = stamp;
    }
    item.readOnly.allocations = [];
    item.readOnly.fullyAllocated = false;
  }
  order.readOnly.status = 2;
  order.readOnly.fullyAllocated = false;
  touchOrder(store, order, stamp);
}

/** Confirms (ships) a fully allocated open order: its allocated stock leaves the building. */
export function confirmOrder(
  store: WmsStore,
  order: WmsOrder,
  stamp: string,
  trackingNumber: string | null,
): void {
  for (const item of order.orderItems) {
    const row = stockRow(store, item.itemIdentifier.sku, order.readOnly.facilityIdentifier.id);
    if (!row) continue;
    const held = item.readOnly.allocations.reduce((sum, a) => sum + a.qty, 0);
    const shipped = Math.min(held, row.allocated);
    row.allocated -= shipped;
    row.onHand -= shipped;
    row.lastModifiedDate = stamp;
  }
  const ro = order.readOnly;
  ro.status = 1;
  ro.isClosed = true;
  ro.pickDoneDate ??= stamp;
  ro.packDoneDate ??= stamp;
  ro.processDate = stamp;
  if (trackingNumber !== null) order.routingInfo.trackingNumber = trackingNumber;
  touchOrder(store, order, stamp);
}

/** Records the carrier's delivery of a shipped (closed) order (a sandbox addition). */
export function deliverOrder(store: WmsStore, order: WmsOrder, stamp: string): void {
  order.readOnly.deliveredDate = stamp;
  touchOrder(store, order, stamp);
}

/**
 * Why an adjustment cannot apply: the row would go below zero on hand or available (stock held
 * by orders or on hold cannot be adjusted away). Null when it can.
 */
export function adjustmentRefusal(
  row: Pick<StockSummary, 'onHand' | 'available'> | undefined,
  qty: number,
): string | null {
  const onHand = row?.onHand ?? 0;
  const available = row?.available ?? 0;
  if (onHand + qty < 0 || available + qty < 0) {
    return `on hand ${onHand}, available ${available}; adjusting by ${qty} would leave ${Math.min(onHand, available) + qty}`;
  }
  return null;
}

/**
 * Adjusts a SKU's stock in a facility by `qty` (signed): on hand and available move together.
 * A SKU the facility never held gets a row. The caller checked {@link adjustmentRefusal}.
 */
export function adjustStock(
  store: WmsStore,
  facilityId: number,
  sku: string,
  qty: number,
  stamp: string,
): StockSummary {
  let row = stockRow(store, sku, facilityId);
  if (!row) {
    row = {
      itemIdentifier: { sku, id: store.itemIds.get(sku) ?? 0 },
      qualifier: '',
      facilityId,
      totalReceived: 0,
      onHand: 0,
      available: 0,
      allocated: 0,
      onHold: 0,
      orderedNotAllocated: 0,
      lastModifiedDate: stamp,
    };
    addStockRow(store, row);
  }
  row.onHand += qty;
  row.available += qty;
  row.lastModifiedDate = stamp;
  return row;
}

/** Options of {@link createReceiver}. */
export interface NewReceiver {
  readonly facility: SeedWarehouse;
  readonly referenceNum: string;
  readonly poNum: string | null;
  readonly notes: string | null;
  readonly lines: readonly WantedLine[];
  readonly stamp: string;
}

/** Records an expected receipt (status Open); stock changes only when it is received. */
export function createReceiver(store: WmsStore, wanted: NewReceiver): WmsReceiver {
  const { facility } = wanted;
  const receiver: WmsReceiver = {
    readOnly: {
      receiverId: store.ids.receiver++,
      status: 0,
      facilityIdentifier: { id: facility.facilityId, name: facility.name },
      customerIdentifier: { ...WMS_CUSTOMER },
      creationDate: wanted.stamp,
      lastModifiedDate: wanted.stamp,
    },
    referenceNum: wanted.referenceNum,
    poNum: wanted.poNum,
    notes: wanted.notes,
    receiveItems: wanted.lines.map((line) => ({
      itemIdentifier: { sku: line.sku, id: store.itemIds.get(line.sku) ?? 0 },
      qty: line.qty,
    })),
  };
  addReceiver(store, receiver);
  return receiver;
}

/**
 * The sandbox WMS's mutable state: facilities, stock summaries and orders of one instance,
 * built from the seed world and indexed in Maps so batch lookups never scan the catalogue.
 */
import type { SeedOrder, SeedWarehouse, SeedWorld } from '../seed.js';

/** A stock summary row as Extensiv serialises it (mutable: orders allocate from it). */
export interface StockSummary {
  itemIdentifier: { sku: string; id: number };
  qualifier: string;
  facilityId: number;
  totalReceived: number;
  onHand: number;
  available: number;
  allocated: number;
  onHold: number;
  orderedNotAllocated: number;
  /** Sandbox addition (Extensiv's stock summaries carry no timestamp): last change, Extensiv format. */
  lastModifiedDate: string;
}

/** Extensiv order status: 0 Open, 1 Closed (shipped), 2 Canceled. */
export type WmsOrderStatus = 0 | 1 | 2;

/** A WMS order (mutable: later operators close or cancel it). */
export interface WmsOrder {
  readOnly: {
    orderId: number;
    status: WmsOrderStatus;
    isClosed: boolean;
    facilityIdentifier: { id: number; name: string };
    customerIdentifier: { id: number; name: string };
    creationDate: string;
    pickDoneDate: string | null;
    packDoneDate: string | null;
    processDate: string | null;
    lastModifiedDate: string;
    fullyAllocated: boolean;
  };
  referenceNum: string;
  routingInfo: { carrier: string | null; mode: string | null; trackingNumber: string | null };
  orderItems: { itemIdentifier: { sku: string; id: number }; qty: number }[];
}

/** Everything one WMS instance knows. */
export interface WmsStore {
  readonly facilities: readonly SeedWarehouse[];
  readonly facilitiesById: ReadonlyMap<number, SeedWarehouse>;
  /** Every stock row, sorted by SKU then facility id (the API's order). */
  readonly stock: readonly StockSummary[];
  readonly stockBySku: ReadonlyMap<string, readonly StockSummary[]>;
  /** Item ids by SKU (the whole catalogue: the WMS knows items it holds no stock of). */
  readonly itemIds: ReadonlyMap<string, number>;
  /** Orders sorted by order id. */
  readonly orders: WmsOrder[];
  readonly ordersById: Map<number, WmsOrder>;
  readonly ordersByReference: Map<string, WmsOrder[]>;
}

/** The one customer (depositor) the distributor is to its WMS. */
export const WMS_CUSTOMER = Object.freeze({ id: 1, name: 'Crossdock Distributor' });

/** First order id of each instance, so ids of the two WMSs never look alike. */
export const FIRST_ORDER_ID: Readonly<Record<SeedWarehouse['system'], number>> = {
  wms: 10_001,
  tpl: 70_001,
};

/** An ISO instant in Extensiv's serialisation: 7 fractional digits, no offset. */
export function wmsDate(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}0000`;
}

const HOUR = 3_600_000;

function orderOf(
  seed: SeedOrder,
  orderId: number,
  facility: SeedWarehouse,
  itemIds: ReadonlyMap<string, number>,
): WmsOrder {
  const ordered = Date.parse(seed.orderDate);
  const created = ordered + HOUR / 2;
  const shipped = seed.shippedAt === null ? null : Date.parse(seed.shippedAt);
  let pickDone: number | null = null;
  let packDone: number | null = null;
  if (shipped !== null) {
    pickDone = shipped - 4 * HOUR;
    packDone = shipped - 2 * HOUR;
  } else {
    // Released orders spread over the open stages so every canonical status has examples.
    const stage = orderId % 3;
    if (stage >= 1) pickDone = created + 2 * HOUR;
    if (stage === 2) packDone = created + 3 * HOUR;
  }
  const lastModified = Math.max(created, pickDone ?? 0, packDone ?? 0, shipped ?? 0);
  return {
    readOnly: {
      orderId,
      status: shipped === null ? 0 : 1,
      isClosed: shipped !== null,
      facilityIdentifier: { id: facility.facilityId, name: facility.name },
      customerIdentifier: { ...WMS_CUSTOMER },
      creationDate: wmsDate(created),
      pickDoneDate: pickDone === null ? null : wmsDate(pickDone),
      packDoneDate: packDone === null ? null : wmsDate(packDone),
      processDate: shipped === null ? null : wmsDate(shipped),
      lastModifiedDate: wmsDate(lastModified),
      fullyAllocated: true,
    },
    referenceNum: seed.number,
    routingInfo: {
      carrier: seed.carrier,
      mode: seed.carrier === null ? null : seed.carrier === 'R+L Carriers' ? 'LTL' : 'Ground',
      trackingNumber: seed.trackingNumber,
    },
    orderItems: seed.lines.map((line) => ({
      itemIdentifier: { sku: line.sku, id: itemIds.get(line.sku) ?? 0 },
      qty: line.quantity,
    })),
  };
}

/** Builds the state of the instance running `system`'s facilities. */
export function buildWmsStore(world: SeedWorld, system: SeedWarehouse['system']): WmsStore {
  const facilities = world.warehouses.filter((w) => w.system === system);
  const byCode = new Map(facilities.map((f) => [f.code, f]));
  const facilitiesById = new Map(facilities.map((f) => [f.facilityId, f]));
  const itemIds = new Map(world.products.map((p) => [p.sku, p.index]));
  const epoch = wmsDate(Date.parse(world.epoch));

  const stock: StockSummary[] = [];
  const stockBySku = new Map<string, StockSummary[]>();
  for (const row of world.stock) {
    const facility = byCode.get(row.warehouse);
    if (!facility) continue;
    const id = itemIds.get(row.sku) ?? 0;
    const summary: StockSummary = {
      itemIdentifier: { sku: row.sku, id },
      qualifier: '',
      facilityId: facility.facilityId,
      // What was shipped out over the item's life, so received ≥ on hand like a real history.
      totalReceived: row.onHand + (id % 50) * 12,
      onHand: row.onHand,
      available: row.onHand - row.allocated - row.onHold,
      allocated: row.allocated,
      onHold: row.onHold,
      orderedNotAllocated: 0,
      lastModifiedDate: epoch,
    };
    stock.push(summary);
    const list = stockBySku.get(row.sku);
    if (list) list.push(summary);
    else stockBySku.set(row.sku, [summary]);
  }
  stock.sort(compareStock);
  for (const list of stockBySku.values()) list.sort(compareStock);

  const orders: WmsOrder[] = [];
  const ordersById = new Map<number, WmsOrder>();
  const ordersByReference = new Map<string, WmsOrder[]>();
  let nextId = FIRST_ORDER_ID[system];
  for (const seed of world.orders) {
    if (seed.stage === 'OPEN') continue;
    const facility = byCode.get(seed.warehouse);
    if (!facility) continue;
    addOrder({ orders, ordersById, ordersByReference }, orderOf(seed, nextId++, facility, itemIds));
  }
  return {
    facilities,
    facilitiesById,
    stock,
    stockBySku,
    itemIds,
    orders,
    ordersById,
    ordersByReference,
  };
}

/** Adds an order to the order indexes (orders arrive with ascending ids). */
export function addOrder(
  store: Pick<WmsStore, 'orders' | 'ordersById' | 'ordersByReference'>,
  order: WmsOrder,
): void {
  store.orders.push(order);
  store.ordersById.set(order.readOnly.orderId, order);
  const list = store.ordersByReference.get(order.referenceNum);
  if (list) list.push(order);
  else store.ordersByReference.set(order.referenceNum, [order]);
}

/** SKU, then facility id: the order stock summaries are listed in. */
export function compareStock(a: StockSummary, b: StockSummary): number {
  const sa = a.itemIdentifier.sku;
  const sb = b.itemIdentifier.sku;
  // Code-unit order, not localeCompare: stable across locales and ~10x faster on 100k rows.
  if (sa !== sb) return sa < sb ? -1 : 1;
  return a.facilityId - b.facilityId;
}

/**
 * The sandbox WMS's mutable state: facilities, stock summaries, orders and receivers of one
 * instance, built from the seed world and indexed in Maps so batch lookups never scan the
 * catalogue. `operations.ts` changes it (allocation, cancel, confirm, expected receipts).
 */
import type { SeedCustomer, SeedOrder, SeedWarehouse, SeedWorld } from '../seed.js';

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

/**
 * Stock an order item holds, as Extensiv's `orderItem.readOnly.allocations[]` renders it. The
 * sandbox keeps no receipt lines (lots, locations), so `receiveItemId` names the one stock row
 * of the SKU in the facility (`facilityId * 1,000,000 + item id`).
 */
export interface WmsAllocation {
  receiveItemId: number;
  qty: number;
}

/** An order line, with Extensiv's read-only allocation detail. */
export interface WmsOrderItem {
  readOnly: { orderItemId: number; fullyAllocated: boolean; allocations: WmsAllocation[] };
  itemIdentifier: { sku: string; id: number };
  qty: number;
}

/** Extensiv's `shipTo` of an order (the subset the sandbox keeps). */
export interface WmsShipTo {
  companyName: string | null;
  name: string | null;
  address1: string | null;
  address2: string | null;
  city: string | null;
  state: string | null;
  zip: string | null;
  country: string | null;
  phoneNumber: string | null;
  emailAddress: string | null;
}

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
    /**
     * Sandbox addition (Extensiv has no delivery tracking; in reality a carrier feed): when the
     * carrier delivered the shipped order, Extensiv format; null until then.
     */
    deliveredDate: string | null;
  };
  referenceNum: string;
  shipTo: WmsShipTo;
  routingInfo: { carrier: string | null; mode: string | null; trackingNumber: string | null };
  orderItems: WmsOrderItem[];
}

/** Extensiv receiver status: 0 Open (expected), 1 Complete (received), 2 Canceled. */
export type WmsReceiverStatus = 0 | 1 | 2;

/** An expected receipt (`/inventory/receivers`); the sandbox's returns arrive as these. */
export interface WmsReceiver {
  readOnly: {
    receiverId: number;
    status: WmsReceiverStatus;
    facilityIdentifier: { id: number; name: string };
    customerIdentifier: { id: number; name: string };
    creationDate: string;
    lastModifiedDate: string;
  };
  referenceNum: string;
  poNum: string | null;
  notes: string | null;
  receiveItems: { itemIdentifier: { sku: string; id: number }; qty: number }[];
}

/** Everything one WMS instance knows. */
export interface WmsStore {
  readonly facilities: readonly SeedWarehouse[];
  readonly facilitiesById: ReadonlyMap<number, SeedWarehouse>;
  /** Every stock row, sorted by SKU then facility id (the API's order). */
  readonly stock: StockSummary[];
  readonly stockBySku: Map<string, StockSummary[]>;
  /** Item ids by SKU (the whole catalogue: the WMS knows items it holds no stock of). */
  readonly itemIds: ReadonlyMap<string, number>;
  /** Orders sorted by order id. */
  readonly orders: WmsOrder[];
  readonly ordersById: Map<number, WmsOrder>;
  readonly ordersByReference: Map<string, WmsOrder[]>;
  /** Receivers sorted by receiver id. */
  readonly receivers: WmsReceiver[];
  readonly receiversById: Map<number, WmsReceiver>;
  readonly receiversByReference: Map<string, WmsReceiver[]>;
  /** Each order's version, behind its ETag; every change takes a new one from `nextVersion`. */
  readonly versions: Map<number, number>;
  nextVersion(): number;
  /** Hands out ids of new orders, order items and receivers. */
  readonly ids: { order: number; orderItem: number; receiver: number };
}

/** The one customer (depositor) the distributor is to its WMS. */
export const WMS_CUSTOMER = Object.freeze({ id: 1, name: 'Crossdock Distributor' });

/** First order id of each instance, so ids of the two WMSs never look alike. */
export const FIRST_ORDER_ID: Readonly<Record<SeedWarehouse['system'], number>> = {
  wms: 10_001,
  tpl: 70_001,
};

/** First receiver id of each instance. */
export const FIRST_RECEIVER_ID: Readonly<Record<SeedWarehouse['system'], number>> = {
  wms: 20_001,
  tpl: 80_001,
};

/** The id the sandbox gives the stock row of item `itemId` in `facilityId` (see {@link WmsAllocation}). */
export function receiveItemIdOf(facilityId: number, itemId: number): number {
  return facilityId * 1_000_000 + itemId;
}

/** The ship-to of a customer's address. */
export function shipToOf(customer: SeedCustomer | undefined): WmsShipTo {
  return {
    companyName: customer?.type === 'Company' ? customer.name : null,
    name: customer?.name ?? null,
    address1: customer?.address.line1 ?? null,
    address2: null,
    city: customer?.address.city ?? null,
    state: customer?.address.state ?? null,
    zip: customer?.address.postalCode ?? null,
    country: customer?.address.country ?? null,
    phoneNumber: customer?.phone ?? null,
    emailAddress: customer?.email ?? null,
  };
}

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
  customer: SeedCustomer | undefined,
  nextItemId: () => number,
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
      deliveredDate: null,
    },
    referenceNum: seed.number,
    shipTo: shipToOf(customer),
    routingInfo: {
      carrier: seed.carrier,
      mode: seed.carrier === null ? null : seed.carrier === 'R+L Carriers' ? 'LTL' : 'Ground',
      trackingNumber: seed.trackingNumber,
    },
    // Released orders hold their stock (shipped ones held it until they left); the seeded stock
    // summaries count it among their `allocated` without naming the orders.
    orderItems: seed.lines.map((line) => {
      const itemId = itemIds.get(line.sku) ?? 0;
      return {
        readOnly: {
          orderItemId: nextItemId(),
          fullyAllocated: true,
          allocations: [
            { receiveItemId: receiveItemIdOf(facility.facilityId, itemId), qty: line.quantity },
          ],
        },
        itemIdentifier: { sku: line.sku, id: itemId },
        qty: line.quantity,
      };
    }),
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

  const customers = new Map(world.customers.map((c) => [c.number, c]));
  let version = 0;
  const store: WmsStore = {
    facilities,
    facilitiesById,
    stock,
    stockBySku,
    itemIds,
    orders: [],
    ordersById: new Map(),
    ordersByReference: new Map(),
    receivers: [],
    receiversById: new Map(),
    receiversByReference: new Map(),
    versions: new Map(),
    nextVersion: () => ++version,
    ids: {
      order: FIRST_ORDER_ID[system],
      orderItem: FIRST_ORDER_ID[system] * 10,
      receiver: FIRST_RECEIVER_ID[system],
    },
  };
  for (const seed of world.orders) {
    if (seed.stage === 'OPEN') continue;
    const facility = byCode.get(seed.warehouse);
    if (!facility) continue;
    const order = orderOf(
      seed,
      store.ids.order++,
      facility,
      itemIds,
      customers.get(seed.customerNumber),
      () => store.ids.orderItem++,
    );
    addOrder(store, order);
  }
  return store;
}

/** Adds an order to the order indexes (orders arrive with ascending ids) with a first version. */
export function addOrder(store: WmsStore, order: WmsOrder): void {
  store.orders.push(order);
  store.ordersById.set(order.readOnly.orderId, order);
  store.versions.set(order.readOnly.orderId, store.nextVersion());
  const list = store.ordersByReference.get(order.referenceNum);
  if (list) list.push(order);
  else store.ordersByReference.set(order.referenceNum, [order]);
}

/** Adds a stock row (a SKU the facility did not hold yet), keeping the API's sort order. */
export function addStockRow(store: WmsStore, row: StockSummary): void {
  let lo = 0;
  let hi = store.stock.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = store.stock[mid];
    if (at && compareStock(at, row) < 0) lo = mid + 1;
    else hi = mid;
  }
  store.stock.splice(lo, 0, row);
  const list = store.stockBySku.get(row.itemIdentifier.sku);
  if (list) {
    list.push(row);
    list.sort(compareStock);
  } else {
    store.stockBySku.set(row.itemIdentifier.sku, [row]);
  }
}

/** Adds a receiver to the receiver indexes (receivers arrive with ascending ids). */
export function addReceiver(store: WmsStore, receiver: WmsReceiver): void {
  store.receivers.push(receiver);
  store.receiversById.set(receiver.readOnly.receiverId, receiver);
  const list = store.receiversByReference.get(receiver.referenceNum);
  if (list) list.push(receiver);
  else store.receiversByReference.set(receiver.referenceNum, [receiver]);
}

/** The ETag of an order's current version (Extensiv answers one on reads, creates and PUTs). */
export function orderEtag(store: WmsStore, order: WmsOrder): string {
  const id = order.readOnly.orderId;
  return `"${id}-${store.versions.get(id) ?? 0}"`;
}

/** Records a change to an order: a new version (so a new ETag) and `lastModifiedDate`. */
export function touchOrder(store: WmsStore, order: WmsOrder, stamp: string): void {
  order.readOnly.lastModifiedDate = stamp;
  store.versions.set(order.readOnly.orderId, store.nextVersion());
}

/** SKU, then facility id: the order stock summaries are listed in. */
export function compareStock(a: StockSummary, b: StockSummary): number {
  const sa = a.itemIdentifier.sku;
  const sb = b.itemIdentifier.sku;
  // Code-unit order, not localeCompare: stable across locales and ~10x faster on 100k rows.
  if (sa !== sb) return sa < sb ? -1 : 1;
  return a.facilityId - b.facilityId;
}

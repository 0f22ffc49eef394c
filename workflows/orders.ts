/**
 * The order workflows: placeOrder, cancelOrder, createReturn, the retry of a dead-lettered ERP
 * posting, and recordSystemEvent — an order following what the systems report (shipped,
 * delivered, invoiced; workflows/ingest.ts), through the same transitions and status events.
 * Each step goes through a connector, is recorded in the ledger, and is idempotent on a reference
 * of Crossdock's own (the order id for the ERP, a reservation reference for each WMS), so a
 * resumed or retried workflow finds what an earlier attempt did instead of redoing it.
 *
 * Domain failures (unknown SKU, credit hold, insufficient stock...) are returned as `userErrors`;
 * system failures are thrown as SourceError after whatever was done has been compensated.
 */
import { EventEmitter } from 'node:events';
import type { EventBus } from '../subscriptions/bus.js';
import { orderStatusEvent } from '../subscriptions/events.js';
import {
  isSourceError,
  type AddressRecord,
  type ChannelCode,
  type CustomerRecord,
  type ErpConnector,
  type MoneyRecord,
  type OrderRecord,
  type WmsConnector,
} from '../sources/contract.js';
import {
  deadLetterIdFor,
  orderIdFor,
  reservationReference,
  returnReferenceFor,
} from '../sources/identifiers.js';
import type { DeadLetter, Store, StoredOrder, StepOutcome } from '../store/contract.js';
import { allocate, type StockAvailability } from './allocation.js';
import type { IdempotencyGuard } from './idempotency.js';
import { createStepRunner, type StepObserver, type StepSubject } from './steps.js';
import {
  NO_SHIP_TO,
  orderDataOf,
  storedDataOf,
  type AllocationState,
  type OrderData,
  type PricedLine,
  type UnpublishedStatus,
} from './model.js';
import {
  SHIPMENT_PROGRESS_RANK,
  canTransition,
  hasShipped,
  isOrderStatus,
  nextStatusToward,
  reportedStatus,
  shippedStatus,
  type FulfilmentState,
  type OrderStatus,
  type ShipmentProgress,
} from './status.js';
import { addMoney, compareMoney, multiplyMoney, sumMoney } from './money.js';

/** Codes of domain failures (the GraphQL `UserErrorCode` enum). */
export type UserErrorCode =
  | 'CUSTOMER_NOT_FOUND'
  | 'CREDIT_HOLD'
  | 'CREDIT_LIMIT_EXCEEDED'
  | 'UNKNOWN_SKU'
  | 'ITEM_BLOCKED'
  | 'INVALID_QUANTITY'
  | 'DUPLICATE_SKU'
  | 'TOO_MANY_LINES'
  | 'INSUFFICIENT_STOCK'
  | 'ERP_REJECTED'
  | 'ORDER_NOT_FOUND'
  | 'ALREADY_SHIPPED'
  | 'ALREADY_CANCELLED'
  | 'NOT_SHIPPED'
  | 'INVALID_RETURN_QUANTITY'
  | 'DEAD_LETTER_NOT_FOUND'
  | 'DEAD_LETTER_RESOLVED'
  | 'API_KEY_NOT_FOUND'
  | 'API_KEY_ID_TAKEN'
  | 'INVALID_KEY_SCOPE';

/** A domain failure: data, not an exception. */
export interface UserError {
  readonly code: UserErrorCode;
  /** Path of the input field at fault (`["lines", 2, "quantity"]`), or null. */
  readonly field: readonly (string | number)[] | null;
  readonly message: string;
}

/** What a workflow answers (recorded for idempotent replay; JSON only). */
export interface OrderOutcome {
  readonly orderId: string | null;
  readonly status: OrderStatus | null;
  readonly userErrors: readonly UserError[];
}

/** Who runs a workflow. */
export interface WorkflowCaller {
  /** Key id: the idempotency scope and the ledger's `caller`. */
  readonly id: string;
  readonly correlationId: string | null;
  /**
   * The customer accounts the caller may order for (a partner's allow-list), or null/absent for
   * any. A customer outside it is refused exactly as an unknown one.
   */
  readonly customers?: readonly string[] | null;
}

/** placeOrder input. */
export interface PlaceOrderInput {
  readonly channel: ChannelCode;
  readonly customerNumber: string;
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[];
  readonly shipTo: AddressRecord | null;
  readonly externalReference: string | null;
}

/** Retry policy of dead-lettered steps. */
export interface RetryPolicy {
  /** First delay; doubles each attempt. @default 1_000 */
  readonly baseMs: number;
  /** Largest delay. @default 60_000 */
  readonly maxMs: number;
  /** Attempts before a letter is ABANDONED (needs a human). @default 50 */
  readonly maxAttempts: number;
}

/** The documented retry defaults. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  baseMs: 1_000,
  maxMs: 60_000,
  maxAttempts: 50,
});

/**
 * How old last-known ERP master data (customer, item, price) may be to accept an order while the
 * ERP cannot answer. The ERP validates again when the order is posted.
 * @default 86_400_000 // 24 hours
 */
export const DEFAULT_LAST_KNOWN_MAX_AGE_MS = 86_400_000;

/** Most lines one order may have. */
export const MAX_ORDER_LINES = 100;

/** Largest quantity of one line. */
export const MAX_LINE_QUANTITY = 100_000;

/** What the workflows need. */
export interface OrderWorkflowDeps {
  readonly erp: ErpConnector;
  readonly warehouses: readonly WmsConnector[];
  readonly store: Store;
  readonly bus: EventBus;
  readonly guard: IdempotencyGuard;
  readonly retry: RetryPolicy;
  readonly now: () => number;
  /**
   * Told of every workflow step after it is recorded (workflows/steps.ts): the seam metrics and
   * tracing attach to. An observer that throws is ignored.
   * @default none
   */
  readonly steps?: StepObserver;
}

/** Longest system message quoted in a userError. */
const MAX_SYSTEM_MESSAGE_CHARS = 300;
const clip = (message: string): string =>
  message.length <= MAX_SYSTEM_MESSAGE_CHARS
    ? message
    : `${message.slice(0, MAX_SYSTEM_MESSAGE_CHARS)}… (${message.length} characters)`;

const ue = (
  code: UserErrorCode,
  message: string,
  field: readonly (string | number)[] | null = null,
): UserError => ({
  code,
  field,
  message,
});

/** A fulfilment fact a system reported about an order. */
export type FulfilmentFact =
  | {
      readonly type: 'shipment';
      /** The WMS reference of the shipment: an allocation's reference, or the ERP order number. */
      readonly reference: string;
      readonly shipmentId: string;
      readonly progress: ShipmentProgress;
    }
  | { readonly type: 'invoice'; readonly invoiceNumber: string };

/** What a system reported about an order, for {@link OrderWorkflows.recordSystemEvent}. */
export interface SystemEvent {
  /** The SourceEvent id: the ledger records each id once, however often it arrives. */
  readonly eventId: string;
  /** The ledger step, e.g. `event:shipment:SHIPPED`. */
  readonly step: string;
  readonly outcome: StepOutcome;
  readonly detail: Readonly<Record<string, unknown>>;
  /** The fact the status follows; null for an event the ledger only records. */
  readonly fact: FulfilmentFact | null;
}

/** What {@link OrderWorkflows.recordSystemEvent} did. */
export interface SystemEventOutcome {
  /** The order afterwards. */
  readonly order: StoredOrder;
  /** Status changes made, each published on the bus. */
  readonly transitions: number;
  /** False when no ledger entry was added: a repeat of the event, or Crossdock's own write echoed. */
  readonly recorded: boolean;
}

/**
 * What the order workflows announce, for tests and diagnostics to await instead of polling the
 * store (issue #8). Listeners run synchronously inside the workflow; a listener that throws is
 * ignored (the workflow's outcome never depends on who listens).
 */
export interface OrderWorkflowEvents {
  /** A dead letter was retried or replayed successfully and is now RESOLVED (the stored letter). */
  deadLetterResolved: [letter: DeadLetter];
}

/** The order workflows. */
export interface OrderWorkflows {
  /** Announcements to await (see {@link OrderWorkflowEvents}). */
  readonly events: EventEmitter<OrderWorkflowEvents>;
  placeOrder(
    input: PlaceOrderInput,
    key: string,
    caller: WorkflowCaller,
  ): Promise<{ outcome: OrderOutcome; replayed: boolean }>;
  cancelOrder(
    orderId: string,
    reason: string,
    key: string,
    caller: WorkflowCaller,
  ): Promise<{ outcome: OrderOutcome; replayed: boolean }>;
  createReturn(
    orderId: string,
    lines: readonly { readonly sku: string; readonly quantity: number }[] | null,
    reason: string,
    key: string,
    caller: WorkflowCaller,
  ): Promise<{
    outcome: OrderOutcome & { readonly returnReference: string | null };
    replayed: boolean;
  }>;
  /** Runs one dead letter now (by id) or the next due one; returns what happened. */
  retryDeadLetter(
    owner: string,
    id?: string,
  ): Promise<{ letter: DeadLetter; resolved: boolean } | null>;
  /**
   * Follows what a system reported about an order (webhooks, polling; workflows/ingest.ts):
   * merges the fact into what is known of the order's fulfilment, moves the status as far as
   * the facts justify and the model allows — never backwards, so facts arriving out of order
   * end in the same state — publishing each change, and records the event in the ledger once
   * per event id. Null when Crossdock keeps no record of the order.
   */
  recordSystemEvent(
    orderId: string,
    event: SystemEvent,
    caller: WorkflowCaller,
  ): Promise<SystemEventOutcome | null>;
}

/** Makes the order workflows. */
export function createOrderWorkflows(deps: OrderWorkflowDeps): OrderWorkflows {
  const { erp, store, bus, guard, now } = deps;
  const byName = new Map(deps.warehouses.map((w) => [w.name, w]));
  const events = new EventEmitter<OrderWorkflowEvents>();
  /** Runs an `events.emit`; a listener that throws must not change the workflow's outcome. */
  const announce = (emit: () => void): void => {
    try {
      emit();
    } catch {
      // A failing listener is the listener's problem, not the order's.
    }
  };

  // Last-known ERP master data of this process: lets orders be accepted (PENDING_ERP) while the
  // ERP is down, priced and credit-checked as of the last time the ERP answered.
  const lastKnown = new Map<string, { readonly value: unknown; readonly at: number }>();
  const readThrough = async <V>(
    used: { lastKnown: boolean },
    kind: string,
    keys: readonly string[],
    fetch: (keys: readonly string[]) => Promise<(V | null)[]>,
  ): Promise<(V | null)[]> => {
    try {
      const values = await fetch(keys);
      values.forEach((value, i) => {
        if (value !== null) lastKnown.set(`${kind}\u0000${keys[i]}`, { value, at: now() });
      });
      return values;
    } catch (error) {
      if (!isSourceError(error) || error.code === 'SOURCE_BAD_RESPONSE') throw error;
      const known = keys.map((key) => lastKnown.get(`${kind}\u0000${key}`));
      if (known.some((entry) => !entry || now() - entry.at > DEFAULT_LAST_KNOWN_MAX_AGE_MS))
        throw error;
      used.lastKnown = true;
      return known.map((entry) => (entry?.value as V | undefined) ?? null);
    }
  };

  // Every step is recorded (ledger) and reported (observer) by the one runner.
  const steps = createStepRunner({ ledger: store.ledger, now, observer: deps.steps });

  /** Publishes the status change that produced `change.version` (its id names that version). */
  const publishChange = async (
    order: StoredOrder,
    change: { readonly version: number; readonly status: string; readonly previous: string | null },
    caller: WorkflowCaller,
  ) => {
    await bus.publish(
      orderStatusEvent(
        {
          id: `order:${order.id}:${change.version}`,
          at: new Date(now()).toISOString(),
          correlationId: caller.correlationId,
        },
        {
          orderId: order.id,
          erpNumber: order.erpNumber,
          channel: order.channel,
          customerNumber: order.customerNumber,
          status: change.status,
          previousStatus: change.previous,
        },
      ),
    );
  };

  const publish = (order: StoredOrder, previous: string | null, caller: WorkflowCaller) =>
    publishChange(order, { version: order.version, status: order.status, previous }, caller);

  /** Moves an order to `to` (with a data patch), retrying on a concurrent update. */
  const transition = async (
    id: string,
    to: OrderStatus,
    caller: WorkflowCaller,
    patch: (
      order: StoredOrder,
      data: OrderData,
    ) => Partial<OrderData> & { erpNumber?: string | null } = () => ({}),
  ): Promise<StoredOrder> => {
    for (let i = 0; i < 10; i++) {
      const order = await store.orders.get(id);
      if (!order) throw new Error(`order ${id} vanished from the store`);
      const from = order.status;
      if (!isOrderStatus(from) || (from !== to && !canTransition(from, to))) {
        throw new Error(`order ${id}: transition ${from} → ${to} is not allowed`);
      }
      const data = orderDataOf(order);
      const { erpNumber, ...dataPatch } = patch(order, data);
      const updated = await store.orders.update(
        id,
        order.version,
        {
          status: to,
          data: storedDataOf({ ...data, ...dataPatch }),
          ...(erpNumber === undefined ? {} : { erpNumber }),
        },
        now(),
      );
      if (updated) {
        if (from !== to) await publish(updated, from, caller);
        return updated;
      }
    }
    throw new Error(`order ${id}: too many concurrent updates`);
  };

  // --- following what the systems report (ingestion) ------------------------------------------

  /** The fulfilment state with `fact` merged in, or null when the fact adds nothing. */
  const mergeFact = (data: OrderData, fact: FulfilmentFact): FulfilmentState | null => {
    const known = data.fulfilment ?? { shipments: {}, invoices: [] };
    switch (fact.type) {
      case 'shipment': {
        // A reservation Crossdock made is tracked by its reference; anything else by its id.
        const own = data.allocations.some((a) => a.reference === fact.reference);
        // Crossdock created its reservations itself: their CREATED tells nothing new (and not
        // writing it keeps the order free for the placement still running).
        if (own && fact.progress === 'CREATED') return null;
        const key = own ? fact.reference : fact.shipmentId;
        const before = known.shipments[key];
        if (
          before !== undefined &&
          SHIPMENT_PROGRESS_RANK[before] >= SHIPMENT_PROGRESS_RANK[fact.progress]
        )
          return null;
        return { ...known, shipments: { ...known.shipments, [key]: fact.progress } };
      }
      case 'invoice':
        if (known.invoices.includes(fact.invoiceNumber)) return null;
        return { ...known, invoices: [...known.invoices, fact.invoiceNumber] };
      default: {
        const unreachable: never = fact;
        throw new Error(`unknown fulfilment fact ${JSON.stringify(unreachable)}`);
      }
    }
  };

  /**
   * Moves the order towards the status its facts justify, one allowed hop at a time, each
   * stored with an `unpublished` marker, then published; the marker is cleared at the end. A
   * failure between the two leaves the marker, and the next call publishes that change first
   * (same event id, so the bus has it once).
   */
  const advance = async (
    id: string,
    caller: WorkflowCaller,
  ): Promise<{ order: StoredOrder | null; moved: number }> => {
    let moved = 0;
    const published = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const order = await store.orders.get(id);
      if (!order) return { order: null, moved };
      const data = orderDataOf(order);
      const pending = data.unpublished;
      if (pending && !published.has(pending.version)) {
        // Stored by an attempt that failed (or died) before publishing it: out it goes now.
        await publishChange(order, pending, caller);
        published.add(pending.version);
      }
      const target = reportedStatus(data.fulfilment, data.allocations);
      const hop =
        target && isOrderStatus(order.status) ? nextStatusToward(order.status, target) : null;
      if (!hop) {
        if (!pending) return { order, moved };
        const { unpublished: _published, ...rest } = data;
        const cleared = await store.orders.update(
          id,
          order.version,
          { data: storedDataOf(rest) },
          now(),
        );
        if (cleared) return { order: cleared, moved };
        continue;
      }
      const change: UnpublishedStatus = {
        version: order.version + 1,
        status: hop,
        previous: order.status as OrderStatus,
      };
      const updated = await store.orders.update(
        id,
        order.version,
        { status: hop, data: storedDataOf({ ...data, unpublished: change }) },
        now(),
      );
      if (!updated) continue;
      await publishChange(updated, change, caller);
      published.add(change.version);
      moved++;
    }
    throw new Error(`order ${id}: too many concurrent updates`);
  };

  const recordSystemEvent: OrderWorkflows['recordSystemEvent'] = async (orderId, event, caller) => {
    let order = await store.orders.get(orderId);
    if (!order) return null;
    const { fact } = event;
    for (let i = 0; fact !== null; i++) {
      const data = orderDataOf(order);
      const fulfilment = mergeFact(data, fact);
      if (!fulfilment) break;
      const updated = await store.orders.update(
        orderId,
        order.version,
        { data: storedDataOf({ ...data, fulfilment }) },
        now(),
      );
      if (updated) break;
      if (i >= 10) throw new Error(`order ${orderId}: too many concurrent updates`);
      order = await store.orders.get(orderId);
      if (!order) return null;
    }
    const advanced = await advance(orderId, caller);
    const final = advanced.order ?? order;
    // The WMS announcing the reservation Crossdock made: the reserve step already records it.
    const echo =
      fact?.type === 'shipment' &&
      fact.progress === 'CREATED' &&
      orderDataOf(final).allocations.some((a) => a.reference === fact.reference);
    const seen = (await store.ledger.list(orderId)).some(
      (entry) => entry.detail['eventId'] === event.eventId,
    );
    if (echo || seen) return { order: final, transitions: advanced.moved, recorded: false };
    await steps.record(final, caller, {
      step: event.step,
      outcome: event.outcome,
      status: advanced.moved > 0 ? (final.status as OrderStatus) : null,
      detail: { ...event.detail, eventId: event.eventId },
    });
    return { order: final, transitions: advanced.moved, recorded: true };
  };

  // --- placeOrder -----------------------------------------------------------------------------

  const validateShape = (input: PlaceOrderInput): UserError[] => {
    const errors: UserError[] = [];
    if (input.lines.length === 0 || input.lines.length > MAX_ORDER_LINES) {
      errors.push(
        ue('TOO_MANY_LINES', `expected 1 to ${MAX_ORDER_LINES} lines, got ${input.lines.length}`, [
          'lines',
        ]),
      );
    }
    const seen = new Map<string, number>();
    input.lines.forEach((line, i) => {
      if (
        !Number.isInteger(line.quantity) ||
        line.quantity < 1 ||
        line.quantity > MAX_LINE_QUANTITY
      ) {
        errors.push(
          ue(
            'INVALID_QUANTITY',
            `expected a whole quantity from 1 to ${MAX_LINE_QUANTITY}, got ${line.quantity}`,
            ['lines', i, 'quantity'],
          ),
        );
      }
      const first = seen.get(line.sku);
      if (first !== undefined) {
        errors.push(
          ue(
            'DUPLICATE_SKU',
            `SKU ${line.sku} is already on line ${first + 1}; put its whole quantity on one line`,
            ['lines', i, 'sku'],
          ),
        );
      } else seen.set(line.sku, i);
    });
    return errors;
  };

  /** Validation against the systems: customer, items, prices, credit, stock. */
  const plan = async (
    input: PlaceOrderInput,
    allowed: readonly string[] | null,
  ): Promise<
    | { errors: UserError[] }
    | {
        errors: [];
        customer: CustomerRecord;
        lines: PricedLine[];
        total: MoneyRecord;
        stock: StockAvailability[];
        erpData: 'live' | 'last-known';
      }
  > => {
    const used = { lastKnown: false };
    const [customer] = await readThrough(used, 'customer', [input.customerNumber], (k) =>
      erp.customersByNumber(k),
    );
    if (!customer || (allowed !== null && !allowed.includes(customer.number)))
      return {
        errors: [
          ue('CUSTOMER_NOT_FOUND', `No customer with number ${input.customerNumber}`, [
            'customerId',
          ]),
        ],
      };
    if (customer.blocked === 'SHIP' || customer.blocked === 'ALL') {
      return {
        errors: [
          ue(
            'CREDIT_HOLD',
            `Customer ${customer.number} is on hold in the ERP (blocked: ${customer.blocked}); no new orders can be accepted`,
            ['customerId'],
          ),
        ],
      };
    }
    const skus = input.lines.map((l) => l.sku);
    const [items, prices] = await Promise.all([
      readThrough(used, 'item', skus, (k) => erp.itemsBySku(k)),
      readThrough(used, `price\u0000${customer.number}`, skus, (k) =>
        erp.customerPrices(customer.number, k),
      ),
    ]);
    const errors: UserError[] = [];
    const lines: PricedLine[] = [];
    input.lines.forEach((line, i) => {
      const item = items[i];
      if (!item)
        return void errors.push(
          ue('UNKNOWN_SKU', `No product with SKU ${line.sku}`, ['lines', i, 'sku']),
        );
      if (item.blocked)
        return void errors.push(
          ue('ITEM_BLOCKED', `Product ${line.sku} is blocked for sale in the ERP`, [
            'lines',
            i,
            'sku',
          ]),
        );
      const unit = prices[i]?.unitPrice ?? item.listPrice;
      lines.push({
        sku: line.sku,
        quantity: line.quantity,
        unitPrice: unit.amount,
        lineAmount: multiplyMoney(unit, line.quantity).amount,
      });
    });
    if (errors.length > 0) return { errors };
    const currencyCode = customer.currencyCode;
    const total = sumMoney(
      lines.map((l) => ({ amount: l.lineAmount, currencyCode })),
      currencyCode,
    );
    if (compareMoney(addMoney(customer.balanceDue, total), customer.creditLimit) > 0) {
      return {
        errors: [
          ue(
            'CREDIT_LIMIT_EXCEEDED',
            `Order total ${total.amount} ${currencyCode} plus balance due ${customer.balanceDue.amount} exceeds the credit limit ${customer.creditLimit.amount} of customer ${customer.number}`,
            ['customerId'],
          ),
        ],
      };
    }
    const stock: StockAvailability[] = [];
    await Promise.all(
      deps.warehouses.map(async (wms) => {
        const [positions, warehouses] = await Promise.all([wms.positions(skus), wms.warehouses()]);
        const kind = new Map(warehouses.map((w) => [w.code, w.kind]));
        for (const p of positions) {
          stock.push({
            sku: p.sku,
            warehouseCode: p.warehouseCode,
            source: wms.name,
            kind: kind.get(p.warehouseCode) ?? 'OWNED',
            available: p.available,
          });
        }
      }),
    );
    return {
      errors: [],
      customer,
      lines,
      total,
      stock,
      erpData: used.lastKnown ? 'last-known' : 'live',
    };
  };

  /** Reserves every allocation not yet reserved; compensates all on any failure. */
  const reserveAll = async (
    order: StoredOrder,
    caller: WorkflowCaller,
  ): Promise<
    | { ok: true; order: StoredOrder }
    | { ok: false; order: StoredOrder; short: boolean; error: unknown }
  > => {
    const data = orderDataOf(order);
    const shipTo = data.shipTo;
    const results = await Promise.allSettled(
      data.allocations.map(async (allocation) => {
        const wms = byName.get(allocation.source);
        if (!wms) throw new Error(`no warehouse system named ${allocation.source}`);
        const started = now();
        const reservation = await wms.reserve({
          reference: allocation.reference,
          warehouseCode: allocation.warehouseCode,
          shipTo: shipTo ?? NO_SHIP_TO,
          lines: allocation.lines,
        });
        await steps.record(order, caller, {
          step: `reserve:${allocation.warehouseCode}`,
          outcome: reservation.status === 'RESERVED' ? 'SUCCEEDED' : 'FAILED',
          detail: {
            reference: allocation.reference,
            source: allocation.source,
            nativeId: reservation.nativeId,
            reservation: reservation.status,
            lines: reservation.lines,
          },
          startedAt: started,
          warehouse: allocation.warehouseCode,
        });
        return reservation;
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    const partial = results.some((r) => r.status === 'fulfilled' && r.value.status !== 'RESERVED');
    if (!failed && !partial) {
      const reserved = await transition(order.id, 'ALLOCATED', caller, (_o, d) => ({
        allocations: d.allocations.map((a, i) => {
          const r = results[i];
          return { ...a, nativeId: r?.status === 'fulfilled' ? r.value.nativeId : a.nativeId };
        }),
      }));
      await steps.record(reserved, caller, {
        step: 'reserve',
        outcome: 'SUCCEEDED',
        status: 'ALLOCATED',
        detail: { warehouses: data.allocations.map((a) => a.warehouseCode) },
      });
      return { ok: true, order: reserved };
    }
    if (failed) {
      await steps.record(order, caller, {
        step: 'reserve',
        outcome: 'FAILED',
        detail: { error: String((failed as PromiseRejectedResult).reason) },
      });
    }
    const released = await compensate(
      order,
      caller,
      partial ? 'stock changed while reserving' : 'a warehouse system failed while reserving',
    );
    return {
      ok: false,
      order: released,
      short: partial && !failed,
      error: failed ? (failed as PromiseRejectedResult).reason : null,
    };
  };

  /** Releases every reservation of the order's current attempt (idempotent per reference). */
  const compensate = async (
    order: StoredOrder,
    caller: WorkflowCaller,
    why: string,
  ): Promise<StoredOrder> => {
    const data = orderDataOf(order);
    for (const allocation of data.allocations) {
      if (allocation.released) continue;
      const wms = byName.get(allocation.source);
      if (!wms) continue;
      const started = now();
      // Release until it holds: a reservation left behind is stock nobody can sell.
      await wms.release(allocation.reference);
      await steps.compensate(order, caller, {
        step: `release:${allocation.warehouseCode}`,
        outcome: 'COMPENSATED',
        detail: { reference: allocation.reference, why },
        startedAt: started,
        warehouse: allocation.warehouseCode,
      });
    }
    const fresh = await store.orders.get(order.id);
    if (!fresh) throw new Error(`order ${order.id} vanished from the store`);
    return fresh;
  };

  /** Posts the order to the ERP; ERP unavailable → PENDING_ERP and a dead letter. */
  const postToErp = async (
    order: StoredOrder,
    caller: WorkflowCaller,
  ): Promise<{ order: StoredOrder; userErrors: UserError[] }> => {
    const data = orderDataOf(order);
    const started = now();
    try {
      const created = await erp.createSalesOrder({
        externalDocumentNumber: order.id,
        customerNumber: data.customerNumber,
        channel: data.channel,
        orderDate: new Date(order.createdAt).toISOString().slice(0, 10),
        shipTo: data.shipTo ?? NO_SHIP_TO,
        currencyCode: data.currencyCode,
        lines: data.lines.map((l) => ({
          sku: l.sku,
          quantity: l.quantity,
          unitPrice: l.unitPrice,
        })),
      });
      await store.xrefs.put({
        type: 'Order',
        key: order.id,
        source: erp.name,
        entity: 'salesOrder',
        nativeId: created.erpId,
      });
      const latest = await store.orders.get(order.id);
      if (latest?.status === 'CANCELLED') {
        // Cancelled while this post was in flight: take the ERP order back out.
        await erp.cancelSalesOrder(created.number);
        await steps.compensate(latest, caller, {
          step: 'cancel:erp',
          outcome: 'COMPENSATED',
          detail: { erpNumber: created.number, why: 'cancelled while posting' },
          startedAt: started,
        });
        return { order: latest, userErrors: [] };
      }
      const accepted = await transition(order.id, 'ACCEPTED', caller, () => ({
        erpNumber: created.number,
      }));
      await steps.record(accepted, caller, {
        step: 'post:erp',
        outcome: 'SUCCEEDED',
        status: 'ACCEPTED',
        detail: { erpNumber: created.number, erpId: created.erpId },
        startedAt: started,
      });
      // What a fast warehouse reported while the order was being placed applies now.
      const caughtUp = await advance(order.id, caller);
      return { order: caughtUp.order ?? accepted, userErrors: [] };
    } catch (error) {
      if (
        isSourceError(error) &&
        error.code === 'SOURCE_REJECTED' &&
        error.reason === 'business_rule'
      ) {
        await steps.record(order, caller, {
          step: 'post:erp',
          outcome: 'FAILED',
          detail: { error: error.message },
          startedAt: started,
        });
        const released = await compensate(order, caller, 'the ERP rejected the order');
        const cancelled = await transition(released.id, 'CANCELLED', caller, (_o, d) => ({
          cancelReason: `ERP rejected: ${error.message}`,
          allocations: d.allocations.map((a) => ({ ...a, released: true })),
        }));
        await steps.record(cancelled, caller, {
          step: 'cancel',
          outcome: 'SUCCEEDED',
          status: 'CANCELLED',
          detail: { why: 'erp_rejected' },
        });
        // The ERP's own words, cut short: a system's answer is as untrusted as a client's.
        return { order: cancelled, userErrors: [ue('ERP_REJECTED', clip(error.message))] };
      }
      if (!isSourceError(error)) throw error;
      // The ERP is unavailable: accept the order and post it when the ERP answers again.
      const pending = await transition(order.id, 'PENDING_ERP', caller);
      const letter = await store.deadLetters.add({
        id: deadLetterIdFor(order.id, 'post:erp'),
        orderId: order.id,
        step: 'post:erp',
        payload: { orderId: order.id },
        lastError: error.message,
        nextAttemptAt: now() + deps.retry.baseMs,
        createdAt: now(),
      });
      await steps.record(pending, caller, {
        step: 'post:erp',
        outcome: 'FAILED',
        status: 'PENDING_ERP',
        detail: { error: error.message, deadLetter: letter.id, code: error.code },
        startedAt: started,
      });
      return { order: pending, userErrors: [] };
    }
  };

  /** Drives an order from wherever it is to the end of placement. */
  const drive = async (order: StoredOrder, caller: WorkflowCaller): Promise<OrderOutcome> => {
    let current = order;
    if (current.status === 'RECEIVED') {
      const reserved = await reserveAll(current, caller);
      if (!reserved.ok) {
        if (reserved.short) {
          const cancelled = await transition(current.id, 'CANCELLED', caller, (_o, d) => ({
            cancelReason: 'insufficient stock when reserving',
            allocations: d.allocations.map((a) => ({ ...a, released: true })),
          }));
          return {
            orderId: cancelled.id,
            status: 'CANCELLED',
            userErrors: [
              ue(
                'INSUFFICIENT_STOCK',
                'Stock changed while reserving; nothing was reserved. Check availability and order again.',
                ['lines'],
              ),
            ],
          };
        }
        // A system failed: everything reserved was released; a retry starts a new attempt.
        await transition(current.id, 'RECEIVED', caller, (_o, d) => ({
          attempt: d.attempt + 1,
          allocations: d.allocations.map((a) => ({ ...a, released: true })),
        }));
        throw reserved.error;
      }
      current = reserved.order;
    }
    if (current.status === 'ALLOCATED') {
      const posted = await postToErp(current, caller);
      return {
        orderId: posted.order.id,
        status: posted.order.status as OrderStatus,
        userErrors: posted.userErrors,
      };
    }
    return { orderId: current.id, status: current.status as OrderStatus, userErrors: [] };
  };

  /** A RECEIVED order whose earlier attempt released its reservations gets fresh references. */
  const renewAttempt = async (order: StoredOrder, caller: WorkflowCaller): Promise<StoredOrder> => {
    const data = orderDataOf(order);
    if (!data.allocations.some((a) => a.released)) return order;
    const stock = await plan(
      {
        channel: data.channel,
        customerNumber: data.customerNumber,
        lines: data.lines,
        shipTo: data.shipTo,
        externalReference: data.externalReference,
      },
      caller.customers ?? null,
    );
    if (stock.errors.length > 0 || !('stock' in stock)) return order;
    const allocation = allocate(data.lines, stock.stock);
    if (!allocation.ok) return order;
    return transition(order.id, 'RECEIVED', caller, () => ({
      allocations: allocation.allocations.map((a) => ({
        warehouseCode: a.warehouseCode,
        source: a.source,
        lines: a.lines,
        reference: reservationReference(order.id, a.warehouseCode, data.attempt),
        nativeId: null,
        released: false,
      })),
    }));
  };

  const placeOrder: OrderWorkflows['placeOrder'] = async (input, key, caller) => {
    const guarded = await guard.run(
      { scope: caller.id, key, operation: 'placeOrder', input },
      async (attempt) => {
        const id = orderIdFor(caller.id, key);
        const existing = await store.orders.get(id);
        if (existing) {
          // Taken over from a crashed attempt (or retried after a system failure): resume.
          const resumable =
            existing.status === 'RECEIVED' ? await renewAttempt(existing, caller) : existing;
          await steps.record(resumable, caller, {
            step: 'resume',
            outcome: 'STARTED',
            detail: { from: existing.status, takenOver: attempt.resumedFrom !== null },
          });
          return drive(resumable, caller);
        }
        const shapeErrors = validateShape(input);
        if (shapeErrors.length > 0) return { orderId: null, status: null, userErrors: shapeErrors };
        const planned = await plan(input, caller.customers ?? null);
        if (planned.errors.length > 0 || !('customer' in planned))
          return { orderId: null, status: null, userErrors: planned.errors };
        const allocation = allocate(input.lines, planned.stock);
        if (!allocation.ok) {
          return {
            orderId: null,
            status: null,
            userErrors: allocation.short.map((s) =>
              ue(
                'INSUFFICIENT_STOCK',
                `SKU ${s.sku}: ${s.requested} requested, ${s.available} available in all warehouses`,
                ['lines', input.lines.findIndex((l) => l.sku === s.sku), 'quantity'],
              ),
            ),
          };
        }
        const data: OrderData = {
          origin: 'crossdock',
          channel: input.channel,
          customerNumber: planned.customer.number,
          externalReference: input.externalReference,
          shipTo: input.shipTo ?? planned.customer.address,
          currencyCode: planned.customer.currencyCode,
          lines: planned.lines,
          total: planned.total.amount,
          attempt: 1,
          allocations: allocation.allocations.map((a): AllocationState => ({
            warehouseCode: a.warehouseCode,
            source: a.source,
            lines: a.lines,
            reference: reservationReference(id, a.warehouseCode, 1),
            nativeId: null,
            released: false,
          })),
          returns: [],
          cancelReason: null,
          request: { scope: caller.id, key, input },
        };
        if (input.externalReference !== null) {
          // Lets a channel's own events (a storefront cancellation) find the order.
          await store.xrefs.put({
            type: 'Order',
            key: id,
            source: `channel:${input.channel}`,
            entity: 'externalReference',
            nativeId: input.externalReference,
          });
        }
        const created = await store.orders.create({
          id,
          channel: input.channel,
          customerNumber: planned.customer.number,
          status: 'RECEIVED',
          erpNumber: null,
          data: storedDataOf(data),
          createdAt: now(),
        });
        await attempt.attachResource(id);
        await steps.record(created, caller, {
          step: 'receive',
          outcome: 'SUCCEEDED',
          status: 'RECEIVED',
          detail: {
            rule: allocation.rule,
            total: planned.total.amount,
            lines: planned.lines.length,
            erpData: planned.erpData,
          },
        });
        await publish(created, null, caller);
        return drive(created, caller);
      },
    );
    return { outcome: guarded.result, replayed: guarded.replayed };
  };

  // --- cancelOrder ----------------------------------------------------------------------------

  /** Crossdock's record of an order: its own, or a shadow of an ERP order it now acts on. */
  const orderFor = async (
    orderId: string,
  ): Promise<{ stored: StoredOrder | null; erpOrder: OrderRecord | null }> => {
    const stored =
      (await store.orders.get(orderId)) ?? (await store.orders.getByErpNumber(orderId));
    if (stored) {
      const [erpOrder] = stored.erpNumber ? await erp.ordersByNumber([stored.erpNumber]) : [null];
      return { stored, erpOrder: erpOrder ?? null };
    }
    const [erpOrder] = await erp.ordersByNumber([orderId]);
    return { stored: null, erpOrder: erpOrder ?? null };
  };

  /** Makes the shadow record of an ERP order so Crossdock can track what it does to it. */
  const shadowOf = async (
    erpOrder: OrderRecord,
    status: OrderStatus,
    caller: WorkflowCaller,
  ): Promise<StoredOrder> => {
    const data: OrderData = {
      origin: 'erp',
      channel: erpOrder.channel as ChannelCode,
      customerNumber: erpOrder.customerNumber,
      externalReference: erpOrder.externalReference,
      shipTo: erpOrder.shipTo,
      currencyCode: erpOrder.currencyCode,
      lines: erpOrder.lines.map((l) => ({
        sku: l.sku,
        quantity: l.quantity,
        unitPrice: l.unitPrice.amount,
        lineAmount: l.lineAmount.amount,
      })),
      total: erpOrder.totalIncludingTax.amount,
      attempt: 1,
      // ERP orders were released to the warehouses under their own number.
      allocations: [],
      returns: [],
      cancelReason: null,
      request: null,
    };
    try {
      const created = await store.orders.create({
        id: erpOrder.number,
        channel: erpOrder.channel,
        customerNumber: erpOrder.customerNumber,
        status,
        erpNumber: erpOrder.number,
        data: storedDataOf(data),
        createdAt: now(),
      });
      await steps.record(created, caller, {
        step: 'adopt',
        outcome: 'SUCCEEDED',
        status,
        detail: { from: 'erp' },
      });
      return created;
    } catch {
      const existing = await store.orders.get(erpOrder.number);
      if (!existing) throw new Error(`could not adopt ERP order ${erpOrder.number}`);
      return existing;
    }
  };

  const shippedQuantity = (erpOrder: OrderRecord | null) =>
    erpOrder?.lines.reduce((n, l) => n + l.shippedQuantity, 0) ?? 0;

  const cancelOrder: OrderWorkflows['cancelOrder'] = async (orderId, reason, key, caller) => {
    const guarded = await guard.run(
      { scope: caller.id, key, operation: 'cancelOrder', input: { orderId, reason } },
      async (): Promise<OrderOutcome> => {
        const { stored, erpOrder } = await orderFor(orderId);
        if (!stored && !erpOrder)
          return {
            orderId: null,
            status: null,
            userErrors: [ue('ORDER_NOT_FOUND', `No order with id ${orderId}`, ['orderId'])],
          };
        if (stored?.status === 'CANCELLED') {
          return {
            orderId: stored.id,
            status: 'CANCELLED',
            userErrors: [
              ue('ALREADY_CANCELLED', `Order ${stored.id} is already cancelled`, ['orderId']),
            ],
          };
        }
        const shipped = shippedQuantity(erpOrder) > 0 || hasShipped(stored?.status ?? '');
        if (shipped) {
          return {
            orderId: stored?.id ?? erpOrder?.number ?? orderId,
            status: (stored?.status as OrderStatus | undefined) ?? 'SHIPPED',
            userErrors: [
              ue(
                'ALREADY_SHIPPED',
                `Order ${orderId} has shipped and can no longer be cancelled; request a return instead`,
                ['orderId'],
              ),
            ],
          };
        }
        const order = stored ?? (await shadowOf(erpOrder as OrderRecord, 'ACCEPTED', caller));
        const data = orderDataOf(order);
        // Release stock first: a cancelled order must never keep stock reserved.
        try {
          if (data.origin === 'crossdock') await compensate(order, caller, `cancelled: ${reason}`);
          else {
            for (const wms of deps.warehouses) {
              const started = now();
              await wms.release(order.id);
              await steps.record(order, caller, {
                step: `release:${wms.name}`,
                outcome: 'SUCCEEDED',
                detail: { reference: order.id },
                startedAt: started,
              });
            }
          }
        } catch (error) {
          if (isSourceError(error) && error.reason === 'already_shipped') {
            return {
              orderId: order.id,
              status: order.status as OrderStatus,
              userErrors: [
                ue(
                  'ALREADY_SHIPPED',
                  `Order ${order.id} has shipped and can no longer be cancelled`,
                  ['orderId'],
                ),
              ],
            };
          }
          throw error;
        }
        // A PENDING_ERP order may have been posted by a retry a moment ago: look before leaving it.
        const erpNumber =
          order.erpNumber ??
          (order.status === 'PENDING_ERP'
            ? ((await erp.findSalesOrderByExternalNumber(order.id))?.number ?? null)
            : null);
        if (erpNumber) {
          const started = now();
          await erp.cancelSalesOrder(erpNumber);
          await steps.record(order, caller, {
            step: 'cancel:erp',
            outcome: 'SUCCEEDED',
            detail: { erpNumber },
            startedAt: started,
          });
        }
        const cancelled = await transition(order.id, 'CANCELLED', caller, (_o, d) => ({
          cancelReason: reason,
          allocations: d.allocations.map((a) => ({ ...a, released: true })),
        }));
        await steps.record(cancelled, caller, {
          step: 'cancel',
          outcome: 'SUCCEEDED',
          status: 'CANCELLED',
          detail: { reason },
        });
        return { orderId: cancelled.id, status: 'CANCELLED', userErrors: [] };
      },
    );
    return { outcome: guarded.result, replayed: guarded.replayed };
  };

  // --- createReturn ---------------------------------------------------------------------------

  const createReturn: OrderWorkflows['createReturn'] = async (
    orderId,
    lines,
    reason,
    key,
    caller,
  ) => {
    const guarded = await guard.run(
      { scope: caller.id, key, operation: 'createReturn', input: { orderId, lines, reason } },
      async (): Promise<OrderOutcome & { readonly returnReference: string | null }> => {
        const reference = returnReferenceFor(caller.id, key);
        const { stored, erpOrder } = await orderFor(orderId);
        if (!erpOrder) {
          return {
            orderId: stored?.id ?? null,
            status: (stored?.status as OrderStatus | undefined) ?? null,
            returnReference: null,
            userErrors: [
              ue(
                stored ? 'NOT_SHIPPED' : 'ORDER_NOT_FOUND',
                stored ? `Order ${orderId} has not shipped` : `No order with id ${orderId}`,
                ['orderId'],
              ),
            ],
          };
        }
        const shippedBySku = new Map(erpOrder.lines.map((l) => [l.sku, l.shippedQuantity]));
        const wanted =
          lines ??
          erpOrder.lines
            .filter((l) => l.shippedQuantity > 0)
            .map((l) => ({ sku: l.sku, quantity: l.shippedQuantity }));
        if (wanted.length === 0) {
          return {
            orderId: stored?.id ?? erpOrder.number,
            status: null,
            returnReference: null,
            userErrors: [
              ue(
                'NOT_SHIPPED',
                `Order ${orderId} has not shipped, so nothing can be returned; cancel it instead`,
                ['orderId'],
              ),
            ],
          };
        }
        const returned = new Map<string, number>();
        for (const r of stored ? orderDataOf(stored).returns : [])
          for (const l of r.lines) returned.set(l.sku, (returned.get(l.sku) ?? 0) + l.quantity);
        const errors: UserError[] = [];
        wanted.forEach((line, i) => {
          const max = (shippedBySku.get(line.sku) ?? 0) - (returned.get(line.sku) ?? 0);
          if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > max) {
            errors.push(
              ue(
                'INVALID_RETURN_QUANTITY',
                `SKU ${line.sku}: expected 1 to ${max} (shipped less already returned), got ${line.quantity}`,
                ['lines', i, 'quantity'],
              ),
            );
          }
        });
        if (errors.length > 0)
          return {
            orderId: stored?.id ?? erpOrder.number,
            status: null,
            returnReference: null,
            userErrors: errors,
          };
        const order = stored ?? (await shadowOf(erpOrder, shippedStatus(erpOrder), caller));
        const draft = {
          reference,
          orderNumber: erpOrder.number,
          customerNumber: erpOrder.customerNumber,
          reason,
          lines: wanted,
        };
        const startedErp = now();
        const erpReturn = await erp.createReturn(draft);
        await steps.record(order, caller, {
          step: 'return:erp',
          outcome: 'SUCCEEDED',
          detail: { reference, creditMemo: erpReturn.number },
          startedAt: startedErp,
        });
        // The return goes back to the warehouse that shipped the order.
        const shipments = (
          await Promise.all(
            deps.warehouses.map(async (w) => ({
              w,
              s: (await w.shipmentsByOrder([erpOrder.number]))[0] ?? [],
            })),
          )
        ).find((x) => x.s.length > 0);
        let wmsReturn = null;
        if (shipments) {
          const startedWms = now();
          const warehouseCode = shipments.s[0]?.warehouseCode ?? '';
          wmsReturn = await shipments.w.expectReturn({ ...draft, warehouseCode });
          await steps.record(order, caller, {
            step: `return:${shipments.w.name}`,
            outcome: 'SUCCEEDED',
            detail: { reference, receiver: wmsReturn.nativeId },
            startedAt: startedWms,
            ...(warehouseCode === '' ? {} : { warehouse: warehouseCode }),
          });
        }
        const updated = await transition(order.id, 'RETURN_REQUESTED', caller, (_o, d) => ({
          returns: [
            ...d.returns,
            { reference, reason, lines: wanted, erp: erpReturn, wms: wmsReturn, at: now() },
          ],
        }));
        await steps.record(updated, caller, {
          step: 'return',
          outcome: 'SUCCEEDED',
          status: 'RETURN_REQUESTED',
          detail: { reference },
        });
        return {
          orderId: updated.id,
          status: 'RETURN_REQUESTED',
          returnReference: reference,
          userErrors: [],
        };
      },
    );
    return { outcome: guarded.result, replayed: guarded.replayed };
  };

  // --- dead letters ---------------------------------------------------------------------------

  const retryDeadLetter: OrderWorkflows['retryDeadLetter'] = async (owner, id) => {
    const letter = await store.deadLetters.claim(owner, 60_000, now(), id);
    if (!letter) return null;
    const caller: WorkflowCaller = { id: 'system', correlationId: `dead-letter:${letter.id}` };
    // The order the letter is for, once a handler has loaded it (for the step's report).
    let subject: StepSubject = letter.orderId;
    try {
      switch (letter.step) {
        case 'post:erp': {
          const order = await store.orders.get(letter.orderId);
          if (order) subject = order;
          if (order?.status === 'PENDING_ERP') {
            // The order is ALLOCATED in substance; post it exactly like the first attempt did.
            const posted = await postToErp(order, caller);
            if (posted.order.status === 'PENDING_ERP') {
              throw new Error(
                String(
                  (await store.deadLetters.get(letter.id))?.lastError ?? 'ERP still unavailable',
                ),
              );
            }
          }
          break;
        }
        default:
          throw new Error(`no handler for dead-letter step ${letter.step}`);
      }
      const resolved = await store.deadLetters.release(
        letter.id,
        owner,
        { status: 'RESOLVED' },
        now(),
      );
      await steps.record(subject, caller, {
        step: `retry:${letter.step}`,
        outcome: 'SUCCEEDED',
        detail: { deadLetter: letter.id, attempts: letter.attempts },
      });
      // Null when the claim was lost meanwhile: then the letter is not this call's to announce.
      if (resolved) announce(() => events.emit('deadLetterResolved', resolved));
      return { letter: resolved ?? letter, resolved: true };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const attempts = letter.attempts;
      const outcome =
        attempts >= deps.retry.maxAttempts
          ? ({ status: 'ABANDONED', lastError: message } as const)
          : ({
              status: 'PENDING',
              lastError: message,
              // Exponential backoff with jitter, so many pending orders do not retry in lockstep.
              nextAttemptAt:
                now() +
                Math.min(deps.retry.maxMs, deps.retry.baseMs * 2 ** Math.min(attempts, 20)) *
                  (0.75 + Math.random() / 2),
            } as const);
      const released = await store.deadLetters.release(letter.id, owner, outcome, now());
      await steps.record(subject, caller, {
        step: `retry:${letter.step}`,
        outcome: 'FAILED',
        detail: { deadLetter: letter.id, attempts, error: message },
      });
      return { letter: released ?? letter, resolved: false };
    }
  };

  return { events, placeOrder, cancelOrder, createReturn, retryDeadLetter, recordSystemEvent };
}

/** Alias of {@link UserError} for the generated resolver types (the GraphQL type has its name). */
export type UserErrorRecord = UserError;

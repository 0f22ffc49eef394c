/**
 * The vocabulary of the order workflows: who runs them, what they take and answer, the retry
 * policy and limits, what the systems report, and the {@link OrderWorkflows} interface that
 * `createOrderWorkflows` (orders.ts) returns. Types and constants only, so every module of the
 * workflows can name them without importing the composition.
 */
import type { EventEmitter } from 'node:events';
import type { AddressRecord, ChannelCode, OrderRecord } from '../sources/contract.js';
import type { DeadLetter, StepOutcome, StoredOrder } from '../store/contract.js';
import type { OrderStatus, ShipmentProgress } from './status.js';
import type { UserError } from './user-errors.js';

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
  /**
   * Told the ERP's reply when this call posted the order and the ERP accepted it: the resolver
   * primes its order loader with it, so the mutation's payload does not read back from the ERP
   * the order the ERP has just returned.
   */
  readonly acceptedByErp?: (order: OrderRecord) => void;
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

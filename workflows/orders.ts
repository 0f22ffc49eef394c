/**
 * The order workflows, composed: placeOrder (planning.ts, placement.ts), cancelOrder
 * (cancellation.ts), createReturn (returns.ts), the retry of dead-lettered steps (retries.ts),
 * and recordSystemEvent — an order following what the systems report (system-events.ts). Each
 * module receives one typed context (context.ts): the connectors, the store, the step runner
 * every step is recorded through (steps.ts) and the order records (order-records.ts).
 * Each step goes through a connector, is recorded in the ledger, and is idempotent on a reference
 * of Crossdock's own (the order id for the ERP, a reservation reference for each WMS), so a
 * resumed or retried workflow finds what an earlier attempt did instead of redoing it.
 *
 * Domain failures (unknown SKU, credit hold, insufficient stock...) are returned as `userErrors`;
 * system failures are thrown as SourceError after whatever was done has been compensated.
 */
import { EventEmitter } from 'node:events';
import type { EventBus } from '../subscriptions/bus.js';
import type { ErpConnector, WmsConnector } from '../sources/contract.js';
import type { Store } from '../store/contract.js';
import { createCancellation } from './cancellation.js';
import type { OrderWorkflowContext } from './context.js';
import type { IdempotencyGuard } from './idempotency.js';
import { createOrderRecords } from './order-records.js';
import type { OrderWorkflowEvents, OrderWorkflows, RetryPolicy } from './order-types.js';
import { createPlacement } from './placement.js';
import { createPlanner } from './planning.js';
import { createRetries } from './retries.js';
import { createReturns } from './returns.js';
import { createStepRunner, type StepObserver } from './steps.js';
import { createSystemEvents } from './system-events.js';
import type { UserError } from './user-errors.js';

export {
  DEFAULT_LAST_KNOWN_MAX_AGE_MS,
  DEFAULT_RETRY,
  MAX_LINE_QUANTITY,
  MAX_ORDER_LINES,
} from './order-types.js';
export type {
  FulfilmentFact,
  OrderOutcome,
  OrderWorkflowEvents,
  OrderWorkflows,
  PlaceOrderInput,
  RetryPolicy,
  SystemEvent,
  SystemEventOutcome,
  WorkflowCaller,
} from './order-types.js';
export type { StepObserver, StepReport } from './steps.js';
export type { UserError, UserErrorCode } from './user-errors.js';

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

/** Makes the order workflows. */
export function createOrderWorkflows(deps: OrderWorkflowDeps): OrderWorkflows {
  const { erp, store, bus, now } = deps;
  // Every step is recorded (ledger) and reported (observer) by the one runner.
  const steps = createStepRunner({ ledger: store.ledger, now, observer: deps.steps });
  const ctx: OrderWorkflowContext = {
    erp,
    warehouses: deps.warehouses,
    byName: new Map(deps.warehouses.map((w) => [w.name, w])),
    store,
    guard: deps.guard,
    retry: deps.retry,
    now,
    steps,
    records: createOrderRecords({ erp, store, bus, steps, now }),
    // Last-known ERP master data of this process: lets orders be accepted (PENDING_ERP) while
    // the ERP is down, priced and credit-checked as of the last time the ERP answered.
    lastKnown: new Map(),
  };
  const events = new EventEmitter<OrderWorkflowEvents>();
  const placement = createPlacement(ctx, createPlanner(ctx));
  const { cancelOrder } = createCancellation(ctx, placement);
  const { createReturn } = createReturns(ctx);
  const { retryDeadLetter } = createRetries(ctx, placement, events);
  const { recordSystemEvent } = createSystemEvents(ctx);
  return {
    events,
    placeOrder: placement.placeOrder,
    cancelOrder,
    createReturn,
    retryDeadLetter,
    recordSystemEvent,
  };
}

/** Alias of {@link UserError} for the generated resolver types (the GraphQL type has its name). */
export type UserErrorRecord = UserError;

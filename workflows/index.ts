/**
 * The workflows of one Crossdock process: the idempotency guard, the order workflows, the
 * dead-letter retrier (due letters every `pollMs`, and at once when the ERP's breaker closes),
 * the recovery sweep that finishes orders whose process died mid-placement, the exception
 * queues' actions and the business views over the ledger.
 */
import { randomUUID } from 'node:crypto';
import { recoveryCorrelationId, withCorrelationId } from '../observability/correlation.js';
import type { EventBus } from '../subscriptions/bus.js';
import type { ErpConnector, WmsConnector } from '../sources/contract.js';
import type { Store } from '../store/contract.js';
import {
  createIdempotencyGuard,
  DEFAULT_LEASE_MS,
  DEFAULT_RETENTION_MS,
  IdempotencyError,
  type IdempotencyGuard,
} from './idempotency.js';
import { createBusinessViews, type BusinessViews } from './business-views.js';
import { createDeadLetterWorkflows, type DeadLetterWorkflows } from './dead-letters.js';
import { createExceptionWorkflows, type ExceptionWorkflows } from './exceptions.js';
import type { SlaThreshold } from './latency.js';
import { orderDataOf } from './model.js';
import { createStepRunner, type StepObserver } from './steps.js';
import {
  createOrderWorkflows,
  DEFAULT_RETRY,
  type OrderWorkflows,
  type PlaceOrderInput,
  type RetryPolicy,
} from './orders.js';

/** Options of {@link createWorkflows}. */
export interface WorkflowOptions {
  readonly erp: ErpConnector;
  readonly warehouses: readonly WmsConnector[];
  readonly store: Store;
  readonly bus: EventBus;
  /** @default DEFAULT_LEASE_MS */
  readonly leaseMs?: number;
  /** @default DEFAULT_RETENTION_MS */
  readonly retentionMs?: number;
  /** @default DEFAULT_RETRY */
  readonly retry?: RetryPolicy;
  /**
   * How often due dead letters and stalled orders are looked for.
   * @default 1_000
   */
  readonly pollMs?: number;
  /** Clock. @default Date.now */
  readonly now?: () => number;
  /** Told of every order workflow step (workflows/steps.ts). @default none */
  readonly steps?: StepObserver;
  /** Reports a background failure (the retrier and the sweep never throw). */
  readonly onError?: (error: unknown, where: string) => void;
  /** SLA thresholds of workflow steps (SLA_STEP_MS). @default none */
  readonly sla?: readonly SlaThreshold[];
  /**
   * Most ledger entries a business view reads (LEDGER_WINDOW_MAX_ENTRIES).
   * @default DEFAULT_MAX_WINDOW_ENTRIES // 20_000
   */
  readonly maxWindowEntries?: number;
}

/** The running workflows. */
export interface Workflows {
  readonly orders: OrderWorkflows;
  /** Replaying a dead letter by hand. */
  readonly deadLetters: DeadLetterWorkflows;
  readonly guard: IdempotencyGuard;
  /** Assigning, commenting on and resolving exception items. */
  readonly exceptions: ExceptionWorkflows;
  /** Latency by step, channel and warehouse; SLA breaches. */
  readonly views: BusinessViews;
  /** Runs due dead letters and the recovery sweep once; returns how many letters ran. */
  tick(): Promise<number>;
  /** Starts the background retrier. Idempotent. */
  start(): void;
  /** Stops it and waits for a tick in progress. */
  close(): Promise<void>;
}

/** Makes the workflows of this process. */
export function createWorkflows(options: WorkflowOptions): Workflows {
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const owner = `crossdock-${process.pid}-${randomUUID().slice(0, 8)}`;
  const guard = createIdempotencyGuard({
    store: options.store.idempotency,
    leaseMs,
    retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS,
    owner,
    now,
  });
  const orders = createOrderWorkflows({
    erp: options.erp,
    warehouses: options.warehouses,
    store: options.store,
    bus: options.bus,
    guard,
    retry: options.retry ?? DEFAULT_RETRY,
    now,
    ...(options.steps ? { steps: options.steps } : {}),
  });
  const deadLetters = createDeadLetterWorkflows({ store: options.store, guard, orders });
  const exceptions = createExceptionWorkflows({
    store: options.store,
    guard,
    // Its steps reach the same observer as the order workflows' steps.
    steps: createStepRunner({ ledger: options.store.ledger, now, observer: options.steps }),
    now,
  });
  const views = createBusinessViews({
    store: options.store,
    ...(options.sla ? { thresholds: options.sla } : {}),
    ...(options.maxWindowEntries ? { maxWindowEntries: options.maxWindowEntries } : {}),
  });
  const onError = options.onError ?? (() => undefined);

  /** Finishes placements whose process died: same key, same input, so the guard decides. */
  const sweep = async () => {
    for (const status of ['RECEIVED', 'ALLOCATED'] as const) {
      const stalled = await options.store.orders.list({ status, limit: 50 });
      for (const order of stalled) {
        if (now() - order.updatedAt < leaseMs) continue;
        try {
          // Inside the try: a record the workflows did not write is reported, not skipped silently.
          const { request } = orderDataOf(order);
          if (!request) continue;
          // In its own correlation: the calls and messages of the recovery carry it.
          const correlationId = recoveryCorrelationId(order.id);
          await withCorrelationId(correlationId, () =>
            orders.placeOrder(request.input as PlaceOrderInput, request.key, {
              id: request.scope,
              correlationId,
            }),
          );
        } catch (error) {
          // A live lease means its process is still working on it: nothing to recover.
          if (!(error instanceof IdempotencyError && error.code === 'IDEMPOTENCY_IN_PROGRESS'))
            onError(error, `recovery of ${order.id}`);
        }
      }
    }
  };

  let running: Promise<number> | null = null;
  const tick = (): Promise<number> =>
    (running ??= (async () => {
      let ran = 0;
      try {
        for (;;) {
          const outcome = await orders.retryDeadLetter(owner);
          if (!outcome) break;
          ran++;
          // Stop this round at the first failure: the system is likely still down.
          if (!outcome.resolved) break;
        }
        await sweep();
      } catch (error) {
        onError(error, 'dead-letter retry');
      }
      return ran;
    })().finally(() => {
      running = null;
    }));

  let timer: NodeJS.Timeout | null = null;
  let unsubscribe: (() => void) | null = null;
  return {
    orders,
    deadLetters,
    guard,
    exceptions,
    views,
    tick,
    start() {
      if (timer) return;
      timer = setInterval(() => void tick(), options.pollMs ?? 1_000);
      timer.unref();
      // The ERP answering again is the moment to post what waited for it.
      unsubscribe = options.erp.onStateChange((state) => {
        if (state === 'CLOSED') void tick();
      });
    },
    async close() {
      if (timer) clearInterval(timer);
      timer = null;
      unsubscribe?.();
      await running;
    },
  };
}

export { IdempotencyError } from './idempotency.js';
export { createIngest, STOREFRONT_CHANNEL } from './ingest.js';
export type { Ingest, IngestContext, IngestDeps } from './ingest.js';
export type { StepObserver, StepReport } from './steps.js';
export { WindowTooLarge } from './business-views.js';
export type { SlaThreshold } from './latency.js';
export type {
  OrderOutcome,
  UserError,
  UserErrorCode,
  WorkflowCaller,
  PlaceOrderInput,
} from './orders.js';

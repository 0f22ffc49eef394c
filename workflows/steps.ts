/**
 * The step runner (issue 11, "Two seams"): every step of an order workflow — reserve, post,
 * release, cancel, return, `event:*`, `retry:*` — is recorded here and nowhere else. It appends
 * the step to the order's ledger (what `Order.timeline` and `Query.trace` read) and reports it to
 * an optional {@link StepObserver}, the seam metrics and tracing attach to without the workflows
 * knowing them. Compensating steps (undoing a reservation, taking back an ERP order) go through
 * {@link StepRunner.compensate}, so an observer can tell them apart.
 */
import type { LedgerEntry, Ledger, StepOutcome, StoredOrder } from '../store/contract.js';
import { orderDataOf } from './model.js';
import type { OrderStatus } from './status.js';

/** Who runs a step: the ledger's `caller` and `correlationId`. */
export interface StepCaller {
  /** Key id, or `system` for background work. */
  readonly id: string;
  readonly correlationId: string | null;
}

/** One step as an observer sees it, after it was recorded in the ledger. */
export interface StepReport {
  readonly orderId: string;
  /** The ledger step name (`reserve:EAST`, `post:erp`, `event:shipment:SHIPPED`, ...). */
  readonly step: string;
  readonly outcome: StepOutcome;
  /** The order status after the step, when the step changed it. */
  readonly status: OrderStatus | null;
  /** How long the step's call to a system took; null for a step that called none. */
  readonly durationMs: number | null;
  /**
   * The correlation ID the step ran under, as the ledger records it: null only for a caller
   * that named none (every request and background job names one).
   */
  readonly correlationId: string | null;
  /** The order's channel when known. */
  readonly channel: string | null;
  /**
   * The warehouse the step concerns when known: the one it names (a reservation, a release, a
   * return, a shipment's `detail.warehouseCode`), else the order's allocation when the order
   * ships from a single warehouse; null otherwise.
   */
  readonly warehouse: string | null;
  /** True for a compensating step (the undo of a reservation or of an ERP order). */
  readonly compensation: boolean;
}

/**
 * Told of every step, synchronously, right after its ledger entry is written. An observer that
 * throws (or returns a promise that rejects) is ignored: a workflow's outcome never depends on
 * who watches it.
 */
export interface StepObserver {
  step(report: StepReport): void;
}

/** One step to record. */
export interface Step {
  readonly step: string;
  readonly outcome: StepOutcome;
  /** The order status after the step when it changed it. @default null */
  readonly status?: OrderStatus | null;
  /** What the ledger keeps of the step. @default {} */
  readonly detail?: Record<string, unknown>;
  /** When the step's call to a system started; the ledger's `durationMs` is measured from it. */
  readonly startedAt?: number;
  /** The warehouse the step concerns (see {@link StepReport.warehouse}). */
  readonly warehouse?: string;
}

/**
 * The order a step belongs to: the stored order when the workflow holds it (the report then
 * names its channel and warehouse), or only its id.
 */
export type StepSubject = StoredOrder | string;

/** Records workflow steps. */
export interface StepRunner {
  /** Appends `step` to the ledger of `order` and reports it. */
  record(order: StepSubject, caller: StepCaller, step: Step): Promise<LedgerEntry>;
  /** The same for a compensating step (`compensation: true` in the report). */
  compensate(order: StepSubject, caller: StepCaller, step: Step): Promise<LedgerEntry>;
}

/** What {@link createStepRunner} needs. */
export interface StepRunnerDeps {
  readonly ledger: Ledger;
  readonly now: () => number;
  /** Told of every step. @default none */
  readonly observer?: StepObserver | undefined;
}

/** The warehouse of a stored order's only allocation, or null (none, several, or no state). */
function soleWarehouse(order: StoredOrder): string | null {
  let codes: Set<string>;
  try {
    codes = new Set(orderDataOf(order).allocations.map((a) => a.warehouseCode));
  } catch {
    // Not written by the workflows: the report simply does not know.
    return null;
  }
  const [only] = codes;
  return codes.size === 1 && only !== undefined ? only : null;
}

/**
 * The warehouse a step concerns (what {@link StepReport.warehouse} says): the one the step names
 * (`named`), else its detail's `warehouseCode` (a shipment), else the order's allocation when it
 * ships from a single warehouse; null otherwise. The runner's reports and the ledger's read models
 * (business-views.ts) both ask this.
 */
export function stepWarehouse(
  named: string | null,
  detail: Readonly<Record<string, unknown>>,
  order: StoredOrder | null,
): string | null {
  const code = detail['warehouseCode'];
  return named ?? (typeof code === 'string' ? code : null) ?? (order ? soleWarehouse(order) : null);
}

/**
 * The warehouse a recorded step names, read back from its ledger entry: reservations and their
 * releases are recorded as `reserve:<warehouse>` / `release:<warehouse>` with that warehouse
 * (placement.ts). Other steps name none in the ledger (a return names its WMS, not the warehouse).
 */
export function warehouseNamedByStep(step: string): string | null {
  const match = /^(?:reserve|release):(.+)$/.exec(step);
  return match?.[1] ?? null;
}

/** Makes the step runner. */
export function createStepRunner(deps: StepRunnerDeps): StepRunner {
  const { ledger, now, observer } = deps;

  const report = (
    subject: StepSubject,
    step: Step,
    entry: LedgerEntry,
    compensation: boolean,
  ): void => {
    if (!observer) return;
    try {
      const order = typeof subject === 'string' ? null : subject;
      const returned: unknown = observer.step({
        orderId: entry.orderId,
        step: entry.step,
        outcome: entry.outcome,
        status: step.status ?? null,
        durationMs: entry.durationMs,
        correlationId: entry.correlationId,
        channel: order?.channel ?? null,
        warehouse: stepWarehouse(step.warehouse ?? null, entry.detail, order),
        compensation,
      });
      // An async observer's rejection must not become an unhandled rejection of the workflow.
      if (returned instanceof Promise) returned.catch(() => undefined);
    } catch {
      // The observer's failure is the observer's problem, not the order's.
    }
  };

  const append = async (
    subject: StepSubject,
    caller: StepCaller,
    step: Step,
    compensation: boolean,
  ): Promise<LedgerEntry> => {
    // Field for field (and in this order) what the ledger held before the runner existed.
    const entry = await ledger.append({
      orderId: typeof subject === 'string' ? subject : subject.id,
      at: now(),
      step: step.step,
      outcome: step.outcome,
      status: step.status ?? null,
      correlationId: caller.correlationId,
      caller: caller.id,
      durationMs: step.startedAt === undefined ? null : now() - step.startedAt,
      detail: step.detail ?? {},
    });
    report(subject, step, entry, compensation);
    return entry;
  };

  return {
    record: (order, caller, step) => append(order, caller, step, false),
    compensate: (order, caller, step) => append(order, caller, step, true),
  };
}

/**
 * The context every order workflow module receives (placement, cancellation, returns, system
 * events, retries): the connectors, the store, the guard, the clock, the step runner, the order
 * records and the last-known ERP data — the state they share, passed explicitly instead of
 * held in one closure or in module globals.
 */
import type { ErpConnector, WmsConnector } from '../sources/contract.js';
import type { Store } from '../store/contract.js';
import type { IdempotencyGuard } from './idempotency.js';
import type { OrderRecords } from './order-records.js';
import type { RetryPolicy } from './order-types.js';
import type { StepRunner } from './steps.js';

/**
 * Last-known ERP master data of this process (customers, items, prices) by kind and key, with
 * when it was read: lets orders be accepted while the ERP is down (planning.ts).
 */
export type LastKnownData = Map<string, { readonly value: unknown; readonly at: number }>;

/** What the order workflow modules share. */
export interface OrderWorkflowContext {
  readonly erp: ErpConnector;
  readonly warehouses: readonly WmsConnector[];
  /** The warehouse systems by connector name (an allocation's `source`). */
  readonly byName: ReadonlyMap<string, WmsConnector>;
  readonly store: Store;
  readonly guard: IdempotencyGuard;
  readonly retry: RetryPolicy;
  readonly now: () => number;
  /** Every step is recorded and reported through it. */
  readonly steps: StepRunner;
  readonly records: OrderRecords;
  readonly lastKnown: LastKnownData;
}

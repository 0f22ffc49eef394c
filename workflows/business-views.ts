/**
 * Business views over the ledger (issue #11, item 7): the latency of workflow steps by step,
 * channel and warehouse in a time window, and the steps that took longer than their SLA. A read
 * model: it reads the ledger's window (store.ledger.between) and the orders the entries belong
 * to, and leaves the arithmetic to latency.ts. The channel of a step is its order's; its warehouse
 * is what the step runner reports for it (steps.ts `stepWarehouse`). Only steps that called a
 * system carry a duration, so only those are measured.
 */
import type { LedgerEntry, Store, StoredOrder } from '../store/contract.js';
import {
  latencyRows,
  slaThresholdOf,
  type LatencyDimension,
  type LatencyRow,
  type SlaThreshold,
} from './latency.js';
import { stepWarehouse, warehouseNamedByStep } from './steps.js';

/**
 * Most ledger entries one view reads; a window holding more is refused ({@link WindowTooLarge}).
 * @default 20_000
 */
export const DEFAULT_MAX_WINDOW_ENTRIES = 20_000;

/** A window holding more ledger entries than a view reads: narrow it. */
export class WindowTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the window holds more than ${limit} ledger entries`);
    this.name = 'WindowTooLarge';
  }
}

/** A time window of the ledger: `since <= at < until` (epoch ms). */
export interface ViewWindow {
  readonly since: number;
  readonly until: number;
}

/** One step over its threshold. */
export interface SlaBreach {
  readonly seq: number;
  readonly orderId: string;
  readonly step: string;
  readonly at: number;
  readonly durationMs: number;
  readonly thresholdMs: number;
  readonly correlationId: string | null;
}

/** A page of breaches, oldest first. */
export interface SlaBreachPage {
  readonly items: readonly SlaBreach[];
  readonly hasNextPage: boolean;
}

/** The views. */
export interface BusinessViews {
  /** The SLA thresholds in force (SLA_STEP_MS). */
  readonly thresholds: readonly SlaThreshold[];
  /** Latency rows of the window's measured steps, grouped by `groupBy`. */
  stepLatency(window: ViewWindow, groupBy: readonly LatencyDimension[]): Promise<LatencyRow[]>;
  /** The window's steps over their threshold, oldest first, `first` of them after `after`. */
  slaBreaches(
    window: ViewWindow,
    first: number,
    after: { readonly at: number; readonly seq: number } | null,
  ): Promise<SlaBreachPage>;
}

/** What {@link createBusinessViews} needs. */
export interface BusinessViewDeps {
  readonly store: Store;
  /** @default none: no step has an SLA */
  readonly thresholds?: readonly SlaThreshold[];
  /** @default DEFAULT_MAX_WINDOW_ENTRIES */
  readonly maxWindowEntries?: number;
}

/** Orders looked up at once while grouping by channel or warehouse. */
const ORDER_LOOKUP_BATCH = 50;

/** Makes the views. */
export function createBusinessViews(deps: BusinessViewDeps): BusinessViews {
  const { store } = deps;
  const thresholds = deps.thresholds ?? [];
  const maxEntries = deps.maxWindowEntries ?? DEFAULT_MAX_WINDOW_ENTRIES;

  /** The window's measured entries (those with a duration); refused when it holds too many. */
  const measured = async (window: ViewWindow, after?: { at: number; seq: number }) => {
    const entries = await store.ledger.between({
      since: window.since,
      until: window.until,
      ...(after ? { after } : {}),
      // One more than the bound tells "exactly the bound" from "more than it".
      limit: maxEntries + 1,
    });
    if (entries.length > maxEntries) throw new WindowTooLarge(maxEntries);
    return entries.filter((e): e is LedgerEntry & { durationMs: number } => e.durationMs !== null);
  };

  const ordersOf = async (entries: readonly LedgerEntry[]) => {
    const ids = [...new Set(entries.map((e) => e.orderId))];
    const orders = new Map<string, StoredOrder | null>();
    for (let i = 0; i < ids.length; i += ORDER_LOOKUP_BATCH) {
      const batch = ids.slice(i, i + ORDER_LOOKUP_BATCH);
      const found = await Promise.all(batch.map((id) => store.orders.get(id)));
      batch.forEach((id, j) => orders.set(id, found[j] ?? null));
    }
    return orders;
  };

  return {
    thresholds,
    async stepLatency(window, groupBy) {
      const entries = await measured(window);
      const needOrders = groupBy.includes('CHANNEL') || groupBy.includes('WAREHOUSE');
      const orders = needOrders ? await ordersOf(entries) : new Map<string, StoredOrder | null>();
      return latencyRows(
        entries.map((e) => {
          const order = orders.get(e.orderId) ?? null;
          return {
            step: e.step,
            channel: order?.channel ?? null,
            warehouse: needOrders
              ? stepWarehouse(warehouseNamedByStep(e.step), e.detail, order)
              : null,
            durationMs: e.durationMs,
          };
        }),
        groupBy,
        thresholds,
      );
    },
    async slaBreaches(window, first, after) {
      const breaches: SlaBreach[] = [];
      for (const e of await measured(window, after ?? undefined)) {
        const threshold = slaThresholdOf(e.step, thresholds);
        if (threshold === null || e.durationMs <= threshold) continue;
        breaches.push({
          seq: e.seq,
          orderId: e.orderId,
          step: e.step,
          at: e.at,
          durationMs: e.durationMs,
          thresholdMs: threshold,
          correlationId: e.correlationId,
        });
      }
      return { items: breaches.slice(0, first), hasNextPage: breaches.length > first };
    },
  };
}

/** Alias of {@link SlaBreach} for the generated resolver types (the GraphQL type has its name). */
export type SlaBreachRecord = SlaBreach;

/**
 * An order's timeline, as a read model: assembled from what the caller has gathered (the
 * ledger of an order Crossdock worked on; or the ERP order, its shipments and its invoices),
 * with no I/O of its own. Order.timeline (resolvers/order.ts) gathers the inputs and calls it.
 */
import type { InvoiceRecord, OrderRecord, ShipmentRecord } from '../sources/contract.js';
import type { LedgerEntry } from '../store/contract.js';
import { isOrderStatus, orderedStatus, type OrderStatus } from './status.js';

/** One entry of an order's timeline. */
export interface TimelineEntry {
  readonly at: string;
  readonly status: OrderStatus;
  readonly step: string;
  readonly source: string;
  readonly detail: string | null;
  readonly sincePreviousMs: number | null;
  /** How long the step took (ledger entries of Crossdock's workflows). */
  readonly latencyMs?: number | null;
  readonly correlationId?: string | null;
  readonly caller?: string | null;
}

/** Ledger steps done at a warehouse system (their detail names which one). */
const WAREHOUSE_STEP = /^(reserve|release|return):/;

/** Ledger steps done at the ERP. */
const ERP_STEP = /erp/;

/**
 * The timeline of an order Crossdock worked on: its ledger, oldest first, each entry with the
 * status in force after it, the system it concerned, the time since the previous entry and its
 * own duration. `erpSource` is the ERP connector's name.
 */
export function ledgerTimeline(
  entries: readonly LedgerEntry[],
  erpSource: string,
): TimelineEntry[] {
  let status: OrderStatus = 'RECEIVED';
  let previousAt: number | null = null;
  return entries.map((entry) => {
    if (entry.status && isOrderStatus(entry.status)) status = entry.status;
    const source = WAREHOUSE_STEP.test(entry.step)
      ? String(entry.detail.source ?? 'wms')
      : ERP_STEP.test(entry.step)
        ? erpSource
        : 'crossdock';
    const timelineEntry: TimelineEntry = {
      at: new Date(entry.at).toISOString(),
      status,
      step: `${entry.step} ${entry.outcome.toLowerCase()}`,
      source,
      detail: Object.keys(entry.detail).length > 0 ? JSON.stringify(entry.detail) : null,
      sincePreviousMs: previousAt === null ? null : entry.at - previousAt,
      latencyMs: entry.durationMs,
      correlationId: entry.correlationId,
      caller: entry.caller,
    };
    previousAt = entry.at;
    return timelineEntry;
  });
}

/** A system that could not answer while the timeline was gathered. */
export interface TimelineGap {
  /** The system's name, or `unknown`. */
  readonly source: string;
  readonly reason: string;
}

/** What the response says about a timeline with entries missing. */
export interface TimelineWarning {
  readonly code: 'PARTIAL_TIMELINE';
  readonly source: string;
  readonly message: string;
}

/** What {@link systemsTimeline} is assembled from. */
export interface SystemsTimelineInput {
  /** The ERP's sales order. */
  readonly order: OrderRecord;
  /** The ERP connector's name. */
  readonly erpSource: string;
  /** The order's shipments from every warehouse system that answered. */
  readonly shipments: readonly ShipmentRecord[];
  /** Its invoices; null when the ERP could not list them (then a gap says so). */
  readonly invoices: readonly InvoiceRecord[] | null;
  /** The systems that did not answer, in the order they are reported. */
  readonly gaps: readonly TimelineGap[];
}

/** A timeline and the warnings of the entries it misses. */
export interface AssembledTimeline {
  readonly entries: TimelineEntry[];
  readonly warnings: TimelineWarning[];
}

/** Causal rank of the steps of an ERP order's timeline. */
const STEP_RANK: Readonly<Record<string, number>> = { ordered: 0, shipped: 1, invoiced: 2 };

/**
 * The timeline of an order Crossdock keeps no record of, from what the systems record: ordered
 * (ERP), each shipment that shipped (WMS), each invoice (ERP); one PARTIAL_TIMELINE warning per
 * system that did not answer.
 */
export function systemsTimeline(input: SystemsTimelineInput): AssembledTimeline {
  const { order, erpSource } = input;
  const entries: Omit<TimelineEntry, 'sincePreviousMs'>[] = [
    {
      at: order.orderDate,
      status: orderedStatus(order.erpStatus),
      step: 'ordered',
      source: erpSource,
      detail: order.externalReference ? `channel reference ${order.externalReference}` : null,
    },
  ];
  for (const shipment of input.shipments) {
    if (shipment.shippedAt) {
      entries.push({
        at: shipment.shippedAt,
        status: 'SHIPPED',
        step: 'shipped',
        source: shipment.source,
        detail: [shipment.warehouseCode, shipment.carrier, shipment.trackingNumber]
          .filter(Boolean)
          .join(' '),
      });
    }
  }
  for (const invoice of input.invoices ?? []) {
    entries.push({
      at: invoice.invoiceDate,
      status: 'INVOICED',
      step: 'invoiced',
      source: erpSource,
      detail: invoice.number,
    });
  }
  const warnings = input.gaps.map((gap): TimelineWarning => ({
    code: 'PARTIAL_TIMELINE',
    source: gap.source,
    message: `timeline of ${order.number} is missing entries: ${gap.reason}`,
  }));
  // Causal order first (an invoice follows its shipment), then time: ERP posting dates are
  // dates without a time, so by time alone an invoice dated the day of shipping sorts first.
  entries.sort(
    (a, b) =>
      (STEP_RANK[a.step] ?? 0) - (STEP_RANK[b.step] ?? 0) || Date.parse(a.at) - Date.parse(b.at),
  );
  return {
    entries: entries.map((entry, i) => {
      const gap =
        i === 0 ? null : Date.parse(entry.at) - Date.parse(entries[i - 1]?.at ?? entry.at);
      // A negative gap only means a date-only ERP date; it is not a latency.
      return { ...entry, sincePreviousMs: gap === null || gap < 0 ? null : gap };
    }),
    warnings,
  };
}

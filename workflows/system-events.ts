/**
 * recordSystemEvent: an order following what the systems report (webhooks, polling;
 * ingest.ts). Each fact is merged into what is known of the order's fulfilment, the status moves
 * as far as the facts justify and the status rules allow (order-records.ts `advance`, status.ts),
 * and the event is recorded as a step once per event id.
 */
import type { OrderWorkflowContext } from './context.js';
import { orderDataOf, storedDataOf, type OrderData } from './model.js';
import type { FulfilmentFact, OrderWorkflows } from './order-types.js';
import { SHIPMENT_PROGRESS_RANK, type FulfilmentState, type OrderStatus } from './status.js';

/** Makes recordSystemEvent over the context. */
export function createSystemEvents(
  ctx: OrderWorkflowContext,
): Pick<OrderWorkflows, 'recordSystemEvent'> {
  const { store, now, steps } = ctx;
  const { advance } = ctx.records;

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

  return { recordSystemEvent };
}

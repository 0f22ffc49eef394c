/**
 * Applying what the systems report (issue #4): the normalized events of signed webhooks
 * (server/webhooks.ts, verified by the connectors) and of polling (workflows/poller.ts) go
 * through one `apply`. For each event, in order:
 *
 *   shipment      the order follows (its ledger, its status: OrderWorkflows.recordSystemEvent),
 *                 then a shipment event on the bus, carrying the order's channel and customer
 *   stock         an inventory event
 *   creditStatus  a customer credit event
 *   invoicePosted the order with that ERP number follows (INVOICED)
 *   channelOrder  a storefront order: cancelled → Crossdock's cancelOrder; updated → ledger only
 *
 * Every step is safe to repeat, because webhooks are retried and polls overlap: the bus drops
 * an event id it has (the canonical event's id is the SourceEvent's id), facts merge
 * monotonically, the ledger records an event id once, and cancellation runs under the
 * idempotency guard keyed by the event id. A failure is thrown to the caller (the webhook
 * answers 503 and the vendor retries; the poller keeps its checkpoint).
 */
import type { EventBus } from '../subscriptions/bus.js';
import {
  customerCreditEvent,
  inventoryEvent,
  shipmentEvent,
  type EventMeta,
} from '../subscriptions/events.js';
import type {
  ChannelCode,
  ChannelOrderSourceEvent,
  InvoicePostedSourceEvent,
  OrderSource,
  ShipmentSourceEvent,
  SourceEvent,
} from '../sources/contract.js';
import { CROSSDOCK_ORDER_ID, orderIdOfReservation } from '../sources/identifiers.js';
import type { Store, StoredOrder } from '../store/contract.js';
import { feedUnmatchedEvent } from './exceptions.js';
import { channelReferenceOf } from './model.js';
import type { OrderWorkflows, WorkflowCaller } from './orders.js';

/**
 * The channel of the commerce platform's storefront orders: a storefront order's name (`#1001`)
 * is the `externalReference` of the Crossdock order placed for it on this channel.
 */
export const STOREFRONT_CHANNEL: ChannelCode = 'WEB';

/** Who applies a batch of events (the ledger's `caller`) and under which correlation ID. */
export interface IngestContext {
  /** `webhook:<system>`, `poller:<source>`, ... */
  readonly caller: string;
  readonly correlationId: string | null;
}

/** What {@link createIngest} needs. */
export interface IngestDeps {
  readonly store: Store;
  readonly bus: EventBus;
  readonly orders: OrderWorkflows;
  /**
   * Looks up the channel and customer of a shipment of an ERP order Crossdock keeps no record
   * of; without it such shipment events carry nulls.
   */
  readonly erp?: OrderSource | undefined;
  /** Clock. @default Date.now */
  readonly now?: (() => number) | undefined;
  /** Reports a failure that does not stop the event (an optional look-up). @default ignore */
  readonly onError?: ((error: unknown, where: string) => void) | undefined;
}

/** Applies normalized events. */
export interface Ingest {
  /** Applies `events` in order; resolves with how many events it put on the bus. */
  apply(
    events: readonly SourceEvent[],
    context: { readonly caller: string; readonly correlationId: string | null },
  ): Promise<{ readonly published: number }>;
}

/** Makes the ingestion of one process. */
export function createIngest(deps: IngestDeps): Ingest {
  const { store, bus, orders } = deps;
  const now = deps.now ?? Date.now;
  const onError = deps.onError ?? (() => undefined);

  /** Puts an event that matched no order in its exception queue (once per event id). */
  const unmatched = async (
    event: SourceEvent,
    summary: string,
    detail: Readonly<Record<string, unknown>>,
  ): Promise<void> => {
    await feedUnmatchedEvent(store, event, summary, detail, now());
  };

  /** The Crossdock order a WMS reference belongs to: a reservation of it, or its ERP number. */
  const orderOfReference = async (reference: string): Promise<StoredOrder | null> => {
    const id = orderIdOfReservation(reference);
    if (id !== null) return store.orders.get(id);
    return store.orders.getByErpNumber(reference);
  };

  const shipment = async (
    event: ShipmentSourceEvent,
    meta: EventMeta,
    caller: WorkflowCaller,
  ): Promise<number> => {
    const record = event.shipment;
    const reference = record.orderNumber;
    const order = await orderOfReference(reference);
    let transitions = 0;
    let channel = order?.channel ?? null;
    let customerNumber = order?.customerNumber ?? null;
    if (order) {
      const followed = await orders.recordSystemEvent(
        order.id,
        {
          eventId: event.id,
          step: `event:shipment:${event.kind}`,
          outcome: 'SUCCEEDED',
          detail: {
            source: event.source,
            shipmentId: record.id,
            warehouseCode: record.warehouseCode,
            reference,
            status: record.status,
            carrier: record.carrier,
            trackingNumber: record.trackingNumber,
            occurredAt: event.occurredAt,
          },
          fact: { type: 'shipment', reference, shipmentId: record.id, progress: event.kind },
        },
        caller,
      );
      transitions = followed?.transitions ?? 0;
    } else if (orderIdOfReservation(reference) !== null) {
      // A reservation Crossdock made for an order it does not have: someone must look.
      await unmatched(
        event,
        `Shipment ${record.id} names order ${reference}, which Crossdock does not have`,
        {
          reference,
          shipmentId: record.id,
          warehouseCode: record.warehouseCode,
        },
      );
    } else if (deps.erp) {
      // An ERP order released to the warehouse under its own number: the ERP knows its channel.
      try {
        const [erpOrder] = await deps.erp.ordersByNumber([reference]);
        channel = erpOrder?.channel ?? null;
        customerNumber = erpOrder?.customerNumber ?? null;
        if (!erpOrder) {
          await unmatched(
            event,
            `Shipment ${record.id} names order ${reference}, which neither Crossdock nor the ERP has`,
            {
              reference,
              shipmentId: record.id,
              warehouseCode: record.warehouseCode,
            },
          );
        }
      } catch (error) {
        onError(error, `channel of shipment ${record.id} (order ${reference})`);
      }
    }
    await bus.publish(
      shipmentEvent(meta, {
        kind: event.kind,
        shipmentId: record.id,
        source: event.source,
        warehouseCode: record.warehouseCode,
        orderId: order?.id ?? null,
        orderNumber: reference,
        channel,
        customerNumber,
        status: record.status,
        carrier: record.carrier,
        trackingNumber: record.trackingNumber,
        lines: record.lines,
        occurredAt: event.occurredAt,
      }),
    );
    return transitions + 1;
  };

  const invoicePosted = async (
    event: InvoicePostedSourceEvent,
    caller: WorkflowCaller,
  ): Promise<number> => {
    // Orders Crossdock placed carry their id as the ERP's external document number.
    const order =
      (await store.orders.getByErpNumber(event.orderNumber)) ??
      (event.externalDocumentNumber ? await store.orders.get(event.externalDocumentNumber) : null);
    if (!order) {
      // An invoice of an order placed in the ERP directly is none of Crossdock's business; one
      // naming a Crossdock order that Crossdock does not have is billing's to look at.
      const named = event.externalDocumentNumber;
      if (named && CROSSDOCK_ORDER_ID.test(named)) {
        await unmatched(
          event,
          `Invoice ${event.invoiceNumber} names order ${named}, which Crossdock does not have`,
          {
            invoiceNumber: event.invoiceNumber,
            orderNumber: event.orderNumber,
            externalDocumentNumber: named,
          },
        );
      }
      return 0;
    }
    const followed = await orders.recordSystemEvent(
      order.id,
      {
        eventId: event.id,
        step: 'event:invoicePosted',
        outcome: 'SUCCEEDED',
        detail: {
          source: event.source,
          invoiceNumber: event.invoiceNumber,
          orderNumber: event.orderNumber,
          total: event.total,
          occurredAt: event.occurredAt,
        },
        fact: { type: 'invoice', invoiceNumber: event.invoiceNumber },
      },
      caller,
    );
    return followed?.transitions ?? 0;
  };

  const channelOrder = async (
    event: ChannelOrderSourceEvent,
    caller: WorkflowCaller,
  ): Promise<number> => {
    const { source, entity } = channelReferenceOf(STOREFRONT_CHANNEL);
    const orderId = await store.xrefs.findKey('Order', source, entity, event.name);
    if (orderId === null) {
      // The storefront has an order Crossdock never placed: its change reaches nobody.
      await unmatched(
        event,
        `Storefront order ${event.name} was ${event.change.toLowerCase()}, but no Crossdock order has that reference`,
        { name: event.name, channelOrderId: event.channelOrderId, change: event.change },
      );
      return 0;
    }
    const detail = {
      source: event.source,
      channelOrderId: event.channelOrderId,
      name: event.name,
      occurredAt: event.occurredAt,
    };
    switch (event.change) {
      case 'UPDATED': {
        const followed = await orders.recordSystemEvent(
          orderId,
          {
            eventId: event.id,
            step: 'event:channelOrder:UPDATED',
            outcome: 'SUCCEEDED',
            detail: { ...detail, note: event.note, tags: event.tags },
            fact: null,
          },
          caller,
        );
        return followed?.transitions ?? 0;
      }
      case 'CANCELLED': {
        // The storefront cancelled it: Crossdock cancels its order the way a caller would,
        // under the guard keyed by the event id, so a repeat replays instead of running again.
        const cancelled = await orders.cancelOrder(
          orderId,
          `cancelled on the storefront (${event.cancelReason ?? 'no reason given'})`,
          event.id,
          caller,
        );
        const refusal = cancelled.outcome.userErrors[0];
        await orders.recordSystemEvent(
          orderId,
          {
            eventId: event.id,
            step: 'event:channelOrder:CANCELLED',
            outcome: !refusal
              ? 'SUCCEEDED'
              : refusal.code === 'ALREADY_CANCELLED'
                ? 'SKIPPED'
                : 'FAILED',
            detail: {
              ...detail,
              cancelReason: event.cancelReason,
              ...(refusal ? { refused: refusal.code, message: refusal.message } : {}),
            },
            fact: null,
          },
          caller,
        );
        return !refusal && !cancelled.replayed ? 1 : 0;
      }
      default: {
        const unreachable: never = event.change;
        throw new Error(`unknown channel order change ${String(unreachable)}`);
      }
    }
  };

  const applyOne = async (event: SourceEvent, context: IngestContext): Promise<number> => {
    const caller: WorkflowCaller = { id: context.caller, correlationId: context.correlationId };
    const meta: EventMeta = {
      id: event.id,
      at: new Date(now()).toISOString(),
      correlationId: context.correlationId,
    };
    switch (event.type) {
      case 'shipment':
        return shipment(event, meta, caller);
      case 'stock':
        await bus.publish(
          inventoryEvent(meta, {
            sku: event.sku,
            warehouseCode: event.warehouseCode,
            source: event.source,
            onHand: event.onHand,
            available: event.available,
            allocated: event.allocated,
            delta: event.delta,
            reason: event.reason,
            occurredAt: event.occurredAt,
          }),
        );
        return 1;
      case 'creditStatus':
        await bus.publish(
          customerCreditEvent(meta, {
            customerNumber: event.customerNumber,
            blocked: event.blocked,
            previousBlocked: event.previousBlocked,
            occurredAt: event.occurredAt,
          }),
        );
        return 1;
      case 'invoicePosted':
        return invoicePosted(event, caller);
      case 'channelOrder':
        return channelOrder(event, caller);
      default: {
        const unreachable: never = event;
        throw new Error(`unknown source event ${JSON.stringify(unreachable)}`);
      }
    }
  };

  return {
    async apply(events, context) {
      let published = 0;
      // In order: a system's events of one delivery or one poll may depend on each other.
      for (const event of events) published += await applyOne(event, context);
      return { published };
    },
  };
}

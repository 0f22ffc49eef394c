/**
 * Loading and saving orders and publishing their status changes: a transition checked against
 * the status rules (status.ts), the catch-up to the status the systems' facts justify, and
 * Crossdock's record of an order — its own, or the shadow of an ERP order it acts on (`adopt`).
 * Shared by every order workflow through the context (context.ts).
 */
import type { EventBus } from '../subscriptions/bus.js';
import { orderStatusEvent } from '../subscriptions/events.js';
import type { ChannelCode, ErpConnector, OrderRecord } from '../sources/contract.js';
import type { Store, StoredOrder } from '../store/contract.js';
import { feedOrder } from './exceptions.js';
import { orderDataOf, storedDataOf, type OrderData, type UnpublishedStatus } from './model.js';
import type { WorkflowCaller } from './order-types.js';
import {
  canTransition,
  isOrderStatus,
  nextStatusToward,
  reportedStatus,
  type OrderStatus,
} from './status.js';
import type { StepRunner } from './steps.js';

/** What {@link createOrderRecords} needs. */
export interface OrderRecordsDeps {
  readonly erp: ErpConnector;
  readonly store: Store;
  readonly bus: EventBus;
  readonly steps: StepRunner;
  readonly now: () => number;
}

/** Orders as the workflows load, save and publish them. */
export interface OrderRecords {
  /** Publishes the status change that produced `change.version` (its id names that version). */
  publishChange(
    order: StoredOrder,
    change: { readonly version: number; readonly status: string; readonly previous: string | null },
    caller: WorkflowCaller,
  ): Promise<void>;
  /** Publishes the order's current status, reached from `previous`. */
  publish(order: StoredOrder, previous: string | null, caller: WorkflowCaller): Promise<void>;
  /** Moves an order to `to` (with a data patch), retrying on a concurrent update. */
  transition(
    id: string,
    to: OrderStatus,
    caller: WorkflowCaller,
    patch?: (
      order: StoredOrder,
      data: OrderData,
    ) => Partial<OrderData> & { erpNumber?: string | null },
  ): Promise<StoredOrder>;
  /**
   * Moves the order towards the status its facts justify, one allowed hop at a time, each
   * stored with an `unpublished` marker, then published; the marker is cleared at the end.
   */
  advance(
    id: string,
    caller: WorkflowCaller,
  ): Promise<{ order: StoredOrder | null; moved: number }>;
  /** Crossdock's record of an order (by id or ERP number) and the ERP's order, when either exists. */
  orderFor(orderId: string): Promise<{ stored: StoredOrder | null; erpOrder: OrderRecord | null }>;
  /** Makes the shadow record of an ERP order so Crossdock can track what it does to it. */
  shadowOf(
    erpOrder: OrderRecord,
    status: OrderStatus,
    caller: WorkflowCaller,
  ): Promise<StoredOrder>;
}

/** Makes the order records of one set of workflows. */
export function createOrderRecords(deps: OrderRecordsDeps): OrderRecords {
  const { erp, store, bus, steps, now } = deps;

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
        // A held order waits for a person (issue #11, exception queues); none is held today.
        if (to === 'CREDIT_HOLD' && from !== to) {
          await feedOrder(
            store,
            updated,
            'ORDER_HELD',
            'The order is held for credit review',
            now(),
          );
        }
        return updated;
      }
    }
    throw new Error(`order ${id}: too many concurrent updates`);
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
    } catch (error) {
      const existing = await store.orders.get(erpOrder.number);
      if (!existing)
        throw new Error(`could not adopt ERP order ${erpOrder.number}`, { cause: error });
      return existing;
    }
  };

  return { publishChange, publish, transition, advance, orderFor, shadowOf };
}

/**
 * placeOrder: plan (planning.ts), allocate (allocation.ts), receive, reserve in each warehouse's
 * WMS, post to the ERP; compensation (releasing every reservation of the attempt) when a step
 * after reservation fails; PENDING_ERP and a dead letter while the ERP is unavailable; resuming
 * an order whose earlier attempt failed or whose process died. Every step goes through the
 * context's step runner.
 */
import { isSourceError } from '../sources/contract.js';
import { deadLetterIdFor, orderIdFor, reservationReference } from '../sources/identifiers.js';
import type { StoredOrder } from '../store/contract.js';
import { allocate } from './allocation.js';
import type { OrderWorkflowContext } from './context.js';
import { feedDeadLetter, feedOrder } from './exceptions.js';
import {
  NO_SHIP_TO,
  channelReferenceOf,
  orderDataOf,
  storedDataOf,
  type AllocationState,
  type OrderData,
} from './model.js';
import type { OrderOutcome, OrderWorkflows, WorkflowCaller } from './order-types.js';
import type { Planner } from './planning.js';
import type { OrderStatus } from './status.js';
import { clip, ue, type UserError } from './user-errors.js';

/** Placement, and the parts of it other workflows reuse. */
export interface Placement {
  readonly placeOrder: OrderWorkflows['placeOrder'];
  /** Posts an ALLOCATED (or PENDING_ERP) order to the ERP; ERP unavailable → PENDING_ERP and a dead letter. */
  postToErp(
    order: StoredOrder,
    caller: WorkflowCaller,
  ): Promise<{ order: StoredOrder; userErrors: UserError[] }>;
  /** Releases every reservation of the order's current attempt (compensating steps). */
  releaseReservations(
    order: StoredOrder,
    caller: WorkflowCaller,
    why: string,
  ): Promise<StoredOrder>;
}

/** Makes placement over the context, planning with `planner`. */
export function createPlacement(ctx: OrderWorkflowContext, planner: Planner): Placement {
  const { erp, store, guard, now, byName, steps } = ctx;
  const { transition, publish, advance } = ctx.records;
  const { validateShape, plan } = planner;

  /** Reserves every allocation not yet reserved; compensates all on any failure. */
  const reserveAll = async (
    order: StoredOrder,
    caller: WorkflowCaller,
  ): Promise<
    | { ok: true; order: StoredOrder }
    | { ok: false; order: StoredOrder; short: boolean; error: unknown }
  > => {
    const data = orderDataOf(order);
    const shipTo = data.shipTo;
    const results = await Promise.allSettled(
      data.allocations.map(async (allocation) => {
        const wms = byName.get(allocation.source);
        if (!wms) throw new Error(`no warehouse system named ${allocation.source}`);
        const started = now();
        const reservation = await wms.reserve({
          reference: allocation.reference,
          warehouseCode: allocation.warehouseCode,
          shipTo: shipTo ?? NO_SHIP_TO,
          lines: allocation.lines,
        });
        await steps.record(order, caller, {
          step: `reserve:${allocation.warehouseCode}`,
          outcome: reservation.status === 'RESERVED' ? 'SUCCEEDED' : 'FAILED',
          detail: {
            reference: allocation.reference,
            source: allocation.source,
            nativeId: reservation.nativeId,
            reservation: reservation.status,
            lines: reservation.lines,
          },
          startedAt: started,
          warehouse: allocation.warehouseCode,
        });
        return reservation;
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    const partial = results.some((r) => r.status === 'fulfilled' && r.value.status !== 'RESERVED');
    if (!failed && !partial) {
      const reserved = await transition(order.id, 'ALLOCATED', caller, (_o, d) => ({
        allocations: d.allocations.map((a, i) => {
          const r = results[i];
          return { ...a, nativeId: r?.status === 'fulfilled' ? r.value.nativeId : a.nativeId };
        }),
      }));
      await steps.record(reserved, caller, {
        step: 'reserve',
        outcome: 'SUCCEEDED',
        status: 'ALLOCATED',
        detail: { warehouses: data.allocations.map((a) => a.warehouseCode) },
      });
      return { ok: true, order: reserved };
    }
    if (failed) {
      await steps.record(order, caller, {
        step: 'reserve',
        outcome: 'FAILED',
        detail: { error: String((failed as PromiseRejectedResult).reason) },
      });
    }
    const released = await releaseReservations(
      order,
      caller,
      partial ? 'stock changed while reserving' : 'a warehouse system failed while reserving',
    );
    return {
      ok: false,
      order: released,
      short: partial && !failed,
      error: failed ? (failed as PromiseRejectedResult).reason : null,
    };
  };

  /** Releases every reservation of the order's current attempt (idempotent per reference). */
  const releaseReservations = async (
    order: StoredOrder,
    caller: WorkflowCaller,
    why: string,
  ): Promise<StoredOrder> => {
    const data = orderDataOf(order);
    for (const allocation of data.allocations) {
      if (allocation.released) continue;
      const wms = byName.get(allocation.source);
      if (!wms) continue;
      const started = now();
      // Release until it holds: a reservation left behind is stock nobody can sell.
      await wms.release(allocation.reference);
      await steps.compensate(order, caller, {
        step: `release:${allocation.warehouseCode}`,
        outcome: 'COMPENSATED',
        detail: { reference: allocation.reference, why },
        startedAt: started,
        warehouse: allocation.warehouseCode,
      });
    }
    const fresh = await store.orders.get(order.id);
    if (!fresh) throw new Error(`order ${order.id} vanished from the store`);
    return fresh;
  };

  /** Posts the order to the ERP; ERP unavailable → PENDING_ERP and a dead letter. */
  const postToErp = async (
    order: StoredOrder,
    caller: WorkflowCaller,
  ): Promise<{ order: StoredOrder; userErrors: UserError[] }> => {
    const data = orderDataOf(order);
    const started = now();
    try {
      const created = await erp.createSalesOrder({
        externalDocumentNumber: order.id,
        customerNumber: data.customerNumber,
        channel: data.channel,
        orderDate: new Date(order.createdAt).toISOString().slice(0, 10),
        shipTo: data.shipTo ?? NO_SHIP_TO,
        currencyCode: data.currencyCode,
        lines: data.lines.map((l) => ({
          sku: l.sku,
          quantity: l.quantity,
          unitPrice: l.unitPrice,
        })),
      });
      await store.xrefs.put({
        type: 'Order',
        key: order.id,
        source: erp.name,
        entity: 'salesOrder',
        nativeId: created.erpId,
      });
      const latest = await store.orders.get(order.id);
      if (latest?.status === 'CANCELLED') {
        // Cancelled while this post was in flight: take the ERP order back out.
        await erp.cancelSalesOrder(created.number);
        await steps.compensate(latest, caller, {
          step: 'cancel:erp',
          outcome: 'COMPENSATED',
          detail: { erpNumber: created.number, why: 'cancelled while posting' },
          startedAt: started,
        });
        return { order: latest, userErrors: [] };
      }
      const accepted = await transition(order.id, 'ACCEPTED', caller, () => ({
        erpNumber: created.number,
      }));
      caller.acceptedByErp?.(created);
      await steps.record(accepted, caller, {
        step: 'post:erp',
        outcome: 'SUCCEEDED',
        status: 'ACCEPTED',
        detail: { erpNumber: created.number, erpId: created.erpId },
        startedAt: started,
      });
      // What a fast warehouse reported while the order was being placed applies now.
      const caughtUp = await advance(order.id, caller);
      return { order: caughtUp.order ?? accepted, userErrors: [] };
    } catch (error) {
      if (
        isSourceError(error) &&
        error.code === 'SOURCE_REJECTED' &&
        error.reason === 'business_rule'
      ) {
        await steps.record(order, caller, {
          step: 'post:erp',
          outcome: 'FAILED',
          detail: { error: error.message },
          startedAt: started,
        });
        const released = await releaseReservations(order, caller, 'the ERP rejected the order');
        const cancelled = await transition(released.id, 'CANCELLED', caller, (_o, d) => ({
          cancelReason: `ERP rejected: ${error.message}`,
          allocations: d.allocations.map((a) => ({ ...a, released: true })),
        }));
        await steps.record(cancelled, caller, {
          step: 'cancel',
          outcome: 'SUCCEEDED',
          status: 'CANCELLED',
          detail: { why: 'erp_rejected' },
        });
        await feedOrder(
          store,
          cancelled,
          'ORDER_REJECTED',
          `The ERP rejected the order: ${error.message}`,
          now(),
        );
        // The ERP's own words, cut short: a system's answer is as untrusted as a client's.
        return { order: cancelled, userErrors: [ue('ERP_REJECTED', clip(error.message))] };
      }
      if (!isSourceError(error)) throw error;
      // The ERP is unavailable: accept the order and post it when the ERP answers again.
      const pending = await transition(order.id, 'PENDING_ERP', caller);
      const letter = await store.deadLetters.add({
        id: deadLetterIdFor(order.id, 'post:erp'),
        orderId: order.id,
        step: 'post:erp',
        payload: { orderId: order.id },
        lastError: error.message,
        nextAttemptAt: now() + ctx.retry.baseMs,
        createdAt: now(),
      });
      await steps.record(pending, caller, {
        step: 'post:erp',
        outcome: 'FAILED',
        status: 'PENDING_ERP',
        detail: { error: error.message, deadLetter: letter.id, code: error.code },
        startedAt: started,
      });
      // The order desk sees it until the retrier posts it (retries.ts resolves the item then).
      await feedDeadLetter(store, letter, now());
      return { order: pending, userErrors: [] };
    }
  };

  /** Drives an order from wherever it is to the end of placement. */
  const drive = async (order: StoredOrder, caller: WorkflowCaller): Promise<OrderOutcome> => {
    let current = order;
    if (current.status === 'RECEIVED') {
      const reserved = await reserveAll(current, caller);
      if (!reserved.ok) {
        if (reserved.short) {
          const cancelled = await transition(current.id, 'CANCELLED', caller, (_o, d) => ({
            cancelReason: 'insufficient stock when reserving',
            allocations: d.allocations.map((a) => ({ ...a, released: true })),
          }));
          return {
            orderId: cancelled.id,
            status: 'CANCELLED',
            userErrors: [
              ue(
                'INSUFFICIENT_STOCK',
                'Stock changed while reserving; nothing was reserved. Check availability and order again.',
                ['lines'],
              ),
            ],
          };
        }
        // A system failed: everything reserved was released; a retry starts a new attempt.
        await transition(current.id, 'RECEIVED', caller, (_o, d) => ({
          attempt: d.attempt + 1,
          allocations: d.allocations.map((a) => ({ ...a, released: true })),
        }));
        throw reserved.error;
      }
      current = reserved.order;
    }
    if (current.status === 'ALLOCATED') {
      const posted = await postToErp(current, caller);
      return {
        orderId: posted.order.id,
        status: posted.order.status as OrderStatus,
        userErrors: posted.userErrors,
      };
    }
    return { orderId: current.id, status: current.status as OrderStatus, userErrors: [] };
  };

  /** A RECEIVED order whose earlier attempt released its reservations gets fresh references. */
  const renewAttempt = async (order: StoredOrder, caller: WorkflowCaller): Promise<StoredOrder> => {
    const data = orderDataOf(order);
    if (!data.allocations.some((a) => a.released)) return order;
    const stock = await plan(
      {
        channel: data.channel,
        customerNumber: data.customerNumber,
        lines: data.lines,
        shipTo: data.shipTo,
        externalReference: data.externalReference,
      },
      caller.customers ?? null,
    );
    if (stock.errors.length > 0 || !('stock' in stock)) return order;
    const allocation = allocate(data.lines, stock.stock);
    if (!allocation.ok) return order;
    return transition(order.id, 'RECEIVED', caller, () => ({
      allocations: allocation.allocations.map((a) => ({
        warehouseCode: a.warehouseCode,
        source: a.source,
        lines: a.lines,
        reference: reservationReference(order.id, a.warehouseCode, data.attempt),
        nativeId: null,
        released: false,
      })),
    }));
  };

  const placeOrder: OrderWorkflows['placeOrder'] = async (input, key, caller) => {
    const guarded = await guard.run(
      { scope: caller.id, key, operation: 'placeOrder', input },
      async (attempt) => {
        const id = orderIdFor(caller.id, key);
        const existing = await store.orders.get(id);
        if (existing) {
          // Taken over from a crashed attempt (or retried after a system failure): resume.
          const resumable =
            existing.status === 'RECEIVED' ? await renewAttempt(existing, caller) : existing;
          await steps.record(resumable, caller, {
            step: 'resume',
            outcome: 'STARTED',
            detail: { from: existing.status, takenOver: attempt.resumedFrom !== null },
          });
          return drive(resumable, caller);
        }
        const shapeErrors = validateShape(input);
        if (shapeErrors.length > 0) return { orderId: null, status: null, userErrors: shapeErrors };
        const planned = await plan(input, caller.customers ?? null);
        if (planned.errors.length > 0 || !('customer' in planned))
          return { orderId: null, status: null, userErrors: planned.errors };
        const allocation = allocate(input.lines, planned.stock);
        if (!allocation.ok) {
          return {
            orderId: null,
            status: null,
            userErrors: allocation.short.map((s) =>
              ue(
                'INSUFFICIENT_STOCK',
                `SKU ${s.sku}: ${s.requested} requested, ${s.available} available in all warehouses`,
                ['lines', input.lines.findIndex((l) => l.sku === s.sku), 'quantity'],
              ),
            ),
          };
        }
        const data: OrderData = {
          origin: 'crossdock',
          channel: input.channel,
          customerNumber: planned.customer.number,
          externalReference: input.externalReference,
          shipTo: input.shipTo ?? planned.customer.address,
          currencyCode: planned.customer.currencyCode,
          lines: planned.lines,
          total: planned.total.amount,
          attempt: 1,
          allocations: allocation.allocations.map((a): AllocationState => ({
            warehouseCode: a.warehouseCode,
            source: a.source,
            lines: a.lines,
            reference: reservationReference(id, a.warehouseCode, 1),
            nativeId: null,
            released: false,
          })),
          returns: [],
          cancelReason: null,
          request: { scope: caller.id, key, input },
        };
        if (input.externalReference !== null) {
          // Lets a channel's own events (a storefront cancellation) find the order.
          await store.xrefs.put({
            type: 'Order',
            key: id,
            ...channelReferenceOf(input.channel),
            nativeId: input.externalReference,
          });
        }
        const created = await store.orders.create({
          id,
          channel: input.channel,
          customerNumber: planned.customer.number,
          status: 'RECEIVED',
          erpNumber: null,
          data: storedDataOf(data),
          createdAt: now(),
        });
        await attempt.attachResource(id);
        await steps.record(created, caller, {
          step: 'receive',
          outcome: 'SUCCEEDED',
          status: 'RECEIVED',
          detail: {
            rule: allocation.rule,
            total: planned.total.amount,
            lines: planned.lines.length,
            erpData: planned.erpData,
          },
        });
        await publish(created, null, caller);
        return drive(created, caller);
      },
    );
    return { outcome: guarded.result, replayed: guarded.replayed };
  };

  return { placeOrder, postToErp, releaseReservations };
}

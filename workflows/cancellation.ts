/**
 * cancelOrder: refused once anything shipped (ERP shipped quantities, a shipped status, or the
 * WMS answering already_shipped); otherwise releases stock first (the reservations of an order
 * Crossdock placed, the warehouse order of an ERP order), takes the ERP order out (looking it up
 * when a retry may just have posted a PENDING_ERP order), and sets CANCELLED.
 */
import { isSourceError, type OrderRecord } from '../sources/contract.js';
import type { OrderWorkflowContext } from './context.js';
import { orderDataOf } from './model.js';
import type { OrderOutcome, OrderWorkflows } from './order-types.js';
import type { Placement } from './placement.js';
import { hasShipped, type OrderStatus } from './status.js';
import { ue } from './user-errors.js';

/** Makes cancelOrder over the context, releasing reservations as placement does. */
export function createCancellation(
  ctx: OrderWorkflowContext,
  placement: Pick<Placement, 'releaseReservations'>,
): Pick<OrderWorkflows, 'cancelOrder'> {
  const { erp, guard, now, steps } = ctx;
  const { transition, orderFor, shadowOf } = ctx.records;
  const { releaseReservations } = placement;

  const shippedQuantity = (erpOrder: OrderRecord | null) =>
    erpOrder?.lines.reduce((n, l) => n + l.shippedQuantity, 0) ?? 0;

  const cancelOrder: OrderWorkflows['cancelOrder'] = async (orderId, reason, key, caller) => {
    const guarded = await guard.run(
      { scope: caller.id, key, operation: 'cancelOrder', input: { orderId, reason } },
      async (): Promise<OrderOutcome> => {
        const { stored, erpOrder } = await orderFor(orderId);
        if (!stored && !erpOrder)
          return {
            orderId: null,
            status: null,
            userErrors: [ue('ORDER_NOT_FOUND', `No order with id ${orderId}`, ['orderId'])],
          };
        if (stored?.status === 'CANCELLED') {
          return {
            orderId: stored.id,
            status: 'CANCELLED',
            userErrors: [
              ue('ALREADY_CANCELLED', `Order ${stored.id} is already cancelled`, ['orderId']),
            ],
          };
        }
        const shipped = shippedQuantity(erpOrder) > 0 || hasShipped(stored?.status ?? '');
        if (shipped) {
          return {
            orderId: stored?.id ?? erpOrder?.number ?? orderId,
            status: (stored?.status as OrderStatus | undefined) ?? 'SHIPPED',
            userErrors: [
              ue(
                'ALREADY_SHIPPED',
                `Order ${orderId} has shipped and can no longer be cancelled; request a return instead`,
                ['orderId'],
              ),
            ],
          };
        }
        const order = stored ?? (await shadowOf(erpOrder as OrderRecord, 'ACCEPTED', caller));
        const data = orderDataOf(order);
        // Release stock first: a cancelled order must never keep stock reserved.
        try {
          if (data.origin === 'crossdock')
            await releaseReservations(order, caller, `cancelled: ${reason}`);
          else {
            for (const wms of ctx.warehouses) {
              const started = now();
              await wms.release(order.id);
              await steps.record(order, caller, {
                step: `release:${wms.name}`,
                outcome: 'SUCCEEDED',
                detail: { reference: order.id },
                startedAt: started,
              });
            }
          }
        } catch (error) {
          if (isSourceError(error) && error.reason === 'already_shipped') {
            return {
              orderId: order.id,
              status: order.status as OrderStatus,
              userErrors: [
                ue(
                  'ALREADY_SHIPPED',
                  `Order ${order.id} has shipped and can no longer be cancelled`,
                  ['orderId'],
                ),
              ],
            };
          }
          throw error;
        }
        // A PENDING_ERP order may have been posted by a retry a moment ago: look before leaving it.
        const erpNumber =
          order.erpNumber ??
          (order.status === 'PENDING_ERP'
            ? ((await erp.findSalesOrderByExternalNumber(order.id))?.number ?? null)
            : null);
        if (erpNumber) {
          const started = now();
          await erp.cancelSalesOrder(erpNumber);
          await steps.record(order, caller, {
            step: 'cancel:erp',
            outcome: 'SUCCEEDED',
            detail: { erpNumber },
            startedAt: started,
          });
        }
        const cancelled = await transition(order.id, 'CANCELLED', caller, (_o, d) => ({
          cancelReason: reason,
          allocations: d.allocations.map((a) => ({ ...a, released: true })),
        }));
        await steps.record(cancelled, caller, {
          step: 'cancel',
          outcome: 'SUCCEEDED',
          status: 'CANCELLED',
          detail: { reason },
        });
        return { orderId: cancelled.id, status: 'CANCELLED', userErrors: [] };
      },
    );
    return { outcome: guarded.result, replayed: guarded.replayed };
  };

  return { cancelOrder };
}

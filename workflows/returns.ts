/**
 * createReturn: only shipped quantities, less those already returned; a sales credit memo in the
 * ERP and an expected receipt at the warehouse that shipped the order, both under the RMA
 * reference; status RETURN_REQUESTED.
 */
import { returnReferenceFor } from '../sources/identifiers.js';
import type { OrderWorkflowContext } from './context.js';
import { orderDataOf } from './model.js';
import type { OrderOutcome, OrderWorkflows } from './order-types.js';
import { shippedStatus, type OrderStatus } from './status.js';
import { ue, type UserError } from './user-errors.js';

/** Makes createReturn over the context. */
export function createReturns(ctx: OrderWorkflowContext): Pick<OrderWorkflows, 'createReturn'> {
  const { erp, guard, now, steps } = ctx;
  const { transition, orderFor, shadowOf } = ctx.records;

  const createReturn: OrderWorkflows['createReturn'] = async (
    orderId,
    lines,
    reason,
    key,
    caller,
  ) => {
    const guarded = await guard.run(
      { scope: caller.id, key, operation: 'createReturn', input: { orderId, lines, reason } },
      async (): Promise<OrderOutcome & { readonly returnReference: string | null }> => {
        const reference = returnReferenceFor(caller.id, key);
        const { stored, erpOrder } = await orderFor(orderId);
        if (!erpOrder) {
          return {
            orderId: stored?.id ?? null,
            status: (stored?.status as OrderStatus | undefined) ?? null,
            returnReference: null,
            userErrors: [
              ue(
                stored ? 'NOT_SHIPPED' : 'ORDER_NOT_FOUND',
                stored ? `Order ${orderId} has not shipped` : `No order with id ${orderId}`,
                ['orderId'],
              ),
            ],
          };
        }
        const shippedBySku = new Map(erpOrder.lines.map((l) => [l.sku, l.shippedQuantity]));
        const wanted =
          lines ??
          erpOrder.lines
            .filter((l) => l.shippedQuantity > 0)
            .map((l) => ({ sku: l.sku, quantity: l.shippedQuantity }));
        if (wanted.length === 0) {
          return {
            orderId: stored?.id ?? erpOrder.number,
            status: null,
            returnReference: null,
            userErrors: [
              ue(
                'NOT_SHIPPED',
                `Order ${orderId} has not shipped, so nothing can be returned; cancel it instead`,
                ['orderId'],
              ),
            ],
          };
        }
        const returned = new Map<string, number>();
        for (const r of stored ? orderDataOf(stored).returns : [])
          for (const l of r.lines) returned.set(l.sku, (returned.get(l.sku) ?? 0) + l.quantity);
        const errors: UserError[] = [];
        wanted.forEach((line, i) => {
          const max = (shippedBySku.get(line.sku) ?? 0) - (returned.get(line.sku) ?? 0);
          if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > max) {
            errors.push(
              ue(
                'INVALID_RETURN_QUANTITY',
                `SKU ${line.sku}: expected 1 to ${max} (shipped less already returned), got ${line.quantity}`,
                ['lines', i, 'quantity'],
              ),
            );
          }
        });
        if (errors.length > 0)
          return {
            orderId: stored?.id ?? erpOrder.number,
            status: null,
            returnReference: null,
            userErrors: errors,
          };
        const order = stored ?? (await shadowOf(erpOrder, shippedStatus(erpOrder), caller));
        const draft = {
          reference,
          orderNumber: erpOrder.number,
          customerNumber: erpOrder.customerNumber,
          reason,
          lines: wanted,
        };
        const startedErp = now();
        const erpReturn = await erp.createReturn(draft);
        await steps.record(order, caller, {
          step: 'return:erp',
          outcome: 'SUCCEEDED',
          detail: { reference, creditMemo: erpReturn.number },
          startedAt: startedErp,
        });
        // The return goes back to the warehouse that shipped the order.
        const shipments = (
          await Promise.all(
            ctx.warehouses.map(async (w) => ({
              w,
              s: (await w.shipmentsByOrder([erpOrder.number]))[0] ?? [],
            })),
          )
        ).find((x) => x.s.length > 0);
        let wmsReturn = null;
        if (shipments) {
          const startedWms = now();
          const warehouseCode = shipments.s[0]?.warehouseCode ?? '';
          wmsReturn = await shipments.w.expectReturn({ ...draft, warehouseCode });
          await steps.record(order, caller, {
            step: `return:${shipments.w.name}`,
            outcome: 'SUCCEEDED',
            detail: { reference, receiver: wmsReturn.nativeId },
            startedAt: startedWms,
            ...(warehouseCode === '' ? {} : { warehouse: warehouseCode }),
          });
        }
        const updated = await transition(order.id, 'RETURN_REQUESTED', caller, (_o, d) => ({
          returns: [
            ...d.returns,
            { reference, reason, lines: wanted, erp: erpReturn, wms: wmsReturn, at: now() },
          ],
        }));
        await steps.record(updated, caller, {
          step: 'return',
          outcome: 'SUCCEEDED',
          status: 'RETURN_REQUESTED',
          detail: { reference },
        });
        return {
          orderId: updated.id,
          status: 'RETURN_REQUESTED',
          returnReference: reference,
          userErrors: [],
        };
      },
    );
    return { outcome: guarded.result, replayed: guarded.replayed };
  };

  return { createReturn };
}

/**
 * The sandbox ERP's webhooks (webhook signing: shared/reference/wms-apis-and-webhooks.md §4, "ERP"). Business Central's own
 * webhooks carry no data and no signature, so the sandbox models a partner extension (like the
 * `crossdock/pricing/v1.0` custom API) whose event subscribers post Standard Webhooks:
 * `{"type", "timestamp", "data"}` bodies, `webhook-id: msg_<ulid>` (same on retries), signed by
 * webhooks.ts's `standardWebhooksSigner` with `ERP_SANDBOX.webhookSecret`.
 */
import { ulid } from 'ulid';
import type { WebhookDispatcher } from '../webhooks.js';
import type { CustomerRow, SalesInvoiceRow } from './entities.js';

/** The event types the partner extension posts. */
export type ErpEventType = 'salesInvoice.posted' | 'customer.creditStatusChanged';

/** BC's `blocked` option of a customer. */
export type CustomerBlocked = ' ' | 'Ship' | 'Invoice' | 'All';

/** The option strings of BC's customer `blocked`, in BC's order. */
export const CUSTOMER_BLOCKED: readonly CustomerBlocked[] = [' ', 'Ship', 'Invoice', 'All'];

/** True for one of BC's `blocked` option strings. */
export function isCustomerBlocked(value: unknown): value is CustomerBlocked {
  return CUSTOMER_BLOCKED.some((option) => option === value);
}

/** Sends the extension's events. */
export interface ErpEvents {
  /** A sales invoice was posted from an order (shipAndInvoice). */
  invoicePosted(invoice: SalesInvoiceRow): void;
  /** A customer's `blocked` changed. */
  creditStatusChanged(customer: CustomerRow, previousBlocked: string): void;
}

/** Makes the event sender; `now` stamps the events' `timestamp`. */
export function createErpEvents(webhooks: WebhookDispatcher, now: () => number): ErpEvents {
  const send = (type: ErpEventType, data: Record<string, unknown>): void => {
    const id = `msg_${ulid()}`;
    const body = { type, timestamp: new Date(now()).toISOString(), data };
    webhooks.emit({ id, type, body: JSON.stringify(body) });
  };
  return {
    invoicePosted(invoice) {
      send('salesInvoice.posted', {
        id: invoice.id,
        number: invoice.number,
        orderNumber: invoice.orderNumber,
        externalDocumentNumber: invoice.externalDocumentNumber,
        customerNumber: invoice.customerNumber,
        invoiceDate: invoice.invoiceDate,
        currencyCode: invoice.currencyCode,
        totalAmountIncludingTax: invoice.totalAmountIncludingTax,
        status: invoice.status,
      });
    },
    creditStatusChanged(customer, previousBlocked) {
      send('customer.creditStatusChanged', {
        id: customer.id,
        number: customer.number,
        blocked: customer.blocked,
        previousBlocked,
        creditLimit: customer.creditLimit,
      });
    },
  };
}

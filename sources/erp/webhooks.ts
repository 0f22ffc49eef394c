/**
 * ERP webhooks: Business Central's own webhooks carry neither data nor a signature, so the
 * events come from the Crossdock partner extension's event subscribers, posted as Standard
 * Webhooks v1 (webhook signing: shared/reference/wms-apis-and-webhooks.md §4; "ERP"):
 *
 *   webhook-id: msg_…                 the delivery id, the same on every retry
 *   webhook-timestamp: <unix seconds> of this attempt; the replay window is measured on it
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")> [ v1,<…> ]…
 *
 * The key is the base64-decoded part of the `whsec_…` secret. Several signatures may be listed
 * (space-separated) so a secret can rotate; one match is enough. Bodies are
 * `{type, timestamp, data}`; `salesInvoice.posted` and `customer.creditStatusChanged` are known.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type {
  CreditStatusSourceEvent,
  InvoicePostedSourceEvent,
  WebhookReceiver,
  WebhookVerdict,
} from '../contract.js';
import {
  acceptWebhook,
  describeZodError,
  headerOf,
  outsideWindow,
  parseJsonBody,
  rejectWebhook,
  safeEqual,
  shown,
} from '../webhooks.js';
import { BC_BLOCKED, customerBlockOf, toMoney } from './mapping.js';

/** The event types the extension sends. */
export const ERP_WEBHOOK_TYPES = ['salesInvoice.posted', 'customer.creditStatusChanged'] as const;

/** The prefix of a Standard Webhooks secret. */
export const STANDARD_WEBHOOK_SECRET_PREFIX = 'whsec_';

/**
 * The HMAC key of a Standard Webhooks secret (`whsec_<base64>`; the prefix is optional, as in
 * the reference libraries). Throws naming what was expected when it is not one.
 */
export function standardWebhookKey(secret: string): Buffer {
  const encoded = secret.startsWith(STANDARD_WEBHOOK_SECRET_PREFIX)
    ? secret.slice(STANDARD_WEBHOOK_SECRET_PREFIX.length)
    : secret;
  const key = Buffer.from(encoded, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.length < 16) {
    throw new RangeError(
      'erp webhook secret: expected whsec_ followed by base64 of at least 16 bytes, got a value that is not',
    );
  }
  return key;
}

/** Signs a delivery the Standard Webhooks way: `v1,<base64 HMAC>` (tests and tools). */
export function signStandardWebhook(
  secret: string,
  id: string,
  timestampSeconds: number | string,
  body: Buffer | string,
): string {
  const mac = createHmac('sha256', standardWebhookKey(secret))
    .update(`${id}.${timestampSeconds}.`)
    .update(body)
    .digest('base64');
  return `v1,${mac}`;
}

const Envelope = z.object({
  type: z.string().min(1),
  timestamp: z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'expected an ISO-8601 time'),
  data: z.unknown(),
});

/**
 * Business Central's field lengths: a signed delivery is still checked, since what a system
 * sends is as untrusted as what a client sends (a key number of 5,000 characters is refused).
 */
const code = (max: number) => z.string().min(1).max(max);
/** BC SystemId: a GUID (with or without braces). */
const systemId = z.string().min(1).max(38);

const InvoicePosted = z.object({
  id: systemId,
  number: code(20),
  orderNumber: code(20),
  externalDocumentNumber: z.string().max(35).nullish(),
  customerNumber: code(20),
  invoiceDate: z.string().max(10),
  currencyCode: z.string().max(10),
  totalAmountIncludingTax: z.number(),
  status: z.string().max(20),
});

const CreditStatusChanged = z.object({
  id: systemId,
  number: code(20),
  blocked: z.enum(BC_BLOCKED),
  previousBlocked: z.enum(BC_BLOCKED).nullish(),
  creditLimit: z.number(),
});

/** Options of {@link createErpWebhookReceiver}. */
export interface ErpWebhookOptions {
  /** Configured source name: the `source` of every event and the prefix of its id. */
  readonly name: string;
  /** The `whsec_…` secret shared with the extension. */
  readonly secret: string;
  /** Currency of amounts the ERP reports with `currencyCode` '' (BC's local currency). */
  readonly localCurrency: string;
}

/** The ERP's webhook receiver (Standard Webhooks v1). */
export function createErpWebhookReceiver(options: ErpWebhookOptions): WebhookReceiver {
  const key = standardWebhookKey(options.secret);
  const { name } = options;

  const verified = (id: string, timestamp: string, body: Buffer, header: string): boolean => {
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
    // Check every listed signature (no early exit), so the time does not tell which matched.
    let match = false;
    for (const entry of header.split(' ')) {
      const [version, signature] = entry.split(',', 2);
      if (version !== 'v1' || signature === undefined) continue;
      if (safeEqual(Buffer.from(signature, 'base64'), expected)) match = true;
    }
    return match;
  };

  return {
    async receiveWebhook(delivery, { toleranceMs }): Promise<WebhookVerdict> {
      const id = headerOf(delivery.headers, 'webhook-id');
      const timestamp = headerOf(delivery.headers, 'webhook-timestamp');
      const signature = headerOf(delivery.headers, 'webhook-signature');
      const deliveryId = id ?? null;
      if (id === undefined || timestamp === undefined || signature === undefined) {
        const missing = [
          id === undefined ? 'webhook-id' : null,
          timestamp === undefined ? 'webhook-timestamp' : null,
          signature === undefined ? 'webhook-signature' : null,
        ].filter(Boolean);
        return rejectWebhook(
          'WEBHOOK_SIGNATURE_INVALID',
          `expected the headers webhook-id, webhook-timestamp and webhook-signature, got no ${missing.join(', no ')}`,
          deliveryId,
        );
      }
      if (!verified(id, timestamp, delivery.body, signature)) {
        return rejectWebhook(
          'WEBHOOK_SIGNATURE_INVALID',
          `expected webhook-signature to hold v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>"> under the ERP webhook secret, got ${shown(signature)}, which does not match`,
          deliveryId,
        );
      }
      if (!/^\d{1,12}$/.test(timestamp)) {
        return rejectWebhook(
          'WEBHOOK_MALFORMED',
          `expected webhook-timestamp as integer unix seconds, got ${shown(timestamp)}`,
          deliveryId,
        );
      }
      const stale = outsideWindow(
        'webhook-timestamp',
        timestamp,
        Number(timestamp) * 1000,
        delivery.receivedAt,
        toleranceMs,
      );
      if (stale) return rejectWebhook('WEBHOOK_TIMESTAMP_STALE', stale, deliveryId);

      const json = parseJsonBody(delivery.body);
      if (!json.ok) return rejectWebhook('WEBHOOK_MALFORMED', json.message, deliveryId);
      const envelope = Envelope.safeParse(json.value);
      if (!envelope.success) {
        return rejectWebhook(
          'WEBHOOK_MALFORMED',
          describeZodError('a Standard Webhooks body {type, timestamp, data}', envelope.error),
          deliveryId,
        );
      }
      const { type, data } = envelope.data;
      const base = {
        id: `${name}:${id}`,
        source: name,
        occurredAt: new Date(envelope.data.timestamp).toISOString(),
      };
      switch (type) {
        case 'salesInvoice.posted': {
          const parsed = InvoicePosted.safeParse(data);
          if (!parsed.success) {
            return rejectWebhook(
              'WEBHOOK_MALFORMED',
              describeZodError('salesInvoice.posted data', parsed.error),
              deliveryId,
            );
          }
          const invoice = parsed.data;
          const event: InvoicePostedSourceEvent = {
            ...base,
            type: 'invoicePosted',
            invoiceNumber: invoice.number,
            orderNumber: invoice.orderNumber,
            customerNumber: invoice.customerNumber,
            externalDocumentNumber: invoice.externalDocumentNumber || null,
            total: toMoney(
              invoice.totalAmountIncludingTax,
              invoice.currencyCode === '' ? options.localCurrency : invoice.currencyCode,
            ),
          };
          return acceptWebhook(id, [event]);
        }
        case 'customer.creditStatusChanged': {
          const parsed = CreditStatusChanged.safeParse(data);
          if (!parsed.success) {
            return rejectWebhook(
              'WEBHOOK_MALFORMED',
              describeZodError('customer.creditStatusChanged data', parsed.error),
              deliveryId,
            );
          }
          const customer = parsed.data;
          const event: CreditStatusSourceEvent = {
            ...base,
            type: 'creditStatus',
            customerNumber: customer.number,
            blocked: customerBlockOf(customer.blocked),
            previousBlocked:
              customer.previousBlocked === undefined || customer.previousBlocked === null
                ? null
                : customerBlockOf(customer.previousBlocked),
          };
          return acceptWebhook(id, [event]);
        }
        default:
          return rejectWebhook(
            'WEBHOOK_UNKNOWN_TYPE',
            `expected type ${ERP_WEBHOOK_TYPES.join(' or ')}, got ${shown(type)}`,
            deliveryId,
          );
      }
    },
  };
}

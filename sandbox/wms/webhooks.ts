/**
 * The sandbox WMS's webhooks, after Extensiv's event notifications (webhook signing: shared/reference/wms-apis-and-webhooks.md §4,
 * "WMS and 3PL"): the instance's RSA key pair behind `GET /events/webhook/key`, and the event
 * envelope (`tplId`, `wmsEventId`, `eventDateTimeUtc`, `eventType`, `tags`, `resource`, and
 * `links`/`data` as escaped JSON strings). Signing itself is webhooks.ts's `extensivSigner`.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type { WebhookDispatcher } from '../webhooks.js';
import { wmsDate, type StockSummary, type WmsOrder } from './store.js';

/** The instance's webhook key pair and when it was made. */
export interface WebhookKey {
  readonly privateKey: KeyObject;
  /** PEM, SPKI: what `GET /events/webhook/key` serves. */
  readonly publicKeyPem: string;
  /** ISO-8601 of when the key was created (`retrievalDateISO`). */
  readonly retrievalDateISO: string;
}

/** Holds the current key pair of one instance; rotation replaces it. */
export interface WebhookKeyRing {
  current(): WebhookKey;
  /** Makes a new key pair; its `retrievalDateISO` is always later than the previous one's. */
  rotate(): WebhookKey;
}

/** RSA modulus of the webhook keys (spec: RSA-2048). */
const MODULUS_BITS = 2048;

/** Makes the key ring of one instance, with a first key pair created now. */
export function createWebhookKeyRing(now: () => number): WebhookKeyRing {
  let lastMs = -Infinity;
  const make = (): WebhookKey => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: MODULUS_BITS });
    // Two rotations in one millisecond would share a date and `previousRetrievalDateISO` would
    // then answer 304 for a changed key: keep the dates strictly increasing.
    const createdMs = Math.max(now(), lastMs + 1);
    lastMs = createdMs;
    return {
      privateKey,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      retrievalDateISO: new Date(createdMs).toISOString(),
    };
  };
  let key = make();
  return {
    current: () => key,
    rotate() {
      key = make();
      return key;
    },
  };
}

/** The event types the sandbox WMS sends. */
export type WmsEventType =
  'OrderCreate' | 'OrderConfirm' | 'OrderCancel' | 'OrderDelivered' | 'Adjustment';

/** The order event types. */
export type WmsOrderEventType = Exclude<WmsEventType, 'Adjustment'>;

/** `tags` of each event type. */
const TAGS: Readonly<Record<WmsEventType, string>> = {
  OrderCreate: 'Created',
  OrderConfirm: 'Shipped',
  OrderCancel: 'Canceled',
  OrderDelivered: 'Delivered',
  Adjustment: 'Adjusted',
};

/** Sends the instance's events. */
export interface WmsEvents {
  /** An order event; `body` is the order as `GET /orders/{id}` shows it, after the change. */
  order(type: WmsOrderEventType, order: WmsOrder, body: Record<string, unknown>): void;
  /** One adjusted item: the stock row after the change, the signed delta and the reason. */
  adjustment(row: StockSummary, qty: number, reason: string): void;
}

/** The href of one stock summary row in `GET /inventory/stocksummaries`. */
export function stockSummaryHref(row: StockSummary): string {
  const rql = `itemidentifier.sku==${row.itemIdentifier.sku};facilityid==${row.facilityId}`;
  return `/inventory/stocksummaries?rql=${encodeURIComponent(rql)}`;
}

/** Makes the event sender of the instance whose 3PL GUID is `tplId`. */
export function createWmsEvents(
  webhooks: WebhookDispatcher,
  tplId: string,
  now: () => number,
): WmsEvents {
  const send = (
    eventType: WmsEventType,
    resource: { rel: 'order' | 'stocksummary'; href: string; body: unknown },
    data: Record<string, unknown>,
  ): void => {
    const wmsEventId = randomUUID();
    const envelope = {
      tplId,
      wmsEventId,
      eventDateTimeUtc: wmsDate(now()),
      eventType,
      tags: TAGS[eventType],
      resource,
      links: JSON.stringify({ [resource.rel]: resource.href }),
      data: JSON.stringify(data),
    };
    webhooks.emit({ id: wmsEventId, type: eventType, body: JSON.stringify(envelope) });
  };
  return {
    order(type, order, body) {
      const href = `/orders/${order.readOnly.orderId}`;
      send(
        type,
        { rel: 'order', href, body },
        {
          OrderId: String(order.readOnly.orderId),
          ReferenceNum: order.referenceNum,
          FacilityId: order.readOnly.facilityIdentifier.id,
        },
      );
    },
    adjustment(row, qty, reason) {
      send(
        'Adjustment',
        { rel: 'stocksummary', href: stockSummaryHref(row), body: { ...row } },
        { FacilityId: row.facilityId, Sku: row.itemIdentifier.sku, Qty: qty, Reason: reason },
      );
    },
  };
}

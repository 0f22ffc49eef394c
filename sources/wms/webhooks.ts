/**
 * WMS webhooks in Extensiv 3PL Warehouse Manager's dialect (webhook signing: shared/reference/wms-apis-and-webhooks.md §4; "WMS and 3PL"):
 *
 *   Signature: <base64 RSA-SHA256 (PKCS#1 v1.5) of the exact raw body>
 *
 * and nothing else: no timestamp or id headers. The public key is the WMS's own
 * (`GET /events/webhook/key` → `{publicKey, retrievalDateISO}`, fetched with the connector's
 * bearer token); it is cached, and fetched again — conditionally, `previousRetrievalDateISO`,
 * 304 when unchanged — once when a signature does not verify, which is how a key rotation is
 * noticed. The body is one event: `{tplId, wmsEventId, eventDateTimeUtc, eventType, tags,
 * resource{rel, href, body}, links, data}` with `links` and `data` escaped-JSON strings. The
 * replay window is measured on `eventDateTimeUtc` (signed, and the same on every retry);
 * `wmsEventId` is the delivery id.
 *
 *   OrderCreate / OrderConfirm / OrderCancel / OrderDelivered → ShipmentSourceEvent
 *     CREATED / SHIPPED / CANCELLED / DELIVERED, the shipment mapped from `resource.body` (the
 *     order as `GET /orders/{id}?detail=All` shows it) exactly as queries map it
 *   Adjustment → StockSourceEvent from `resource.body` (a stock summary row) and `data`
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type {
  ShipmentSourceEvent,
  StockSourceEvent,
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
  shown,
} from '../webhooks.js';
import { StockSummary, WmsOrder, parseWmsDate, toShipment } from './mapping.js';

/** What each order event type means for the shipment. */
export const WMS_ORDER_EVENTS = {
  OrderCreate: 'CREATED',
  OrderConfirm: 'SHIPPED',
  OrderCancel: 'CANCELLED',
  OrderDelivered: 'DELIVERED',
} as const satisfies Record<string, ShipmentSourceEvent['kind']>;

/** Every event type the receiver knows. */
export const WMS_WEBHOOK_EVENT_TYPES: readonly string[] = [
  ...Object.keys(WMS_ORDER_EVENTS),
  'Adjustment',
];

/** `GET /events/webhook/key`. */
export const WebhookKeyResponse = z.object({
  publicKey: z.string().min(1),
  retrievalDateISO: z.string().min(1),
});
/** The WMS's webhook public key as served. */
export type WebhookKeyResponse = z.output<typeof WebhookKeyResponse>;

const EventTime = z
  .string()
  .refine((t) => parseWmsDate(t) !== null, 'expected yyyy-MM-ddTHH:mm:ss.fffffff (UTC)');

const Envelope = z.object({
  tplId: z.string(),
  wmsEventId: z.string().min(1),
  eventDateTimeUtc: EventTime,
  eventType: z.string().min(1),
  tags: z.string().nullish(),
  resource: z.object({ rel: z.string(), href: z.string(), body: z.unknown() }),
  links: z.string().nullish(),
  data: z.string(),
});

const OrderEventData = z.object({
  OrderId: z.union([z.string().regex(/^\d+$/), z.number().int()]),
  ReferenceNum: z.string(),
  FacilityId: z.number().int(),
});

const AdjustmentData = z.object({
  FacilityId: z.number().int(),
  Sku: z.string().min(1),
  Qty: z.number().int(),
  Reason: z.string().nullish(),
});

/** What the receiver needs from its connector. */
export interface WmsWebhookOptions {
  /** Configured source name (`wms`, `tpl`): the `source` of every event and the prefix of its id. */
  readonly name: string;
  /**
   * Fetches the public key through the connector's authenticated client; with
   * `previousRetrievalDateISO`, resolves null when the key is unchanged (304).
   */
  fetchKey(previousRetrievalDateISO?: string): Promise<WebhookKeyResponse | null>;
  /** The warehouse code of a facility id (the connector's facility cache). */
  warehouseCodeOf(facilityId: number): Promise<string>;
  /** When set, events must carry this `tplId` (the tenant's 3PL GUID). */
  readonly tplGuid?: string | undefined;
  /**
   * The rotation window: a signature that does not verify fetches the key again (a rotation)
   * only when no other failing signature did so within this window, so unauthenticated
   * deliveries cannot spend the tenant's API quota (at most one key fetch per window, however
   * many arrive). A rotation just after a forged delivery is refused until the window passes;
   * the WMS retries.
   * @default DEFAULT_WEBHOOK_KEY_REFRESH_MS // 60 s
   */
  readonly keyRefreshMs?: number | undefined;
}

/**
 * Least time between two fetches of the webhook key caused by failing signatures.
 * @default 60_000 // 1 minute
 */
export const DEFAULT_WEBHOOK_KEY_REFRESH_MS = 60_000;

interface CachedKey {
  readonly key: KeyObject;
  readonly retrievalDateISO: string;
}

/** The WMS's webhook receiver (RSA signature, key from the WMS API). */
export function createWmsWebhookReceiver(options: WmsWebhookOptions): WebhookReceiver {
  const { name } = options;
  const refreshMs = options.keyRefreshMs ?? DEFAULT_WEBHOOK_KEY_REFRESH_MS;
  let cached: CachedKey | null = null;
  let inFlight: Promise<CachedKey> | null = null;

  const toCached = (answer: WebhookKeyResponse): CachedKey => ({
    key: createPublicKey(answer.publicKey),
    retrievalDateISO: answer.retrievalDateISO,
  });

  /** When a failing signature last caused a fetch (null: never). */
  let refetchedAt: number | null = null;

  /**
   * The key: fetched when none is cached, or when `stale` is the one cached (a signature did not
   * verify with it) and no failing signature caused a fetch in the last rotation window. Shared
   * by concurrent callers.
   */
  const keyAfter = (stale: CachedKey | null, now: number): Promise<CachedKey> => {
    if (cached !== null && cached !== stale) return Promise.resolve(cached);
    if (cached !== null) {
      if (refetchedAt !== null && now - refetchedAt < refreshMs) return Promise.resolve(cached);
      refetchedAt = now;
    }
    inFlight ??= (async () => {
      const previous = cached;
      const answer = await options.fetchKey(previous?.retrievalDateISO);
      // null: 304, the key is the one already held.
      if (answer === null && previous !== null) return previous;
      if (answer === null)
        throw new Error(`${name}: events/webhook/key answered 304 to a first request`);
      cached = toCached(answer);
      return cached;
    })().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  const verifies = (body: Buffer, signature: Buffer, key: CachedKey): boolean => {
    try {
      return verify('sha256', body, key.key, signature);
    } catch {
      return false;
    }
  };

  return {
    async receiveWebhook(delivery, { toleranceMs, maxEventAgeMs }): Promise<WebhookVerdict> {
      const header = headerOf(delivery.headers, 'signature');
      if (header === undefined) {
        return rejectWebhook(
          'WEBHOOK_SIGNATURE_INVALID',
          'expected the header Signature (base64 RSA-SHA256 of the body), got nothing',
        );
      }
      const signature = Buffer.from(header, 'base64');
      const key = await keyAfter(null, delivery.receivedAt);
      if (!verifies(delivery.body, signature, key)) {
        // The WMS may have rotated its key: fetch it again (at most once per rotation window)
        // and try the new one.
        const fresh = await keyAfter(key, delivery.receivedAt);
        if (!verifies(delivery.body, signature, fresh)) {
          return rejectWebhook(
            'WEBHOOK_SIGNATURE_INVALID',
            `expected Signature to be the base64 RSA-SHA256 signature of the body under the key of GET events/webhook/key, got ${shown(header)}, which does not verify`,
          );
        }
      }

      const json = parseJsonBody(delivery.body);
      if (!json.ok) return rejectWebhook('WEBHOOK_MALFORMED', json.message);
      const envelope = Envelope.safeParse(json.value);
      if (!envelope.success) {
        const raw = json.value as { wmsEventId?: unknown } | null;
        return rejectWebhook(
          'WEBHOOK_MALFORMED',
          describeZodError(
            'an Extensiv event {tplId, wmsEventId, eventDateTimeUtc, eventType, resource, data}',
            envelope.error,
          ),
          typeof raw?.wmsEventId === 'string' ? raw.wmsEventId : null,
        );
      }
      const event = envelope.data;
      const deliveryId = event.wmsEventId;
      if (options.tplGuid !== undefined && event.tplId !== options.tplGuid) {
        return rejectWebhook(
          'WEBHOOK_MALFORMED',
          `expected tplId ${shown(options.tplGuid)}, got ${shown(event.tplId)}`,
          deliveryId,
        );
      }
      const occurredAt = parseWmsDate(event.eventDateTimeUtc) as string;
      const stale = outsideWindow(
        'eventDateTimeUtc',
        event.eventDateTimeUtc,
        Date.parse(occurredAt),
        delivery.receivedAt,
        toleranceMs,
        maxEventAgeMs,
      );
      if (stale) return rejectWebhook('WEBHOOK_TIMESTAMP_STALE', stale, deliveryId);

      const kind = Object.hasOwn(WMS_ORDER_EVENTS, event.eventType)
        ? WMS_ORDER_EVENTS[event.eventType as keyof typeof WMS_ORDER_EVENTS]
        : undefined;
      if (kind === undefined && event.eventType !== 'Adjustment') {
        return rejectWebhook(
          'WEBHOOK_UNKNOWN_TYPE',
          `expected eventType ${WMS_WEBHOOK_EVENT_TYPES.join(', ')}, got ${shown(event.eventType)}`,
          deliveryId,
        );
      }
      const data = parseJsonBody(Buffer.from(event.data, 'utf8'));
      if (!data.ok) {
        return rejectWebhook('WEBHOOK_MALFORMED', `data: ${data.message}`, deliveryId);
      }
      const base = { id: `${name}:${deliveryId}`, source: name, occurredAt };

      if (kind !== undefined) {
        const facts = OrderEventData.safeParse(data.value);
        if (!facts.success) {
          return rejectWebhook(
            'WEBHOOK_MALFORMED',
            describeZodError(
              'data of an order event {OrderId, ReferenceNum, FacilityId}',
              facts.error,
            ),
            deliveryId,
          );
        }
        const order = WmsOrder.safeParse(event.resource.body);
        if (!order.success) {
          return rejectWebhook(
            'WEBHOOK_MALFORMED',
            describeZodError('resource.body: an Extensiv order (detail=All)', order.error),
            deliveryId,
          );
        }
        if (String(facts.data.OrderId) !== String(order.data.readOnly.orderId)) {
          return rejectWebhook(
            'WEBHOOK_MALFORMED',
            `expected data.OrderId to name the order in resource.body (${order.data.readOnly.orderId}), got ${shown(String(facts.data.OrderId))}`,
            deliveryId,
          );
        }
        const warehouseCode = await options.warehouseCodeOf(
          order.data.readOnly.facilityIdentifier.id,
        );
        const shipment: ShipmentSourceEvent = {
          ...base,
          type: 'shipment',
          kind,
          shipment: toShipment(order.data, warehouseCode, name),
        };
        return acceptWebhook(deliveryId, [shipment]);
      }

      const adjustment = AdjustmentData.safeParse(data.value);
      if (!adjustment.success) {
        return rejectWebhook(
          'WEBHOOK_MALFORMED',
          describeZodError(
            'data of an Adjustment {FacilityId, Sku, Qty, Reason}',
            adjustment.error,
          ),
          deliveryId,
        );
      }
      const row = StockSummary.safeParse(event.resource.body);
      if (!row.success) {
        return rejectWebhook(
          'WEBHOOK_MALFORMED',
          describeZodError('resource.body: a stock summary row', row.error),
          deliveryId,
        );
      }
      const stock: StockSourceEvent = {
        ...base,
        type: 'stock',
        sku: row.data.itemIdentifier.sku,
        warehouseCode: await options.warehouseCodeOf(row.data.facilityId),
        onHand: row.data.onHand,
        available: row.data.available,
        allocated: row.data.allocated,
        delta: adjustment.data.Qty,
        reason: adjustment.data.Reason ?? null,
      };
      return acceptWebhook(deliveryId, [stock]);
    },
  };
}

/**
 * Commerce webhooks in Shopify's dialect (webhook signing: shared/reference/wms-apis-and-webhooks.md §4; "Commerce"):
 *
 *   X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(webhook secret, exact raw body)>
 *   X-Shopify-Topic: orders/updated | orders/cancelled
 *   X-Shopify-Webhook-Id: <uuid>        the delivery id, the same on every retry
 *   X-Shopify-Event-Id: <uuid>          the event (several subscriptions may share it)
 *   X-Shopify-Triggered-At: <ISO-8601>  when the event happened; the replay window is measured on it
 *
 * Shopify signs the body only: its headers (topic, ids, triggered-at) are not covered by the
 * HMAC, so the replay window is a staleness check, not a proof; the delivery-id de-duplication
 * in server/webhooks.ts is what stops a replayed delivery. Bodies are REST-shaped orders
 * (snake_case).
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { ChannelOrderSourceEvent, WebhookReceiver, WebhookVerdict } from '../contract.js';
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

/** The topics Crossdock subscribes to, and what each means for a storefront order. */
export const COMMERCE_WEBHOOK_TOPICS = {
  'orders/updated': 'UPDATED',
  'orders/cancelled': 'CANCELLED',
} as const satisfies Record<string, ChannelOrderSourceEvent['change']>;

/** Signs a body the Shopify way (tests and tools). */
export function signShopifyWebhook(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

const IsoTime = z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'expected an ISO-8601 time');

// `id` is left out on purpose: Shopify's numeric ids exceed 2^53 and lose digits in JSON.parse;
// the GID carries the same id as a string.
const OrderBody = z.object({
  admin_graphql_api_id: z.string().regex(/^gid:\/\/shopify\/Order\/\d+$/, 'expected an Order GID'),
  name: z.string().min(1),
  updated_at: IsoTime,
  cancelled_at: IsoTime.nullish(),
  cancel_reason: z.string().nullish(),
  note: z.string().nullish(),
  tags: z.string().nullish(),
});

/** Options of {@link createCommerceWebhookReceiver}. */
export interface CommerceWebhookOptions {
  /** Configured source name: the `source` of every event and the prefix of its id. */
  readonly name: string;
  /** The app's webhook secret (the HMAC key, used as given). */
  readonly secret: string;
  /**
   * The shop this receiver serves: a delivery naming another (X-Shopify-Shop-Domain) is refused.
   * An app's secret signs the webhooks of every shop it is installed on, so a valid HMAC alone
   * does not say the delivery is this tenant's.
   */
  readonly shopDomain: string;
}

/** The commerce platform's webhook receiver (Shopify HMAC). */
export function createCommerceWebhookReceiver(options: CommerceWebhookOptions): WebhookReceiver {
  if (options.secret === '') {
    throw new RangeError('commerce webhook secret: expected a non-empty secret, got ""');
  }
  const { name } = options;
  return {
    async receiveWebhook(delivery, { toleranceMs, maxEventAgeMs }): Promise<WebhookVerdict> {
      const webhookId = headerOf(delivery.headers, 'x-shopify-webhook-id');
      const deliveryId = webhookId ?? null;
      const hmac = headerOf(delivery.headers, 'x-shopify-hmac-sha256');
      if (hmac === undefined) {
        return rejectWebhook(
          'WEBHOOK_SIGNATURE_INVALID',
          'expected the header X-Shopify-Hmac-Sha256, got nothing',
          deliveryId,
        );
      }
      const expected = createHmac('sha256', options.secret).update(delivery.body).digest();
      if (!safeEqual(Buffer.from(hmac, 'base64'), expected)) {
        return rejectWebhook(
          'WEBHOOK_SIGNATURE_INVALID',
          `expected X-Shopify-Hmac-Sha256 to be the base64 HMAC-SHA256 of the body under the commerce webhook secret, got ${shown(hmac)}, which does not match`,
          deliveryId,
        );
      }
      const shop = headerOf(delivery.headers, 'x-shopify-shop-domain');
      if (shop?.toLowerCase() !== options.shopDomain.toLowerCase()) {
        return rejectWebhook(
          'WEBHOOK_SIGNATURE_INVALID',
          `expected X-Shopify-Shop-Domain ${options.shopDomain} (the shop this deployment serves), got ${shown(shop)}`,
          deliveryId,
        );
      }
      if (webhookId === undefined) {
        return rejectWebhook(
          'WEBHOOK_MALFORMED',
          'expected the header X-Shopify-Webhook-Id (the delivery id), got nothing',
        );
      }
      const triggeredAt = headerOf(delivery.headers, 'x-shopify-triggered-at');
      const at = triggeredAt === undefined ? Number.NaN : Date.parse(triggeredAt);
      if (Number.isNaN(at)) {
        return rejectWebhook(
          'WEBHOOK_MALFORMED',
          `expected the header X-Shopify-Triggered-At as an ISO-8601 time, got ${shown(triggeredAt)}`,
          deliveryId,
        );
      }
      const stale = outsideWindow(
        'X-Shopify-Triggered-At',
        triggeredAt ?? '',
        at,
        delivery.receivedAt,
        toleranceMs,
        maxEventAgeMs,
      );
      if (stale) return rejectWebhook('WEBHOOK_TIMESTAMP_STALE', stale, deliveryId);

      const topic = headerOf(delivery.headers, 'x-shopify-topic');
      const change =
        topic !== undefined && Object.hasOwn(COMMERCE_WEBHOOK_TOPICS, topic)
          ? COMMERCE_WEBHOOK_TOPICS[topic as keyof typeof COMMERCE_WEBHOOK_TOPICS]
          : undefined;
      if (change === undefined) {
        return rejectWebhook(
          'WEBHOOK_UNKNOWN_TYPE',
          `expected X-Shopify-Topic ${Object.keys(COMMERCE_WEBHOOK_TOPICS).join(' or ')}, got ${shown(topic)}`,
          deliveryId,
        );
      }
      const json = parseJsonBody(delivery.body);
      if (!json.ok) return rejectWebhook('WEBHOOK_MALFORMED', json.message, deliveryId);
      const parsed = OrderBody.safeParse(json.value);
      if (!parsed.success) {
        return rejectWebhook(
          'WEBHOOK_MALFORMED',
          describeZodError(`a ${topic} order body`, parsed.error),
          deliveryId,
        );
      }
      const order = parsed.data;
      const eventId = headerOf(delivery.headers, 'x-shopify-event-id') ?? webhookId;
      const event: ChannelOrderSourceEvent = {
        id: `${name}:${eventId}`,
        source: name,
        occurredAt: new Date(
          change === 'CANCELLED' && order.cancelled_at ? order.cancelled_at : order.updated_at,
        ).toISOString(),
        type: 'channelOrder',
        change,
        channelOrderId: order.admin_graphql_api_id,
        name: order.name,
        cancelReason: order.cancel_reason ?? null,
        note: order.note ?? null,
        tags: (order.tags ?? '')
          .split(',')
          .map((tag) => tag.trim())
          .filter((tag) => tag !== ''),
      };
      return acceptWebhook(webhookId, [event]);
    },
  };
}

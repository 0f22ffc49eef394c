/**
 * The commerce sandbox's webhooks, after Shopify's (webhook signing: shared/reference/wms-apis-and-webhooks.md §4, "Commerce"):
 * REST-shaped order bodies (snake_case, numeric `id`, `admin_graphql_api_id`) and the
 * `X-Shopify-*` headers that stay the same on every retry. The HMAC is webhooks.ts's
 * `shopifySigner`, computed per attempt over the exact body.
 */
import { randomUUID } from 'node:crypto';
import type { WebhookDispatcher } from '../webhooks.js';
import type { ShopOrder } from './data.js';

/** The topics the sandbox sends (Shopify's header form). */
export type CommerceTopic = 'orders/updated' | 'orders/cancelled';

/** Where the webhooks say they come from. */
export interface ShopIdentity {
  readonly shopDomain: string;
  readonly apiVersion: string;
}

/** REST `fulfillment_status` of an order: null until something shipped. */
function restFulfillmentStatus(order: ShopOrder): 'fulfilled' | null {
  switch (order.displayFulfillmentStatus) {
    case 'FULFILLED':
      return 'fulfilled';
    case 'UNFULFILLED':
    case 'IN_PROGRESS':
      return null;
    default: {
      const never: never = order.displayFulfillmentStatus;
      throw new Error(`unknown fulfillment status ${String(never)}`);
    }
  }
}

/** The order as Shopify's REST webhooks serialise it (the fields the contract names). */
export function restOrder(order: ShopOrder): Record<string, unknown> {
  return {
    id: order.numericId,
    admin_graphql_api_id: order.id,
    name: order.name,
    email: order.email,
    created_at: order.createdAt,
    updated_at: order.updatedAt,
    cancelled_at: order.cancelledAt,
    cancel_reason: order.cancelReason === null ? null : order.cancelReason.toLowerCase(),
    financial_status: order.displayFinancialStatus.toLowerCase(),
    fulfillment_status: restFulfillmentStatus(order),
    tags: order.tags.join(', '),
    note: order.note,
    line_items: order.lineItems.map((item) => ({
      id: item.numericId,
      sku: item.sku,
      quantity: item.quantity,
      price: item.originalUnitPriceSet.shopMoney.amount,
    })),
  };
}

/** Sends one order webhook of `topic`, triggered at `triggeredAtMs`. */
export function sendOrderWebhook(
  webhooks: WebhookDispatcher,
  shop: ShopIdentity,
  topic: CommerceTopic,
  order: ShopOrder,
  triggeredAtMs: number,
): void {
  const webhookId = randomUUID();
  webhooks.emit({
    id: webhookId,
    type: topic,
    body: JSON.stringify(restOrder(order)),
    headers: {
      'X-Shopify-Topic': topic,
      'X-Shopify-Shop-Domain': shop.shopDomain,
      'X-Shopify-API-Version': shop.apiVersion,
      'X-Shopify-Webhook-Id': webhookId,
      'X-Shopify-Event-Id': randomUUID(),
      'X-Shopify-Triggered-At': new Date(triggeredAtMs).toISOString(),
    },
  });
}

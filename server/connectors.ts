/**
 * Makes the connectors from configuration. Pointing a connector at a real system is a matter of
 * settings (URL, credentials), never code. A connector receives webhooks when its system sends
 * them: the ERP and commerce when their webhook secret is configured, a WMS unless it is polled
 * (POLL_SOURCES).
 */
import { createCommerceConnector } from '../sources/commerce/index.js';
import { withContentCache } from '../sources/content-cache.js';
import { createErpConnector } from '../sources/erp/index.js';
import { createWmsConnector } from '../sources/wms/index.js';
import { isWebhookReceiver, type Connector, type WebhookReceiver } from '../sources/contract.js';
import type { Sources } from '../resolvers/sources.js';
import type { CallObserver } from '../observability/instruments.js';
import type { Config } from './config.js';

/** Origins of the four systems, when the sandbox supplies them. */
export interface SourceUrls {
  readonly erp: string;
  readonly commerce: string;
  readonly wms: string;
  readonly tpl: string;
}

function required(url: string | null, fallback: string | undefined, name: string): string {
  const value = url ?? fallback;
  if (!value) throw new Error(`${name}: no URL configured and no sandbox running`);
  return value;
}

/** `decorated` (a wrapper of `inner` that knows only reads) plus `inner`'s webhook receiver. */
function withWebhooks<C extends Connector>(
  decorated: C,
  inner: WebhookReceiver,
): C & WebhookReceiver {
  return {
    ...decorated,
    receiveWebhook: (delivery, options) => inner.receiveWebhook(delivery, options),
  };
}

/**
 * Makes every connector. `sandbox` fills in URLs the configuration leaves open; `observer` is
 * told of every system call and breaker transition.
 */
export function createSources(
  config: Config,
  sandbox?: SourceUrls,
  observer?: CallObserver,
): Sources {
  const { erp, commerce, wms, tpl } = config.sources;
  const { secrets } = config.webhooks;
  const polled = new Set<string>(config.polling.sources);
  const shop = createCommerceConnector({
    name: 'commerce',
    baseUrl: required(commerce.url, sandbox?.commerce, 'COMMERCE_URL'),
    apiVersion: commerce.apiVersion,
    accessToken: commerce.accessToken,
    timeoutMs: commerce.timeoutMs,
    breaker: commerce.breaker,
    observer,
    ...(secrets.commerce === null ? {} : { webhookSecret: secrets.commerce }),
    ...(commerce.shopDomain === null ? {} : { shopDomain: commerce.shopDomain }),
  });
  const cached = withContentCache(shop, commerce.contentCache);
  return {
    erp: createErpConnector({
      name: 'erp',
      baseUrl: required(erp.url, sandbox?.erp, 'ERP_URL'),
      tenant: erp.tenant,
      environment: erp.environment,
      companyId: erp.companyId,
      clientId: erp.clientId,
      clientSecret: erp.clientSecret,
      scope: erp.scope,
      ...(erp.tokenUrl ? { tokenUrl: erp.tokenUrl } : {}),
      timeoutMs: erp.timeoutMs,
      breaker: erp.breaker,
      observer,
      ...(secrets.erp === null ? {} : { webhookSecret: secrets.erp }),
    }),
    // The content cache wraps reads only; webhooks go to the platform connector itself.
    commerce: isWebhookReceiver(shop) ? withWebhooks(cached, shop) : cached,
    warehouses: [
      createWmsConnector({
        name: 'wms',
        baseUrl: required(wms.url, sandbox?.wms, 'WMS_URL'),
        clientId: wms.clientId,
        clientSecret: wms.clientSecret,
        userLogin: wms.userLogin,
        ...(wms.tplGuid ? { tplGuid: wms.tplGuid } : {}),
        pageSize: wms.pageSize,
        customerId: wms.customerId,
        warehouseKind: 'OWNED',
        timeoutMs: wms.timeoutMs,
        breaker: wms.breaker,
        observer,
        receiveWebhooks: !polled.has('wms'),
        webhookKeyRefreshMs: config.webhooks.keyRefreshMs,
      }),
      createWmsConnector({
        name: 'tpl',
        baseUrl: required(tpl.url, sandbox?.tpl, 'TPL_URL'),
        clientId: tpl.clientId,
        clientSecret: tpl.clientSecret,
        userLogin: tpl.userLogin,
        ...(tpl.tplGuid ? { tplGuid: tpl.tplGuid } : {}),
        pageSize: tpl.pageSize,
        customerId: tpl.customerId,
        warehouseKind: 'THIRD_PARTY',
        timeoutMs: tpl.timeoutMs,
        breaker: tpl.breaker,
        observer,
        receiveWebhooks: !polled.has('tpl'),
        webhookKeyRefreshMs: config.webhooks.keyRefreshMs,
      }),
    ],
  };
}

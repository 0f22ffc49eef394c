/**
 * Credentials the sandbox systems accept, and that Crossdock's embedded default uses to call
 * them. They protect nothing real; they exist so every connector exercises its auth flow.
 */

/** ERP (OAuth2 client credentials, after Business Central / Entra ID). */
export const ERP_SANDBOX = Object.freeze({
  tenant: 'crossdock-sandbox',
  environment: 'production',
  /** The one company of the sandbox ERP. */
  companyId: '5f0b7b5e-8f1a-4e0c-9d2b-1c3a5e7f9a11',
  clientId: 'crossdock-gateway',
  clientSecret: 'erp-sandbox-secret',
  scope: 'https://api.businesscentral.dynamics.com/.default',
  /**
   * Standard Webhooks secret of the partner extension's event subscribers: `whsec_` + base64 of
   * 32 fixed bytes (`crossdock-sandbox-erp-webhooks!!`); the HMAC key is the decoded bytes.
   */
  webhookSecret: 'whsec_Y3Jvc3Nkb2NrLXNhbmRib3gtZXJwLXdlYmhvb2tzISE=',
});

/** Commerce platform (Admin API access token, after Shopify). */
export const COMMERCE_SANDBOX = Object.freeze({
  apiVersion: '2026-01',
  accessToken: 'shpat_crossdock_sandbox',
  shopDomain: 'crossdock-sandbox.myshopify.com',
  /** The app's client secret that keys `X-Shopify-Hmac-Sha256` on webhooks. */
  webhookSecret: 'shpss_crossdock_sandbox_webhooks',
});

/** WMS instances (client credentials plus user login, after Extensiv 3PL Warehouse Manager). */
export const WMS_SANDBOX = Object.freeze({
  wms: {
    clientId: 'crossdock-wms',
    clientSecret: 'wms-sandbox-secret',
    userLogin: 'crossdock',
    tplGuid: '{8c5e2a71-0c61-4f7e-9b1f-0e2a6d3c4b51}',
  },
  tpl: {
    clientId: 'crossdock-3pl',
    clientSecret: 'tpl-sandbox-secret',
    userLogin: 'crossdock',
    tplGuid: '{2b7f9d30-4e8a-4a1c-8f6e-5d9c1b2a3e47}',
  },
});

/**
 * The settings that point Crossdock at these sandbox systems with `SANDBOX=off` (a Crossdock in
 * its own process: tests, benchmarks): with SANDBOX=off every credential must be set explicitly
 * (server/config.ts), and NODE_ENV=production refuses these published ones.
 */
export function sandboxCredentialEnv(): Record<string, string> {
  return {
    ERP_TENANT: ERP_SANDBOX.tenant,
    ERP_COMPANY_ID: ERP_SANDBOX.companyId,
    ERP_CLIENT_ID: ERP_SANDBOX.clientId,
    ERP_CLIENT_SECRET: ERP_SANDBOX.clientSecret,
    COMMERCE_ACCESS_TOKEN: COMMERCE_SANDBOX.accessToken,
    COMMERCE_SHOP_DOMAIN: COMMERCE_SANDBOX.shopDomain,
    WMS_CLIENT_ID: WMS_SANDBOX.wms.clientId,
    WMS_CLIENT_SECRET: WMS_SANDBOX.wms.clientSecret,
    WMS_USER_LOGIN: WMS_SANDBOX.wms.userLogin,
    TPL_CLIENT_ID: WMS_SANDBOX.tpl.clientId,
    TPL_CLIENT_SECRET: WMS_SANDBOX.tpl.clientSecret,
    TPL_USER_LOGIN: WMS_SANDBOX.tpl.userLogin,
  };
}

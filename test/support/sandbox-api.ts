/**
 * The sandbox systems' own APIs, as their users call them: bearer tokens of the ERP and the
 * WMSs, and the ERP company every API path starts with.
 */
import { ERP_SANDBOX, WMS_SANDBOX } from '../../sandbox/credentials.js';
import type { Sandbox } from '../../sandbox/index.js';

/** A bearer token of the sandbox ERP (Entra ID client credentials). */
export async function erpToken(sandbox: Sandbox): Promise<string> {
  const res = await fetch(`${sandbox.erp.url}/${ERP_SANDBOX.tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: ERP_SANDBOX.clientId,
      client_secret: ERP_SANDBOX.clientSecret,
      scope: ERP_SANDBOX.scope,
    }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

/** The URL of the sandbox ERP's company: `<it>/salesOrders`, `<it>/items`, ... */
export const erpCompanyUrl = (sandbox: Sandbox): string =>
  `${sandbox.erp.url}/v2.0/${ERP_SANDBOX.tenant}/${ERP_SANDBOX.environment}/api/v2.0/companies(${ERP_SANDBOX.companyId})`;

/** A bearer token of a sandbox WMS: the own one (`wms`) or the 3PL's (`tpl`). */
export async function wmsToken(sandbox: Sandbox, system: 'wms' | 'tpl' = 'wms'): Promise<string> {
  const creds = WMS_SANDBOX[system];
  const res = await fetch(`${sandbox[system].url}/AuthServer/api/Token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64')}`,
    },
    body: JSON.stringify({ grant_type: 'client_credentials', user_login: creds.userLogin }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

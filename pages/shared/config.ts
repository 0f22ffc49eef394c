/**
 * What the server tells a page when it serves it: read from the page's
 * `<script type="application/json" id="crossdock-config">` (no inline script, so the pages run
 * under a Content-Security-Policy without 'unsafe-inline' scripts).
 */
import type { PageConfig } from './contract.js';

export type { DemoKeys, PageConfig } from './contract.js';

/** Reads the page's configuration; throws when the server did not embed it. */
export function pageConfig(): PageConfig {
  const element = document.getElementById('crossdock-config');
  if (!element?.textContent) throw new Error('crossdock-config is missing from the page');
  return JSON.parse(element.textContent) as PageConfig;
}

/** The graphql-ws URL of an endpoint path, on the page's own origin. */
export function socketUrl(endpoint: string): string {
  const url = new URL(endpoint, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

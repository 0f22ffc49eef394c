/**
 * A whole Crossdock for a test: the four sandbox systems and the GraphQL server, all on
 * ephemeral ports, with a `gql` helper that posts over real HTTP.
 */
import { createLogger } from '../../observability/logger.js';
import { startSandbox, type Sandbox } from '../../sandbox/index.js';
import type { SeedWorld } from '../../sandbox/seed.js';
import { startCrossdock, type Crossdock } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { createSources } from '../../server/connectors.js';

/** A GraphQL response as the client sees it. */
export interface GqlResponse<D = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: {
    data?: D | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
    extensions?: Record<string, unknown>;
  };
}

/** A running stack. */
export interface Stack {
  readonly sandbox: Sandbox;
  readonly crossdock: Crossdock;
  gql<D = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { key?: string | null; headers?: Record<string, string> },
  ): Promise<GqlResponse<D>>;
  /** Requests each sandbox system served since the last reset. */
  requests(): Record<'erp' | 'commerce' | 'wms' | 'tpl', number>;
  resetCounts(): void;
  close(): Promise<void>;
}

/** Options of {@link startStack}. */
export interface StackOptions {
  readonly catalogSize?: number;
  readonly world?: SeedWorld;
  /** Extra settings, as environment variables (e.g. ERP_TIMEOUT_MS). */
  readonly env?: Record<string, string>;
}

/** Starts the sandbox and Crossdock on ephemeral ports. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const sandbox = await startSandbox({
    portBase: 0,
    ...(options.world ? { world: options.world } : { catalogSize: options.catalogSize ?? 300 }),
  });
  const config = loadConfig({ PORT: '0', NODE_ENV: 'test', LOG_LEVEL: 'silent', ...options.env });
  const sources = createSources(config, {
    erp: sandbox.erp.url,
    commerce: sandbox.commerce.url,
    wms: sandbox.wms.url,
    tpl: sandbox.tpl.url,
  });
  const crossdock = await startCrossdock({ config, sources, logger: createLogger('silent') });
  return {
    sandbox,
    crossdock,
    async gql(query, variables, requestOptions = {}) {
      const key = requestOptions.key === undefined ? 'demo-admin' : requestOptions.key;
      const res = await fetch(crossdock.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          ...requestOptions.headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as GqlResponse['body'] } as never;
    },
    requests() {
      return {
        erp: sandbox.erp.control.stats().requests,
        commerce: sandbox.commerce.control.stats().requests,
        wms: sandbox.wms.control.stats().requests,
        tpl: sandbox.tpl.control.stats().requests,
      };
    },
    resetCounts() {
      for (const system of sandbox.systems) system.control.resetStats();
    },
    async close() {
      await crossdock.close();
      await sandbox.close();
    },
  };
}

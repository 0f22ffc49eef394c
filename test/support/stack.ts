/**
 * A whole Crossdock for a test: the four sandbox systems and the GraphQL server, all on
 * ephemeral ports, with a `gql` helper that posts over real HTTP.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../../sandbox/index.js';
import type { SeedWorld } from '../../sandbox/seed.js';
import type { Crossdock } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import type { Logger } from '../../observability/logger.js';
import type { Tracing } from '../../observability/tracing.js';
import { startEmbedded, type Embedded } from '../../server/embedded.js';

/** A GraphQL response as the client sees it. */
export interface GqlResponse<D = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: {
    data?: D | null;
    errors?: {
      message: string;
      path?: (string | number)[];
      extensions?: Record<string, unknown>;
    }[];
    extensions?: Record<string, unknown>;
  };
}

/** A running stack. */
export interface Stack {
  readonly sandbox: Sandbox;
  readonly crossdock: Crossdock;
  readonly running: Embedded;
  gql<D = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { key?: string | null; headers?: Record<string, string>; signal?: AbortSignal },
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
  /** The logger Crossdock writes to (tests that read log lines). */
  readonly logger?: Logger;
  /** Where spans go (tests that read them). */
  readonly tracing?: Tracing;
}

/** Starts the sandbox and Crossdock on ephemeral ports. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const config = loadConfig({
    // A store of its own per stack: idempotency keys and orders never leak between tests.
    DATA_DIR: mkdtempSync(join(tmpdir(), 'crossdock-test-')),
    PORT: '0',
    SANDBOX_PORT_BASE: '0',
    SANDBOX_CATALOG_SIZE: String(options.catalogSize ?? 300),
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const running = await startEmbedded(config, {
    ...(options.world ? { world: options.world } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.tracing ? { tracing: options.tracing } : {}),
  });
  const { crossdock } = running;
  const sandbox = running.sandbox;
  if (!sandbox) throw new Error('the test stack needs the embedded sandbox');
  return {
    sandbox,
    crossdock,
    running,
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
        ...(requestOptions.signal ? { signal: requestOptions.signal } : {}),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as never };
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
    close: () => running.close(),
  };
}

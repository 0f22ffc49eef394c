/**
 * Crossdock with its sandbox systems in one process: what `npm start` runs on the embedded
 * default, and what tests and benchmarks start on ephemeral ports.
 */
import { createLogger, type Logger } from '../observability/logger.js';
import { startSandbox, type Sandbox } from '../sandbox/index.js';
import type { SeedWorld } from '../sandbox/seed.js';
import { startCrossdock, type Crossdock } from './app.js';
import type { Config } from './config.js';
import { createSources } from './connectors.js';

/** A running Crossdock, with the sandbox when the configuration embeds it. */
export interface Embedded {
  readonly crossdock: Crossdock;
  readonly sandbox: Sandbox | undefined;
  /** Closes Crossdock (drain, connectors), then the sandbox. Idempotent. */
  close(): Promise<void>;
}

/** Starts the sandbox (when `config.sandbox.mode` is embedded) and Crossdock on top of it. */
export async function startEmbedded(
  config: Config,
  options: { readonly logger?: Logger; readonly world?: SeedWorld } = {},
): Promise<Embedded> {
  const logger = options.logger ?? createLogger(config.logLevel);
  let sandbox: Sandbox | undefined;
  if (config.sandbox.mode === 'embedded') {
    sandbox = await startSandbox({
      portBase: config.sandbox.portBase,
      commerce: {
        restoreRate: config.sandbox.commerceRestoreRate,
        bucketSize: Math.max(2_000, config.sandbox.commerceRestoreRate * 2),
      },
      ...(options.world ? { world: options.world } : { catalogSize: config.sandbox.catalogSize }),
    });
  }
  try {
    const sources = createSources(
      config,
      sandbox && {
        erp: sandbox.erp.url,
        commerce: sandbox.commerce.url,
        wms: sandbox.wms.url,
        tpl: sandbox.tpl.url,
      },
    );
    const crossdock = await startCrossdock({ config, sources, logger });
    let closing: Promise<void> | undefined;
    return {
      crossdock,
      sandbox,
      close: () =>
        (closing ??= (async () => {
          await crossdock.close();
          await sandbox?.close();
        })()),
    };
  } catch (error) {
    await sandbox?.close();
    throw error;
  }
}

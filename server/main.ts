/**
 * `npm start`: Crossdock on its embedded defaults (sandbox systems in-process), or on real
 * systems with SANDBOX=off. Prints its URLs; stops gracefully on SIGTERM and SIGINT.
 */
import { createLogger } from '../observability/logger.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DEMO_KEYS } from './identity.js';
import { startEmbedded } from './embedded.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const running = await startEmbedded(config, { logger });
  const { crossdock, sandbox } = running;

  const lines = [
    `Crossdock GraphQL  ${crossdock.url}  (graphql-ws subscriptions on ${crossdock.url.replace('http', 'ws')})`,
    ...(config.pages.playground
      ? [
          `Playground         ${new URL('/playground', crossdock.url)}  (GraphiQL; also a browser's GET ${crossdock.url})`,
        ]
      : []),
    ...(config.pages.console ? [`Operations console ${new URL('/ops', crossdock.url)}`] : []),
    `Health             ${new URL('/healthz', crossdock.url)}  ${new URL('/readyz', crossdock.url)}`,
    `Metrics            ${new URL('/metrics', crossdock.url)}${config.metrics.key ? '  (Authorization: Bearer <METRICS_KEY>)' : '  (loopback only)'}`,
    ...Object.entries(running.webhookUrls).map(
      ([system, url]) => `Webhooks ${system.padEnd(10)}${url}`,
    ),
  ];
  if (sandbox) {
    lines.push(
      `Sandbox ERP        ${sandbox.erp.url}`,
      `Sandbox WMS        ${sandbox.wms.url}`,
      `Sandbox 3PL        ${sandbox.tpl.url}`,
      `Sandbox commerce   ${sandbox.commerce.url}`,
      ...(config.auth.apiKeys.some((k) => k.id === 'demo-admin')
        ? [`Demo API keys      ${DEMO_KEYS.map((k) => k.key).join(', ')}`]
        : []),
      `Try: curl -s ${crossdock.url} -H 'authorization: Bearer demo-admin' -H 'content-type: application/json' -d '{"query":"{ product(sku: \\"SKU-000001\\") { name listPrice { amount } availableToPromise } }"}'`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    // The order is embedded.ts's (its header): webhooks and polling, HTTP and sockets, workflows, connectors, bus, store, sandbox.
    await running.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Crossdock failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

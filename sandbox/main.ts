/**
 * `npm run sandbox`: the four sandbox systems alone, on SANDBOX_PORT_BASE+1..4.
 */
import { DEFAULT_SANDBOX_PORT_BASE, startSandbox } from './index.js';

const portBase = Number(process.env.SANDBOX_PORT_BASE ?? DEFAULT_SANDBOX_PORT_BASE);
const catalogSize = Number(process.env.SANDBOX_CATALOG_SIZE ?? 500);
// The commerce platform's query-cost restore rate, points per second: 100 is Shopify's standard
// plan, 1000 Plus. Benchmarks raise it to measure Crossdock rather than the plan's limit.
const restoreRate = Number(process.env.SANDBOX_COMMERCE_RESTORE_RATE ?? 100);
for (const [name, value] of [
  ['SANDBOX_PORT_BASE', portBase],
  ['SANDBOX_CATALOG_SIZE', catalogSize],
  ['SANDBOX_COMMERCE_RESTORE_RATE', restoreRate],
] as const) {
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(
      `Invalid configuration: ${name}: expected a non-negative integer, got ${JSON.stringify(process.env[name])}\n`,
    );
    process.exit(1);
  }
}
const sandbox = await startSandbox({
  portBase,
  catalogSize,
  commerce: { restoreRate, bucketSize: Math.max(2_000, restoreRate * 2) },
});
for (const system of sandbox.systems)
  process.stdout.write(`${system.name.padEnd(9)} ${system.url}\n`);
const stop = () => void sandbox.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

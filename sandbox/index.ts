/**
 * Starts the four sandbox systems (ERP, WMS, 3PL, commerce) over one seeded world.
 * Ports are `portBase + 1..4` (DESIGN.md), or all ephemeral when `portBase` is 0.
 */
import { createCommerceApp, type CommerceSandboxOptions } from './commerce.js';
import { createErpApp } from './erp.js';
import { NO_FAULTS, listen, type RunningSystem } from './faults.js';
import { buildWorld, type SeedOptions, type SeedWorld } from './seed.js';
import { NO_WEBHOOK_FAULTS, type WebhookOptions } from './webhooks.js';
import { createWmsApp } from './wms.js';

/** Offsets from `SANDBOX_PORT_BASE` of each system (DESIGN.md). */
export const SANDBOX_PORT_OFFSETS = Object.freeze({ erp: 1, wms: 2, tpl: 3, commerce: 4 });

/** Default `SANDBOX_PORT_BASE`. */
export const DEFAULT_SANDBOX_PORT_BASE = 4100;

/** Options of {@link startSandbox}. */
export interface SandboxOptions extends SeedOptions {
  /**
   * Base port; systems listen on base+1..4. 0 gives every system an ephemeral port.
   * @default 4100
   */
  readonly portBase?: number;
  /**
   * Interface to bind.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /** A world built elsewhere (tests share one between runs); otherwise built from the options. */
  readonly world?: SeedWorld;
  /** Options of the commerce platform (its query-cost bucket: a Shopify plan's limits). */
  readonly commerce?: CommerceSandboxOptions;
  /**
   * Outbound webhook delivery of every system, e.g. `{ retryDelaysMs: [10, 20] }` in tests.
   * @default {} // retries after 0.25 s, 1 s, 5 s, 30 s, 2 min; each vendor's timeout
   */
  readonly webhooks?: WebhookOptions;
}

/** The running sandbox. */
export interface Sandbox {
  readonly world: SeedWorld;
  readonly erp: RunningSystem;
  readonly wms: RunningSystem;
  readonly tpl: RunningSystem;
  readonly commerce: RunningSystem;
  /** Every system, in port order. */
  readonly systems: readonly RunningSystem[];
  /** Clears faults, webhook delivery faults and request counters on every system. */
  reset(): void;
  close(): Promise<void>;
}

/** Starts every sandbox system. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const world = options.world ?? buildWorld(options);
  const base = options.portBase ?? DEFAULT_SANDBOX_PORT_BASE;
  const host = options.host ?? '127.0.0.1';
  const port = (offset: number): number => (base === 0 ? 0 : base + offset);
  const started: RunningSystem[] = [];
  try {
    const start = async (name: string, made: ReturnType<typeof createErpApp>, offset: number) => {
      const system = await listen(name, made.app, made.control, port(offset), host);
      started.push(system);
      return system;
    };
    const webhooks = options.webhooks ?? {};
    const erp = await start('erp', createErpApp(world, { webhooks }), SANDBOX_PORT_OFFSETS.erp);
    const wms = await start(
      'wms',
      createWmsApp(world, { system: 'wms', webhooks }),
      SANDBOX_PORT_OFFSETS.wms,
    );
    const tpl = await start(
      'tpl',
      createWmsApp(world, { system: 'tpl', webhooks }),
      SANDBOX_PORT_OFFSETS.tpl,
    );
    const commerce = await start(
      'commerce',
      createCommerceApp(world, { ...options.commerce, webhooks }),
      SANDBOX_PORT_OFFSETS.commerce,
    );
    return {
      world,
      erp,
      wms,
      tpl,
      commerce,
      systems: started,
      reset() {
        for (const system of started) {
          system.control.setFaults(NO_FAULTS);
          system.control.resetStats();
          system.webhooks.setFaults(NO_WEBHOOK_FAULTS);
        }
      },
      async close() {
        await Promise.all(started.map((system) => system.close()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((system) => system.close()));
    throw error;
  }
}

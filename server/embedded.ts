/**
 * Crossdock with its sandbox systems in one process: what `npm start` runs on the embedded
 * default, and what tests and benchmarks start on ephemeral ports. Events from the systems
 * (issue #4): the systems that send webhooks are told Crossdock's `/webhooks/<system>` URL once
 * it listens; the others (POLL_SOURCES) are polled; both feed one ingestion.
 */
import { createLogger, type Logger } from '../observability/logger.js';
import { allConnectors } from '../resolvers/sources.js';
import { startSandbox, type Sandbox } from '../sandbox/index.js';
import type { SeedWorld } from '../sandbox/seed.js';
import type { DeadLetter, Store } from '../store/contract.js';
import { createStore } from '../store/index.js';
import { createTrail, type Trail } from '../observability/trail.js';
import { createInstruments } from '../observability/instruments.js';
import {
  SpanKind,
  createTracing,
  endSpan,
  withSpan,
  type Tracing,
} from '../observability/tracing.js';
import type { EventBus } from '../subscriptions/bus.js';
import { createMemoryBus } from '../subscriptions/memory-bus.js';
import { createNatsBus } from '../subscriptions/nats-bus.js';
import {
  isChangeFeed,
  isWebhookReceiver,
  type ChangeFeed,
  type WmsConnector,
} from '../sources/contract.js';
import { createIngest, createWorkflows, type Ingest, type Workflows } from '../workflows/index.js';
import { createPoller, type Poller } from '../workflows/poller.js';
import { startCrossdock, type Crossdock } from './app.js';
import type { Config } from './config.js';
import { createSources } from './connectors.js';
import { createWebhookRouter } from './webhooks.js';

/** A running Crossdock, with the sandbox when the configuration embeds it. */
export interface Embedded {
  readonly crossdock: Crossdock;
  readonly sandbox: Sandbox | undefined;
  readonly store: Store;
  readonly bus: EventBus;
  readonly workflows: Workflows;
  /** Applies the systems' events (webhooks and polling). */
  readonly ingest: Ingest;
  /** Polls the sources of POLL_SOURCES (started; `pollOnce()` runs a tick now). */
  readonly poller: Poller;
  /** `<crossdock origin>/webhooks/<system>` of each system that sends webhooks. */
  readonly webhookUrls: Readonly<Record<string, string>>;
  /**
   * Closes in dependency order: stop the sandbox sending webhooks, stop polling, stop sampling
   * source health and drain HTTP (webhooks in flight finish; both are `crossdock.close()`), stop
   * the workflows' background work, close the connectors, the bus, the store, then the sandbox.
   * Idempotent.
   */
  close(): Promise<void>;
}

/** Starts the sandbox (when `config.sandbox.mode` is embedded) and Crossdock on top of it. */
export async function startEmbedded(
  config: Config,
  options: {
    readonly logger?: Logger;
    readonly world?: SeedWorld;
    /** Spans go here (tests: an in-memory exporter); else as configured (OTEL_*). */
    readonly tracing?: Tracing;
  } = {},
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
  let store: Store | undefined;
  let bus: EventBus | undefined;
  const trail = createTrail();
  // Every seam reports here: log lines, trail entries, metrics (/metrics).
  const tracing =
    options.tracing ??
    createTracing({ endpoint: config.tracing.endpoint, serviceName: config.tracing.serviceName });
  const instruments = createInstruments({ logger, trail, tracing });
  try {
    store = withDeadLetterLog(
      await createStore({
        mongodbUri: config.store.mongodbUri,
        dataDir: config.store.dataDir,
      }),
      logger,
    );
    const sources = createSources(
      config,
      sandbox && {
        erp: sandbox.erp.url,
        commerce: sandbox.commerce.url,
        wms: sandbox.wms.url,
        tpl: sandbox.tpl.url,
      },
      instruments.calls,
    );
    const rawBus = config.bus.natsUrl
      ? await createNatsBus({ servers: config.bus.natsUrl, streamPrefix: config.bus.streamPrefix })
      : createMemoryBus();
    bus = rawBus;
    // Publishes are kept in the trail by correlation ID (Query.trace).
    const traced = tracedBus(rawBus, trail, tracing);
    const workflows = createWorkflows({
      erp: sources.erp,
      warehouses: sources.warehouses,
      store,
      bus: traced,
      leaseMs: config.workflows.leaseMs,
      retentionMs: config.workflows.retentionMs,
      pollMs: config.workflows.pollMs,
      retry: config.workflows.retry,
      sla: config.workflows.sla,
      maxWindowEntries: config.workflows.maxWindowEntries,
      steps: { step: (report) => instruments.step(report) },
      onError: (error, where) => logger.error({ err: error, where }, 'background workflow failure'),
    });
    const ingest = createIngest({
      store,
      bus: traced,
      erp: sources.erp,
      orders: workflows.orders,
      onError: (error, where) => logger.warn({ err: error, where }, 'ingestion look-up failed'),
    });
    const polled = new Set<string>(config.polling.sources);
    const receivers = allConnectors(sources)
      .filter(isWebhookReceiver)
      .filter((c) => !polled.has(c.name));
    const webhooks = createWebhookRouter({
      receivers,
      ingest,
      idempotency: store.idempotency,
      logger,
      toleranceMs: config.webhooks.toleranceMs,
      maxEventAgeMs: config.webhooks.maxEventAgeMs,
      maxBytes: config.webhooks.maxBytes,
      failuresPerMinute: config.webhooks.failuresPerMinute,
      leaseMs: config.workflows.leaseMs,
      retentionMs: config.workflows.retentionMs,
      onVerdict: (verdict) => instruments.webhook(verdict),
    });
    const crossdock = await startCrossdock({
      config,
      sources,
      store,
      bus: traced,
      workflows,
      logger,
      webhooks,
      trail,
      instruments,
    });
    workflows.start();
    // Tell the sandbox systems where to send their events, now that Crossdock answers there.
    const origin = new URL(crossdock.url).origin;
    const webhookUrls: Record<string, string> = {};
    for (const receiver of receivers) {
      const url = `${origin}/webhooks/${encodeURIComponent(receiver.name)}`;
      webhookUrls[receiver.name] = url;
      sandbox?.systems.find((system) => system.name === receiver.name)?.webhooks.register(url);
    }
    const poller = createPoller({
      feeds: sources.warehouses.filter(
        (c): c is WmsConnector & ChangeFeed => polled.has(c.name) && isChangeFeed(c),
      ),
      store,
      apply: (events, context) => ingest.apply(events, context),
      intervalMs: config.polling.intervalMs,
      onError: (error, source) => logger.warn({ err: error, source }, 'poll failed'),
    });
    poller.start();
    const opened = store;
    const openedBus = bus;
    let closing: Promise<void> | undefined;
    return {
      crossdock,
      sandbox,
      store: opened,
      bus: openedBus,
      workflows,
      ingest,
      poller,
      webhookUrls,
      close: () =>
        (closing ??= (async () => {
          for (const system of sandbox?.systems ?? []) system.webhooks.unregister();
          await poller.close();
          await crossdock.close();
          await workflows.close();
          await Promise.all(allConnectors(sources).map((connector) => connector.close()));
          await openedBus.close();
          await opened.close();
          await tracing.shutdown().catch(() => undefined);
          await sandbox?.close();
        })()),
    };
  } catch (error) {
    await bus?.close();
    await store?.close();
    await sandbox?.close();
    throw error;
  }
}

/** The bus, recording each publish that names a correlation ID in the trail. */
function tracedBus(bus: EventBus, trail: Trail, tracing: Tracing): EventBus {
  return {
    async publish(event) {
      const started = performance.now();
      let outcome = 'ok';
      const span = tracing.start(`publish ${event.domain}`, {
        kind: SpanKind.PRODUCER,
        attributes: { 'messaging.destination.name': event.subject, 'crossdock.event_id': event.id },
        correlationId: event.correlationId,
      });
      let failure: unknown;
      try {
        await withSpan(span, () => bus.publish(event));
      } catch (error) {
        outcome = 'error';
        failure = error;
        throw error;
      } finally {
        endSpan(span, failure);
        if (event.correlationId !== null) {
          trail.record({
            correlationId: event.correlationId,
            kind: 'EVENT',
            at: Date.now(),
            name: event.subject,
            outcome,
            durationMs: Math.round((performance.now() - started) * 100) / 100,
            detail: event.id,
          });
        }
      }
    },
    subscribe: (domain, options) => bus.subscribe(domain, options),
    ping: () => bus.ping(),
    close: () => bus.close(),
  };
}

/** The store, with a log line for each change of a dead letter (added, claimed, released). */
function withDeadLetterLog(store: Store, logger: Logger): Store {
  const letters = store.deadLetters;
  const line = (letter: DeadLetter, message: string) =>
    logger.warn(
      {
        deadLetter: letter.id,
        orderId: letter.orderId,
        step: letter.step,
        status: letter.status,
        attempts: letter.attempts,
        lastError: letter.lastError,
      },
      message,
    );
  return {
    ...store,
    deadLetters: {
      ...letters,
      add: async (letter: Parameters<typeof letters.add>[0]) => {
        const added = await letters.add(letter);
        if (added.id === letter.id) line(added, 'dead letter added');
        return added;
      },
      claim: async (...args: Parameters<typeof letters.claim>) => {
        const claimed = await letters.claim(...args);
        if (claimed) line(claimed, 'dead letter retrying');
        return claimed;
      },
      release: async (...args: Parameters<typeof letters.release>) => {
        const released = await letters.release(...args);
        if (released) line(released, `dead letter ${released.status.toLowerCase()}`);
        return released;
      },
    },
  };
}

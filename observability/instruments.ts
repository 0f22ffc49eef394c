/**
 * The instruments of one Crossdock instance (issue #11): what each seam reports — an operation,
 * a system call, a breaker transition, a workflow step, a webhook verdict, an idempotent replay,
 * an event delivered to a subscriber — goes to one place that writes the log line, the trail
 * entry (Query.trace) and the Prometheus metrics (prom-client, one registry per instance, served
 * at `/metrics`).
 *
 * Imports no business code: the seams report plain records whose shapes are defined here.
 * Label values that come from outside (operation names) are bounded: past
 * {@link MAX_LABEL_VALUES} distinct values a label reads `other`, so a client inventing names
 * cannot grow the registry without end.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from './logger.js';
import type { Trail } from './trail.js';
import { NO_TRACING, SpanKind, endSpan, type Span, type Tracing } from './tracing.js';

/** One call to a system, as the upstream client saw it. */
export interface SystemCallReport {
  /** Configured source name (`erp`, `commerce`, `wms`, `tpl`). */
  readonly system: string;
  /** What the call was for (`items`, `POST salesOrders`, `token`...): a fixed vocabulary. */
  readonly operation: string;
  readonly method: string;
  /** The HTTP status, when one arrived. */
  readonly status: number | null;
  /** `ok`, `rejected` (a 4xx the connector judges), or why it failed. */
  readonly outcome: SystemCallOutcome;
  /** The failure's reason (`http_503`, `timeout`, `schema_mismatch`, `breaker_open`...). */
  readonly reason: string | null;
  readonly durationMs: number;
  readonly correlationId: string | null;
  /** The breaker's state after the call. */
  readonly breaker: string;
  /** The system's own id of its answer (`x-request-id`, `request-id`...), when it sent one. */
  readonly vendorRequestId?: string | null;
}

export type SystemCallOutcome =
  'ok' | 'rejected' | 'timeout' | 'unavailable' | 'bad_response' | 'breaker_open';

/** What the upstream client reports to. */
export interface CallObserver {
  /** The span of a call about to be made (null when tracing is off); ended by the caller. */
  startSpan?(system: string, operation: string, method: string): Span | null;
  call(report: SystemCallReport): void;
  /** A breaker changed state. */
  breaker(system: string, state: string, previous: string): void;
}

/** One workflow step, as the step runner saw it (its ledger entry). */
export interface StepMeasure {
  readonly orderId: string;
  readonly step: string;
  readonly outcome: string;
  readonly durationMs: number | null;
  readonly correlationId: string | null;
  readonly channel: string | null;
  readonly warehouse: string | null;
  readonly compensation: boolean;
}

/** One GraphQL operation (its log line's fields that metrics use). */
export interface OperationMeasure {
  readonly operation: string;
  readonly type: string;
  readonly durationMs: number;
  readonly outcome: 'ok' | 'error';
}

/** What a webhook delivery came to. */
export interface WebhookMeasure {
  readonly system: string;
  /** `accepted`, `duplicate`, or the refusal's code. */
  readonly outcome: string;
  readonly deliveryId: string | null;
  readonly correlationId: string | null;
  readonly events: number;
}

/** Gauges read when metrics are scraped. */
export interface Readings {
  /** Dead letters by status. */
  deadLetters?(): Promise<Readonly<Record<string, number>>>;
  /** GraphQL subscribers now. */
  subscribers?(): number;
}

/** The instruments of one instance. */
export interface Instruments {
  readonly registry: Registry;
  /** Spans (observability/tracing.ts); off unless an endpoint or exporter is configured. */
  readonly tracing: Tracing;
  /** For the upstream clients (sources/upstream.ts). */
  readonly calls: CallObserver;
  operation(measure: OperationMeasure): void;
  step(measure: StepMeasure): void;
  webhook(measure: WebhookMeasure): void;
  /** A mutation answered from its idempotency record. */
  replay(operation: string): void;
  /** An HTTP operation was executed by graphql-jit's compiled function or by graphql-js. */
  executed(engine: 'compiled' | 'interpreted'): void;
  /**
   * An event reached a subscriber; `at` is the event's time (ISO), set when it was published;
   * `correlationId` the event's.
   */
  delivered(domain: string, at: string, correlationId?: string | null): void;
  /** Gauges read at scrape time (set once the store and the fan-out exist). */
  read(readings: Readings): void;
  /** The metrics in the Prometheus text format. */
  metrics(): Promise<string>;
}

/** Most distinct values one label takes before further values read `other`. */
export const MAX_LABEL_VALUES = 200;

/** Breaker states as a gauge value. */
const BREAKER_VALUE: Readonly<Record<string, number>> = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 };

/** Seconds buckets from 1 ms to 10 s. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A label value bounded to {@link MAX_LABEL_VALUES} distinct values per label. */
function boundedLabel(): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    const v = value.slice(0, 64);
    if (seen.has(v)) return v;
    if (seen.size >= MAX_LABEL_VALUES) return 'other';
    seen.add(v);
    return v;
  };
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** Makes the instruments of one instance, logging to `logger` and keeping `trail`. */
export function createInstruments(options: {
  readonly logger: Logger;
  readonly trail: Trail;
  /** Add Node's process metrics (CPU, memory, event loop lag, GC). @default true */
  readonly processMetrics?: boolean;
  /** @default NO_TRACING */
  readonly tracing?: Tracing;
}): Instruments {
  const { logger, trail } = options;
  const tracing = options.tracing ?? NO_TRACING;
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const operationName = boundedLabel();
  const stepName = boundedLabel();

  const operations = new Histogram({
    name: 'crossdock_operation_duration_seconds',
    help: 'GraphQL operations by name, type and outcome.',
    labelNames: ['operation', 'type', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const calls = new Histogram({
    name: 'crossdock_system_call_duration_seconds',
    help: 'Calls to the systems (ERP, commerce, WMS) by system, operation and outcome.',
    labelNames: ['system', 'operation', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const callErrors = new Counter({
    name: 'crossdock_system_call_errors_total',
    help: 'Calls to the systems that failed or were refused, by system, operation and reason.',
    labelNames: ['system', 'operation', 'reason'] as const,
    registers,
  });
  const breakerState = new Gauge({
    name: 'crossdock_breaker_state',
    help: 'Circuit breaker state per source: 0 closed, 1 half-open, 2 open.',
    labelNames: ['source'] as const,
    registers,
  });
  const breakerTransitions = new Counter({
    name: 'crossdock_breaker_transitions_total',
    help: 'Circuit breaker transitions per source and state entered.',
    labelNames: ['source', 'state'] as const,
    registers,
  });
  const replays = new Counter({
    name: 'crossdock_idempotency_replays_total',
    help: 'Mutations answered from their idempotency record (no system called), by operation.',
    labelNames: ['operation'] as const,
    registers,
  });
  const executions = new Counter({
    name: 'crossdock_graphql_executions_total',
    help: 'HTTP operations executed, by engine: compiled (graphql-jit) or interpreted (graphql-js: mutations, uncompilable documents, GRAPHQL_EXECUTION=interpreted).',
    labelNames: ['engine'] as const,
    registers,
  });
  const byEngine = {
    compiled: executions.labels('compiled'),
    interpreted: executions.labels('interpreted'),
  };
  const steps = new Histogram({
    name: 'crossdock_workflow_step_duration_seconds',
    help: 'Workflow steps by step, outcome, channel and warehouse (steps without a duration are not observed).',
    labelNames: ['step', 'outcome', 'channel', 'warehouse'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const compensations = new Counter({
    name: 'crossdock_workflow_compensations_total',
    help: 'Compensating steps (undoing what an order had done) by step and outcome.',
    labelNames: ['step', 'outcome'] as const,
    registers,
  });
  const webhooks = new Counter({
    name: 'crossdock_webhook_deliveries_total',
    help: 'Webhook deliveries by system and outcome (accepted, duplicate, or the refusal code).',
    labelNames: ['system', 'outcome'] as const,
    registers,
  });
  const deliveries = new Counter({
    name: 'crossdock_subscription_deliveries_total',
    help: 'Events delivered to GraphQL subscribers, by domain.',
    labelNames: ['domain'] as const,
    registers,
  });
  const lag = new Histogram({
    name: 'crossdock_event_lag_seconds',
    help: 'From an event being published (its time) to its delivery to a subscriber, by domain.',
    labelNames: ['domain'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });

  let readings: Readings = {};
  new Gauge({
    name: 'crossdock_subscriptions_open',
    help: 'GraphQL subscriptions open now.',
    registers,
    collect() {
      this.set(readings.subscribers?.() ?? 0);
    },
  });
  new Gauge({
    name: 'crossdock_dead_letters',
    help: 'Dead letters by status (PENDING and RETRYING are the depth still to work off).',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      if (!readings.deadLetters) return;
      try {
        const counts = await readings.deadLetters();
        for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
      } catch (error) {
        // A scrape while the store is down shows the last depth; readiness reports the store.
        logger.warn({ err: error }, 'dead-letter depth unavailable for metrics');
      }
    },
  });

  const errorOutcomes = new Set<SystemCallOutcome>([
    'timeout',
    'unavailable',
    'bad_response',
    'breaker_open',
  ]);

  /** A span reported after the fact: it ran from `startTime` until now. */
  const pastSpan = (
    name: string,
    startTime: number,
    correlationId: string | null,
    attributes: Record<string, string | number | boolean>,
    kind: SpanKind = SpanKind.INTERNAL,
    failed = false,
  ) => {
    const span = tracing.start(name, { kind, attributes, startTime, correlationId });
    endSpan(
      span,
      failed ? new Error(String(attributes['crossdock.outcome'] ?? 'failed')) : undefined,
    );
  };

  return {
    registry,
    tracing,
    calls: {
      startSpan: (system, operation, method) =>
        tracing.start(`${system} ${operation.slice(0, 64)}`, {
          kind: SpanKind.CLIENT,
          attributes: {
            'crossdock.system': system,
            'crossdock.operation': operation.slice(0, 64),
            'http.request.method': method,
          },
        }),
      call(report) {
        const operation = report.operation.slice(0, 64);
        calls.observe(
          { system: report.system, operation, outcome: report.outcome },
          report.durationMs / 1000,
        );
        if (report.outcome !== 'ok') {
          callErrors.inc({ system: report.system, operation, reason: report.reason ?? 'unknown' });
        }
        const line = {
          system: report.system,
          operation,
          method: report.method,
          status: report.status,
          outcome: report.outcome,
          ...(report.reason === null ? {} : { reason: report.reason }),
          durationMs: round(report.durationMs),
          correlationId: report.correlationId,
          breaker: report.breaker,
          ...(report.vendorRequestId ? { vendorRequestId: report.vendorRequestId } : {}),
        };
        if (errorOutcomes.has(report.outcome)) logger.warn(line, 'system call');
        else logger.info(line, 'system call');
        if (report.correlationId !== null) {
          trail.record({
            correlationId: report.correlationId,
            kind: 'SYSTEM_CALL',
            at: Math.floor(Date.now() - report.durationMs),
            name: `${report.system} ${operation}`,
            outcome: report.status === null ? report.outcome : `${report.outcome} ${report.status}`,
            durationMs: round(report.durationMs),
            detail: report.reason,
          });
        }
      },
      breaker(system, state, previous) {
        breakerState.set({ source: system }, BREAKER_VALUE[state] ?? -1);
        breakerTransitions.inc({ source: system, state });
        const line = { source: system, state, previous };
        if (state === 'OPEN') logger.warn(line, 'breaker opened');
        else if (state === 'HALF_OPEN') logger.info(line, 'breaker half-open');
        else logger.info(line, 'breaker closed');
      },
    },
    operation(measure) {
      operations.observe(
        {
          operation: operationName(measure.operation),
          type: measure.type,
          outcome: measure.outcome,
        },
        measure.durationMs / 1000,
      );
    },
    step(measure) {
      const step = stepName(measure.step);
      if (tracing.enabled) {
        pastSpan(
          `step ${step}`,
          Date.now() - (measure.durationMs ?? 0),
          measure.correlationId,
          {
            'crossdock.step': measure.step,
            'crossdock.order_id': measure.orderId,
            'crossdock.outcome': measure.outcome,
            'crossdock.channel': measure.channel ?? 'none',
            'crossdock.warehouse': measure.warehouse ?? 'none',
            'crossdock.compensation': measure.compensation,
          },
          SpanKind.INTERNAL,
          measure.outcome === 'FAILED',
        );
      }
      if (measure.durationMs !== null) {
        steps.observe(
          {
            step,
            outcome: measure.outcome,
            channel: measure.channel ?? 'none',
            warehouse: measure.warehouse ?? 'none',
          },
          measure.durationMs / 1000,
        );
      }
      if (measure.compensation) {
        compensations.inc({ step, outcome: measure.outcome });
        logger.warn(
          {
            orderId: measure.orderId,
            step: measure.step,
            outcome: measure.outcome,
            correlationId: measure.correlationId,
          },
          'compensation',
        );
      }
    },
    webhook(measure) {
      webhooks.inc({ system: measure.system.slice(0, 64), outcome: measure.outcome });
      if (measure.correlationId !== null) {
        trail.record({
          correlationId: measure.correlationId,
          kind: 'WEBHOOK',
          at: Date.now(),
          name: measure.system.slice(0, 64),
          outcome: measure.outcome,
          durationMs: null,
          detail:
            measure.deliveryId === null
              ? null
              : `delivery ${measure.deliveryId.slice(0, 128)}, ${measure.events} events`,
        });
      }
    },
    executed(engine) {
      byEngine[engine].inc();
    },
    replay(operation) {
      replays.inc({ operation: operationName(operation) });
    },
    delivered(domain, at, correlationId = null) {
      deliveries.inc({ domain });
      const published = Date.parse(at);
      if (tracing.enabled && Number.isFinite(published)) {
        // From publish to delivery, in the subscriber's correlation when it has one.
        pastSpan(
          `deliver ${domain}`,
          Math.min(published, Date.now()),
          correlationId,
          {
            'crossdock.domain': domain,
            ...(correlationId === null ? {} : { 'crossdock.event_correlation_id': correlationId }),
          },
          SpanKind.CONSUMER,
        );
      }
      if (Number.isFinite(published))
        lag.observe({ domain }, Math.max(0, Date.now() - published) / 1000);
    },
    read(next) {
      readings = { ...readings, ...next };
    },
    metrics: () => registry.metrics(),
  };
}

/**
 * Traces (issue #11): OpenTelemetry spans for operation → loader batch → system call → workflow
 * step → bus publish and delivery, each with the correlation ID as an attribute
 * (`crossdock.correlation_id`), in the trace of the correlation (the caller's `traceparent`, or the
 * trace id derived from the correlation ID, so every replica and retry of one transaction lands
 * in one trace).
 *
 * One tracer provider per Crossdock instance, not registered globally: spans are made with an
 * explicit parent, taken from the current correlation (observability/correlation.ts), which
 * carries the active span and the instance's tracing. OTLP/HTTP export when an endpoint is
 * configured; with none (and no exporter given, as tests do), tracing is off: no span is made
 * and nothing is sent.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  RandomIdGenerator,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  correlationOf,
  currentCorrelation,
  withCorrelation,
  type Correlation,
  type SpanFactory,
} from './correlation.js';

export { SpanKind };
export type { Span };

/** The attribute every span carries. */
export const CORRELATION_ATTRIBUTE = 'crossdock.correlation_id';

/** How spans leave the process. */
export interface TracingOptions {
  /** OTLP/HTTP base endpoint (`http://collector:4318`); spans go to `<endpoint>/v1/traces`. */
  readonly endpoint?: string | null;
  /** An exporter of one's own (tests: an InMemorySpanExporter), exported span by span. */
  readonly exporter?: SpanExporter;
  /** @default 'crossdock' */
  readonly serviceName?: string;
}

/** The tracing of one instance. */
export interface Tracing extends SpanFactory {
  /** False when neither an endpoint nor an exporter is configured: `start` makes nothing. */
  readonly enabled: boolean;
  /**
   * Starts a span under the current correlation's span (or as the first span of its trace).
   * Null when tracing is off.
   */
  start(
    name: string,
    options?: {
      readonly kind?: SpanKind;
      readonly attributes?: Attributes;
      /** ms since the epoch, for a span reported after the fact (a step, a delivery). */
      readonly startTime?: number;
      /** The correlation to parent on when none is current (background work). */
      readonly correlationId?: string | null;
    },
  ): Span | null;
  /** Sends what is buffered, then stops. */
  shutdown(): Promise<void>;
}

/** Tracing that makes nothing. */
export const NO_TRACING: Tracing = Object.freeze({
  enabled: false,
  start: () => null,
  shutdown: async () => undefined,
});

/** Trace ids for root spans: the current correlation's (derived or given), else random. */
class CorrelationIdGenerator extends RandomIdGenerator {
  private readonly random = new RandomIdGenerator();
  override generateTraceId = (): string =>
    pendingTraceId ?? currentCorrelation()?.traceId ?? this.random.generateTraceId();
}

/** Set for the duration of one synchronous `startSpan` of a background correlation. */
let pendingTraceId: string | null = null;

/** Makes the tracing of one instance. */
export function createTracing(options: TracingOptions = {}): Tracing {
  const exporter =
    options.exporter ??
    (options.endpoint
      ? new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` })
      : null);
  if (!exporter) return NO_TRACING;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName ?? 'crossdock' }),
    idGenerator: new CorrelationIdGenerator(),
    spanProcessors: [
      options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter),
    ],
  });
  const tracer = provider.getTracer('crossdock');
  const tracing: Tracing = {
    enabled: true,
    start(name, spanOptions = {}) {
      const correlation = currentCorrelation();
      const correlationId = correlation?.correlationId ?? spanOptions.correlationId ?? null;
      const parent =
        correlation?.span !== undefined
          ? trace.setSpan(ROOT_CONTEXT, correlation.span)
          : correlation?.parentId !== undefined
            ? trace.setSpanContext(ROOT_CONTEXT, {
                traceId: correlation.traceId,
                spanId: correlation.parentId,
                traceFlags: TraceFlags.SAMPLED,
                isRemote: true,
              })
            : ROOT_CONTEXT;
      const attributes: Attributes = {
        ...spanOptions.attributes,
        ...(correlationId === null ? {} : { [CORRELATION_ATTRIBUTE]: correlationId }),
      };
      // A root span outside any correlation still joins the correlation's trace.
      pendingTraceId =
        correlation === undefined && correlationId !== null
          ? correlationOf(correlationId).traceId
          : null;
      try {
        return tracer.startSpan(
          name,
          {
            kind: spanOptions.kind ?? SpanKind.INTERNAL,
            attributes,
            ...(spanOptions.startTime === undefined ? {} : { startTime: spanOptions.startTime }),
          },
          parent,
        );
      } finally {
        pendingTraceId = null;
      }
    },
    shutdown: () => provider.shutdown(),
  };
  return tracing;
}

/** Ends `span` with the outcome of `error` (none: OK). */
export function endSpan(span: Span | null, error?: unknown, endTime?: number): void {
  if (!span) return;
  if (error !== undefined) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message.slice(0, 300) : String(error).slice(0, 300),
    });
    if (error instanceof Error) span.recordException(error);
  }
  span.end(endTime);
}

/** Runs `work` with `span` as the current span of the current correlation. */
export function withSpan<T>(span: Span | null, work: () => T): T {
  const correlation = currentCorrelation();
  if (!span || !correlation) return work();
  return withCorrelation({ ...correlation, span } satisfies Correlation, work);
}

/**
 * Runs `work` in a span of the current correlation's tracing (resolvers' loader batches: they
 * know no instance, the request's correlation does). Without tracing, runs it as is.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  const tracing = currentCorrelation()?.tracing;
  const span = tracing?.enabled ? tracing.start(name, { attributes }) : null;
  if (!span) return work();
  try {
    const result = await withSpan(span, work);
    endSpan(span);
    return result;
  } catch (error) {
    endSpan(span, error);
    throw error;
  }
}

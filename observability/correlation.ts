/**
 * Correlation IDs end to end (issue #11): the one module that accepts or mints them, and carries
 * the current one through asynchronous work so every system call, bus message, ledger entry and
 * log line of a transaction names it.
 *
 * - **Accepted** from a caller's `x-correlation-id` (or `x-request-id`) when well-formed
 *   (HTTP requests, graphql-ws `connectionParams.correlationId`), else **minted** with the origin
 *   in front (`poll:…`, `recovery:…`, `retry:…`, `ws:…`; a bare UUID for HTTP).
 * - W3C **`traceparent`** is accepted when valid and propagated: calls made on its behalf carry
 *   the same trace id with a new parent id (`traceparentFor`). Without one, the trace id is
 *   derived from the correlation ID, so all calls of one transaction share one trace.
 * - The current correlation lives in an `AsyncLocalStorage` ({@link withCorrelation},
 *   {@link currentCorrelation}): what runs inside, including promise chains and DataLoader
 *   batches started there, sees it.
 */
import type { Attributes, Span } from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomFillSync, randomUUID } from 'node:crypto';

/**
 * Random bytes for span ids, drawn from one buffer filled 4 KiB at a time: a system call made
 * without tracing still names a parent span, and filling 8 bytes per call from the kernel cost
 * about 2.5% of a product query's CPU (issue #13's profile). Still cryptographically random.
 */
const spanIdPool = Buffer.alloc(4096);
let spanIdOffset = spanIdPool.length;

/** A fresh 8-byte span id, in hex. */
function randomSpanId(): string {
  if (spanIdOffset + 8 > spanIdPool.length) {
    randomFillSync(spanIdPool);
    spanIdOffset = 0;
  }
  const id = spanIdPool.toString('hex', spanIdOffset, spanIdOffset + 8);
  spanIdOffset += 8;
  return id;
}

/** The header carrying the correlation ID in and out. */
export const CORRELATION_HEADER = 'x-correlation-id';
/** The W3C trace context header. */
export const TRACEPARENT_HEADER = 'traceparent';

const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;
/** W3C trace context: version 00, 32-hex trace id, 16-hex parent id, 2-hex flags; not all zero. */
const TRACEPARENT = /^00-(?!0{32})([0-9a-f]{32})-(?!0{16})([0-9a-f]{16})-([0-9a-f]{2})$/;

/** What a transaction is known by. */
export interface Correlation {
  readonly correlationId: string;
  /**
   * The W3C trace id (32 hex): the caller's when it sent a valid `traceparent`, else derived
   * from the correlation ID (so every process, replica and retry of one transaction agrees).
   */
  readonly traceId: string;
  /** The W3C trace flags (2 hex): the caller's, else `01` (sampled). */
  readonly traceFlags: string;
  /** The caller's span id (16 hex) when it sent a valid `traceparent`: our spans' remote parent. */
  readonly parentId?: string;
  /** The span work runs in now (observability/tracing.ts); calls name it as their parent. */
  readonly span?: Span;
  /** The tracing of the instance serving the work (spans made where no instance is known). */
  readonly tracing?: SpanFactory;
}

/** What makes spans (observability/tracing.ts `Tracing`). */
export interface SpanFactory {
  readonly enabled: boolean;
  start(name: string, options?: { readonly attributes?: Attributes }): Span | null;
}

/** The correlation of `correlationId`, joined to the trace of `traceparent` when valid. */
export function correlationOf(correlationId: string, traceparent: unknown = null): Correlation {
  const match = TRACEPARENT.exec(
    typeof traceparent === 'string' ? traceparent.trim().toLowerCase() : '',
  );
  return {
    correlationId,
    traceId: match?.[1] ?? createHash('sha256').update(correlationId).digest('hex').slice(0, 32),
    traceFlags: match?.[3] ?? '01',
    ...(match?.[2] === undefined ? {} : { parentId: match[2] }),
  };
}

/** Where a minted correlation ID comes from (its prefix). */
export type CorrelationOrigin = 'http' | 'ws' | 'webhook' | 'poll' | 'retry' | 'recovery';

/** Whether `value` may be used as a correlation ID as given. */
export function isCorrelationId(value: unknown): value is string {
  return typeof value === 'string' && WELL_FORMED.test(value);
}

/**
 * A new correlation ID: a UUID, prefixed with its origin (and what it concerns, e.g. the polled
 * source: `poll:tpl:…`) unless it is an HTTP request.
 */
export function mintCorrelationId(origin: CorrelationOrigin = 'http', about?: string): string {
  if (origin === 'http') return randomUUID();
  return about === undefined ? `${origin}:${randomUUID()}` : `${origin}:${about}:${randomUUID()}`;
}

/**
 * The correlation ID of the automatic or manual retry of dead letter `letterId`: stable, so each
 * attempt of one letter is found under one ID (and the letter's id names it).
 */
export const retryCorrelationId = (letterId: string): string => `dead-letter:${letterId}`;

/** The correlation ID of the recovery sweep finishing order `orderId` (its process died). */
export const recoveryCorrelationId = (orderId: string): string => `recovery:${orderId}`;

/** The correlation ID for a request with these headers (accepted or minted). */
export function correlationIdFrom(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string {
  for (const name of [CORRELATION_HEADER, 'x-request-id']) {
    const value = headers[name];
    if (isCorrelationId(value)) return value;
  }
  return mintCorrelationId('http');
}

/** The correlation of an incoming HTTP request (or a WebSocket upgrade). */
export function correlationFrom(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Correlation {
  return correlationOf(correlationIdFrom(headers), headers[TRACEPARENT_HEADER]);
}

/**
 * The correlation of a graphql-ws operation: `connectionParams.correlationId` and
 * `.traceparent` when well-formed, else those of the upgrade request, else minted (`ws:`).
 */
export function correlationOfSocket(
  connectionParams: Readonly<Record<string, unknown>> | undefined,
  upgrade: Readonly<Record<string, string | string[] | undefined>>,
): Correlation {
  const given = connectionParams?.correlationId;
  const header = upgrade[CORRELATION_HEADER];
  const id = isCorrelationId(given)
    ? given
    : isCorrelationId(header)
      ? header
      : mintCorrelationId('ws');
  return correlationOf(id, connectionParams?.traceparent ?? upgrade[TRACEPARENT_HEADER]);
}

const storage = new AsyncLocalStorage<Correlation>();

/** Runs `work` with `correlation` as the current one. */
export function withCorrelation<T>(correlation: Correlation, work: () => T): T {
  return storage.run(correlation, work);
}

/**
 * Runs `work` under correlation ID `correlationId` (a workflow resuming a stored transaction:
 * its trace id is the one derived from the ID), or as is when null.
 */
export function withCorrelationId<T>(correlationId: string | null, work: () => T): T {
  if (correlationId === null) return work();
  if (storage.getStore()?.correlationId === correlationId) return work();
  return storage.run(correlationOf(correlationId), work);
}

/** The current correlation, if any work set one. */
export function currentCorrelation(): Correlation | undefined {
  return storage.getStore();
}

/** The `traceparent` for a call made on behalf of `correlation`: its trace, a new parent id. */
export function traceparentFor(correlation: Correlation): string {
  // The current span is the parent the callee names; without tracing, a new id per call.
  const parent = correlation.span?.spanContext().spanId ?? randomSpanId();
  return `00-${correlation.traceId}-${parent}-${correlation.traceFlags}`;
}

/** Headers naming the current correlation on an outgoing call or message; none outside one. */
export function correlationHeaders(): Record<string, string> {
  const correlation = storage.getStore();
  if (!correlation) return {};
  return {
    [CORRELATION_HEADER]: correlation.correlationId,
    [TRACEPARENT_HEADER]: traceparentFor(correlation),
  };
}

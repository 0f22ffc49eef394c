/**
 * The one way a connector talks to its system: keep-alive HTTP (undici), a per-call timeout
 * that really aborts the request, and one opossum circuit breaker per source. Every failure
 * leaves here as a {@link SourceError} naming the source and the breaker state.
 */
import CircuitBreaker from 'opossum';
import { Agent, request as undiciRequest, errors as undiciErrors } from 'undici';
import type { z } from 'zod';
import { correlationHeaders, currentCorrelation } from '../observability/correlation.js';
import { endSpan, withSpan } from '../observability/tracing.js';
import type { CallObserver, SystemCallOutcome } from '../observability/instruments.js';
import {
  SourceError,
  type BreakerState,
  type SourceErrorCode,
  type SourceHealthSnapshot,
  type SourceKind,
} from './contract.js';

/** Breaker tuning for one source. Every field is optional; defaults below. */
export interface BreakerOptions {
  /**
   * Failure percentage in the rolling window above which the breaker opens.
   * @default 50
   */
  readonly errorThresholdPercentage?: number;
  /**
   * How long the breaker stays open before letting one probe through (half-open).
   * @default 10_000 // 10 seconds
   */
  readonly resetTimeoutMs?: number;
  /**
   * Calls needed in the window before the error rate can open the breaker.
   * @default 5
   */
  readonly volumeThreshold?: number;
  /**
   * Length of the rolling statistics window (error rate, latency percentiles).
   * @default 30_000 // 30 seconds
   */
  readonly rollingWindowMs?: number;
}

/** The documented breaker defaults. */
export const DEFAULT_BREAKER: Required<BreakerOptions> = Object.freeze({
  errorThresholdPercentage: 50,
  resetTimeoutMs: 10_000,
  volumeThreshold: 5,
  rollingWindowMs: 30_000,
});

/**
 * Per-call timeout: the request is aborted (socket closed) after this long.
 * @default 2_000 // 2 seconds
 */
export const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * Keep-alive connections per source origin.
 * @default 32
 */
export const DEFAULT_MAX_CONNECTIONS = 32;

/** How to reach one source. */
export interface UpstreamOptions {
  /** Configured name of the source (`erp`, `commerce`, `wms`, `tpl`). */
  readonly name: string;
  readonly kind: SourceKind;
  /** Base URL every request path is resolved against; a trailing slash is added if missing. */
  readonly baseUrl: string;
  readonly timeoutMs?: number;
  readonly maxConnections?: number;
  readonly breaker?: BreakerOptions;
  /** Told of every call (log line, metrics, trail) and every breaker transition. */
  readonly observer?: CallObserver;
}

/** One HTTP call to the source. */
export interface UpstreamRequest {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path relative to the base URL (no leading slash), or an absolute URL on the same origin. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON. */
  readonly json?: unknown;
  /** Sent as application/x-www-form-urlencoded (OAuth2 token calls; Entra accepts nothing else). */
  readonly form?: Readonly<Record<string, string>>;
  /** What the call is for, in error messages: `items`, `stocksummaries`, ... */
  readonly what: string;
}

/**
 * A response that reached us with a status below 500 (and not 429): a 2xx body validated by
 * the schema (`ok: true`), or the raw JSON or text of a 4xx (`ok: false`).
 */
export type UpstreamResponse<T> =
  | { readonly ok: true; readonly status: number; readonly headers: Headers; readonly body: T }
  | {
      readonly ok: false;
      readonly status: number;
      readonly headers: Headers;
      readonly body: unknown;
    };

/** Response headers as undici gives them. */
export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** A listener for breaker transitions. */
export type StateListener = (state: BreakerState, previous: BreakerState) => void;

/** HTTP to one source, behind its breaker. */
export interface Upstream {
  readonly name: string;
  readonly kind: SourceKind;
  readonly baseUrl: string;
  /**
   * Sends the request through the breaker. A 2xx body is parsed as JSON and validated with
   * `schema` inside the breaker, so a malformed answer counts as a failure of the source.
   * 4xx answers other than 429 come back as-is (raw JSON or text) for the connector to judge.
   */
  request<S extends z.ZodType>(
    req: UpstreamRequest,
    schema: S,
  ): Promise<UpstreamResponse<z.output<S>>>;
  /** Like {@link request}, but any non-2xx answer is an error. */
  requestOk<S extends z.ZodType>(req: UpstreamRequest, schema: S): Promise<z.output<S>>;
  /** A {@link SourceError} of this source with the breaker state of now. */
  error(code: SourceErrorCode, message: string, reason: string, cause?: unknown): SourceError;
  state(): BreakerState;
  health(): SourceHealthSnapshot;
  onStateChange(listener: StateListener): () => void;
  close(): Promise<void>;
}

type Action = (req: UpstreamRequest, schema: z.ZodType) => Promise<UpstreamResponse<unknown>>;

/**
 * Response headers in which systems name their answer for their support desk (Shopify's
 * `X-Request-Id`, Azure-hosted APIs' `request-id` / `x-ms-request-id`): logged with the call.
 */
const VENDOR_REQUEST_ID_HEADERS = ['x-request-id', 'request-id', 'x-ms-request-id'] as const;

function vendorRequestIdOf(headers: Headers): string | null {
  for (const name of VENDOR_REQUEST_ID_HEADERS) {
    const value = headers[name];
    const text = Array.isArray(value) ? value[0] : value;
    if (typeof text === 'string' && text.length > 0) return text.slice(0, 128);
  }
  return null;
}

/** An observer that throws never fails the call it observes. */
function observe(report: () => void): void {
  try {
    report();
  } catch {
    // Instrumentation is never a reason for a call to fail.
  }
}

/** The outcome a failed call is reported with. */
function outcomeOf(error: SourceError): SystemCallOutcome {
  if (error.reason === 'breaker_open') return 'breaker_open';
  if (error.code === 'SOURCE_TIMEOUT') return 'timeout';
  if (error.code === 'SOURCE_BAD_RESPONSE') return 'bad_response';
  return 'unavailable';
}

/** Makes the HTTP client and breaker of one source. */
export function createUpstream(options: UpstreamOptions): Upstream {
  const { name, kind } = options;
  const baseUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
  const origin = new URL(baseUrl).origin;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const breakerOptions = { ...DEFAULT_BREAKER, ...options.breaker };
  const agent = new Agent({
    connections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    keepAliveTimeout: 10_000,
    pipelining: 1,
  });

  let lastError: string | null = null;
  let lastStateChangeAt: string | null = null;
  const listeners = new Set<StateListener>();

  const stateOf = (b: CircuitBreaker): BreakerState =>
    b.opened ? 'OPEN' : b.halfOpen ? 'HALF_OPEN' : 'CLOSED';

  const makeError = (
    code: SourceErrorCode,
    message: string,
    reason: string,
    cause?: unknown,
    status?: number,
  ): SourceError =>
    new SourceError(code, `${name}: ${message}`, {
      source: name,
      breaker: stateOf(breaker),
      reason,
      cause,
      ...(status === undefined ? {} : { status }),
    });

  /** The vendor's id of the answer to each request (for its log line). */
  const answeredAs = new WeakMap<UpstreamRequest, string>();

  const action: Action = async (req, schema) => {
    const url = new URL(req.path, baseUrl);
    if (url.origin !== origin) {
      throw makeError('SOURCE_BAD_RESPONSE', `refused to follow ${url.origin}`, 'foreign_origin');
    }
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    // The transaction's correlation ID and trace context travel on every call (issue #11).
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...correlationHeaders(),
      ...req.headers,
    };
    let body: string | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json';
    } else if (req.form !== undefined) {
      body = new URLSearchParams(req.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    // Aborting closes the socket, so the system stops working for a caller who left. A timer
    // cleared when the answer is read, not AbortSignal.timeout: its timer would fire (and build
    // a DOMException) for every call long after the answer came.
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new DOMException(`${req.what} timed out`, 'TimeoutError')),
      timeoutMs,
    );
    timer.unref();
    let res;
    let text: string;
    try {
      try {
        res = await undiciRequest(url, {
          method: req.method ?? 'GET',
          headers,
          body,
          dispatcher: agent,
          signal: deadline.signal,
        });
      } catch (error) {
        throw classifyTransportError(error, req.what);
      }
      try {
        text = await res.body.text();
      } catch (error) {
        throw classifyTransportError(error, req.what);
      }
    } finally {
      clearTimeout(timer);
    }
    const status = res.statusCode;
    const vendorRequestId = vendorRequestIdOf(res.headers);
    if (vendorRequestId !== null) answeredAs.set(req, vendorRequestId);
    if (status >= 500 || status === 429) {
      throw makeError(
        'SOURCE_UNAVAILABLE',
        `${req.what} answered HTTP ${status}`,
        status === 429 ? 'throttled' : `http_${status}`,
        text.slice(0, 500),
        status,
      );
    }
    let parsed: unknown = text;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        if (status < 300) {
          throw makeError(
            'SOURCE_BAD_RESPONSE',
            `${req.what} answered HTTP ${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 80))}`,
            'invalid_json',
            error,
            status,
          );
        }
      }
    }
    if (status < 200 || status >= 300) {
      return { ok: false, status, headers: res.headers, body: parsed };
    }
    {
      const result = schema.safeParse(parsed);
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
        throw makeError(
          'SOURCE_BAD_RESPONSE',
          `malformed ${req.what} response at ${where}: ${issue?.message ?? 'invalid'}`,
          'schema_mismatch',
          result.error,
          status,
        );
      }
      return { ok: true, status, headers: res.headers, body: result.data };
    }
  };

  const classifyTransportError = (error: unknown, what: string): SourceError => {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return makeError(
        'SOURCE_TIMEOUT',
        `${what} timed out after ${timeoutMs} ms`,
        'timeout',
        error,
      );
    }
    const code =
      error instanceof undiciErrors.UndiciError
        ? error.code
        : ((error as { code?: string } | null)?.code ?? 'unknown');
    const message = error instanceof Error ? error.message : String(error);
    return makeError(
      'SOURCE_UNAVAILABLE',
      `${what} failed: ${message} (${code})`,
      code === 'ECONNREFUSED' ? 'connection_refused' : 'connection_error',
      error,
    );
  };

  // A fresh options object each time: opossum writes its defaults into the object it is given.
  const makeBreaker = () => {
    const made = new CircuitBreaker<Parameters<Action>, UpstreamResponse<unknown>>(action, {
      timeout: false,
      errorThresholdPercentage: breakerOptions.errorThresholdPercentage,
      resetTimeout: breakerOptions.resetTimeoutMs,
      volumeThreshold: breakerOptions.volumeThreshold,
      rollingCountTimeout: breakerOptions.rollingWindowMs,
      rollingCountBuckets: 10,
      rollingPercentilesEnabled: true,
      name,
    });
    made.on('open', transition);
    made.on('halfOpen', transition);
    made.on('close', () => {
      transition();
      // opossum counts calls rejected while open in `fires`, so after an outage the window is
      // full of rejections that dilute the error rate: a second outage soon after recovery
      // would take many more failures to open the breaker. A recovered source starts afresh.
      queueMicrotask(() => {
        if (made !== breaker || closed) return;
        made.shutdown();
        breaker = makeBreaker();
      });
    });
    made.on('failure', (error: unknown) => {
      lastError = error instanceof Error ? error.message : String(error);
    });
    return made;
  };

  let current: BreakerState = 'CLOSED';
  let closed = false;
  const transition = (): void => {
    const next = stateOf(breaker);
    if (next === current) return;
    const previous = current;
    current = next;
    lastStateChangeAt = new Date().toISOString();
    for (const listener of listeners) listener(next, previous);
    observe(() => options.observer?.breaker(name, next, previous));
  };
  let breaker = makeBreaker();

  const send = async (
    req: UpstreamRequest,
    schema: z.ZodType,
  ): Promise<UpstreamResponse<unknown>> => {
    try {
      return await breaker.fire(req, schema);
    } catch (error) {
      if (error instanceof SourceError) throw error;
      if ((error as { code?: string } | null)?.code === 'EOPENBREAKER') {
        throw makeError(
          'SOURCE_UNAVAILABLE',
          `circuit breaker is ${stateOf(breaker)}; failing fast without calling ${req.what}`,
          'breaker_open',
        );
      }
      throw makeError(
        'SOURCE_UNAVAILABLE',
        `${req.what} failed: ${String(error)}`,
        'unknown',
        error,
      );
    }
  };

  // The one seam every call passes: its report goes to the observer (log, metrics, trail).
  const fire = async (
    req: UpstreamRequest,
    schema: z.ZodType,
  ): Promise<UpstreamResponse<unknown>> => {
    const observer = options.observer;
    if (!observer) return send(req, schema);
    const started = performance.now();
    const report = (status: number | null, outcome: SystemCallOutcome, reason: string | null) =>
      observe(() =>
        observer.call({
          system: name,
          operation: req.what,
          method: req.method ?? 'GET',
          status,
          outcome,
          reason,
          durationMs: performance.now() - started,
          correlationId: currentCorrelation()?.correlationId ?? null,
          breaker: stateOf(breaker),
          vendorRequestId: answeredAs.get(req) ?? null,
        }),
      );
    // The call's span is current while it runs: the traceparent sent names it as the parent.
    const span = observer.startSpan?.(name, req.what, req.method ?? 'GET') ?? null;
    try {
      const res = await withSpan(span, () => send(req, schema));
      report(res.status, res.ok ? 'ok' : 'rejected', res.ok ? null : `http_${res.status}`);
      span?.setAttribute('http.response.status_code', res.status);
      endSpan(span);
      return res;
    } catch (error) {
      const e = error as SourceError;
      report(e.status ?? null, outcomeOf(e), e.reason);
      span?.setAttributes({
        'crossdock.reason': e.reason,
        ...(e.status === undefined ? {} : { 'http.response.status_code': e.status }),
      });
      endSpan(span, error);
      throw error;
    }
  };

  return {
    name,
    kind,
    baseUrl,
    // The schema validated the 2xx body inside `action`, so the cast only restores its type.
    request: <S extends z.ZodType>(req: UpstreamRequest, schema: S) =>
      fire(req, schema) as Promise<UpstreamResponse<z.output<S>>>,
    async requestOk<S extends z.ZodType>(req: UpstreamRequest, schema: S): Promise<z.output<S>> {
      const res = (await fire(req, schema)) as UpstreamResponse<z.output<S>>;
      if (!res.ok) {
        throw makeError(
          'SOURCE_REJECTED',
          `${req.what} answered HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`,
          `http_${res.status}`,
          undefined,
          res.status,
        );
      }
      return res.body;
    },
    error: (code, message, reason, cause) => makeError(code, message, reason, cause),
    state: () => stateOf(breaker),
    health() {
      const stats = breaker.stats;
      const attempted = Math.max(0, stats.fires - stats.rejects);
      // opossum answers 0 for the percentiles of a window without a completed call: null then.
      const timed = stats.latencyTimes.length > 0;
      const pct = (p: string): number | null => {
        const value = (stats.percentiles as Record<string, number>)[p];
        return !timed || value === undefined || value < 0 ? null : value;
      };
      return {
        name,
        kind,
        baseUrl,
        state: stateOf(breaker),
        requests: stats.fires,
        failures: stats.failures,
        errorRate: attempted === 0 ? 0 : stats.failures / attempted,
        latencyMs: {
          p50: pct('0.5'),
          p95: pct('0.95'),
          p99: pct('0.99'),
          mean: timed && stats.latencyMean >= 0 ? stats.latencyMean : null,
        },
        windowMs: breakerOptions.rollingWindowMs,
        lastError,
        lastStateChangeAt,
      };
    },
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      breaker.shutdown();
      listeners.clear();
      await agent.close();
    },
  };
}

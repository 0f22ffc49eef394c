/**
 * The HTTP server: Apollo Server on one node http server, `/graphql` for queries and mutations
 * (straight from the request event, server/graphql-http.ts; every other path and the playground
 * page on Express 5), graphql-ws on the same server and path for subscriptions (through the
 * subscription fan-out, subscriptions/fanout.ts), `/healthz` and `/readyz` (breaker states and
 * the fan-out's stats) for probes, and the webhook router when one is given. Closing drains HTTP
 * and closes the graphql-ws sockets, then the fan-out's shared bus subscriptions; the connectors,
 * the bus and the store belong to the caller (server/embedded.ts closes them).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { unwrapResolverError } from '@apollo/server/errors';
import express, { type Router } from 'express';
import Negotiator from 'negotiator';
import type { subscribe } from 'graphql';
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  execute,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLFormattedError,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../observability/logger.js';
import {
  CORRELATION_HEADER,
  correlationFrom,
  correlationOfSocket,
  withCorrelation,
  type Correlation,
} from '../observability/correlation.js';
import { createLoaders, type ResolverContext, type Sources } from '../resolvers/index.js';
import { isSourceError } from '../sources/contract.js';
import { crossdockError, sourceError } from '../resolvers/errors.js';
import { allConnectors } from '../resolvers/sources.js';
import { createAuthenticator, oneAuthorization } from './auth.js';
import { createKeys } from './keys.js';
import {
  logOperation,
  operationLogPlugin,
  operationName,
  replaysOf,
  type OperationLine,
} from './operation-log.js';
import { createTrail, type Trail } from '../observability/trail.js';
import { createInstruments, type Instruments } from '../observability/instruments.js';
import { createHealthHistory, type HealthHistory } from '../observability/health-history.js';
import { SpanStatusCode } from '@opentelemetry/api';
import { SpanKind, endSpan, type Span, type Tracing } from '../observability/tracing.js';
import { metricsRoute } from './metrics.js';
import { sharedSubscribe } from './shared-execution.js';
import { pagesRouter, wantsPage } from './pages.js';
import { demoKeysOf } from './identity.js';
import { createCursorCodec } from '../resolvers/cursors.js';
import type { Config } from './config.js';
import {
  limitError,
  parseBounded,
  queryLimitsPlugin,
  tooManyTokens,
  validationAborted,
  type QueryLimits,
} from './limits.js';
import { logUnlisted, resolveDocument } from './documents.js';
import { belowGraphql, createGraphqlHttp } from './graphql-http.js';
import { executionGateway } from './jit-executor.js';
import { buildSchema } from './schema.js';
import { memoryBudgets, natsBudgets, rateLimitHeaders, type Spend } from './budget.js';
import { guardWebSockets, httpServerOptions, serveGraphqlWs } from './transport.js';
import type { Store } from '../store/contract.js';
import type { Workflows } from '../workflows/index.js';
import type { EventBus } from '../subscriptions/bus.js';
import { SlowConsumerError, createFanout, type Fanout } from '../subscriptions/fanout.js';
import { WebSocketServer, type WebSocket } from 'ws';

/** A running Crossdock. */
export interface Crossdock {
  /** `http://host:port/graphql`. */
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  readonly sources: Sources;
  /** The subscription fan-out: its stats and the events tests and diagnostics can await. */
  readonly subscriptions: Pick<Fanout, 'stats' | 'events'> & {
    /** Distinct subscription documents kept parsed and validated (each shared by its senders). */
    documents(): number;
  };
  /** Samples of every source's health (`SourceHealth.history`); `sampleNow()` takes one at once. */
  readonly healthHistory: Pick<HealthHistory, 'sampleNow' | 'history'>;
  /** Stops accepting requests and drains those in flight. Idempotent. */
  close(): Promise<void>;
}

/** What {@link startCrossdock} needs. */
export interface CrossdockOptions {
  readonly config: Config;
  readonly sources: Sources;
  readonly store: Store;
  readonly bus: EventBus;
  readonly workflows: Workflows;
  readonly logger: Logger;
  /** `POST /webhooks/:system` (server/webhooks.ts); mounted before any JSON body parser. */
  readonly webhooks?: Router;
  /** Where operations, system calls and events are kept by correlation ID (Query.trace). */
  readonly trail?: Trail;
  /**
   * Log lines, trail entries and metrics of every seam (`/metrics`). The connectors report their
   * calls to its `calls` when they were made with it (server/connectors.ts); made here otherwise.
   */
  readonly instruments?: Instruments;
}

type Context = ResolverContext &
  BaseContext & {
    /** The operation's estimated cost (queryLimitsPlugin). */
    cost?: number;
    /** What the operation spent of its client's budget (budgetPlugin). */
    spend?: Spend;
    /** The operation's correlation (graphql-ws only: HTTP runs inside it, server/graphql-http.ts). */
    correlation?: Correlation;
  };

/**
 * Runs a graphql-ws operation inside its correlation: the execution, and for a subscription
 * each event's resolution too (graphql-ws pulls events from its own message loop, which does not
 * carry the context the subscription was started in).
 */
function correlated(
  run: typeof execute | typeof subscribe,
  onOperation: (line: OperationLine) => void,
  tracing: Tracing,
) {
  return async (args: ExecutionArgs) => {
    const context = args.contextValue as Context;
    const correlation = context.correlation;
    if (!correlation) return run(args);
    const started = performance.now();
    const definition = args.document.definitions.find((d) => d.kind === 'OperationDefinition');
    const name = operationName(args.operationName ?? definition?.name?.value);
    const traced = { ...correlation, tracing };
    // The operation's span: the parent of its loader batches and system calls.
    const span = withCorrelation(traced, () =>
      tracing.start(`${definition?.operation ?? 'unknown'} ${name}`, {
        kind: SpanKind.SERVER,
        attributes: { 'graphql.operation.name': name, 'crossdock.transport': 'ws' },
      }),
    );
    let result: Awaited<ReturnType<typeof run>>;
    try {
      result = await withCorrelation(span ? { ...traced, span } : traced, () => run(args));
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
    // The operation's log line (a subscription's: when it starts, or is refused).
    const errors = (result as { errors?: readonly GraphQLError[] }).errors ?? [];
    const codes = errors.map((e) => String(e.extensions?.code ?? 'INTERNAL'));
    endSpan(span, codes.length === 0 ? undefined : new Error(codes.join(' ')));
    onOperation({
      operation: name,
      type: definition?.operation ?? 'unknown',
      principal: {
        id: context.caller.id,
        role: context.caller.role,
        client: context.caller.client,
      },
      correlationId: correlation.correlationId,
      transport: 'ws',
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      outcome: codes.length === 0 ? 'ok' : 'error',
      ...(codes.length === 0 ? {} : { errorCodes: [...new Set(codes)] }),
      ...replaysOf(context.idempotency),
    });
    if (!(Symbol.asyncIterator in Object(result))) return result;
    const events = result as AsyncGenerator<unknown>;
    const bound: AsyncGenerator<unknown> = {
      [Symbol.asyncIterator]: () => bound,
      next: (...value) => withCorrelation(traced, () => events.next(...value)),
      return: (value) => events.return(value),
      throw: (error) => events.throw(error),
    };
    return bound;
  };
}

/** Apollo's own codes for bad documents, reported under our catalogue's BAD_USER_INPUT. */
const DOCUMENT_ERRORS = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
]);

/** How {@link formatError} formats. */
export interface ErrorFormat {
  /** Stack traces and internal details are sent (NODE_ENV=development). */
  readonly development: boolean;
  /**
   * Messages of system failures name the source and the reason only: library error codes,
   * upstream paths and timings stay in the logs, found by the response's correlation ID.
   */
  readonly redactSources: boolean;
  /** Suggestions ("Did you mean …?") are cut from validation messages. */
  readonly hideSuggestions: boolean;
  /** For naming the token limit of a document refused by the lexer. */
  readonly limits?: Pick<QueryLimits, 'maxTokens'>;
}

/** graphql-js's suggestion tail of a validation message. */
const SUGGESTION = / Did you mean .*\?$/;

/** What a client is told of a system failure when details are redacted. */
export function redactedSourceMessage(source: unknown, reason: unknown): string {
  return `${String(source)} could not answer (${String(reason)}); details are logged under this response's correlation ID`;
}

/** Maps every error to the catalogue; unknown errors are masked (stack only in development). */
export function formatError(format: ErrorFormat) {
  const { development, limits } = format;
  const inner = formatErrorDetails(development, limits);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const out = inner(formatted, error);
    const code = out.extensions?.code;
    if (format.redactSources && typeof code === 'string' && code.startsWith('SOURCE_')) {
      return {
        ...out,
        message: redactedSourceMessage(out.extensions?.source, out.extensions?.reason),
      };
    }
    if (format.hideSuggestions && SUGGESTION.test(out.message))
      return { ...out, message: out.message.replace(SUGGESTION, '') };
    return out;
  };
}

function formatErrorDetails(development: boolean, limits?: Pick<QueryLimits, 'maxTokens'>) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const tokens =
      limits && formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED'
        ? tooManyTokens(formatted, limits)
        : null;
    const aborted =
      formatted.extensions?.code === 'GRAPHQL_VALIDATION_FAILED'
        ? validationAborted(formatted)
        : null;
    const demand = tokens ?? aborted;
    if (demand) {
      const { http: _http, ...extensions } = demand.extensions;
      return { message: demand.message, extensions };
    }
    if (isSourceError(original)) {
      const mapped = sourceError(original);
      return { ...formatted, message: mapped.message, extensions: mapped.extensions };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && DOCUMENT_ERRORS.has(code)) {
      return { ...formatted, extensions: { code: 'BAD_USER_INPUT', reason: code } };
    }
    if (
      original instanceof GraphQLError ||
      (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR')
    ) {
      const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions: development ? formatted.extensions : extensions };
    }
    return {
      message: 'Internal server error',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: {
        code: 'INTERNAL_SERVER_ERROR',
        ...(development
          ? { detail: original instanceof Error ? original.message : String(original) }
          : {}),
      },
    };
  };
}

/** Apollo's codes of a request that could not be parsed, validated or have its variables coerced. */
const REQUEST_ERRORS = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
]);

/**
 * GraphQL over HTTP §"application/json": a response in the legacy `application/json` media type
 * SHOULD use 200 for parse, validation and variable-coercion failures (the client reads the
 * errors from the body); `application/graphql-response+json` keeps its 4xx. The media type is
 * negotiated as Apollo does (application/json first, so `*\/*` and no Accept mean JSON).
 */
function legacyJsonStatusPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ request }) {
      return {
        async willSendResponse({ response, errors }) {
          if (response.body.kind !== 'single' || response.body.singleResult.data !== undefined)
            return;
          const accept = request.http?.headers.get('accept') ?? '*/*';
          const type = new Negotiator({ headers: { accept } }).mediaType([
            'application/json',
            'application/graphql-response+json',
          ]);
          if (type !== 'application/json' || !errors || errors.length === 0) return;
          const requestErrors = errors.every((e) => {
            const code = e.extensions?.code;
            // Apollo marks variable coercion BAD_USER_INPUT without a path; a resolver's has one.
            return (
              typeof code === 'string' &&
              REQUEST_ERRORS.has(code) &&
              e.path === undefined &&
              // The token limit is demand control (QUERY_TOO_COMPLEX), not a syntax error.
              tooManyTokens(e, { maxTokens: 0 }) === null &&
              validationAborted(e) === null
            );
          });
          if (requestErrors) response.http.status = 200;
        },
      };
    },
  };
}

/** Spends from a caller's client's budget; null when the budgets cannot be reached (fail open). */
type SpendOf = (caller: Context['caller'], cost: number) => Promise<Spend | null>;

/** RATE_LIMITED for an operation its client's budget cannot pay for. */
function overBudget(spend: Spend): GraphQLError {
  const retry = Number.isFinite(spend.retryAfterS)
    ? `retry in ${spend.retryAfterS} s`
    : 'it costs more than the whole budget: ask for less';
  return crossdockError(
    'RATE_LIMITED',
    `Cost budget exhausted: this operation costs ${spend.cost}, ${spend.remaining} of ${spend.capacity} left; ${retry}`,
    {
      cost: spend.cost,
      remaining: spend.remaining,
      limit: spend.capacity,
      ...(Number.isFinite(spend.retryAfterS) ? { retryAfterS: spend.retryAfterS } : {}),
    },
  );
}

/**
 * Spends each operation's estimated cost from its client's budget before it runs (after the
 * limits plugin has estimated it); reports cost and what is left in `extensions.cost` and the
 * RateLimit header fields; refuses RATE_LIMITED (429) what the budget cannot pay for.
 */
function budgetPlugin(spendOf: SpendOf): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue }) {
          const spend = await spendOf(contextValue.caller, contextValue.cost ?? 0);
          if (!spend) return; // the budgets are unavailable: served unmetered (logged)
          contextValue.spend = spend;
          if (!spend.allowed) {
            const error = overBudget(spend);
            error.extensions.http = {
              status: 429,
              headers: new Map(Object.entries(rateLimitHeaders(spend))),
            };
            throw error;
          }
        },
        async willSendResponse({ contextValue, response }) {
          const { spend } = contextValue;
          if (!spend) return;
          for (const [name, value] of Object.entries(rateLimitHeaders(spend)))
            response.http.headers.set(name, value);
          if (response.body.kind === 'single') {
            response.body.singleResult.extensions = {
              ...response.body.singleResult.extensions,
              cost: {
                estimated: spend.cost,
                remaining: spend.remaining,
                limit: spend.capacity,
                resetS: spend.resetS,
              },
            };
          }
        },
      };
    },
  };
}

/** Longest delay a Node timer takes (about 24.8 days); longer ones are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;

/** How many distinct subscription documents one process keeps parsed and validated. */
const MAX_CACHED_DOCUMENTS = 1_000;

/**
 * Closes a socket with 4403 when the credential it authenticated with expires: a subscription
 * outlives no token (issue #10). The timer goes with the socket.
 */
/** Why a socket whose credential no longer holds is closed. */
const REVOKED_CLOSE =
  'Forbidden: the credential was revoked or no longer holds; reconnect with a valid one';

/**
 * Sockets by the caller they authenticated as, so that revoking a key closes its sockets at
 * once (on this replica), and each socket re-checks its credential every `reauthMs` (a key
 * revoked on another replica, a token refused since).
 */
function credentialWatch(
  authenticate: (authorization: string | undefined) => Promise<unknown>,
  reauthMs: number,
) {
  const byCaller = new Map<string, Set<WebSocket>>();
  return {
    watch(socket: WebSocket, callerId: string, authorization: string | undefined): void {
      let sockets = byCaller.get(callerId);
      if (!sockets) byCaller.set(callerId, (sockets = new Set()));
      sockets.add(socket);
      const timer = setInterval(() => {
        authenticate(authorization).then(
          () => undefined,
          () => socket.close(4403, REVOKED_CLOSE),
        );
      }, reauthMs);
      timer.unref();
      socket.once('close', () => {
        clearInterval(timer);
        sockets.delete(socket);
        if (sockets.size === 0) byCaller.delete(callerId);
      });
    },
    /** Closes every socket of `callerId` now. */
    revoked(callerId: string): void {
      for (const socket of byCaller.get(callerId) ?? []) socket.close(4403, REVOKED_CLOSE);
    },
  };
}

function closeAtExpiry(socket: WebSocket, expiresAt: number): void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = expiresAt - Date.now();
    if (left <= 0) {
      socket.close(4403, 'Forbidden: the credential expired; reconnect with a fresh one');
      return;
    }
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Subscriptions are served over graphql-ws: one sent over HTTP is the client's error (it would
 * otherwise fail inside execution as an internal error).
 */
function httpOperationsPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw crossdockError(
            'BAD_USER_INPUT',
            'Subscriptions are served over graphql-ws (WebSocket subprotocol graphql-transport-ws) at this URL, not over HTTP',
            { http: { status: 400 } },
          );
        },
      };
    },
  };
}

/** Adds correlation ID and warnings to the response extensions; logs what failed inside. */
function operationPlugin(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async willSendResponse({ response, errors }) {
          const { correlationId, warnings, idempotency } = contextValue;
          // A caller's own data (its tenant's, its budget's): no shared cache may keep it.
          response.http.headers.set('cache-control', 'no-store');
          if (response.body.kind === 'single') {
            const result = response.body.singleResult;
            result.extensions = {
              ...result.extensions,
              correlationId,
              ...(warnings.length > 0 ? { warnings } : {}),
              ...(idempotency.length === 1
                ? { idempotency: idempotency[0] }
                : idempotency.length > 1
                  ? { idempotency }
                  : {}),
            };
            for (const error of result.errors ?? []) {
              if (error.extensions?.code === 'INTERNAL_SERVER_ERROR') {
                (error.extensions as Record<string, unknown>).correlationId = correlationId;
              }
            }
          }
          // The operation's own line is operationLogPlugin's; here, what went wrong inside it.
          for (const error of errors ?? []) {
            const original = unwrapResolverError(error);
            const code = error.extensions?.code;
            if (
              isSourceError(original) ||
              (typeof code === 'string' && code.startsWith('SOURCE_'))
            ) {
              // What a redacted client message leaves out (production): found by correlation ID.
              logger.warn(
                {
                  correlationId,
                  source:
                    error.extensions?.source ?? (isSourceError(original) ? original.source : null),
                  detail: error.message,
                  path: error.path ?? null,
                },
                'source failure',
              );
            } else if (!(original instanceof GraphQLError)) {
              logger.error({ correlationId, err: original }, 'unexpected resolver error');
            }
          }
        },
      };
    },
  };
}

/** Starts Crossdock's HTTP server on the configured host and port. */
export async function startCrossdock(options: CrossdockOptions): Promise<Crossdock> {
  const { config, sources, store, bus, workflows, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  // Requests are routed once Apollo has started (below): /graphql to its edge, the rest to `app`.
  const httpServer = createServer(httpServerOptions(config.http));
  // Cost budgets per client: shared through NATS key-value when there is a NATS (replicas).
  // Each principal may have its own policy (BUDGET_POLICIES); the bucket is the client's.
  const budgetPolicy = { capacity: config.budget.capacity, refillPerS: config.budget.refillPerS };
  const rolePolicies = config.budget.byRole;
  const budgets = config.bus.natsUrl
    ? await natsBudgets(
        config.bus.natsUrl,
        config.budget.kvBucket,
        budgetPolicy,
        Date.now,
        Object.values(rolePolicies).filter((p) => p !== undefined),
      )
    : memoryBudgets(budgetPolicy);
  // A budget store that fails (NATS away) must not take the API down: the operation is served
  // unmetered and the failure logged.
  const spendOf: SpendOf = ({ client, role }, cost) =>
    budgets.spend(client, cost, rolePolicies[role] ?? budgetPolicy).catch((error: unknown) => {
      logger.warn({ err: error, client }, 'cost budget unavailable: operation served unmetered');
      return null;
    });
  // API keys: configured ones plus those made through the key management API (in the store).
  const made = createKeys({
    configured: config.auth.apiKeys,
    secret: config.auth.apiKeySecret,
    store: store.apiKeys,
    cacheMs: config.auth.keyCacheMs,
  });
  // A key revoked here closes its sockets here at once; other replicas' sockets re-check.
  const keys: typeof made = {
    ...made,
    async revoke(id, at, by) {
      const revoked = await made.revoke(id, at, by);
      if (revoked && at <= Date.now()) watch.revoked(`key:${id}`);
      return revoked;
    },
  };
  const authenticator = createAuthenticator(config.auth, Date.now, keys);
  const watch = credentialWatch((a) => authenticator.authenticate(a), config.ws.reauthMs);
  const cursors = createCursorCodec(config.auth.apiKeySecret);
  const trail = options.trail ?? createTrail();
  const instruments = options.instruments ?? createInstruments({ logger, trail });
  // Source health over time: one sampler per instance, stopped first when it closes.
  const healthHistory = createHealthHistory({
    read: () => allConnectors(sources).map((connector) => connector.health()),
    intervalMs: config.sourceHealth.sampleMs,
    capacity: config.sourceHealth.samples,
    onError: (error) => logger.warn({ err: error }, 'source health sample failed'),
  });
  // Every operation: its log line, its metrics and its trail entry (Query.trace).
  const onOperation = (line: OperationLine, span?: Span) => {
    logOperation(logger, line);
    if (span) {
      span.updateName(`${line.type} ${line.operation}`);
      span.setAttributes({
        'graphql.operation.name': line.operation,
        'graphql.operation.type': line.type,
        'crossdock.outcome': line.outcome,
      });
      if (line.errorCodes) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: line.errorCodes.join(' ') });
      }
    }
    instruments.operation(line);
    for (let i = 0; i < (line.replays ?? 0); i++) instruments.replay(line.operation);
    if (line.correlationId) {
      trail.record({
        correlationId: line.correlationId,
        kind: 'OPERATION',
        // When it started, never later than its first step's (integer) ledger time.
        at: Math.floor(Date.now() - line.durationMs),
        name: `${line.type} ${line.operation}`,
        outcome: line.outcome === 'ok' ? 'ok' : `error ${(line.errorCodes ?? []).join(' ')}`,
        durationMs: line.durationMs,
        detail: `${line.transport}, ${line.principal.id}`,
      });
    }
  };
  const development = config.env === 'development';

  const schema = buildSchema();
  const format = formatError({
    development,
    redactSources: config.graphql.redactSourceErrors,
    hideSuggestions: !config.graphql.suggestions,
    limits: config.limits,
  });
  // graphql-ws validates with the same rules Apollo does: introspection refused when it is off.
  const validationRules = config.graphql.introspection
    ? specifiedRules
    : [...specifiedRules, NoSchemaIntrospectionCustomRule];
  // Subscribers share one bus subscription per domain, each with a bounded queue.
  const fanout = createFanout(bus, { bufferSize: config.ws.subscriberBuffer });
  fanout.events.on('delivered', (domain, at, correlationId) =>
    instruments.delivered(domain, at, correlationId),
  );
  instruments.read({
    subscribers: () => fanout.stats().subscribers,
    deadLetters: () => store.deadLetters.count(),
  });
  // graphql-ws on the same server and path as queries; subscriptions authenticate with
  // connectionParams.authorization (DESIGN.md).
  // A message is no larger than an HTTP body; ws closes 1009 above it without buffering it.
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: config.http.maxBodyBytes,
  });
  const guard = guardWebSockets(wsServer, config.ws);
  // Documents that parsed and validated, by their text: the thousands of subscribers who send
  // one subscription share one DocumentNode (its tokens and nodes were a third of a
  // subscriber's heap) and skip parsing and validating it again. Failures are not kept.
  const validDocuments = new LRUCache<string, DocumentNode>({ max: MAX_CACHED_DOCUMENTS });
  const wsCleanup = serveGraphqlWs<
    { authorization?: unknown },
    { caller?: Awaited<ReturnType<typeof authenticator.authenticate>> }
  >(
    {
      schema,
      connectionInitWaitTimeout: config.ws.initTimeoutMs,
      execute: correlated(execute, onOperation, instruments.tracing) as never,
      // Each event executed once per audience, not once per subscriber (server/shared-execution.ts).
      subscribe: correlated(
        sharedSubscribe((context) => (context as Context).caller) as typeof subscribe,
        onOperation,
        instruments.tracing,
      ) as never,
      // The same validation and limits as over HTTP, and the same error catalogue.
      onSubscribe: async (ctx, _id, payload) => {
        const refuse = (error: GraphQLError, extensions: Record<string, unknown>) =>
          new GraphQLError(error.message, { nodes: error.nodes ?? null, extensions });
        // graphql-ws has reserved this operation's id already: it counts itself.
        const running = Object.keys(ctx.subscriptions).length;
        if (running > config.ws.maxSubscriptions) {
          return [
            new GraphQLError(
              `Too many operations on this socket: at most ${config.ws.maxSubscriptions} at once; complete one first`,
              { extensions: { code: 'RATE_LIMITED', limit: config.ws.maxSubscriptions } },
            ),
          ];
        }
        // Trusted documents: as over HTTP (a subscribe message always carries a query string;
        // an empty one with a documentId or persistedQuery hash names a registered document).
        const caller = ctx.extra.caller;
        let text = payload.query;
        if (caller) {
          const resolution = resolveDocument(config.documents, caller.client, {
            query: payload.query,
            documentId: (payload as { documentId?: unknown }).documentId,
            extensions: payload.extensions,
          });
          if (resolution.kind === 'refused') {
            return [
              crossdockError(resolution.code, resolution.message, { reason: resolution.reason }),
            ];
          }
          if (resolution.kind === 'unlisted') logUnlisted(logger, caller.client, resolution.hash);
          if (resolution.kind === 'resolved') text = resolution.query;
        }
        let document = validDocuments.get(text);
        if (!document) {
          try {
            document = parseBounded(text, config.limits);
          } catch (error) {
            if (error instanceof GraphQLError && error.extensions.code === 'QUERY_TOO_COMPLEX') {
              const { http: _http, ...extensions } = error.extensions;
              return [refuse(error, extensions)];
            }
            const syntax = error instanceof GraphQLError ? error : new GraphQLError(String(error));
            return [refuse(syntax, { code: 'BAD_USER_INPUT', reason: 'GRAPHQL_PARSE_FAILED' })];
          }
          const invalid = validate(schema, document, validationRules);
          if (invalid.length > 0) {
            return invalid.map((e) => {
              const aborted = validationAborted(e);
              if (!aborted)
                return refuse(e, { code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' });
              const { http: _http, ...extensions } = aborted.extensions;
              return refuse(aborted, extensions);
            });
          }
          validDocuments.set(text, document);
        }
        const measured = { cost: 0 };
        const tooComplex = limitError(
          schema,
          document,
          payload.operationName,
          payload.variables ?? {},
          config.limits,
          measured,
        );
        if (tooComplex) {
          // `http` is for the HTTP transport only.
          const { http: _http, ...extensions } = tooComplex.extensions;
          return [refuse(tooComplex, extensions)];
        }
        if (caller) {
          const spend = await spendOf(caller, measured.cost);
          if (spend && !spend.allowed) return [overBudget(spend)];
        }
        // Executed as checked here (a document resolved from its hash as resolved), so
        // graphql-ws neither parses nor validates it again; a new object each time: graphql-ws
        // adds the operation's context and root to it.
        return {
          schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
        };
      },
      onError: (ctx, id, _payload, errors) => {
        const slow = errors.find(
          (e) =>
            e.extensions?.code === 'SLOW_CONSUMER' ||
            unwrapResolverError(e) instanceof SlowConsumerError,
        );
        if (slow) {
          // The error goes out first (graphql-ws sends it after this hook); then the socket is
          // closed so a client that does not read stops costing memory. ws sends the close frame
          // after the data already queued. The client resumes with `after`.
          logger.warn({ subscription: id, reason: slow.message }, 'slow consumer closed');
          setImmediate(() =>
            ctx.extra.socket.close(1008, 'Slow consumer: resubscribe with after: <last cursor>'),
          );
        }
        // graphql-ws wraps an error thrown mid-stream in a GraphQLError without a path, which
        // formatError would pass through unmasked: format its original instead.
        const inner = (e: GraphQLError) =>
          e.path === undefined && e.originalError ? e.originalError : e;
        return errors.map((e) => format(e.toJSON(), inner(e))) as never;
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        const r = result as { errors?: readonly GraphQLError[] };
        if (!r.errors) return undefined;
        return {
          ...result,
          errors: r.errors.map((e) => format(e.toJSON(), e)),
        } as never;
      },
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        // Closed by the transport guard (a message too big before this one was acknowledged).
        if (socket.readyState !== socket.OPEN) return false;
        let caller;
        try {
          const authorization = ctx.connectionParams?.authorization;
          caller = await authenticator.authenticate(
            typeof authorization === 'string' ? authorization : undefined,
          );
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
        if (socket.readyState !== socket.OPEN) return false;
        if (!guard.admit(socket, caller.id)) return false; // closed 1008: too many sockets
        ctx.extra.caller = caller;
        guard.acknowledge(socket);
        if (caller.expiresAt !== null) closeAtExpiry(socket, caller.expiresAt);
        const authorization = ctx.connectionParams?.authorization;
        watch.watch(
          socket,
          caller.id,
          typeof authorization === 'string' ? authorization : undefined,
        );
        return true;
      },
      context: (ctx): Context => {
        const caller = ctx.extra.caller;
        if (!caller) throw new Error('unauthenticated socket');
        // Loaders are made when first used: a subscription resolves each event with fresh ones
        // (resolvers/subscription.ts), so eager ones would cost memory per socket for nothing.
        let loaders: Context['loaders'] | undefined;
        const correlation = correlationOfSocket(ctx.connectionParams, ctx.extra.request.headers);
        return {
          caller,
          correlation,
          correlationId: correlation.correlationId,
          sources,
          get loaders() {
            return (loaders ??= createLoaders(sources, store));
          },
          set loaders(value) {
            loaders = value;
          },
          warnings: [],
          store,
          bus: fanout,
          workflows,
          keys,
          cursors,
          trail,
          healthHistory,
          idempotencyKeyHeader: null,
          idempotency: [],
        };
      },
    },
    wsServer,
    config.ws.keepAliveMs,
    logger,
  );

  const apollo = new ApolloServer<Context>({
    // Crossdock's schema, its queries run compiled unless GRAPHQL_EXECUTION=interpreted
    // (server/jit-executor.ts).
    gateway: executionGateway(schema, {
      compile: config.graphql.execution === 'compiled',
      executed: (engine) => instruments.executed(engine),
    }),
    // Introspection is refused by the same graphql-js rule on both transports (validationRules),
    // so both answer with the same message.
    introspection: true,
    validationRules: config.graphql.introspection ? [] : [NoSchemaIntrospectionCustomRule],
    hideSchemaDetailsFromClientErrors: !config.graphql.suggestions,
    includeStacktraceInErrorResponses: development,
    persistedQueries: false,
    // CSRF (Apollo's csrfPrevention): a request a browser could send cross-site without a
    // preflight is refused unless it carries one of these headers. Authorization is one: a
    // browser never attaches a bearer token by itself, so a request carrying it needs no other
    // preflight header (GraphQL over HTTP, issue #9); ambient-credential requests still do.
    csrfPrevention: {
      requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'],
    },
    // Parsing stops at the token limit (server/limits.ts); formatError names it QUERY_TOO_COMPLEX.
    parseOptions: { maxTokens: config.limits.maxTokens },
    // main.ts owns the shutdown order (drain HTTP, connectors, sandbox); Apollo's own signal
    // handlers would stop it behind our back and re-raise the signal.
    stopOnTerminationSignals: false,
    formatError: format,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        // Close subscriptions when the server drains (Apollo's documented graphql-ws pattern).
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
      ApolloServerPluginLandingPageDisabled(),
      // Apollo's default cache-control plugin runs a hook on every resolved field (16 % of the
      // storefront page's CPU, issue #13) to compute hints this schema never sets; every answer
      // is a caller's own (tenant-scoped), so it is `no-store` (operationPlugin), as it was.
      ApolloServerPluginCacheControlDisabled(),
      operationLogPlugin(onOperation),
      operationPlugin(logger),
      legacyJsonStatusPlugin(),
      httpOperationsPlugin(),
      queryLimitsPlugin<Context>(config.limits),
      budgetPlugin(spendOf),
    ],
  });
  await apollo.start();

  app.use((req, res, next) => {
    const correlation = correlationFrom(req.headers);
    res.locals.correlation = correlation;
    res.locals.correlationId = correlation.correlationId;
    res.setHeader(CORRELATION_HEADER, correlation.correlationId);
    next();
  });
  app.get('/healthz', (_req, res) => {
    // The process: it answers. Whether it can do its work is /readyz.
    res.json({ status: 'ok', uptimeS: Math.round(process.uptime()) });
  });
  app.get('/readyz', async (_req, res) => {
    // Ready when the store and the bus answer now; an open breaker degrades fields, it does not
    // stop us, so sources are reported (with their breakers) without deciding readiness.
    const check = async (ping: () => Promise<void>) => {
      try {
        await ping();
        return { ok: true as const };
      } catch (error) {
        return {
          ok: false as const,
          error: error instanceof Error ? error.message : String(error),
        };
      }
    };
    const [storeCheck, busCheck] = await Promise.all([
      check(() => store.ping()),
      check(() => bus.ping()),
    ]);
    const ready = storeCheck.ok && busCheck.ok;
    const sourceStates = allConnectors(sources).map((c) => ({
      name: c.name,
      kind: c.kind,
      state: c.health().state,
    }));
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not_ready',
      store: { kind: store.kind, ...storeCheck },
      bus: { kind: config.bus.natsUrl ? 'nats' : 'memory', ...busCheck },
      sources: sourceStates,
      degraded: sourceStates.filter((s) => s.state !== 'CLOSED').map((s) => s.name),
      subscriptions: fanout.stats(),
    });
  });
  app.get('/metrics', metricsRoute(config.metrics, instruments));
  // The pages (issue #12): the playground for a browser's GET /graphql and at /playground, the
  // operations console at /ops. GraphQL over HTTP is unchanged for every other request.
  const pages = pagesRouter({
    demoKeys: demoKeysOf(config.auth.apiKeys, config.auth.apiKeySecret),
    playground: config.pages.playground,
    console: config.pages.console,
  });
  const { playground } = pages;
  // Only the page requests of /graphql reach `app` (the request listener below routes them).
  if (playground) app.get('/graphql', playground);
  app.use(pages.router);
  // Webhooks read their raw body (signatures cover the exact bytes): no parser may run first.
  if (options.webhooks) app.use(options.webhooks);

  // GraphQL over HTTP at /graphql (and the 404 below it), without Express: server/graphql-http.ts.
  const graphqlHttp = createGraphqlHttp({
    apollo,
    maxBodyBytes: config.http.maxBodyBytes,
    authenticate: async (req) => authenticator.authenticate(oneAuthorization(req)),
    documents: config.documents,
    tracing: instruments.tracing,
    logger,
    context: async ({ req, caller, correlationId }): Promise<Context> => ({
      caller: caller(),
      correlationId,
      sources,
      loaders: createLoaders(sources, store),
      warnings: [],
      store,
      bus,
      workflows,
      keys,
      cursors,
      trail,
      healthHistory,
      idempotencyKeyHeader:
        typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null,
      idempotency: [],
    }),
  });
  httpServer.on('request', (req, res) => {
    const below = belowGraphql(req.url);
    // A browser's page request for /graphql itself is the playground's (Express, pages.ts).
    if (below === null || (below === '' && playground && wantsPage(req))) app(req, res);
    else graphqlHttp(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    httpServer,
    sources,
    subscriptions: {
      stats: () => fanout.stats(),
      events: fanout.events,
      documents: () => validDocuments.size,
    },
    healthHistory,
    close: () => {
      // No sample is taken once closing starts: the connectors it reads are closed after this.
      healthHistory.close();
      // Apollo's drain plugin closes the http server and waits for requests in flight (and
      // the sockets); then the shared bus subscriptions end, then the budgets' connection.
      return (closing ??= apollo
        .stop()
        .then(() => fanout.close())
        .then(() => budgets.close()));
    },
  };
}

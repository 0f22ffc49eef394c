/**
 * One log line per GraphQL operation over HTTP (issue #11): its name and type, the principal
 * (key id or token subject, role, client; never the credential), the correlation ID, the
 * duration and the outcome with the error codes. graphql-ws operations log the same line from
 * server/app.ts (`correlated`).
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Span } from '@opentelemetry/api';
import { currentCorrelation } from '../observability/correlation.js';
import type { Logger } from '../observability/logger.js';
import type { ResolverContext } from '../resolvers/context.js';

/** The fields of an operation's log line. */
export interface OperationLine {
  readonly operation: string;
  readonly type: string;
  readonly principal: { readonly id: string; readonly role: string; readonly client: string };
  readonly correlationId: string;
  readonly transport: 'http' | 'ws';
  readonly durationMs: number;
  readonly outcome: 'ok' | 'error';
  readonly errorCodes?: readonly string[];
  /** Mutations of the operation answered from their idempotency record (present when > 0). */
  readonly replays?: number;
}

/** The `replays` field of a line: how many of the operation's mutations were replayed. */
export function replaysOf(idempotency: readonly { readonly replayed: boolean }[] | undefined): {
  replays?: number;
} {
  const replays = (idempotency ?? []).filter((i) => i.replayed).length;
  return replays === 0 ? {} : { replays };
}

/** Longest operation name logged. */
const MAX_NAME = 64;

/** Writes an operation's line. */
export function logOperation(logger: Logger, line: OperationLine): void {
  if (line.outcome === 'ok') logger.info(line, 'graphql operation');
  else logger.warn(line, 'graphql operation');
}

/** The name an operation is logged under. */
export function operationName(name: string | null | undefined): string {
  return name ? name.slice(0, MAX_NAME) : 'anonymous';
}

/** The Apollo plugin that reports each HTTP operation to `onOperation` (log, trail). */
export function operationLogPlugin(
  onOperation: (line: OperationLine, span?: Span) => void,
): ApolloServerPlugin<ResolverContext & BaseContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ contextValue, operationName: name, operation, errors }) {
          // A request refused before its context was made (authentication) has no caller.
          const caller = (contextValue as Partial<ResolverContext>).caller;
          const codes = (errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL'));
          onOperation(
            {
              operation: operationName(name),
              type: operation?.operation ?? 'unknown',
              principal: caller
                ? { id: caller.id, role: caller.role, client: caller.client }
                : { id: 'unauthenticated', role: 'none', client: 'none' },
              correlationId: String((contextValue as Partial<ResolverContext>).correlationId ?? ''),
              transport: 'http',
              durationMs: Math.round((performance.now() - started) * 100) / 100,
              outcome: codes.length === 0 ? 'ok' : 'error',
              ...(codes.length === 0 ? {} : { errorCodes: [...new Set(codes)] }),
              ...replaysOf((contextValue as Partial<ResolverContext>).idempotency),
            },
            currentCorrelation()?.span,
          );
        },
      };
    },
  };
}

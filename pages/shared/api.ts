/**
 * The pages' one way to Crossdock: GraphQL over HTTP for queries and mutations, graphql-ws on
 * the same path for subscriptions, both with the caller's key. Errors come back as values the
 * page shows (code and message), never as silent failures.
 */
import { createClient, type Client } from 'graphql-ws';

/** A GraphQL error as the API answers it. */
export interface ApiError {
  readonly message: string;
  readonly extensions?: { readonly code?: string; readonly [key: string]: unknown };
}

/** What an operation answered: its data (possibly partial) and its errors. */
export interface ApiResult<T> {
  readonly data: T | null;
  readonly errors: readonly ApiError[];
}

/** One Crossdock API for one key. */
export interface Api {
  /** Runs a query or mutation over HTTP. */
  request<T>(query: string, variables?: Record<string, unknown>): Promise<ApiResult<T>>;
  /** Starts a subscription; returns the function that stops it. */
  subscribe<T>(
    query: string,
    variables: Record<string, unknown>,
    sink: { next(value: ApiResult<T>): void; error(error: ApiError): void },
  ): () => void;
  /** Closes the socket, if one was opened. */
  close(): void;
}

/** An API for `endpoint` (`/graphql`) with `key` (sent as `Bearer <key>`). */
export function createApi(endpoint: string, wsUrl: string, key: string): Api {
  const authorization = `Bearer ${key}`;
  let socket: Client | undefined;
  return {
    async request<T>(query: string, variables: Record<string, unknown> = {}) {
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/graphql-response+json, application/json',
            authorization,
          },
          body: JSON.stringify({ query, variables }),
        });
      } catch (error) {
        return failure<T>(`Crossdock did not answer: ${String(error)}`, 'NETWORK');
      }
      const text = await response.text();
      try {
        const body = JSON.parse(text) as { data?: T | null; errors?: ApiError[] };
        return { data: body.data ?? null, errors: body.errors ?? [] };
      } catch {
        return failure<T>(`HTTP ${response.status}: ${text.slice(0, 200)}`, 'BAD_RESPONSE');
      }
    },
    subscribe<T>(
      query: string,
      variables: Record<string, unknown>,
      sink: { next(value: ApiResult<T>): void; error(error: ApiError): void },
    ) {
      socket ??= createClient({
        url: wsUrl,
        lazy: true,
        connectionParams: { authorization },
        // Reconnect after a restart or a network blip; the feed says it was interrupted.
        retryAttempts: 5,
      });
      return socket.subscribe<T>(
        { query, variables },
        {
          next: (value) =>
            sink.next({
              data: (value.data as T | null | undefined) ?? null,
              errors: (value.errors as ApiError[] | undefined) ?? [],
            }),
          error: (error) => sink.error(subscriptionErrors(error)[0]!),
          complete: () => undefined,
        },
      );
    },
    close() {
      void socket?.dispose();
      socket = undefined;
    },
  };
}

/** A new idempotency key for one action of a person (a retry of the same action reuses it). */
export function newIdempotencyKey(action: string): string {
  return `ops-${action}-${crypto.randomUUID()}`;
}

/** The message of an API result's first error, with its code. */
export function errorText(errors: readonly ApiError[]): string | null {
  const first = errors[0];
  if (!first) return null;
  const code = first.extensions?.code;
  return code ? `${code}: ${first.message}` : first.message;
}

function failure<T>(message: string, code: string): ApiResult<T> {
  return { data: null, errors: [{ message, extensions: { code } }] };
}

/**
 * What a graphql-ws subscription ended with, as GraphQL errors: the server's errors (a refused
 * subscription), the socket's close code and reason, or the client's own failure.
 */
export function subscriptionErrors(error: unknown): ApiError[] {
  if (Array.isArray(error))
    return error.length > 0 ? (error as ApiError[]) : [{ message: 'subscription refused' }];
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    const close = error as { code: number; reason: string };
    return [{ message: `socket closed ${close.code}${close.reason ? `: ${close.reason}` : ''}` }];
  }
  return [{ message: error instanceof Error ? error.message : String(error) }];
}

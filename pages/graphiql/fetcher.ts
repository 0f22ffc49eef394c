/**
 * GraphiQL's fetcher: queries and mutations over HTTP POST, subscriptions over graphql-ws on
 * the same path. The key in GraphiQL's header editor applies to both: graphql-ws carries it as
 * `connectionParams.authorization` (DESIGN.md), one socket per distinct key.
 */
import type { Fetcher, FetcherOpts, FetcherParams } from '@graphiql/toolkit';
import { getOperationAST, parse } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { subscriptionErrors } from '../shared/api.js';

/**
 * Makes the fetcher for one endpoint (`/graphql`) and its graphql-ws URL. `fallback` is the
 * authorization of a request that carries none: GraphiQL's first introspection runs before its
 * header editor exists, so it would go without the key the editor shows.
 */
export function createFetcher(endpoint: string, wsUrl: string, fallback: string | null): Fetcher {
  const sockets = new Map<string, Client>();
  const socketFor = (authorization: string): Client => {
    let client = sockets.get(authorization);
    if (!client) {
      client = createClient({
        url: wsUrl,
        lazy: true,
        retryAttempts: 0,
        connectionParams: authorization ? { authorization } : {},
      });
      sockets.set(authorization, client);
    }
    return client;
  };
  return (params: FetcherParams, opts?: FetcherOpts) => {
    const headers = normalise(opts?.headers);
    if (headers['authorization'] === undefined && fallback) headers['authorization'] = fallback;
    if (isSubscription(params)) {
      const client = socketFor(headers['authorization'] ?? '');
      return {
        subscribe(sink: {
          next: (value: unknown) => void;
          error: (error: unknown) => void;
          complete: () => void;
        }) {
          const dispose = client.subscribe(
            {
              query: params.query,
              variables: params.variables ?? {},
              ...(params.operationName ? { operationName: params.operationName } : {}),
            },
            {
              next: (value) => sink.next(value),
              // A close event or a list of GraphQL errors: shown as the result, not thrown.
              error: (error) => sink.next({ errors: subscriptionErrors(error) }),
              complete: () => sink.complete(),
            },
          );
          return { unsubscribe: dispose };
        },
      } as never;
    }
    return fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...headers,
      },
      body: JSON.stringify(params),
    }).then(async (response) => {
      const text = await response.text();
      try {
        return JSON.parse(text) as never;
      } catch {
        return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] } as never;
      }
    });
  };
}

/** Header names lower-cased; values as strings (the editor's JSON may hold anything). */
function normalise(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined && value !== null) out[name.toLowerCase()] = String(value);
  }
  return out;
}

/** From the query text itself: GraphiQL's parsed document can lag behind its editor. */
function isSubscription(params: FetcherParams): boolean {
  try {
    const ast = parse(params.query);
    return getOperationAST(ast, params.operationName ?? undefined)?.operation === 'subscription';
  } catch {
    return false; // the server answers the syntax error
  }
}

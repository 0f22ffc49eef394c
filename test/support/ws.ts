/**
 * graphql-ws clients of a test stack: a client authenticated with an API key, a set of them
 * disposed together after a suite, `collect`, which gathers a subscription's results, and
 * `collectLive`, which also tells when the server holds the subscription (events to await, not a
 * count to poll).
 */
import { inspect } from 'node:util';
import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createCursorCodec } from '../../resolvers/cursors.js';
import { DEMO_API_KEY_SECRET } from '../../server/identity.js';
import type { Stack } from './stack.js';

/** A loose result shape: tests read into results without declaring every field. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One result of a subscription, as the client receives it. */
export type WsResult = FormattedExecutionResult<Json, unknown>;

/** Options of {@link wsClient}. */
export interface WsClientOptions {
  /**
   * The API key sent as `connectionParams.authorization: 'Bearer <key>'`.
   * @default 'demo-admin'
   */
  readonly key?: string;
  /**
   * Connect on the first subscribe (true), or at once (false: errors of that connection are
   * ignored; the subscriptions report them).
   * @default true
   */
  readonly lazy?: boolean;
  /** More `connectionParams` (a correlation ID, a traceparent). */
  readonly params?: Readonly<Record<string, unknown>>;
}

/** A graphql-ws client of the stack's GraphQL endpoint that never retries a lost socket. */
export function wsClient(stack: Pick<Stack, 'crossdock'>, options: WsClientOptions = {}): Client {
  const { key = 'demo-admin', lazy = true, params = {} } = options;
  return createClient({
    url: stack.crossdock.url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { ...params, authorization: `Bearer ${key}` },
    ...(lazy ? { lazy } : { lazy, onNonLazyError: () => undefined }),
  });
}

/** Clients made through one tracker, to dispose of together (in an `after` hook). */
export interface WsClients {
  /** A {@link wsClient}, kept for {@link WsClients.disposeAll}. */
  client(stack: Pick<Stack, 'crossdock'>, options?: WsClientOptions): Client;
  /** Disposes of every client made so far. */
  disposeAll(): Promise<void>;
}

/** A tracker of the clients a suite makes. */
export function wsClients(): WsClients {
  const clients: Client[] = [];
  return {
    client(stack, options) {
      const client = wsClient(stack, options);
      clients.push(client);
      return client;
    },
    async disposeAll() {
      // Every client, even when one fails to dispose (a socket the server closed first).
      await Promise.allSettled(clients.splice(0).map((client) => client.dispose()));
    },
  };
}

/**
 * Subscribes and collects results until `until` holds: a count of results, or a test of the
 * latest one. Also resolves on the first result with errors (included) and when the server
 * completes the subscription; rejects when the subscription fails (a socket or protocol error).
 * Results that arrive after it resolved (already on the way when it unsubscribed) are ignored:
 * the array resolved is exactly what `until` saw.
 */
export function collect(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  until: number | ((result: WsResult) => boolean),
): Promise<WsResult[]> {
  const results: WsResult[] = [];
  let settled = false;
  const done = (result: WsResult) =>
    typeof until === 'number' ? results.length === until : until(result);
  return new Promise((resolve, reject) => {
    const unsubscribe = client.subscribe<Json>(
      { query, variables },
      {
        next: (value) => {
          if (settled) return;
          results.push(value);
          if (done(value) || value.errors) {
            settled = true;
            unsubscribe();
            resolve(results);
          }
        },
        error: (error) =>
          reject(
            error instanceof Error
              ? error
              : new Error(`subscription failed: ${inspect(error)}`, { cause: error }),
          ),
        complete: () => resolve(results),
      },
    );
  });
}

/** A subscription collected by {@link collectLive}. */
export interface LiveCollection {
  /** The results, as {@link collect} resolves them. */
  readonly done: Promise<WsResult[]>;
  /**
   * Resolves once the server holds the subscription (the fan-out's `started`: from then on every
   * event published is matched against it), or once the subscription has ended (e.g. refused).
   */
  readonly ready: Promise<void>;
}

/**
 * {@link collect} for events published after subscribing: await `ready` before publishing or
 * causing them. `ready` is the next `started` of the stack's fan-out, so start one collection at
 * a time per stack (await its `ready` before the next).
 */
export function collectLive(
  stack: Pick<Stack, 'crossdock'>,
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  until: number | ((result: WsResult) => boolean),
): LiveCollection {
  const { events } = stack.crossdock.subscriptions;
  let onStarted: (() => void) | undefined;
  const started = new Promise<void>((resolve) => {
    onStarted = () => resolve();
    events.once('started', onStarted);
  });
  const done = collect(client, query, variables, until);
  const ended = done.then(
    () => undefined,
    () => undefined,
  );
  const ready = Promise.race([started, ended]).finally(() => {
    if (onStarted) events.off('started', onStarted);
  });
  return { done, ready };
}

const demoCursors = createCursorCodec(DEMO_API_KEY_SECRET);

/**
 * The bus cursor (`order:12`) behind a sealed subscription cursor a demo key's client received,
 * for tests that check the order of deliveries. Throws when it is not one.
 */
export function openCursor(sealed: string, client = 'demo-admin'): string {
  const opened = demoCursors.open(client, sealed);
  if (opened === null) throw new Error(`not a cursor sealed for ${client}: ${sealed}`);
  return opened;
}

/** The sealed cursor demo key `client` would receive for the bus cursor `cursor`. */
export function sealCursor(cursor: string, client = 'demo-admin'): string {
  return demoCursors.seal(client, cursor);
}

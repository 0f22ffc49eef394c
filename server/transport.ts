/**
 * Transport limits, the same on HTTP and WebSocket (issue #9): what one connection may send and
 * how long it may take, so a slow or oversized client is cut off with the status or close code
 * its protocol names, and a reason, instead of holding memory or a socket.
 *
 * | limit                          | HTTP                                   | graphql-ws                             |
 * | ------------------------------ | -------------------------------------- | -------------------------------------- |
 * | body / message size            | 413 (graphql-http.ts, `maxBodyBytes`)  | 1009 (ws `maxPayload`, same limit)     |
 * | before authentication          | —                                      | 1009 above `preInitMaxBytes`           |
 * | head size                      | 431 (Node `maxHeaderSize`)             | the upgrade request's head, alike      |
 * | time to send headers / request | 408 (Node `headersTimeout`, `requestTimeout`) | connection_init timeout 4408    |
 * | idle                           | keep-alive timeout                     | pings; no pong → terminated            |
 * | operations at once             | one per request                        | RATE_LIMITED above `maxSubscriptions`  |
 * | connections per key            | —                                      | 1008 above `maxSocketsPerKey`          |
 */
import type { IncomingMessage, ServerOptions } from 'node:http';
import {
  CloseCode,
  handleProtocols,
  makeServer,
  type ServerOptions as WsServerOptions,
} from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../observability/logger.js';
import type { Config } from './config.js';

/** WebSocket close codes this module uses (RFC 6455 §7.4.1). */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
/** RFC 6455 §7.4.1: the endpoint received a message that violates its policy. */
export const CLOSE_POLICY_VIOLATION = 1008;

/** Options for `http.createServer`: the head size limit and how often timeouts are checked. */
export function httpServerOptions(limits: Config['http']): ServerOptions {
  return {
    maxHeaderSize: limits.maxHeaderBytes,
    // Node checks headersTimeout/requestTimeout on this interval (default 30 s): check often
    // enough that a short timeout is honoured close to its value.
    connectionsCheckingInterval: Math.max(
      10,
      Math.min(30_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
    ),
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
  };
}

/** What {@link guardWebSockets} tracks per process. */
export interface SocketGuard {
  /** Marks a socket authenticated (connection_init accepted): larger messages allowed from now. */
  acknowledge(socket: WebSocket): void;
  /**
   * Counts a socket against its key; false (and the socket closed 1008 with a reason) when the
   * key holds its maximum already. Released when the socket closes.
   */
  admit(socket: WebSocket, key: string): boolean;
  /** Sockets each key holds now (diagnostics, tests). */
  socketsByKey(): ReadonlyMap<string, number>;
}

/**
 * Guards a graphql-ws WebSocket server. Must be called before `useServer`, so its message check
 * runs before graphql-ws reads the message: a message over `preInitMaxBytes` before the socket is
 * acknowledged closes it 1009 (graphql-ws then finds it closing and sends nothing).
 */
export function guardWebSockets(server: WebSocketServer, limits: Config['ws']): SocketGuard {
  const acknowledged = new WeakSet<WebSocket>();
  const sockets = new Map<string, number>();
  server.on('connection', (socket: WebSocket, _request: IncomingMessage) => {
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      if (acknowledged.has(socket)) return;
      const size = Array.isArray(data)
        ? data.reduce((n, b) => n + b.length, 0)
        : data instanceof ArrayBuffer
          ? data.byteLength
          : data.length;
      if (size > limits.preInitMaxBytes)
        socket.close(
          CLOSE_MESSAGE_TOO_BIG,
          `Message too big before connection_init is acknowledged: at most ${limits.preInitMaxBytes} bytes`,
        );
    });
  });
  return {
    acknowledge: (socket) => acknowledged.add(socket),
    admit(socket, key) {
      const held = sockets.get(key) ?? 0;
      if (held >= limits.maxSocketsPerKey) {
        socket.close(
          CLOSE_POLICY_VIOLATION,
          `Too many sockets for this key: at most ${limits.maxSocketsPerKey}`,
        );
        return false;
      }
      sockets.set(key, held + 1);
      socket.once('close', () => {
        const now = (sockets.get(key) ?? 1) - 1;
        if (now <= 0) sockets.delete(key);
        else sockets.set(key, now);
      });
      return true;
    },
    socketsByKey: () => sockets,
  };
}

/** What graphql-ws's server hands a transport as `ctx.extra`. */
export interface WsExtra {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
}

/** Message types only a server sends: a client sending one breaks the protocol (4400). */
const SERVER_ONLY_TYPES = new Set(['connection_ack', 'next', 'error']);

const typeOf = (data: string): unknown => {
  try {
    return (JSON.parse(data) as { type?: unknown } | null)?.type;
  } catch {
    return undefined;
  }
};

/**
 * Serves graphql-ws's protocol (its `makeServer`) on a `ws` server: the transport glue of
 * `graphql-ws/use/ws`, written for hostile clients. What a client breaks is answered with the close
 * code the protocols name and logged at debug level, never printed to the console: frames `ws`
 * refuses (RFC 6455: 1002, 1007, 1009) and messages of a type only a server sends (4400, where
 * graphql-ws would close 4500 as if the server had failed). A failure of our own is logged as an
 * error and closes 4500 with a fixed reason (the detail never reaches the client). Keep-alive
 * pings every `keepAliveMs`; a socket that does not answer one within as long is terminated.
 */
export function serveGraphqlWs<P extends Record<PropertyKey, unknown>, E>(
  options: WsServerOptions<P, WsExtra & Partial<E>>,
  wsServer: WebSocketServer,
  keepAliveMs: number,
  logger: Logger,
): { dispose(): Promise<void> } {
  const server = makeServer(options);
  wsServer.options.handleProtocols = handleProtocols;
  wsServer.on('error', (error) => logger.error({ err: error }, 'websocket server error'));
  wsServer.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    // ws has closed the socket with the code of the violation (its receiver's status code).
    socket.on('error', (error: Error & { code?: string }) =>
      logger.debug({ code: error.code, reason: error.message }, 'websocket protocol violation'),
    );
    let pongWait: NodeJS.Timeout | null = null;
    const pings =
      keepAliveMs > 0
        ? setInterval(() => {
            if (socket.readyState !== socket.OPEN) return;
            pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
            socket.once('pong', () => {
              if (pongWait) clearTimeout(pongWait);
              pongWait = null;
            });
            socket.ping();
          }, keepAliveMs)
        : null;
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
            const text = String(data);
            if (SERVER_ONLY_TYPES.has(typeOf(text) as string)) {
              logger.debug({ type: typeOf(text) }, 'websocket client sent a server message');
              socket.close(CloseCode.BadRequest, 'Invalid message received');
              return;
            }
            handle(text).catch((error: unknown) => {
              logger.error({ err: error }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket, request } as WsExtra & Partial<E>,
    );
    socket.once('close', (code: number, reason: Buffer) => {
      if (pongWait) clearTimeout(pongWait);
      if (pings) clearInterval(pings);
      void closed(code, String(reason));
    });
  });
  return {
    async dispose() {
      for (const client of wsServer.clients) client.close(1001, 'Going away');
      wsServer.removeAllListeners();
      await new Promise<void>((resolve, reject) =>
        wsServer.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/** What a client is told when its request body could not be read. */
export interface BodyRefusal {
  readonly status: number;
  readonly message: string;
}

/**
 * The answer to an error of reading a request body (body-parser, raw-body, zlib: the GraphQL edge's
 * and the webhooks'), or null when the error is not one: sizes, encodings, charsets, truncated
 * bodies and compressed bodies that do not decompress are the client's, answered with the status
 * body-parser gives them (413, 415, 400) and a message that names what was expected. The caller
 * words the JSON-parse and size cases.
 */
export function bodyRefusal(error: unknown): BodyRefusal | null {
  if (typeof error !== 'object' || error === null) return null;
  const e = error as {
    type?: unknown;
    status?: unknown;
    message?: unknown;
    encoding?: unknown;
    charset?: unknown;
    code?: unknown;
    errno?: unknown;
  };
  const status = typeof e.status === 'number' ? e.status : 0;
  const quoted = (value: unknown) => JSON.stringify(String(value).slice(0, 64));
  switch (e.type) {
    case 'encoding.unsupported':
      return {
        status: 415,
        message: `Unsupported Content-Encoding: expected gzip, deflate, br or identity, got ${quoted(e.encoding)}`,
      };
    case 'charset.unsupported':
      return {
        status: 415,
        message: `Unsupported charset: expected utf-8, got ${quoted(e.charset)}`,
      };
    case 'request.aborted':
      return { status: 400, message: 'Request aborted before its body was complete' };
    case 'request.size.invalid':
      return { status: 400, message: 'Request body of another length than its Content-Length' };
    default:
  }
  // zlib's errors while inflating a body that claims to be compressed.
  if (typeof e.errno === 'number' && typeof e.code === 'string' && e.code.startsWith('Z_')) {
    return {
      status: 400,
      message: `Malformed request body: it does not decode as its Content-Encoding says (${String(e.message)})`,
    };
  }
  if (typeof e.type === 'string' && status >= 400 && status < 500) {
    return { status, message: `Unreadable request body (${e.type})` };
  }
  return null;
}

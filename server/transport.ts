/**
 * Transport limits, the same on HTTP and WebSocket (issue #9): what one connection may send and
 * how long it may take, so a slow or oversized client is cut off with the status or close code
 * its protocol names, and a reason, instead of holding memory or a socket.
 *
 * | limit                          | HTTP                                   | graphql-ws                             |
 * | ------------------------------ | -------------------------------------- | -------------------------------------- |
 * | body / message size            | 413 (express.json, `maxBodyBytes`)     | 1009 (ws `maxPayload`, same limit)     |
 * | before authentication          | —                                      | 1009 above `preInitMaxBytes`           |
 * | head size                      | 431 (Node `maxHeaderSize`)             | the upgrade request's head, alike      |
 * | time to send headers / request | 408 (Node `headersTimeout`, `requestTimeout`) | connection_init timeout 4408    |
 * | idle                           | keep-alive timeout                     | pings; no pong → terminated            |
 * | operations at once             | one per request                        | RATE_LIMITED above `maxSubscriptions`  |
 * | connections per key            | —                                      | 1008 above `maxSocketsPerKey`          |
 */
import type { IncomingMessage, ServerOptions } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
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

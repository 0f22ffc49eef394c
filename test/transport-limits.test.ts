/**
 * Transport limits (issue #9, server/transport.ts) over real sockets: body and message size the
 * same on HTTP and graphql-ws, a much smaller message limit before connection_init is
 * acknowledged, head size, header / request / keep-alive timeouts (a body shorter than its
 * Content-Length no longer holds a connection open), operations per socket and sockets per key.
 * Each answer is the status or close code the protocol names, with its reason; after each case a
 * normal query still answers. Nothing here measures time: timeouts are tiny settings, and the
 * tests await the server's answer or its closing of the connection.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { readJsonBody } from '../server/graphql-http.js';
import { captureLogs } from './support/logs.js';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const LIMITS = {
  HTTP_MAX_BODY_BYTES: '65536',
  HTTP_MAX_HEADER_BYTES: '4096',
  HTTP_HEADERS_TIMEOUT_MS: '200',
  HTTP_REQUEST_TIMEOUT_MS: '300',
  HTTP_KEEPALIVE_TIMEOUT_MS: '100',
  WS_PREINIT_MAX_BYTES: '1024',
  WS_MAX_SUBSCRIPTIONS: '2',
  WS_MAX_SOCKETS_PER_KEY: '2',
  POLL_SOURCES: 'none',
};

let stack: Stack;
let port: number;
/** What the server logs: a hostile client is never an error of ours. */
const { lines, logger } = captureLogs('warn');

before(async () => {
  stack = await startStack({ catalogSize: 20, env: LIMITS, logger });
  port = stack.crossdock.port;
});
after(() => stack.close());

/** A normal query answers: what every case is followed by. */
async function stillServes(): Promise<void> {
  const res = await stack.gql(`{ warehouses { code } }`);
  assert.equal(res.status, 200);
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
}

/** Sends raw bytes; resolves with everything the server sent until it closed the connection. */
async function raw(chunks: readonly string[]): Promise<{ text: string; socket: Socket }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  for (const chunk of chunks) socket.write(chunk);
  await once(socket, 'close');
  return { text, socket };
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);

/** One HTTP response read off a raw connection. */
interface Response {
  readonly status: number;
  readonly body: string;
}

/**
 * A raw connection that stays open: `send` writes bytes, `response` resolves with the next
 * complete response (head and Content-Length body), or rejects if none is complete within
 * `withinMs` (the proof that the server did not answer yet).
 */
async function connection(): Promise<{
  socket: Socket;
  send(bytes: string): void;
  response(withinMs?: number): Promise<Response>;
}> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (received += d));
  const complete = (): Response | null => {
    const split = received.indexOf('\r\n\r\n');
    if (split < 0) return null;
    const head = received.slice(0, split);
    const length = Number(/^content-length: (\d+)$/im.exec(head)?.[1] ?? 0);
    if (received.length < split + 4 + length) return null;
    const body = received.slice(split + 4, split + 4 + length);
    received = received.slice(split + 4 + length);
    return { status: statusOf(head), body };
  };
  return {
    socket,
    send: (bytes) => void socket.write(bytes),
    response: (withinMs = 5_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const done = complete();
          if (!done) return;
          clearTimeout(timer);
          socket.off('data', check);
          resolve(done);
        };
        const timer = setTimeout(() => {
          socket.off('data', check);
          reject(
            new Error(`no complete response within ${withinMs} ms: ${received.slice(0, 200)}`),
          );
        }, withinMs);
        socket.on('data', check);
        check();
      }),
  };
}

const head = (extra: string) =>
  `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer demo-admin\r\n${extra}\r\n`;
const TOO_LARGE = {
  errors: [
    {
      message: 'Request body too large: expected at most 65536 bytes of JSON',
      extensions: { code: 'BAD_USER_INPUT' },
    },
  ],
};
const TYPENAME = `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer demo-admin\r\n\r\n`;

/** Resolves once the server holds `count` connections (a socket it let go is released). */
async function connectionsSettle(count: number): Promise<void> {
  const held = () =>
    new Promise<number>((resolve, reject) =>
      stack.crossdock.httpServer.getConnections((error, n) => (error ? reject(error) : resolve(n))),
    );
  while ((await held()) !== count) await new Promise((r) => setTimeout(r, 10));
}

describe('HTTP limits', { timeout: 30_000 }, () => {
  it('a body over HTTP_MAX_BODY_BYTES: 413 with the limit', async () => {
    const res = await fetch(stack.crossdock.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer demo-admin' },
      body: JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(70_000) } }),
    });
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), {
      errors: [
        {
          message: 'Request body too large: expected at most 65536 bytes of JSON',
          extensions: { code: 'BAD_USER_INPUT' },
        },
      ],
    });
    await stillServes();
  });

  it('a body of exactly HTTP_MAX_BODY_BYTES is served; one byte more is 413', async () => {
    const exactly = (pad: number) =>
      JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(pad) } });
    const fits = exactly(65_536 - exactly(0).length);
    assert.equal(Buffer.byteLength(fits), 65_536);
    const c = await connection();
    c.send(`${head(`Content-Length: 65536\r\n`)}${fits}`);
    const served = await c.response();
    assert.equal(served.status, 200, served.body);
    assert.match(served.body, /"__typename":"Query"/);
    c.send(`${head(`Content-Length: 65537\r\n`)}${fits} `);
    const refused = await c.response();
    assert.equal(refused.status, 413);
    assert.deepEqual(JSON.parse(refused.body), TOO_LARGE);
    c.socket.destroy();
    await stillServes();
  });

  it('a chunked body over HTTP_MAX_BODY_BYTES: 413 while it still comes, the rest discarded, the connection serves on', async () => {
    const c = await connection();
    c.send(
      `${head('Transfer-Encoding: chunked\r\n')}${(70_000).toString(16)}\r\n${'x'.repeat(70_000)}\r\n`,
    );
    // Answered at the limit, with the body unfinished (body-parser answered once it ended).
    const refused = await c.response(2_000);
    assert.equal(refused.status, 413);
    assert.deepEqual(JSON.parse(refused.body), TOO_LARGE);
    // The rest of the body is read and dropped; then the same connection serves the next request.
    c.send(`${(70_000).toString(16)}\r\n${'x'.repeat(70_000)}\r\n0\r\n\r\n${TYPENAME}`);
    const next = await c.response();
    assert.equal(next.status, 200, next.body);
    assert.match(next.body, /"__typename":"Query"/);
    c.socket.destroy();
  });

  it('a Content-Length over HTTP_MAX_BODY_BYTES: 413 from the head, before the body is sent', async () => {
    const c = await connection();
    c.send(head('Content-Length: 1000000\r\n'));
    const refused = await c.response(2_000);
    assert.equal(refused.status, 413);
    assert.deepEqual(JSON.parse(refused.body), TOO_LARGE);
    c.socket.destroy();
    await stillServes();
  });

  it('a body longer than its Content-Length: the excess is a request Node refuses (400, closed)', async () => {
    // The excess arrives with the body: Node's parser refuses it (and closes) before the first
    // request, the declared 10 bytes, is answered.
    const { text } = await raw([`${head('Content-Length: 10\r\n')}{"query":"{ __typename }"}`]);
    assert.equal(text, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    await stillServes();
  });

  for (const [framing, extra, part] of [
    ['identity', 'Content-Length: 1000\r\n', '{"query":"{ __typ'],
    ['chunked', 'Transfer-Encoding: chunked\r\n', '5\r\n{"que\r\n'],
    [
      'gzip',
      'Content-Encoding: gzip\r\nContent-Length: 1000\r\n',
      gzipSync(JSON.stringify({ query: '{ __typename }' }))
        .subarray(0, 12)
        .toString('latin1'),
    ],
  ] as const) {
    it(`a client that aborts mid-body (${framing}): its connection is let go, the server serves on`, async () => {
      await stillServes();
      const before = await new Promise<number>((resolve) =>
        stack.crossdock.httpServer.getConnections((_e, n) => resolve(n)),
      );
      const logged = lines.length;
      const c = await connection();
      c.socket.write(Buffer.from(`${head(extra)}${part}`, 'latin1'));
      await new Promise((r) => setTimeout(r, 20)); // the head is read and the body begun
      c.socket.destroy();
      await connectionsSettle(before);
      await stillServes();
      assert.deepEqual(
        lines.slice(logged).filter((line) => line.level >= 50),
        [],
        'nothing failed on our side',
      );
    });
  }
  it('a client that aborts a gzip body: reading it ends (request.aborted), nothing waits on', async () => {
    // The inflated stream has no 'aborted' of its own: without the edge ending it, the read would
    // wait for ever (and hold the request) with nothing to log.
    let settled: (outcome: unknown) => void = () => undefined;
    const outcome = new Promise<unknown>((resolve) => (settled = resolve));
    const server = createServer((req) => readJsonBody(req, 65_536).then(settled, settled));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(client, 'connect');
    const gzip = gzipSync(JSON.stringify({ query: '{ __typename }' })).subarray(0, 12);
    client.write(head('Content-Encoding: gzip\r\nContent-Length: 1000\r\n'));
    client.write(gzip);
    await new Promise((r) => setTimeout(r, 20)); // the head is read and the body begun
    client.destroy();
    const error = await outcome;
    server.close();
    assert.equal((error as { type?: unknown }).type, 'request.aborted');
  });

  it('a head over HTTP_MAX_HEADER_BYTES: 431, connection closed', async () => {
    const { text } = await raw([
      `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(5_000)}\r\n\r\n`,
    ]);
    assert.equal(statusOf(text), 431);
    await stillServes();
  });

  it('headers never finished: 408 after HTTP_HEADERS_TIMEOUT_MS, connection closed', async () => {
    const { text } = await raw([`POST /graphql HTTP/1.1\r\nHost: x\r\n`]);
    assert.equal(statusOf(text), 408);
    await stillServes();
  });

  it('a body shorter than its Content-Length: 408 after HTTP_REQUEST_TIMEOUT_MS, connection closed', async () => {
    const { text } = await raw([
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer demo-admin\r\nContent-Length: 100\r\n\r\n{"query":`,
    ]);
    assert.equal(statusOf(text), 408);
    await stillServes();
  });

  it('an idle keep-alive connection is closed after HTTP_KEEPALIVE_TIMEOUT_MS', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const { text } = await raw([
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer demo-admin\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    ]);
    assert.equal(statusOf(text), 200, 'answered, then closed once idle');
    assert.match(text, /"__typename":"Query"/);
  });
});

/** A raw graphql-transport-ws socket. */
async function socket(): Promise<WebSocket> {
  const ws = new WebSocket(stack.crossdock.url.replace('http', 'ws'), 'graphql-transport-ws');
  await once(ws, 'open');
  return ws;
}

/** Resolves with the close code and reason; rejects if a message comes first (it was served). */
const closed = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve, reject) => {
    const served = (data: Buffer) => reject(new Error(`served instead: ${data.toString()}`));
    ws.once('message', served);
    ws.once('close', (code, reason) => {
      ws.off('message', served);
      resolve({ code, reason: reason.toString() });
    });
  });

/** Resolves with the next message (JSON), which must be of `type`; rejects if the socket closes. */
const message = (ws: WebSocket, type: string) =>
  new Promise<Json>((resolve, reject) => {
    const onClose = (code: number) => reject(new Error(`closed ${code} before a ${type} message`));
    const on = (data: Buffer) => {
      const m = JSON.parse(data.toString()) as Json;
      if (m.type === 'ping' || m.type === 'pong') return;
      ws.off('message', on);
      ws.off('close', onClose);
      if (m.type === type) resolve(m);
      else reject(new Error(`expected a ${type} message, got ${JSON.stringify(m)}`));
    };
    ws.on('message', on);
    ws.once('close', onClose);
  });

async function initialised(key = 'demo-admin'): Promise<WebSocket> {
  const ws = await socket();
  const ack = message(ws, 'connection_ack');
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }));
  await ack;
  return ws;
}

const SUBSCRIBE = (id: string) =>
  JSON.stringify({
    id,
    type: 'subscribe',
    payload: { query: 'subscription { inventoryChanged { cursor } }' },
  });

describe('graphql-ws limits', { timeout: 30_000 }, () => {
  it('a message over WS_PREINIT_MAX_BYTES before connection_init is acknowledged: 1009', async () => {
    const ws = await socket();
    const end = closed(ws);
    ws.send(
      JSON.stringify({
        type: 'connection_init',
        payload: { authorization: 'Bearer demo-admin', pad: 'x'.repeat(2_000) },
      }),
    );
    assert.deepEqual(await end, {
      code: 1009,
      reason: 'Message too big before connection_init is acknowledged: at most 1024 bytes',
    });
    await stillServes();
  });

  it('a 5 MB frame before connection_init: 1009 from the frame header, not buffered', async () => {
    const ws = await socket();
    const end = closed(ws);
    ws.send(Buffer.alloc(5 * 1024 * 1024, 0x20));
    assert.equal((await end).code, 1009);
    await stillServes();
  });

  it('a message over HTTP_MAX_BODY_BYTES after connection_init: 1009', async () => {
    const ws = await initialised('demo-partner-a');
    const end = closed(ws);
    ws.send(
      JSON.stringify({
        id: 'big',
        type: 'subscribe',
        payload: { query: `{ __typename }`, variables: { pad: 'x'.repeat(70_000) } },
      }),
    );
    assert.equal((await end).code, 1009);
    await stillServes();
  });

  it('a message under the body limit after connection_init is served', async () => {
    const ws = await initialised('demo-partner-b');
    try {
      const next = message(ws, 'next');
      ws.send(
        JSON.stringify({
          id: 'ok',
          type: 'subscribe',
          payload: {
            query: `query($pad: String!) { __type(name: $pad) { name } }`,
            variables: { pad: 'x'.repeat(10_000) },
          },
        }),
      );
      assert.deepEqual((await next).payload, { data: { __type: null } });
    } finally {
      ws.close();
    }
  });

  it('more operations than WS_MAX_SUBSCRIPTIONS on one socket: RATE_LIMITED, the socket stays', async () => {
    const ws = await initialised();
    try {
      const started = () =>
        new Promise<void>((resolve) =>
          stack.crossdock.subscriptions.events.once('started', () => resolve()),
        );
      for (const id of ['s1', 's2']) {
        const s = started();
        ws.send(SUBSCRIBE(id));
        await s;
      }
      const refused = message(ws, 'error');
      ws.send(SUBSCRIBE('s3'));
      assert.deepEqual(await refused, {
        id: 's3',
        type: 'error',
        payload: [
          {
            message: 'Too many operations on this socket: at most 2 at once; complete one first',
            extensions: { code: 'RATE_LIMITED', limit: 2 },
          },
        ],
      });
      // Completing one makes room for another.
      const ended = new Promise<void>((resolve) =>
        stack.crossdock.subscriptions.events.once('ended', () => resolve()),
      );
      ws.send(JSON.stringify({ id: 's1', type: 'complete' }));
      await ended;
      const s = started();
      ws.send(SUBSCRIBE('s4'));
      await s;
    } finally {
      ws.close();
    }
    await stillServes();
  });

  it('more sockets than WS_MAX_SOCKETS_PER_KEY for one key: 1008; other keys unaffected', async () => {
    const a = await initialised('demo-service');
    const b = await initialised('demo-service');
    const c = await socket();
    const end = closed(c);
    c.send(
      JSON.stringify({
        type: 'connection_init',
        payload: { authorization: 'Bearer demo-service' },
      }),
    );
    assert.deepEqual(await end, {
      code: 1008,
      reason: 'Too many sockets for this key: at most 2',
    });
    const other = await initialised('demo-storefront');
    other.close();
    // Keys are counted apart: demo-service's sockets are this test's alone.
    // One closes: the key may open another.
    const gone = closed(a);
    a.close();
    await gone;
    const d = await initialised('demo-service');
    for (const ws of [b, d]) ws.close();
    await stillServes();
  });
});

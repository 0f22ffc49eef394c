/**
 * Runners for the hostile-input table (test/hostile-table.test.ts): each sends one hostile
 * request as an attacker would (over fetch, raw TCP, a WebSocket, or hand-made WebSocket frames)
 * and reduces what came back to an {@link Answer}: the status or close code, the error's
 * `extensions.code` and message, or the data when the request was served.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import WebSocket from 'ws';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What a hostile request got, reduced to what the table states. */
export interface Answer {
  /** HTTP status (HTTP, raw TCP and webhook cases). */
  readonly status?: number;
  /** WebSocket close code, when the server closed the socket. */
  readonly close?: number;
  readonly reason?: string;
  /** graphql-ws message type, when the server answered with a message. */
  readonly type?: string;
  /** `extensions.code` of the first GraphQL error, or `error.code` of a webhook refusal. */
  readonly code?: string;
  readonly message?: string;
  /** The data, when the request was served without errors. */
  readonly data?: unknown;
}

/** An expected answer: messages may be patterns (they quote sizes or times that vary). */
export type Expected = Omit<Answer, 'message' | 'data'> & {
  readonly message?: string | RegExp;
  /** The data served, or a pattern of its JSON. */
  readonly data?: unknown;
};

/** Compares an answer with what the table expects; undefined when they agree, else the difference. */
export function mismatch(actual: Answer, expected: Expected): string | undefined {
  const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]) as Set<keyof Answer>;
  for (const key of keys) {
    const want = expected[key];
    const got = actual[key];
    const same =
      want instanceof RegExp
        ? got !== undefined && want.test(typeof got === 'string' ? got : JSON.stringify(got))
        : JSON.stringify(want) === JSON.stringify(got);
    if (!same) return `${key}: expected ${String(want)}, got ${JSON.stringify(got)}`;
  }
  return undefined;
}

/** The answer of a GraphQL or webhook response body. */
function fromBody(status: number, text: string): Answer {
  let body: Json;
  try {
    body = JSON.parse(text) as Json;
  } catch {
    return { status };
  }
  if (Array.isArray(body.errors) && body.errors.length > 0) {
    const [first] = body.errors as Json[];
    return { status, code: first?.extensions?.code, message: first?.message };
  }
  if (body.error && typeof body.error === 'object') {
    return { status, code: body.error.code, message: body.error.message };
  }
  if ('data' in body) return { status, data: body.data };
  return { status };
}

/** A request over fetch. */
export interface HttpRequest {
  readonly method?: string;
  /** Path and query, e.g. `/graphql?query=...`. */
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

export async function overHttp(origin: string, request: HttpRequest): Promise<Answer> {
  const res = await fetch(`${origin}${request.path ?? '/graphql'}`, {
    method: request.method ?? 'POST',
    headers: request.headers ?? {},
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  return fromBody(res.status, await res.text());
}

/** Sends raw bytes; the answer of the first response the server wrote before closing. */
export async function overTcp(port: number, chunks: readonly (string | Buffer)[]): Promise<Answer> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  socket.on('error', () => undefined); // a reset after the answer: the answer is what counts
  for (const chunk of chunks) socket.write(chunk);
  // The server answers and closes (an error, a timeout) or answers and keeps the connection
  // until its keep-alive timeout (HTTP_KEEPALIVE_TIMEOUT_MS, short in the table's stacks).
  await once(socket, 'close');
  const text = Buffer.concat(received).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  let body = split < 0 ? '' : text.slice(split + 4);
  if (/transfer-encoding: chunked/i.test(head)) body = dechunk(body);
  // The first response only: a server that answered before the request ended may write another
  // (Node's 408 when the rest of a refused body never comes).
  const length = /^content-length: (\d+)$/im.exec(head)?.[1];
  if (length !== undefined) body = body.slice(0, Number(length));
  return fromBody(status, body);
}

function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, line), 16);
    if (!(size > 0)) return out;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}

/** What a WebSocket case sends. */
export interface WsScript {
  /** Subprotocols offered; default graphql-transport-ws. */
  readonly protocols?: string | readonly string[];
  /** A connection_init sent first; its connection_ack is awaited before `frames` are sent. */
  readonly init?: Json;
  /** Frames: strings as text, Buffers as binary, objects as JSON text. */
  readonly frames: readonly (string | Buffer | Json)[];
}

const encode = (frame: string | Buffer | Json) =>
  typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame);

/** The answer a graphql-ws message makes. */
function fromMessage(data: Buffer): Answer {
  const m = JSON.parse(data.toString()) as Json;
  const errors = m.type === 'next' ? m.payload?.errors : m.type === 'error' ? m.payload : null;
  if (Array.isArray(errors) && errors.length > 0) {
    return { type: m.type, code: errors[0].extensions?.code, message: errors[0].message };
  }
  if (m.type === 'next') return { type: 'next', data: m.payload?.data };
  return { type: m.type };
}

/**
 * Runs a WebSocket script: the answer is the first message after the acknowledgement of `init`
 * (ping and pong are answers too), or the close. The socket is closed by the client once answered
 * and the close awaited, so the server has let go of it before the next case.
 */
export async function overWebSocket(url: string, script: WsScript): Promise<Answer> {
  const ws = new WebSocket(url, (script.protocols ?? 'graphql-transport-ws') as string[]);
  ws.on('error', () => undefined);
  const closed = new Promise<Answer>((resolve) =>
    ws.once('close', (code, reason) => resolve({ close: code, reason: reason.toString() })),
  );
  const nextMessage = () =>
    new Promise<Answer>((resolve) =>
      ws.once('message', (data: Buffer) => resolve(fromMessage(data))),
    );
  const send = (frame: string | Buffer | Json) =>
    new Promise<void>((resolve) => ws.send(encode(frame), () => resolve()));
  let answer: Answer | undefined;
  const opened = await Promise.race([
    new Promise<boolean>((resolve) => ws.once('open', () => resolve(true))),
    closed.then(() => false),
  ]);
  if (opened && script.init) {
    const ack = nextMessage();
    await send(script.init);
    const first = await Promise.race([ack, closed]);
    if (first.type !== 'connection_ack') answer = first;
  }
  if (!answer) {
    const next = nextMessage();
    for (const frame of script.frames) {
      if (ws.readyState !== WebSocket.OPEN) break;
      await send(frame);
    }
    answer = await Promise.race([next, closed]);
  }
  if (ws.readyState !== WebSocket.CLOSED) ws.close();
  await closed;
  return answer;
}

/** One client frame, masked as a client must (unless `unmasked`). */
export function frame(
  opcode: number,
  payload: Buffer,
  options: { fin?: boolean; unmasked?: boolean; rsv?: number } = {},
): Buffer {
  const { fin = true, unmasked = false, rsv = 0 } = options;
  const head = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
  const maskBit = unmasked ? 0 : 0x80;
  let length: Buffer;
  if (payload.length < 126) length = Buffer.from([maskBit | payload.length]);
  else if (payload.length < 65_536) {
    length = Buffer.alloc(3);
    length[0] = maskBit | 126;
    length.writeUInt16BE(payload.length, 1);
  } else {
    length = Buffer.alloc(9);
    length[0] = maskBit | 127;
    length.writeBigUInt64BE(BigInt(payload.length), 1);
  }
  if (unmasked) return Buffer.concat([Buffer.from(head), length, payload]);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  return Buffer.concat([Buffer.from(head), length, mask, masked]);
}

/**
 * Upgrades a raw TCP connection to graphql-transport-ws by hand, writes hand-made frames, and
 * answers with the code of the close frame the server sent (or the HTTP status when it refused
 * the upgrade).
 */
export async function overFrames(
  port: number,
  frames: readonly Buffer[],
  headers: Record<string, string | undefined> = {},
  path = '/graphql',
): Promise<Answer> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => undefined);
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  const upgrade = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Protocol': 'graphql-transport-ws',
    ...headers,
  };
  socket.write(
    `GET ${path} HTTP/1.1\r\n${Object.entries(upgrade)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`,
  );
  const head = await new Promise<string>((resolve) => {
    const check = () => {
      const text = Buffer.concat(received).toString('latin1');
      if (text.includes('\r\n\r\n')) resolve(text);
    };
    socket.on('data', check);
    socket.once('close', () => resolve(Buffer.concat(received).toString('latin1')));
  });
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  if (status !== 101) {
    socket.destroy();
    return { status };
  }
  const start = Buffer.concat(received).indexOf('\r\n\r\n') + 4;
  // The answer is the server's close frame (opcode 8): read as soon as it arrives (the server
  // would wait for ours), or the end of the connection without one.
  const answer = new Promise<Answer>((resolve) => {
    const check = () => {
      const close = closeFrame(Buffer.concat(received).subarray(start));
      if (close) resolve(close);
    };
    socket.on('data', check);
    socket.once('close', () =>
      resolve(closeFrame(Buffer.concat(received).subarray(start)) ?? { close: 1006, reason: '' }),
    );
    check();
  });
  for (const f of frames) socket.write(f);
  const result = await answer;
  socket.destroy();
  return result;
}

/** The code and reason of the first close frame among a server's frames, or null. */
function closeFrame(frames: Buffer): Answer | null {
  let data = frames;
  while (data.length >= 2) {
    const opcode = (data[0] as number) & 0x0f;
    let length = (data[1] as number) & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (data.length < 4) return null;
      length = data.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (data.length < 10) return null;
      length = Number(data.readBigUInt64BE(2));
      offset = 10;
    }
    if (data.length < offset + length) return null;
    const payload = data.subarray(offset, offset + length);
    if (opcode === 8) {
      return payload.length >= 2
        ? { close: payload.readUInt16BE(0), reason: payload.subarray(2).toString() }
        : { close: 1005, reason: '' };
    }
    data = data.subarray(offset + length);
  }
  return null;
}

/**
 * Opens `count` graphql-transport-ws sockets for `key` and awaits their acks; the function
 * returned closes them and awaits each close.
 */
export async function holdSockets(
  url: string,
  key: string,
  count: number,
): Promise<() => Promise<void>> {
  const sockets = await Promise.all(
    Array.from({ length: count }, async () => {
      const ws = new WebSocket(url, 'graphql-transport-ws');
      ws.on('error', () => undefined);
      await once(ws, 'open');
      const acked = once(ws, 'message');
      ws.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }),
      );
      await acked;
      return ws;
    }),
  );
  return async () => {
    await Promise.all(
      sockets.map(async (ws) => {
        const closed = once(ws, 'close');
        ws.close();
        await closed;
      }),
    );
  };
}

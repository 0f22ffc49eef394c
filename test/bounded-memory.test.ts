/**
 * Bounded memory under hostile traffic (issue #9): after a campaign of oversized bodies,
 * 100,000-deep documents, fragment bombs, slow bodies and oversized WebSocket frames, the JS heap
 * of the process that serves them (measured after a forced full GC) is back within a few MB of
 * where it started: nothing is retained per rejected request or closed socket.
 *
 * Resident memory (RSS) is not asserted: the allocator keeps freed pages and returns them late,
 * so RSS measures the campaign's peak, not what is still held (bench:hostile reports it).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { startStack, type Stack } from './support/stack.js';

// A full GC on demand, without starting node with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after two full collections, MB. */
function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1_048_576;
}

/** Retained growth the test tolerates: well above noise (~3 MB), far below one leaked body each. */
const TOLERATED_MB = 16;
const ROUNDS = 40;

let stack: Stack;
before(async () => {
  stack = await startStack({
    catalogSize: 20,
    env: { POLL_SOURCES: 'none', HTTP_REQUEST_TIMEOUT_MS: '200', HTTP_HEADERS_TIMEOUT_MS: '200' },
  });
});
after(() => stack.close());

async function post(body: string): Promise<void> {
  const res = await fetch(stack.crossdock.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer demo-admin' },
    body,
  }).catch(() => null);
  await res?.arrayBuffer();
}

const socketClosed = (send: (ws: WebSocket) => void) =>
  new Promise<void>((resolve) => {
    const ws = new WebSocket(stack.crossdock.url.replace('http', 'ws'), 'graphql-transport-ws');
    ws.on('error', () => undefined);
    ws.on('open', () => send(ws));
    ws.on('close', () => resolve());
  });

const slowBody = () =>
  new Promise<void>((resolve) => {
    const socket = connect(stack.crossdock.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.resume(); // read the 408: an unread socket never ends
    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":',
    );
  });

const levels = 21;
const CAMPAIGN: Record<string, () => Promise<void>> = {
  'oversized body': () =>
    post(JSON.stringify({ query: '{ __typename }', pad: 'x'.repeat(2_000_000) })),
  '100,000-deep document': () =>
    post(JSON.stringify({ query: `${'{ a'.repeat(100_000)}${' }'.repeat(100_000)}` })),
  'fragment bomb': () =>
    post(
      JSON.stringify({
        query: `{ ...F0 } ${Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F${levels} on Query { __typename }`,
      }),
    ),
  'slow body': slowBody,
  'ws 5 MB frame before init': () =>
    socketClosed((ws) => ws.send(Buffer.alloc(5 * 1024 * 1024, 0x20))),
  'ws 2 MB message after init': () =>
    socketClosed((ws) => {
      ws.send(
        JSON.stringify({
          type: 'connection_init',
          payload: { authorization: 'Bearer demo-admin' },
        }),
      );
      ws.send(
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: '{ __typename }', pad: 'x'.repeat(2_000_000) },
        }),
      );
    }),
};

describe('memory after a hostile campaign', () => {
  it(
    `keeps the heap within ${TOLERATED_MB} MB of where it started`,
    { timeout: 120_000 },
    async (t) => {
      // Warm: code paths compiled, caches and pools filled once.
      for (const attack of Object.values(CAMPAIGN)) await attack();
      for (let i = 0; i < 10; i++) await post(JSON.stringify({ query: '{ warehouses { code } }' }));
      const start = heapMb();
      const growth: Record<string, number> = {};
      for (const [name, attack] of Object.entries(CAMPAIGN)) {
        const before = heapMb();
        for (let i = 0; i < ROUNDS; i++) await attack();
        growth[name] = Math.round((heapMb() - before) * 10) / 10;
      }
      const end = heapMb();
      const res = await stack.gql(`{ warehouses { code } }`);
      assert.equal(res.body.errors, undefined, 'a normal query still answers');
      t.diagnostic(
        `heap ${start.toFixed(1)} MB → ${end.toFixed(1)} MB after ${ROUNDS} of each attack; growth per kind (MB): ${JSON.stringify(growth)}`,
      );
      assert.ok(end - start < TOLERATED_MB, `the heap grew ${(end - start).toFixed(1)} MB`);
    },
  );
});

/**
 * Crossdock killed (SIGKILL) in the middle of placing an order, then restarted on the same
 * embedded store: the order is finished exactly once — no second reservation, one ERP order —
 * and the ledger tells what happened. The sandbox runs in this test process, so it outlives the
 * killed Crossdock like real systems would.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startSandbox, type Sandbox } from '../sandbox/index.js';
import { sandboxCredentialEnv } from '../sandbox/credentials.js';
import { orderIdFor } from '../sources/identifiers.js';
import { erpCompanyUrl, erpToken, wmsToken } from './support/sandbox-api.js';
import { collect } from './support/ws.js';
import { apiKeyEnv } from '../server/identity.js';

let sandbox: Sandbox;
const dataDir = mkdtempSync(join(tmpdir(), 'crossdock-crash-'));
const children: ChildProcess[] = [];

before(async () => {
  sandbox = await startSandbox({ portBase: 0, catalogSize: 100 });
});

after(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await sandbox.close();
});

/** Starts Crossdock (SANDBOX=off) on the shared store; resolves with its GraphQL URL. */
async function startCrossdock(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: new URL('..', import.meta.url),
    env: {
      ...process.env,
      // Not the shared NATS of CI: this process uses the in-process bus.
      NATS_URL: '',
      SANDBOX: 'off',
      PORT: '0',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // Not production: SANDBOX=off against the sandbox systems needs their published
      // credentials, which production refuses (server/config.ts).
      NODE_ENV: 'test',
      ...apiKeyEnv('crash-test-api-key-secret-32-characters!', [
        { id: 'crash', key: 'crash-test-key', role: 'admin' },
      ]),
      ...sandboxCredentialEnv(),
      ERP_URL: sandbox.erp.url,
      WMS_URL: sandbox.wms.url,
      TPL_URL: sandbox.tpl.url,
      COMMERCE_URL: sandbox.commerce.url,
      IDEMPOTENCY_LEASE_MS: '400',
      DEAD_LETTER_POLL_MS: '50',
      ERP_TIMEOUT_MS: '10000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Crossdock GraphQL\s+(\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`Crossdock exited with ${code}: ${out}`)));
  });
  return { child, url };
}

/** Reservations (WMS orders) whose reference starts with `prefix`, in the own WMS. */
async function reservations(
  prefix: string,
): Promise<{ referenceNum: string; readOnly: { status: number } }[]> {
  const bearer = await wmsToken(sandbox);
  const res = await fetch(
    `${sandbox.wms.url}/orders?rql=${encodeURIComponent(`referenceNum==${prefix}*`)}&pgsiz=100&pgnum=1`,
    {
      headers: { authorization: `Bearer ${bearer}` },
    },
  );
  const body = (await res.json()) as {
    _embedded?: Record<string, { referenceNum: string; readOnly: { status: number } }[]>;
  };
  return Object.values(body._embedded ?? {}).flat();
}

/**
 * Resolves when a request for which `wanted` holds reaches a server of this process (the
 * sandbox systems run here): Node's `http.server.request.start` diagnostics channel.
 */
function requestArrives(wanted: (request: IncomingMessage) => boolean): Promise<void> {
  const channel = 'http.server.request.start';
  return new Promise((resolve) => {
    const onStart = (message: unknown): void => {
      if (!wanted((message as { request: IncomingMessage }).request)) return;
      diagnosticsChannel.unsubscribe(channel, onStart);
      resolve();
    };
    diagnosticsChannel.subscribe(channel, onStart);
  });
}

/** A request creating an ERP sales order (`POST .../companies(<id>)/salesOrders`). */
const isSalesOrderPost = (request: IncomingMessage): boolean =>
  request.method === 'POST' &&
  new URL(request.url ?? '/', 'http://sandbox').pathname.endsWith('/salesOrders');

async function erpOrders(externalDocumentNumber: string): Promise<unknown[]> {
  const bearer = await erpToken(sandbox);
  const base = erpCompanyUrl(sandbox);
  const res = await fetch(
    `${base}/salesOrders?$filter=${encodeURIComponent(`externalDocumentNumber eq '${externalDocumentNumber}'`)}`,
    {
      headers: { authorization: `Bearer ${bearer}` },
    },
  );
  return ((await res.json()) as { value: unknown[] }).value;
}

// The timeout turns a wait for something that never happens (the behaviour broken) into a failure.
describe('crash recovery', { timeout: 120_000 }, () => {
  it('finishes an order exactly once after Crossdock is killed between reserving and posting', async () => {
    const customer = sandbox.world.customers.find(
      (c) => c.blocked === ' ' && c.balanceDueCents < c.creditLimitCents / 4,
    );
    const stock = sandbox.world.stock.find(
      (s) => s.warehouse === 'EAST' && s.onHand - s.allocated - s.onHold >= 3,
    );
    assert.ok(customer && stock);
    const key = 'crash-mid-workflow';
    const caller = 'key:crash'; // the key's public id
    const orderId = orderIdFor(caller, key);
    const mutation = JSON.stringify({
      query: `mutation($input: PlaceOrderInput!) { placeOrder(input: $input, idempotencyKey: "${key}") { order { id status } userErrors { code } } }`,
      variables: {
        input: {
          channel: 'INSIDE_SALES',
          customerId: customer.number,
          lines: [{ sku: stock.sku, quantity: 2 }],
        },
      },
    });
    const headers = { 'content-type': 'application/json', authorization: 'Bearer crash-test-key' };

    const first = await startCrossdock();
    // One read first, so the ERP token is fetched before the ERP turns slow.
    await fetch(first.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: `{ product(sku: "${stock.sku}") { listPrice { amount } } }` }),
    });
    // The ERP now takes long to create sales orders: the workflow will be inside that call.
    sandbox.erp.control.setFaults({ latencyMs: 60_000, methods: ['POST'] });
    const posting = requestArrives(isSalesOrderPost);
    void fetch(first.url, { method: 'POST', headers, body: mutation }).catch(() => undefined);
    // Once the ERP post is in flight (the reservation was made before it), kill.
    await posting;
    assert.equal((await reservations(orderId)).length, 1, 'reserved before the crash');
    const exited = once(first.child, 'exit');
    first.child.kill('SIGKILL');
    await exited;
    // The ERP is healthy again (the killed process's post died with its socket).
    sandbox.erp.control.setFaults({ latencyMs: 0, methods: null });
    assert.equal((await erpOrders(orderId)).length, 0, 'the ERP never got the order');

    // Restart on the same store: the recovery sweep finishes the order by itself. A subscriber
    // from the start of the new process's (in-process) bus sees it accepted.
    const second = await startCrossdock();
    const client = createClient({
      url: second.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: headers.authorization },
    });
    try {
      const seen = await collect(
        client,
        `subscription($orderId: ID) { orderStatusChanged(orderId: $orderId, after: "0") { status } }`,
        { orderId },
        (result) => result.data?.orderStatusChanged.status === 'ACCEPTED',
      );
      assert.deepEqual(
        seen.map((result) => result.errors ?? result.data?.orderStatusChanged.status),
        ['ACCEPTED'],
        'the restarted process carried on from ALLOCATED by itself: one hop, to ACCEPTED',
      );
    } finally {
      await client.dispose();
    }
    const now = (await (
      await fetch(second.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          query: `query($id: ID!) { order(id: $id) { status } }`,
          variables: { id: orderId },
        }),
      })
    ).json()) as { data?: { order?: { status: string } } };
    assert.equal(now.data?.order?.status, 'RELEASED_TO_WAREHOUSE');
    const reserved = await reservations(orderId);
    assert.equal(reserved.length, 1, 'no second reservation');
    assert.equal(reserved[0]?.readOnly.status, 0, 'the reservation is live');
    assert.equal((await erpOrders(orderId)).length, 1, 'exactly one ERP order');

    // The client's retry now gets the finished order, and the ledger shows the resume.
    const retry = (await (
      await fetch(second.url, { method: 'POST', headers, body: mutation })
    ).json()) as {
      data?: { placeOrder?: { order?: { status: string } } };
    };
    assert.equal(retry.data?.placeOrder?.order?.status, 'RELEASED_TO_WAREHOUSE');
    const ledger = (await (
      await fetch(second.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          query: `query($id: ID!) { order(id: $id) { timeline { step caller correlationId } } }`,
          variables: { id: orderId },
        }),
      })
    ).json()) as {
      data?: { order?: { timeline: { step: string; caller: string; correlationId: string }[] } };
    };
    const steps = ledger.data?.order?.timeline.map((t) => t.step) ?? [];
    assert.equal(steps.filter((s) => s === 'receive succeeded').length, 1);
    assert.ok(steps.includes('resume started'), steps.join(', '));
    assert.equal(steps.filter((s) => s === 'post:erp succeeded').length, 1);
    assert.ok(
      ledger.data?.order?.timeline.some((t) => t.correlationId === `recovery:${orderId}`),
      'the sweep did it, not the client',
    );
    second.child.kill('SIGTERM');
    await once(second.child, 'exit');
  });
});

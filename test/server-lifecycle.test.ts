/**
 * The process as `npm start` runs it, from the build (`node dist/server/main.js`; `npm test`
 * builds before it runs the tests): it prints its URLs, serves, and on SIGTERM finishes the
 * request in flight, closes its connectors and the sandbox, and exits 0.
 *
 * "In flight" is made certain rather than likely: the ERP's token endpoint is reached through a
 * gate in this test process (ERP_TOKEN_URL), which holds the query's first ERP call until the
 * server has logged that it is shutting down, then forwards it to the sandbox ERP.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { ERP_SANDBOX } from '../sandbox/credentials.js';

/** A signal to await, resolved once. */
function signal(): { promise: Promise<void>; fire(): void } {
  let fire: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}

describe('server lifecycle', () => {
  it('prints its URLs, then drains a request in flight on SIGTERM and exits 0', async () => {
    const main = new URL('../dist/server/main.js', import.meta.url);
    assert.ok(existsSync(main), `${main.pathname} is missing: npm run build makes it`);
    // The gate: counts token requests, holds them until `release`, then forwards them.
    let erpOrigin = '';
    let tokenRequests = 0;
    const tokenRequested = signal();
    const release = signal();
    const gate = createServer((req, res) => {
      tokenRequests++;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        tokenRequested.fire();
        void (async () => {
          await release.promise;
          const answer = await fetch(`${erpOrigin}${req.url ?? '/'}`, {
            method: req.method ?? 'POST',
            headers: { 'content-type': String(req.headers['content-type']) },
            body: Buffer.concat(chunks),
          });
          res.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'application/json',
          });
          res.end(Buffer.from(await answer.arrayBuffer()));
        })().catch((error: unknown) => res.destroy(error as Error));
      });
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const gatePort = (gate.address() as AddressInfo).port;

    const child = spawn(process.execPath, [main.pathname], {
      cwd: new URL('..', import.meta.url),
      env: {
        ...process.env,
        // Not the shared NATS of CI: this process uses the in-process bus.
        NATS_URL: '',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'crossdock-life-')),
        PORT: '0',
        SANDBOX_PORT_BASE: '0',
        SANDBOX_CATALOG_SIZE: '100',
        LOG_LEVEL: 'info',
        // The embedded sandbox's demo keys and secrets are refused in production.
        NODE_ENV: 'test',
        ERP_TOKEN_URL: `http://127.0.0.1:${gatePort}/${ERP_SANDBOX.tenant}/oauth2/v2.0/token`,
        // However long the gate holds the call, it is not the ERP timing out.
        ERP_TIMEOUT_MS: '600000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stdout = '';
      const banner = signal();
      const shuttingDown = signal();
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (/Try: curl/.test(stdout)) banner.fire();
        if (/"msg":"shutting down"/.test(stdout)) shuttingDown.fire();
      });
      const early = once(child, 'exit').then(([code]) => {
        throw new Error(`exited early with ${String(code)}: ${stdout}`);
      });
      await Promise.race([banner.promise, early]);
      const url = /Crossdock GraphQL\s+(\S+)/.exec(stdout)?.[1];
      const erp = /Sandbox ERP\s+(\S+)/.exec(stdout)?.[1];
      assert.ok(url && erp, stdout);
      erpOrigin = erp;
      for (const name of ['Sandbox WMS', 'Sandbox 3PL', 'Sandbox commerce', 'Demo API keys']) {
        assert.match(stdout, new RegExp(name));
      }

      // A query whose first ERP call (its token) the gate holds: from then on it is in flight.
      assert.equal(tokenRequests, 0, 'nothing asked the ERP for a token before the query');
      const inFlight = fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer demo-admin' },
        body: JSON.stringify({
          query: '{ product(sku: "SKU-000001") { sku listPrice { amount } } }',
        }),
      });
      await tokenRequested.promise;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await shuttingDown.promise;
      release.fire(); // only now can the query finish
      const res = await inFlight;
      assert.equal(res.status, 200);
      const body = (await res.json()) as {
        data?: { product?: { listPrice?: { amount: string } } };
        errors?: unknown;
      };
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      assert.match(body.data?.product?.listPrice?.amount ?? '', /^\d+\.\d{2}$/);
      const [code] = await exited;
      assert.equal(code, 0);
      assert.match(stdout, /"msg":"stopped"/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      gate.closeAllConnections();
      await new Promise((resolve) => gate.close(resolve));
    }
  });
});

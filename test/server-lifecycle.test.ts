/**
 * The process as `npm start` runs it: it prints its URLs, serves, and on SIGTERM finishes the
 * request in flight, closes its connectors and the sandbox, and exits 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { describe, it } from 'node:test';

describe('server lifecycle', () => {
  it('prints its URLs, then drains a request in flight on SIGTERM and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
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
        NODE_ENV: 'production',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const banner = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (/Try: curl/.test(stdout)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${stdout}`)));
    });
    await banner;
    const url = /Crossdock GraphQL\s+(\S+)/.exec(stdout)?.[1];
    const erp = /Sandbox ERP\s+(\S+)/.exec(stdout)?.[1];
    assert.ok(url && erp, stdout);
    for (const name of ['Sandbox WMS', 'Sandbox 3PL', 'Sandbox commerce', 'Demo API keys']) {
      assert.match(stdout, new RegExp(name));
    }

    // Make the ERP slow, start a query, and stop the server while it is in flight.
    await fetch(`${erp}/_faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"latencyMs": 300}',
    });
    const inFlight = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer demo-admin' },
      body: JSON.stringify({
        query: '{ product(sku: "SKU-000001") { sku listPrice { amount } } }',
      }),
    });
    // The ERP counts the request once it arrives: then the query is surely in flight.
    for (let i = 0; i < 1000; i++) {
      const stats = (await (await fetch(`${erp}/_stats`)).json()) as {
        byRoute: Record<string, number>;
      };
      if (Object.keys(stats.byRoute).some((route) => route.endsWith('/items'))) break;
    }
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const res = await inFlight;
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      data?: { product?: { listPrice?: { amount: string } } };
      errors?: unknown;
    };
    assert.equal(body.errors, undefined);
    assert.match(body.data?.product?.listPrice?.amount ?? '', /^\d+\.\d{2}$/);
    const [code] = await exited;
    assert.equal(code, 0);
    assert.match(stdout, /"msg":"stopped"/);
  });
});

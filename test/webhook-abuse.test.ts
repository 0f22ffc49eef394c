/**
 * Forged webhook deliveries cost Crossdock almost nothing (issue #9): however many badly signed
 * deliveries arrive, the WMS signing key is fetched at most once more per rotation window (the
 * tenant's API quota is not the attacker's to spend); past WEBHOOK_FAILURES_PER_MINUTE refusals a
 * system's deliveries are answered 429 without being verified; request-supplied values are cut
 * short in answers and logs. Against the embedded sandbox WMS and its real key endpoint.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { clipped } from '../server/webhooks.js';
import { startStack, type Stack } from './support/stack.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const FAILURES_PER_MINUTE = 30;
let stack: Stack;
let base: string;

before(async () => {
  stack = await startStack({
    catalogSize: 20,
    env: { POLL_SOURCES: 'none', WEBHOOK_FAILURES_PER_MINUTE: String(FAILURES_PER_MINUTE) },
  });
  base = new URL(stack.crossdock.url).origin;
});
after(() => stack.close());

const keyFetches = () => stack.sandbox.wms.control.stats().byRoute['GET /events/webhook/key'] ?? 0;

/** A WMS event signed by nobody: valid JSON, a signature that does not verify. */
async function forged(
  system = 'wms',
): Promise<{ status: number; body: Json; retryAfter: string | null }> {
  const body = JSON.stringify({
    tplId: '{00000000-0000-0000-0000-000000000000}',
    wmsEventId: randomUUID(),
    eventDateTimeUtc: new Date().toISOString(),
    eventType: 'Adjustment',
    resource: 'inventory',
    data: {},
  });
  const res = await fetch(`${base}/webhooks/${system}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      signature: Buffer.from('not a signature').toString('base64'),
      'webhook-id': randomUUID(),
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': 'v1,bm90IGEgc2lnbmF0dXJl',
    },
    body,
  });
  return {
    status: res.status,
    body: (await res.json()) as Json,
    retryAfter: res.headers.get('retry-after'),
  };
}

describe('forged webhook deliveries', () => {
  it('fetch the WMS key at most once more per rotation window, however many arrive', async () => {
    const before = keyFetches();
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await forged());
    assert.deepEqual(
      new Set(answers.map((a) => `${a.status} ${a.body.error?.code}`)),
      new Set(['401 WEBHOOK_SIGNATURE_INVALID']),
    );
    // The first delivery fetches the key (none is cached), its failing signature one more
    // (a rotation?); the 19 after it none.
    assert.equal(keyFetches() - before, 2);
    assert.equal(
      answers[0]?.body.error?.message,
      'expected Signature to be the base64 RSA-SHA256 signature of the body under the key of GET events/webhook/key, got "bm90IGEgc2lnbmF0dXJl", which does not verify',
      'no key retrieval time in the answer',
    );
  });

  it(`are answered 429, unverified, past ${FAILURES_PER_MINUTE} refusals a minute; other systems are not`, async () => {
    // The previous test refused 20 already (this test does not rely on it: it tops up).
    let answer = await forged();
    let refused = 1;
    while (answer.status === 401) {
      answer = await forged();
      refused++;
      assert.ok(refused <= FAILURES_PER_MINUTE + 1, `still 401 after ${refused} forged deliveries`);
    }
    assert.equal(answer.status, 429);
    assert.equal(answer.body.error?.code, 'WEBHOOK_RATE_LIMITED');
    assert.match(
      answer.body.error?.message ?? '',
      new RegExp(
        `^more than ${FAILURES_PER_MINUTE} refused deliveries from this system in a minute; retry in \\d+ s$`,
      ),
    );
    assert.ok(Number(answer.retryAfter) >= 1 && Number(answer.retryAfter) <= 60);
    const fetches = keyFetches();
    for (let i = 0; i < 10; i++) assert.equal((await forged()).status, 429);
    assert.equal(keyFetches(), fetches, 'rate-limited deliveries are not verified');
    // The ERP's deliveries are counted apart.
    assert.equal((await forged('erp')).status, 401);
  });

  it('cut request-supplied values short in answers', async () => {
    const system = 'x'.repeat(5_000);
    assert.equal(clipped(system), `${'x'.repeat(64)}… (5000 characters)`);
    assert.equal(clipped('short'), 'short');
    assert.equal(clipped(null), null);
    // An unknown system's name, quoted back cut short (unknown systems have a window of their own).
    const res = await fetch(`${base}/webhooks/${system}`, { method: 'POST', body: '{}' });
    const body = (await res.json()) as Json;
    assert.equal(res.status, 404);
    assert.equal(
      body.error.message,
      `expected a system that sends webhooks (erp, commerce, wms, tpl), got "${'x'.repeat(64)}… (5000 characters)"`,
    );
  });
});

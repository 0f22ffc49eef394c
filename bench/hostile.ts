/**
 * `npm run bench:hostile` (issue #9): a normal storefront load with and without hostile traffic
 * beside it. Three processes: the sandbox systems, Crossdock pointed at them (SANDBOX=off), and
 * this one (the load generator and the attacker). Phases, each BENCH_HOSTILE_DURATION_S long:
 *
 *   1. normal load alone;
 *   2. normal load while hostile traffic runs (fragment and alias bombs, a 100,000-deep document,
 *      oversized and malformed bodies, bad keys, slow bodies, oversized and pre-init WebSocket
 *      frames, forged webhooks), with every hostile answer counted by kind and status;
 *   3. normal load alone again (recovery).
 *
 * Records the normal load's p50/p99 and error rate per phase, Crossdock's CPU time per normal
 * request in phase 1 (from /proc, so only Crossdock's own CPU counts), and its resident memory
 * before, at its peak during, and after the campaign. Raw results: bench/results/hostile.json.
 *
 * Phases 1 and 2 alternate BENCH_HOSTILE_ROUNDS times (default 3) so warm-up and machine noise
 * fall on both; medians are reported. Settings: BENCH_HOSTILE_DURATION_S (default 10),
 * BENCH_CONNECTIONS (default 10), BENCH_HOSTILE_CONCURRENCY (hostile requests in flight,
 * default 4). `--quick`: one round of 3 s phases.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { crossdockEnv, freePortBase, median, start } from './support.js';
import { apiKeyEnv } from '../server/identity.js';

/** The benchmarks' API key secret (their keys are throwaway). */
const BENCH_KEY_SECRET = 'bench-api-key-secret-of-at-least-32-characters';

const quick = process.argv.includes('--quick');
const duration = quick ? 3 : Number(process.env.BENCH_HOSTILE_DURATION_S ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const concurrency = Number(process.env.BENCH_HOSTILE_CONCURRENCY ?? 4);
const rounds = quick ? 1 : Number(process.env.BENCH_HOSTILE_ROUNDS ?? 3);

/** Resident memory of a process, MB. */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** CPU time (user + system) of a process, ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function main(): Promise<void> {
  const base = await freePortBase();
  const sandbox = await start(
    'sandbox/main.ts',
    { SANDBOX_PORT_BASE: String(base), SANDBOX_CATALOG_SIZE: '2000' },
    /commerce\s+http/,
  );
  const crossdock = await start(
    'server/main.ts',
    crossdockEnv(base, {
      LOG_LEVEL: 'silent',
      NATS_URL: '',
      POLL_SOURCES: 'none',
      ...apiKeyEnv(BENCH_KEY_SECRET, [
        { id: 'bench-storefront', key: 'bench-storefront-key', role: 'storefront', channel: 'WEB' },
        { id: 'bench-attacker', key: 'bench-attacker-key', role: 'storefront', channel: 'WEB' },
      ]),
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      HTTP_HEADERS_TIMEOUT_MS: '2000',
    }),
    /Crossdock GraphQL/,
  );
  const pid = crossdock.pid as number;
  const origin = `http://127.0.0.1:${base + 5}`;
  const url = `${origin}/graphql`;
  const page = JSON.stringify({
    query: `{ products(first: 20) { nodes { sku name listPrice { amount } availableToPromise } } }`,
  });
  const normal = () =>
    autocannon({
      url,
      method: 'POST',
      connections,
      duration,
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench-storefront-key' },
      body: page,
    });
  const summary = (r: autocannon.Result) => ({
    requests: r.requests.total,
    rps: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    errorRate: (r.errors + r.timeouts + r.non2xx) / Math.max(1, r.requests.total),
  });

  // Warm-up: tokens, caches, JIT.
  await autocannon({
    url,
    method: 'POST',
    connections,
    duration: 2,
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-storefront-key' },
    body: page,
  });
  const memory = { beforeMb: rssMb(pid), afterNormalLoadMb: 0, peakMb: 0, afterMb: 0 };

  /** The normal load alone, with Crossdock's CPU time per request. */
  const aloneRun = async () => {
    const cpu0 = cpuMs(pid);
    const result = await normal();
    return { result, cpuMs: (cpuMs(pid) - cpu0) / Math.max(1, result.requests.total) };
  };

  // --- the attacker ---------------------------------------------------------------------------
  const answers: Record<string, Record<string, number>> = {};
  const count = (kind: string, outcome: string | number) => {
    const k = (answers[kind] ??= {});
    k[String(outcome)] = (k[String(outcome)] ?? 0) + 1;
  };
  const post = async (kind: string, body: string, headers: Record<string, string> = {}) => {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer bench-attacker-key',
          ...headers,
        },
        body,
      });
      await res.arrayBuffer();
      count(kind, res.status);
    } catch {
      count(kind, 'connection error');
    }
  };
  const levels = 21;
  const bomb = `{ ...F0 } ${Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F${levels} on Query { __typename }`;
  const deep = `${'{ a'.repeat(100_000)}${' }'.repeat(100_000)}`;
  const aliases = `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
  const ws = (kind: string, frame: Buffer | string, init: boolean) =>
    new Promise<void>((resolve) => {
      const socket = new WebSocket(url.replace('http', 'ws'), 'graphql-transport-ws');
      socket.on('error', () => undefined);
      socket.on('open', () => {
        if (init)
          socket.send(
            JSON.stringify({
              type: 'connection_init',
              payload: { authorization: 'Bearer bench-attacker-key' },
            }),
          );
        socket.send(frame);
      });
      socket.on('close', (code) => {
        count(kind, code);
        resolve();
      });
    });
  const slowBody = () =>
    new Promise<void>((resolve) => {
      const socket = connect(base + 5, '127.0.0.1');
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        count('slow body', /^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 'closed');
        resolve();
      });
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":`,
      );
    });
  const attacks: (() => Promise<void>)[] = [
    () => post('fragment bomb', JSON.stringify({ query: bomb })),
    () => post('alias bomb', JSON.stringify({ query: aliases })),
    () => post('100,000-deep document', JSON.stringify({ query: deep })),
    () =>
      post(
        'oversized body',
        JSON.stringify({ query: '{ __typename }', pad: 'x'.repeat(2_000_000) }),
      ),
    () => post('malformed JSON', '{"query": '),
    () => post('unknown key', page, { authorization: 'Bearer nobody' }),
    () =>
      post(
        'costly query',
        JSON.stringify({
          query: '{ customers(first: 250) { nodes { orders(first: 250) { nodes { number } } } } }',
        }),
      ),
    () =>
      post(
        'out-of-range argument',
        JSON.stringify({ query: '{ products(first: -1) { nodes { sku } } }' }),
      ),
    slowBody,
    () => ws('ws 5 MB frame before init', Buffer.alloc(5 * 1024 * 1024, 0x20), false),
    () =>
      ws(
        'ws 20 KB message before init',
        JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(20_000) } }),
        false,
      ),
    () =>
      ws(
        'ws 2 MB message after init',
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: '{ __typename }', pad: 'x'.repeat(2_000_000) },
        }),
        true,
      ),
    async () => {
      try {
        const res = await fetch(`${origin}/webhooks/wms`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', signature: 'Zm9yZ2Vk' },
          body: '{"wmsEventId":"forged"}',
        });
        await res.arrayBuffer();
        count('forged webhook', res.status);
      } catch {
        count('forged webhook', 'connection error');
      }
    },
  ];
  let sent = 0;
  const sampler = setInterval(() => {
    memory.peakMb = Math.max(memory.peakMb, rssMb(pid));
  }, 200);
  /** The normal load while `concurrency` attackers cycle through the attacks. */
  const attackRun = async () => {
    let attacking = true;
    const attackers = Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; attacking; i += concurrency) {
        sent++;
        await (attacks[i % attacks.length] as () => Promise<void>)();
      }
    });
    const result = await normal();
    attacking = false;
    await Promise.all(attackers);
    return result;
  };
  // Interleaved (alone, attacked, alone, attacked, …): warm-up and machine noise fall on both.
  const alone: { result: autocannon.Result; cpuMs: number }[] = [];
  const attacked: autocannon.Result[] = [];
  for (let round = 0; round < rounds; round++) {
    alone.push(await aloneRun());
    if (round === 0) {
      // The baseline "after" is compared with: the same idle pause after normal load alone
      // (a heap grown by normal load is not the attack's).
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      memory.afterNormalLoadMb = rssMb(pid);
    }
    attacked.push(await attackRun());
  }
  clearInterval(sampler);

  const recovery = await normal();
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // idle: let the heap settle
  memory.afterMb = rssMb(pid);
  const fivexx = Object.values(answers).reduce(
    (n, byStatus) =>
      n + Object.entries(byStatus).reduce((m, [s, c]) => m + (/^5\d\d$/.test(s) ? c : 0), 0),
    0,
  );
  const alive = crossdock.exitCode === null;

  const results = {
    at: new Date().toISOString(),
    node: process.version,
    duration,
    connections,
    hostileConcurrency: concurrency,
    rounds,
    normalAlone: alone.map((a) => summary(a.result)),
    normalUnderAttack: attacked.map(summary),
    normalAfter: summary(recovery),
    medians: {
      alone: {
        p50Ms: median(alone.map((a) => a.result.latency.p50)),
        p99Ms: median(alone.map((a) => a.result.latency.p99)),
      },
      underAttack: {
        p50Ms: median(attacked.map((r) => r.latency.p50)),
        p99Ms: median(attacked.map((r) => r.latency.p99)),
      },
      underAttackOverAloneP99:
        median(attacked.map((r) => r.latency.p99)) /
        Math.max(1, median(alone.map((a) => a.result.latency.p99))),
    },
    cpuPerNormalRequestMs: Math.round(median(alone.map((a) => a.cpuMs)) * 1000) / 1000,
    hostileRequests: sent,
    hostileAnswers: answers,
    hostile5xx: fivexx,
    crossdockAlive: alive,
    memoryMb: Object.fromEntries(Object.entries(memory).map(([k, v]) => [k, Math.round(v)])),
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('./results/hostile.json', import.meta.url),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  crossdock.kill('SIGTERM');
  sandbox.kill('SIGTERM');
  if (!alive || fivexx > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

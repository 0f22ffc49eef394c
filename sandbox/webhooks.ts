/**
 * Outbound webhooks of the sandbox systems (webhook signing: shared/reference/wms-apis-and-webhooks.md §4, "Delivery"): one small
 * delivery engine every system shares, and the three signing schemes the systems plug into it.
 * A system builds each event's body in its own dialect and calls `emit`; the engine signs every
 * attempt, delivers, retries and keeps a record the control plane shows.
 *
 *   PUT    /_webhooks         {"url": "http://…"}           register (replaces the URL in force)
 *   GET    /_webhooks         {"url", "deliveries": [...], "dropped": n, "faults": {...}}
 *   DELETE /_webhooks         unregister; pending deliveries are abandoned (`failed`)
 *   PUT    /_webhooks/faults  {"duplicate": bool, "drop": bool}
 *
 * Delivery is at least once. Events leave in the order they were emitted, one first attempt at
 * a time; a failed attempt is retried on its own timer (network error, timeout, 408, 429, 5xx)
 * after the next delay of the schedule, so retries never hold up later events and arrive out of
 * order, as the vendors' do. Any other status below 200 or from 300 up is final (`failed`):
 * redirects are not followed. `duplicate` sends every event a second time right after the first
 * (same id, re-signed); `drop` loses events silently (counted in `dropped`, like events emitted
 * while no URL is registered). Timers are unref'd, so a forgotten sandbox never keeps a process
 * alive, and `close()` aborts what is in flight.
 */
import { createHmac, sign as rsaSign, type KeyObject } from 'node:crypto';
import type { Express } from 'express';
import { Agent, request } from 'undici';
import { z } from 'zod';

/**
 * Delays before the 1st, 2nd, … retry of a delivery; once spent, the delivery is `failed`.
 * @default [250, 1_000, 5_000, 30_000, 120_000] // 0.25 s, 1 s, 5 s, 30 s, 2 min
 */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = Object.freeze([
  250, 1_000, 5_000, 30_000, 120_000,
]);

/** How long each vendor waits for the receiver's answer before counting a timeout. */
export const DELIVERY_TIMEOUTS_MS = Object.freeze({
  /** Extensiv: "answer 2xx within 3 s". */
  extensiv: 3_000,
  /** Shopify: 5 s to respond. */
  shopify: 5_000,
  /** Standard Webhooks: 15–30 s; the sandbox takes the short end. */
  'standard-webhooks': 15_000,
  /** No vendor: a system without events of its own. */
  unsigned: 15_000,
});

/** Deliveries a system remembers for `GET /_webhooks`; older finished ones are forgotten. */
export const MAX_RETAINED_DELIVERIES = 1_000;

/** Longest retry delay accepted (one day). */
const MAX_RETRY_DELAY_MS = 86_400_000;
/** Longest retry schedule accepted. */
const MAX_RETRIES = 20;

/** Where a delivery stands. */
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event's delivery, as `GET /_webhooks` lists it. */
export interface WebhookDelivery {
  /** The id the receiver deduplicates on (wmsEventId, X-Shopify-Webhook-Id, webhook-id). */
  readonly id: string;
  /** The event type (eventType, topic, type). */
  readonly type: string;
  /** HTTP requests made so far, the `duplicate` copy included. */
  readonly attempts: number;
  readonly status: WebhookDeliveryStatus;
  /** Status of the last answer; null before any or after a network error or timeout. */
  readonly lastStatus: number | null;
  readonly lastError: string | null;
}

/** Delivery faults in force on one system. */
export interface WebhookFaults {
  /** Send every event twice, with the same id. */
  readonly duplicate: boolean;
  /** Lose every event silently. */
  readonly drop: boolean;
}

/** Deliveries as the vendor intends them. */
export const NO_WEBHOOK_FAULTS: WebhookFaults = Object.freeze({ duplicate: false, drop: false });

/** One event, ready to send: the exact body and the headers that are the same on every attempt. */
export interface WebhookMessage {
  readonly id: string;
  readonly type: string;
  /** The JSON body; its UTF-8 bytes are what is sent and signed. */
  readonly body: string;
  /** Headers fixed for the event (e.g. Shopify's topic and ids), besides the signer's. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The signing schemes of the sandbox systems (`unsigned`: a system with no events of its own). */
export type WebhookDialect = 'extensiv' | 'shopify' | 'standard-webhooks' | 'unsigned';

/** A vendor's signing scheme, plugged into the engine by the system that speaks it. */
export interface WebhookSigner {
  readonly dialect: WebhookDialect;
  /** Headers of one attempt: the signature over the exact body (and a per-attempt timestamp). */
  headers(message: WebhookMessage, body: Buffer, attemptAtMs: number): Record<string, string>;
}

/** Options of the delivery engine (`startSandbox({ webhooks })` passes them to every system). */
export interface WebhookOptions {
  /**
   * Delays before each retry, in ms; the delivery fails once they are spent.
   * @default DEFAULT_RETRY_DELAYS_MS // 250, 1_000, 5_000, 30_000, 120_000
   */
  readonly retryDelaysMs?: readonly number[];
  /**
   * How long one attempt may take, in ms.
   * @default DELIVERY_TIMEOUTS_MS[dialect] // 3_000 Extensiv, 5_000 Shopify, 15_000 Standard Webhooks
   */
  readonly timeoutMs?: number;
}

/** A running system's webhooks: registration, faults and the record of deliveries. */
export interface Webhooks {
  /** Sends later events to `url` (an absolute http(s) URL); throws a TypeError otherwise. */
  register(url: string): void;
  /** Stops sending: pending deliveries are abandoned and later events are dropped. */
  unregister(): void;
  /** The registered URL, or null. */
  url(): string | null;
  /** Resolves when no delivery is pending or in flight (at once when none is). */
  idle(): Promise<void>;
  /** Deliveries, oldest first (at most {@link MAX_RETAINED_DELIVERIES}). */
  deliveries(): readonly WebhookDelivery[];
  /** Events emitted but never sent (no URL registered, or the `drop` fault). */
  dropped(): number;
  faults(): WebhookFaults;
  setFaults(faults: Partial<WebhookFaults>): void;
  /** Calls `listener` with a delivery's record each time one of its attempts has an outcome (tests await an attempt instead of polling); returns the unsubscribe. */
  onAttempt(listener: (delivery: WebhookDelivery) => void): () => void;
}

/** The engine as its system holds it: the public handle plus emitting and shutting down. */
export interface WebhookDispatcher extends Webhooks {
  /** Queues one event for delivery (or drops it; see {@link Webhooks.dropped}). */
  emit(message: WebhookMessage): void;
  /** Stops deliveries and timers; pending deliveries become `failed`. Idempotent. */
  close(): Promise<void>;
}

/** The engine options checked, with defaults applied (the caller's object is left alone). */
interface Settings {
  readonly retryDelaysMs: readonly number[];
  readonly timeoutMs: number;
}

/** Checks options at start; throws one line naming the setting, what came and what was expected. */
function settingsOf(dialect: WebhookDialect, options: WebhookOptions): Settings {
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  if (
    !Array.isArray(delays) ||
    delays.length > MAX_RETRIES ||
    !delays.every((d) => Number.isInteger(d) && d >= 0 && d <= MAX_RETRY_DELAY_MS)
  ) {
    throw new RangeError(
      `webhooks.retryDelaysMs: expected at most ${MAX_RETRIES} integers from 0 to ${MAX_RETRY_DELAY_MS} (ms), got ${JSON.stringify(delays)}`,
    );
  }
  const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUTS_MS[dialect];
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) {
    throw new RangeError(
      `webhooks.timeoutMs: expected an integer from 1 to 600000 (ms), got ${JSON.stringify(timeoutMs)}`,
    );
  }
  return { retryDelaysMs: [...delays], timeoutMs };
}

/** The URL of a registration, or a TypeError saying what was expected. */
function checkedUrl(url: unknown): string {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new TypeError(
      `webhook url: expected an absolute http:// or https:// URL, got ${JSON.stringify(url)}`,
    );
  }
  return parsed.href;
}

/** One delivery as the engine keeps it. */
interface Entry {
  readonly message: WebhookMessage;
  readonly bytes: Buffer;
  readonly url: string;
  record: WebhookDelivery;
  /** Retries made so far (an index into the schedule). */
  retries: number;
  timer: NodeJS.Timeout | undefined;
}

/** A unit of outstanding work `idle()` waits for: a delivery, or its `duplicate` copy. */
interface Unit {
  readonly kind: 'delivery' | 'copy';
  readonly entry: Entry;
}

/** What one HTTP attempt came to. */
interface Outcome {
  readonly status: number | null;
  readonly error: string | null;
}

/** What to do after an attempt (spec "Delivery": 2xx delivered; retry 408, 429, 5xx, errors). */
type Verdict = 'delivered' | 'retry' | 'final';

function verdictOf(outcome: Outcome): Verdict {
  const status = outcome.status;
  if (status === null) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'final';
}

/** A network error in one line: its code (from undici's cause when wrapped) and message. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code =
    (error as { code?: unknown }).code ?? (cause as { code?: unknown } | undefined)?.code;
  const message = cause?.message ?? error.message;
  return typeof code === 'string' ? `${code}: ${message}` : message;
}

/** Answers past this many characters are cut in `lastError`. */
const ERROR_EXCERPT = 200;

/**
 * Makes the delivery engine of one system, signing with `signer`.
 * @param now the clock of attempts (per-attempt timestamps); default `Date.now`
 */
export function createWebhookDispatcher(
  signer: WebhookSigner,
  options: WebhookOptions = {},
  now: () => number = Date.now,
): WebhookDispatcher {
  const settings = settingsOf(signer.dialect, options);
  const agent = new Agent({ keepAliveTimeout: 4_000, connections: 16 });
  const entries: Entry[] = [];
  const live = new Set<Unit>();
  const inflight = new Set<AbortController>();
  const queue: Unit[] = [];
  let waiters: (() => void)[] = [];
  const attemptListeners = new Set<(delivery: WebhookDelivery) => void>();
  let url: string | null = null;
  let faults: WebhookFaults = NO_WEBHOOK_FAULTS;
  let dropped = 0;
  let pumping = false;
  let closed = false;

  const notifyIdle = (): void => {
    if (live.size > 0) return;
    const resolved = waiters;
    waiters = [];
    for (const resolve of resolved) resolve();
  };

  const settle = (unit: Unit): void => {
    if (live.delete(unit)) notifyIdle();
  };

  const update = (entry: Entry, change: Partial<WebhookDelivery>): void => {
    entry.record = { ...entry.record, ...change };
  };

  /** Ends every outstanding delivery with `reason` (unregister, close). */
  const abandon = (reason: string): void => {
    queue.length = 0;
    for (const unit of live) {
      clearTimeout(unit.entry.timer);
      unit.entry.timer = undefined;
      if (unit.entry.record.status === 'pending') {
        update(unit.entry, { status: 'failed', lastError: reason });
      }
    }
    live.clear();
    notifyIdle();
  };

  const send = async (entry: Entry): Promise<Outcome> => {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, settings.timeoutMs);
    timer.unref();
    inflight.add(controller);
    try {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        ...entry.message.headers,
        ...signer.headers(entry.message, entry.bytes, now()),
      };
      const res = await request(entry.url, {
        method: 'POST',
        headers,
        body: entry.bytes,
        signal: controller.signal,
        dispatcher: agent,
      });
      const text = await res.body.text();
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const excerpt = text.length > ERROR_EXCERPT ? `${text.slice(0, ERROR_EXCERPT)}…` : text;
      return {
        status: res.statusCode,
        error: ok ? null : `HTTP ${res.statusCode}${excerpt ? `: ${excerpt}` : ''}`,
      };
    } catch (error) {
      return {
        status: null,
        error: timedOut
          ? `timed out after ${settings.timeoutMs} ms`
          : closed
            ? 'sandbox closed'
            : describeError(error),
      };
    } finally {
      clearTimeout(timer);
      inflight.delete(controller);
    }
  };

  const attempt = async (unit: Unit): Promise<void> => {
    const { entry } = unit;
    update(entry, { attempts: entry.record.attempts + 1 });
    const outcome = await send(entry);
    if (!live.has(unit)) return; // abandoned while in flight
    conclude(unit, outcome);
    for (const listener of attemptListeners) listener(entry.record);
  };

  /** Records what an attempt came to: delivered, failed, or a retry on its own timer. */
  const conclude = (unit: Unit, outcome: Outcome): void => {
    const { entry } = unit;
    if (unit.kind === 'copy') {
      settle(unit);
      return;
    }
    update(entry, { lastStatus: outcome.status, lastError: outcome.error });
    const verdict = verdictOf(outcome);
    switch (verdict) {
      case 'delivered':
        update(entry, { status: 'delivered' });
        settle(unit);
        return;
      case 'final':
        update(entry, { status: 'failed' });
        settle(unit);
        return;
      case 'retry': {
        const delay = settings.retryDelaysMs[entry.retries];
        if (delay === undefined) {
          update(entry, { status: 'failed' });
          settle(unit);
          return;
        }
        entry.retries++;
        entry.timer = setTimeout(() => {
          entry.timer = undefined;
          if (live.has(unit)) void attempt(unit);
        }, delay);
        entry.timer.unref();
        return;
      }
      default: {
        const never: never = verdict;
        throw new Error(`unknown verdict ${String(never)}`);
      }
    }
  };

  /** First attempts, one at a time in emit order; a retry does not hold the line. */
  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      for (let unit = queue.shift(); unit !== undefined; unit = queue.shift()) {
        if (live.has(unit)) await attempt(unit);
      }
    } finally {
      pumping = false;
    }
  };

  return {
    register(next) {
      url = checkedUrl(next);
    },
    unregister() {
      url = null;
      abandon('webhook unregistered');
    },
    url: () => url,
    idle() {
      if (live.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    deliveries: () => entries.map((entry) => entry.record),
    dropped: () => dropped,
    faults: () => faults,
    setFaults(next) {
      faults = { ...faults, ...next };
    },
    onAttempt(listener) {
      attemptListeners.add(listener);
      return () => attemptListeners.delete(listener);
    },
    emit(message) {
      if (closed || url === null || faults.drop) {
        dropped++;
        return;
      }
      const entry: Entry = {
        message,
        bytes: Buffer.from(message.body, 'utf8'),
        url,
        record: {
          id: message.id,
          type: message.type,
          attempts: 0,
          status: 'pending',
          lastStatus: null,
          lastError: null,
        },
        retries: 0,
        timer: undefined,
      };
      entries.push(entry);
      if (entries.length > MAX_RETAINED_DELIVERIES) {
        const oldest = entries.findIndex((e) => e.record.status !== 'pending');
        if (oldest >= 0) entries.splice(oldest, 1);
      }
      const unit: Unit = { kind: 'delivery', entry };
      live.add(unit);
      queue.push(unit);
      if (faults.duplicate) {
        const copy: Unit = { kind: 'copy', entry };
        live.add(copy);
        queue.push(copy);
      }
      void pump();
    },
    async close() {
      if (closed) return;
      closed = true;
      abandon('sandbox closed');
      for (const controller of inflight) controller.abort();
      await agent.destroy().catch(() => undefined);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The control plane.
// ---------------------------------------------------------------------------------------------

const Registration = z.object({ url: z.string() }).strict();
const FaultsBody = z
  .object({ duplicate: z.boolean().optional(), drop: z.boolean().optional() })
  .strict();

const issuesOf = (error: z.ZodError): string[] =>
  error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);

/** What `GET /_webhooks` answers. */
function stateOf(webhooks: Webhooks): Record<string, unknown> {
  return {
    url: webhooks.url(),
    deliveries: webhooks.deliveries(),
    dropped: webhooks.dropped(),
    faults: webhooks.faults(),
  };
}

/** Mounts `/_webhooks` (registration, deliveries, faults) on a system's control plane. */
export function mountWebhookControl(app: Express, webhooks: Webhooks): void {
  app.put('/_webhooks', (req, res) => {
    const parsed = Registration.safeParse(req.body);
    let error: string | undefined;
    if (parsed.success) {
      try {
        webhooks.register(parsed.data.url);
      } catch (thrown) {
        if (!(thrown instanceof TypeError)) throw thrown;
        error = thrown.message;
      }
    }
    if (!parsed.success || error !== undefined) {
      res.status(400).json({
        error: 'invalid webhook registration',
        expected: '{"url": "http://host:port/path" | "https://…"}',
        issues: parsed.success ? [error] : issuesOf(parsed.error),
      });
      return;
    }
    res.json(stateOf(webhooks));
  });
  app.get('/_webhooks', (_req, res) => {
    res.json(stateOf(webhooks));
  });
  app.delete('/_webhooks', (_req, res) => {
    webhooks.unregister();
    res.json(stateOf(webhooks));
  });
  app.put('/_webhooks/faults', (req, res) => {
    const parsed = FaultsBody.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({
        error: 'invalid webhook faults',
        expected: '{"duplicate": boolean, "drop": boolean}',
        issues: issuesOf(parsed.error),
      });
      return;
    }
    const next: { duplicate?: boolean; drop?: boolean } = {};
    if (parsed.data.duplicate !== undefined) next.duplicate = parsed.data.duplicate;
    if (parsed.data.drop !== undefined) next.drop = parsed.data.drop;
    webhooks.setFaults(next);
    res.json(webhooks.faults());
  });
}

// ---------------------------------------------------------------------------------------------
// The signers (spec "Signing per system").
// ---------------------------------------------------------------------------------------------

/** No signature: the engine of a system that has no events of its own (a test's stand-in). */
export const UNSIGNED: WebhookSigner = Object.freeze({
  dialect: 'unsigned',
  headers: () => ({}),
});

/**
 * Extensiv: `Signature` = base64 RSA-SHA256 (PKCS#1 v1.5) of the raw body, with the instance's
 * private key of the moment (so a delivery retried after a key rotation carries the new key).
 */
export function extensivSigner(privateKey: () => KeyObject): WebhookSigner {
  return {
    dialect: 'extensiv',
    headers: (_message, body) => ({
      Signature: rsaSign('sha256', body, privateKey()).toString('base64'),
    }),
  };
}

/** Shopify: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the raw body, keyed with `secret`. */
export function shopifySigner(secret: string): WebhookSigner {
  return {
    dialect: 'shopify',
    headers: (_message, body) => ({
      'X-Shopify-Hmac-Sha256': createHmac('sha256', secret).update(body).digest('base64'),
    }),
  };
}

/** The HMAC key of a Standard Webhooks secret: the base64-decoded part after `whsec_`. */
export function standardWebhooksKey(secret: string): Buffer {
  if (!secret.startsWith('whsec_')) {
    throw new RangeError(
      `Standard Webhooks secret: expected "whsec_" + base64, got ${JSON.stringify(secret.slice(0, 6))}…`,
    );
  }
  return Buffer.from(secret.slice('whsec_'.length), 'base64');
}

/**
 * Standard Webhooks v1: `webhook-id` (the message id, same on retries), `webhook-timestamp`
 * (unix seconds of this attempt) and `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">`.
 */
export function standardWebhooksSigner(secret: string): WebhookSigner {
  const key = standardWebhooksKey(secret);
  return {
    dialect: 'standard-webhooks',
    headers: (message, body, attemptAtMs) => {
      const timestamp = String(Math.floor(attemptAtMs / 1000));
      const signature = createHmac('sha256', key)
        .update(`${message.id}.${timestamp}.`)
        .update(body)
        .digest('base64');
      return {
        'webhook-id': message.id,
        'webhook-timestamp': timestamp,
        'webhook-signature': `v1,${signature}`,
      };
    },
  };
}

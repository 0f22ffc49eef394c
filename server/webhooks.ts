/**
 * The webhook endpoint: `POST /webhooks/:system` (webhook signing: shared/reference/wms-apis-and-webhooks.md §4; "Crossdock side").
 *
 *   1. `system` is the configured name of a source whose connector receives webhooks (else 404);
 *   2. the raw body (never parsed before verification; at most `maxBytes`, else 413) and the
 *      headers go to the connector, which verifies them in its vendor's scheme and normalizes
 *      (sources/<system>/webhooks.ts);
 *   3. a verified delivery is claimed in the idempotency store under scope `webhook:<system>`,
 *      key = the vendor's delivery id, fingerprint = SHA-256 of the body: a delivery already
 *      applied answers 200 duplicate, the same id with another body 409 WEBHOOK_ID_REUSED, one
 *      being applied right now 503 WEBHOOK_IN_PROGRESS (Retry-After: 1: vendors retry 5xx, a 409 would be final) — across retries, replicas and restarts;
 *   4. the events are applied (workflows/ingest.ts) and the claim completed: 200 accepted.
 *
 * Every refusal answers `{"error": {"code", "message", "deliveryId"}}`, logs exactly one warn
 * line (system, code, deliveryId, reason) and publishes nothing. A failure while verifying (the
 * WMS key cannot be fetched) or applying (bus or store down) answers 503, so the vendor retries;
 * the claim's lease is released first, so the retry runs at once instead of waiting it out.
 */
import { createHash, randomUUID } from 'node:crypto';
import { withCorrelationId } from '../observability/correlation.js';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from '../observability/logger.js';
import type { WebhookMeasure } from '../observability/instruments.js';
import { bodyRefusal } from './transport.js';
import type {
  Connector,
  WebhookReceiver,
  WebhookRejection,
  WebhookVerdict,
} from '../sources/contract.js';
import type { BeginOutcome, IdempotencyStore } from '../store/contract.js';
import type { Ingest } from '../workflows/ingest.js';

/** Codes of the endpoint's refusals besides the connectors' {@link WebhookRejection}s. */
export type WebhookErrorCode =
  | WebhookRejection
  | 'NOT_FOUND'
  | 'WEBHOOK_TOO_LARGE'
  | 'WEBHOOK_ID_REUSED'
  | 'WEBHOOK_IN_PROGRESS'
  | 'WEBHOOK_VERIFICATION_UNAVAILABLE'
  | 'WEBHOOK_APPLY_FAILED'
  | 'WEBHOOK_RATE_LIMITED';

/** HTTP status of each refusal. */
export const WEBHOOK_STATUS: Readonly<Record<WebhookErrorCode, number>> = {
  WEBHOOK_SIGNATURE_INVALID: 401,
  WEBHOOK_TIMESTAMP_STALE: 400,
  WEBHOOK_MALFORMED: 400,
  WEBHOOK_UNKNOWN_TYPE: 400,
  NOT_FOUND: 404,
  WEBHOOK_TOO_LARGE: 413,
  WEBHOOK_ID_REUSED: 409,
  WEBHOOK_IN_PROGRESS: 503,
  WEBHOOK_VERIFICATION_UNAVAILABLE: 503,
  WEBHOOK_APPLY_FAILED: 503,
  WEBHOOK_RATE_LIMITED: 429,
};

/**
 * Refused deliveries a system may cause per minute before its next ones are answered 429
 * without being verified (no signature check, no key fetch): a flood of forged deliveries costs
 * a counter, and genuine ones are retried by their vendor.
 * @default 120
 */
export const DEFAULT_WEBHOOK_FAILURES_PER_MINUTE = 120;

/** Characters of a request-supplied value (a delivery id, a path) kept in logs and answers. */
export const MAX_LOGGED_CHARS = 64;

/** A request-supplied value cut to {@link MAX_LOGGED_CHARS}, its full length named. */
export function clipped(value: string): string;
export function clipped(value: string | null): string | null;
export function clipped(value: string | null): string | null {
  if (value === null || value.length <= MAX_LOGGED_CHARS) return value;
  return `${value.slice(0, MAX_LOGGED_CHARS)}… (${value.length} characters)`;
}

/**
 * Largest webhook body accepted.
 * @default 1_048_576 // 1 MiB
 */
export const DEFAULT_WEBHOOK_MAX_BYTES = 1_048_576;

/** Options of {@link createWebhookRouter}. */
export interface WebhookRouterOptions {
  /** The connectors that receive webhooks; each is reachable at `/webhooks/<its name>`. */
  readonly receivers: readonly (Connector & WebhookReceiver)[];
  readonly ingest: Ingest;
  readonly idempotency: IdempotencyStore;
  readonly logger: Logger;
  /** Replay window passed to every connector, in ms. */
  readonly toleranceMs: number;
  /** See WebhookReceiver: the vendor's retry horizon for event-time stamps. */
  readonly maxEventAgeMs?: number;
  /** @default DEFAULT_WEBHOOK_MAX_BYTES */
  readonly maxBytes?: number;
  /** How long applying one delivery holds its claim before another replica may take it over. */
  readonly leaseMs: number;
  /** How long a delivery id is remembered (retries after this run again). */
  readonly retentionMs: number;
  /** @default DEFAULT_WEBHOOK_FAILURES_PER_MINUTE */
  readonly failuresPerMinute?: number;
  /** Clock. @default Date.now */
  readonly now?: () => number;
  /** Told of every delivery's verdict (metrics, trail): accepted, duplicate, or the refusal code. */
  readonly onVerdict?: (verdict: WebhookMeasure) => void;
}

/** The idempotency scope of a system's deliveries. */
export const webhookScope = (system: string): string => `webhook:${system}`;

/** Makes the router of `POST /webhooks/:system`; mount it before any body parser. */
export function createWebhookRouter(options: WebhookRouterOptions): Router {
  const { ingest, idempotency, logger, toleranceMs } = options;
  const maxEventAgeMs = options.maxEventAgeMs ?? toleranceMs;
  const now = options.now ?? Date.now;
  const owner = `webhooks-${process.pid}-${randomUUID().slice(0, 8)}`;
  const receivers = new Map(options.receivers.map((r) => [r.name, r]));
  const report = (measure: WebhookMeasure): void => {
    try {
      options.onVerdict?.(measure);
    } catch {
      // Instrumentation never decides a delivery's answer.
    }
  };
  const known = [...receivers.keys()];
  const router = express.Router();
  const failuresPerMinute = options.failuresPerMinute ?? DEFAULT_WEBHOOK_FAILURES_PER_MINUTE;
  /** Refusals per system in the current minute (a fixed window); unknown systems share one. */
  const failures = new Map<
    string,
    { windowStart: number; count: number; limitedLogged: boolean }
  >();
  const windowOf = (system: string) => {
    const key = receivers.has(system) ? system : '(unknown)';
    const at = now();
    let w = failures.get(key);
    if (!w || at - w.windowStart >= 60_000) {
      w = { windowStart: at, count: 0, limitedLogged: false };
      failures.set(key, w);
    }
    return w;
  };

  const refuse = (
    res: Response,
    system: string,
    code: WebhookErrorCode,
    message: string,
    deliveryId: string | null,
    error?: unknown,
  ): void => {
    // 4xx refusals count against the system (a 503 of ours is not the sender's fault).
    if (WEBHOOK_STATUS[code] < 500) windowOf(system).count++;
    const shownId = clipped(deliveryId);
    report({
      system: receivers.has(system) ? system : '(unknown)',
      outcome: code,
      deliveryId: shownId,
      correlationId: res.locals.correlationId ?? null,
      events: 0,
    });
    logger.warn(
      {
        system: clipped(system),
        code,
        deliveryId: shownId,
        reason: message,
        correlationId: res.locals.correlationId ?? null,
        ...(error === undefined ? {} : { err: error }),
      },
      'webhook refused',
    );
    if (WEBHOOK_STATUS[code] === 503) res.setHeader('retry-after', '1');
    res.status(WEBHOOK_STATUS[code]).json({ error: { code, message, deliveryId: shownId } });
  };

  /** Answers 429 (logged once a window) when the system refused too many deliveries this minute. */
  const limited = (req: Request, res: Response, next: NextFunction): void => {
    const system = systemOf(req);
    const w = windowOf(system);
    if (w.count < failuresPerMinute) return next();
    const retryAfter = Math.max(1, Math.ceil((w.windowStart + 60_000 - now()) / 1000));
    report({
      system: receivers.has(system) ? system : '(unknown)',
      outcome: 'WEBHOOK_RATE_LIMITED',
      deliveryId: null,
      correlationId: res.locals.correlationId ?? null,
      events: 0,
    });
    if (!w.limitedLogged) {
      w.limitedLogged = true;
      logger.warn(
        { system: clipped(system), code: 'WEBHOOK_RATE_LIMITED', failures: w.count },
        'webhook deliveries rate-limited until the minute ends',
      );
    }
    res.setHeader('retry-after', String(retryAfter));
    res.status(429).json({
      error: {
        code: 'WEBHOOK_RATE_LIMITED',
        message: `more than ${failuresPerMinute} refused deliveries from this system in a minute; retry in ${retryAfter} s`,
        deliveryId: null,
      },
    });
  };

  const systemOf = (req: Request): string => String(req.params.system ?? '');

  router.post(
    '/webhooks/:system',
    limited,
    (req, res, next) => {
      const system = systemOf(req);
      if (receivers.has(system)) return next();
      refuse(
        res,
        system,
        'NOT_FOUND',
        `expected a system that sends webhooks (${known.join(', ') || 'none is configured'}), got ${JSON.stringify(clipped(system))}`,
        null,
      );
    },
    express.raw({ type: () => true, limit: options.maxBytes ?? DEFAULT_WEBHOOK_MAX_BYTES }),
    async (req, res) => {
      const system = systemOf(req);
      const receiver = receivers.get(system) as Connector & WebhookReceiver;
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }

      let verdict: WebhookVerdict;
      try {
        verdict = await receiver.receiveWebhook(
          { headers, body, receivedAt: now() },
          { toleranceMs, maxEventAgeMs },
        );
      } catch (error) {
        return refuse(
          res,
          system,
          'WEBHOOK_VERIFICATION_UNAVAILABLE',
          `could not verify the delivery: ${error instanceof Error ? error.message : String(error)}`,
          null,
          error,
        );
      }
      if (!verdict.ok)
        return refuse(res, system, verdict.code, verdict.message, verdict.deliveryId);

      const { deliveryId, events } = verdict;
      const scope = webhookScope(system);
      let claim: BeginOutcome;
      try {
        claim = await idempotency.begin({
          scope,
          key: deliveryId,
          operation: 'webhook',
          fingerprint: createHash('sha256').update(body).digest('hex'),
          owner,
          leaseMs: options.leaseMs,
          retentionMs: options.retentionMs,
          now: now(),
        });
      } catch (error) {
        return refuse(
          res,
          system,
          'WEBHOOK_APPLY_FAILED',
          `the delivery was verified but its id could not be claimed (${error instanceof Error ? error.message : String(error)}); retry it`,
          deliveryId,
          error,
        );
      }
      switch (claim.kind) {
        case 'replay':
          logger.info({ system, deliveryId }, 'webhook duplicate');
          report({
            system,
            outcome: 'duplicate',
            deliveryId,
            correlationId: res.locals.correlationId ?? null,
            events: 0,
          });
          res.json({ status: 'duplicate' });
          return;
        case 'mismatch':
          return refuse(
            res,
            system,
            'WEBHOOK_ID_REUSED',
            `expected delivery ${JSON.stringify(deliveryId)} again with the body it first came with, got another body`,
            deliveryId,
          );
        case 'in_progress':
          return refuse(
            res,
            system,
            'WEBHOOK_IN_PROGRESS',
            `delivery ${JSON.stringify(deliveryId)} is being applied right now; retry later`,
            deliveryId,
          );
        case 'started':
        case 'taken_over':
          break;
        default: {
          const unreachable: never = claim;
          throw new Error(`unknown idempotency outcome ${JSON.stringify(unreachable)}`);
        }
      }
      try {
        // What the delivery causes (system calls, bus messages, ledger entries) carries the
        // request's correlation ID; the log line links it to the vendor's delivery id.
        const correlationId = String(res.locals.correlationId ?? deliveryId);
        const { published } = await withCorrelationId(correlationId, () =>
          ingest.apply(events, { caller: scope, correlationId }),
        );
        await idempotency.complete(scope, deliveryId, owner, { events: events.length }, now());
        logger.info(
          { system, deliveryId, correlationId, events: events.length, published },
          'webhook accepted',
        );
        report({
          system,
          outcome: 'accepted',
          deliveryId,
          correlationId,
          events: events.length,
        });
        res.json({ status: 'accepted', events: events.length });
      } catch (error) {
        // Let the vendor's retry run at once rather than after the lease.
        await idempotency.renew(scope, deliveryId, owner, 0, now()).catch(() => false);
        refuse(
          res,
          system,
          'WEBHOOK_APPLY_FAILED',
          `the delivery was verified but could not be applied (${error instanceof Error ? error.message : String(error)}); retry it`,
          deliveryId,
          error,
        );
      }
    },
  );

  // Body errors of express.raw: too large, aborted, or an encoding it cannot read.
  router.use(
    '/webhooks/:system',
    (error: unknown, req: Request, res: Response, next: NextFunction) => {
      const type = (error as { type?: unknown } | null)?.type;
      const refusal = bodyRefusal(error);
      if (typeof type !== 'string' && !refusal) return next(error);
      if (type === 'entity.too.large') {
        return refuse(
          res,
          systemOf(req),
          'WEBHOOK_TOO_LARGE',
          `expected a body of at most ${options.maxBytes ?? DEFAULT_WEBHOOK_MAX_BYTES} bytes, got more`,
          null,
        );
      }
      refuse(
        res,
        systemOf(req),
        'WEBHOOK_MALFORMED',
        refusal
          ? `expected a readable body: ${refusal.message}`
          : `expected a readable body, got ${String(type)}`,
        null,
      );
    },
  );

  return router;
}

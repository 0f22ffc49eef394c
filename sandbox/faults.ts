/**
 * The control plane every sandbox system shares: fault injection (`/_faults`), request
 * counting (`/_stats`) and outbound webhooks (`/_webhooks`, see webhooks.ts), plus the
 * start/stop of one system's HTTP server.
 *
 *   PUT    /_faults  {"latencyMs": n, "errorRate": 0..1, "down": bool, "malformed": bool,
 *                      "methods": ["POST", ...] | null}
 *   DELETE /_faults  back to healthy
 *   GET    /_faults  the faults in force
 *   GET    /_stats   {"requests": n, "aborted": n, "byRoute": {"GET /path": n},
 *                      "byCorrelation": {"<x-correlation-id>": [{"route", "traceparent"}]}}
 *   DELETE /_stats   reset the counters
 *   PUT/GET/DELETE /_webhooks, PUT /_webhooks/faults   (webhooks.ts)
 *
 * `down` destroys every connection as it arrives (the client sees a reset), `errorRate`
 * answers that share of requests with the system's own 503 error body, `latencyMs` delays
 * every answer (a client that gives up first is counted in `aborted`), and `malformed`
 * answers 200 with a body that is not what the dialect promises.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import {
  createWebhookDispatcher,
  mountWebhookControl,
  UNSIGNED,
  type WebhookDispatcher,
  type Webhooks,
} from './webhooks.js';

/** Faults in force on one system. */
export interface Faults {
  readonly latencyMs: number;
  readonly errorRate: number;
  readonly down: boolean;
  readonly malformed: boolean;
  /**
   * HTTP methods the faults apply to (e.g. `["POST"]`: writes fail, reads answer); all when null.
   * @default null
   */
  readonly methods: readonly string[] | null;
}

/** A healthy system. */
export const NO_FAULTS: Faults = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  down: false,
  malformed: false,
  methods: null,
});

const FaultsBody = z
  .object({
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    errorRate: z.number().min(0).max(1).optional(),
    down: z.boolean().optional(),
    malformed: z.boolean().optional(),
    methods: z
      .array(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']))
      .min(1)
      .nullable()
      .optional(),
  })
  .strict();

/** Request counters of one system. */
export interface Stats {
  requests: number;
  aborted: number;
  byRoute: Record<string, number>;
  /**
   * The requests that carried an `x-correlation-id`, by that id (the most recent
   * {@link MAX_CORRELATIONS} ids): each request's route and the `traceparent` it carried.
   */
  byCorrelation: Record<string, { route: string; traceparent: string | null }[]>;
}

/** Correlation ids `/_stats` remembers. */
export const MAX_CORRELATIONS = 500;

const emptyStats = (): Stats => ({ requests: 0, aborted: 0, byRoute: {}, byCorrelation: {} });

/** How each dialect answers an injected error. */
export type ErrorResponder = (res: Response) => void;

/** Everything a sandbox system shares with the control plane. */
export interface SystemControl {
  faults(): Faults;
  setFaults(faults: Partial<Faults>): void;
  stats(): Stats;
  resetStats(): void;
  /** Resolves when the next counted response closes, answered or aborted, with `stats()` updated (tests await a cancellation instead of polling). */
  nextResponseClose(): Promise<void>;
  /** The system's outbound webhooks. */
  readonly webhooks: WebhookDispatcher;
}

/** Options of {@link createSystemApp}. */
export interface SystemAppOptions {
  /** Name in logs and the `x-sandbox-system` header. */
  readonly system: string;
  /** Writes this dialect's 503 error body. */
  readonly onInjectedError: ErrorResponder;
  /** Writes a 200 answer that breaks this dialect's promises (for `malformed`). */
  readonly onMalformed: ErrorResponder;
  /**
   * Largest JSON body accepted.
   * @default '1mb'
   */
  readonly bodyLimit?: string;
  /**
   * The system's webhook engine, exposed on `/_webhooks` and as `RunningSystem.webhooks`.
   * @default an unsigned engine (a system that emits no events of its own)
   */
  readonly webhooks?: WebhookDispatcher;
  /**
   * Mounts the system's own control-plane routes (no auth, no faults, not counted), e.g. the
   * WMS's key rotation and carrier feed. Called after the shared routes.
   */
  readonly controlPlane?: (app: Express) => void;
}

/** Makes an express app with the control plane and fault middleware mounted first. */
export function createSystemApp(options: SystemAppOptions): {
  app: Express;
  control: SystemControl;
} {
  let faults: Faults = NO_FAULTS;
  let stats: Stats = emptyStats();
  /** The correlation IDs of `stats.byCorrelation`, oldest first. */
  let correlationOrder: string[] = [];
  let closeWaiters: (() => void)[] = [];
  const control: SystemControl = {
    faults: () => faults,
    setFaults: (next) => {
      faults = { ...faults, ...next };
    },
    stats: () => stats,
    resetStats: () => {
      stats = emptyStats();
      correlationOrder = [];
    },
    nextResponseClose: () => new Promise((resolve) => closeWaiters.push(resolve)),
    webhooks: options.webhooks ?? createWebhookDispatcher(UNSIGNED),
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(
    express.json({
      limit: options.bodyLimit ?? '1mb',
      type: ['application/json', 'application/*+json'],
    }),
  );

  app.put('/_faults', (req, res) => {
    const parsed = FaultsBody.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({
        error: 'invalid faults',
        expected:
          '{"latencyMs": integer >= 0, "errorRate": 0..1, "down": boolean, "malformed": boolean, "methods": ["GET"|"POST"|"PUT"|"PATCH"|"DELETE", ...] | null}',
        issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      });
      return;
    }
    const next: Partial<Faults> = {};
    for (const [key, value] of Object.entries(parsed.data)) {
      if (value !== undefined) (next as Record<string, unknown>)[key] = value;
    }
    control.setFaults(next);
    res.json(faults);
  });
  app.delete('/_faults', (_req, res) => {
    faults = NO_FAULTS;
    res.json(faults);
  });
  app.get('/_faults', (_req, res) => {
    res.json(faults);
  });
  app.get('/_stats', (_req, res) => {
    res.json(stats);
  });
  app.delete('/_stats', (_req, res) => {
    control.resetStats();
    res.json(stats);
  });
  mountWebhookControl(app, control.webhooks);
  options.controlPlane?.(app);

  app.use((req: Request, res: Response, next: NextFunction) => {
    // Faults limited to some methods leave the others healthy (e.g. reads answer, writes fail).
    const active: Faults =
      faults.methods === null || faults.methods.includes(req.method) ? faults : NO_FAULTS;
    if (active.down) {
      req.socket.destroy();
      return;
    }
    stats.requests++;
    const route = `${req.method} ${req.path}`;
    stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;
    const correlationId = req.headers['x-correlation-id'];
    if (typeof correlationId === 'string') {
      let seen = stats.byCorrelation[correlationId];
      if (!seen) {
        seen = stats.byCorrelation[correlationId] = [];
        // The oldest ID goes once there are too many (kept in arrival order: no key listing
        // per request, which cost the sandbox a tenth of its CPU under load).
        correlationOrder.push(correlationId);
        if (correlationOrder.length > MAX_CORRELATIONS)
          delete stats.byCorrelation[correlationOrder.shift() as string];
      }
      const traceparent = req.headers.traceparent;
      seen.push({ route, traceparent: typeof traceparent === 'string' ? traceparent : null });
    }
    res.setHeader('x-sandbox-system', options.system);
    let finished = false;
    res.on('finish', () => {
      finished = true;
    });
    res.on('close', () => {
      if (!finished) stats.aborted++;
      const waiting = closeWaiters;
      closeWaiters = [];
      for (const resolve of waiting) resolve();
    });
    const proceed = (): void => {
      if (res.destroyed || res.writableEnded) return;
      if (active.errorRate > 0 && Math.random() < active.errorRate) {
        options.onInjectedError(res);
        return;
      }
      if (active.malformed) {
        options.onMalformed(res);
        return;
      }
      next();
    };
    if (active.latencyMs > 0) {
      const timer = setTimeout(proceed, active.latencyMs);
      res.on('close', () => clearTimeout(timer));
    } else {
      proceed();
    }
  });
  return { app, control };
}

/** A running sandbox system. */
export interface RunningSystem {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly control: SystemControl;
  /** The system's outbound webhooks (register, idle, deliveries, faults). */
  readonly webhooks: Webhooks;
  /** Stops webhook deliveries and timers, then the HTTP server. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0 = ephemeral) and returns the running system. */
export async function listen(
  name: string,
  app: Express,
  control: SystemControl,
  port: number,
  host = '127.0.0.1',
): Promise<RunningSystem> {
  const server: Server = createServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    name,
    port: address.port,
    url: `http://${host}:${address.port}`,
    control,
    webhooks: control.webhooks,
    close: async () => {
      await control.webhooks.close();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

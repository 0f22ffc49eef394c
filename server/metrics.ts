/**
 * `GET /metrics` (issue #11): the instance's Prometheus metrics in the text format. Protected by
 * METRICS_KEY: with a key, a scrape must send `Authorization: Bearer <key>` and may come from
 * anywhere; without one, only loopback peers are answered. Refusals are JSON with a code, like
 * every other refusal of ours.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Instruments } from '../observability/instruments.js';

/** True for a peer on this machine (IPv4, IPv6 or IPv4-mapped loopback). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

const refuse = (res: Response, status: number, code: string, message: string): void => {
  if (status === 401) res.setHeader('www-authenticate', 'Bearer realm="metrics"');
  res.status(status).json({ error: { code, message } });
};

/** The handler of `/metrics`. */
export function metricsRoute(
  settings: { readonly key: string | null },
  instruments: Instruments,
): RequestHandler {
  const expected = settings.key === null ? null : digest(settings.key);
  return async (req: Request, res: Response) => {
    if (expected === null) {
      if (!isLoopback(req.socket.remoteAddress)) {
        return refuse(
          res,
          403,
          'FORBIDDEN',
          'metrics are served to loopback peers only; set METRICS_KEY to scrape from elsewhere',
        );
      }
    } else {
      const header = req.headers.authorization;
      const match = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header) : null;
      if (!match?.[1]) {
        return refuse(
          res,
          401,
          'UNAUTHENTICATED',
          `expected Authorization: Bearer <METRICS_KEY>, got ${header === undefined ? 'none' : 'another form'}`,
        );
      }
      // Digests of equal length: the comparison's time says nothing about the key.
      if (!timingSafeEqual(digest(match[1]), expected)) {
        return refuse(res, 403, 'FORBIDDEN', 'the metrics key is not the configured one');
      }
    }
    try {
      const text = await instruments.metrics();
      res.setHeader('content-type', instruments.registry.contentType);
      res.setHeader('cache-control', 'no-store');
      res.send(text);
    } catch (error) {
      refuse(
        res,
        500,
        'INTERNAL',
        `metrics could not be collected: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
}

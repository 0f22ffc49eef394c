/**
 * Correlation IDs: taken from the caller's `x-correlation-id` (or `x-request-id`) header when it
 * is well-formed, otherwise minted, and echoed on the response so a transaction can be followed
 * across Crossdock, its logs and the systems it calls.
 */
import { randomUUID } from 'node:crypto';

/** The header carrying the correlation ID in and out. */
export const CORRELATION_HEADER = 'x-correlation-id';

const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/** The correlation ID for a request with these headers. */
export function correlationIdFrom(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string {
  for (const name of [CORRELATION_HEADER, 'x-request-id']) {
    const value = headers[name];
    if (typeof value === 'string' && WELL_FORMED.test(value)) return value;
  }
  return randomUUID();
}

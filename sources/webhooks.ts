/**
 * What every connector's webhook receiver shares (the vendor dialects live in
 * `<system>/webhooks.ts`): constant-time comparison, header reading, the replay window, and
 * verdicts whose messages say what was expected and what arrived (STYLE.md).
 */
import { timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import type { SourceEvent, WebhookRejection, WebhookVerdict } from './contract.js';

/** A refused delivery. */
export const rejectWebhook = (
  code: WebhookRejection,
  message: string,
  deliveryId: string | null = null,
): WebhookVerdict => ({ ok: false, code, message, deliveryId });

/** An accepted delivery. */
export const acceptWebhook = (
  deliveryId: string,
  events: readonly SourceEvent[],
): WebhookVerdict => ({ ok: true, deliveryId, events });

/**
 * Compares two MACs in constant time. `timingSafeEqual` throws on different lengths, so the
 * lengths are checked first: the length of a MAC is public, its bytes are not.
 */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A header's value (names are lower-cased by the caller), trimmed; undefined when absent or empty. */
export function headerOf(
  headers: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  const value = headers[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A short, printable view of what arrived (for messages; never more than 80 characters). */
export function shown(value: string | undefined): string {
  if (value === undefined) return 'nothing';
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

/** The body as JSON, or why it is not. */
export function parseJsonBody(
  body: Buffer,
):
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly message: string } {
  const text = body.toString('utf8');
  if (text.trim() === '') return { ok: false, message: 'expected a JSON body, got an empty body' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return {
      ok: false,
      message: `expected a JSON body, got ${shown(text)} (${(error as Error).message})`,
    };
  }
}

/** `expected <what>: at <path>: <zod's message, which names expected and received>`. */
export function describeZodError(what: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `expected ${what}: at ${where}: ${issue?.message ?? 'invalid'}${more}`;
}

/**
 * Why a delivery stamped `at` (epoch ms) is outside the replay window around `receivedAt`, or
 * null when it is inside. Both directions count: a stamp far in the future is as suspect as an
 * old one (Standard Webhooks does the same). `maxAgeMs` widens the past side for vendors that
 * stamp the event's time rather than the attempt's.
 */
export function outsideWindow(
  what: string,
  raw: string,
  at: number,
  receivedAt: number,
  toleranceMs: number,
  maxAgeMs: number = toleranceMs,
): string | null {
  const skew = receivedAt - at;
  const limit = skew > 0 ? maxAgeMs : toleranceMs;
  if (Math.abs(skew) <= limit) return null;
  return (
    `expected ${what} within ${limit} ms ${skew > 0 ? 'before' : 'after'} the time of receipt (${new Date(receivedAt).toISOString()}), ` +
    `got ${shown(raw)}, ${Math.abs(skew)} ms ${skew > 0 ? 'earlier' : 'later'}`
  );
}

/**
 * Subscription cursors as clients see them (issue #10): sealed, so they reveal nothing. The bus
 * numbers a domain's events with one counter for every tenant (`order:1234`); a partner reading
 * those numbers would learn every other channel's volume. A client gets instead the bus cursor
 * encrypted (AES-256-GCM, deterministic: one event, one cursor) under a key derived from
 * API_KEY_SECRET, together with its own client id: opaque, unforgeable, and refused when another
 * client presents it. Every replica opens it
 * (they share API_KEY_SECRET).
 *
 * `"0"` stays a public cursor: every event the bus still keeps, for a client that lost its
 * cursor or never received one (it reveals nothing: what it delivers is filtered as always).
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';

/** Seals and opens subscription cursors. */
export interface CursorCodec {
  /** The cursor `client` is shown for the bus cursor `cursor`. */
  seal(client: string, cursor: string): string;
  /** The bus cursor of a sealed one, or null when it is not one sealed for `client`. */
  open(client: string, sealed: string): string | null;
}

/** The public cursor that means "every event the bus still keeps". */
export const OLDEST_CURSOR = '0';
/** Longest sealed cursor accepted (client ids are at most 128 characters). */
export const MAX_CURSOR_CHARS = 512;

/** Makes the codec of a server secret. */
export function createCursorCodec(secret: string): CursorCodec {
  const key = createHmac('sha256', secret).update('crossdock:subscription-cursor:v1').digest();
  const nonceKey = createHmac('sha256', secret).update('crossdock:subscription-nonce:v1').digest();
  return {
    seal(client, cursor) {
      // Deterministic (the nonce is a MAC of the plaintext, as in SIV): one event has one cursor
      // for a client, on every delivery and every replica; different plaintexts get different
      // nonces, so GCM never reuses one for two messages.
      const text = `${client}\n${cursor}`;
      const iv = createHmac('sha256', nonceKey).update(text).digest().subarray(0, 12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    open(client, sealed) {
      if (sealed.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]{40,}$/.test(sealed)) return null;
      try {
        const raw = Buffer.from(sealed, 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString(
          'utf8',
        );
        const cut = text.lastIndexOf('\n');
        return cut >= 0 && text.slice(0, cut) === client ? text.slice(cut + 1) : null;
      } catch {
        return null;
      }
    },
  };
}

/**
 * API-key authentication: `Authorization: Bearer <key>` on HTTP, and `connectionParams.authorization`
 * on graphql-ws, checked once when the socket connects (server/app.ts: a missing or unknown key
 * closes it with 4403). Keys are looked up by their SHA-256 so the secret never sits in a log.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Caller } from '../resolvers/context.js';
import { crossdockError } from '../resolvers/errors.js';
import type { ApiKey } from './config.js';

/** Resolves an Authorization header value to a caller. */
export interface Authenticator {
  authenticate(authorization: string | undefined): Caller;
}

const digest = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Makes the authenticator for a set of keys. */
export function createAuthenticator(keys: readonly ApiKey[]): Authenticator {
  const byDigest = new Map<string, Caller>();
  for (const key of keys) {
    const hash = digest(key.key);
    byDigest.set(hash, { id: `key:${hash.slice(0, 12)}`, role: key.role, channel: key.channel });
  }
  return {
    authenticate(authorization) {
      const unauthenticated = (message: string) =>
        crossdockError('UNAUTHENTICATED', message, { http: { status: 401 } });
      if (!authorization) {
        throw unauthenticated('Missing Authorization header: expected "Bearer <API key>"');
      }
      const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
      if (!match?.[1]) {
        // What arrived is not quoted back: it may be the key itself without its scheme.
        throw unauthenticated(
          `Malformed Authorization header: expected "Bearer <API key>", got ${authorization.length} characters that are not`,
        );
      }
      const caller = byDigest.get(digest(match[1]));
      if (!caller) throw unauthenticated('Unknown API key');
      return caller;
    },
  };
}

/**
 * The request's one Authorization header. Node keeps the first of several and drops the rest;
 * credentials that disagree are refused instead of one of them being picked (401).
 */
export function oneAuthorization(req: IncomingMessage): string | undefined {
  const all = req.headersDistinct.authorization;
  if (all && all.length > 1) {
    throw crossdockError(
      'UNAUTHENTICATED',
      `Ambiguous credentials: expected one Authorization header, got ${all.length}`,
      { http: { status: 401 } },
    );
  }
  return req.headers.authorization;
}

/**
 * Authentication (issue #10): `Authorization: Bearer <API key or JWT>` on HTTP, and
 * `connectionParams.authorization` on graphql-ws (checked when the socket connects; a socket
 * whose token expires is closed 4403 then, server/app.ts).
 *
 * - API keys are looked up by their HMAC under API_KEY_SECRET (server/identity.ts), among the
 *   configured keys and those made through the key management API (server/keys.ts): the key
 *   itself is never stored, and a caller is named by the key's public id. A revoked key is
 *   refused 401 `KEY_REVOKED`; one revoked at a later time works until then.
 * - JWTs (three base64url segments) are verified with jose when JWT_ISSUER is set: issuer,
 *   audience, signature by a key of JWT_JWKS_URL (fetched and cached by jose, rotated keys
 *   refetched) or of JWT_PUBLIC_KEYS, `exp`/`nbf` with JWT_CLOCK_SKEW_S of tolerance. Claims name
 *   the principal (JWT_CLAIM_ROLE), its channel and customer (JWT_CLAIM_CHANNEL,
 *   JWT_CLAIM_CUSTOMER), a partner's customer allow-list (JWT_CLAIM_CUSTOMERS) and scopes (`scope`); a token whose claims are missing or contradictory is
 *   refused, never treated as unscoped.
 */
import type { IncomingMessage } from 'node:http';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Caller } from '../resolvers/context.js';
import { crossdockError } from '../resolvers/errors.js';
import type { Config } from './config.js';
import { ROLES, checkScope, type Role } from './identity.js';
import { createKeys, type Keys } from './keys.js';

/** Resolves an Authorization header value to a caller. */
export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Caller>;
}

const unauthenticated = (message: string, extensions: Record<string, unknown> = {}) =>
  crossdockError('UNAUTHENTICATED', message, { ...extensions, http: { status: 401 } });

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Makes the authenticator of a configuration's keys and JWT settings. */
export function createAuthenticator(
  auth: Config['auth'],
  now: () => number = Date.now,
  keys: Keys = createKeys({
    configured: auth.apiKeys,
    secret: auth.apiKeySecret,
    cacheMs: auth.keyCacheMs,
    now,
  }),
): Authenticator {
  const jwt = auth.jwt ? jwtVerifier(auth.jwt, now) : null;

  const fromKey = async (key: string): Promise<Caller> => {
    const entry = await keys.resolve(key);
    if (!entry) throw unauthenticated('Unknown API key');
    if (entry.revokedAt !== null && entry.revokedAt <= now()) {
      throw unauthenticated(
        `API key ${entry.id} was revoked at ${new Date(entry.revokedAt).toISOString()}: use its successor`,
        { reason: 'KEY_REVOKED' },
      );
    }
    if (entry.expiresAt !== null && entry.expiresAt <= now()) {
      throw unauthenticated(
        `API key ${entry.id} expired at ${new Date(entry.expiresAt).toISOString()}: use its successor`,
        { reason: 'KEY_EXPIRED' },
      );
    }
    return {
      id: `key:${entry.id}`,
      client: entry.client,
      role: entry.role,
      channel: entry.channel,
      customer: entry.customer,
      customers: entry.customers,
      scopes: [],
      // A key revoked at a later time (rotation overlap) stops then, as if it expired.
      expiresAt:
        entry.revokedAt === null
          ? entry.expiresAt
          : Math.min(entry.expiresAt ?? Number.POSITIVE_INFINITY, entry.revokedAt),
    };
  };

  return {
    async authenticate(authorization) {
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
      const credential = match[1];
      if (jwt && JWT_SHAPE.test(credential)) return jwt(credential);
      return fromKey(credential);
    },
  };
}

/** The JWT half of the authenticator. */
function jwtVerifier(
  settings: NonNullable<Config['auth']['jwt']>,
  now: () => number,
): (token: string) => Promise<Caller> {
  const keys: JWTVerifyGetKey = settings.jwksUrl
    ? createRemoteJWKSet(new URL(settings.jwksUrl), {
        cooldownDuration: settings.jwksCooldownMs,
        timeoutDuration: 5_000,
      })
    : createLocalJWKSet(settings.publicKeys ?? { keys: [] });
  const claims = settings.claims;
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: [...settings.algorithms],
        clockTolerance: settings.clockSkewS,
        currentDate: new Date(now()),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw unauthenticated(`Invalid token: ${jwtReason(error)}`, { reason: jwtCode(error) });
    }
    const role = payload[claims.role];
    const channel = payload[claims.channel] ?? null;
    const customer = payload[claims.customer] ?? null;
    const customers = payload[claims.customers] ?? null;
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      throw unauthenticated(
        `Invalid token: expected the claim ${claims.role} to be one of ${ROLES.join(', ')}, got ${JSON.stringify(role ?? null)}`,
        { reason: 'TOKEN_CLAIMS' },
      );
    }
    if (
      (channel !== null && typeof channel !== 'string') ||
      (customer !== null && typeof customer !== 'string')
    ) {
      throw unauthenticated(
        `Invalid token: expected the claims ${claims.channel} and ${claims.customer} to be strings when present`,
        { reason: 'TOKEN_CLAIMS' },
      );
    }
    if (
      customers !== null &&
      (!Array.isArray(customers) || !customers.every((c) => typeof c === 'string'))
    ) {
      throw unauthenticated(
        `Invalid token: expected the claim ${claims.customers} to be an array of customer numbers when present`,
        { reason: 'TOKEN_CLAIMS' },
      );
    }
    const scope = {
      role: role as Role,
      channel,
      customer,
      customers: customers as string[] | null,
    };
    // A storefront session may name its customer; every other scope is checked as for keys.
    const wrong = checkScope(scope);
    if (wrong) {
      throw unauthenticated(`Invalid token: expected ${wrong}`, { reason: 'TOKEN_CLAIMS' });
    }
    const scopes =
      typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
    return {
      id: `jwt:${String(payload.iss)}:${String(payload.sub).slice(0, 128)}`,
      client: String(payload[claims.client] ?? payload.azp ?? payload.sub).slice(0, 128),
      role: scope.role,
      channel: scope.channel,
      customer: scope.customer,
      customers: scope.customers,
      scopes,
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : null,
    };
  };
}

/** What a client is told of a refused token: jose's reason, never the token. */
function jwtReason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `claim ${error.claim} ${error.reason === 'check_failed' ? 'does not match' : error.reason.replace(/_/g, ' ')}`;
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'signed by no key of the issuer';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'signature does not verify';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'signature algorithm not allowed';
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid)
    return "the issuer's keys could not be fetched";
  if (error instanceof joseErrors.JOSEError) return error.code.replace(/^ERR_/, '').toLowerCase();
  return 'not a JWT';
}

function jwtCode(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'TOKEN_EXPIRED';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return 'TOKEN_CLAIMS';
  return 'TOKEN_INVALID';
}

/**
 * The request's one Authorization header. Node keeps the first of several and drops the rest;
 * credentials that disagree are refused instead of one of them being picked (401).
 */
export function oneAuthorization(req: IncomingMessage): string | undefined {
  const all = req.headersDistinct.authorization;
  if (all && all.length > 1) {
    throw unauthenticated(
      `Ambiguous credentials: expected one Authorization header, got ${all.length}`,
    );
  }
  return req.headers.authorization;
}

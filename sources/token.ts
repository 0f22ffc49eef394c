/**
 * Bearer tokens of client-credentials flows (Entra for the ERP, Extensiv's token endpoint for
 * the WMS): one token at a time, shared by concurrent callers, renewed shortly before it
 * expires, and dropped when the system answers 401 so the next call fetches a fresh one.
 */

/**
 * A token is renewed this long before it expires (or at half its life, if that is shorter).
 * @default 60_000 // one minute
 */
export const DEFAULT_TOKEN_REFRESH_MARGIN_MS = 60_000;

/** What a token endpoint answered. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly expiresInSeconds: number;
}

/** Options of {@link createTokenCache}. */
export interface TokenCacheOptions {
  /** @default DEFAULT_TOKEN_REFRESH_MARGIN_MS */
  readonly refreshMarginMs?: number;
  /** Clock. @default Date.now */
  readonly now?: () => number;
}

/** The current bearer token of one source. */
export interface TokenCache {
  /** A valid token: the cached one, or a fresh one (one request however many callers wait). */
  get(): Promise<string>;
  /** Forgets `token` after the system rejected it (a newer token is kept). */
  invalidate(token: string): void;
}

/** Makes the token cache around the source's token request. */
export function createTokenCache(
  issue: () => Promise<IssuedToken>,
  options: TokenCacheOptions = {},
): TokenCache {
  const margin = options.refreshMarginMs ?? DEFAULT_TOKEN_REFRESH_MARGIN_MS;
  const now = options.now ?? Date.now;
  let current: { readonly value: string; readonly renewAt: number } | null = null;
  let inFlight: Promise<string> | null = null;

  const fetchToken = async (): Promise<string> => {
    const issued = await issue();
    const lifetimeMs = issued.expiresInSeconds * 1000;
    current = {
      value: issued.accessToken,
      renewAt: now() + lifetimeMs - Math.min(margin, lifetimeMs / 2),
    };
    return issued.accessToken;
  };

  return {
    get() {
      if (current && now() < current.renewAt) return Promise.resolve(current.value);
      inFlight ??= fetchToken().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    invalidate(token) {
      if (current?.value === token) current = null;
    },
  };
}

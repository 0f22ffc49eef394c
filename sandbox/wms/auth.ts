/**
 * The sandbox WMS's token server, after Extensiv's `POST /AuthServer/api/Token`: Basic client
 * credentials, the user in the JSON body (`user_login` or `user_login_id`), an opaque bearer
 * with a fixed lifetime and no refresh token.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

/** The credentials one instance accepts. */
export interface WmsCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly userLogin: string;
  readonly tplGuid: string;
}

/** The numeric id of the sandbox's one user, for clients that send `user_login_id`. */
export const WMS_SANDBOX_USER_LOGIN_ID = 1;

/** Issues and checks bearer tokens of one instance. */
export interface TokenServer {
  /** Handles `POST /AuthServer/api/Token`. */
  token(req: Request, res: Response): void;
  /** True when the request carries a live bearer token. */
  authorized(req: Request): boolean;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Makes the token server of one instance; `now` is its clock. */
export function createTokenServer(
  credentials: WmsCredentials,
  ttlSeconds: number,
  now: () => number,
): TokenServer {
  const live = new Map<string, number>();
  const sweep = (): void => {
    const t = now();
    for (const [token, expiresAt] of live) if (expiresAt <= t) live.delete(token);
  };
  return {
    token(req, res) {
      const header = req.get('authorization') ?? '';
      const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
      const decoded = basic ? Buffer.from(basic[1] as string, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      if (
        colon < 0 ||
        !sameText(decoded.slice(0, colon), credentials.clientId) ||
        !sameText(decoded.slice(colon + 1), credentials.clientSecret)
      ) {
        res.status(401).json({
          error: 'invalid_client',
          error_description:
            'expected Authorization: Basic base64(clientId:clientSecret) of a registered client',
        });
        return;
      }
      const body: Record<string, unknown> =
        req.body !== null && typeof req.body === 'object'
          ? (req.body as Record<string, unknown>)
          : {};
      if (body['grant_type'] !== 'client_credentials') {
        res.status(400).json({
          error: 'unsupported_grant_type',
          error_description: `expected grant_type "client_credentials", got ${JSON.stringify(body['grant_type'] ?? null)}`,
        });
        return;
      }
      const login = body['user_login'];
      const loginId = body['user_login_id'];
      const userOk =
        login !== undefined
          ? login === credentials.userLogin
          : Number(loginId) === WMS_SANDBOX_USER_LOGIN_ID;
      if (!userOk) {
        res.status(400).json({
          error: 'invalid_grant',
          error_description: `unknown user: expected user_login ${JSON.stringify(credentials.userLogin)} or user_login_id ${WMS_SANDBOX_USER_LOGIN_ID}`,
        });
        return;
      }
      const tpl = body['tpl'];
      if (tpl !== undefined && tpl !== credentials.tplGuid) {
        res.status(400).json({
          error: 'invalid_grant',
          error_description: `tpl ${JSON.stringify(tpl)} is not this warehouse's 3PL GUID`,
        });
        return;
      }
      if (live.size > 1_000) sweep();
      const token = randomBytes(24).toString('base64url');
      live.set(token, now() + ttlSeconds * 1000);
      res.json({
        access_token: token,
        token_type: 'Bearer',
        expires_in: ttlSeconds,
        refresh_token: null,
        scope: null,
      });
    },
    authorized(req) {
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
      if (!bearer) return false;
      const expiresAt = live.get(bearer[1] as string);
      return expiresAt !== undefined && expiresAt > now();
    },
  };
}

/**
 * Key management (issue #10): `apiKeys`, `createApiKey`, `revokeApiKey`, for admins only (the
 * policy map, resolvers/policy.ts). The registry behind them is server/keys.ts; mutations are
 * idempotent like every other, and a replay of `createApiKey` shows the same key again.
 */
import type {
  ApiKeyResolvers,
  MutationResolvers,
  Principal,
  QueryResolvers,
} from '../generated/resolvers-types.js';
import { API_KEY_ID } from '../sources/identifiers.js';
import type { UserError } from '../workflows/orders.js';
import type { KeyView, ResolverContext, Role } from './context.js';
import { badInput } from './errors.js';
import { boundedText, requiredText } from './ids.js';
import { guarded, idempotencyKey } from './mutation.js';

const toRole = (principal: Principal): Role => principal.toLowerCase() as Role;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Resolvers of ApiKey. */
export const ApiKey: ApiKeyResolvers<ResolverContext> = {
  principal: (k) => k.role.toUpperCase() as Principal,
  customers: (k) => k.customers ?? [],
  createdAt: (k) => iso(k.createdAt),
  expiresAt: (k) => iso(k.expiresAt),
  revokedAt: (k) => iso(k.revokedAt),
  active: (k) => {
    const now = Date.now();
    return (
      (k.expiresAt === null || k.expiresAt > now) && (k.revokedAt === null || k.revokedAt > now)
    );
  },
};

/** Query.apiKeys. */
export const keyQueries: Pick<QueryResolvers<ResolverContext>, 'apiKeys'> = {
  apiKeys: (_root, { client, includeRevoked }, ctx) =>
    ctx.keys.list({
      client: boundedText('client', client, 100) ?? null,
      includeRevoked: includeRevoked ?? false,
    }),
};

/** A time argument as milliseconds since the epoch. */
function instant(argument: string, value: string | null | undefined): number | null {
  if (value == null) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw badInput(argument, 'an ISO 8601 date-time', value);
  return ms;
}

const refused = (code: UserError['code'], field: string, message: string) => ({
  code,
  field: ['input', field],
  message,
});

/** The key-management mutations. */
export const keyMutations: Pick<
  MutationResolvers<ResolverContext>,
  'createApiKey' | 'revokeApiKey'
> = {
  async createApiKey(_root, { input, idempotencyKey: keyArg }, ctx) {
    const key = idempotencyKey(ctx, keyArg);
    const spec = {
      id: requiredText('input.id', input.id, 64),
      client: requiredText('input.client', input.client, 100),
      role: toRole(input.principal),
      channel: input.channel ?? null,
      customer: boundedText('input.customer', input.customer, 20) ?? null,
      customers: input.customers ? [...input.customers] : null,
      expiresAt: instant('input.expiresAt', input.expiresAt),
    };
    if (!API_KEY_ID.test(spec.id)) {
      throw badInput('input.id', 'a key id of letters, digits, . _ - (1 to 64)', spec.id);
    }
    const { outcome } = await guarded(ctx, key, async () => {
      const result = await ctx.workflows.guard.run(
        { scope: ctx.caller.id, key, operation: 'createApiKey', input: spec },
        async () => {
          const made = await ctx.keys.create(spec, ctx.caller.id);
          if ('error' in made) {
            const field = made.error.code === 'API_KEY_ID_TAKEN' ? 'id' : 'principal';
            return {
              id: null,
              sealed: null,
              userErrors: [refused(made.error.code, field, made.error.message)],
            };
          }
          return { id: made.key.id, sealed: ctx.keys.seal(made.secret), userErrors: [] };
        },
      );
      return { outcome: result.result, replayed: result.replayed };
    });
    const apiKey = outcome.id
      ? ((await ctx.keys.list({ client: null, includeRevoked: true })).find(
          (k) => k.id === outcome.id,
        ) ?? null)
      : null;
    return {
      apiKey,
      key: outcome.sealed ? ctx.keys.unseal(outcome.sealed) : null,
      userErrors: outcome.userErrors,
    };
  },

  async revokeApiKey(_root, { input, idempotencyKey: keyArg }, ctx) {
    const key = idempotencyKey(ctx, keyArg);
    const id = requiredText('input.id', input.id, 64);
    const at = instant('input.at', input.at);
    const { outcome } = await guarded(ctx, key, async () => {
      const result = await ctx.workflows.guard.run(
        { scope: ctx.caller.id, key, operation: 'revokeApiKey', input: { id, at } },
        async () => {
          const revoked: KeyView | null = await ctx.keys.revoke(
            id,
            at ?? Date.now(),
            ctx.caller.id,
          );
          return revoked
            ? { id, userErrors: [] }
            : {
                id: null,
                userErrors: [refused('API_KEY_NOT_FOUND', 'id', `No API key with id ${id}`)],
              };
        },
      );
      return { outcome: result.result, replayed: result.replayed };
    });
    const apiKey = outcome.id
      ? ((await ctx.keys.list({ client: null, includeRevoked: true })).find(
          (k) => k.id === outcome.id,
        ) ?? null)
      : null;
    return { apiKey, userErrors: outcome.userErrors };
  },
};

/**
 * The access policy (issue #10), declared here once and enforced by one execution hook,
 * {@link applyPolicy}, which wraps the resolvers of the fields it names, on HTTP and graphql-ws
 * alike, root or nested, in queries, mutations and every subscription event's selection:
 *
 * - {@link FIELD_POLICY}: the principals that may use a field at all. A root field refuses the
 *   others with FORBIDDEN; a nested one is hidden from them (null, or an empty list).
 * - `@sensitive(kind)` in the SDL marks data of a kind once, wherever its type appears;
 *   {@link SENSITIVE_READERS} says which principals see each kind. Hidden fields answer null.
 *
 * Which records a principal sees (its channel's orders, its own customer account) is the row
 * scope of access.ts, applied where records are loaded and listed and on every subscription event
 * before delivery; what it may not see is NOT_FOUND, as an unknown record is.
 */
import { MapperKind, getDirective, mapSchema } from '@graphql-tools/utils';
import {
  defaultFieldResolver,
  getNullableType,
  isListType,
  isNonNullType,
  type GraphQLFieldConfig,
  type GraphQLSchema,
} from 'graphql';
import { ROLES, type ResolverContext, type Role } from './context.js';
import { forbidden } from './errors.js';

/** Kinds of sensitive data (the SDL's SensitiveKind). */
export type SensitiveKind = 'CREDIT' | 'CONTACT' | 'TERMS' | 'INTERNAL';

/** Who sees each kind of sensitive data. */
export const SENSITIVE_READERS: Readonly<Record<SensitiveKind, readonly Role[]>> = {
  CREDIT: ['admin', 'operations', 'service', 'portal'],
  TERMS: ['admin', 'operations', 'service', 'portal'],
  CONTACT: ['admin', 'operations', 'service', 'portal', 'storefront'],
  INTERNAL: ['admin', 'operations'],
};

/** Roles that operate Crossdock: dead letters, replay, source health, business views, exception queues. */
export const OPERATORS: readonly Role[] = ['admin', 'operations'];

/** Roles that may read customers and invoices at all (rows: access.ts's customer scope). */
export const CUSTOMER_READERS: readonly Role[] = [
  'admin',
  'operations',
  'service',
  'portal',
  'storefront',
];

/** Field coordinate → the principals that may use it. Fields not named are open to every principal. */
export const FIELD_POLICY: Readonly<Record<string, readonly Role[]>> = {
  'Query.sourceHealth': OPERATORS,
  'Query.deadLetters': OPERATORS,
  'Query.trace': OPERATORS,
  'Mutation.replayDeadLetter': OPERATORS,
  // Business views and exception queues (issue #11, item 7).
  'Query.stepLatency': OPERATORS,
  'Query.slaBreaches': OPERATORS,
  'Query.exceptions': OPERATORS,
  'Mutation.assignException': OPERATORS,
  'Mutation.commentOnException': OPERATORS,
  'Mutation.resolveException': OPERATORS,
  // Key management: administrators only.
  'Query.apiKeys': ['admin'],
  'Mutation.createApiKey': ['admin'],
  'Mutation.revokeApiKey': ['admin'],
  'Query.customer': CUSTOMER_READERS,
  'Query.customers': CUSTOMER_READERS,
  'Query.invoice': CUSTOMER_READERS,
  'Subscription.customerCreditChanged': CUSTOMER_READERS,
  // Nested ways to the same data: hidden from the principals that may not read it at the root.
  'Order.invoices': CUSTOMER_READERS,
  'Invoice.customer': CUSTOMER_READERS,
  'Product.customerPrice': CUSTOMER_READERS,
};

const ROOTS = new Set(['Query', 'Mutation', 'Subscription']);

/** Whether a role may use the field `coordinate` (for resolvers that branch on types, e.g. node). */
export function mayUse(role: Role, coordinate: string): boolean {
  return FIELD_POLICY[coordinate]?.includes(role) ?? true;
}

/**
 * Wraps the resolvers of every field the policy names. Refuses to build a schema in which a
 * field the policy may hide could not be hidden (a non-null nested field).
 */
export function applyPolicy(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (config, fieldName, typeName) => {
      const coordinate = `${typeName}.${fieldName}`;
      const roles = FIELD_POLICY[coordinate];
      const kind = getDirective(schema, config, 'sensitive')?.[0]?.kind as
        SensitiveKind | undefined;
      if (!roles && !kind) return config;
      const readers = (roles ?? ROLES).filter(
        (role) => !kind || SENSITIVE_READERS[kind].includes(role),
      );
      const root = ROOTS.has(typeName);
      const list = isListType(getNullableType(config.type));
      if (!root && isNonNullType(config.type) && !list) {
        throw new Error(
          `policy: ${coordinate} may be hidden from some principals, so it must be nullable or a list`,
        );
      }
      return wrap(config, coordinate, new Set(readers), root, list);
    },
  });
}

function wrap(
  config: GraphQLFieldConfig<unknown, ResolverContext>,
  coordinate: string,
  readers: ReadonlySet<Role>,
  root: boolean,
  list: boolean,
): GraphQLFieldConfig<unknown, ResolverContext> {
  const resolve = config.resolve ?? defaultFieldResolver;
  const { subscribe } = config;
  const refused = (ctx: ResolverContext) => !readers.has(ctx.caller.role);
  return {
    ...config,
    resolve(source, args, ctx, info) {
      if (refused(ctx)) {
        if (root) throw forbidden(coordinate, ctx.caller.role);
        return list ? [] : null;
      }
      return resolve(source, args, ctx, info);
    },
    ...(subscribe
      ? {
          subscribe(source, args, ctx, info) {
            if (refused(ctx)) throw forbidden(coordinate, ctx.caller.role);
            return subscribe(source, args, ctx, info);
          },
        }
      : {}),
  };
}

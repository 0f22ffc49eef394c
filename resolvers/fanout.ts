/**
 * Reading from every warehouse system at once: the answers of the systems that replied, and
 * one error per system that did not. Resolvers put those errors into list slots, so the client
 * gets every position that is known plus an `errors[]` entry naming each missing system.
 */
import type { GraphQLError } from 'graphql';
import type { ResolverContext } from './context.js';
import { toGraphQLError } from './errors.js';
import type { WarehouseSystemLoaders } from './loaders.js';

/** What every warehouse system answered. */
export interface FanOut<T> {
  readonly items: T[];
  readonly errors: (GraphQLError | Error)[];
}

/** Asks every warehouse system; never rejects for a source failure. */
export async function fromEveryWarehouseSystem<T>(
  ctx: ResolverContext,
  ask: (system: WarehouseSystemLoaders) => Promise<readonly T[]>,
): Promise<FanOut<T>> {
  const settled = await Promise.allSettled(ctx.loaders.warehouseSystems.map(ask));
  const items: T[] = [];
  const errors: (GraphQLError | Error)[] = [];
  for (const result of settled) {
    if (result.status === 'fulfilled') items.push(...result.value);
    else errors.push(toGraphQLError(result.reason));
  }
  return { items, errors };
}

/**
 * A list whose failed systems are error slots: graphql-js completes an `Error` list item as
 * null in `data` plus an entry in `errors[]` with the item's path (graphql-js completeValue).
 * The cast tells the generated resolver types, which do not model that, what is going on.
 */
export function withErrorSlots<T>(fan: FanOut<T>, extra: readonly Error[] = []): T[] {
  return [...fan.items, ...fan.errors, ...extra] as T[];
}

/**
 * The executable schema: every SDL file of schema/ merged, with the resolver map.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeTypeDefs } from '@graphql-tools/merge';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { resolvers } from '../resolvers/index.js';
import { applyPolicy } from '../resolvers/policy.js';
import { PROJECT_ROOT } from './paths.js';

/** The folder of the SDL files (with a trailing separator). */
export const SCHEMA_DIR = join(PROJECT_ROOT, 'schema', '/');

/** Reads every `*.graphql` file of schema/, in name order. */
export function readTypeDefs(dir = SCHEMA_DIR): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => readFileSync(new URL(file, `file://${dir}`), 'utf8'));
}

/** Builds the executable schema. */
export function buildSchema(): GraphQLSchema {
  // The access policy wraps the resolvers of the fields it names (resolvers/policy.ts).
  return applyPolicy(
    makeExecutableSchema({
      typeDefs: mergeTypeDefs(readTypeDefs()),
      resolvers: resolvers as never,
      resolverValidationOptions: { requireResolversToMatchSchema: 'error' },
    }),
  );
}

/**
 * Schema governance (issue #10): the public contract is snapshotted in schema/snapshot/schema.graphql
 * (`npm run schema:snapshot`); the test run compares the schema with it (test/schema-governance
 * .test.ts) and fails on any change not recorded there, naming the breaking ones, so a breaking
 * change lands only with a deliberate snapshot update. Policy: schema/README.md#versioning.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildSchema as buildSdl,
  findBreakingChanges,
  findDangerousChanges,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  printSchema,
  type GraphQLSchema,
} from 'graphql';
import { PROJECT_ROOT } from './paths.js';

/** Where the snapshot lives. */
export const SNAPSHOT_FILE = join(PROJECT_ROOT, 'schema', 'snapshot', 'schema.graphql');

/** The contract as the snapshot records it: graphql-js's printed schema. */
export function contractOf(schema: GraphQLSchema): string {
  return `${printSchema(schema)}\n`;
}

/** How a schema differs from a snapshot. */
export interface ContractDiff {
  /** The snapshot and the schema print alike. */
  readonly same: boolean;
  /** Changes that break existing clients (graphql-js findBreakingChanges). */
  readonly breaking: readonly string[];
  /** Changes that may change what existing clients get (findDangerousChanges). */
  readonly dangerous: readonly string[];
}

/** Compares `schema` with the snapshot's SDL. */
export function diffContract(snapshotSdl: string, schema: GraphQLSchema): ContractDiff {
  const before = buildSdl(snapshotSdl);
  return {
    same: contractOf(schema) === snapshotSdl,
    breaking: findBreakingChanges(before, schema).map((c) => `${c.type}: ${c.description}`),
    dangerous: findDangerousChanges(before, schema).map((c) => `${c.type}: ${c.description}`),
  };
}

/** The snapshot on disk. */
export function readSnapshot(file = SNAPSHOT_FILE): string {
  return readFileSync(file, 'utf8');
}

/** The reason graphql-js gives a bare @deprecated: not a reason. */
const DEFAULT_REASON = 'No longer supported';

/** Coordinates deprecated without a reason of their own (every deprecation needs one). */
export function deprecationsWithoutReason(schema: GraphQLSchema): string[] {
  const bad: string[] = [];
  const check = (coordinate: string, reason: string | null | undefined) => {
    if (
      reason !== undefined &&
      reason !== null &&
      (reason.trim() === '' || reason === DEFAULT_REASON)
    )
      bad.push(coordinate);
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        check(`${type.name}.${field.name}`, field.deprecationReason);
        for (const arg of field.args)
          check(`${type.name}.${field.name}(${arg.name})`, arg.deprecationReason);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields()))
        check(`${type.name}.${field.name}`, field.deprecationReason);
    } else if (isEnumType(type)) {
      for (const value of type.getValues())
        check(`${type.name}.${value.name}`, value.deprecationReason);
    }
  }
  return bad;
}

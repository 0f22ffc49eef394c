/**
 * `npm run schema:snapshot`: records the current schema as the contract (schema/snapshot/schema.graphql)
 * and prints what changed since the last snapshot, breaking changes first. Run it deliberately:
 * the test run fails until the snapshot matches the schema (server/governance.ts).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { SNAPSHOT_FILE, contractOf, diffContract, readSnapshot } from '../server/governance.js';
import { buildSchema } from '../server/schema.js';

const schema = buildSchema();
if (existsSync(SNAPSHOT_FILE)) {
  const diff = diffContract(readSnapshot(), schema);
  for (const change of diff.breaking) process.stdout.write(`BREAKING  ${change}\n`);
  for (const change of diff.dangerous) process.stdout.write(`dangerous ${change}\n`);
  if (diff.same) process.stdout.write('schema/snapshot/schema.graphql is up to date\n');
}
writeFileSync(SNAPSHOT_FILE, contractOf(schema));
process.stdout.write(`wrote ${SNAPSHOT_FILE}\n`);

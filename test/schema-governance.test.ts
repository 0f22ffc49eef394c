/**
 * Schema governance (issue #10, server/governance.ts): the schema matches its snapshot
 * (schema/snapshot/schema.graphql), so any change, and above all a breaking one, lands only with a
 * deliberate `npm run schema:snapshot`; every deprecation gives a reason. The checker is also shown
 * to catch a removed field, and to pass once the snapshot records the removal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema as buildSdl } from 'graphql';
import {
  contractOf,
  deprecationsWithoutReason,
  diffContract,
  readSnapshot,
} from '../server/governance.js';
import { buildSchema } from '../server/schema.js';

const schema = buildSchema();

describe('schema governance', () => {
  it('the schema is the snapshot: no change, breaking or not, unrecorded', () => {
    const diff = diffContract(readSnapshot(), schema);
    assert.deepEqual(diff.breaking, [], 'breaking changes: update the snapshot deliberately');
    assert.ok(
      diff.same,
      `the schema differs from schema/snapshot/schema.graphql (dangerous: ${JSON.stringify(diff.dangerous)}); run npm run schema:snapshot`,
    );
  });

  it('fails on a removed field, and passes once the snapshot records the removal', () => {
    const snapshot = contractOf(schema);
    // The schema without Product.listPrice, as a change would leave it.
    const without = buildSdl(snapshot.replace(/\n\n {2}"""[^"]*"""\n {2}listPrice: Money\n/, '\n'));
    assert.notEqual(contractOf(without), snapshot, 'the field was removed');
    const diff = diffContract(snapshot, without);
    assert.equal(diff.same, false);
    assert.deepEqual(diff.breaking, ['FIELD_REMOVED: Product.listPrice was removed.']);
    const recorded = diffContract(contractOf(without), without);
    assert.deepEqual([recorded.same, recorded.breaking], [true, []]);
  });

  it('every deprecation gives a reason of its own', () => {
    assert.deepEqual(deprecationsWithoutReason(schema), []);
    const bare = buildSdl('type Query { a: Int @deprecated b: Int @deprecated(reason: "use a") }');
    assert.deepEqual(deprecationsWithoutReason(bare), ['Query.a']);
  });
});

/**
 * Every error class of Crossdock (and of the sandbox) carries what it wraps as `cause`, the
 * standard chain (ES2022 `new Error(message, { cause })`) that pino's serializer and
 * `util.inspect` print; the message stays exactly what it was without one (issue 11, item 8).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ODataError } from '../sandbox/erp/errors.js';
import { SearchSyntaxError } from '../sandbox/commerce/search.js';
import { RqlError } from '../sandbox/wms/rql.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { SourceError } from '../sources/contract.js';
import { StoreConflictError } from '../store/contract.js';
import { CursorExpiredError } from '../subscriptions/bus.js';
import { SlowConsumerError, StreamInterruptedError } from '../subscriptions/fanout.js';
import { IdempotencyError } from '../workflows/idempotency.js';

const inner = new Error('the underlying failure');

/** Each class made with and without a cause: [name, with cause, without]. */
const CASES: readonly [string, Error, Error][] = [
  [
    'ConfigError',
    new ConfigError('PORT', 'a port', 'x', { cause: inner }),
    new ConfigError('PORT', 'a port', 'x'),
  ],
  [
    'SourceError',
    new SourceError('SOURCE_UNAVAILABLE', 'erp: down', {
      source: 'erp',
      breaker: 'CLOSED',
      reason: 'http_503',
      cause: inner,
    }),
    new SourceError('SOURCE_UNAVAILABLE', 'erp: down', {
      source: 'erp',
      breaker: 'CLOSED',
      reason: 'http_503',
    }),
  ],
  [
    'StoreConflictError',
    new StoreConflictError('order o-1 already exists', { cause: inner }),
    new StoreConflictError('order o-1 already exists'),
  ],
  [
    'IdempotencyError',
    new IdempotencyError('IDEMPOTENCY_KEY_REUSED', 'reused', { cause: inner }),
    new IdempotencyError('IDEMPOTENCY_KEY_REUSED', 'reused'),
  ],
  [
    'CursorExpiredError',
    new CursorExpiredError('order:1', 5, { cause: inner }),
    new CursorExpiredError('order:1', 5),
  ],
  ['SlowConsumerError', new SlowConsumerError(10, { cause: inner }), new SlowConsumerError(10)],
  [
    'StreamInterruptedError',
    new StreamInterruptedError('order', inner),
    new StreamInterruptedError('order', new Error('the underlying failure')),
  ],
  [
    'ODataError',
    new ODataError(400, 'BadRequest_NotFound', 'missing', { cause: inner }),
    new ODataError(400, 'BadRequest_NotFound', 'missing'),
  ],
  [
    'SearchSyntaxError',
    new SearchSyntaxError(3, 'a term', 'end of query', { cause: inner }),
    new SearchSyntaxError(3, 'a term', 'end of query'),
  ],
  ['RqlError', new RqlError('expected ==', { cause: inner }), new RqlError('expected ==')],
];

describe('error causes', () => {
  for (const [name, withCause, without] of CASES) {
    it(`${name} keeps its cause and its message`, () => {
      assert.equal(withCause.name, name);
      assert.equal(withCause.cause, inner);
      assert.equal(withCause.message, without.message);
    });
  }

  it('chains the failure behind a configuration error', () => {
    assert.throws(
      () => loadConfig({ ERP_URL: 'ftp://erp.example' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(
          error.message,
          'Invalid configuration: ERP_URL: expected an http(s) URL, got "ftp://erp.example"',
        );
        assert.ok(error.cause instanceof Error);
        return true;
      },
    );
  });
});

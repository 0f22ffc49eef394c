/**
 * The one catalogue of error codes clients see in `errors[].extensions.code` (DESIGN.md), and
 * the helpers that raise them. Documented for clients in schema/README.md.
 */
import { GraphQLError } from 'graphql';
import { isSourceError, type SourceError } from '../sources/contract.js';

/** Every code a client can see. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'SOURCE_UNAVAILABLE'
  | 'SOURCE_TIMEOUT'
  | 'SOURCE_BAD_RESPONSE'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'RATE_LIMITED'
  | 'QUERY_TOO_COMPLEX'
  | 'SLOW_CONSUMER'
  | 'STREAM_INTERRUPTED'
  | 'INTERNAL_SERVER_ERROR';

/** A GraphQL error with a catalogue code and extra extensions. */
export function crossdockError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/** `BAD_USER_INPUT` for one argument: says what was expected and what arrived. */
export function badInput(argument: string, expected: string, received: unknown): GraphQLError {
  const shown = shownValue(received);
  return crossdockError('BAD_USER_INPUT', `${argument}: expected ${expected}, got ${shown}`, {
    argument,
    expected,
    received: shown,
  });
}

/** Characters of a refused value quoted back to the caller (and into logs). */
export const MAX_ECHOED_CHARS = 64;

/**
 * A refused value as an error quotes it: JSON, cut to {@link MAX_ECHOED_CHARS} characters with
 * its full length named, so a hostile megabyte is never echoed back or logged whole.
 */
export function shownValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= MAX_ECHOED_CHARS
    ? text
    : `${text.slice(0, MAX_ECHOED_CHARS)}… (${text.length} characters)`;
}

/** `NOT_FOUND` for a key of a type. */
export function notFound(type: string, key: string): GraphQLError {
  return crossdockError('NOT_FOUND', `No ${type} with ${JSON.stringify(key)}`, { type, key });
}

/** `FORBIDDEN` for an operation the caller's role may not perform. */
export function forbidden(what: string, role: string): GraphQLError {
  return crossdockError('FORBIDDEN', `${what} is not allowed for role ${role}`, { role });
}

/** The public code of a source failure: SOURCE_TIMEOUT, SOURCE_BAD_RESPONSE or SOURCE_UNAVAILABLE. */
export function sourceErrorCode(error: SourceError): ErrorCode {
  switch (error.code) {
    case 'SOURCE_TIMEOUT':
      return 'SOURCE_TIMEOUT';
    case 'SOURCE_BAD_RESPONSE':
      return 'SOURCE_BAD_RESPONSE';
    case 'SOURCE_UNAVAILABLE':
    case 'SOURCE_REJECTED':
      return 'SOURCE_UNAVAILABLE';
    default: {
      const unreachable: never = error.code;
      throw new Error(`unhandled source error code ${String(unreachable)}`);
    }
  }
}

/** A source failure as a GraphQL error naming the source, the reason and the breaker state. */
export function sourceError(error: SourceError): GraphQLError {
  return crossdockError(sourceErrorCode(error), error.message, {
    source: error.source,
    reason: error.reason,
    breaker: error.breaker,
  });
}

/** Passes GraphQL errors through and turns source failures into graph errors; rethrows the rest. */
export function toGraphQLError(error: unknown): GraphQLError | Error {
  if (error instanceof GraphQLError) return error;
  if (isSourceError(error)) return sourceError(error);
  return error instanceof Error ? error : new Error(String(error));
}

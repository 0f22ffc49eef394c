/**
 * The two custom scalars. Both travel as strings; both reject input that is not in form.
 */
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

function invalid(scalar: string, expected: string, received: unknown): GraphQLError {
  return new GraphQLError(`${scalar}: expected ${expected}, got ${JSON.stringify(received)}`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

function parseDateTime(value: unknown): string {
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    throw invalid('DateTime', 'an ISO 8601 date-time with offset', value);
  }
  return new Date(value).toISOString();
}

function parseDecimal(value: unknown): string {
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw invalid('Decimal', 'a decimal string such as "19.99"', value);
  }
  return value;
}

/** ISO 8601 date-time with offset; output normalised to UTC with milliseconds. */
export const DateTime = new GraphQLScalarType<string, string>({
  name: 'DateTime',
  description: 'ISO 8601 date-time with offset.',
  serialize(value) {
    const time =
      typeof value === 'string' ? Date.parse(value) : value instanceof Date ? value.getTime() : NaN;
    if (Number.isNaN(time))
      throw new TypeError(`DateTime cannot represent ${JSON.stringify(value)}`);
    return new Date(time).toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw invalid('DateTime', 'a string', ast.kind);
    return parseDateTime(ast.value);
  },
});

/** A decimal number as a string (`"19.99"`), never a float. */
export const Decimal = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  description: 'Decimal number as a string.',
  serialize(value) {
    if (typeof value === 'string' && DECIMAL.test(value)) return value;
    throw new TypeError(`Decimal cannot represent ${JSON.stringify(value)}`);
  },
  parseValue: parseDecimal,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING)
      throw invalid('Decimal', 'a decimal string such as "19.99"', ast.kind);
    return parseDecimal(ast.value);
  },
});

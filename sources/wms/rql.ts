/**
 * Builds Extensiv RQL (`rql=`) filters. RQL is FIQL: `;` is AND, `,` is OR, comparisons are
 * `path==v`, `path=in=(a,b)`. A value that holds a reserved character (`" ' ( ) ; , = ! ~ < >`),
 * whitespace, the `*` wildcard or a backslash is written in double quotes, inside which a
 * backslash escapes `"` and `\` (the RSQL convention). Everything else goes bare, so the
 * common SKU `SKU-000001` stays readable in logs.
 */

/** A value RQL may compare against. */
export type RqlLiteral = string | number | boolean;

const BARE = /^[^\s"'();,=!~<>*\\]+$/;

/** One value, quoted and escaped when it must be. */
export function rqlValue(value: RqlLiteral): string {
  if (typeof value !== 'string') return String(value);
  return BARE.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** `path==value`. */
export function rqlEq(path: string, value: RqlLiteral): string {
  return `${path}==${rqlValue(value)}`;
}

/** `path=in=(a,b,...)`; throws on an empty list, which RQL cannot express. */
export function rqlIn(path: string, values: readonly RqlLiteral[]): string {
  if (values.length === 0)
    throw new RangeError(`rqlIn(${path}): expected at least one value, got none`);
  return `${path}=in=(${values.map(rqlValue).join(',')})`;
}

/** `path=ge=value`. */
export function rqlGe(path: string, value: RqlLiteral): string {
  return `${path}=ge=${rqlValue(value)}`;
}

/** Conjunction of terms. Each term must be a comparison or a parenthesised group. */
export function rqlAnd(...terms: readonly string[]): string {
  return terms.join(';');
}

/**
 * Building OData v4 query options for Business Central: literals with quotes doubled,
 * comparisons, `in (...)`, `contains`, `and`, and the system query options of one request.
 * Pure functions; nothing here does I/O.
 */

/** A value a comparison can hold. */
export type ODataValue = string | number | boolean;

/**
 * A literal as OData writes it: strings in single quotes with inner quotes doubled (OData
 * ABNF `SQUOTE-in-string`), numbers and booleans bare.
 */
export function literal(value: ODataValue): string {
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new RangeError(`OData literal: expected a finite number, got ${value}`);
  }
  return String(value);
}

/** `field eq value`. */
export function eq(field: string, value: ODataValue): string {
  return `${field} eq ${literal(value)}`;
}

/** `field gt value` (keyset paging). */
export function gt(field: string, value: ODataValue): string {
  return `${field} gt ${literal(value)}`;
}

/** `field in ('a','b')`; one value becomes `eq`, which every OData server understands. */
export function inList(field: string, values: readonly ODataValue[]): string {
  if (values.length === 0)
    throw new RangeError(`OData in: expected at least one value for ${field}, got none`);
  const [only] = values;
  if (values.length === 1 && only !== undefined) return eq(field, only);
  return `${field} in (${values.map(literal).join(',')})`;
}

/** `contains(field,'text')`. */
export function contains(field: string, text: string): string {
  return `contains(${field},${literal(text)})`;
}

/** Joins the defined clauses with `and`; `undefined` when there are none. */
export function and(...clauses: readonly (string | undefined)[]): string | undefined {
  const present = clauses.filter(
    (clause): clause is string => clause !== undefined && clause !== '',
  );
  if (present.length === 0) return undefined;
  return present
    .map((clause) => (present.length > 1 && / or /.test(clause) ? `(${clause})` : clause))
    .join(' and ');
}

/** The system query options of one request. */
export interface ODataQuery {
  readonly filter?: string | undefined;
  readonly select?: readonly string[] | undefined;
  readonly expand?: readonly string[] | undefined;
  /** `field asc|desc`. */
  readonly orderby?: string | undefined;
  readonly top?: number | undefined;
}

/** The query string parameters of `query` (undefined ones are left out by the upstream). */
export function queryParams(query: ODataQuery): Record<string, string | undefined> {
  return {
    $filter: query.filter,
    $select: query.select && query.select.length > 0 ? query.select.join(',') : undefined,
    $expand: query.expand && query.expand.length > 0 ? query.expand.join(',') : undefined,
    $orderby: query.orderby,
    $top: query.top === undefined ? undefined : String(query.top),
  };
}

/** The `Prefer` header value asking for pages of at most `size` entities. */
export function preferMaxPageSize(size: number): string {
  return `odata.maxpagesize=${size}`;
}

/** Splits `items` into runs of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

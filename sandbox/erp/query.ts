/**
 * OData system query options of the sandbox ERP: parsing `$filter $select $expand $orderby $top
 * $skip $skiptoken` against an entity set, running them lazily (so a page of 100k items costs
 * a page, not a sort of everything), and shaping rows as BC serialises them.
 */
import { ODataError } from './errors.js';
import {
  bindFilter,
  compileFilter,
  parseFilter,
  unknownProperty,
  type FilterNode,
  type Row,
} from './filter.js';
import type { Entity, EntitySet, Navigation } from './table.js';

/** One `$orderby` term. */
export interface OrderTerm {
  readonly field: string;
  readonly descending: boolean;
}

/** Parsed and checked query options. */
export interface QueryOptions {
  readonly filter: FilterNode | undefined;
  readonly select: readonly string[] | undefined;
  readonly expand: readonly string[];
  readonly orderby: readonly OrderTerm[];
  readonly top: number | undefined;
  readonly skip: number;
  /** Position in the result of the query (after `$skip`) where this page starts. */
  readonly offset: number;
}

const SUPPORTED_OPTIONS: ReadonlySet<string> = new Set([
  '$filter',
  '$select',
  '$expand',
  '$orderby',
  '$top',
  '$skip',
  '$skiptoken',
  // Accepted and ignored: the sandbox speaks one schema version and JSON only.
  '$schemaversion',
  '$format',
]);

function nonNegativeInteger(name: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) {
    throw new ODataError(
      400,
      'BadRequest_InvalidToken',
      `Invalid value '${value}' for ${name} query option found. The ${name} query option requires a non-negative integer value.`,
    );
  }
  return Number(value);
}

/** Encodes a page position as an opaque `$skiptoken`. */
export function encodeSkipToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

function decodeSkipToken(token: string): number {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const offset = (parsed as { o?: unknown } | null)?.o;
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // Falls through to the error below: a token we did not issue.
  }
  throw new ODataError(400, 'BadRequest_InvalidToken', `The skip token '${token}' is not valid.`);
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);

/** Parses the query options of a request on `set`. */
export function parseQueryOptions(
  params: URLSearchParams,
  set: Pick<EntitySet, 'shape' | 'navigations'>,
): QueryOptions {
  for (const name of params.keys()) {
    if (name.startsWith('$') && !SUPPORTED_OPTIONS.has(name)) {
      throw new ODataError(
        400,
        'BadRequest_NotSupported',
        `The query option '${name}' is not supported.`,
      );
    }
  }
  const filterText = params.get('$filter');
  let filter: FilterNode | undefined;
  if (filterText !== null && filterText.trim() !== '') {
    filter = parseFilter(filterText);
    bindFilter(filter, set.shape);
  }
  const selectText = params.get('$select');
  let select: string[] | undefined;
  if (selectText !== null) {
    select = list(selectText);
    for (const field of select) {
      if (set.shape.fields[field] === undefined) throw unknownProperty(field, set.shape);
    }
  }
  const expand = list(params.get('$expand') ?? '');
  for (const name of expand) {
    if (name.includes('(')) {
      throw new ODataError(
        400,
        'BadRequest_NotSupported',
        `Query options inside $expand are not supported: '${name}'.`,
      );
    }
    if (set.navigations[name] === undefined) throw unknownProperty(name, set.shape);
  }
  const orderby = list(params.get('$orderby') ?? '').map((term): OrderTerm => {
    const [field = '', direction = 'asc', ...rest] = term.split(/\s+/);
    if (set.shape.fields[field] === undefined) throw unknownProperty(field, set.shape);
    if ((direction !== 'asc' && direction !== 'desc') || rest.length > 0) {
      throw new ODataError(
        400,
        'BadRequest_InvalidToken',
        `Syntax error in $orderby '${term}': expected '<field> asc' or '<field> desc'.`,
      );
    }
    return { field, descending: direction === 'desc' };
  });
  const topText = params.get('$top');
  const skipText = params.get('$skip');
  const tokenText = params.get('$skiptoken');
  return {
    filter,
    select,
    expand,
    orderby,
    top: topText === null ? undefined : nonNegativeInteger('$top', topText),
    skip: skipText === null ? 0 : nonNegativeInteger('$skip', skipText),
    offset: tokenText === null ? 0 : decodeSkipToken(tokenText),
  };
}

function compareField(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return (a as string | number) < (b as string | number) ? -1 : 1;
}

function isNaturalOrder(orderby: readonly OrderTerm[], natural: readonly string[]): boolean {
  return orderby.every((term, i) => !term.descending && natural[i] === term.field);
}

/** One page of a query's result. */
export interface QueryPage {
  readonly entities: readonly Entity[];
  /** More rows follow this page within `$top`. */
  readonly more: boolean;
}

/** Runs the query and cuts the page of at most `pageSize` rows starting at `options.offset`. */
export function runQuery(set: EntitySet, options: QueryOptions, pageSize: number): QueryPage {
  const predicate = options.filter ? compileFilter(options.filter, set.shape) : undefined;
  let rows: Iterable<Entity> = set.candidates(options.filter);
  if (options.orderby.length > 0 && !isNaturalOrder(options.orderby, set.naturalOrder)) {
    // Only a foreign order needs the whole result in memory; the natural one streams.
    const all = [...matching(rows, predicate)];
    all.sort((x, y) => {
      for (const term of options.orderby) {
        const cmp = compareField(x.row[term.field], y.row[term.field]);
        if (cmp !== 0) return term.descending ? -cmp : cmp;
      }
      return 0;
    });
    rows = all;
  } else {
    rows = matching(rows, predicate);
  }
  const start = options.skip + options.offset;
  const withinTop =
    options.top === undefined
      ? Number.POSITIVE_INFINITY
      : Math.max(0, options.top - options.offset);
  const take = Math.min(pageSize, withinTop);
  const entities: Entity[] = [];
  let index = 0;
  for (const entity of rows) {
    if (index++ < start) continue;
    if (entities.length < take) {
      entities.push(entity);
      continue;
    }
    return { entities, more: withinTop > take };
  }
  return { entities, more: false };
}

function* matching(
  rows: Iterable<Entity>,
  predicate: ((row: Row) => boolean) | undefined,
): Iterable<Entity> {
  for (const entity of rows) {
    if (!predicate || predicate(entity.row)) yield entity;
  }
}

/** An entity as BC serialises it: `@odata.etag` first, the selected fields, expansions. */
export function shapeEntity(
  entity: Entity,
  select: readonly string[] | undefined,
  expand: readonly string[],
  navigations: Readonly<Record<string, Navigation>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { '@odata.etag': entity.etag };
  if (select) {
    for (const field of select) out[field] = entity.row[field];
  } else {
    Object.assign(out, entity.row);
  }
  for (const name of expand) {
    const navigation = navigations[name];
    if (!navigation) continue;
    const related = navigation
      .related(entity)
      .map((child) => shapeEntity(child, undefined, [], {}));
    out[name] = navigation.collection ? related : (related[0] ?? null);
  }
  return out;
}

/**
 * Extensiv's HTTP conventions in the sandbox: error bodies (`$type` plus PascalCase fields),
 * 1-based `pgnum`/`pgsiz` paging with per-resource maximums, `rql` filtering, HAL links.
 */
import type { Request, Response } from 'express';
import { compileRql, parseRql, pinnedKeys, RqlError, type RqlFields, type RqlNode } from './rql.js';

/** `$type` of a rejected query parameter (the sandbox's own assembly name; clients must not rely on it). */
export const QUERY_PARAMETER_EXCEPTION =
  'Crossdock.Sandbox.Wms.Exceptions.QueryParameterException, Crossdock.Sandbox.Wms';
/** `$type` of a rejected request body. */
export const MODEL_VALIDATION_EXCEPTION =
  'Crossdock.Sandbox.Wms.Exceptions.ModelValidationException, Crossdock.Sandbox.Wms';
/** `$type` of an unknown resource. */
export const RESOURCE_NOT_FOUND_EXCEPTION =
  'Crossdock.Sandbox.Wms.Exceptions.ResourceNotFoundException, Crossdock.Sandbox.Wms';

/** `$type` of a refused order operation (Extensiv's OperationException, 403). */
export const OPERATION_EXCEPTION =
  'Crossdock.Sandbox.Wms.Exceptions.OperationException, Crossdock.Sandbox.Wms';
/** `$type` of a missing or stale `If-Match` (428 / 412). */
export const PRECONDITION_EXCEPTION =
  'Crossdock.Sandbox.Wms.Exceptions.PreconditionException, Crossdock.Sandbox.Wms';

/**
 * Codes of a refused operation. The first three are Extensiv's; `AlreadyCanceled` (an operator
 * on a canceled order) is the sandbox's own name for what Extensiv answers there (UNCONFIRMED).
 */
export type OperationErrorCode =
  'NotFullyAllocated' | 'OrderConfirmed' | 'AlreadyCompleted' | 'AlreadyCanceled';

/** Answers 403 for an operation the resource's state refuses. */
export function refuseOperation(res: Response, code: OperationErrorCode, hint: string): void {
  res.status(403).json({ $type: OPERATION_EXCEPTION, ErrorCode: code, Hint: hint });
}

/**
 * Extensiv's optimistic concurrency on PUTs and operators: no `If-Match` → 428, one that is
 * not the current ETag → 412. Answers itself and returns false when the request may not go on.
 */
export function checkIfMatch(req: Request, res: Response, current: string, what: string): boolean {
  const header = req.get('if-match');
  if (header === undefined || header.trim() === '') {
    res.status(428).json({
      $type: PRECONDITION_EXCEPTION,
      ErrorCode: 'PreconditionRequired',
      Hint: `expected an If-Match header with the ETag of ${what}; got none`,
    });
    return false;
  }
  const tags = header.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (!tags.includes(current)) {
    res.status(412).json({
      $type: PRECONDITION_EXCEPTION,
      ErrorCode: 'PreconditionFailed',
      Hint: `If-Match ${header.trim()} is not the current ETag ${current} of ${what}`,
    });
    return false;
  }
  return true;
}

/** Codes of a rejected query parameter. */
export type QueryParameterErrorCode = 'NotParsable' | 'OutOfRange';
/** Codes of a rejected body, after Extensiv's ModelValidationException. */
export type ModelValidationErrorCode =
  'Required' | 'DoesNotExist' | 'Duplicate' | 'Incompatible' | 'ValueNotSupported';

/** Answers 400 for a bad query parameter. */
export function rejectParameter(
  res: Response,
  parameter: string,
  code: QueryParameterErrorCode,
  hint: string,
): void {
  res.status(400).json({
    $type: QUERY_PARAMETER_EXCEPTION,
    Parameters: [parameter],
    ErrorCode: code,
    Hint: hint,
  });
}

/** Answers 400 for a bad body. */
export function rejectModel(
  res: Response,
  property: string,
  code: ModelValidationErrorCode,
  hint: string,
): void {
  res.status(400).json({
    $type: MODEL_VALIDATION_EXCEPTION,
    Properties: [property],
    ErrorCode: code,
    Hint: hint,
  });
}

/** Answers 404 for an unknown resource. */
export function notFound(res: Response, hint: string): void {
  res
    .status(404)
    .json({ $type: RESOURCE_NOT_FOUND_EXCEPTION, ErrorCode: 'ResourceNotFound', Hint: hint });
}

/** One query parameter as a single string (first wins when repeated). */
export function queryParam(req: Request, name: string): string | undefined {
  const query = req.query as Record<string, unknown>;
  const value =
    query[name] ?? query[Object.keys(query).find((k) => k.toLowerCase() === name) ?? ''];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Page size when the caller sends no `pgsiz`. */
export const DEFAULT_PAGE_SIZE = 100;

/** A listable resource. */
export interface ListSpec<T> {
  /** Largest `pgsiz` accepted. */
  readonly maxPageSize: number;
  readonly fields: RqlFields<T>;
  /** Every record, in the resource's order. */
  readonly all: () => readonly T[];
  /** Candidates from an index when the filter pins an indexed key; `undefined` = scan `all`. */
  readonly candidates?: (tree: RqlNode) => readonly T[] | undefined;
}

/** A page of a listing. */
export interface ListPage<T> {
  readonly items: readonly T[];
  readonly totalResults: number;
  readonly links: Record<string, { href: string }>;
}

/** Applies `pgsiz`, `pgnum` and `rql` to a resource; answers 400 itself and returns null on bad input. */
export function listPage<T>(req: Request, res: Response, spec: ListSpec<T>): ListPage<T> | null {
  const size = parseCount(req, res, 'pgsiz', DEFAULT_PAGE_SIZE, spec.maxPageSize);
  if (size === null) return null;
  const num = parseCount(req, res, 'pgnum', 1, Number.MAX_SAFE_INTEGER);
  if (num === null) return null;
  let rows: readonly T[] = spec.all();
  const rql = queryParam(req, 'rql');
  if (rql !== undefined && rql !== '') {
    let tree: RqlNode;
    let predicate: (record: T) => boolean;
    try {
      tree = parseRql(rql);
      predicate = compileRql(tree, spec.fields);
    } catch (error) {
      if (!(error instanceof RqlError)) throw error;
      rejectParameter(res, 'rql', 'NotParsable', error.hint);
      return null;
    }
    rows = (spec.candidates?.(tree) ?? rows).filter(predicate);
  }
  const start = (num - 1) * size;
  const items = rows.slice(start, start + size);
  const link = (page: number): { href: string } => {
    const url = new URL(req.originalUrl, 'http://sandbox.invalid');
    url.searchParams.set('pgnum', String(page));
    url.searchParams.set('pgsiz', String(size));
    return { href: `${url.pathname}${url.search}` };
  };
  const links: Record<string, { href: string }> = { self: link(num) };
  if (start + size < rows.length) links['next'] = link(num + 1);
  if (num > 1) links['prev'] = link(num - 1);
  return { items, totalResults: rows.length, links };
}

function parseCount(
  req: Request,
  res: Response,
  name: 'pgsiz' | 'pgnum',
  fallback: number,
  max: number,
): number | null {
  const raw = queryParam(req, name);
  if (raw === undefined) return fallback;
  const value = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= max)) {
    rejectParameter(
      res,
      name,
      'OutOfRange',
      `${name} must be an integer from 1 to ${max}; got ${JSON.stringify(raw)}`,
    );
    return null;
  }
  return value;
}

/** Indexed candidates for a filter pinning `path`, sorted with `compare`. */
export function fromIndex<K, T>(
  tree: RqlNode,
  path: string,
  toKey: (text: string) => K,
  index: ReadonlyMap<K, readonly T[] | T>,
  compare: (a: T, b: T) => number,
): readonly T[] | undefined {
  const keys = pinnedKeys(tree, path);
  if (!keys) return undefined;
  const out: T[] = [];
  for (const key of new Set(keys.map(toKey))) {
    const hit = index.get(key);
    if (hit === undefined) continue;
    if (Array.isArray(hit)) out.push(...(hit as readonly T[]));
    else out.push(hit as T);
  }
  return out.sort(compare);
}

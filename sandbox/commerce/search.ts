/**
 * Shopify search syntax (`query:` argument): a tokenizer, a recursive-descent parser to an
 * AST, and a compiler from the AST to a predicate over one collection's records.
 *
 * Grammar (shopify.dev …/usage/search-syntax):
 *
 *   query   := or
 *   or      := and ( "OR" and )*
 *   and     := unary ( ["AND"] unary )*
 *   unary   := "NOT" unary | "-" unary | "(" or ")" | term
 *   term    := field ":" [">" | ">=" | "<" | "<=" | "="] value | value
 *   value   := 'single quoted' | "double quoted" | bare   (backslash escapes inside quotes)
 *
 * An unquoted value ending in `*` is a prefix match; a quoted value is always literal, so a
 * SKU containing `*`, `:` or spaces can be matched exactly.
 */

/** A comparison of a field with a value. */
export type Comparator = 'eq' | 'gt' | 'gte' | 'lt' | 'lte';

/** The parsed query. */
export type SearchNode =
  | { readonly kind: 'and'; readonly children: readonly SearchNode[] }
  | { readonly kind: 'or'; readonly children: readonly SearchNode[] }
  | { readonly kind: 'not'; readonly child: SearchNode }
  | {
      readonly kind: 'term';
      /** `null` for a bare value (matched against the collection's default fields). */
      readonly field: string | null;
      readonly comparator: Comparator;
      readonly value: string;
      /** True for an unquoted value ending in `*`; `value` then holds the prefix. */
      readonly prefix: boolean;
      /** Position of the term in the query, for error messages. */
      readonly at: number;
    };

/** A query that does not follow the grammar. */
export class SearchSyntaxError extends Error {
  constructor(
    readonly position: number,
    expected: string,
    got: string,
    options?: ErrorOptions,
  ) {
    super(
      `Invalid search query at position ${position}: expected ${expected}, got ${got}`,
      options,
    );
    this.name = 'SearchSyntaxError';
  }
}

type Token =
  | { readonly type: 'lparen' | 'rparen' | 'or' | 'and' | 'not' | 'minus'; readonly at: number }
  | { readonly type: 'term'; readonly at: number; readonly node: SearchNode & { kind: 'term' } };

const FIELD = /^[A-Za-z_][A-Za-z0-9_.]*:/;

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

function describe(c: string | undefined): string {
  return c === undefined ? 'end of query' : JSON.stringify(c);
}

/** Splits a query into tokens. */
function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  // Reads a quoted or bare value starting at `i`; returns it and whether it was quoted.
  const readValue = (): { value: string; quoted: boolean } => {
    const open = input[i];
    if (open === "'" || open === '"') {
      const start = i;
      i++;
      let out = '';
      while (i < input.length && input[i] !== open) {
        if (input[i] === '\\') {
          i++;
          if (i >= input.length) break;
        }
        out += input[i];
        i++;
      }
      if (i >= input.length)
        throw new SearchSyntaxError(start, `a closing ${open} quote`, 'end of query');
      i++;
      return { value: out, quoted: true };
    }
    let out = '';
    while (i < input.length && !isSpace(input[i]) && input[i] !== '(' && input[i] !== ')') {
      if (input[i] === '\\' && i + 1 < input.length) i++;
      out += input[i];
      i++;
    }
    return { value: out, quoted: false };
  };

  while (i < input.length) {
    const c = input[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === '(') {
      tokens.push({ type: 'lparen', at });
      i++;
      continue;
    }
    if (c === ')') {
      tokens.push({ type: 'rparen', at });
      i++;
      continue;
    }
    if (c === '-' && i + 1 < input.length && !isSpace(input[i + 1])) {
      tokens.push({ type: 'minus', at });
      i++;
      continue;
    }
    const rest = input.slice(i);
    const field = FIELD.exec(rest);
    if (field) {
      i += field[0].length;
      let comparator: Comparator = 'eq';
      if (input.startsWith('>=', i)) [comparator, i] = ['gte', i + 2];
      else if (input.startsWith('<=', i)) [comparator, i] = ['lte', i + 2];
      else if (input[i] === '>') [comparator, i] = ['gt', i + 1];
      else if (input[i] === '<') [comparator, i] = ['lt', i + 1];
      else if (input[i] === '=') [comparator, i] = ['eq', i + 1];
      if (i >= input.length || isSpace(input[i]) || input[i] === ')') {
        throw new SearchSyntaxError(i, `a value after "${field[0]}"`, describe(input[i]));
      }
      const { value, quoted } = readValue();
      const prefix = !quoted && comparator === 'eq' && value.length > 1 && value.endsWith('*');
      tokens.push({
        type: 'term',
        at,
        node: {
          kind: 'term',
          field: field[0].slice(0, -1).toLowerCase(),
          comparator,
          value: prefix ? value.slice(0, -1) : value,
          prefix,
          at,
        },
      });
      continue;
    }
    const { value, quoted } = readValue();
    if (!quoted && (value === 'OR' || value === 'AND' || value === 'NOT')) {
      tokens.push({ type: value === 'OR' ? 'or' : value === 'AND' ? 'and' : 'not', at });
      continue;
    }
    const prefix = !quoted && value.length > 1 && value.endsWith('*');
    tokens.push({
      type: 'term',
      at,
      node: {
        kind: 'term',
        field: null,
        comparator: 'eq',
        value: prefix ? value.slice(0, -1) : value,
        prefix,
        at,
      },
    });
  }
  return tokens;
}

/** Parses a search query; throws {@link SearchSyntaxError} with the position of the fault. */
export function parseSearch(input: string): SearchNode | null {
  const tokens = tokenize(input);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const where = (): number => peek()?.at ?? input.length;
  const got = (): string => {
    const t = peek();
    return t === undefined
      ? 'end of query'
      : t.type === 'term'
        ? 'a term'
        : `"${input.slice(t.at, t.at + (t.type === 'or' ? 2 : t.type === 'and' || t.type === 'not' ? 3 : 1))}"`;
  };

  const parseOr = (): SearchNode => {
    const children = [parseAnd()];
    while (peek()?.type === 'or') {
      pos++;
      children.push(parseAnd());
    }
    return children.length === 1 && children[0] ? children[0] : { kind: 'or', children };
  };
  const parseAnd = (): SearchNode => {
    const children = [parseUnary()];
    for (;;) {
      const t = peek();
      if (t === undefined || t.type === 'or' || t.type === 'rparen') break;
      if (t.type === 'and') pos++;
      children.push(parseUnary());
    }
    return children.length === 1 && children[0] ? children[0] : { kind: 'and', children };
  };
  const parseUnary = (): SearchNode => {
    const t = peek();
    if (t === undefined) throw new SearchSyntaxError(where(), 'a term', 'end of query');
    switch (t.type) {
      case 'not':
      case 'minus':
        pos++;
        return { kind: 'not', child: parseUnary() };
      case 'lparen': {
        pos++;
        const inner = parseOr();
        if (peek()?.type !== 'rparen') throw new SearchSyntaxError(where(), 'a closing ")"', got());
        pos++;
        return inner;
      }
      case 'term':
        pos++;
        return t.node;
      case 'rparen':
      case 'or':
      case 'and':
        throw new SearchSyntaxError(t.at, 'a term', got());
      default:
        return unreachable(t);
    }
  };

  if (tokens.length === 0) return null;
  const root = parseOr();
  if (pos < tokens.length) throw new SearchSyntaxError(where(), 'end of query', got());
  return root;
}

function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Compiling the AST to a predicate.
// ---------------------------------------------------------------------------------------------

/**
 * How a field matches: `keyword` exact (case-insensitive) with prefix `*`, compared in
 * code-unit order (the order of the matching sort key); `text` also matches a run of whole
 * words; `date` compares instants; `number` numerically; `orderName` by the digits of `#1001`.
 */
export type FieldKind = 'keyword' | 'text' | 'date' | 'number' | 'orderName';

/** One searchable field of a collection. */
export interface SearchField<T> {
  readonly kind: FieldKind;
  /** The field's value(s) on a record; a list matches when any element matches. */
  readonly get: (record: T) => string | number | readonly string[] | null;
}

/** The searchable fields of one collection. */
export interface SearchFields<T> {
  readonly fields: Readonly<Record<string, SearchField<T>>>;
  /** Fields a bare value (no `field:`) is matched against. */
  readonly defaults: readonly string[];
}

/** A field name the collection does not know; Shopify ignores such a term and warns. */
export interface SearchWarning {
  readonly field: string;
  readonly message: string;
}

/** A query compiled against one collection. */
export interface CompiledSearch<T> {
  readonly predicate: (record: T) => boolean;
  readonly warnings: readonly SearchWarning[];
}

/** A value of a field, in the form comparisons use. */
type Scalar = string | number;

function orderNumber(value: string): number | null {
  const digits = /^#?(\d+)$/.exec(value.trim());
  return digits?.[1] ? Number(digits[1]) : null;
}

function dateValue(value: string, at: number): number {
  // A date-only value is that day's start in UTC, so `updated_at:>=2026-01-01` includes the day.
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) {
    throw new SearchSyntaxError(
      at,
      'a date like 2026-01-01 or 2026-01-01T00:00:00Z',
      JSON.stringify(value),
    );
  }
  return ms;
}

/**
 * A search value in the form a field of `kind` compares in (ms for dates, a number for
 * `#1001`), so a sort order on the same field can be cut by binary search; `null` if it has none.
 */
export function comparableValue(kind: FieldKind, value: string): Scalar | null {
  switch (kind) {
    case 'keyword':
    case 'text':
      return value;
    case 'date': {
      const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
      return Number.isNaN(ms) ? null : ms;
    }
    case 'number': {
      const n = Number(value.replace(/^gid:\/\/shopify\/\w+\//, ''));
      return Number.isNaN(n) ? null : n;
    }
    case 'orderName':
      return orderNumber(value);
    default:
      return unreachable(kind);
  }
}

function compare(a: Scalar, b: Scalar): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function holds(comparator: Comparator, order: number): boolean {
  switch (comparator) {
    case 'eq':
      return order === 0;
    case 'gt':
      return order > 0;
    case 'gte':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'lte':
      return order <= 0;
    default:
      return unreachable(comparator);
  }
}

/** Builds the test of one term against one scalar field value. */
function scalarTest(
  kind: FieldKind,
  term: SearchNode & { kind: 'term' },
): (value: Scalar) => boolean {
  const { comparator, value, prefix } = term;
  switch (kind) {
    case 'keyword':
    case 'text': {
      const lower = value.toLowerCase();
      const words = lower.split(/\s+/).filter(Boolean);
      if (comparator !== 'eq') return (v) => holds(comparator, compare(String(v), value));
      if (prefix) {
        return (v) => {
          const s = String(v).toLowerCase();
          return (
            s.startsWith(lower) ||
            (kind === 'text' && s.split(/\s+/).some((w) => w.startsWith(lower)))
          );
        };
      }
      if (kind === 'keyword') return (v) => String(v).toLowerCase() === lower;
      return (v) => {
        const s = String(v).toLowerCase();
        if (s === lower) return true;
        const have = s.split(/\s+/);
        for (let i = 0; i + words.length <= have.length; i++) {
          if (words.every((w, k) => have[i + k] === w)) return true;
        }
        return false;
      };
    }
    case 'date': {
      const target = dateValue(value, term.at);
      const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
      if (comparator === 'eq' && dayOnly) {
        return (v) => {
          const ms = typeof v === 'number' ? v : Date.parse(v);
          return ms >= target && ms < target + 86_400_000;
        };
      }
      return (v) => holds(comparator, compare(typeof v === 'number' ? v : Date.parse(v), target));
    }
    case 'number': {
      const target = Number(value.replace(/^gid:\/\/shopify\/\w+\//, ''));
      if (Number.isNaN(target))
        throw new SearchSyntaxError(term.at, 'a number', JSON.stringify(value));
      return (v) => holds(comparator, compare(Number(v), target));
    }
    case 'orderName': {
      const target = orderNumber(value);
      if (target === null) return (v) => holds(comparator, compare(String(v), value));
      return (v) => {
        const n = orderNumber(String(v));
        return n !== null && holds(comparator, compare(n, target));
      };
    }
    default:
      return unreachable(kind);
  }
}

/** Compiles a parsed query against a collection's fields. Unknown fields are ignored with a warning. */
export function compileSearch<T>(
  root: SearchNode | null,
  fields: SearchFields<T>,
): CompiledSearch<T> {
  const warnings: SearchWarning[] = [];
  type Pred = ((record: T) => boolean) | null;
  const fieldTest = (
    field: SearchField<T>,
    term: SearchNode & { kind: 'term' },
  ): ((record: T) => boolean) => {
    const test = scalarTest(field.kind, term);
    return (record) => {
      const value = field.get(record);
      if (value === null) return false;
      if (typeof value === 'string' || typeof value === 'number') return test(value);
      return value.some(test);
    };
  };
  const build = (node: SearchNode): Pred => {
    switch (node.kind) {
      case 'term': {
        if (node.field === null) {
          const tests = fields.defaults.flatMap((name) => {
            const field = fields.fields[name];
            return field ? [fieldTest(field, { ...node, field: name })] : [];
          });
          return (record) => tests.some((t) => t(record));
        }
        const field = fields.fields[node.field];
        if (!field) {
          warnings.push({ field: node.field, message: 'Invalid search field for this query.' });
          return null;
        }
        return fieldTest(field, node);
      }
      case 'not': {
        const inner = build(node.child);
        return inner === null ? null : (record) => !inner(record);
      }
      case 'and': {
        const parts = node.children
          .map(build)
          .filter((p): p is (record: T) => boolean => p !== null);
        return parts.length === 0 ? null : (record) => parts.every((p) => p(record));
      }
      case 'or': {
        const parts = node.children
          .map(build)
          .filter((p): p is (record: T) => boolean => p !== null);
        return parts.length === 0 ? null : (record) => parts.some((p) => p(record));
      }
      default:
        return unreachable(node);
    }
  };
  const predicate = root === null ? null : build(root);
  return { predicate: predicate ?? (() => true), warnings };
}

/**
 * The values of a query that is only `field:value` terms joined by OR (e.g. 250 SKUs), so the
 * caller can answer from an index instead of scanning; `null` for any other query.
 */
export function exactValuesOf(root: SearchNode | null, field: string): string[] | null {
  if (root === null) return null;
  const terms = root.kind === 'or' ? root.children : [root];
  const values: string[] = [];
  for (const t of terms) {
    if (t.kind !== 'term' || t.field !== field || t.comparator !== 'eq' || t.prefix) return null;
    values.push(t.value);
  }
  return values;
}

/** Bounds on one field implied by a query's top-level AND of comparisons (`sku:>'X' sku:<'Y'`). */
export interface RangeBound {
  readonly value: string;
  readonly comparator: 'gt' | 'gte' | 'lt' | 'lte';
}

/** The comparison terms on `field` that every match must satisfy (top-level conjuncts only). */
export function rangeTermsOf(root: SearchNode | null, field: string): RangeBound[] {
  if (root === null) return [];
  const terms = root.kind === 'and' ? root.children : [root];
  const out: RangeBound[] = [];
  for (const t of terms) {
    if (t.kind === 'term' && t.field === field && t.comparator !== 'eq') {
      out.push({ value: t.value, comparator: t.comparator });
    }
  }
  return out;
}

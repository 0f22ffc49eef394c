/**
 * The `$filter` subset Business Central accepts, as a real little language: a tokenizer, a
 * recursive-descent parser to an AST, a binder that checks fields and literal types against an
 * entity shape (and BC's rule that `or` may only join conditions on one field), and a compiler
 * from the AST to a row predicate.
 *
 *   filter     := or
 *   or         := and ('or' and)*
 *   and        := primary ('and' primary)*
 *   primary    := '(' or ')' | function | comparison
 *   function   := ('contains' | 'startswith' | 'endswith') '(' field ',' string ')'
 *   comparison := field ('eq'|'ne'|'gt'|'ge'|'lt'|'le') literal
 *               | field 'in' '(' literal (',' literal)* ')'
 *   literal    := 'string' (with '' for a quote) | number | true | false | null | guid | date | datetime
 */
import { ODataError } from './errors.js';

/** The Edm kinds of field the sandbox entities have. */
export type FieldType = 'string' | 'number' | 'boolean' | 'guid' | 'date' | 'datetime';

/** Field name → kind, for one entity type. */
export type EdmFields = Readonly<Record<string, FieldType>>;

/** What the binder needs to know of an entity type. */
export interface EntityShape {
  /** The type name in messages, as BC names it: `Microsoft.NAV.item`. */
  readonly typeName: string;
  readonly fields: EdmFields;
}

/** A literal value in a filter. */
export type Literal =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'number'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'null' }
  | { readonly type: 'guid'; readonly value: string }
  | { readonly type: 'date'; readonly value: string }
  | { readonly type: 'datetime'; readonly value: string };

/** Comparison operators. */
export type ComparisonOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

/** String functions usable as a condition. */
export type StringFunction = 'contains' | 'startswith' | 'endswith';

/** A parsed `$filter`. */
export type FilterNode =
  | { readonly kind: 'and' | 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | {
      readonly kind: 'compare';
      readonly op: ComparisonOp;
      readonly field: string;
      readonly value: Literal;
    }
  | { readonly kind: 'in'; readonly field: string; readonly values: readonly Literal[] }
  | {
      readonly kind: 'call';
      readonly fn: StringFunction;
      readonly field: string;
      readonly value: string;
    };

type Token =
  | { readonly t: 'ident'; readonly text: string; readonly pos: number }
  | { readonly t: 'literal'; readonly lit: Literal; readonly text: string; readonly pos: number }
  | { readonly t: '(' | ')' | ','; readonly text: string; readonly pos: number }
  | { readonly t: 'end'; readonly text: ''; readonly pos: number };

const COMPARISON_OPS: ReadonlySet<string> = new Set<ComparisonOp>([
  'eq',
  'ne',
  'gt',
  'ge',
  'lt',
  'le',
]);
const FUNCTIONS: ReadonlySet<string> = new Set<StringFunction>([
  'contains',
  'startswith',
  'endswith',
]);

// Tried in this order at each position: a GUID or a date starts with digits like a number does.
const GUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/y;
const DATETIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})/y;
const DATE = /\d{4}-\d{2}-\d{2}/y;
const NUMBER = /-?\d+(?:\.\d+)?/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const WORD_CHAR = /[A-Za-z0-9_.:-]/;

function syntaxError(source: string, pos: number, expected: string, found: string): ODataError {
  return new ODataError(
    400,
    'BadRequest_InvalidToken',
    `Syntax error at position ${pos} in '${source}': expected ${expected}, found ${found}.`,
  );
}

function describe(token: Token): string {
  return token.t === 'end' ? 'the end of the expression' : `'${token.text}'`;
}

/** Splits a `$filter` into tokens. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  const sticky = (re: RegExp): string | undefined => {
    re.lastIndex = pos;
    const match = re.exec(source);
    if (!match) return undefined;
    const next = source[pos + match[0].length];
    // `2026-01-01x` or `12abc` are not a literal followed by a word.
    if (next !== undefined && WORD_CHAR.test(next)) return undefined;
    return match[0];
  };
  while (pos < source.length) {
    const ch = source[pos] ?? '';
    if (ch === ' ' || ch === '\t') {
      pos++;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ t: ch, text: ch, pos });
      pos++;
      continue;
    }
    if (ch === "'") {
      let value = '';
      let i = pos + 1;
      for (;;) {
        if (i >= source.length) {
          throw syntaxError(
            source,
            pos,
            'a closing quote for the string literal',
            'the end of the expression',
          );
        }
        const c = source[i] ?? '';
        if (c === "'") {
          // OData doubles a quote inside a string literal (ABNF `SQUOTE-in-string`).
          if (source[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          break;
        }
        value += c;
        i++;
      }
      tokens.push({
        t: 'literal',
        lit: { type: 'string', value },
        text: source.slice(pos, i + 1),
        pos,
      });
      pos = i + 1;
      continue;
    }
    let text = sticky(GUID);
    if (text !== undefined) {
      tokens.push({ t: 'literal', lit: { type: 'guid', value: text.toLowerCase() }, text, pos });
      pos += text.length;
      continue;
    }
    text = sticky(DATETIME);
    if (text !== undefined) {
      tokens.push({ t: 'literal', lit: { type: 'datetime', value: text }, text, pos });
      pos += text.length;
      continue;
    }
    text = sticky(DATE);
    if (text !== undefined) {
      tokens.push({ t: 'literal', lit: { type: 'date', value: text }, text, pos });
      pos += text.length;
      continue;
    }
    text = sticky(NUMBER);
    if (text !== undefined) {
      tokens.push({ t: 'literal', lit: { type: 'number', value: Number(text) }, text, pos });
      pos += text.length;
      continue;
    }
    text = sticky(IDENT);
    if (text !== undefined) {
      if (text === 'true' || text === 'false') {
        tokens.push({ t: 'literal', lit: { type: 'boolean', value: text === 'true' }, text, pos });
      } else if (text === 'null') {
        tokens.push({ t: 'literal', lit: { type: 'null' }, text, pos });
      } else {
        tokens.push({ t: 'ident', text, pos });
      }
      pos += text.length;
      continue;
    }
    throw syntaxError(source, pos, 'a field, an operator or a literal', `'${ch}'`);
  }
  tokens.push({ t: 'end', text: '', pos: source.length });
  return tokens;
}

/** Parses a `$filter` value to an AST (syntax only; see {@link bindFilter} for fields and types). */
export function parseFilter(source: string): FilterNode {
  const tokens = tokenize(source);
  let index = 0;
  const peek = (): Token => tokens[index] ?? { t: 'end', text: '', pos: source.length };
  const next = (): Token => {
    const token = peek();
    index++;
    return token;
  };
  const isWord = (token: Token, word: string): boolean =>
    token.t === 'ident' && token.text === word;
  const expect = (t: '(' | ')' | ',', what: string): void => {
    const token = next();
    if (token.t !== t) throw syntaxError(source, token.pos, what, describe(token));
  };
  const literal = (): Literal => {
    const token = next();
    if (token.t !== 'literal')
      throw syntaxError(source, token.pos, 'a literal value', describe(token));
    return token.lit;
  };

  const parseOr = (): FilterNode => {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      next();
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): FilterNode => {
    let left = parsePrimary();
    while (isWord(peek(), 'and')) {
      next();
      left = { kind: 'and', left, right: parsePrimary() };
    }
    return left;
  };
  const parsePrimary = (): FilterNode => {
    const token = next();
    if (token.t === '(') {
      const inner = parseOr();
      expect(')', "')'");
      return inner;
    }
    if (token.t !== 'ident')
      throw syntaxError(source, token.pos, 'a field or a function', describe(token));
    if (token.text === 'not') {
      throw new ODataError(
        400,
        'BadRequest_NotSupported',
        "The 'not' operator is not supported in $filter.",
      );
    }
    if (peek().t === '(') return parseCall(token);
    const op = next();
    if (op.t === 'ident' && COMPARISON_OPS.has(op.text)) {
      return { kind: 'compare', op: op.text as ComparisonOp, field: token.text, value: literal() };
    }
    if (isWord(op, 'in')) {
      expect('(', "'(' after 'in'");
      const values = [literal()];
      while (peek().t === ',') {
        next();
        values.push(literal());
      }
      expect(')', "',' or ')'");
      return { kind: 'in', field: token.text, values };
    }
    throw syntaxError(source, op.pos, 'an operator (eq, ne, gt, ge, lt, le, in)', describe(op));
  };
  const parseCall = (name: Token & { t: 'ident' }): FilterNode => {
    if (!FUNCTIONS.has(name.text)) {
      throw new ODataError(
        400,
        'BadRequest_NotSupported',
        `The function '${name.text}' is not supported; expected contains, startswith or endswith.`,
      );
    }
    expect('(', "'('");
    const field = next();
    if (field.t !== 'ident') throw syntaxError(source, field.pos, 'a field name', describe(field));
    if (peek().t === '(') {
      // BC only evaluates nested calls (`contains(tolower(x),'y')`) under $schemaversion=2.1.
      throw new ODataError(
        400,
        'BadRequest_NotSupported',
        `Nested function calls are not supported: '${field.text}(' inside '${name.text}'.`,
      );
    }
    expect(',', "','");
    const value = next();
    if (value.t !== 'literal' || value.lit.type !== 'string') {
      throw syntaxError(source, value.pos, 'a string literal', describe(value));
    }
    expect(')', "')'");
    return {
      kind: 'call',
      fn: name.text as StringFunction,
      field: field.text,
      value: value.lit.value,
    };
  };

  const tree = parseOr();
  const rest = peek();
  if (rest.t !== 'end')
    throw syntaxError(source, rest.pos, "'and', 'or' or the end of the expression", describe(rest));
  return tree;
}

/** The Edm type name of each field kind, as ODataLib names it in messages. */
export const EDM: Readonly<Record<FieldType, string>> = {
  string: 'Edm.String',
  number: 'Edm.Decimal',
  boolean: 'Edm.Boolean',
  guid: 'Edm.Guid',
  date: 'Edm.Date',
  datetime: 'Edm.DateTimeOffset',
};

const OP_KIND: Readonly<Record<ComparisonOp | 'in', string>> = {
  eq: 'Equal',
  ne: 'NotEqual',
  gt: 'GreaterThan',
  ge: 'GreaterThanOrEqual',
  lt: 'LessThan',
  le: 'LessThanOrEqual',
  in: 'In',
};

function literalEdm(lit: Literal): string {
  switch (lit.type) {
    case 'string':
      return 'Edm.String';
    case 'number':
      return Number.isInteger(lit.value) ? 'Edm.Int32' : 'Edm.Decimal';
    case 'boolean':
      return 'Edm.Boolean';
    case 'null':
      return 'null';
    case 'guid':
      return 'Edm.Guid';
    case 'date':
      return 'Edm.Date';
    case 'datetime':
      return 'Edm.DateTimeOffset';
    default:
      return unreachable(lit);
  }
}

function compatible(field: FieldType, lit: Literal): boolean {
  if (lit.type === 'null') return field !== 'boolean';
  switch (field) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'guid':
    case 'date':
    case 'datetime':
      return field === lit.type;
    default:
      return unreachable(field);
  }
}

/** The message BC (ODataLib) gives for an unknown property. */
export function unknownProperty(name: string, shape: EntityShape): ODataError {
  return new ODataError(
    400,
    'BadRequest_NotFound',
    `Could not find a property named '${name}' on type '${shape.typeName}'.`,
  );
}

/**
 * Checks fields and literal types against the shape, and BC's rule that `or` only joins
 * conditions on one field (devitpro `use-filter-expressions-in-odata-uris.md`). Returns the
 * fields the expression reads.
 */
export function bindFilter(node: FilterNode, shape: EntityShape): ReadonlySet<string> {
  const fieldType = (name: string): FieldType => {
    const type = shape.fields[name];
    if (type === undefined) throw unknownProperty(name, shape);
    return type;
  };
  const checkLiteral = (field: string, op: ComparisonOp | 'in', lit: Literal): void => {
    const type = fieldType(field);
    if (!compatible(type, lit)) {
      throw new ODataError(
        400,
        'BadRequest_InvalidToken',
        `A binary operator with incompatible types was detected. Found operand types '${EDM[type]}' and '${literalEdm(lit)}' for operator kind '${OP_KIND[op]}'.`,
      );
    }
  };
  switch (node.kind) {
    case 'and':
    case 'or': {
      const left = bindFilter(node.left, shape);
      const right = bindFilter(node.right, shape);
      const all = new Set([...left, ...right]);
      if (node.kind === 'or' && all.size > 1) {
        throw new ODataError(
          400,
          'BadRequest_NotSupported',
          `The 'or' operator can only combine conditions on the same field; found ${[...all].map((f) => `'${f}'`).join(' and ')}.`,
        );
      }
      return all;
    }
    case 'compare':
      checkLiteral(node.field, node.op, node.value);
      return new Set([node.field]);
    case 'in':
      for (const value of node.values) checkLiteral(node.field, 'in', value);
      return new Set([node.field]);
    case 'call':
      if (fieldType(node.field) !== 'string') {
        throw new ODataError(
          400,
          'BadRequest_InvalidToken',
          `No function signature for the function with name '${node.fn}' matches the specified arguments. The function signatures considered are: ${node.fn}(Edm.String Nullable=true, Edm.String Nullable=true).`,
        );
      }
      return new Set([node.field]);
    default:
      return unreachable(node);
  }
}

/** A row as the predicate reads it. */
export type Row = Readonly<Record<string, unknown>>;

type Comparable = string | number | boolean | null;

function literalValue(lit: Literal): Comparable {
  switch (lit.type) {
    case 'null':
      return null;
    case 'datetime':
      return Date.parse(lit.value);
    case 'string':
    case 'number':
    case 'boolean':
    case 'guid':
    case 'date':
      return lit.value;
    default:
      return unreachable(lit);
  }
}

function compareValues(a: Comparable, b: Comparable): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/** Compiles a bound filter to a predicate over rows of `shape`. */
export function compileFilter(node: FilterNode, shape: EntityShape): (row: Row) => boolean {
  const read = (field: string): ((row: Row) => Comparable) => {
    const type = shape.fields[field];
    if (type === 'datetime') return (row) => Date.parse(String(row[field]));
    if (type === 'guid') return (row) => String(row[field]).toLowerCase();
    return (row) => (row[field] ?? null) as Comparable;
  };
  switch (node.kind) {
    case 'and': {
      const left = compileFilter(node.left, shape);
      const right = compileFilter(node.right, shape);
      return (row) => left(row) && right(row);
    }
    case 'or': {
      const left = compileFilter(node.left, shape);
      const right = compileFilter(node.right, shape);
      return (row) => left(row) || right(row);
    }
    case 'compare': {
      const get = read(node.field);
      const value = literalValue(node.value);
      const nullTest = value === null;
      switch (node.op) {
        case 'eq':
          return (row) => get(row) === value;
        case 'ne':
          return (row) => get(row) !== value;
        case 'gt':
          return (row) => !nullTest && compareValues(get(row), value) > 0;
        case 'ge':
          return (row) => !nullTest && compareValues(get(row), value) >= 0;
        case 'lt':
          return (row) => !nullTest && compareValues(get(row), value) < 0;
        case 'le':
          return (row) => !nullTest && compareValues(get(row), value) <= 0;
        default:
          return unreachable(node.op);
      }
    }
    case 'in': {
      const get = read(node.field);
      const values = new Set(node.values.map(literalValue));
      return (row) => values.has(get(row));
    }
    case 'call': {
      // Case-insensitive like BC on its default (case-insensitive) SQL collation. UNCONFIRMED.
      const needle = node.value.toLowerCase();
      const field = node.field;
      const text = (row: Row): string => String(row[field] ?? '').toLowerCase();
      switch (node.fn) {
        case 'contains':
          return (row) => text(row).includes(needle);
        case 'startswith':
          return (row) => text(row).startsWith(needle);
        case 'endswith':
          return (row) => text(row).endsWith(needle);
        default:
          return unreachable(node.fn);
      }
    }
    default:
      return unreachable(node);
  }
}

/**
 * The keys a filter pins `field` to (`field eq k`, `field in (...)`, or an `or` of those), when
 * every matching row must have one of them; `undefined` when the filter does not pin the field.
 * Used to answer from an index instead of scanning; the full predicate still runs afterwards.
 */
export function pinnedKeys(node: FilterNode | undefined, field: string): string[] | undefined {
  if (!node) return undefined;
  switch (node.kind) {
    case 'and':
      return pinnedKeys(node.left, field) ?? pinnedKeys(node.right, field);
    case 'or': {
      const left = pinnedKeys(node.left, field);
      const right = left && pinnedKeys(node.right, field);
      return left && right ? [...left, ...right] : undefined;
    }
    case 'compare':
      return node.op === 'eq' &&
        node.field === field &&
        (node.value.type === 'string' || node.value.type === 'guid')
        ? [node.value.value]
        : undefined;
    case 'in': {
      if (node.field !== field) return undefined;
      const keys: string[] = [];
      for (const lit of node.values) {
        if (lit.type === 'string' || lit.type === 'guid') keys.push(lit.value);
      }
      return keys;
    }
    case 'call':
      return undefined;
    default:
      return unreachable(node);
  }
}

/** A lower bound `field gt|ge 'x'` that an `and` chain puts on `field`, for a range start. */
export function lowerBound(
  node: FilterNode | undefined,
  field: string,
): { readonly value: string; readonly inclusive: boolean } | undefined {
  if (!node) return undefined;
  switch (node.kind) {
    case 'and':
      return lowerBound(node.left, field) ?? lowerBound(node.right, field);
    case 'compare':
      return node.field === field &&
        node.value.type === 'string' &&
        (node.op === 'gt' || node.op === 'ge')
        ? { value: node.value.value, inclusive: node.op === 'ge' }
        : undefined;
    case 'or':
    case 'in':
    case 'call':
      return undefined;
    default:
      return unreachable(node);
  }
}

/** Marks a case a closed union should never reach. */
export function unreachable(value: never): never {
  throw new Error(`unreachable case: ${JSON.stringify(value)}`);
}

/**
 * The sandbox WMS's RQL: a small recursive-descent parser for Extensiv's FIQL-style `rql=`
 * filter, and a compiler that turns the tree into a predicate over one resource's fields.
 *
 * Grammar (FIQL, RFC draft-nottingham-atompub-fiql, with RSQL's quoting):
 *
 *   or         = and *( "," and )
 *   and        = primary *( ";" primary )
 *   primary    = "(" or ")" / comparison
 *   comparison = selector operator argument
 *   selector   = name *( "." name )            ; case-insensitive
 *   operator   = "==" / "!=" / "=" 1*ALPHA "="  ; =in= =out= =gt= =ge= =lt= =le= =hv=
 *   argument   = "(" value *( "," value ) ")" / value
 *   value      = 1*unreserved / DQUOTE *char DQUOTE / "'" *char "'"
 *
 * Inside quotes a backslash escapes the next character. Unquoted values may not contain
 * `" ' ( ) ; , = ! ~ < >` or whitespace; `*` in an unquoted `==`/`!=` value is a wildcard.
 * Values compare case-sensitively (only paths are case-insensitive).
 */

/** A comparison operator, by its FIQL name. */
export type RqlOperator = 'eq' | 'ne' | 'in' | 'out' | 'gt' | 'ge' | 'lt' | 'le' | 'hv';

/** One literal of a comparison; `quoted` values never act as wildcards. */
export interface RqlValue {
  readonly text: string;
  readonly quoted: boolean;
}

/** A parsed RQL expression. */
export type RqlNode =
  | { readonly kind: 'and'; readonly children: readonly RqlNode[] }
  | { readonly kind: 'or'; readonly children: readonly RqlNode[] }
  | {
      readonly kind: 'cmp';
      /** The selector as written (for error hints). */
      readonly selector: string;
      /** The selector lower-cased: paths are case-insensitive. */
      readonly path: string;
      readonly op: RqlOperator;
      readonly values: readonly RqlValue[];
    };

/** A filter that cannot be parsed or does not fit the resource; `hint` goes into the 400 body. */
export class RqlError extends Error {
  constructor(
    readonly hint: string,
    options?: ErrorOptions,
  ) {
    super(hint, options);
    this.name = 'RqlError';
  }
}

const OPERATORS: Readonly<Record<string, RqlOperator>> = {
  '==': 'eq',
  '!=': 'ne',
  '=in=': 'in',
  '=out=': 'out',
  '=gt=': 'gt',
  '=ge=': 'ge',
  '=lt=': 'lt',
  '=le=': 'le',
  '=hv=': 'hv',
};
const MULTI_VALUED: ReadonlySet<RqlOperator> = new Set(['in', 'out']);
const RESERVED = new Set(['"', "'", '(', ')', ';', ',', '=', '!', '~', '<', '>']);

/** Parses an `rql=` value; throws {@link RqlError} with a hint naming the position. */
export function parseRql(input: string): RqlNode {
  let pos = 0;
  const peek = (): string | undefined => input[pos];
  const describe = (): string =>
    pos >= input.length ? 'end of input' : `'${input[pos]}' at position ${pos}`;
  const fail = (expected: string): never => {
    throw new RqlError(`expected ${expected}, got ${describe()}`);
  };

  const parseOr = (): RqlNode => {
    const children = [parseAnd()];
    while (peek() === ',') {
      pos++;
      children.push(parseAnd());
    }
    return children.length === 1 ? (children[0] as RqlNode) : { kind: 'or', children };
  };
  const parseAnd = (): RqlNode => {
    const children = [parsePrimary()];
    while (peek() === ';') {
      pos++;
      children.push(parsePrimary());
    }
    return children.length === 1 ? (children[0] as RqlNode) : { kind: 'and', children };
  };
  const parsePrimary = (): RqlNode => {
    if (peek() === '(') {
      pos++;
      const inner = parseOr();
      if (peek() !== ')') fail("')' closing the group");
      pos++;
      return inner;
    }
    return parseComparison();
  };
  const parseComparison = (): RqlNode => {
    const match = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(input.slice(pos));
    if (!match) return fail('a property path such as itemIdentifier.sku');
    const selector = match[0];
    pos += selector.length;
    const opMatch = /^(?:==|!=|=[A-Za-z]+=)/.exec(input.slice(pos));
    if (!opMatch)
      return fail(
        `an operator (==, !=, =in=, =out=, =gt=, =ge=, =lt=, =le=, =hv=) after '${selector}'`,
      );
    const op = OPERATORS[opMatch[0].toLowerCase()];
    if (!op) throw new RqlError(`unknown operator '${opMatch[0]}' at position ${pos}`);
    pos += opMatch[0].length;
    let values: RqlValue[];
    if (peek() === '(') {
      if (!MULTI_VALUED.has(op))
        throw new RqlError(
          `operator '${opMatch[0]}' takes one value, got a list at position ${pos}`,
        );
      pos++;
      values = [parseValue()];
      while (peek() === ',') {
        pos++;
        values.push(parseValue());
      }
      if (peek() !== ')') fail("',' or ')' in the value list");
      pos++;
    } else {
      values = [parseValue()];
    }
    return { kind: 'cmp', selector, path: selector.toLowerCase(), op, values };
  };
  const parseValue = (): RqlValue => {
    const quote = peek();
    if (quote === '"' || quote === "'") {
      const start = pos;
      pos++;
      let text = '';
      for (;;) {
        const ch = input[pos];
        if (ch === undefined)
          throw new RqlError(`unterminated quoted value starting at position ${start}`);
        pos++;
        if (ch === quote) return { text, quoted: true };
        if (ch === '\\') {
          const escaped = input[pos];
          if (escaped === undefined)
            throw new RqlError(`unterminated quoted value starting at position ${start}`);
          text += escaped;
          pos++;
        } else {
          text += ch;
        }
      }
    }
    const start = pos;
    while (pos < input.length) {
      const ch = input[pos] as string;
      if (RESERVED.has(ch) || /\s/.test(ch)) break;
      pos++;
    }
    if (pos === start) return fail('a value');
    return { text: input.slice(start, pos), quoted: false };
  };

  if (input.length === 0) throw new RqlError('expected a filter expression, got an empty rql');
  const tree = parseOr();
  if (pos < input.length) fail("';', ',' or end of input");
  return tree;
}

/** The type of a filterable field, deciding how literals are read and compared. */
export type RqlFieldType = 'string' | 'number' | 'boolean' | 'date';

/** One filterable field of a resource. */
export interface RqlField<T> {
  readonly type: RqlFieldType;
  readonly get: (record: T) => string | number | boolean | null;
}

/** The filterable fields of a resource, keyed by lower-cased dotted path. */
export type RqlFields<T> = ReadonlyMap<string, RqlField<T>>;

/** A compiled filter. */
export type RqlPredicate<T> = (record: T) => boolean;

/** Parses an Extensiv datetime (7 fractional digits, no offset = UTC) or an ISO one to epoch ms. */
export function parseWmsDate(text: string): number | null {
  const m =
    /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:\d{2})?$/.exec(
      text,
    );
  if (!m) return null;
  const fraction = (m[3] ?? '').slice(0, 3).padEnd(3, '0');
  const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}.${fraction}${m[4] ?? 'Z'}`);
  return Number.isNaN(ms) ? null : ms;
}

type Literal = string | number | boolean;

function literal(
  field: { readonly type: RqlFieldType },
  value: RqlValue,
  selector: string,
): Literal {
  switch (field.type) {
    case 'string':
      return value.text;
    case 'number': {
      const n = Number(value.text);
      if (value.text.trim() === '' || !Number.isFinite(n)) {
        throw new RqlError(`'${selector}' is a number; got '${value.text}'`);
      }
      return n;
    }
    case 'boolean': {
      const t = value.text.toLowerCase();
      if (t !== 'true' && t !== 'false')
        throw new RqlError(`'${selector}' is true or false; got '${value.text}'`);
      return t === 'true';
    }
    case 'date': {
      const ms = parseWmsDate(value.text);
      if (ms === null)
        throw new RqlError(
          `'${selector}' is a datetime (yyyy-MM-ddTHH:mm:ss); got '${value.text}'`,
        );
      return ms;
    }
    default: {
      const unreachable: never = field.type;
      throw new Error(`unknown field type ${String(unreachable)}`);
    }
  }
}

function wildcard(text: string): RegExp {
  const body = text
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** Turns a tree into a predicate over `fields`; throws {@link RqlError} for unknown paths or bad literals. */
export function compileRql<T>(node: RqlNode, fields: RqlFields<T>): RqlPredicate<T> {
  switch (node.kind) {
    case 'and': {
      const parts = node.children.map((child) => compileRql(child, fields));
      return (record) => parts.every((part) => part(record));
    }
    case 'or': {
      const parts = node.children.map((child) => compileRql(child, fields));
      return (record) => parts.some((part) => part(record));
    }
    case 'cmp':
      return compileComparison(node, fields);
    default: {
      const unreachable: never = node;
      throw new Error(`unknown node ${JSON.stringify(unreachable)}`);
    }
  }
}

function compileComparison<T>(
  node: Extract<RqlNode, { kind: 'cmp' }>,
  fields: RqlFields<T>,
): RqlPredicate<T> {
  const field = fields.get(node.path);
  if (!field) {
    throw new RqlError(
      `unknown property '${node.selector}'; filterable: ${[...fields.keys()].join(', ')}`,
    );
  }
  const read = (record: T): Literal | null => {
    const raw = field.get(record);
    if (raw === null) return null;
    return field.type === 'date' && typeof raw === 'string' ? parseWmsDate(raw) : raw;
  };
  const first = node.values[0] as RqlValue;
  switch (node.op) {
    case 'eq':
    case 'ne': {
      const negate = node.op === 'ne';
      if (field.type === 'string' && !first.quoted && first.text.includes('*')) {
        const pattern = wildcard(first.text);
        return (record) => {
          const v = read(record);
          return (typeof v === 'string' && pattern.test(v)) !== negate;
        };
      }
      const want = literal(field, first, node.selector);
      return (record) => (read(record) === want) !== negate;
    }
    case 'in':
    case 'out': {
      const negate = node.op === 'out';
      const set = new Set(node.values.map((value) => literal(field, value, node.selector)));
      return (record) => {
        const v = read(record);
        return (v !== null && set.has(v)) !== negate;
      };
    }
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      if (field.type === 'boolean')
        throw new RqlError(`'${node.selector}' is true or false and cannot be ordered`);
      const want = literal(field, first, node.selector);
      const op = node.op;
      return (record) => {
        const v = read(record);
        if (v === null || typeof v !== typeof want) return false;
        switch (op) {
          case 'gt':
            return v > want;
          case 'ge':
            return v >= want;
          case 'lt':
            return v < want;
          case 'le':
            return v <= want;
          default: {
            const unreachable: never = op;
            throw new Error(`unknown order operator ${String(unreachable)}`);
          }
        }
      };
    }
    case 'hv': {
      const t = first.text.toLowerCase();
      if (t !== 'true' && t !== 'false')
        throw new RqlError(`'=hv=' takes true or false; got '${first.text}'`);
      const want = t === 'true';
      return (record) => {
        const v = field.get(record);
        return (v !== null && v !== '') === want;
      };
    }
    default: {
      const unreachable: never = node.op;
      throw new Error(`unknown operator ${String(unreachable)}`);
    }
  }
}

/**
 * The exact keys a filter pins `path` to, when every match must have one of them (`==` without
 * wildcard or `=in=`, reachable through ANDs, or through ORs whose every branch pins it), so a
 * resource can take candidates from its index instead of scanning. `undefined` = scan.
 */
export function pinnedKeys(node: RqlNode, path: string): string[] | undefined {
  switch (node.kind) {
    case 'cmp':
      if (node.path !== path) return undefined;
      if (node.op === 'in') return node.values.map((v) => v.text);
      if (node.op === 'eq' && (node.values[0]?.quoted || !node.values[0]?.text.includes('*'))) {
        return [node.values[0]?.text ?? ''];
      }
      return undefined;
    case 'and':
      for (const child of node.children) {
        const keys = pinnedKeys(child, path);
        if (keys) return keys;
      }
      return undefined;
    case 'or': {
      const all: string[] = [];
      for (const child of node.children) {
        const keys = pinnedKeys(child, path);
        if (!keys) return undefined;
        all.push(...keys);
      }
      return all;
    }
    default: {
      const unreachable: never = node;
      throw new Error(`unknown node ${JSON.stringify(unreachable)}`);
    }
  }
}

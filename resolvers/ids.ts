/**
 * Global IDs and cursors. Both are opaque to clients (base64url) and carry the canonical key,
 * so any replica can decode them without shared state.
 */
import {
  MAX_EXTERNAL_REFERENCE_CHARS,
  WAREHOUSE_CODE,
  isExternalReference,
} from '../sources/identifiers.js';
import { badInput } from './errors.js';

/** Types that implement Node. */
export type NodeType = 'Product' | 'Warehouse' | 'Customer' | 'Order' | 'Shipment' | 'Invoice';

const NODE_TYPES: ReadonlySet<string> = new Set<NodeType>([
  'Product',
  'Warehouse',
  'Customer',
  'Order',
  'Shipment',
  'Invoice',
]);

/** The global ID of the object of `type` with canonical key `key`. */
export function toGlobalId(type: NodeType, key: string): string {
  return Buffer.from(`${type}:${key}`, 'utf8').toString('base64url');
}

/** Decodes a global ID; null when it is not one of ours. */
export function fromGlobalId(id: string): { type: NodeType; key: string } | null {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) return null;
  const text = Buffer.from(id, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  const type = text.slice(0, colon);
  const key = text.slice(colon + 1);
  if (!NODE_TYPES.has(type) || key.length === 0) return null;
  return { type: type as NodeType, key };
}

/**
 * The canonical key an `id` argument names: a global ID of `type`, or the plain key itself
 * (order number, customer number) for people typing queries by hand.
 */
export function keyFromIdArgument(
  id: string,
  type: NodeType,
  plainKey: RegExp,
  argument = 'id',
): string {
  const global = fromGlobalId(id);
  if (global) {
    if (global.type !== type) {
      throw badInput(
        argument,
        `${article(type)} ${type} ID`,
        `${article(global.type)} ${global.type} ID (${id})`,
      );
    }
    return global.key;
  }
  if (plainKey.test(id)) return id;
  throw badInput(argument, `${article(type)} ${type} global ID or key`, id);
}

const article = (word: string) => (/^[AEIOU]/.test(word) ? 'an' : 'a');

const CURSOR_PREFIX = 'v1:';

/** The cursor of an edge whose canonical key is `key`. */
export function toCursor(key: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${key}`, 'utf8').toString('base64url');
}

/** The key a cursor carries, or a BAD_USER_INPUT error naming the argument. */
export function fromCursor(cursor: string, argument = 'after'): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  if (!text.startsWith(CURSOR_PREFIX) || text.length === CURSOR_PREFIX.length) {
    throw badInput(argument, 'a cursor returned by this API (endCursor or an edge cursor)', cursor);
  }
  return text.slice(CURSOR_PREFIX.length);
}

/** Longest free-text filter (a name or description search; BC's Text[100]). */
export const MAX_TEXT_CHARS = 100;

/** Longest code filter (an item category; BC's Code[20]). */
export const MAX_CODE_CHARS = 20;

/**
 * A required free-text input field (an address line, a reason): 1 to `max` characters, as the
 * system that stores it allows (Business Central's field lengths), refused here naming the field
 * rather than forwarded to fail there.
 */
export function requiredText(argument: string, value: string, max: number): string {
  if (value.length === 0 || value.length > max) {
    throw badInput(argument, `1 to ${max} characters`, value);
  }
  return value;
}

/** A warehouse code argument (EAST, 3PL-SOUTH): letters, digits, - and _, at most 40. */
export function checkWarehouseCode(code: string, argument: string): string {
  if (!WAREHOUSE_CODE.test(code)) {
    throw badInput(argument, 'a warehouse code such as EAST', code);
  }
  return code;
}

/** A channel reference argument (`#1001`, `PO-700001`): 1 to 35 printable characters, as given. */
export function checkExternalReference(reference: string, argument: string): string {
  if (!isExternalReference(reference)) {
    throw badInput(
      argument,
      `a channel reference of 1 to ${MAX_EXTERNAL_REFERENCE_CHARS} printable characters`,
      reference,
    );
  }
  return reference;
}

/** Largest page a connection serves. */
export const MAX_PAGE_SIZE = 250;

/** Validates `first`: an integer from 0 to {@link MAX_PAGE_SIZE}. */
export function pageSize(first: number | null | undefined, fallback = 20): number {
  const value = first ?? fallback;
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw badInput('first', `an integer from 0 to ${MAX_PAGE_SIZE}`, first);
  }
  return value;
}

/**
 * A free-text filter argument (a search string, a code): at most `max` characters, as the system
 * that applies it stores the field (Business Central: Text[100] names, Code[20] codes), so a
 * value the system would refuse is refused here, naming the argument. Empty means no filter.
 */
export function boundedText(
  argument: string,
  value: string | null | undefined,
  max: number,
): string | undefined {
  if (value == null || value === '') return undefined;
  if (value.length > max) throw badInput(argument, `at most ${max} characters`, value);
  return value;
}

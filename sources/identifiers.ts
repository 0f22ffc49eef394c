/**
 * Crossdock's identifiers in one place: what each key looks like (the ERP's customer and order
 * numbers, SKUs, warehouse codes) and the references Crossdock mints itself (order ids,
 * reservation references, return references, dead-letter ids). Every layer may import it; it
 * imports nothing, so a pattern is written once and every caller asks it (issue #11).
 */
import { createHash } from 'node:crypto';

/** A key as the ERP writes its codes: a letter or digit, then letters, digits, `_` and `-`. */
const codeKey = (maxChars: number): RegExp =>
  new RegExp(`^[A-Za-z0-9][A-Za-z0-9_-]{0,${maxChars - 1}}$`);

/** Length of the ERP's customer key (Business Central `No.`, Code[20]). */
export const CUSTOMER_NUMBER_CHARS = 20;

/**
 * Longest plain key an `id` argument may carry when typed by hand instead of a global ID: a
 * customer number, an ERP order or invoice number, a Crossdock order id (19 characters).
 */
export const MAX_KEY_ARGUMENT_CHARS = 32;

/**
 * A customer number as the ERP keys it (BC Code[20]): what the customer scope of an API key or
 * token must be (server/identity.ts), refused at start-up or authentication otherwise.
 */
export const CUSTOMER_NUMBER = codeKey(CUSTOMER_NUMBER_CHARS);

/**
 * A customer number in a GraphQL argument (`customerId` given as a plain number). It accepts
 * up to {@link MAX_KEY_ARGUMENT_CHARS}, wider than {@link CUSTOMER_NUMBER}: that is what the
 * graph has always accepted, and narrowing it would turn the answer to a 21- to 32-character
 * number from the ERP's (not found) into BAD_USER_INPUT, a visible change for clients.
 */
export const CUSTOMER_NUMBER_ARGUMENT = codeKey(MAX_KEY_ARGUMENT_CHARS);

/**
 * An order key in a GraphQL argument: an ERP order number or a Crossdock order id (`XD-…`).
 * ERP invoice numbers are document numbers of the same form and are parsed with it too.
 */
export const ORDER_NUMBER = codeKey(MAX_KEY_ARGUMENT_CHARS);

/**
 * Longest channel reference (a web order name, an EDI PO number, a marketplace order id): the
 * ERP keeps it as an order's `externalDocumentNumber`, Business Central's Code[35].
 */
export const MAX_EXTERNAL_REFERENCE_CHARS = 35;

/**
 * What no channel reference holds: control, format, surrogate, private-use and unassigned code
 * points (Unicode's `Other`), line and paragraph separators.
 */
const UNPRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;

/**
 * Whether `value` can be a channel reference: 1 to {@link MAX_EXTERNAL_REFERENCE_CHARS} printable
 * characters (UTF-16 code units, as `placeOrder` counts them).
 */
export function isExternalReference(value: string): boolean {
  return (
    value.length >= 1 && value.length <= MAX_EXTERNAL_REFERENCE_CHARS && !UNPRINTABLE.test(value)
  );
}

/** Longest SKU (the item number the ERP, the WMS and commerce share). */
export const MAX_SKU_CHARS = 64;

/** A SKU: 1 to {@link MAX_SKU_CHARS} printable ASCII characters, no spaces. */
export const SKU = new RegExp(`^[\\x21-\\x7e]{1,${MAX_SKU_CHARS}}$`);

/** A public API key id: 1 to 64 letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export const API_KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A warehouse code (EAST, 3PL-SOUTH): letters, digits, `-` and `_`, at most 40. */
export const WAREHOUSE_CODE = /^[A-Za-z0-9_-]{1,40}$/;

/** Hex digits of the SHA-256 that Crossdock's own references carry. */
const DIGEST_CHARS = 16;

/** The body of a Crossdock order id: `XD-` and 16 upper-case hex digits. */
const ORDER_ID_BODY = `XD-[0-9A-F]{${DIGEST_CHARS}}`;

/** A Crossdock order id, exactly (`XD-` and 16 upper-case hex digits). */
export const CROSSDOCK_ORDER_ID = new RegExp(`^${ORDER_ID_BODY}$`);

/** `XD-<id>-<warehouse>-<attempt>`: the WMS reference of one reservation. */
const RESERVATION_REFERENCE = new RegExp(`^(${ORDER_ID_BODY})-.+-\\d+$`);

/** A reference that starts with a Crossdock order id, whatever follows. */
const LEADING_ORDER_ID = new RegExp(`^${ORDER_ID_BODY}`);

/** The first 16 hex digits (upper case) of SHA-256 over the operation, scope and key. */
function digest(operation: string, scope: string, key: string): string {
  const hash = createHash('sha256').update(`${operation}\u0000${scope}\u0000${key}`).digest('hex');
  return hash.slice(0, DIGEST_CHARS).toUpperCase();
}

/**
 * The Crossdock order id of a (caller, idempotency key) pair: deterministic, so a process taking
 * over a crashed placement finds the same order.
 */
export function orderIdFor(scope: string, key: string, operation = 'placeOrder'): string {
  return `XD-${digest(operation, scope, key)}`;
}

/**
 * The return reference (RMA) of a createReturn call: deterministic like {@link orderIdFor}, and
 * what the ERP credit memo and the WMS receiver are both recorded under.
 */
export function returnReferenceFor(scope: string, key: string): string {
  return `RMA-${digest('createReturn', scope, key)}`;
}

/**
 * The WMS reference (`referenceNum`) of an order's reservation in one warehouse: unique per
 * order, warehouse and attempt, so a new attempt never reuses a released reservation.
 */
export function reservationReference(
  orderId: string,
  warehouseCode: string,
  attempt: number,
): string {
  return `${orderId}-${warehouseCode}-${attempt}`;
}

/**
 * The Crossdock order id of a reservation reference (`<XD-id>-<warehouse>-<attempt>`), or null:
 * how the ingestion tells Crossdock's reservations from ERP orders released under their number.
 */
export function orderIdOfReservation(reference: string): string | null {
  return RESERVATION_REFERENCE.exec(reference)?.[1] ?? null;
}

/**
 * The Crossdock order id a WMS order number starts with (`XD-…-EAST-1`), or null: how the graph
 * finds the order of a shipment. Laxer than {@link orderIdOfReservation} (any suffix, or none),
 * as the graph has always read it; the two are kept apart on purpose, since unifying them would
 * change which order an unusual WMS number resolves to.
 */
export function orderIdWithin(reference: string): string | null {
  return LEADING_ORDER_ID.exec(reference)?.[0] ?? null;
}

/** The id of the dead letter of an order's failed step: `DL-<order id>-<step>`, `:` as `-`. */
export function deadLetterIdFor(orderId: string, step: string): string {
  return `DL-${orderId}-${step.replaceAll(':', '-')}`;
}

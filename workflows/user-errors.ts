/**
 * Domain failures of the workflows: the `UserErrorCode` catalogue (the GraphQL enum), the
 * `UserError` every payload's `userErrors` carries, and the two helpers that make them.
 */

/** Codes of domain failures (the GraphQL `UserErrorCode` enum). */
export type UserErrorCode =
  | 'CUSTOMER_NOT_FOUND'
  | 'CREDIT_HOLD'
  | 'CREDIT_LIMIT_EXCEEDED'
  | 'UNKNOWN_SKU'
  | 'ITEM_BLOCKED'
  | 'INVALID_QUANTITY'
  | 'DUPLICATE_SKU'
  | 'TOO_MANY_LINES'
  | 'INSUFFICIENT_STOCK'
  | 'ERP_REJECTED'
  | 'ORDER_NOT_FOUND'
  | 'ALREADY_SHIPPED'
  | 'ALREADY_CANCELLED'
  | 'NOT_SHIPPED'
  | 'INVALID_RETURN_QUANTITY'
  | 'DEAD_LETTER_NOT_FOUND'
  | 'DEAD_LETTER_RESOLVED'
  | 'API_KEY_NOT_FOUND'
  | 'API_KEY_ID_TAKEN'
  | 'INVALID_KEY_SCOPE'
  | 'EXCEPTION_NOT_FOUND'
  | 'EXCEPTION_RESOLVED';

/** A domain failure: data, not an exception. */
export interface UserError {
  readonly code: UserErrorCode;
  /** Path of the input field at fault (`["lines", 2, "quantity"]`), or null. */
  readonly field: readonly (string | number)[] | null;
  readonly message: string;
}

/** Longest system message quoted in a userError. */
const MAX_SYSTEM_MESSAGE_CHARS = 300;

/** A system's message cut to {@link MAX_SYSTEM_MESSAGE_CHARS}: a system's answer is as untrusted as a client's. */
export const clip = (message: string): string =>
  message.length <= MAX_SYSTEM_MESSAGE_CHARS
    ? message
    : `${message.slice(0, MAX_SYSTEM_MESSAGE_CHARS)}… (${message.length} characters)`;

/** A user error of `code` about input field `field` (null for the input as a whole). */
export const ue = (
  code: UserErrorCode,
  message: string,
  field: readonly (string | number)[] | null = null,
): UserError => ({
  code,
  field,
  message,
});

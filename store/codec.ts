/**
 * What both store implementations share: JSON columns/fields (stored as text so SQLite and
 * MongoDB return exactly the same values) and the checks on arguments.
 */

/** JSON text of a value; `undefined` (which JSON.stringify drops) is stored as null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** The value of stored JSON text. */
export function fromJson(text: string): unknown {
  return JSON.parse(text);
}

/** The object of stored JSON text; throws naming `what` when it is not an object. */
export function fromJsonObject(text: string, what: string): Record<string, unknown> {
  const value = fromJson(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`store: expected ${what} to be a JSON object, got ${text.slice(0, 80)}`);
  }
  // Narrowed to a non-null, non-array object by the check above.
  return value as Record<string, unknown>;
}

/** Checks a listing limit: a non-negative integer. */
export function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new TypeError(`store: expected limit to be a non-negative integer, got ${String(limit)}`);
  }
  return limit;
}

/** The end of an exhaustive switch. */
export function unreachable(value: never): never {
  throw new Error(`store: unreachable case ${JSON.stringify(value)}`);
}

/** Checks a checkpoint name: a non-empty string. */
export function checkCheckpointName(name: unknown): string {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(
      `store: expected checkpoint name to be a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** Checks the arguments of a checkpoint advance: `expected` a string or null, `value` a string. */
export function checkCheckpointValues(expected: unknown, value: unknown): void {
  if (expected !== null && typeof expected !== 'string') {
    throw new TypeError(
      `store: expected the expected checkpoint value to be a string or null, got ${JSON.stringify(expected) ?? String(expected)}`,
    );
  }
  if (typeof value !== 'string') {
    throw new TypeError(
      `store: expected the new checkpoint value to be a string, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
}

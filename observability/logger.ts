/**
 * Structured logs (pino). One root logger per process; requests log through a child carrying
 * their correlation ID. Imports no business code.
 *
 * Secrets never reach a log line: the keys of {@link REDACTED_KEYS} (credentials in headers,
 * connection parameters, tokens, keys, client secrets, passwords) are replaced by `[redacted]`
 * wherever a logged object carries them, up to three levels down.
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

/** Log levels accepted by LOG_LEVEL. */
export const LOG_LEVELS: readonly LevelWithSilent[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

/**
 * The keys censored in every line, at any depth up to {@link REDACT_DEPTH} (case-insensitive):
 * credentials in headers and connection parameters, tokens, keys, client secrets, passwords.
 */
export const REDACTED_KEYS: readonly string[] = [
  'authorization',
  'cookie',
  'apikey',
  'token',
  'accesstoken',
  'access_token',
  'refreshtoken',
  'refresh_token',
  'clientsecret',
  'client_secret',
  'password',
  'secret',
  'webhooksecret',
  'x-shopify-access-token',
  'x-api-key',
];

/** How deep into a logged object keys are checked (the line itself is depth 0). */
const REDACT_DEPTH = 3;
const CENSOR = '[redacted]';
const SENSITIVE = new Set(REDACTED_KEYS);

/**
 * `value` with every sensitive key censored; the same object when it holds none (no copy).
 * Plain objects, arrays and errors' own properties; other class instances are left as they are.
 *
 * Why not pino's `redact`: its wildcard paths cost about 15 µs a line here (fast-redact walks
 * every key for each wildcard), more than the rest of the line (bench/observability.ts); one walk
 * over the keys costs about 1 µs for a system-call line.
 */
export function redacted<T>(value: T, depth = 0): T {
  if (depth > REDACT_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const next = redacted(value[i], depth + 1);
      if (next !== value[i]) (copy ??= [...value])[i] = next;
    }
    return (copy ?? value) as T;
  }
  if (value instanceof Error) {
    // An error with a sensitive property of its own is logged as pino's serializer would show
    // it (type, message, stack, its properties), censored.
    const own = redacted({ ...value } as Record<string, unknown>, depth);
    if (Object.keys(own).every((k) => own[k] === (value as unknown as Record<string, unknown>)[k]))
      return value;
    return { type: value.name, message: value.message, stack: value.stack, ...own } as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | null = null;
  for (const key of Object.keys(value)) {
    const current = (value as Record<string, unknown>)[key];
    const next =
      SENSITIVE.has(key.toLowerCase()) && current !== undefined
        ? CENSOR
        : redacted(current, depth + 1);
    if (next !== current) (copy ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  return (copy ?? value) as T;
}

/** Makes the process's root logger (to stdout, or to `destination`: tests). */
export function createLogger(
  level: LevelWithSilent,
  name = 'crossdock',
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      log: (object: Record<string, unknown>) => redacted(object),
      bindings: (bindings: Record<string, unknown>) => redacted(bindings),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger } from 'pino';

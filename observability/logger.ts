/**
 * Structured logs (pino). One root logger per process; requests log through a child carrying
 * their correlation ID. Imports no business code.
 *
 * Secrets never reach a log line: the paths of {@link REDACTED_PATHS} (credentials in headers,
 * connection parameters, tokens, keys, client secrets, passwords) are replaced by `[redacted]`
 * wherever a logged object carries them.
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

/** What is censored in every line, at the top level and one or two levels down. */
export const REDACTED_PATHS: readonly string[] = [
  'authorization',
  '*.authorization',
  '*.*.authorization',
  'cookie',
  '*.cookie',
  '*.*.cookie',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'refreshToken',
  '*.refreshToken',
  'clientSecret',
  '*.clientSecret',
  'client_secret',
  '*.client_secret',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'webhookSecret',
  '*.webhookSecret',
  '*.headers["x-shopify-access-token"]',
  '*.headers["x-api-key"]',
];

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
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger } from 'pino';

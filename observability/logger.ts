/**
 * Structured logs (pino). One root logger per process; requests log through a child carrying
 * their correlation ID. Imports no business code.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

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

/** Makes the process's root logger. */
export function createLogger(level: LevelWithSilent, name = 'crossdock'): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export type { Logger } from 'pino';

/**
 * A logger for tests that read what Crossdock logs: Crossdock's own logger (redaction included)
 * writing to memory, each line parsed.
 */
import { Writable } from 'node:stream';
import type { LevelWithSilent } from 'pino';
import { createLogger, type Logger } from '../../observability/logger.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The logger and the lines it has written so far. */
export function captureLogs(level: LevelWithSilent = 'info'): { lines: Json[]; logger: Logger } {
  const lines: Json[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text));
      done();
    },
  });
  return { lines, logger: createLogger(level, 'crossdock', stream) };
}

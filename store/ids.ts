/**
 * Identifiers the store's callers need: the owner id a process puts on the leases it holds, and
 * dead-letter ids. ULIDs, so ids sort by creation time (keyset paging, "oldest first" listings).
 */
import { hostname } from 'node:os';
import { ulid } from 'ulid';

/**
 * An owner id for this process's leases (idempotency records, dead letters). Host and pid make
 * a stuck lease traceable to the process that held it; the ULID keeps two processes that reuse
 * a pid (a restart) from ever sharing an id, so a restarted process never "still owns" the
 * leases of the crashed one and must take them over explicitly.
 */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${ulid()}`;
}

/** A new dead-letter id (`DL-` and a ULID). */
export function newDeadLetterId(): string {
  return `DL-${ulid()}`;
}

/** A new exception item id (`EX-` and a ULID, so ids sort by creation). */
export function newExceptionId(): string {
  return `EX-${ulid()}`;
}

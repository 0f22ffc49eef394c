/**
 * Trusted documents (issue #10): per client, `off` (any document), `allow-list` (any document;
 * unregistered ones logged with their hash, to build the list from real traffic) or `enforced`
 * (only registered documents). Registered documents are kept by SHA-256 of their text in a
 * manifest (TRUSTED_DOCUMENTS_FILE, written by `npm run documents`), and a client may send just
 * the hash: `documentId: "sha256:<hex>"` (GraphQL over HTTP persisted documents) or Apollo's
 * `extensions.persistedQuery.sha256Hash`, over POST or GET. A document sent as text in `enforced`
 * mode must hash to a registered one.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Logger } from '../observability/logger.js';

export const DOCUMENT_MODES = ['off', 'allow-list', 'enforced'] as const;
export type DocumentMode = (typeof DOCUMENT_MODES)[number];

/** One client's trusted documents. */
export interface ClientDocuments {
  readonly mode: DocumentMode;
  /** SHA-256 (hex) → document text. */
  readonly documents: ReadonlyMap<string, string>;
}

/** The manifest, per client, and the mode of clients it does not name. */
export interface TrustedDocuments {
  readonly defaultMode: DocumentMode;
  readonly clients: ReadonlyMap<string, ClientDocuments>;
}

/** The SHA-256 (hex) of a document's text. */
export const documentHash = (text: string): string =>
  createHash('sha256').update(text, 'utf8').digest('hex');

const Manifest = z.record(
  z.string().min(1),
  z
    .object({
      mode: z.enum(DOCUMENT_MODES),
      documents: z.record(
        z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex'),
        z.string().min(1),
      ),
    })
    .strict(),
);

/** Parses a manifest's JSON; throws a message naming what is wrong (a hash that does not match). */
export function parseManifest(text: string, defaultMode: DocumentMode): TrustedDocuments {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(
      'a JSON object {"<client>": {"mode": "...", "documents": {"<sha256>": "<document>"}}}',
      { cause: error },
    );
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const clients = new Map<string, ClientDocuments>();
  for (const [client, entry] of Object.entries(parsed.data)) {
    const documents = new Map<string, string>();
    for (const [hash, document] of Object.entries(entry.documents)) {
      if (documentHash(document) !== hash) {
        throw new Error(
          `${client}: the document under ${hash} hashes to ${documentHash(document)}`,
        );
      }
      documents.set(hash, document);
    }
    clients.set(client, { mode: entry.mode, documents });
  }
  return { defaultMode, clients };
}

/** Reads the manifest file. */
export function readManifest(file: string, defaultMode: DocumentMode): TrustedDocuments {
  return parseManifest(readFileSync(file, 'utf8'), defaultMode);
}

/** What a request asks for: a document's text, its hash, or both. */
export interface DocumentRequest {
  readonly query?: unknown;
  readonly documentId?: unknown;
  readonly extensions?: unknown;
}

/** The outcome of resolving a request's document. */
export type Resolution =
  | { readonly kind: 'pass' }
  | { readonly kind: 'resolved'; readonly query: string }
  | { readonly kind: 'unlisted'; readonly hash: string }
  | {
      readonly kind: 'refused';
      readonly code: 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT';
      readonly message: string;
      readonly reason: string;
    };

/** The hash a request names, if it names one (either convention). */
function requestedHash(request: DocumentRequest): string | null {
  if (typeof request.documentId === 'string') {
    const match = /^sha256:([0-9a-f]{64})$/.exec(request.documentId);
    return match?.[1] ?? `invalid:${request.documentId.slice(0, 80)}`;
  }
  const persisted = (request.extensions as { persistedQuery?: { sha256Hash?: unknown } } | null)
    ?.persistedQuery;
  if (persisted && typeof persisted.sha256Hash === 'string') {
    return /^[0-9a-f]{64}$/.test(persisted.sha256Hash)
      ? persisted.sha256Hash
      : `invalid:${persisted.sha256Hash.slice(0, 80)}`;
  }
  return null;
}

/** Resolves the document of a client's request under the manifest. */
export function resolveDocument(
  trusted: TrustedDocuments,
  client: string,
  request: DocumentRequest,
): Resolution {
  const entry = trusted.clients.get(client);
  const mode = entry?.mode ?? trusted.defaultMode;
  const hash = requestedHash(request);
  if (hash !== null) {
    if (hash.startsWith('invalid:')) {
      return {
        kind: 'refused',
        code: 'BAD_USER_INPUT',
        reason: 'DOCUMENT_ID_INVALID',
        message: `expected documentId "sha256:<64 hex digits>" or extensions.persistedQuery.sha256Hash of 64 hex digits, got ${JSON.stringify(hash.slice(8))}`,
      };
    }
    const document = entry?.documents.get(hash);
    if (!document) {
      return {
        kind: 'refused',
        code: 'NOT_FOUND',
        reason: 'DOCUMENT_NOT_FOUND',
        message: `No trusted document sha256:${hash} for this client: register it with npm run documents`,
      };
    }
    if (
      typeof request.query === 'string' &&
      request.query !== '' &&
      documentHash(request.query) !== hash
    ) {
      return {
        kind: 'refused',
        code: 'BAD_USER_INPUT',
        reason: 'DOCUMENT_MISMATCH',
        message: `the query sent does not hash to sha256:${hash}`,
      };
    }
    return { kind: 'resolved', query: document };
  }
  if (mode === 'off' || typeof request.query !== 'string') return { kind: 'pass' };
  const textHash = documentHash(request.query);
  if (entry?.documents.has(textHash)) return { kind: 'pass' };
  if (mode === 'allow-list') return { kind: 'unlisted', hash: textHash };
  return {
    kind: 'refused',
    code: 'FORBIDDEN',
    reason: 'DOCUMENT_NOT_TRUSTED',
    message: `This client runs registered documents only: send documentId "sha256:<hash>" of a document registered with npm run documents (this one is sha256:${textHash})`,
  };
}

/** Logs a document served unregistered in allow-list mode (the list is built from these). */
export function logUnlisted(
  logger: Logger,
  client: string,
  hash: string,
  correlationId?: unknown,
): void {
  logger.warn(
    { client, document: `sha256:${hash}`, ...(correlationId ? { correlationId } : {}) },
    'unregistered document served (allow-list mode)',
  );
}

const STATUS: Readonly<Record<'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT', number>> = {
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
};

/** The request without its document hash (documentId, persistedQuery), with `query` set. */
function withQuery(request: Record<string, unknown>, query: string): Record<string, unknown> {
  const { documentId: _id, extensions, ...rest } = request;
  if (!extensions || typeof extensions !== 'object') return { ...rest, query };
  const { persistedQuery: _pq, ...others } = extensions as Record<string, unknown>;
  return { ...rest, query, extensions: others };
}

/** What trusted documents make of one HTTP request: served (perhaps rewritten) or refused. */
export type HttpDocuments =
  | { readonly kind: 'serve'; readonly search: string; readonly body: unknown }
  | {
      readonly kind: 'refused';
      readonly status: number;
      readonly body: {
        readonly errors: readonly [
          {
            readonly message: string;
            readonly extensions: { readonly code: string; readonly reason: string };
          },
        ];
      };
    };

/** One HTTP request as Apollo will read it: a GET's search, a POST's parsed body. */
export interface HttpDocumentRequest {
  readonly method: string;
  /** The URL's search (`?query=…`, or `''`). */
  readonly search: string;
  readonly body: unknown;
  readonly correlationId: string;
}

/**
 * The HTTP half of trusted documents, between reading the body and Apollo (server/graphql-http.ts):
 * for the authenticated caller's client, resolves a documentId into its document (rewriting the
 * POST body or the GET search Apollo reads), refuses what the client's mode refuses, logs what
 * allow-list mode lets through.
 */
export function trustedHttpRequest(
  trusted: TrustedDocuments,
  logger: Logger,
  client: string,
  http: HttpDocumentRequest,
): HttpDocuments {
  const served = { kind: 'serve', search: http.search, body: http.body } as const;
  if (trusted.clients.size === 0 && trusted.defaultMode === 'off') return served;
  const params = http.method === 'GET' ? new URLSearchParams(http.search) : null;
  let request: Record<string, unknown>;
  if (params) {
    let extensions: unknown;
    try {
      extensions = params.has('extensions')
        ? JSON.parse(params.get('extensions') ?? '')
        : undefined;
    } catch {
      return served; // Apollo refuses it with its own message
    }
    request = Object.fromEntries(params);
    if (extensions !== undefined) request.extensions = extensions;
  } else request = (http.body ?? {}) as Record<string, unknown>;
  const resolution = resolveDocument(trusted, client, request);
  switch (resolution.kind) {
    case 'pass':
      return served;
    case 'unlisted':
      logUnlisted(logger, client, resolution.hash, http.correlationId);
      return served;
    case 'resolved': {
      const resolved = withQuery(request, resolution.query);
      if (!params) return { kind: 'serve', search: http.search, body: resolved };
      const search = new URLSearchParams();
      for (const [name, value] of Object.entries(resolved))
        search.set(name, typeof value === 'string' ? value : JSON.stringify(value));
      return { kind: 'serve', search: `?${search.toString()}`, body: http.body };
    }
    case 'refused':
      return {
        kind: 'refused',
        status: STATUS[resolution.code],
        body: {
          errors: [
            {
              message: resolution.message,
              extensions: { code: resolution.code, reason: resolution.reason },
            },
          ],
        },
      };
    default: {
      const unreachable: never = resolution;
      throw new Error(`unknown resolution ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * The GraphQL HTTP edge (issue #13): `/graphql` served straight from node:http's request event,
 * without Express and body-parser (which cost ~40% of a trivial query's CPU), calling Apollo
 * Server's `executeHTTPGraphQLRequest` as `@as-integrations/express5` does. Every other path, and
 * the browser's page requests for the playground, stay on Express (server/app.ts routes them).
 *
 * Per request, in order, with the answers Express and express.json gave:
 *
 * | step                | answer                                                                   |
 * | ------------------- | ------------------------------------------------------------------------ |
 * | correlation         | `x-correlation-id` on every response                                     |
 * | path                | 404 `NOT_FOUND` below /graphql (`/graphql/x`)                            |
 * | media type          | 415 for a POST that is not `application/json` (or has no body)           |
 * | body (any method)   | 413 above `maxBodyBytes`, 415 charset or encoding, 400 JSON (below)      |
 * | authentication      | kept; thrown by the context, so Apollo answers it (401)                  |
 * | trusted documents   | refused (403, 404, 400) or resolved into the query (server/documents.ts) |
 * | execution           | Apollo, inside the request's correlation and span                        |
 *
 * The body is read as body-parser's JSON parser reads it (raw-body, the same charsets through
 * iconv-lite, gzip / deflate / br inflated, the limit counted on the inflated bytes, strict JSON:
 * an object or an array), and never buffered past the limit: a body over it is answered 413 at
 * once (before it is read when its Content-Length says so) and the rest is discarded as it comes,
 * so the connection stays usable; a client that aborts is left alone.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import { parse as parseUrl } from 'node:url';
import { MIMEType } from 'node:util';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import getRawBody from 'raw-body';
import {
  CORRELATION_HEADER,
  correlationFrom,
  withCorrelation,
} from '../observability/correlation.js';
import type { Logger } from '../observability/logger.js';
import { SpanKind, endSpan, type Tracing } from '../observability/tracing.js';
import type { Caller } from '../resolvers/context.js';
import { trustedHttpRequest, type TrustedDocuments } from './documents.js';
import { bodyRefusal } from './transport.js';

/** What the context factory is given of one request. */
export interface GraphqlHttpRequest {
  readonly req: IncomingMessage;
  readonly correlationId: string;
  /** The authenticated caller; throws the authentication error (Apollo answers it, 401). */
  caller(): Caller;
}

/** What {@link createGraphqlHttp} needs. */
export interface GraphqlHttpOptions<TContext extends BaseContext> {
  /** Started. */
  readonly apollo: ApolloServer<TContext>;
  /** Largest request body, inflated, in bytes (`HTTP_MAX_BODY_BYTES`). */
  readonly maxBodyBytes: number;
  /** Who is calling, once per request (a rejection is kept for the context to throw). */
  readonly authenticate: (req: IncomingMessage) => Promise<Caller>;
  readonly documents: TrustedDocuments;
  readonly tracing: Tracing;
  readonly logger: Logger;
  readonly context: (request: GraphqlHttpRequest) => Promise<TContext>;
}

/** The `/graphql` of Express's routing (case-insensitive, a trailing slash allowed). */
const GRAPHQL_PATH = '/graphql';

/**
 * Where `url` is relative to /graphql, matched as Express matched `app.use('/graphql')`: `''` for
 * /graphql itself (or /graphql/), the rest (`/x`) below it, null for any other path.
 */
export function belowGraphql(url: string | undefined): string | null {
  const pathname = parseUrl(url ?? '').pathname ?? '';
  if (pathname.slice(0, GRAPHQL_PATH.length).toLowerCase() !== GRAPHQL_PATH) return null;
  const rest = pathname.slice(GRAPHQL_PATH.length);
  if (rest === '' || rest === '/') return '';
  return rest.startsWith('/') ? rest : null;
}

/** A JSON answer as Express's `res.status(status).json(body)` wrote it. */
function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed || res.socket?.destroyed) return;
  const bytes = Buffer.from(JSON.stringify(body));
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', bytes.length);
  res.end(bytes);
}

const refusal = (message: string, code = 'BAD_USER_INPUT') => ({
  errors: [{ message, extensions: { code } }],
});

/** A body-reading failure, shaped as body-parser's (http-errors) so {@link bodyRefusal} reads it. */
const bodyError = (status: number, type: string, fields: Record<string, unknown> = {}) =>
  Object.assign(new Error(type), { status, type, ...fields });

/** type-is `hasBody`: a body is framed by Transfer-Encoding or a Content-Length (even 0). */
const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined ||
  !Number.isNaN(Number(req.headers['content-length'] ?? NaN));

/** The request's media type, when it is `application/json` (Express's `req.is`), and its charset. */
function jsonType(req: IncomingMessage): { charset: string | undefined } | null {
  const header = req.headers['content-type'];
  if (!header || !hasBody(req)) return null;
  if (header === 'application/json') return { charset: undefined };
  let type: MIMEType;
  try {
    type = new MIMEType(header);
  } catch {
    return null;
  }
  if (type.essence !== 'application/json') return null;
  return { charset: type.params.get('charset')?.trim().toLowerCase() };
}

/** The decoder of a Content-Encoding body-parser inflates (Node 20 has no zstd). */
function inflater(encoding: string): Transform | null {
  switch (encoding) {
    case 'gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return null;
  }
}

/**
 * Reads a JSON body as express.json did: `undefined` when there is none or it is not JSON, `{}`
 * for an empty one; rejects with an error {@link bodyRefusal} (or the edge) words, also when the
 * client aborts. After a failure the rest of the body is discarded as it arrives, never buffered.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = jsonType(req);
  if (!type) return undefined;
  // RFC 7159 §8.1: JSON is UTF-8, -16 or -32; iconv-lite decodes them (and drops a BOM).
  const charset = type.charset ?? 'utf-8';
  if (!charset.startsWith('utf-')) throw bodyError(415, 'charset.unsupported', { charset });
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  const inflate = encoding === 'identity' ? null : inflater(encoding);
  if (encoding !== 'identity' && !inflate)
    throw bodyError(415, 'encoding.unsupported', { encoding });
  // A client that aborts ends the inflated stream too (it would wait for more otherwise).
  const aborted = () => inflate?.destroy(bodyError(400, 'request.aborted'));
  if (inflate) {
    req.pipe(inflate);
    req.once('aborted', aborted);
  }
  let text: string;
  try {
    text = await getRawBody(inflate ?? req, {
      // The declared length is checked for an identity body only (an inflated one differs).
      length: inflate ? null : (req.headers['content-length'] ?? null),
      limit,
      encoding: charset,
    });
  } catch (error) {
    req.off('aborted', aborted);
    discard(req, inflate);
    const type = (error as { type?: unknown }).type;
    throw type === 'encoding.unsupported'
      ? bodyError(415, 'charset.unsupported', { charset })
      : error;
  }
  req.off('aborted', aborted);
  if (inflate) discard(req, inflate);
  return parseStrict(text);
}

/** Stops inflating and lets the rest of the request's bytes go (read and dropped). */
function discard(req: IncomingMessage, inflate: Transform | null): void {
  if (inflate) {
    req.unpipe(inflate);
    inflate.on('error', () => undefined);
    inflate.destroy();
  }
  req.resume();
}

/** The first character that is not JSON whitespace (RFC 7159 `ws`). */
const FIRST = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d]|$)/;

/**
 * body-parser's strict JSON: `{}` for an empty body, an object or an array, else a SyntaxError
 * worded as JSON.parse words the first character (e.g. `Unexpected token 'n', "null" is not valid
 * JSON`): it parses the text with that character and what follows masked, then unmasks them.
 */
function parseStrict(text: string): unknown {
  if (text.length === 0) return {};
  const first = text[0] === '{' || text[0] === '[' ? text[0] : (FIRST.exec(text)?.[1] ?? '');
  if (first !== '{' && first !== '[') {
    const at = first === '' ? -1 : text.indexOf(first);
    const masked = at === -1 ? '' : text.slice(0, at) + '#'.repeat(text.length - at);
    try {
      JSON.parse(masked);
    } catch (error) {
      const message = (error as Error).message.replace(/#+/g, (run) =>
        text.substring(at, at + run.length),
      );
      throw bodyError(400, 'entity.parse.failed', { message });
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw bodyError(400, 'entity.parse.failed', { message: (error as Error).message });
  }
}

/** The answer to a body that could not be read, or null for an error that is not the client's. */
function bodyAnswer(error: unknown, limit: number): { status: number; message: string } | null {
  switch ((error as { type?: unknown } | null)?.type) {
    case 'entity.too.large':
      return {
        status: 413,
        message: `Request body too large: expected at most ${limit} bytes of JSON`,
      };
    case 'entity.parse.failed':
      return {
        status: 400,
        message: `Malformed request body: expected JSON, got a body that does not parse (${(error as Error).message})`,
      };
    default:
      return bodyRefusal(error);
  }
}

/** Express's `req.headers` as Apollo's HeaderMap (repeated headers joined, as the integration does). */
function headerMap(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/** Makes the request handler of `/graphql` (see the module's comment). */
export function createGraphqlHttp<TContext extends BaseContext>(
  options: GraphqlHttpOptions<TContext>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { apollo, maxBodyBytes: limit, tracing, logger } = options;
  apollo.assertStarted('createGraphqlHttp()');

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const correlation = correlationFrom(req.headers);
    const { correlationId } = correlation;
    res.setHeader(CORRELATION_HEADER, correlationId);
    const url = req.url ?? '/';
    // GraphQL is served at /graphql itself, not below it.
    if (belowGraphql(url) !== '') {
      reply(
        res,
        404,
        refusal(
          `Not found: GraphQL is served at /graphql, not ${JSON.stringify(url.slice(0, 64))}`,
          'NOT_FOUND',
        ),
      );
      return;
    }
    // GraphQL over HTTP: a POST body is application/json; anything else is 415, not a 400
    // about a body Apollo could not find.
    if (req.method === 'POST' && !jsonType(req)) {
      const type = req.headers['content-type'];
      reply(
        res,
        415,
        refusal(
          `Unsupported Content-Type: expected application/json, got ${type === undefined ? 'none' : JSON.stringify(type.slice(0, 64))}`,
        ),
      );
      return;
    }
    let body: unknown;
    try {
      body = await readJsonBody(req, limit);
    } catch (error) {
      const answer = bodyAnswer(error, limit);
      if (!answer) throw error;
      reply(res, answer.status, refusal(answer.message)); // nothing when the client is gone
      return;
    }
    // Who is calling, once per request: the trusted-documents check needs the client; an
    // authentication failure is kept for the context to throw, where it is answered as ever.
    let caller: Caller | undefined;
    let authError: unknown;
    try {
      caller = await options.authenticate(req);
    } catch (error) {
      authError = error;
    }
    let search = parseUrl(url).search ?? '';
    if (caller) {
      const outcome = trustedHttpRequest(options.documents, logger, caller.client, {
        method: req.method ?? 'GET',
        search,
        body,
        correlationId,
      });
      if (outcome.kind === 'refused') {
        reply(res, outcome.status, outcome.body);
        return;
      }
      ({ search, body } = outcome);
    }
    // The operation runs inside its correlation (observability/correlation.ts): set here, after
    // the body was read (stream callbacks do not carry it), so resolvers, loader batches and
    // every system call they make see it. Its span (named once the operation is known) is the
    // parent of its loader batches and system calls; ended when the response is.
    const traced = { ...correlation, tracing };
    const span = withCorrelation(traced, () =>
      tracing.start('graphql', {
        kind: SpanKind.SERVER,
        attributes: { 'crossdock.transport': 'http', 'http.request.method': req.method ?? '' },
      }),
    );
    if (span) res.once('close', () => endSpan(span));
    const response = await withCorrelation(span ? { ...traced, span } : traced, () =>
      apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: {
          method: (req.method ?? '').toUpperCase(),
          headers: headerMap(req),
          search,
          body,
        },
        context: () =>
          options.context({
            req,
            correlationId,
            caller: () => {
              if (!caller) throw authError;
              return caller;
            },
          }),
      }),
    );
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      const bytes = Buffer.from(response.body.string);
      // Named as Express's res.send named them (the names are case-insensitive; the bytes equal).
      const type = response.headers.get('content-type');
      if (type !== undefined) res.setHeader('Content-Type', type);
      res.setHeader('Content-Length', bytes.length);
      res.end(bytes); // node:http sends no body for HEAD
      return;
    }
    // Incremental delivery (multipart/mixed): each part as it is ready.
    for await (const chunk of response.body.asyncIterator) {
      if (res.destroyed) break;
      res.write(chunk);
    }
    res.end();
  };

  return (req, res) => {
    serve(req, res).catch((error: unknown) => {
      // Apollo answers its own failures: this is a failure of the edge itself.
      const correlationId = res.getHeader(CORRELATION_HEADER);
      logger.error({ err: error, correlationId }, 'GraphQL HTTP edge failed');
      if (res.headersSent) res.destroy();
      else reply(res, 500, refusal('Internal server error', 'INTERNAL_SERVER_ERROR'));
    });
  };
}

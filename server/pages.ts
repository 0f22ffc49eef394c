/**
 * The pages people use (issue #12): the GraphiQL playground at `GET /graphql` (when a browser
 * asks for HTML) and `/playground`, the operations console at `/ops`, and their bundles under
 * `/pages/`. The bundles are built from npm packages by `npm run build:pages` (pages/dist), so
 * nothing loads from the internet; the pages talk only to the GraphQL API, with the caller's key.
 */
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import Negotiator from 'negotiator';
import { existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { parse as parseUrl } from 'node:url';
import type { DemoKeys, PageConfig } from '../pages/shared/contract.js';
import { PROJECT_ROOT } from './paths.js';

/** Where `npm run build:pages` writes the bundles. */
export const PAGES_DIST = join(PROJECT_ROOT, 'pages', 'dist');

/** Options of the pages router. */
export interface PagesOptions {
  /** The GraphQL path the pages talk to. @default '/graphql' */
  readonly endpoint?: string;
  /** Prefilled keys: only where the demo keys exist (the embedded default); else null. */
  readonly demoKeys: DemoKeys | null;
  /** The built bundles. @default PAGES_DIST */
  readonly dist?: string;
  /** Serve the playground (PLAYGROUND). @default true */
  readonly playground?: boolean;
  /** Serve the operations console (OPS_CONSOLE). @default true */
  readonly console?: boolean;
}

/**
 * Scripts only from Crossdock itself (no inline script: the page's configuration is a JSON
 * data block), connections only to its own origin (HTTP and graphql-ws), never framed.
 * GraphiQL's editors set inline styles, so styles allow them.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The pages, by path: their title and bundle. */
const PAGES = {
  playground: { title: 'Crossdock playground', bundle: 'graphiql', rootId: 'graphiql' },
  ops: { title: 'Crossdock operations', bundle: 'ops', rootId: 'ops' },
} as const;

/** True for a request a browser makes to show a page: GET, no operation, HTML preferred. */
export function wantsPage(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  // An operation in the query string is GraphQL over HTTP, whatever the Accept header says.
  const search = parseUrl(req.url ?? '').search;
  if (search && new URLSearchParams(search).has('query')) return false;
  const accept = req.headers.accept;
  if (!accept) return false;
  const preferred = new Negotiator({ headers: { accept } }).mediaType([
    'application/graphql-response+json',
    'application/json',
    'text/html',
  ]);
  return preferred === 'text/html';
}

/** The router serving both pages and their bundles. */
export function pagesRouter(options: PagesOptions): {
  readonly router: Router;
  /** Serves the playground; for `GET /graphql` when {@link wantsPage}. Null when it is off. */
  readonly playground: RequestHandler | null;
} {
  const dist = options.dist ?? PAGES_DIST;
  const config = JSON.stringify({
    endpoint: options.endpoint ?? '/graphql',
    demoKeys: options.demoKeys,
  } satisfies PageConfig);
  const page =
    (name: keyof typeof PAGES): RequestHandler =>
    (_req, res) => {
      const { title, bundle, rootId } = PAGES[name];
      res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      res.setHeader('cache-control', 'no-store');
      if (!existsSync(join(dist, `${bundle}.js`))) {
        // A checkout that skipped the build: say how to fix it rather than serve a blank page.
        res
          .status(503)
          .type('text/plain')
          .send(`The ${title} is not built: run \`npm run build:pages\` (writes pages/dist).\n`);
        return;
      }
      res.type('html').send(html(title, bundle, rootId, config));
    };
  const router = express.Router();
  const playground = options.playground ?? true;
  const opsConsole = options.console ?? true;
  if (playground) router.get('/playground', page('playground'));
  if (opsConsole) router.get('/ops', page('ops'));
  if (playground || opsConsole)
    router.get('/', (_req, res) => res.redirect(302, playground ? '/playground' : '/ops'));
  router.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });
  const assets: RequestHandler = (_req, res, next) => {
    res.setHeader('x-content-type-options', 'nosniff');
    next();
  };
  const missing: ErrorRequestHandler = (error: { status?: number }, _req, res, _next) => {
    const status = error.status === 404 ? 404 : 400;
    res
      .status(status)
      .type('text/plain')
      .send(status === 404 ? 'Not found\n' : 'Bad request\n');
  };
  // Bundles revalidate (ETag) rather than live in caches: a rebuilt page is seen at once.
  router.use(
    '/pages',
    assets,
    express.static(dist, {
      fallthrough: false,
      index: false,
      cacheControl: false,
      dotfiles: 'deny',
    }),
    missing,
  );
  return { router, playground: playground ? page('playground') : null };
}

/** The page: its bundle, its stylesheet and its configuration as a JSON data block. */
function html(title: string, bundle: string, rootId: string, config: string): string {
  // `<` escaped so no value can close the data block.
  const data = config.replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/pages/${bundle}.css">
<script type="application/json" id="crossdock-config">${data}</script>
<script type="module" src="/pages/${bundle}.js"></script>
</head>
<body>
<div id="${rootId}"></div>
<noscript>${title} needs JavaScript.</noscript>
</body>
</html>
`;
}

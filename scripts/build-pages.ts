/**
 * Builds the browser pages (pages/: the GraphiQL playground and the operations console) into
 * pages/dist with esbuild, from npm packages only: nothing is fetched at run time, so both work
 * offline (issue #12). Runs before `npm start` (prestart) and in `npm test`; the server answers
 * 503 naming this command when the bundles are missing.
 */
import { build } from 'esbuild';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'pages');
const outdir = join(root, 'dist');

const started = performance.now();
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints: {
    graphiql: join(root, 'graphiql', 'main.tsx'),
    ops: join(root, 'ops', 'main.tsx'),
  },
  outdir,
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  target: ['chrome120', 'firefox120', 'safari17'],
  platform: 'browser',
  jsx: 'automatic',
  // GraphiQL is React; the console is Preact (pages/ops/tsconfig-free: its files set the
  // pragma themselves through jsxImportSource below).
  tsconfigRaw: { compilerOptions: { jsx: 'react-jsx' } },
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.woff2': 'dataurl', '.woff': 'dataurl', '.svg': 'dataurl', '.png': 'dataurl' },
  metafile: true,
  logLevel: 'warning',
  legalComments: 'linked',
});
const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith('.map') && !file.endsWith('.LEGAL.txt'))
  .map(
    ([file, { bytes }]) =>
      `${file.slice(file.lastIndexOf('/') + 1)} ${(bytes / 1024).toFixed(0)} KiB`,
  );
console.log(`pages built in ${Math.round(performance.now() - started)} ms: ${sizes.join(', ')}`);

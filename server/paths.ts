/**
 * Where the checkout's own files are, whether this code runs from its source (`server/*.ts`
 * under tsx: the tests) or from the build (`dist/server/*.js` under node: `npm start`). The SDL,
 * the schema snapshot and the pages' bundles are read from the checkout, so `npm run build`
 * emits code only.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: the nearest folder above this file that holds package.json. */
export const PROJECT_ROOT = rootAbove(dirname(fileURLToPath(import.meta.url)));

function rootAbove(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json in any folder above ${start}`);
  }
}

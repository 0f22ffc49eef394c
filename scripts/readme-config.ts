/**
 * `npm run docs:config`: rewrites README.md's configuration table from SETTINGS in
 * server/config.ts, so the documentation cannot drift from the code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { SETTINGS } from '../server/config.js';

const file = new URL('../README.md', import.meta.url);
const readme = readFileSync(file, 'utf8');
const start = readme.indexOf('<!-- config:start');
const end = readme.indexOf('<!-- config:end -->');
if (start < 0 || end < start)
  throw new Error('README.md has no <!-- config:start --> … <!-- config:end --> markers');
const head = readme.slice(0, readme.indexOf('\n', start) + 1);
const rows = SETTINGS.map(
  (s) => `| \`${s.name}\` | ${s.default} | ${s.description.replaceAll('|', '\\|')} |`,
);
const table = ['| setting | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
writeFileSync(file, `${head}${table}\n${readme.slice(end)}`);

/**
 * `npm run documents -- --file <manifest.json> --client <client> [--mode off|allow-list|enforced]
 * <document.graphql>...`: registers a client's documents in the trusted-documents manifest
 * (TRUSTED_DOCUMENTS_FILE, server/documents.ts), each under the SHA-256 of its text, and prints
 * the documentId of each ("sha256:<hex>") for the client to send.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'graphql';
import {
  DOCUMENT_MODES,
  documentHash,
  parseManifest,
  type DocumentMode,
} from '../server/documents.js';

function fail(message: string): never {
  process.stderr.write(`npm run documents: ${message}\n`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    file: { type: 'string' },
    client: { type: 'string' },
    mode: { type: 'string' },
  },
});
if (!values.file) fail('expected --file <manifest.json>');
if (!values.client) fail("expected --client <client> (a key's client, a token's azp)");
const mode = values.mode as DocumentMode | undefined;
if (mode !== undefined && !(DOCUMENT_MODES as readonly string[]).includes(mode)) {
  fail(`expected --mode ${DOCUMENT_MODES.join('|')}, got ${JSON.stringify(mode)}`);
}
const manifest = existsSync(values.file)
  ? (JSON.parse(readFileSync(values.file, 'utf8')) as Record<
      string,
      { mode: DocumentMode; documents: Record<string, string> }
    >)
  : {};
const entry = manifest[values.client] ?? { mode: mode ?? 'allow-list', documents: {} };
if (mode) entry.mode = mode;
for (const path of positionals) {
  const text = readFileSync(path, 'utf8');
  try {
    parse(text);
  } catch (error) {
    fail(`${path}: not a GraphQL document (${(error as Error).message})`);
  }
  const hash = documentHash(text);
  entry.documents[hash] = text;
  process.stdout.write(`${path}  sha256:${hash}\n`);
}
manifest[values.client] = entry;
const json = `${JSON.stringify(manifest, null, 2)}\n`;
parseManifest(json, 'off'); // what Crossdock will load
writeFileSync(values.file, json);
process.stdout.write(
  `${values.file}: ${values.client} ${entry.mode}, ${Object.keys(entry.documents).length} documents\n`,
);

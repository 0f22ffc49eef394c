/**
 * `npm run keys -- --id <id> --role <role> [--client <client>] [--channel <CHANNEL>]
 * [--customer <number>] [--customers <n1,n2,…>] [--expires <ISO time>]`: makes an API key, prints it once (it is kept
 * nowhere) and prints its API_KEYS entry, hashed under API_KEY_SECRET (issue #10).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ROLES, checkScope, keyEntry, parseApiKeyEntries, type Role } from '../server/identity.js';

function fail(message: string): never {
  process.stderr.write(`npm run keys: ${message}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    role: { type: 'string' },
    client: { type: 'string' },
    channel: { type: 'string' },
    customer: { type: 'string' },
    customers: { type: 'string' },
    expires: { type: 'string' },
  },
});
const secret = process.env.API_KEY_SECRET;
if (!secret || secret.length < 32) fail('expected API_KEY_SECRET of at least 32 characters');
if (!values.id) fail('expected --id <public key id>');
const role = values.role as Role | undefined;
if (!role || !(ROLES as readonly string[]).includes(role)) {
  fail(`expected --role ${ROLES.join('|')}, got ${JSON.stringify(values.role ?? null)}`);
}
const customers = values.customers?.split(',').map((c) => c.trim()) ?? null;
const wrong = checkScope({
  role,
  channel: values.channel ?? null,
  customer: values.customer ?? null,
  customers,
});
if (wrong) fail(`expected ${wrong}`);
const key = `cdk_${randomBytes(32).toString('base64url')}`;
const entry = keyEntry(secret, {
  id: values.id,
  key,
  role,
  ...(values.client ? { client: values.client } : {}),
  ...(values.channel ? { channel: values.channel } : {}),
  ...(values.customer ? { customer: values.customer } : {}),
  ...(customers ? { customers } : {}),
  ...(values.expires ? { expires: values.expires } : {}),
});
try {
  parseApiKeyEntries(JSON.stringify([entry]));
} catch (error) {
  fail((error as Error).message);
}
process.stdout.write(
  `key (shown once; give it to ${String(entry.client)}):\n${key}\n\nAPI_KEYS entry:\n${JSON.stringify(entry)}\n`,
);

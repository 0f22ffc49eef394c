/**
 * The reference servers of bench/limits.ts, one per child process, so each has its own CPU
 * figures in /proc: LIMITS_SERVER=apollo is a default `@apollo/server` standalone server with a
 * one-field schema; LIMITS_SERVER=http is bare `node:http` reading the request body and writing
 * the answer `{ __typename }` would get, with no GraphQL at all (the machine's floor for one HTTP
 * request and response). Listens on 127.0.0.1:PORT and prints `listening <url>`.
 */
import { createServer } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

/** What `{ __typename }` answers (bench/limits.ts checks every response for it). */
const TRIVIAL_ANSWER = '{"data":{"__typename":"Query"}}';

const port = Number(process.env['PORT'] ?? 0);
const kind = process.env['LIMITS_SERVER'];

async function main(): Promise<void> {
  switch (kind) {
    case 'apollo': {
      // Every option left at its default: this is what `startStandaloneServer` gives anyone.
      const server = new ApolloServer({
        typeDefs: 'type Query { hello: String }',
        resolvers: { Query: { hello: () => 'world' } },
      });
      const { url } = await startStandaloneServer(server, { listen: { port, host: '127.0.0.1' } });
      process.stdout.write(`listening ${url}\n`);
      return;
    }
    case 'http': {
      const body = Buffer.from(`${TRIVIAL_ANSWER}\n`);
      const server = createServer((req, res) => {
        // The body is read to its end, as a GraphQL server must, and then dropped.
        req.on('data', () => undefined);
        req.on('end', () => {
          res.writeHead(200, {
            'content-type': 'application/json; charset=utf-8',
            'content-length': body.length,
          });
          res.end(body);
        });
      });
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      process.stdout.write(`listening http://127.0.0.1:${port}/\n`);
      return;
    }
    default:
      throw new Error(`LIMITS_SERVER: expected apollo or http, got ${JSON.stringify(kind)}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`limits child failed: ${String(error)}\n`);
  process.exit(1);
});

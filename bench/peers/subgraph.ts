/**
 * One peer subgraph as its own process: `PEER_SUBGRAPH=erp|commerce|wms PEER_PORT=n tsx
 * bench/peers/subgraph.ts`. An @apollo/subgraph schema served by @apollo/server's standalone
 * HTTP server, fresh DataLoaders per request, Crossdock's connectors to the sandbox systems.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { DocumentNode } from 'graphql';
import { peerContext, peerPort, peerSources, type PeerContext } from './common.js';
import { SUBGRAPHS, type SubgraphName } from './supergraph.js';

const name = process.env['PEER_SUBGRAPH'] ?? '';
if (!(name in SUBGRAPHS)) {
  throw new Error(
    `PEER_SUBGRAPH: expected one of ${Object.keys(SUBGRAPHS).join(', ')}, got ${name}`,
  );
}
const subgraph = SUBGRAPHS[name as SubgraphName];
/** What buildSubgraphSchema takes per module (the package does not export the type). */
type SchemaModule = Exclude<
  Extract<Parameters<typeof buildSubgraphSchema>[0], readonly unknown[]>[number],
  DocumentNode
>;
const sources = peerSources();
const server = new ApolloServer<PeerContext>({
  schema: buildSubgraphSchema([
    {
      typeDefs: subgraph.typeDefs,
      // Resolvers typed against PeerContext; the package's map takes any context.
      resolvers: subgraph.resolvers as SchemaModule['resolvers'],
    },
  ]),
});
const { url } = await startStandaloneServer(server, {
  listen: { port: peerPort(), host: '127.0.0.1' },
  context: async () => peerContext(sources),
});
process.stdout.write(`subgraph ${name} ${url}\n`);

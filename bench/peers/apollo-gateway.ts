/**
 * Peer (b): Apollo Gateway (Federation 2) in @apollo/server's standalone HTTP server, over the
 * three peer subgraphs (PEER_SUBGRAPH_ERP, _COMMERCE, _WMS) with the supergraph composed at start.
 * Gateway defaults throughout (its own subgraph fetcher, query plan cache).
 */
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { peerPort } from './common.js';
import { composeSupergraph, subgraphUrlsFromEnv } from './supergraph.js';

const gateway = new ApolloGateway({ supergraphSdl: composeSupergraph(subgraphUrlsFromEnv()) });
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { port: peerPort(), host: '127.0.0.1' },
});
process.stdout.write(`peer apollo-gateway ${url}\n`);

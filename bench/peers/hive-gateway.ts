/**
 * Peer (c): Hive Gateway's runtime (@graphql-hive/gateway-runtime) served with node:http, over
 * the same supergraph and subgraph processes as the Apollo Gateway peer. Runtime defaults, with
 * logging off (Crossdock runs at LOG_LEVEL=warn and logs nothing per request either).
 */
import { createServer, type RequestListener } from 'node:http';
import { peerPort } from './common.js';
import { composeSupergraph, subgraphUrlsFromEnv } from './supergraph.js';

/** What a transport is given (the part used here): the subgraph's URL and the runtime's fetch. */
interface TransportOptions {
  readonly transportEntry: { readonly location?: string };
  readonly fetch?: unknown;
}

/** The one function used of the runtime, with the options passed here. */
interface HiveRuntime {
  createGatewayRuntime(options: {
    supergraph: string;
    logging: boolean;
    transports: Record<string, { getSubgraphExecutor(options: TransportOptions): unknown }>;
  }): RequestListener;
}

/** The one function used of the HTTP executor. */
interface HttpExecutorModule {
  buildHTTPExecutor(options: { endpoint: string; fetch?: unknown }): unknown;
}

// Imported by a computed name so TypeScript does not load the package's declarations: they pull
// in lib.dom (through @whatwg-node/fetch), which retypes fetch, Headers and Buffer bodies for
// the whole project and breaks the typecheck of server/ and test/.
const runtimePackage: string = '@graphql-hive/gateway-runtime';
const { createGatewayRuntime } = (await import(runtimePackage)) as HiveRuntime;
const executorPackage: string = '@graphql-tools/executor-http';
const { buildHTTPExecutor } = (await import(executorPackage)) as HttpExecutorModule;
const runtime = createGatewayRuntime({
  supergraph: composeSupergraph(subgraphUrlsFromEnv()),
  logging: false,
  // The runtime loads its HTTP transport from @graphql-mesh/transport-http, which is not
  // installed here; this is the same thing, the HTTP executor of @graphql-tools (a dependency of
  // the runtime) on the subgraph's URL, through the runtime's own fetch.
  transports: {
    http: {
      getSubgraphExecutor: ({ transportEntry, fetch }) => {
        if (!transportEntry.location) throw new Error('a subgraph without a URL');
        return buildHTTPExecutor({ endpoint: transportEntry.location, fetch });
      },
    },
  },
});
const port = peerPort();
createServer(runtime).listen(port, '127.0.0.1', () => {
  process.stdout.write(`peer hive-gateway http://127.0.0.1:${port}/graphql\n`);
});

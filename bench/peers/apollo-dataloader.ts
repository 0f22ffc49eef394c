/**
 * Peer (d): the floor. One hand-written @apollo/server schema over Crossdock's connectors
 * directly, one DataLoader per source per request, nothing else (no auth, cost limits, logs,
 * metrics or partial-failure handling): what any GraphQL server must spend on these queries.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import {
  commerceProduct,
  erpOrder,
  erpProduct,
  erpQueries,
  peerContext,
  peerPort,
  peerSources,
  wmsOrder,
  wmsProduct,
  wmsTypes,
  type PeerContext,
} from './common.js';

/** The same types and fields as the three subgraphs together, without federation. */
const typeDefs = /* GraphQL */ `
  type Query {
    product(sku: String!): Product
    products(first: Int = 20, after: String): ProductConnection!
    order(id: ID!): Order
  }
  type Product {
    sku: String!
    name: String
    listPrice: Money
    inventory: [InventoryPosition]
    availableToPromise: Int
  }
  type Money {
    amount: String!
    currencyCode: String!
  }
  type ProductConnection {
    nodes: [Product!]!
  }
  type InventoryPosition {
    sku: String!
    warehouse: Warehouse!
    available: Int!
  }
  type Warehouse {
    code: String!
  }
  type Order {
    number: String!
    channel: String
    lines: [OrderLine!]!
    shipments: [Shipment]
  }
  type OrderLine {
    sku: String!
    quantity: Int!
  }
  type Shipment {
    status: String!
    carrier: String
    trackingNumber: String
  }
`;

const sources = peerSources();
const server = new ApolloServer<PeerContext>({
  typeDefs,
  resolvers: {
    Query: erpQueries,
    Product: { ...erpProduct, ...commerceProduct, ...wmsProduct },
    Order: { ...erpOrder, ...wmsOrder },
    ...wmsTypes,
  },
});
const { url } = await startStandaloneServer(server, {
  listen: { port: peerPort(), host: '127.0.0.1' },
  context: async () => peerContext(sources),
});
process.stdout.write(`peer apollo-dataloader ${url}\n`);

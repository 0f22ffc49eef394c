/**
 * The ERP subgraph (Federation 2): the item master's products (lookup, listing, list price) and
 * sales orders (header and lines), through Crossdock's ERP connector. Served by subgraph.ts.
 */
import { parse } from 'graphql';
import { erpOrder, erpProduct, erpQueries, type OrderRef, type ProductRef } from './common.js';

/** Name, SDL and resolvers of the ERP subgraph. */
export const erpSubgraph = {
  name: 'erp',
  typeDefs: parse(/* GraphQL */ `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

    type Query {
      product(sku: String!): Product
      products(first: Int = 20, after: String): ProductConnection!
      order(id: ID!): Order
    }
    type Product @key(fields: "sku") {
      sku: String!
      listPrice: Money
    }
    type Money {
      amount: String!
      currencyCode: String!
    }
    type ProductConnection {
      nodes: [Product!]!
    }
    type Order @key(fields: "number") {
      number: String!
      channel: String
      lines: [OrderLine!]!
    }
    type OrderLine {
      sku: String!
      quantity: Int!
    }
  `),
  resolvers: {
    Query: erpQueries,
    Product: { ...erpProduct, __resolveReference: ({ sku }: ProductRef) => ({ sku }) },
    Order: { ...erpOrder, __resolveReference: ({ number }: OrderRef) => ({ number }) },
  },
};

/**
 * The commerce subgraph (Federation 2): product content (the name) by SKU, through Crossdock's
 * commerce connector. Served by subgraph.ts.
 */
import { parse } from 'graphql';
import { commerceProduct, type ProductRef } from './common.js';

/** Name, SDL and resolvers of the commerce subgraph. */
export const commerceSubgraph = {
  name: 'commerce',
  typeDefs: parse(/* GraphQL */ `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

    type Product @key(fields: "sku") {
      sku: String!
      name: String
    }
  `),
  resolvers: {
    Product: { ...commerceProduct, __resolveReference: ({ sku }: ProductRef) => ({ sku }) },
  },
};

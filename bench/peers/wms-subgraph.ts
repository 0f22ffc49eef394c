/**
 * The warehouse subgraph (Federation 2): stock of a product and shipments of an order from every
 * warehouse system (own WMS and 3PL), through Crossdock's WMS connectors. Served by subgraph.ts.
 */
import { parse } from 'graphql';
import { wmsOrder, wmsProduct, wmsTypes, type OrderRef, type ProductRef } from './common.js';

/** Name, SDL and resolvers of the warehouse subgraph. */
export const wmsSubgraph = {
  name: 'wms',
  typeDefs: parse(/* GraphQL */ `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

    type Product @key(fields: "sku") {
      sku: String!
      inventory: [InventoryPosition]
      availableToPromise: Int
    }
    type InventoryPosition {
      sku: String!
      warehouse: Warehouse!
      available: Int!
    }
    type Warehouse {
      code: String!
    }
    type Order @key(fields: "number") {
      number: String!
      shipments: [Shipment]
    }
    type Shipment {
      status: String!
      carrier: String
      trackingNumber: String
    }
  `),
  resolvers: {
    ...wmsTypes,
    Product: { ...wmsProduct, __resolveReference: ({ sku }: ProductRef) => ({ sku }) },
    Order: { ...wmsOrder, __resolveReference: ({ number }: OrderRef) => ({ number }) },
  },
};

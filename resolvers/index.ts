/**
 * The resolver map. Resolvers are thin: arguments → loader or workflow → canonical object.
 * They do no I/O of their own; every read goes through a per-request DataLoader, a connector or
 * the store port, every write through a workflow, every subscription through the bus.
 */
import type { Resolvers } from '../generated/resolvers-types.js';
import type { ResolverContext } from './context.js';
import { Customer, customerQueries } from './customer.js';
import { SourceHealth, SourceHealthSample, healthQueries } from './health.js';
import { InventoryPosition, Warehouse, inventoryQueries } from './inventory.js';
import { Node, nodeQueries } from './node.js';
import { Order, OrderLine, orderQueries } from './order.js';
import { Product, productQueries } from './product.js';
import { DateTime, Decimal } from './scalars.js';
import { Invoice, Shipment, shipmentQueries } from './shipment.js';
import { ApiKey, keyMutations, keyQueries } from './keys.js';
import { traceQueries } from './trace.js';
import { ExceptionItemType, exceptionMutations, exceptionQueries } from './exceptions.js';
import { SlaBreach, viewQueries } from './views.js';
import { DeadLetter, Mutation, PlaceOrderPayload, deadLetterQueries } from './mutation.js';
import {
  CustomerCreditEvent,
  InventoryEvent,
  OrderStatusEvent,
  ShipmentEvent,
  Subscription,
} from './subscription.js';

/** Every resolver of the schema. */
export const resolvers: Resolvers<ResolverContext> = {
  DateTime,
  Decimal,
  Node,
  Query: {
    ...nodeQueries,
    ...productQueries,
    ...inventoryQueries,
    ...customerQueries,
    ...orderQueries,
    ...shipmentQueries,
    ...healthQueries,
    ...deadLetterQueries,
    ...keyQueries,
    ...traceQueries,
    ...viewQueries,
    ...exceptionQueries,
  },
  Mutation: { ...Mutation, ...keyMutations, ...exceptionMutations },
  ExceptionItem: ExceptionItemType,
  SlaBreach,
  ApiKey,
  Subscription,
  OrderStatusEvent,
  ShipmentEvent,
  InventoryEvent,
  CustomerCreditEvent,
  PlaceOrderPayload,
  CancelOrderPayload: PlaceOrderPayload,
  CreateReturnPayload: PlaceOrderPayload,
  DeadLetter,
  Product,
  InventoryPosition,
  Warehouse,
  Customer,
  Order,
  OrderLine,
  Shipment,
  Invoice,
  SourceHealth,
  SourceHealthSample,
};

export type { ResolverContext } from './context.js';
export { createLoaders } from './loaders.js';
export type { Sources } from './sources.js';

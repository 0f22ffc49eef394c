/**
 * Subscriptions: events from the bus port (through the process's fan-out), filtered by the
 * subscriber's arguments and by what its key may see, resumable by cursor. Every bus failure is
 * translated into the error catalogue, whether it happens at subscribe time or mid-stream.
 */
import { GraphQLError } from 'graphql';
import type {
  CustomerBlock,
  CustomerCreditEventResolvers,
  InventoryEventResolvers,
  OrderStatus,
  OrderStatusEventResolvers,
  ShipmentEventKind,
  ShipmentEventResolvers,
  ShipmentStatus,
  SubscriptionResolvers,
} from '../generated/resolvers-types.js';
import {
  CursorExpiredError,
  cursorOf,
  sequenceOfCursor,
  type BusEvent,
  type DeliveredEvent,
  type EventDomain,
} from '../subscriptions/bus.js';
import type {
  CustomerCreditPayload,
  InventoryEventPayload,
  OrderStatusPayload,
  ShipmentEventPayload,
} from '../subscriptions/events.js';
import { SlowConsumerError, StreamInterruptedError } from '../subscriptions/fanout.js';
import { CUSTOMER_NUMBER_ARGUMENT, ORDER_NUMBER, orderIdWithin } from '../sources/identifiers.js';
import { isOrderStatus } from '../workflows/status.js';
import type { ResolverContext } from './context.js';
import { customerScope } from './access.js';
import { loadCustomer } from './customer.js';
import { badInput, crossdockError } from './errors.js';
import { checkWarehouseCode, keyFromIdArgument, toGlobalId } from './ids.js';
import { renewLoaders } from './loaders.js';
import { OLDEST_CURSOR } from './cursors.js';
import { loadOrder } from './order.js';
import type {
  CustomerCreditEventParent,
  InventoryEventParent,
  OrderStatusEventParent,
  ShipmentEventParent,
} from './parents.js';
import { checkSku } from './product.js';
import { loadShipment } from './shipment.js';

/** Most SKUs or warehouses one inventoryChanged subscription may name. */
export const MAX_SUBSCRIPTION_KEYS = 250;

/** A bus error as the error catalogue names it. */
export function translate(error: unknown): unknown {
  if (error instanceof CursorExpiredError)
    // Not the bus's message: it names sequence numbers, which would tell other tenants' volume.
    return crossdockError(
      'BAD_USER_INPUT',
      `after: the cursor is older than the events kept; resubscribe with after: "${OLDEST_CURSOR}" (every event kept) and reconcile by query`,
      { argument: 'after', reason: 'CURSOR_EXPIRED' },
    );
  if (error instanceof SlowConsumerError)
    return crossdockError('SLOW_CONSUMER', error.message, { limit: error.limit });
  if (error instanceof StreamInterruptedError)
    return crossdockError('STREAM_INTERRUPTED', error.message);
  if (error instanceof GraphQLError) return error;
  // Anything else from the bus (a broker timeout, a lost connection) ends this stream only: the
  // client resumes from its last cursor.
  return crossdockError(
    'STREAM_INTERRUPTED',
    `the event stream failed (${error instanceof Error ? error.message : String(error)}); resubscribe with after: <last cursor received>`,
  );
}

/**
 * Subscribes to a domain under the field's name, translating bus errors (thrown at once, as the
 * in-process bus does, or from the first `next()`, as JetStream does) into catalogue errors.
 */
function subscribe<T>(
  ctx: ResolverContext,
  domain: EventDomain,
  after: string | null | undefined,
  filter: (event: BusEvent<T>) => boolean,
): AsyncIterable<DeliveredEvent<T>> {
  // The client's cursor is sealed (resolvers/cursors.ts): opened here for this client only.
  const opened =
    after == null
      ? null
      : after === OLDEST_CURSOR
        ? cursorOf(domain, 0)
        : ctx.cursors.open(ctx.caller.client, after);
  if (after != null && (opened === null || sequenceOfCursor(opened, domain) === null)) {
    throw badInput(
      'after',
      `a cursor of this subscription's events, as received, or "${OLDEST_CURSOR}" for every event kept`,
      after,
    );
  }
  let source: AsyncIterator<DeliveredEvent<T>> & { return?(): Promise<unknown> };
  try {
    source = ctx.bus
      .subscribe<T>(domain, { ...(opened === null ? {} : { after: opened }), filter })
      [Symbol.asyncIterator]();
  } catch (error) {
    throw translate(error);
  }
  const iterator: AsyncIterableIterator<DeliveredEvent<T>> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      try {
        const result = await source.next();
        if (result.done) return { done: true, value: undefined };
        return { done: false, value: result.value };
      } catch (error) {
        throw translate(error);
      }
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
  };
  return iterator;
}

/** Each event is resolved with fresh loaders: the objects reflect the moment of delivery. */
function fresh<P>(event: P, _args: unknown, ctx: ResolverContext): P {
  renewLoaders(ctx);
  return event;
}

/** Subscription resolvers. */
export const Subscription: SubscriptionResolvers<ResolverContext> = {
  orderStatusChanged: {
    subscribe: (_root, { orderId, customerId, channel, after }, ctx) => {
      const order =
        orderId == null ? null : keyFromIdArgument(orderId, 'Order', ORDER_NUMBER, 'orderId');
      const customer =
        customerId == null
          ? null
          : keyFromIdArgument(customerId, 'Customer', CUSTOMER_NUMBER_ARGUMENT, 'customerId');
      const scope = ctx.caller.channel;
      const own = customerScope(ctx);
      return subscribe<OrderStatusPayload>(
        ctx,
        'order',
        after,
        ({ payload: p }) =>
          (order === null || p.orderId === order || p.erpNumber === order) &&
          (customer === null || p.customerNumber === customer) &&
          (channel == null || p.channel === channel) &&
          (scope === null || p.channel === scope) &&
          (own === null || p.customerNumber === own),
      );
    },
    resolve: (event: OrderStatusEventParent, args: unknown, ctx: ResolverContext) =>
      fresh(event, args, ctx),
  },

  shipmentUpdated: {
    subscribe: (_root, { orderId, after }, ctx) => {
      const order =
        orderId == null ? null : keyFromIdArgument(orderId, 'Order', ORDER_NUMBER, 'orderId');
      const scope = ctx.caller.channel;
      const own = customerScope(ctx);
      return subscribe<ShipmentEventPayload>(
        ctx,
        'shipment',
        after,
        ({ payload: p }) =>
          (order === null ||
            p.orderId === order ||
            p.orderNumber === order ||
            orderIdWithin(p.orderNumber) === order) &&
          // A channel-scoped key sees shipments of its channel's orders only; a portal, its own.
          (scope === null || p.channel === scope) &&
          (own === null || p.customerNumber === own),
      );
    },
    resolve: (event: ShipmentEventParent, args: unknown, ctx: ResolverContext) =>
      fresh(event, args, ctx),
  },

  customerCreditChanged: {
    subscribe: (_root, { customerId, after }, ctx) => {
      const own = customerScope(ctx);
      const customer =
        customerId == null
          ? null
          : keyFromIdArgument(customerId, 'Customer', CUSTOMER_NUMBER_ARGUMENT, 'customerId');
      return subscribe<CustomerCreditPayload>(
        ctx,
        'customer',
        after,
        ({ payload: p }) =>
          (customer === null || p.customerNumber === customer) &&
          (own === null || p.customerNumber === own),
      );
    },
    resolve: (event: CustomerCreditEventParent, args: unknown, ctx: ResolverContext) =>
      fresh(event, args, ctx),
  },

  inventoryChanged: {
    subscribe: (_root, { skus, warehouses, after }, ctx) => {
      const keys = (name: 'skus' | 'warehouses', values: readonly string[] | null | undefined) => {
        if (values == null) return null;
        if (values.length === 0 || values.length > MAX_SUBSCRIPTION_KEYS)
          throw badInput(
            name,
            `1 to ${MAX_SUBSCRIPTION_KEYS} values, or none at all`,
            `${values.length} values`,
          );
        return new Set(
          name === 'skus'
            ? values.map((sku, i) => checkSku(sku, `skus[${i}]`))
            : values.map((code, i) => checkWarehouseCode(code, `warehouses[${i}]`)),
        );
      };
      const wantedSkus = keys('skus', skus);
      const wantedWarehouses = keys('warehouses', warehouses);
      return subscribe<InventoryEventPayload>(
        ctx,
        'inventory',
        after,
        ({ payload: p }) =>
          (wantedSkus === null || wantedSkus.has(p.sku)) &&
          (wantedWarehouses === null || wantedWarehouses.has(p.warehouseCode)),
      );
    },
    resolve: (event: InventoryEventParent, args: unknown, ctx: ResolverContext) =>
      fresh(event, args, ctx),
  },
};

/** An event's cursor as its subscriber sees it: sealed for the subscriber's client. */
const sealed = (e: { readonly cursor: string }, _args: unknown, ctx: ResolverContext): string =>
  ctx.cursors.seal(ctx.caller.client, e.cursor);

const status = (value: string | null): OrderStatus | null =>
  value !== null && isOrderStatus(value) ? value : null;

/** Resolvers of CustomerCreditEvent. */
export const CustomerCreditEvent: CustomerCreditEventResolvers<ResolverContext> = {
  cursor: sealed,
  blocked: (e) => e.payload.blocked as CustomerBlock,
  previousBlocked: (e) => e.payload.previousBlocked as CustomerBlock | null,
  occurredAt: (e) => e.payload.occurredAt,
  customer: (e, _args, ctx) =>
    loadCustomer(ctx, toGlobalId('Customer', e.payload.customerNumber)).catch(() => null),
};

/** Resolvers of OrderStatusEvent. */
export const OrderStatusEvent: OrderStatusEventResolvers<ResolverContext> = {
  cursor: sealed,
  status: (e) => {
    const s = status(e.payload.status);
    if (!s) throw new Error(`event ${e.cursor} has unknown status ${e.payload.status}`);
    return s;
  },
  previousStatus: (e) => status(e.payload.previousStatus),
  order: (e, _args, ctx) => loadOrder(ctx, e.payload.orderId).catch(() => null),
};

/** Resolvers of ShipmentEvent. */
export const ShipmentEvent: ShipmentEventResolvers<ResolverContext> = {
  cursor: sealed,
  kind: (e) => e.payload.kind as ShipmentEventKind,
  status: (e) => e.payload.status as ShipmentStatus,
  occurredAt: (e) => e.payload.occurredAt,
  carrier: (e) => e.payload.carrier,
  trackingNumber: (e) => e.payload.trackingNumber,
  warehouse: (e) => ({ code: e.payload.warehouseCode, source: e.payload.source }),
  lines: (e) => e.payload.lines,
  shipment: (e, _args, ctx) => loadShipment(ctx, e.payload.shipmentId).catch(() => null),
  order: (e, _args, ctx) =>
    loadOrder(
      ctx,
      e.payload.orderId ?? orderIdWithin(e.payload.orderNumber) ?? e.payload.orderNumber,
    ).catch(() => null),
};

/** Resolvers of InventoryEvent. */
export const InventoryEvent: InventoryEventResolvers<ResolverContext> = {
  cursor: sealed,
  sku: (e) => e.payload.sku,
  warehouse: (e) => ({ code: e.payload.warehouseCode, source: e.payload.source }),
  onHand: (e) => e.payload.onHand,
  available: (e) => e.payload.available,
  allocated: (e) => e.payload.allocated,
  delta: (e) => e.payload.delta,
  reason: (e) => e.payload.reason,
  occurredAt: (e) => e.payload.occurredAt,
  source: (e) => e.payload.source,
};

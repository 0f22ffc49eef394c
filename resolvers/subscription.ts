/**
 * Subscriptions: events from the bus port, filtered by the subscriber's arguments and by what
 * its key may see, resumable by cursor.
 */
import type {
  OrderStatus,
  OrderStatusEventResolvers,
  SubscriptionResolvers,
} from '../generated/resolvers-types.js';
import { CursorExpiredError } from '../subscriptions/memory-bus.js';
import { isOrderStatus } from '../workflows/model.js';
import type { ResolverContext } from './context.js';
import { CUSTOMER_NUMBER } from './customer.js';
import { crossdockError } from './errors.js';
import { keyFromIdArgument } from './ids.js';
import { ORDER_NUMBER, loadOrder } from './order.js';
import type { OrderStatusEventParent } from './parents.js';
import { createLoaders } from './loaders.js';

type Payload = OrderStatusEventParent['payload'];

/** Subscription resolvers. */
export const Subscription: SubscriptionResolvers<ResolverContext> = {
  orderStatusChanged: {
    subscribe: (_root, { orderId, customerId, channel, after }, ctx) => {
      const order = orderId == null ? null : keyFromIdArgument(orderId, 'Order', ORDER_NUMBER);
      const customer =
        customerId == null ? null : keyFromIdArgument(customerId, 'Customer', CUSTOMER_NUMBER);
      const scope = ctx.caller.channel;
      try {
        return ctx.bus.subscribe<Payload>('order', {
          ...(after == null ? {} : { after }),
          filter: ({ payload: p }) =>
            (order === null || p.orderId === order || p.erpNumber === order) &&
            (customer === null || p.customerNumber === customer) &&
            (channel == null || p.channel === channel) &&
            (scope === null || p.channel === scope),
        }) as unknown as AsyncIterable<{ orderStatusChanged: OrderStatusEventParent }>;
      } catch (error) {
        if (error instanceof CursorExpiredError) {
          throw crossdockError('BAD_USER_INPUT', `after: ${error.message}`, {
            argument: 'after',
            reason: 'CURSOR_EXPIRED',
          });
        }
        throw error;
      }
    },
    // Each event is resolved with fresh loaders: an order's fields reflect the moment of delivery.
    resolve: (event: OrderStatusEventParent, _args: unknown, ctx: ResolverContext) => {
      (ctx as { loaders: ResolverContext['loaders'] }).loaders = createLoaders(
        ctx.sources,
        ctx.store,
      );
      return event;
    },
  },
};

const status = (value: string | null): OrderStatus | null =>
  value !== null && isOrderStatus(value) ? value : null;

/** Resolvers of OrderStatusEvent. */
export const OrderStatusEvent: OrderStatusEventResolvers<ResolverContext> = {
  status: (e) => {
    const s = status(e.payload.status);
    if (!s) throw new Error(`event ${e.cursor} has unknown status ${e.payload.status}`);
    return s;
  },
  previousStatus: (e) => status(e.payload.previousStatus),
  order: (e, _args, ctx) => loadOrder(ctx, e.payload.orderId).catch(() => null),
};

/**
 * Query.node: any object by global ID. The resolved object is tagged with its type so the
 * Node interface can resolve it without guessing from its shape.
 */
import type { NodeResolvers, QueryResolvers } from '../generated/resolvers-types.js';
import { requirePolicy } from './access.js';
import type { ResolverContext } from './context.js';
import { loadCustomer } from './customer.js';
import { badInput } from './errors.js';
import { fromGlobalId, type NodeType } from './ids.js';
import { loadWarehouse } from './inventory.js';
import { loadOrder } from './order.js';
import { checkSku, loadProduct } from './product.js';
import { loadInvoice, loadShipment } from './shipment.js';

const typeOf = new WeakMap<object, NodeType>();

function tag<T extends object>(value: T, type: NodeType): T {
  typeOf.set(value, type);
  return value;
}

/** Resolvers of the Node interface. */
export const Node: NodeResolvers<ResolverContext> = {
  __resolveType(value) {
    const type = typeOf.get(value);
    if (!type) throw new Error('Node value was not resolved through Query.node');
    return type;
  },
};

/** Query.node. */
export const nodeQueries: Pick<QueryResolvers<ResolverContext>, 'node'> = {
  async node(_root, { id }, ctx) {
    const global = fromGlobalId(id);
    if (!global) throw badInput('id', 'a global ID returned by this API', id);
    const { type, key } = global;
    switch (type) {
      case 'Product':
        return tag(await loadProduct(ctx, checkSku(key)), type);
      case 'Warehouse':
        return tag(await loadWarehouse(ctx, key), type);
      case 'Customer':
        requirePolicy(ctx, 'Query.customer', 'Query.node(Customer)');
        return tag(await loadCustomer(ctx, key), type);
      case 'Order':
        return tag(await loadOrder(ctx, key), type);
      case 'Shipment':
        return tag(await loadShipment(ctx, key), type);
      case 'Invoice':
        requirePolicy(ctx, 'Query.invoice', 'Query.node(Invoice)');
        return tag(await loadInvoice(ctx, key), type);
      default: {
        const unreachable: never = type;
        throw new Error(`unhandled node type ${String(unreachable)}`);
      }
    }
  },
};

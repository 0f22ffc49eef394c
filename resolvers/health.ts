/**
 * Source health: what each connector's circuit breaker has seen.
 */
import type { QueryResolvers, SourceHealthResolvers } from '../generated/resolvers-types.js';

import type { ResolverContext } from './context.js';
import { allConnectors } from './sources.js';

/** Resolvers of SourceHealth. */
export const SourceHealth: SourceHealthResolvers<ResolverContext> = {
  kind: (h) => {
    switch (h.kind) {
      case 'erp':
        return 'ERP';
      case 'commerce':
        return 'COMMERCE';
      case 'wms':
        return 'WMS';
      default: {
        const unreachable: never = h.kind;
        throw new Error(`unknown source kind ${String(unreachable)}`);
      }
    }
  },
  windowSeconds: (h) => h.windowMs / 1000,
};

/** Query.sourceHealth. */
export const healthQueries: Pick<QueryResolvers<ResolverContext>, 'sourceHealth'> = {
  sourceHealth(_root, _args, ctx) {
    return allConnectors(ctx.sources).map((connector) => connector.health());
  },
};

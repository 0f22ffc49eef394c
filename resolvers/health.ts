/**
 * Source health: what each connector's circuit breaker has seen, now and over time (the samples
 * of this instance's health history, observability/health-history.ts).
 */
import type {
  QueryResolvers,
  SourceHealthResolvers,
  SourceHealthSampleResolvers,
} from '../generated/resolvers-types.js';
import { DEFAULT_HISTORY_LAST } from '../observability/health-history.js';
import type { ResolverContext } from './context.js';
import { badInput } from './errors.js';
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
  history(h, { last }, ctx) {
    const { capacity } = ctx.healthHistory;
    const count = last ?? DEFAULT_HISTORY_LAST;
    if (!Number.isInteger(count) || count < 1 || count > capacity) {
      throw badInput('last', `an integer from 1 to ${capacity}`, last);
    }
    return ctx.healthHistory.history(h.name, count);
  },
};

/** Resolvers of SourceHealthSample. */
export const SourceHealthSample: SourceHealthSampleResolvers<ResolverContext> = {
  at: (s) => new Date(s.at).toISOString(),
};

/** Query.sourceHealth. */
export const healthQueries: Pick<QueryResolvers<ResolverContext>, 'sourceHealth'> = {
  sourceHealth(_root, _args, ctx) {
    return allConnectors(ctx.sources).map((connector) => connector.health());
  },
};

/**
 * The supergraph of the three peer subgraphs, composed in process with @apollo/composition (no
 * network, no rover): what both gateways serve.
 */
import { composeServices } from '@apollo/composition';
import { commerceSubgraph } from './commerce-subgraph.js';
import { erpSubgraph } from './erp-subgraph.js';
import { wmsSubgraph } from './wms-subgraph.js';

/** The peer subgraphs, by name. */
export const SUBGRAPHS = {
  erp: erpSubgraph,
  commerce: commerceSubgraph,
  wms: wmsSubgraph,
} as const;

/** A subgraph's name. */
export type SubgraphName = keyof typeof SUBGRAPHS;

/** The supergraph SDL with each subgraph routed to `urls[name]`; throws the composition errors. */
export function composeSupergraph(urls: Readonly<Record<SubgraphName, string>>): string {
  const result = composeServices(
    (Object.keys(SUBGRAPHS) as SubgraphName[]).map((name) => ({
      name,
      typeDefs: SUBGRAPHS[name].typeDefs,
      url: urls[name],
    })),
  );
  if (result.errors) {
    throw new Error(`composition failed: ${result.errors.map((e) => e.message).join('; ')}`);
  }
  return result.supergraphSdl;
}

/** The subgraph URLs a gateway process was given (PEER_SUBGRAPH_ERP, _COMMERCE, _WMS). */
export function subgraphUrlsFromEnv(): Record<SubgraphName, string> {
  const url = (name: string) => {
    const value = process.env[`PEER_SUBGRAPH_${name.toUpperCase()}`];
    if (!value) throw new Error(`PEER_SUBGRAPH_${name.toUpperCase()}: expected a URL, got nothing`);
    return value;
  };
  return { erp: url('erp'), commerce: url('commerce'), wms: url('wms') };
}

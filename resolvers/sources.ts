/**
 * The connectors the graph reads from, by role. Made once by the composition root (server/)
 * and shared by every request.
 */
import type {
  CommerceConnector,
  Connector,
  ErpConnector,
  WmsConnector,
} from '../sources/contract.js';

/** The connected systems, by role. */
export interface Sources {
  /** System of record: item master, prices, customers, orders, invoices. */
  readonly erp: ErpConnector;
  /** Product content and storefront orders. */
  readonly commerce: CommerceConnector;
  /** Every warehouse system (own WMS first, then 3PLs). */
  readonly warehouses: readonly WmsConnector[];
}

/** Every connector of `sources`, in a stable order (ERP, commerce, warehouses). */
export function allConnectors(sources: Sources): Connector[] {
  return [sources.erp, sources.commerce, ...sources.warehouses];
}

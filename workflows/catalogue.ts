/**
 * The product listing, as a read model: which system a page of the catalogue comes from. The
 * ERP owns the item master; when it cannot answer an unfiltered listing, commerce serves the
 * page instead and the listing says so. Query.products (resolvers/product.ts) maps the result.
 */
import {
  isSourceError,
  type CatalogFilter,
  type CatalogItemRecord,
  type CatalogSource,
  type Connector,
  type ContentSource,
  type Page,
  type PageRequest,
  type ProductContentRecord,
} from '../sources/contract.js';

/** How a page is read from a system: the caller's paging rules around one listing call. */
export type PageReader = <R>(list: (request: PageRequest) => Promise<Page<R>>) => Promise<Page<R>>;

/** What the listing asks of the systems it reads. */
export interface CatalogueSources {
  readonly erp: Pick<Connector, 'name'> & Pick<CatalogSource, 'listItems'>;
  readonly commerce: Pick<Connector, 'name'> & Pick<ContentSource, 'listContent'>;
}

/** What the response should say about a page served by another system than its owner. */
export interface ListingFallback {
  readonly code: 'SOURCE_FALLBACK';
  /** The system that could not answer. */
  readonly source: string;
  readonly message: string;
}

/** A page of the product listing and the system it came from. */
export type ProductListing =
  | { readonly from: 'erp'; readonly page: Page<CatalogItemRecord> }
  | {
      readonly from: 'commerce';
      readonly page: Page<ProductContentRecord>;
      readonly fallback: ListingFallback;
    };

/**
 * One page of the product listing: from the ERP; if the ERP fails with a source error and the
 * listing is unfiltered, from commerce, with a SOURCE_FALLBACK naming the ERP. A filtered listing
 * (category, search, blocked items: what only the ERP knows) or any other error is thrown.
 */
export async function listProducts(
  sources: CatalogueSources,
  filter: CatalogFilter,
  read: PageReader,
): Promise<ProductListing> {
  try {
    return { from: 'erp', page: await read((p) => sources.erp.listItems(p, filter)) };
  } catch (error) {
    const filtered = Boolean(filter.category || filter.search || filter.includeBlocked);
    if (!isSourceError(error) || filtered) throw error;
    // The ERP owns the listing, but commerce lists the same SKUs in the same order: serve
    // the page from there and say so, rather than failing the storefront's whole page.
    const page = await read((p) => sources.commerce.listContent(p));
    return {
      from: 'commerce',
      page,
      fallback: {
        code: 'SOURCE_FALLBACK',
        source: sources.erp.name,
        message: `products listed from ${sources.commerce.name} because ${error.message}`,
      },
    };
  }
}

/**
 * The contract between the server and its pages: what `server/pages.ts` embeds in each page
 * (a JSON data block) and the pages read. Types only, free of DOM and Node, so both sides
 * compile against it.
 */

/** Demo API keys by persona, on the embedded default only. */
export interface DemoKeys {
  readonly admin: string;
  readonly storefront: string;
  readonly service: string;
  readonly partner: string;
  readonly operations: string;
}

/** The configuration every page receives. */
export interface PageConfig {
  /** The GraphQL endpoint's path (`/graphql`), for HTTP and graphql-ws alike. */
  readonly endpoint: string;
  /** Demo keys on the embedded default; null when Crossdock runs with real keys. */
  readonly demoKeys: DemoKeys | null;
}

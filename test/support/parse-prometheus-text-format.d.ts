/** The package ships no types: what the tests use of it. */
declare module 'parse-prometheus-text-format' {
  // The package's own export is a default one; this only describes it.
  // eslint-disable-next-line no-restricted-syntax
  export default function parsePrometheusTextFormat(
    text: string,
  ): { name: string; help: string; type: string; metrics: unknown[] }[];
}

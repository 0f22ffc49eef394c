/**
 * Compiled execution of HTTP queries (issue #13): graphql-jit behind Apollo Server's executor hook.
 *
 * Apollo Server 5 takes another executor only from a gateway (`GatewayInterface`): this one
 * hands Apollo Crossdock's own schema, unchanged, and an executor that runs each query document
 * as a function graphql-jit compiled from it once, on its second execution (kept by the document,
 * which Apollo's document cache hands back for the same query text, for at most
 * {@link MAX_COMPILED_DOCUMENTS} documents). graphql-js executes the storefront page's
 * ~850 fields with an argument map, a resolve-info object and a path per field; the compiled
 * function does not (bench/limits.ts: 27× on in-memory data).
 *
 * What the clients see stays graphql-js's:
 * - variables are coerced by graphql-js first (`getVariableValues`), so their errors are its
 *   words and Apollo still answers them BAD_USER_INPUT / 400;
 * - graphql-jit's errors (its own class) become graphql-js GraphQLErrors with the same message,
 *   locations, path, original error and extensions, so formatError, the operation log and
 *   Apollo's status codes read them as before;
 * - mutations (serial by the specification, and costly in their workflows, not in execution),
 *   documents Apollo resolved no operation for, and anything graphql-jit cannot compile run on
 *   graphql-js's `execute`, as they did; so does everything with GRAPHQL_EXECUTION=interpreted.
 *   `crossdock_graphql_executions_total{engine}` counts which engine ran what.
 *
 * test/compiled-execution.test.ts holds the two engines to the same answers, status codes and
 * system calls on one sandbox world, failures included.
 */
import type {
  GatewayExecutionResult,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from '@apollo/server-gateway-interface';
import {
  GraphQLError,
  execute,
  getVariableValues,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';

const isPromise = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> =>
  typeof (value as PromiseLike<T> | null)?.then === 'function';

/**
 * Executions of a document before it is compiled. Compiling costs more than one interpreted
 * execution (bench figures: 0.6 ms for the storefront page, 12 ms for GraphiQL's introspection
 * query, against ~0.5 ms to execute the page), so a document is compiled when it comes back:
 * a client sending a new document each time (literals instead of variables) gets graphql-js, as
 * before, instead of paying, and making the server pay, a compilation per request.
 */
export const COMPILE_ON_EXECUTION = 2;

/**
 * Documents whose executions are counted or compiled, the least recently used forgotten first
 * (then run on graphql-js again until they come back twice). A compiled function is code and
 * closures the size of its document, which Apollo's document cache does not weigh: this bounds
 * what a client sending many different documents, each twice, can make the server keep.
 */
export const MAX_COMPILED_DOCUMENTS = 1_000;

/**
 * Per document, by operation name (`''` for the only one): executions so far while below
 * {@link COMPILE_ON_EXECUTION}, then the compiled query, or null when graphql-jit could not.
 */
type Compiled = Map<string, number | CompiledQuery | null>;

/** A graphql-jit error (not a graphql-js GraphQLError) as the GraphQLError graphql-js would make. */
function asGraphqlError(error: Error): GraphQLError {
  // graphql-jit's class borrows graphql-js's prototype, so `instanceof` cannot tell them apart.
  if (error.constructor === GraphQLError) return error;
  const jit = error as Error & {
    locations?: GraphQLFormattedError['locations'];
    path?: readonly (string | number)[];
    originalError?: unknown;
  };
  const original = jit.originalError;
  // graphql-js's locatedError keeps a resolver's own GraphQLError when it has a path already.
  if (original instanceof GraphQLError && original.path !== undefined) return original;
  const made = new GraphQLError(jit.message, {
    path: jit.path,
    originalError: original instanceof Error ? original : undefined,
  });
  // GraphQLError computes locations from AST nodes; graphql-jit has computed them already.
  if (jit.locations !== undefined) {
    (made as { locations: GraphQLError['locations'] }).locations = jit.locations;
  }
  return made;
}

/** How {@link executionGateway} executes. */
export interface ExecutionOptions {
  /** Queries run compiled by graphql-jit (GRAPHQL_EXECUTION=compiled); false: all on graphql-js. */
  readonly compile: boolean;
  /** Told of each execution's engine (the `crossdock_graphql_executions_total` counter). */
  readonly executed?: (engine: 'compiled' | 'interpreted') => void;
  /** @default MAX_COMPILED_DOCUMENTS */
  readonly maxDocuments?: number;
}

/** The executor (see the module's comment) and the gateway Apollo takes it from. */
export function executionGateway(
  schema: GraphQLSchema,
  { compile, executed = () => undefined, maxDocuments = MAX_COMPILED_DOCUMENTS }: ExecutionOptions,
): GatewayInterface {
  const compiledByDocument = new LRUCache<DocumentNode, Compiled>({ max: maxDocuments });

  const compiled = (document: DocumentNode, operationName: string | undefined) => {
    let byName = compiledByDocument.get(document);
    if (!byName) compiledByDocument.set(document, (byName = new Map()));
    const key = operationName ?? '';
    const known = byName.get(key);
    // Compiled already, or found uncompilable (null): never compiled again.
    if (known !== undefined && typeof known !== 'number') return known;
    const executions = (known ?? 0) + 1;
    if (executions < COMPILE_ON_EXECUTION) {
      byName.set(key, executions);
      return null;
    }
    const made = compileQuery(schema, document, operationName, {
      disablingCapturingStackErrors: true,
    });
    const query = isCompiledQuery(made) ? made : null;
    byName.set(key, query);
    return query;
  };

  /** graphql-jit's answer with its errors as graphql-js's. */
  const answer = (result: ExecutionResult): GatewayExecutionResult =>
    result.errors ? { ...result, errors: result.errors.map((e) => asGraphqlError(e)) } : result;

  // Not an async function: Apollo awaits what the executor returns, and an answer that is ready
  // (no resolver awaited anything, e.g. `{ __typename }`) needs no promise of its own.
  const run = (
    requestContext: GatewayGraphQLRequestContext,
  ): GatewayExecutionResult | PromiseLike<GatewayExecutionResult> => {
    const { document, operation, request, context } = requestContext;
    const variables = request.variables ?? {};
    const query =
      compile && operation?.operation === 'query'
        ? compiled(document, request.operationName)
        : null;
    if (!operation || !query) {
      executed('interpreted');
      return execute({
        schema,
        document,
        contextValue: context,
        variableValues: variables,
        operationName: request.operationName,
      }) as GatewayExecutionResult | Promise<GatewayExecutionResult>;
    }
    executed('compiled');
    const definitions = operation.variableDefinitions ?? [];
    if (definitions.length > 0) {
      const coerced = getVariableValues(schema, definitions, variables, { maxErrors: 50 });
      if (coerced.errors) return { errors: coerced.errors };
    }
    const result = query.query(undefined, context, variables);
    return isPromise(result) ? result.then(answer) : answer(result);
  };
  // The interface's type says Promise; Apollo's pipeline `await`s it, which takes a value as well.
  const executor = run as (
    context: GatewayGraphQLRequestContext,
  ) => Promise<GatewayExecutionResult>;

  return {
    async load() {
      return { executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    async stop() {},
  };
}

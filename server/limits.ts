/**
 * Query limits: depth and an estimated cost, checked once the operation and its variables are
 * known and before anything executes. A query over either limit is refused with
 * QUERY_TOO_COMPLEX, so one caller cannot make Crossdock fan out without bound.
 *
 * Cost model: every field costs 1 plus its children times a multiplier: the field's `first`
 * argument (connections, default 20), else {@link ASSUMED_LIST_SIZE} for other lists, else 1.
 * Introspection fields (`__schema`, `__type`, `__typename`) are free, so playgrounds work.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  Kind,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type OperationDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { crossdockError } from '../resolvers/errors.js';
import { MAX_PAGE_SIZE } from '../resolvers/ids.js';

/** Items assumed in a list field without a `first` argument (inventory, lines, shipments). */
export const ASSUMED_LIST_SIZE = 10;

/** Page size assumed for a connection whose `first` is omitted (its schema default). */
export const DEFAULT_FIRST = 20;

/** What an operation would cost. */
export interface Complexity {
  readonly cost: number;
  readonly depth: number;
}

function intValue(
  node: ValueNode | undefined,
  variables: Readonly<Record<string, unknown>>,
): number | null {
  if (!node) return null;
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const value = variables[node.name.value];
    return typeof value === 'number' && Number.isFinite(value) ? value : null;
  }
  return null;
}

/** Estimates the cost and depth of a selection set on `parent`. */
export function complexityOf(
  schema: GraphQLSchema,
  parent: GraphQLNamedType,
  selectionSet: SelectionSetNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  variables: Readonly<Record<string, unknown>>,
  seen: ReadonlySet<string> = new Set(),
): Complexity {
  let cost = 0;
  let depth = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (name.startsWith('__')) continue;
      const field =
        isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
      if (!field) continue; // validation already rejected unknown fields
      let multiplier = 1;
      const firstArg = selection.arguments?.find((a) => a.name.value === 'first');
      const first = intValue(firstArg?.value, variables);
      // An out-of-range `first` is the resolver's to reject with a precise BAD_USER_INPUT.
      if (field.args.some((a) => a.name === 'first')) {
        multiplier = Math.min(MAX_PAGE_SIZE, Math.max(0, first ?? DEFAULT_FIRST));
      } else if (isListType(getNullableType(field.type)) && !parent.name.endsWith('Connection')) {
        multiplier = ASSUMED_LIST_SIZE;
      }
      const child = selection.selectionSet
        ? complexityOf(
            schema,
            getNamedType(field.type),
            selection.selectionSet,
            fragments,
            variables,
            seen,
          )
        : { cost: 0, depth: 0 };
      cost += 1 + multiplier * child.cost;
      depth = Math.max(depth, 1 + child.depth);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition
        ? schema.getType(selection.typeCondition.name.value)
        : parent;
      const child = complexityOf(
        schema,
        type ?? parent,
        selection.selectionSet,
        fragments,
        variables,
        seen,
      );
      cost += child.cost;
      depth = Math.max(depth, child.depth);
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      if (!fragment || seen.has(name)) continue; // cycles are a validation error already
      const type = schema.getType(fragment.typeCondition.name.value) ?? parent;
      const child = complexityOf(
        schema,
        type,
        fragment.selectionSet,
        fragments,
        variables,
        new Set([...seen, name]),
      );
      cost += child.cost;
      depth = Math.max(depth, child.depth);
    }
  }
  return { cost, depth };
}

/** Limits of {@link queryLimitsPlugin}. */
export interface QueryLimits {
  readonly maxCost: number;
  readonly maxDepth: number;
}

/**
 * The QUERY_TOO_COMPLEX error for an operation over the limits, or null. Shared by HTTP (the Apollo
 * plugin below) and WebSocket (graphql-ws onSubscribe), so both transports refuse the same documents.
 */
export function limitError(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>>,
  limits: QueryLimits,
): GraphQLError | null {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  let operation: OperationDefinitionNode | undefined;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    if (
      definition.kind === Kind.OPERATION_DEFINITION &&
      (!operationName || definition.name?.value === operationName)
    ) {
      operation ??= definition;
    }
  }
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return null;
  const { cost, depth } = complexityOf(schema, root, operation.selectionSet, fragments, variables);
  const refuse = (message: string, extensions: Record<string, unknown>) =>
    crossdockError('QUERY_TOO_COMPLEX', message, { ...extensions, http: { status: 400 } });
  if (depth > limits.maxDepth) {
    return refuse(`Query depth ${depth} exceeds the limit of ${limits.maxDepth}`, {
      depth,
      limit: limits.maxDepth,
    });
  }
  if (cost > limits.maxCost) {
    return refuse(
      `Query cost ${cost} exceeds the limit of ${limits.maxCost}: ask for smaller pages (first) or fewer nested lists`,
      { cost, limit: limits.maxCost },
    );
  }
  return null;
}

/** Refuses operations over the limits with QUERY_TOO_COMPLEX (HTTP 400). */
export function queryLimitsPlugin<C extends BaseContext>(
  limits: QueryLimits,
): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request }) {
          const error = limitError(
            schema,
            document,
            request.operationName,
            request.variables ?? {},
            limits,
          );
          if (error) throw error;
        },
      };
    },
  };
}

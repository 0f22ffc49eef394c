/**
 * Query cost and the leaky bucket, after Shopify's calculated query cost
 * (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits, "Calculating query costs"):
 *
 * - scalar and enum fields cost 0; an object field costs 1 plus its selection;
 * - a connection costs 2 plus `first` (or `last`) times the cost of one node, where a node
 *   costs 1 plus its own selection; `edges`, `cursor` and `pageInfo` are part of the 2, and
 *   selecting both `edges { node }` and `nodes` charges the dearer of the two once;
 * - a plain list of objects (`nodes(ids:)`) costs one node per id;
 * - on an interface (`node(id:)`) the dearest type-conditioned fragment counts.
 *
 * So `productVariants(first: 250) { nodes { id sku product { id title } } }` costs
 * 2 + 250 × (1 + 1) = 502. The actual cost uses what came back instead of `first`, and the
 * difference is refunded to the bucket.
 */
import {
  GraphQLError,
  getNamedType,
  getNullableType,
  isAbstractType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  valueFromAST,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLID,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** Largest page a connection serves (shopify.dev …/usage/limits). */
export const MAX_PAGE_SIZE = 250;

/** The result of costing one operation before it runs. */
export interface RequestedCost {
  readonly cost: number;
  /** Paging arguments that break the rules; the operation must not run. */
  readonly errors: readonly GraphQLError[];
}

type Data = Record<string, unknown>;

interface Walk {
  readonly schema: GraphQLSchema;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly errors: GraphQLError[];
}

/** Fields of one selection set grouped by response key, split by the type condition they sit under. */
function collectFields(
  walk: Walk,
  selectionSet: SelectionSetNode,
  parentType: GraphQLCompositeType,
  condition: string | null,
  out: Map<string | null, Map<string, FieldNode[]>>,
  seen: Set<string>,
): void {
  for (const selection of selectionSet.selections) {
    switch (selection.kind) {
      case Kind.FIELD: {
        const group = out.get(condition) ?? new Map<string, FieldNode[]>();
        out.set(condition, group);
        const key = selection.alias?.value ?? selection.name.value;
        group.set(key, [...(group.get(key) ?? []), selection]);
        break;
      }
      case Kind.INLINE_FRAGMENT: {
        const typeName = selection.typeCondition?.name.value ?? null;
        const next = typeName === null || typeName === parentType.name ? condition : typeName;
        collectFields(walk, selection.selectionSet, parentType, next, out, seen);
        break;
      }
      case Kind.FRAGMENT_SPREAD: {
        const fragment = walk.fragments.get(selection.name.value);
        if (!fragment || seen.has(fragment.name.value)) break;
        const typeName = fragment.typeCondition.name.value;
        const next = typeName === parentType.name ? condition : typeName;
        collectFields(
          walk,
          fragment.selectionSet,
          parentType,
          next,
          out,
          new Set([...seen, fragment.name.value]),
        );
        break;
      }
      default:
        break;
    }
  }
}

function argument(
  walk: Walk,
  node: FieldNode,
  name: string,
  type: typeof GraphQLInt | GraphQLList<GraphQLNonNull<typeof GraphQLID>>,
): unknown {
  const arg = node.arguments?.find((a) => a.name.value === name);
  return arg === undefined ? undefined : valueFromAST(arg.value, type, walk.variables);
}

/** Checks paging arguments (Shopify rejects these before running anything) and returns the page size. */
function pageSize(walk: Walk, node: FieldNode, fieldName: string): number {
  const first = argument(walk, node, 'first', GraphQLInt);
  const last = argument(walk, node, 'last', GraphQLInt);
  const fail = (message: string): number => {
    walk.errors.push(
      new GraphQLError(message, { nodes: node, extensions: { code: 'BAD_REQUEST' } }),
    );
    return 0;
  };
  if (typeof first === 'number' && typeof last === 'number') {
    return fail(
      `Passing both \`first\` and \`last\` to paginate the \`${fieldName}\` connection is not supported.`,
    );
  }
  const size = typeof first === 'number' ? first : typeof last === 'number' ? last : null;
  const which = typeof first === 'number' ? 'first' : 'last';
  if (size === null) return fail('you must provide one of first or last');
  if (size < 0)
    return fail(`\`${which}\` on the \`${fieldName}\` connection must be at least 0, got ${size}.`);
  if (size > MAX_PAGE_SIZE) {
    return fail(
      `\`${which}\` on the \`${fieldName}\` connection cannot exceed ${MAX_PAGE_SIZE}, got ${size}.`,
    );
  }
  return size;
}

/**
 * Cost of a selection set. Without `data` it is the requested cost; with `data` (the value the
 * selection produced) it is the actual cost.
 */
function selectionCost(
  walk: Walk,
  selectionSet: SelectionSetNode,
  parentType: GraphQLCompositeType,
  data: Data | undefined,
): number {
  const groups = new Map<string | null, Map<string, FieldNode[]>>();
  collectFields(walk, selectionSet, parentType, null, groups, new Set());
  const groupCost = (typeName: string | null, fields: Map<string, FieldNode[]>): number => {
    const type = typeName === null ? parentType : walk.schema.getType(typeName);
    if (!type || !(isObjectType(type) || isInterfaceType(type))) return 0;
    let sum = 0;
    for (const [key, nodes] of fields) {
      const head = nodes[0];
      if (!head) continue;
      const def = type.getFields()[head.name.value];
      if (!def) continue;
      sum += fieldCost(
        walk,
        def,
        nodes,
        data === undefined ? undefined : data[key],
        data !== undefined,
      );
    }
    return sum;
  };
  let total = 0;
  let dearest = 0;
  for (const [condition, fields] of groups) {
    const cost = groupCost(condition, fields);
    // What came back decides which fragment applied; before running, the dearest one counts.
    if (condition === null || data !== undefined) total += cost;
    else dearest = Math.max(dearest, cost);
  }
  return total + dearest;
}

function mergedSelection(nodes: readonly FieldNode[]): SelectionSetNode {
  return {
    kind: Kind.SELECTION_SET,
    selections: nodes.flatMap((n) => n.selectionSet?.selections ?? []),
  };
}

function fieldCost(
  walk: Walk,
  def: GraphQLField<unknown, unknown>,
  nodes: readonly FieldNode[],
  value: unknown,
  actual: boolean,
): number {
  const head = nodes[0] as FieldNode;
  const named = getNamedType(def.type);
  if (!(isObjectType(named) || isAbstractType(named))) return 0;
  if (actual && (value === null || value === undefined)) return 0;
  const selection = mergedSelection(nodes);
  const objectCost = (v: unknown): number =>
    1 + selectionCost(walk, selection, named, actual ? (v as Data) : undefined);

  if (isObjectType(named) && named.name.endsWith('Connection')) {
    const size = pageSize(walk, head, def.name);
    return (
      2 + connectionNodesCost(walk, named, selection, size, actual ? (value as Data) : undefined)
    );
  }
  if (isListType(getNullableType(def.type))) {
    if (actual)
      return (value as unknown[]).reduce<number>(
        (sum, v) => sum + (v == null ? 0 : objectCost(v)),
        0,
      );
    const ids = argument(walk, head, 'ids', new GraphQLList(new GraphQLNonNull(GraphQLID)));
    return (Array.isArray(ids) ? ids.length : 1) * objectCost(undefined);
  }
  return objectCost(value);
}

/** The nodes part of a connection: `size` nodes before running, the returned ones after. */
function connectionNodesCost(
  walk: Walk,
  connectionType: GraphQLCompositeType,
  selection: SelectionSetNode,
  size: number,
  data: Data | undefined,
): number {
  if (!isObjectType(connectionType)) return 0;
  const groups = new Map<string | null, Map<string, FieldNode[]>>();
  collectFields(walk, selection, connectionType, null, groups, new Set());
  const fields = groups.get(null) ?? new Map<string, FieldNode[]>();
  const nodeType = getNamedType(connectionType.getFields()['nodes']?.type);
  if (!nodeType || !(isObjectType(nodeType) || isAbstractType(nodeType))) return 0;
  let viaNodes = 0;
  let viaEdges = 0;
  for (const [key, nodes] of fields) {
    const name = nodes[0]?.name.value;
    const value = data?.[key];
    if (name === 'nodes') {
      const sel = mergedSelection(nodes);
      viaNodes +=
        data === undefined
          ? size * (1 + selectionCost(walk, sel, nodeType, undefined))
          : ((value as Data[] | null) ?? []).reduce(
              (s, v) => s + 1 + selectionCost(walk, sel, nodeType, v),
              0,
            );
    } else if (name === 'edges') {
      const edgeGroups = new Map<string | null, Map<string, FieldNode[]>>();
      collectFields(walk, mergedSelection(nodes), connectionType, null, edgeGroups, new Set());
      for (const [edgeKey, edgeNodes] of edgeGroups.get(null) ?? []) {
        if (edgeNodes[0]?.name.value !== 'node') continue;
        const sel = mergedSelection(edgeNodes);
        viaEdges +=
          data === undefined
            ? size * (1 + selectionCost(walk, sel, nodeType, undefined))
            : ((value as Data[] | null) ?? []).reduce(
                (s, edge) => s + 1 + selectionCost(walk, sel, nodeType, edge[edgeKey] as Data),
                0,
              );
      }
    }
  }
  return Math.max(viaNodes, viaEdges);
}

function fragmentsOf(document: {
  definitions: readonly { kind: string }[];
}): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) {
      const fragment = def as FragmentDefinitionNode;
      fragments.set(fragment.name.value, fragment);
    }
  }
  return fragments;
}

/** The requested cost of a validated operation, plus any paging-argument errors. */
export function requestedCost(
  schema: GraphQLSchema,
  document: { definitions: readonly { kind: string }[] },
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
): RequestedCost {
  const walk: Walk = { schema, fragments: fragmentsOf(document), variables, errors: [] };
  const root = operation.operation === 'query' ? schema.getQueryType() : schema.getMutationType();
  if (!root) return { cost: 0, errors: [] };
  // Shopify charges a mutation 10 on top of what it selects.
  const base = operation.operation === 'mutation' ? 10 : 0;
  const cost = base + selectionCost(walk, operation.selectionSet, root, undefined);
  return { cost, errors: walk.errors };
}

/** The actual cost of an operation given the data it produced. */
export function actualCost(
  schema: GraphQLSchema,
  document: { definitions: readonly { kind: string }[] },
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
  data: Data | null | undefined,
): number {
  const walk: Walk = { schema, fragments: fragmentsOf(document), variables, errors: [] };
  const root = operation.operation === 'query' ? schema.getQueryType() : schema.getMutationType();
  if (!root || !data) return 0;
  const base = operation.operation === 'mutation' ? 10 : 0;
  return base + selectionCost(walk, operation.selectionSet, root, data);
}

// ---------------------------------------------------------------------------------------------
// The leaky bucket.
// ---------------------------------------------------------------------------------------------

/** What `extensions.cost.throttleStatus` reports. */
export interface ThrottleStatus {
  readonly maximumAvailable: number;
  readonly currentlyAvailable: number;
  readonly restoreRate: number;
}

/** A leaky bucket per access token. */
export interface CostBucket {
  /** Reserves `cost` points; false (nothing taken) when fewer are available. */
  take(token: string, cost: number): boolean;
  /** Gives back the part of a reservation that was not used. */
  refund(token: string, points: number): void;
  status(token: string): ThrottleStatus;
}

/** Options of {@link createCostBucket}. */
export interface CostBucketOptions {
  readonly size: number;
  /** Points restored per second. */
  readonly restoreRate: number;
  /** Clock in ms. */
  readonly now: () => number;
}

/** Makes the leaky bucket: full at first, restoring continuously up to its size. */
export function createCostBucket(options: CostBucketOptions): CostBucket {
  const { size, restoreRate, now } = options;
  const levels = new Map<string, { level: number; at: number }>();
  const level = (token: string): number => {
    const state = levels.get(token);
    const t = now();
    const current =
      state === undefined
        ? size
        : Math.min(size, state.level + ((t - state.at) / 1000) * restoreRate);
    levels.set(token, { level: current, at: t });
    return current;
  };
  return {
    take(token, cost) {
      const current = level(token);
      if (cost > current) return false;
      levels.set(token, { level: current - cost, at: now() });
      return true;
    },
    refund(token, points) {
      const current = level(token);
      levels.set(token, { level: Math.min(size, current + points), at: now() });
    },
    status(token) {
      return { maximumAvailable: size, currentlyAvailable: Math.floor(level(token)), restoreRate };
    },
  };
}

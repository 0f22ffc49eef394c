/**
 * graphql-js against graphql-jit on one storefront-like query over in-memory data, in this
 * process (bench/limits.ts, part 2): no HTTP, no I/O, only the executor. Batches of the two
 * executors alternate (A B A B) so a busy neighbour slows both alike.
 */
import { execute, parse, validate, type DocumentNode, type ExecutionResult } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { median } from './support.js';

/** The query measured: a storefront page of 50 products with price and stock per warehouse. */
export const STOREFRONT_QUERY = `query Storefront {
  products(first: 50) {
    name
    listPrice { amount currencyCode }
    inventory { warehouse { code } available }
  }
}`;

const SDL = `
  type Query { products(first: Int!): [Product!]! }
  type Product { sku: String! name: String! listPrice: Money! inventory: [Position!]! }
  type Money { amount: Float! currencyCode: String! }
  type Position { warehouse: Warehouse! available: Int! }
  type Warehouse { code: String! }
`;

const WAREHOUSES = ['ATL', 'DFW', 'ORD', 'RNO'].map((code) => ({ code }));

const PRODUCTS = Array.from({ length: 50 }, (_, i) => ({
  sku: `SKU-${String(i + 1).padStart(6, '0')}`,
  name: `Product ${i + 1}`,
  listPrice: { amount: 10 + i / 4, currencyCode: 'USD' },
  inventory: WAREHOUSES.map((warehouse, w) => ({ warehouse, available: (i * 7 + w * 3) % 40 })),
}));

/** One executor's figures over every batch. */
export interface ExecutionFigures {
  readonly executor: 'graphql-js' | 'graphql-jit';
  /** `execute` (document parsed, validated and, for jit, compiled once) or `full` (every time). */
  readonly path: 'execute' | 'full';
  readonly executions: number;
  readonly opsPerSecond: number;
  /** Median over batches of the wall time of one execution (µs). */
  readonly medianUs: number;
  /** The slowest batch's wall time per execution (µs). */
  readonly worstBatchUs: number;
  /** process.cpuUsage (user + system) per execution (µs). */
  readonly cpuUs: number;
  readonly batches: number;
}

type Run = () => ExecutionResult | Promise<ExecutionResult>;

/**
 * Measures both executors on both paths: `batches` batches each, alternating, of `perBatch`
 * executions (`perBatch / 4` on the full path, which parses, validates and compiles every time).
 */
export async function measureExecution(options: {
  readonly batches: number;
  readonly perBatch: number;
}): Promise<ExecutionFigures[]> {
  const schema = makeExecutableSchema({
    typeDefs: SDL,
    resolvers: {
      Query: { products: (_: unknown, { first }: { first: number }) => PRODUCTS.slice(0, first) },
    },
  });
  const document: DocumentNode = parse(STOREFRONT_QUERY);
  const invalid = validate(schema, document);
  if (invalid.length > 0) throw new Error(`storefront query invalid: ${invalid[0]?.message}`);
  const compiled = compileQuery(schema, document);
  if (!isCompiledQuery(compiled)) throw new Error(`graphql-jit: ${JSON.stringify(compiled)}`);

  const runs: Record<'execute' | 'full', Record<ExecutionFigures['executor'], Run>> = {
    execute: {
      'graphql-js': () => execute({ schema, document }),
      'graphql-jit': () => compiled.query(undefined, {}, {}),
    },
    full: {
      'graphql-js': () => {
        const doc = parse(STOREFRONT_QUERY);
        if (validate(schema, doc).length > 0) throw new Error('invalid');
        return execute({ schema, document: doc });
      },
      'graphql-jit': () => {
        const doc = parse(STOREFRONT_QUERY);
        if (validate(schema, doc).length > 0) throw new Error('invalid');
        const query = compileQuery(schema, doc);
        if (!isCompiledQuery(query)) throw new Error('not compiled');
        return query.query(undefined, {}, {});
      },
    },
  };

  // Both executors must give the same answer, or the comparison means nothing.
  const expected = JSON.stringify(await runs.execute['graphql-js']());
  for (const path of ['execute', 'full'] as const) {
    for (const [name, run] of Object.entries(runs[path])) {
      const got = JSON.stringify(await run());
      if (got !== expected) throw new Error(`${name} (${path}) answered ${got.slice(0, 200)}`);
    }
  }

  const figures: ExecutionFigures[] = [];
  for (const path of ['execute', 'full'] as const) {
    const perBatch = path === 'execute' ? options.perBatch : Math.max(1, options.perBatch / 4);
    const samples = { 'graphql-js': [] as number[], 'graphql-jit': [] as number[] };
    const wall = { 'graphql-js': 0, 'graphql-jit': 0 };
    const cpu = { 'graphql-js': 0, 'graphql-jit': 0 };
    // Two unrecorded batches each first: V8 optimises the hot functions (and jit's compiled one).
    for (let b = -2; b < options.batches; b++) {
      for (const executor of ['graphql-js', 'graphql-jit'] as const) {
        const run = runs[path][executor];
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < perBatch; i++) {
          const result = run();
          if (result instanceof Promise) await result;
        }
        const ms = performance.now() - t0;
        const used = process.cpuUsage(cpu0);
        if (b < 0) continue;
        samples[executor].push((ms * 1000) / perBatch);
        wall[executor] += ms;
        cpu[executor] += used.user + used.system;
      }
    }
    for (const executor of ['graphql-js', 'graphql-jit'] as const) {
      const executions = perBatch * options.batches;
      figures.push({
        executor,
        path,
        executions,
        opsPerSecond: Math.round(executions / (wall[executor] / 1000)),
        medianUs: round1(median(samples[executor])),
        worstBatchUs: round1(Math.max(...samples[executor])),
        cpuUs: round1(cpu[executor] / executions),
        batches: options.batches,
      });
    }
  }
  return figures;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

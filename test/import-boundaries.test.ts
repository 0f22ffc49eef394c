/**
 * The module graph of the repository's own TypeScript (issue 11, item 8): no import cycles, and
 * every folder under a stated import rule.
 *
 * ESLint (`eslint.config.js`, `@typescript-eslint/no-restricted-imports`) is where the folder
 * rules live; this file does what a per-file lint rule cannot: it builds the whole graph from
 * every `import … from`, `export … from` and `import()` (parsed with the TypeScript compiler, so
 * comments and strings never count), resolves `./x.js` to `./x.ts`, and looks for cycles. It also
 * checks `generated/`, which ESLint ignores, and that each code folder has a rule at all.
 *
 * What counts as a cycle:
 * - Runtime imports (everything but `import type` / `export type`; `import { type A }` stays a
 *   side-effect import under `verbatimModuleSyntax`, so it counts) must form no cycle: a cycle
 *   makes one module see another half-initialised, depending on which was imported first.
 * - A dynamic `import()` runs after both modules have loaded, so it is left out (the store
 *   loads its drivers that way).
 * - Type-only imports are erased and cannot misorder anything; a cycle through them inside one
 *   folder is allowed (two modules naming each other's types), but not across folders, where it
 *   would be a layering loop the folder rules only half see.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The top-level folders that hold code, each under its own rule in eslint.config.js. */
const CODE_FOLDERS = [
  'schema',
  'resolvers',
  'sources',
  'sandbox',
  'server',
  'observability',
  'subscriptions',
  'workflows',
  'store',
  'scripts',
  'bench',
  'test',
] as const;

/** Folders whose .ts files are read; `generated/` too, since ESLint skips it. */
const READ_FOLDERS = [...CODE_FOLDERS, 'generated'];

/** Not code of ours (recorded benchmark output). */
const SKIPPED = new Set(['bench/results']);

/** One import of one module: where to, and whether it survives compilation. */
interface Edge {
  readonly from: string;
  readonly to: string;
  readonly kind: 'runtime' | 'type' | 'dynamic';
}

/** Every .ts file under `folder`, relative to the root with `/` separators. */
function tsFiles(folder: string): string[] {
  const dir = join(ROOT, folder);
  if (!existsSync(dir) || SKIPPED.has(folder)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The module a relative specifier of `from` names (`./x.js` → `./x.ts`). */
function resolveSpecifier(from: string, specifier: string): string {
  const target = resolve(ROOT, dirname(from), specifier);
  const candidates = [
    target.replace(/\.js$/, '.ts'),
    target,
    `${target}.ts`,
    join(target, 'index.ts'),
  ];
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? candidates[0]!;
  return relative(ROOT, found).split(sep).join('/');
}

/** The relative imports of one file, classified. */
function importsOf(file: string): Edge[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (specifier: ts.Node | undefined, kind: Edge['kind']) => {
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) return;
    edges.push({ from: file, to: resolveSpecifier(file, specifier.text), kind });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, node.importClause?.isTypeOnly ? 'type' : 'runtime');
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly ? 'type' : 'runtime');
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument)) add(argument.literal, 'type');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], 'dynamic');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** The strongly connected components of more than one module (or a module importing itself). */
function cycles(nodes: readonly string[], edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  // Tarjan's algorithm (recursive: the graph is a few hundred modules, nowhere near deep).
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const strongConnect = (v: string): void => {
    indices.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!indices.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const n of nodes) if (!indices.has(n)) strongConnect(n);
  return found;
}

/** A readable loop through a component: `a.ts → b.ts → a.ts`. */
function loopThrough(component: readonly string[], edges: readonly Edge[]): string {
  const members = new Set(component);
  const start = component[0]!;
  const path = [start];
  const seen = new Set([start]);
  // Walk inside the component until we are back at the start (every member reaches every other).
  const walk = (v: string): boolean => {
    for (const e of edges) {
      if (e.from !== v || !members.has(e.to)) continue;
      if (e.to === start) {
        path.push(start);
        return true;
      }
      if (seen.has(e.to)) continue;
      seen.add(e.to);
      path.push(e.to);
      if (walk(e.to)) return true;
      path.pop();
    }
    return false;
  };
  walk(start);
  return path.join(' → ');
}

const FILES = READ_FOLDERS.flatMap(tsFiles).sort();
const EDGES = FILES.flatMap(importsOf);
const folderOf = (file: string) => file.split('/')[0]!;

describe('import graph', () => {
  it('reads the repository (a sanity floor, so an empty walk cannot pass)', () => {
    assert.ok(FILES.length > 150, `expected more than 150 modules, got ${FILES.length}`);
    assert.ok(EDGES.length > 500, `expected more than 500 relative imports, got ${EDGES.length}`);
  });

  it('resolves every relative import to a file of the repository', () => {
    const known = new Set(FILES);
    const dangling = EDGES.filter((e) => !known.has(e.to) && !existsSync(join(ROOT, e.to)));
    assert.deepEqual(
      dangling.map((e) => `${e.from} → ${e.to}`),
      [],
    );
  });

  it('has no cycle among runtime imports', () => {
    const runtime = EDGES.filter((e) => e.kind === 'runtime');
    const found = cycles(FILES, runtime).map((c) => loopThrough(c, runtime));
    assert.deepEqual(found, [], `runtime import cycles:\n${found.join('\n')}`);
  });

  it('has no cycle across folders even through type-only imports', () => {
    const typed = EDGES.filter((e) => e.kind !== 'dynamic');
    const found = cycles(FILES, typed)
      .filter((c) => new Set(c.map(folderOf)).size > 1)
      .map((c) => loopThrough(c, typed));
    assert.deepEqual(found, [], `import cycles across folders:\n${found.join('\n')}`);
  });

  it('lets generated/ (skipped by ESLint) import only types, from its codegen mappers', () => {
    // codegen.yml maps GraphQL types to the records resolvers receive; nothing else belongs here.
    const mappers = new Set(['resolvers', 'sources', 'store', 'workflows']);
    const wrong = EDGES.filter(
      (e) =>
        folderOf(e.from) === 'generated' &&
        folderOf(e.to) !== 'generated' &&
        (e.kind !== 'type' || !mappers.has(folderOf(e.to))),
    );
    assert.deepEqual(
      wrong.map((e) => `${e.from} → ${e.to} (${e.kind})`),
      [],
    );
  });

  it('never imports test/, bench/ or scripts/ from another folder', () => {
    // test/ and bench/ are harnesses, scripts/ are entry points: none is a library.
    const wrong = EDGES.filter((e) => {
      const [from, to] = [folderOf(e.from), folderOf(e.to)];
      return from !== to && ['test', 'bench', 'scripts'].includes(to);
    });
    assert.deepEqual(
      wrong.map((e) => `${e.from} → ${e.to}`),
      [],
    );
  });
});

describe('folder rules', () => {
  it('puts every code folder under a no-restricted-imports rule of eslint.config.js', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const unruled: string[] = [];
    for (const folder of CODE_FOLDERS) {
      // A file that need not exist: the rule must cover whatever is added to the folder.
      const config = (await eslint.calculateConfigForFile(`${folder}/any-new-module.ts`)) as {
        rules?: Record<string, unknown>;
      };
      const rule = config.rules?.['@typescript-eslint/no-restricted-imports'];
      const patterns = Array.isArray(rule)
        ? (rule[1] as { patterns?: { message?: string }[] } | undefined)?.patterns
        : undefined;
      if (!patterns?.some((p) => p.message?.startsWith(`${folder}/`))) unruled.push(folder);
    }
    assert.deepEqual(unruled, []);
  });
});

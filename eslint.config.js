// ESLint (flat config): typescript-eslint's recommended rules plus the boundaries of DESIGN.md,
// enforced rather than hoped for. Every top-level code folder has one import rule below, saying
// what the folder is and what it may not import; the folder READMEs repeat it in one line.
// test/import-boundaries.test.ts checks that every folder has a rule and that the module graph
// has no cycles (which a per-file rule cannot see).
//
// Dependency direction (DESIGN.md): server → resolvers → workflows → sources (port) ←
// sources/<system>; observability may be imported by all and imports no business code.
import tseslint from 'typescript-eslint';

/** Import patterns of every Crossdock folder, by folder name (`../x/…` from anywhere). */
const folder = (name) => `**/${name}/**`;

/** GraphQL itself and the packages that speak it. */
const GRAPHQL = ['graphql', 'graphql/*', '@apollo/*', '@graphql-tools/*', 'graphql-ws'];

/** The connector implementations: only the composition root (server/) and tests pick one. */
const CONNECTORS = ['**/sources/erp/**', '**/sources/wms/**', '**/sources/commerce/**'];

/** Harnesses and entry points: nothing imports them (test/ may import nothing of bench/, etc.). */
const HARNESSES = [folder('test'), folder('bench'), folder('scripts')];

/**
 * One folder's rule. `forbidden`: import patterns it may not use; `typesOnly`: patterns it may
 * import with `import type` only. `message` starts with the folder (the boundary test checks).
 */
function boundary(files, message, forbidden, typesOnly = []) {
  const patterns = [{ group: forbidden, message }];
  if (typesOnly.length > 0)
    patterns.push({
      group: typesOnly,
      allowTypeImports: true,
      message: `${message} (types only: ${typesOnly.join(', ')})`,
    });
  return {
    files,
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
    },
  };
}

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'generated/**',
      'bench/results/**',
      'pages/dist/**',
      'test/artifacts/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    ignores: ['eslint.config.js'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
    },
  },

  // The leaves: they import nothing of Crossdock's business layers.
  boundary(
    ['schema/**/*.ts'],
    'schema/ is the public contract, SDL only: it imports nothing of Crossdock.',
    ['../**'],
  ),
  boundary(
    ['observability/**/*.ts'],
    'observability/ (logs, metrics, correlation, the trail) imports no business code: only its own modules.',
    [
      folder('resolvers'),
      folder('server'),
      folder('workflows'),
      folder('sources'),
      folder('subscriptions'),
      folder('store'),
      folder('sandbox'),
      folder('generated'),
      ...HARNESSES,
    ],
  ),
  boundary(
    ['store/**/*.ts'],
    'store/ (idempotency, ledger, dead letters, cross-references) may import observability/ only: no GraphQL, no business layers, no sandbox.',
    [
      folder('resolvers'),
      folder('server'),
      folder('workflows'),
      folder('sources'),
      folder('subscriptions'),
      folder('sandbox'),
      folder('generated'),
      ...GRAPHQL,
      ...HARNESSES,
    ],
  ),
  boundary(
    ['subscriptions/**/*.ts'],
    'subscriptions/ (the event bus, subjects, fan-out) may import observability/ only: no business layers, no store, no sandbox.',
    [
      folder('resolvers'),
      folder('server'),
      folder('workflows'),
      folder('sources'),
      folder('store'),
      folder('sandbox'),
      folder('generated'),
      ...HARNESSES,
    ],
  ),

  // Connectivity: the port and one connector per system kind.
  boundary(
    ['sources/**/*.ts'],
    'sources/ is connectivity only: it may import observability/; no GraphQL, no business layers, no sandbox.',
    [
      folder('resolvers'),
      folder('server'),
      folder('workflows'),
      folder('subscriptions'),
      folder('store'),
      folder('sandbox'),
      folder('generated'),
      ...GRAPHQL,
      ...HARNESSES,
    ],
  ),
  // A connector knows the port, never another connector (sources/<system> → sources/*.ts).
  ...['erp', 'wms', 'commerce'].map((system) =>
    boundary(
      [`sources/${system}/**/*.ts`],
      `sources/${system}/ is one connector: it may import the port (sources/*.ts) and observability/; no other connector, no GraphQL, no business layers.`,
      [
        ...['erp', 'wms', 'commerce'].filter((s) => s !== system).map((s) => `**/${s}/**`),
        folder('resolvers'),
        folder('server'),
        folder('workflows'),
        folder('subscriptions'),
        folder('store'),
        folder('sandbox'),
        folder('generated'),
        ...GRAPHQL,
        ...HARNESSES,
      ],
    ),
  ),

  // Orchestration and the thin GraphQL layer.
  boundary(
    ['workflows/**/*.ts'],
    'workflows/ (orchestration) may import the source port, subscriptions/ and observability/, store/ as types (the store is handed in) but store/ids.ts; no GraphQL, no resolvers/server/sandbox, no connector directly.',
    [
      folder('resolvers'),
      folder('server'),
      folder('sandbox'),
      folder('generated'),
      ...CONNECTORS,
      ...GRAPHQL,
      ...HARNESSES,
    ],
    // Exception: store/ids.ts mints ids (ULIDs, no I/O) for the store's callers, and the
    // exception queues mint theirs before opening an item.
    [folder('store'), '!**/store/ids.js'],
  ),
  boundary(
    ['resolvers/**/*.ts'],
    'resolvers/ (thin: arguments → loader or workflow) may import workflows/, the source port, subscriptions/, observability/, generated/, store/ as types; no server/, no sandbox/, no connector directly.',
    [folder('server'), folder('sandbox'), ...CONNECTORS, ...HARNESSES],
    [folder('store')],
  ),

  // The composition root: everything but the sandbox, which only the embedded default starts.
  boundary(
    ['server/**/*.ts'],
    'server/ is the composition root: it may import every layer, but sandbox/ only in embedded.ts and config.ts.',
    [folder('sandbox'), ...HARNESSES],
  ),
  boundary(
    // Exceptions, both for the embedded default: embedded.ts starts the sandbox systems;
    // config.ts takes their credentials as defaults and refuses them when NODE_ENV=production.
    ['server/embedded.ts', 'server/config.ts'],
    'server/ is the composition root: embedded.ts and config.ts may import sandbox/ (the embedded default).',
    HARNESSES,
  ),

  // The reference systems: stand-ins for external products, so nothing of Crossdock.
  boundary(
    ['sandbox/**/*.ts'],
    // Exception: the seed tags orders with the channel codes of sources/contract.ts (CHANNELS),
    // the one vocabulary of channels; that module imports nothing, so the sandbox stays alone.
    'sandbox/ (the fake ERP, WMS and commerce systems) imports nothing of Crossdock but sources/contract.ts (the channel codes).',
    [
      folder('resolvers'),
      folder('server'),
      folder('workflows'),
      folder('subscriptions'),
      folder('store'),
      folder('observability'),
      folder('generated'),
      '**/sources/**',
      '!**/sources/contract.js',
      ...HARNESSES,
    ],
  ),

  // The pages: browser code, bundled by scripts/build-pages.ts. They reach Crossdock through
  // its GraphQL API only, so they import none of its modules; pages/shared/contract.ts (types,
  // no DOM) is what the server embeds in them.
  boundary(
    ['pages/**/*.ts', 'pages/**/*.tsx'],
    'pages/ (the playground and the operations console, browser code) talk to the GraphQL API only: they import npm packages and pages/ modules, nothing else of Crossdock.',
    [
      folder('resolvers'),
      folder('server'),
      folder('workflows'),
      folder('sources'),
      folder('subscriptions'),
      folder('store'),
      folder('observability'),
      folder('sandbox'),
      folder('generated'),
      folder('schema'),
      ...HARNESSES,
    ],
  ),

  // Entry points and harnesses.
  boundary(
    ['scripts/**/*.ts'],
    'scripts/ (operator tools behind npm scripts) reach Crossdock through server/ only.',
    [
      folder('resolvers'),
      folder('workflows'),
      folder('sources'),
      folder('subscriptions'),
      folder('store'),
      folder('observability'),
      folder('sandbox'),
      folder('generated'),
      folder('test'),
      folder('bench'),
    ],
  ),
  boundary(
    ['bench/**/*.ts'],
    'bench/ (benchmarks) may import any layer and the sandbox, but not test/ or scripts/.',
    [folder('test'), folder('scripts')],
  ),
  boundary(
    ['test/**/*.ts'],
    'test/ may import any layer and the sandbox, but not bench/ or scripts/ (run those as processes).',
    [folder('bench'), folder('scripts')],
  ),
);

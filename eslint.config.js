// ESLint (flat config): typescript-eslint's recommended rules plus the boundaries of DESIGN.md,
// enforced rather than hoped for: sources/ knows nothing of GraphQL or resolvers, observability/
// imports no business code, nothing imports test/, and there are no default exports.
import tseslint from 'typescript-eslint';

const noTest = {
  group: ['**/test/**', '../test/*'],
  message: 'Nothing outside test/ may import test utilities.',
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'generated/**', 'bench/results/**'] },
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
  {
    files: ['sources/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/resolvers/**',
                '**/server/**',
                '**/workflows/**',
                '**/subscriptions/**',
                '**/store/**',
                '**/sandbox/**',
                'graphql',
                '@apollo/*',
              ],
              message: 'sources/ is connectivity only: no GraphQL, no business layers, no sandbox.',
            },
            noTest,
          ],
        },
      ],
    },
  },
  {
    files: ['observability/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/resolvers/**',
                '**/server/**',
                '**/workflows/**',
                '**/sources/**',
                '**/sandbox/**',
                '**/store/**',
                '**/subscriptions/**',
              ],
              message: 'observability/ imports no business code.',
            },
            noTest,
          ],
        },
      ],
    },
  },
  {
    files: ['resolvers/**/*.ts', 'workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/server/**', '**/sandbox/**'],
              message: 'Dependency direction: server → resolvers → workflows → sources.',
            },
            noTest,
          ],
        },
      ],
    },
  },
  {
    files: ['sandbox/**/*.ts', 'schema/**/*.ts', 'server/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noTest] }] },
  },
);

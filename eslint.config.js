// ESLint (flat config): typescript-eslint's type-aware rules for src/, the recommended rules for the
// tests, benchmarks and scripts. Formatting is Prettier's (eslint-config-prettier turns off the rules
// that would disagree with it).
'use strict';
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const prettier = require('eslint-config-prettier');
const globals = require('globals');

module.exports = tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.node-red/', '.nr5/', 'test/artifacts/', 'coverage/'] },
  // An eslint-disable comment that no longer disables anything is an error: each one is needed (and
  // says why after `--`, test/package/lint-habits.test.ts).
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    rules: {
      // Node-RED dies on an unhandled rejection: every promise is awaited, returned or handled.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      // Node-RED's node constructors are plain functions called with `this` (as core nodes are written).
      '@typescript-eslint/no-this-alias': 'off',
      // The package speaks through node.log/warn/error; the simulator's CLI is the one console user.
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['src/simulator/cli.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    // Node's own globals (crypto, fetch …) may be shadowed by a require of the same module.
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-redeclare': ['error', { builtinGlobals: false }] },
  },
  {
    // Loaded by the runtime (require) and by the editor (a <script>): plain ES5 for both.
    files: ['resources/*.js'],
    languageOptions: { ecmaVersion: 5, sourceType: 'script', globals: { ...globals.browser, RED: 'readonly', module: 'writable' } },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      // Node-RED node constructors and test doubles written the way core nodes are.
      '@typescript-eslint/no-this-alias': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  prettier,
);

// typescript-eslint over every TypeScript source, with the type-aware rules that catch
// what the compiler does not: promises nobody awaits or handles, and type-only imports
// that would otherwise load a module at run time. The layer zones below keep imports
// pointing one way (docs/architecture.md); spec/architecture.spec.ts checks the same map
// for type-only imports and cycles.
//
// bench/*.ts are typed through bench/tsconfig.json (the project service takes the nearest
// tsconfig). The peers they import (graphile-worker, pg-boss) are bench/package.json's own
// dependencies: without bench/node_modules, as on a clean clone, their imports type as `any`
// and the root lint still passes; `npm --prefix bench run lint` checks bench/ with them installed.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The layers, bottom first. A file may import from its own layer and the layers below it,
 * never from a layer above. Paths are folders or files relative to the repository root.
 */
export const LAYERS = [
  { name: 'foundation', paths: ['lib/foundation'] },
  { name: 'adapters', paths: ['adapters'] },
  { name: 'migrations', paths: ['migrations'] },
  { name: 'core', paths: ['lib/store', 'lib/definitions', 'lib/queue', 'lib/schedules', 'lib/flows', 'lib/task-store.ts'] },
  { name: 'runners', paths: ['runners'] },
  { name: 'testing', paths: ['lib/testing'] },
  { name: 'otel', paths: ['lib/otel'] },
  { name: 'admin', paths: ['lib/admin'] },
  { name: 'cli', paths: ['lib/cli'] },
  { name: 'package index', paths: ['lib/index.ts'] },
];

const layerZones = LAYERS.slice(0, -1).flatMap((layer, index) =>
  layer.paths.map((target) => ({
    target: `./${target}`,
    from: LAYERS.slice(index + 1).flatMap((above) => above.paths.map((path) => `./${path}`)),
    message: `the ${layer.name} layer may not import from a layer above it (see docs/architecture.md)`,
  })),
);

export default tseslint.config(
  // spec/package/consumer/ is a user's project, compiled by spec/package/package.spec.ts against the packed package.
  { ignores: ['dist/', 'node_modules/', '.scratch/', 'bench/results/', 'bench/node_modules/', 'bench/dist/', 'spec/package/consumer/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
    },
  },
  {
    // Specs read JSON response bodies loosely; everything else is typed.
    files: ['spec/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
);

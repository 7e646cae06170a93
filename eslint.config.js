/**
 * ESLint (flat config): typescript-eslint recommended everywhere, React hooks rules for the UI, and
 * the purity boundary from docs/ARCHITECTURE.md: engine folders import neither React, onnxruntime,
 * comlink nor the UI; only src/runtime imports onnxruntime.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

const ENGINE = ['core', 'io', 'arch', 'graph', 'saliency', 'prune', 'eval', 'exporters', 'quantize', 'api'].map((d) => `src/${d}/**/*.ts`);

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'test-results/**',
      'playwright-report/**',
      'public/**',
      'tools/.cache/**',
      'bench/results/**',
      '**/*.min.*',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['src/ui/**/*.{ts,tsx}', 'src/store/**/*.ts', 'src/main.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs['recommended-latest'].rules,
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['onnxruntime-*', '**/runtime/*'],
              message: 'The UI talks to the engine only through the worker (src/ui/studio-client.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ENGINE,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['react', 'react-dom', 'react/*', 'zustand', 'recharts', 'comlink'],
              message: 'Engine code stays free of UI and worker libraries.',
            },
            { group: ['onnxruntime-*'], message: 'Only src/runtime imports onnxruntime.' },
            {
              group: ['**/ui/*', '**/store/*', '**/runtime/*', '**/cli/*'],
              message: 'Engine code must not depend on the UI, runtime or CLI.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.test.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['tools/**/*.{js,mjs}', 'src/cli/*.mjs', '*.config.{js,ts}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);

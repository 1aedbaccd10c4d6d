// Lint budget after pepr: small functions, no floating promises, explicit return types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'tasks/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      complexity: ['warn', 12],
      'max-params': ['error', 5],
      '@typescript-eslint/no-floating-promises': ['error', {
        // node:test's describe/it return promises that the runner itself awaits.
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      '@typescript-eslint/explicit-function-return-type': ['error', { allowExpressions: true, allowTypedFunctionExpressions: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The product runs on its own Kubernetes and Cloud Storage clients (operator/kube, src/storage):
    // the libraries are for tests, the demo and benches only (4x the operator's memory, a crash).
    files: ['src/**', 'operator/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [
        { name: '@kubernetes/client-node', message: 'use operator/kube (our client); @kubernetes/client-node is for tests and hack/ only' },
        { name: '@google-cloud/storage', message: 'use src/storage (our client); @google-cloud/storage is for tests and hack/ only' },
      ] }],
    },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/explicit-function-return-type': 'off' },
  },
);

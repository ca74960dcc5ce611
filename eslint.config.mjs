import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules', '.herald', '.tools', 'db/migrations', 'coverage', 'bench-results', '**/dist'] },
  js.configs.recommended,
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: globals.node } },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, activities as types only.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                'fs',
                'path',
                'crypto',
                'http',
                'https',
                'net',
                'os',
                'child_process',
                'events',
                'stream',
                'url',
                'util',
                'zlib',
              ],
              message: 'No Node APIs in workflow code',
            },
            {
              group: ['../db', '../db/*', '../observability/*', '../api/*', '../runtime/*', '../main/*', '../worker/*'],
              message: 'Workflow code decides; I/O and process code stay outside the sandbox',
            },
            {
              group: ['../activities', '../activities/*'],
              message: 'Import activities as types only',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);

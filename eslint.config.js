// Root ESLint flat config for every workspace (typescript-eslint, no type-aware rules: fast).
// Formatting is Prettier's job (.prettierrc.json); nothing here conflicts with it.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/coverage/**',
      '.data/**',
      '.turbo/**',
      'test-results/**',
      'playwright-report/**',
      'e2e/artifacts/**',
      'prisma/migrations/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'warn' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'none',
          ignoreRestSiblings: true,
        },
      ],
      // Team rule: configuration is read in one place, @gridflow/db's config.ts (getConfig()).
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            "Read configuration through getConfig() from '@gridflow/db' (prisma/src/config.ts).",
        },
      ],
    },
  },
  {
    // Where reading or setting the environment is the point: the config module, the Prisma CLI
    // config, dev scripts, benchmarks, test setup and tool configs.
    files: [
      'prisma/src/config.ts',
      'prisma/prisma.config.ts',
      'scripts/**',
      '*/scripts/**',
      '*/bench/**',
      '*/faults/**',
      '**/*.test.ts',
      '**/*.test.tsx',
      '**/testing/**',
      '**/vitest.config.ts',
      '**/vite.config.ts',
      '**/playwright.config.ts',
      'e2e/**',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['editor/src/**', 'editor/bench/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
);

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    // PGlite's first start is several seconds (more on a loaded 2-core machine).
    testTimeout: 120_000,
    hookTimeout: 180_000,
    include: ['src/**/*.test.ts'],
  },
});

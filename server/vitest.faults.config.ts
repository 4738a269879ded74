import { defineConfig } from 'vitest/config';

// The fault-injection suite (server/faults/: real processes; restarts the shared Redis and
// PostgreSQL) and the hostile-input suite (server/fuzz/). Run after every other suite by
// scripts/test-all.mjs, never in parallel: no file parallelism, one worker.
export default defineConfig({
  test: {
    include: ['faults/**/*.test.ts', 'fuzz/**/*.test.ts'],
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});

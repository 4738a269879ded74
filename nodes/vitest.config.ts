import { defineConfig } from 'vitest/config';

// Forks pool with --no-node-snapshot: the code node runs isolated-vm, which needs it (Vitest 4
// takes pool options at the top level). Generous timeouts: several suites share a 2-core machine.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

import { defineConfig } from 'vitest/config';

// Forks pool with --no-node-snapshot: template runs go through the node types, and the code node and
// expressions use isolated-vm. Generous timeouts: several suites share a 2-core machine.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

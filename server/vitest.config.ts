import { defineConfig } from 'vitest/config';

// Forks pool with --no-node-snapshot: the engine's code node runs isolated-vm, which needs it.
// Generous timeouts: several workspaces' suites share a 2-core machine.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});

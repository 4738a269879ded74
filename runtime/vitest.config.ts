import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // isolated-vm 5 on Node 20 needs --no-node-snapshot; it only works in child processes (forks).
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

/**
 * A runtime-only worker process for crash tests and benches, with the test node types.
 * Usage: test-worker-main.ts <databaseUrl> <redisUrl> <queuePrefix> [concurrency] [leaseMs]
 * Prints "ready" on stdout once it takes jobs.
 */
import { openDatabase } from '@gridflow/db';
import { runWorker } from '../worker.js';
import { createSandbox, testRegistry, testServices } from './engine-fixture.js';

const [databaseUrl, redisUrl, queuePrefix, concurrency = '10', leaseMs = '2000'] =
  process.argv.slice(2);
if (!databaseUrl || !redisUrl || !queuePrefix) {
  console.error(
    'usage: test-worker-main.ts <databaseUrl> <redisUrl> <queuePrefix> [concurrency] [leaseMs]',
  );
  process.exit(2);
}
const db = await openDatabase({ databaseUrl, poolSize: 10 });
const sandbox = createSandbox({ poolSize: 1 });
await runWorker({
  db,
  registry: testRegistry(),
  redisUrl,
  queuePrefix,
  concurrency: Number(concurrency),
  services: testServices(sandbox),
  leaseMs: Number(leaseMs),
  // Crash tests (short leases) recover fast; benchmarks (lease >= 10 s) run with the defaults.
  ...(Number(leaseMs) < 10_000
    ? { sweepIntervalMs: 500, staleMs: 5000, lockDurationMs: 3000, stalledIntervalMs: 1000 }
    : {}),
  onStopped: async () => {
    await db.close();
    sandbox.dispose();
    process.exit(0);
  },
});
process.stdout.write('ready\n');

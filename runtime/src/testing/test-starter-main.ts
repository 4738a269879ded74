/**
 * A process that only starts runs, as an API server answering sync webhooks does: no queue
 * workers, but `waitsForResult`, so it runs their first steps inline. For the crash test that
 * SIGKILLs it mid-step. Usage:
 *   test-starter-main.ts <databaseUrl> <redisUrl> <queuePrefix> <leaseMs> <startJson>
 * where startJson is a StartRunInput array. Prints "started <executionId>" per run.
 */
import { openDatabase } from '@gridflow/db';
import { createEngine } from '../engine-impl.js';
import type { StartRunInput } from '../engine.js';
import { createSandbox, testRegistry, testServices } from './engine-fixture.js';

const [databaseUrl, redisUrl, queuePrefix, leaseMs, startJson] = process.argv.slice(2);
if (!databaseUrl || !redisUrl || !queuePrefix || !leaseMs || !startJson) {
  console.error(
    'usage: test-starter-main.ts <databaseUrl> <redisUrl> <queuePrefix> <leaseMs> <startJson>',
  );
  process.exit(2);
}
const db = await openDatabase({ databaseUrl, poolSize: 4 });
const sandbox = createSandbox({ poolSize: 1 });
const engine = createEngine({
  db,
  registry: testRegistry(),
  redisUrl,
  queuePrefix,
  workers: 0,
  leaseMs: Number(leaseMs),
  services: testServices(sandbox),
});
await engine.start();
for (const input of JSON.parse(startJson) as StartRunInput[]) {
  const { executionId } = await engine.startRun({ ...input, waitsForResult: true });
  process.stdout.write(`started ${executionId}\n`);
}
// Stays up (running the steps inline) until killed.
setInterval(() => {}, 60_000);

/**
 * A step-worker process of the fault-injection suite: the runtime's `runWorker` with the real
 * node registry, the server's services and event sink (what `server/src/worker-main.ts` wires),
 * plus a per-test queue prefix and short lease/stall timings from the command line so a SIGKILLed
 * worker's steps are re-delivered within seconds instead of the 30 s production defaults.
 * Configuration comes from the environment through @gridflow/db's `getConfig()`.
 *
 *   node --no-node-snapshot --import tsx server/faults/fault-worker-main.ts --prefix P [--concurrency N]
 *
 * Prints one JSON line `{"ready":true,"pid":...}` once it takes jobs.
 */
import { ConfigError, getConfig, openDatabase } from '@gridflow/db';
import { registry } from '@gridflow/nodes';
import { runWorker } from '@gridflow/runtime/worker';
import { createLogger } from '../src/ops/logger.js';
import { createServices, engineLogger } from '../src/runtime-wiring.js';
import { createEventSink } from '../src/events/event-sink.js';
import { argNumber, argValue } from './args.js';

let config;
try {
  config = getConfig();
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
const prefix = argValue('prefix');
if (!prefix || !config.redisUrl || !config.databaseUrl) {
  console.error('fault-worker-main needs --prefix, DATABASE_URL and REDIS_URL');
  process.exit(2);
}
const log = createLogger(config.logLevel);
const db = await openDatabase({ poolSize: 10 });
const services = createServices(config);
await runWorker({
  db,
  registry,
  services,
  redisUrl: config.redisUrl,
  queuePrefix: prefix,
  concurrency: argNumber('concurrency', 4),
  eventSink: createEventSink({ maxAttempts: 5 }) as never,
  logger: engineLogger(log),
  leaseMs: argNumber('lease-ms', 3000),
  sweepIntervalMs: argNumber('sweep-ms', 1000),
  staleMs: argNumber('stale-ms', 4000),
  lockDurationMs: argNumber('lock-ms', 4000),
  stalledIntervalMs: argNumber('stalled-ms', 2000),
  onStopped: async () => {
    services.sandbox.dispose();
    await db.close();
    process.exit(0);
  },
});
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);

/**
 * The API server process of the fault-injection suite: `server/src/main.ts`'s wiring (real app,
 * real node registry, an engine with no step workers) but with a per-test queue prefix and the
 * sweeper timings given on the command line, so tests do not share BullMQ keys with anything else.
 * Configuration comes from the environment through @gridflow/db's `getConfig()` (DATABASE_URL,
 * REDIS_URL, GRIDFLOW_ENCRYPTION_KEY, PORT=0, ...).
 *
 *   node --no-node-snapshot --import tsx server/faults/fault-server-main.ts --prefix P [--sweep-ms N --stale-ms N --lease-ms N]
 *
 * Prints one JSON line `{"ready":true,"url":...,"pid":...}` once it listens. SIGTERM: graceful stop.
 */
import { ConfigError, decrypt, encrypt, getConfig, openDatabase } from '@gridflow/db';
import { registry, describeNodeTypes } from '@gridflow/nodes';
import { createEngine } from '@gridflow/runtime/engine-impl';
import { createApp } from '../src/app.js';
import { createLogger } from '../src/ops/logger.js';
import { createNodeTester, createServices, engineLogger } from '../src/runtime-wiring.js';
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
  console.error('fault-server-main needs --prefix, DATABASE_URL and REDIS_URL');
  process.exit(2);
}
const log = createLogger(config.logLevel);
const db = await openDatabase({ poolSize: 10 });
const services = createServices(config);
const engine = createEngine({
  db,
  registry,
  services,
  workers: 0,
  redisUrl: config.redisUrl,
  queuePrefix: prefix,
  eventSink: createEventSink({ maxAttempts: 5 }) as never,
  logger: engineLogger(log),
  sweepIntervalMs: argNumber('sweep-ms', 1000),
  staleMs: argNumber('stale-ms', 4000),
  leaseMs: argNumber('lease-ms', 3000),
});
await engine.start();
const gf = await createApp({
  db,
  engine,
  registry,
  crypto: { encrypt, decrypt },
  log,
  describeNodeTypes: describeNodeTypes as never,
  executeNodeOnce: createNodeTester(db, registry, services),
  options: {
    publicUrl: config.publicUrl,
    redisUrl: config.redisUrl,
    deliveryWorker: false,
    loginRateLimit: { windowMs: 60_000, max: 10_000 },
  },
});
const url = await gf.listen(config.port, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ ready: true, url, pid: process.pid })}\n`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(1), 20_000);
  force.unref();
  try {
    await gf.close();
    await engine.stop();
    services.sandbox.dispose();
    await db.close();
  } catch (err) {
    console.error('fault server shutdown error', err);
  }
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

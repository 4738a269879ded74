/**
 * `npm run worker` (scaled mode): a step worker process. Reaches the same PostgreSQL and Redis as
 * the servers, runs steps from the BullMQ queue with the node registry and services, and also
 * delivers outbound events (claimed with SKIP LOCKED, so any number of processes may do it).
 * Options: `--concurrency N` (default GRIDFLOW_WORKERS), `--no-deliveries`.
 */
import { ConfigError, decrypt, encrypt, getConfig, openDatabase } from '@gridflow/db';
import { registry } from '@gridflow/nodes';
import { createLogger } from './ops/logger.js';
import { createGridflowEngine, createServices } from './runtime-wiring.js';
import { DeliveryWorker } from './events/delivery-worker.js';
import { defaultServerOptions } from './deps.js';

async function main() {
  let config;
  try {
    config = getConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  if (config.mode !== 'scaled') {
    console.error('npm run worker needs scaled mode: set DATABASE_URL (PostgreSQL) and REDIS_URL. In embedded mode `npm start` runs the steps itself.');
    process.exit(1);
  }
  const i = process.argv.indexOf('--concurrency');
  const concurrency = i > 0 ? Math.max(1, Number(process.argv[i + 1]) || config.workers) : config.workers;
  const db = await openDatabase();
  const services = createServices(config);
  const engine = createGridflowEngine({ db, registry, services, workers: concurrency, redisUrl: config.redisUrl, log });
  await engine.start();
  const delivery = process.argv.includes('--no-deliveries') ? null : new DeliveryWorker(db, { encrypt, decrypt }, log, defaultServerOptions);
  delivery?.start();
  log.info({ concurrency, pid: process.pid }, 'gridflow worker started');
  console.log(`Gridflow worker ${process.pid}: ${concurrency} concurrent steps${delivery ? ', delivering events' : ''}`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    try {
      await delivery?.stop();
      await engine.stop(); // stops taking jobs, lets running steps finish or releases them
      services.sandbox.dispose();
      await db.close();
    } catch (err) {
      log.error({ err }, 'error during worker shutdown');
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((err) => {
  console.error('Gridflow worker failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});

/**
 * Stand-in for server/src/main.ts and server/src/worker-main.ts, used by the benchmark ONLY while
 * those files do not exist yet (its JSON lines then say `"launcher": "bench fallback"`). It wires
 * the same public pieces the server exports: config from @gridflow/db, the database, the engine
 * (createGridflowEngine), and createApp; nothing is re-implemented.
 *
 *   node --no-node-snapshot --import tsx scripts/bench-peers/gridflow-fallback-main.ts server|worker
 *
 * server: the API + webhooks; in embedded mode (no REDIS_URL) it also runs the steps in-process,
 * in scaled mode steps run in the worker processes. worker: engine with step workers, no HTTP.
 */
import { getConfig } from '@gridflow/db/config';
import { openDatabase, createCipher } from '@gridflow/db';
import { registry, describeNodeTypes } from '@gridflow/nodes';
import { createApp } from '../../server/src/app.js';
import { createGridflowEngine, createServices } from '../../server/src/runtime-wiring.js';
import { createLogger } from '../../server/src/ops/logger.js';

const role = process.argv[2] === 'worker' ? 'worker' : 'server';
const config = getConfig();
const log = createLogger(config.logLevel);
const db = await openDatabase({ migrate: config.mode === 'embedded' });
const cipher = createCipher(config.keyring);
const services = createServices(config, cipher);
const inProcessWorkers = role === 'worker' || config.mode === 'embedded' ? config.workers : 0;
const engine = createGridflowEngine({
  db,
  registry,
  services,
  workers: inProcessWorkers,
  log,
  ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
});
await engine.start();

let close = async () => {};
if (role === 'server') {
  const gf = await createApp({
    db,
    engine,
    registry,
    crypto: cipher,
    log,
    describeNodeTypes: describeNodeTypes as never,
    options: { publicUrl: config.publicUrl, redisUrl: config.redisUrl ?? null, deliveryWorker: false },
  });
  const url = await gf.listen(config.port, config.host);
  log.info({ url, mode: config.mode }, 'bench fallback server listening');
  close = () => gf.close();
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void (async () => {
      await close().catch(() => undefined);
      await engine.stop().catch(() => undefined);
      await db.close().catch(() => undefined);
      process.exit(0);
    })();
  });
}

/**
 * `npm start`: opens the database (embedded PGlite in the data dir by default, PostgreSQL when
 * DATABASE_URL is set), starts the engine (in-process workers in embedded mode; in scaled mode the
 * steps run in `npm run worker` processes unless `--workers N` is given), loads the templates,
 * serves the API, webhooks, socket.io and the editor, and prints how to get in.
 */
import { join } from 'node:path';
import { ConfigError, decrypt, encrypt, getConfig, openDatabase, REPO_ROOT } from '@gridflow/db';
import { registry, describeNodeTypes } from '@gridflow/nodes';
import { createApp } from './app.js';
import { createLogger } from './ops/logger.js';
import { createGridflowEngine, createNodeTester, createServices, startSchedules } from './runtime-wiring.js';
import type { TemplateDefinition } from './deps.js';

function argValue(name: string): string | undefined {
  const i = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = process.argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : process.argv[i + 1];
}

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
  const db = await openDatabase({
    // Embedded: without its database thread nothing works; exit so that a restart (a process
    // manager, or the user) resumes the runs.
    onLost: (err) => {
      log.fatal({ err }, 'the embedded database thread stopped; exiting');
      process.exit(1);
    },
    onVacuum: ({ ms, error }) => {
      if (error) log.warn({ err: error, ms: Math.round(ms) }, 'vacuuming the embedded database failed');
      else log.debug({ ms: Math.round(ms) }, 'embedded database vacuumed');
    },
  });
  const services = createServices(config);
  const workersArg = argValue('workers');
  const workers = workersArg !== undefined ? Math.max(0, Number(workersArg) || 0) : config.mode === 'scaled' ? 0 : config.workers;
  const engine = createGridflowEngine({ db, registry, services, workers, redisUrl: config.redisUrl, log });
  await engine.start();
  const scheduler = startSchedules(db, engine, log);

  let templates: TemplateDefinition[] = [];
  try {
    const mod = await import('@gridflow/templates');
    templates = (mod as { loadTemplates: () => TemplateDefinition[] }).loadTemplates();
  } catch (err) {
    log.warn({ err }, 'templates could not be loaded; the gallery will be empty');
  }

  const gf = await createApp({
    db,
    engine,
    registry,
    crypto: { encrypt, decrypt },
    log,
    templates,
    describeNodeTypes: describeNodeTypes as never,
    executeNodeOnce: createNodeTester(db, registry, services),
    options: {
      publicUrl: config.publicUrl,
      secureCookies: config.publicUrl.startsWith('https://'),
      editorDist: join(REPO_ROOT, 'editor', 'dist'),
      redisUrl: config.redisUrl ?? null,
      trustProxy: config.publicUrl.startsWith('https://') ? 1 : false,
      hookRateLimit: { windowMs: 1000, max: config.hookRateLimit },
    },
  });
  const url = await gf.listen(config.port, config.host);
  const shown = config.host === '0.0.0.0' || config.host === '127.0.0.1' ? url.replace(/\/\/[^:/]+/, '//localhost') : url;
  console.log(
    [
      '',
      `  Gridflow is running at ${shown}`,
      `  mode: ${config.mode} (${db.kind}${config.mode === 'embedded' ? `, data in ${config.dataDir}` : ''}), ${workers} in-process step workers`,
      `  Open ${shown} and sign up: the first account gets its own workspace (you are its owner).`,
      `  API: ${shown}/api/openapi.json  ·  webhooks: POST ${shown}/hooks/<workspace>/<path>  ·  health: ${shown}/healthz`,
      `  Sign up from a terminal: curl -c cookies -H 'content-type: application/json' -d '{"email":"you@example.com","password":"at least 8 chars","name":"You"}' ${shown}/api/auth/signup`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: closing HTTP and sockets, stopping the engine');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    try {
      await gf.close();
      await scheduler.stop();
      await engine.stop();
      services.sandbox.dispose();
      await db.close();
    } catch (err) {
      log.error({ err }, 'error during shutdown');
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error('Gridflow failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});

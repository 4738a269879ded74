/**
 * n8n 2.8.4 (2.10+ needs Node >= 22.16), default SQLite database and default execution saving
 * (every finished production execution is stored). Its install needs `xlsx` pinned to the registry's
 * 0.18.5 (one dependency fetches it from outside the registry).
 *
 * Once per benchmark run a pristine user folder is prepared while n8n is stopped: both workflows
 * imported and published (`import:workflow`, `publish:workflow`). Each round copies it to a fresh
 * folder, so every measured round starts with an empty execution history. Telemetry, version
 * checks, templates and community packages are off through n8n's documented env vars; the task
 * runner's broker gets its own port. W3 counts the workflow's finished executions in n8n's SQLite
 * database (read-only).
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ensurePeer } from './install.js';
import { N8N_W1_ID, N8N_W3_ID, n8nWorkflows } from './flows/n8n.js';
import type { StoreCount } from './load.js';
import { HOST, freePort, httpJson, run, startProc, waitFor } from './proc.js';
import type { BenchContext, Round, System, Workload } from './system.js';

export const N8N_VERSION = '2.8.4';

/** The few parts of the sqlite3 module (loaded from n8n's own install) used here. */
interface Sqlite3 {
  OPEN_READONLY: number;
  Database: new (file: string, mode: number) => {
    configure(option: 'busyTimeout', ms: number): void;
    all(sql: string, params: unknown[], cb: (err: Error | null, rows: unknown[]) => void): void;
    close(cb: () => void): void;
  };
}

function n8nEnv(userFolder: string, port: number, brokerPort: number): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_'))),
    N8N_USER_FOLDER: userFolder,
    N8N_PORT: String(port),
    N8N_LISTEN_ADDRESS: HOST,
    N8N_HOST: HOST,
    N8N_PROTOCOL: 'http',
    WEBHOOK_URL: `http://${HOST}:${port}/`,
    N8N_ENCRYPTION_KEY: 'gridflow-bench-peers-not-a-secret',
    N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
    N8N_SECURE_COOKIE: 'false',
    DB_TYPE: 'sqlite',
    // Isolation (docs: "Isolate n8n"), plus community packages off.
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    EXTERNAL_FRONTEND_HOOKS_URLS: '',
    N8N_DIAGNOSTICS_CONFIG_FRONTEND: '',
    N8N_DIAGNOSTICS_CONFIG_BACKEND: '',
    N8N_COMMUNITY_PACKAGES_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_HIRING_BANNER_ENABLED: 'false',
    // Task runner (runs Code nodes) in internal mode on a port of its own.
    N8N_RUNNERS_MODE: 'internal',
    N8N_RUNNERS_BROKER_PORT: String(brokerPort),
    N8N_RUNNERS_BROKER_LISTEN_ADDRESS: HOST,
    N8N_LOG_LEVEL: 'warn',
    N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '5',
  };
}

export function n8nSystem(): System {
  let installDir = '';
  let template = '';
  let round = 0;
  const bin = () => path.join(installDir, 'node_modules/n8n/bin/n8n');

  async function cli(ctx: BenchContext, userFolder: string, args: string[]) {
    const env = n8nEnv(userFolder, await freePort(), await freePort());
    return run(process.execPath, [bin(), ...args], {
      cwd: userFolder,
      env,
      timeoutMs: 5 * 60_000,
      logFile: path.join(ctx.workDir, 'n8n-cli.log'),
    });
  }

  return {
    name: 'n8n',
    version: N8N_VERSION,
    store: "n8n's SQLite database (execution_entity rows of the workflow with status success)",
    async prepare(ctx) {
      installDir = await ensurePeer(
        ctx.cacheDir,
        { pkg: 'n8n', version: N8N_VERSION, overrides: { xlsx: '0.18.5' }, timeoutMs: 30 * 60_000 },
        ctx.log,
      );
      template = path.join(ctx.workDir, 'n8n-template');
      mkdirSync(template, { recursive: true });
      const file = path.join(ctx.workDir, 'n8n-workflows.json');
      writeFileSync(file, JSON.stringify(n8nWorkflows(), null, 2));
      ctx.log('n8n: importing and publishing the workflows into a pristine user folder (n8n stopped)');
      await cli(ctx, template, ['import:workflow', `--input=${file}`]);
      for (const id of [N8N_W1_ID, N8N_W3_ID]) await cli(ctx, template, ['publish:workflow', `--id=${id}`]);
    },
    async startRound(workload: Workload, ctx: BenchContext): Promise<Round> {
      const userFolder = path.join(ctx.workDir, `n8n-${workload}-${++round}`);
      cpSync(template, userFolder, { recursive: true });
      const port = await freePort();
      const proc = startProc('n8n', process.execPath, [bin(), 'start'], {
        cwd: userFolder,
        env: n8nEnv(userFolder, port, await freePort()),
        logFile: path.join(userFolder, 'n8n.log'),
      });
      const base = `http://${HOST}:${port}`;
      const url = `${base}/webhook/${workload.toLowerCase()}`;
      // Ready once the published workflow's webhook answers (one call; W3 subtracts a baseline).
      await waitFor(
        `n8n ${workload} webhook`,
        async () => {
          const r = await httpJson(url, { body: { n: 21, text: 'hello' }, timeoutMs: 15_000 });
          return r.status >= 200 && r.status < 300 ? true : undefined;
        },
        { timeoutMs: 180_000, proc, intervalMs: 1000 },
      );
      const db = openDb(path.join(userFolder, '.n8n', 'database.sqlite'));
      const workflowId = workload === 'W1' ? N8N_W1_ID : N8N_W3_ID;
      return {
        url,
        count: () => db.count(workflowId),
        groups: new Map([[proc.child.pid!, 'n8n (main + task runner)']]),
        async stop() {
          await db.close();
          await proc.stop();
        },
      };
    },
  };

  /** Read-only SQLite access through the sqlite3 module n8n itself installed. */
  function openDb(file: string) {
    const require = createRequire(path.join(installDir, 'node_modules/n8n/package.json'));
    const sqlite3 = require('sqlite3') as Sqlite3;
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY);
    db.configure('busyTimeout', 5000);
    return {
      count: (workflowId: string) =>
        new Promise<StoreCount>((resolve, reject) =>
          db.all(
            'SELECT status, COUNT(*) AS c FROM execution_entity WHERE workflowId = ? GROUP BY status',
            [workflowId],
            (err, rows) => {
              if (err) return reject(err);
              const by = Object.fromEntries((rows as { status: string; c: number }[]).map((r) => [r.status, r.c]));
              resolve({ completed: by.success ?? 0, failed: (by.error ?? 0) + (by.crashed ?? 0) + (by.canceled ?? 0) });
            },
          ),
        ),
      close: () => new Promise<void>((resolve) => db.close(() => resolve())),
    };
  }
}

/**
 * Gridflow from this repository, through its public HTTP API only (sign up, create the grid, publish
 * a version, call its webhook), in either deployment:
 * - scaled: a fresh PostgreSQL database (migrated with @gridflow/db's migrations) + Redis; one
 *   server process (server/src/main.ts) and `--workers` worker processes (server/src/worker-main.ts,
 *   what `npm run worker` runs);
 * - embedded: one process started like `npm start` (scripts/start.mjs) with a fresh data dir (PGlite).
 * W3 counts the grid's finished runs in the executions table: with SQL on PostgreSQL (scaled), and
 * through the executions API in embedded mode (PGlite has one connection, owned by the server).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { gridflowW1, gridflowW3 } from './flows/gridflow.js';
import type { StoreCount } from './load.js';
import { HOST, freePort, httpJson, startProc, waitFor, type Proc } from './proc.js';
import type { BenchContext, Round, System, Workload } from './system.js';

const PG_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL_BASE = 'redis://127.0.0.1:6379';

export interface GridflowOptions {
  mode: 'scaled' | 'embedded';
  /** Worker processes (scaled mode). */
  workers: number;
}

export function gridflowSystem(o: GridflowOptions): System {
  let round = 0;
  const name = `gridflow-${o.mode}`;
  return {
    name,
    version: 'dev',
    store: 'Gridflow executions table (status completed)',
    async prepare(ctx) {
      const need = ['server/src/main.ts', ...(o.mode === 'scaled' ? ['server/src/worker-main.ts'] : ['scripts/start.mjs'])];
      const missing = need.filter((f) => !existsSync(path.join(ctx.repoDir, f)));
      if (missing.length) throw new Error(`Gridflow cannot start: missing ${missing.join(', ')}`);
    },
    async startRound(workload: Workload, ctx: BenchContext): Promise<Round> {
      const id = `${workload.toLowerCase()}_${++round}_${randomBytes(3).toString('hex')}`;
      const dataDir = path.join(ctx.workDir, `${name}-${id}`);
      mkdirSync(dataDir, { recursive: true });
      const port = await freePort();
      const procs: Proc[] = [];
      let dbName: string | undefined;
      let pool: pg.Pool | undefined;
      const cleanup = async () => {
        await Promise.all(procs.map((p) => p.stop()));
        await pool?.end().catch(() => undefined);
        if (dbName) await dropDatabase(dbName).catch((e) => ctx.log(`drop database ${dbName}: ${String(e)}`));
      };
      try {
        const env: NodeJS.ProcessEnv = {
          ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_'))),
          PORT: String(port),
          HOST,
          GRIDFLOW_DATA_DIR: dataDir,
          GRIDFLOW_PUBLIC_URL: `http://${HOST}:${port}`,
          GRIDFLOW_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
          LOG_LEVEL: 'warn',
          NODE_ENV: 'production',
          DATABASE_URL: '',
          REDIS_URL: '',
        };
        const node = (script: string) => [process.execPath, ['--no-node-snapshot', '--import', 'tsx', script]] as const;
        if (o.mode === 'scaled') {
          dbName = `gridflow_bench_${id}`;
          await createDatabase(dbName);
          env.DATABASE_URL = `postgresql://postgres@127.0.0.1:5432/${dbName}`;
          env.REDIS_URL = REDIS_URL_BASE;
          // Migrate the fresh database like `npm run db:migrate` (same SQL files, same bookkeeping).
          const { openDatabase } = await import('@gridflow/db/database');
          const db = await openDatabase({ databaseUrl: env.DATABASE_URL, migrate: true, poolSize: 2 });
          await db.close();
          const [cmd, args] = node('server/src/main.ts');
          procs.push(startProc(`${name} server`, cmd, [...args], { cwd: ctx.repoDir, env, logFile: path.join(dataDir, 'server.log') }));
          for (let i = 0; i < o.workers; i++) {
            const [wcmd, wargs] = node('server/src/worker-main.ts');
            procs.push(
              startProc(`${name} worker ${i + 1}`, wcmd, [...wargs], { cwd: ctx.repoDir, env, logFile: path.join(dataDir, `worker-${i + 1}.log`) }),
            );
          }
          pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });
        } else {
          procs.push(
            startProc(`${name}`, process.execPath, ['scripts/start.mjs'], { cwd: ctx.repoDir, env, logFile: path.join(dataDir, 'server.log') }),
          );
        }
        const base = `http://${HOST}:${port}`;
        await waitFor(
          `${name} server`,
          async () => {
            const r = await httpJson(`${base}/api/health`, { timeoutMs: 3000 });
            return r.status === 200 ? true : undefined;
          },
          { timeoutMs: 120_000, proc: procs[0], intervalMs: 500 },
        );
        const api = await session(base);
        const hookPath = `${workload.toLowerCase()}-${id.replace(/_/g, '-')}`;
        const doc = workload === 'W1' ? gridflowW1(hookPath) : gridflowW3(hookPath);
        const grid = await api.call('POST', '/api/grids', { name: `bench ${workload}`, document: doc });
        const gridId = pick(grid, ['id', 'grid.id']);
        const version = await api.call('POST', `/api/grids/${gridId}/versions`, {});
        const url = hookUrl(base, api.workspace, hookPath, version, grid);
        let count: () => Promise<StoreCount>;
        if (pool) {
          const p = pool;
          count = async () => {
            const r = await p.query<{ status: string; c: string }>(
              'SELECT status, count(*) AS c FROM executions WHERE grid_id = $1 GROUP BY status',
              [gridId],
            );
            const by = Object.fromEntries(r.rows.map((x) => [x.status, Number(x.c)]));
            return { completed: by.completed ?? 0, failed: (by.failed ?? 0) + (by.cancelled ?? 0) };
          };
        } else {
          count = async () => executionCountsViaApi(api, gridId);
        }
        return { url, count, stop: cleanup };
      } catch (e) {
        const tails = procs.map((p) => `--- ${p.name}\n${p.tail()}`).join('\n');
        await cleanup();
        throw new Error(`${(e as Error).message}\n${tails}`);
      }
    },
  };
}

interface ApiSession {
  workspace: { id: string; slug: string };
  call(method: string, p: string, body?: unknown): Promise<unknown>;
}

async function session(base: string): Promise<ApiSession> {
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  const res = await fetch(`${base}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ email, password: 'bench-password-123', name: 'Bench' }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status !== 201 && res.status !== 200) throw new Error(`signup: HTTP ${res.status} ${text.slice(0, 500)}`);
  const cookie = (res.headers.getSetCookie?.() ?? [])
    .map((c) => c.split(';')[0])
    .join('; ');
  const body = JSON.parse(text) as { workspace: { id: string; slug: string } };
  return {
    workspace: body.workspace,
    async call(method, p, b) {
      const r = await httpJson(`${base}${p}`, {
        method,
        body: b,
        headers: { cookie, origin: base, 'x-workspace-id': body.workspace.id },
        timeoutMs: 30_000,
      });
      if (r.status >= 300) throw new Error(`${method} ${p}: HTTP ${r.status} ${r.text.slice(0, 1000)}`);
      return r.body;
    },
  };
}

/** The webhook URL: taken from the API's answer when it names one, else the documented route. */
function hookUrl(base: string, ws: { id: string; slug: string }, hookPath: string, ...answers: unknown[]): string {
  for (const a of answers) {
    const s = JSON.stringify(a ?? null);
    const m = /"(?:webhookUrl|url|hookUrl)":"([^"]*hooks[^"]*)"/.exec(s);
    if (m) {
      const u = new URL(m[1]!, base);
      return `${base}${u.pathname}`;
    }
  }
  return `${base}/hooks/${hookPath}`;
}

async function executionCountsViaApi(api: ApiSession, gridId: string): Promise<StoreCount> {
  const q = (status: string) => api.call('GET', `/api/executions?gridId=${gridId}&status=${status}&limit=1`);
  const total = (r: unknown) => Number(pick(r, ['total', 'count', 'pageInfo.total']));
  return { completed: total(await q('completed')), failed: total(await q('failed')) };
}

function pick(obj: unknown, paths: string[]): string {
  for (const p of paths) {
    let v: unknown = obj;
    for (const k of p.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    if (v !== undefined && v !== null) return String(v);
  }
  throw new Error(`none of ${paths.join(', ')} in ${JSON.stringify(obj).slice(0, 500)}`);
}

async function createDatabase(name: string) {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE "${name}"`);
  } finally {
    await c.end();
  }
}

async function dropDatabase(name: string) {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

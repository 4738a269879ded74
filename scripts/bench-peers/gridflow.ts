/**
 * Gridflow from this repository, through its public HTTP API only (sign up, create the grid, publish
 * a version, call its webhook), in either deployment:
 * - scaled: a fresh PostgreSQL database (migrated with @gridflow/db's migrations) + Redis; one
 *   server process (server/src/main.ts) and `--workers` worker processes (server/src/worker-main.ts,
 *   what `npm run worker` runs);
 * - embedded: one process, the server `npm start` runs (server/src/main.ts, without start.mjs's editor
 *   build step), no DATABASE_URL/REDIS_URL, a fresh data dir (PGlite).
 * W3 counts the grid's finished runs in the executions table: with SQL on PostgreSQL (scaled), and
 * through the executions API in embedded mode (PGlite has one connection, owned by the server).
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { localSocketUrl } from '@gridflow/db/testing';
import { gridflowW1, gridflowW3 } from './flows/gridflow.js';
import type { StoreCount } from './load.js';
import { HOST, freePort, httpJson, startProc, waitFor, type Proc } from './proc.js';
import type { BenchContext, Round, System, Workload } from './system.js';

const PG_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
/**
 * Redis logical database used by the benchmark's scaled rounds, so that its BullMQ queues (default
 * prefix `gridflow`) never mix with a Gridflow that someone runs on the default database 0. Keys
 * under `gridflow:` in it are removed after each round.
 */
const BENCH_REDIS_DB = 14;
/** application_name of the benchmark's own PostgreSQL connections (left out of Gridflow's CPU time). */
const BENCH_APP = 'gridflow-bench-peers';
const REDIS_URL = `redis://127.0.0.1:6379/${BENCH_REDIS_DB}`;

export interface GridflowOptions {
  mode: 'scaled' | 'embedded';
  /** Worker processes (scaled mode). */
  workers: number;
  /** Write V8 CPU profiles of Gridflow's processes into `<scratch>/<round>/profiles` (kept). */
  profile?: boolean;
}

export function gridflowSystem(o: GridflowOptions): System {
  let round = 0;
  const name = `gridflow-${o.mode}`;
  const sys: System = {
    name,
    version: 'dev',
    store: 'Gridflow executions table (status completed)',
    async prepare(ctx) {
      // package version + the commit measured (with "-dirty" when the tree has uncommitted changes).
      try {
        const pkg = JSON.parse(readFileSync(path.join(ctx.repoDir, 'package.json'), 'utf8')) as { version: string };
        const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ctx.repoDir, encoding: 'utf8' }).trim();
        const dirty = execFileSync('git', ['status', '--porcelain', '--', 'runtime', 'nodes', 'server', 'prisma'], { cwd: ctx.repoDir, encoding: 'utf8' }).trim();
        sys.version = `${pkg.version}+${sha}${dirty ? '-dirty' : ''}`;
      } catch {
        /* not a git checkout: keep "dev" */
      }
      const need = ['server/src/app.ts', 'server/src/runtime-wiring.ts'];
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
        if (o.mode === 'scaled') await clearBenchRedis().catch((e) => ctx.log(`clearing Redis db ${BENCH_REDIS_DB}: ${String(e)}`));
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
        // The real entry points when they exist; else the benchmark's stand-in (same server pieces).
        const fallback = 'scripts/bench-peers/gridflow-fallback-main.ts';
        const launchers: string[] = [];
        const node = (script: string) => {
          const real = existsSync(path.join(ctx.repoDir, script));
          const role = script.includes('worker') ? 'worker' : 'server';
          launchers.push(real ? script : `${fallback} ${role}`);
          const prof = o.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dataDir, 'profiles')}`] : [];
          return [process.execPath, ['--no-node-snapshot', ...prof, '--import', 'tsx', ...(real ? [script] : [fallback, role])]] as const;
        };
        if (o.mode === 'scaled') {
          dbName = `gridflow_bench_${id}`;
          await createDatabase(dbName);
          // A single-machine deployment: PostgreSQL over its Unix socket when it has one (a third
          // less CPU per round trip than TCP loopback), else TCP.
          env.DATABASE_URL = localSocketUrl(dbName).url;
          env.REDIS_URL = REDIS_URL;
          await clearBenchRedis();
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
          pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2, application_name: BENCH_APP });
          pool.on('error', () => {}); // an idle client dropped by a PostgreSQL restart must not crash the benchmark
        } else {
          // What `npm start` runs (scripts/start.mjs → server/src/main.ts), minus its editor build step.
          const [cmd, args] = node('server/src/main.ts');
          procs.push(startProc(name, cmd, [...args], { cwd: ctx.repoDir, env, logFile: path.join(dataDir, 'server.log') }));
        }
        const base = `http://${HOST}:${port}`;
        await waitFor(
          `${name} server`,
          async () => {
            const r = await httpJson(`${base}/readyz`, { timeoutMs: 3000 });
            return r.status === 200 ? true : undefined;
          },
          { timeoutMs: 120_000, proc: procs[0], intervalMs: 500 },
        );
        const api = await session(base);
        const hookPath = `${workload.toLowerCase()}-${id.replace(/_/g, '-')}`;
        const doc = workload === 'W1' ? gridflowW1(hookPath) : gridflowW3(hookPath);
        const grid = await api.call('POST', '/api/grids', { name: `bench ${workload}`, document: doc });
        const gridId = pick(grid, ['grid.id']);
        const published = (await api.call('POST', `/api/grids/${gridId}/versions`, { note: 'bench' })) as {
          webhooks?: { url: string }[];
        };
        // The API answers with the webhook's public URL (`/hooks/<workspace slug>/<path>`); call it on loopback.
        const hook = published.webhooks?.[0]?.url;
        if (!hook) throw new Error(`publish answered without a webhook URL: ${JSON.stringify(published).slice(0, 500)}`);
        const url = `${base}${new URL(hook).pathname}`;
        let unfinished: (() => Promise<number>) | undefined;
        /** Transactions the benchmark itself ran on the database (left out of the per-run counters). */
        let benchQueries = 0;
        let count: () => Promise<StoreCount>;
        if (pool) {
          const p = pool;
          count = async () => {
            benchQueries++;
            const r = await queryRetry<{ status: string; c: string }>(
              p,
              'SELECT status, count(*) AS c FROM executions WHERE workspace_id = $1 AND grid_id = $2 GROUP BY status',
              [api.workspace.id, gridId],
            );
            const by = Object.fromEntries(r.rows.map((x) => [x.status, Number(x.c)]));
            return { completed: by.completed ?? 0, failed: (by.failed ?? 0) + (by.cancelled ?? 0) };
          };
          // Polled during the burst instead of the full count: only unfinished rows are read.
          unfinished = async () => {
            benchQueries++;
            const r = await queryRetry<{ c: string }>(
              p,
              `SELECT count(*) AS c FROM executions
                WHERE status IN ('pending', 'running', 'waiting') AND workspace_id = $1 AND grid_id = $2`,
              [api.workspace.id, gridId],
            );
            return Number(r.rows[0]?.c ?? 0);
          };
        } else {
          count = async () => ({
            completed: await countViaApi(api, gridId, 'completed'),
            failed: (await countViaApi(api, gridId, 'failed')) + (await countViaApi(api, gridId, 'cancelled')),
          });
          unfinished = async () => {
            let n = 0;
            // Order matters: a run moves pending → running → finished, so one seen in neither
            // query was finished already.
            for (const status of ['pending', 'running', 'waiting']) {
              const r = (await api.call('GET', `/api/executions?gridId=${gridId}&status=${status}&limit=1`)) as { items: unknown[] };
              n += r.items.length;
            }
            return n;
          };
        }
        const groups = new Map(procs.map((p) => [p.child.pid!, p.name.replace(`${name} `, '')]));
        let extraPids: (() => Promise<number[]>) | undefined;
        if (dbName) {
          const name = dbName;
          // PostgreSQL backends serving this round's database work for Gridflow: count their CPU too.
          extraPids = async () => {
            const c = new pg.Client({ connectionString: PG_ADMIN_URL, application_name: BENCH_APP });
            c.on('error', () => {});
            try {
              await c.connect();
              const r = await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name <> $2', [name, BENCH_APP]);
              return r.rows.map((x) => x.pid);
            } catch {
              return []; // PostgreSQL restarting: its backends' CPU is not counted for this snapshot
            } finally {
              await c.end().catch(() => undefined);
            }
          };
        }
        let dbCounters: (() => Promise<Record<string, number>>) | undefined;
        if (pool) {
          const p = pool;
          dbCounters = async () => {
            benchQueries += 2;
            const r = await queryRetry<Record<string, string>>(
              p,
              `SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_returned, tup_fetched
                 FROM pg_stat_database WHERE datname = current_database()`,
            );
            const c = Object.fromEntries(Object.entries(r.rows[0] ?? {}).map(([k, v]) => [k, Number(v)]));
            c.xact_commit = (c.xact_commit ?? 0) - benchQueries;
            // Rows read by sequential scans, per table: a count that grows with the table's size
            // points at a query without a usable index.
            const t = await queryRetry<{ relname: string; seq_tup_read: string }>(
              p,
              'SELECT relname, seq_tup_read FROM pg_stat_user_tables WHERE seq_tup_read > 0',
            );
            for (const row of t.rows) c[`seq_tup_read:${row.relname}`] = Number(row.seq_tup_read);
            return c;
          };
        }
        let disturbances: (() => Promise<Record<string, unknown>>) | undefined;
        if (pool) {
          // Other suites on this machine restart the shared PostgreSQL and Redis (fault injection):
          // a round during which either restarted is flagged.
          const p = pool;
          const pgStart = async () => (await queryRetry<{ t: Date }>(p, 'SELECT pg_postmaster_start_time() AS t')).rows[0]?.t.toISOString();
          const redisRunId = async () => {
            const { Redis } = await import('ioredis');
            const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
            try {
              await r.connect();
              return /run_id:(\w+)/.exec(await r.info('server'))?.[1];
            } finally {
              r.disconnect();
            }
          };
          const pg0 = await pgStart();
          const redis0 = await redisRunId();
          disturbances = async () => ({
            postgres_restarted: (await pgStart()) !== pg0,
            redis_restarted: (await redisRunId().catch(() => 'unreachable')) !== redis0,
          });
        }
        const info = {
          launcher: [...new Set(launchers)].join(' + '),
          ...(o.mode === 'scaled'
            ? { worker_processes: o.workers, postgres_transport: env.DATABASE_URL?.includes('host=%2F') ? 'unix socket' : 'tcp' }
            : {}),
        };
        return { url, count, unfinished, stop: cleanup, groups, extraPids, dbCounters, disturbances, info };
      } catch (e) {
        const tails = procs.map((p) => `--- ${p.name}\n${p.tail()}`).join('\n');
        await cleanup();
        throw new Error(`${(e as Error).message}\n${tails}`);
      }
    },
  };
  return sys;
}

/** Errors of a PostgreSQL restart or a dropped connection: the query is retried. */
const TRANSIENT = /57P01|57P02|57P03|ECONNREFUSED|ECONNRESET|Connection terminated|terminating connection|the database system is (starting|shutting) up/i;

/** A query that rides out a PostgreSQL restart (other test suites restart the shared server). */
async function queryRetry<R extends pg.QueryResultRow>(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      return await pool.query<R>(sql, params);
    } catch (e) {
      const err = e as Error & { code?: string };
      if (Date.now() > deadline || !TRANSIENT.test(`${err.code ?? ''} ${err.message}`)) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
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

/** Exact number of the grid's executions in `status`, paging through the executions API. */
async function countViaApi(api: ApiSession, gridId: string, status: string): Promise<number> {
  let n = 0;
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const q = `/api/executions?gridId=${gridId}&status=${status}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = (await api.call('GET', q)) as { items: unknown[]; nextCursor: string | null };
    n += r.items.length;
    cursor = r.nextCursor;
    if (!cursor) return n;
  }
  throw new Error('executions API: too many pages');
}

async function clearBenchRedis() {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'gridflow:*', 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0' && ++rounds < 100_000);
  } finally {
    redis.disconnect();
  }
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

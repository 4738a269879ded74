/**
 * Opening the database: PostgreSQL through one `pg` Pool (shared by Prisma's adapter and the plain
 * SQL client), or embedded PGlite (with pgvector) in a data directory, migrated at open.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '@prisma/client';
import pg from 'pg';
import { getConfig } from './config.js';
import { lockDataDir } from './dir-lock.js';
import { applyMigrations } from './migrate.js';
import { createPgliteAdapter } from './pglite-adapter.js';
import type { SqlClient } from './sql.js';
import { createPgSqlClient } from './sql-pg.js';
import { createPgliteSqlClient, type PgliteLike } from './sql-pglite.js';
import { PgliteOnThread } from './pglite-on-thread.js';

export interface Database {
  kind: 'postgres' | 'pglite';
  /** Prisma for CRUD and the API. */
  prisma: PrismaClient;
  /** Plain SQL over the same connection(s), for the hot path. */
  sql: SqlClient;
  /** Disconnects Prisma and closes the pool / PGlite instance. Idempotent. */
  close(): Promise<void>;
  /**
   * PGlite only: `VACUUM` now, what autovacuum does on PostgreSQL (PGlite runs PostgreSQL in
   * single-user mode, where nothing vacuums). Resolves with its duration in ms.
   */
  vacuum?(): Promise<number>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL URL. Default: config DATABASE_URL, unless `dataDir` is given. */
  databaseUrl?: string;
  /** PGlite data directory (`memory://` for in-memory). Default: `<GRIDFLOW_DATA_DIR>/pglite`. */
  dataDir?: string;
  /** PostgreSQL pool size. Default: config GRIDFLOW_DB_POOL_SIZE (20). */
  poolSize?: number;
  /** Apply pending migrations at open. Default: true for PGlite, false for PostgreSQL (`npm run db:migrate`). */
  migrate?: boolean;
  /** PGlite on its own thread: called if that thread dies (every statement fails from then on). */
  onLost?: (reason: Error) => void;
  /** PGlite: after each scheduled vacuum (config GRIDFLOW_PGLITE_VACUUM_MINUTES), its duration or error. */
  onVacuum?: (info: VacuumInfo) => void;
}

export interface VacuumInfo {
  ms: number;
  error?: unknown;
}

/** Opens PostgreSQL when a URL is given or configured, else embedded PGlite. */
export async function openDatabase(opts: OpenDatabaseOptions = {}): Promise<Database> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts);
  if (opts.dataDir) return openPglite(opts.dataDir, opts);
  const config = getConfig();
  if (config.databaseUrl) return openPostgres(config.databaseUrl, opts);
  return openPglite(join(config.dataDir, 'pglite'), {
    ...opts,
    thread: config.pgliteThread,
    vacuumEveryMs: config.pgliteVacuumMinutes * 60_000,
  });
}

async function openPostgres(databaseUrl: string, opts: OpenDatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: opts.poolSize ?? (opts.databaseUrl ? 20 : getConfig().dbPoolSize),
  });
  // An idle client's error (e.g. the server restarted) must not crash the process.
  pool.on('error', () => {});
  const sql = createPgSqlClient(pool);
  if (opts.migrate) await applyMigrations(sql);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closed: Promise<void> | undefined;
  return {
    kind: 'postgres',
    prisma,
    sql,
    close: () =>
      (closed ??= (async () => {
        await prisma.$disconnect();
        await pool.end();
      })()),
  };
}

/**
 * Opens PGlite in `dataDir` (`memory://` for in-memory). `loadDataDir`: start from a dumped data
 * directory (`PGlite.dumpDataDir()`) instead of running initdb, which is most of a new instance's
 * start-up time (used by createTestDatabase). `thread`: PGlite on its own worker thread (`own`, the
 * default: see pglite-on-thread.ts) or on the caller's.
 */
export async function openPglite(
  dataDir: string,
  opts: {
    migrate?: boolean;
    loadDataDir?: Blob;
    thread?: 'own' | 'caller';
    onLost?: (reason: Error) => void;
    /**
     * `VACUUM` the database this often (0 or unset: never). Nothing else does in PGlite: without it
     * space freed by updates and deletes is never reused (the tables only grow) and old transaction
     * ids are never frozen. Measured: 110 ms the first time on a database of 50,000 runs (93 MB),
     * 22 ms after that; every other statement waits meanwhile.
     */
    vacuumEveryMs?: number;
    onVacuum?: (info: VacuumInfo) => void;
  } = {},
): Promise<Database> {
  const thread = opts.thread ?? 'own';
  let unlock = () => {};
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  let db: PgliteLike & { close(): Promise<void> };
  try {
    db =
      thread === 'own'
        ? await PgliteOnThread.create({
            dataDir,
            loadDataDir: opts.loadDataDir,
            onLost: opts.onLost,
          })
        : await PGlite.create(dataDir, {
            extensions: { vector },
            ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
          });
  } catch (err) {
    unlock();
    throw err;
  }
  const sql = createPgliteSqlClient(db);
  try {
    if (opts.migrate ?? true) await applyMigrations(sql);
  } catch (err) {
    await db.close();
    unlock();
    throw err;
  }
  const prisma = new PrismaClient({ adapter: createPgliteAdapter(db) });
  let closed: Promise<void> | undefined;
  /** The vacuum under way (one at a time; close waits for it). */
  let vacuuming: Promise<number> | undefined;
  const vacuum = () =>
    (vacuuming ??= (async () => {
      const t0 = performance.now();
      try {
        await sql.query('VACUUM');
        return performance.now() - t0;
      } finally {
        vacuuming = undefined;
      }
    })());
  const every = opts.vacuumEveryMs ?? 0;
  const timer =
    every > 0
      ? setInterval(() => {
          if (vacuuming || closed) return;
          const t0 = performance.now();
          vacuum().then(
            (ms) => opts.onVacuum?.({ ms }),
            (error: unknown) => opts.onVacuum?.({ ms: performance.now() - t0, error }),
          );
        }, every).unref()
      : undefined;
  return {
    kind: 'pglite',
    prisma,
    sql,
    vacuum: () => (closed ? Promise.reject(new Error('the database is closed')) : vacuum()),
    close: () =>
      (closed ??= (async () => {
        clearInterval(timer);
        await vacuuming?.catch(() => undefined);
        await prisma.$disconnect();
        await db.close();
        unlock();
      })()),
  };
}

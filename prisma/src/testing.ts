/**
 * Test helper: a fresh, migrated database per test file.
 *
 * PostgreSQL: a new database `gridflow_test_<random>` on 127.0.0.1:5432 (user postgres, trust
 * auth), dropped again by `close()`. For speed it is cloned (CREATE DATABASE … TEMPLATE) from a
 * template database that is migrated once per migration set (`gridflow_tpl_<hash>`), so each test
 * database costs one file copy instead of replaying the migrations.
 * PGlite: an in-memory instance with the migrations applied, started from a migrated data-dir
 * snapshot (cached in the OS temp dir per PGlite version + migrations): ~5x faster than initdb.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import pg from 'pg';
import { openDatabase, openPglite, type Database } from './database.js';
import { applyMigrations, listMigrations } from './migrate.js';
import { createPgSqlClient } from './sql-pg.js';
import { createPgliteSqlClient } from './sql-pglite.js';

const PG_HOST = '127.0.0.1';
const PG_PORT = 5432;
const PG_USER = 'postgres';

export function testDatabaseUrl(database: string): string {
  return `postgresql://${PG_USER}@${PG_HOST}:${PG_PORT}/${database}`;
}

/** Debian's PostgreSQL socket directory. */
const PG_SOCKET_DIR = '/var/run/postgresql';

/**
 * The same database over the local Unix socket when the server is on this machine and listens on
 * one (about a third less CPU per round trip than TCP loopback): what a single-machine deployment
 * would configure. For benchmarks; tests keep TCP, as the brief specifies 127.0.0.1:5432.
 */
export function localSocketUrl(database: string): { url: string; transport: 'unix' | 'tcp' } {
  if (
    ['127.0.0.1', 'localhost'].includes(PG_HOST) &&
    existsSync(`${PG_SOCKET_DIR}/.s.PGSQL.${PG_PORT}`)
  ) {
    return {
      // The host in the authority is ignored by pg (the host parameter wins) but keeps it a valid URL.
      url: `postgresql://${PG_USER}@localhost:${PG_PORT}/${database}?host=${encodeURIComponent(PG_SOCKET_DIR)}`,
      transport: 'unix',
    };
  }
  return { url: testDatabaseUrl(database), transport: 'tcp' };
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    host: PG_HOST,
    port: PG_PORT,
    user: PG_USER,
    database: 'postgres',
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function migrationsHash(): string {
  const h = createHash('sha256');
  for (const m of listMigrations()) h.update(m.name).update(m.checksum);
  return h.digest('hex').slice(0, 16);
}

/** Name of the template for the current migrations (changes whenever a migration changes). */
function templateName(): string {
  return `gridflow_tpl_${migrationsHash()}`;
}

let pgliteSnapshot: Promise<Blob> | undefined;

/** Installed PGlite version (its package.json is not exported: walk up from the entry point). */
function pgliteVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string })
    .version;
}

/** A dumped, migrated PGlite data dir; built once per machine (temp dir) and process. */
function migratedPgliteSnapshot(): Promise<Blob> {
  pgliteSnapshot ??= (async () => {
    const version = pgliteVersion();
    const file = join(tmpdir(), `gridflow-pglite-${version}-${migrationsHash()}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const db = await PGlite.create('memory://', { extensions: { vector } });
    try {
      await applyMigrations(createPgliteSqlClient(db));
      const dump = await db.dumpDataDir('none');
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
      renameSync(tmp, file); // atomic: concurrent test processes never read a partial file
      return dump;
    } finally {
      await db.close();
    }
  })().catch((err) => {
    pgliteSnapshot = undefined;
    throw err;
  });
  return pgliteSnapshot;
}

let templateReady: Promise<string> | undefined;

/** Drops test databases older than 6 hours (left by crashed runs) that nobody is connected to. */
async function dropLeftovers(): Promise<void> {
  const cutoff = Math.floor(Date.now() / 1000) - 6 * 3600;
  await withAdmin(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT d.datname FROM pg_database d
        WHERE d.datname ~ '^gridflow_test_[0-9]+_'
          AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)`,
    );
    for (const { datname } of rows) {
      const created = Number(datname.split('_')[2]);
      if (created < cutoff) await c.query(`DROP DATABASE IF EXISTS "${datname}"`).catch(() => {});
    }
  });
}

/** Creates and migrates the template database once; safe across concurrent processes. */
function ensureTemplate(): Promise<string> {
  templateReady ??= (async () => {
    const name = templateName();
    await dropLeftovers();
    const exists = await withAdmin(async (c) => {
      const r = await c.query(`SELECT datistemplate FROM pg_database WHERE datname = $1`, [name]);
      return r.rows[0]?.datistemplate === true;
    });
    if (exists) return name;
    // Build under a private name, then rename + mark as template: other processes only ever see
    // a complete template. Losing the race to another process is fine (its template is identical).
    const building = `${name}_b${randomBytes(4).toString('hex')}`;
    await withAdmin((c) => c.query(`CREATE DATABASE "${building}"`));
    const pool = new pg.Pool({
      host: PG_HOST,
      port: PG_PORT,
      user: PG_USER,
      database: building,
      max: 1,
    });
    try {
      await applyMigrations(createPgSqlClient(pool));
    } finally {
      await pool.end();
    }
    await withAdmin(async (c) => {
      try {
        await c.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
        await c.query(`ALTER DATABASE "${name}" WITH IS_TEMPLATE true`);
      } catch (err) {
        if ((err as { code?: string }).code !== '42P04') throw err; // duplicate_database: someone else won
        await c.query(`DROP DATABASE IF EXISTS "${building}"`);
      }
    });
    return name;
  })().catch((err) => {
    templateReady = undefined;
    throw err;
  });
  return templateReady;
}

/**
 * A fresh migrated database. `close()` disconnects and (PostgreSQL) drops it.
 * PostgreSQL must be running on 127.0.0.1:5432 with trust auth for user postgres
 * (`bash scripts/prepare-machine.sh` sets that up).
 */
export async function createTestDatabase(
  kind: 'postgres' | 'pglite' = 'postgres',
  opts: { pgliteThread?: 'own' | 'caller' } = {},
): Promise<Database> {
  if (kind === 'pglite') {
    // applyMigrations still runs at open: a no-op when the snapshot is current.
    return openPglite('memory://', {
      migrate: true,
      loadDataDir: await migratedPgliteSnapshot(),
      thread: opts.pgliteThread,
    });
  }

  const template = await ensureTemplate();
  // Creation time in the name lets later runs drop databases a crashed test process left behind.
  const name = `gridflow_test_${Math.floor(Date.now() / 1000)}_${randomBytes(5).toString('hex')}`;
  await withAdmin(async (c) => {
    // CREATE DATABASE fails if another session is connected to the template at that moment
    // (only the brief window while a new template is being checked); retry a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  });
  const db = await openDatabase({ databaseUrl: testDatabaseUrl(name), poolSize: 5 });
  let dropped: Promise<void> | undefined;
  return {
    ...db,
    close: () =>
      (dropped ??= (async () => {
        await db.close();
        await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
      })()),
  };
}

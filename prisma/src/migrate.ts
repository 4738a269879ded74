/**
 * Applies prisma/migrations/<name>/migration.sql files (produced by `prisma migrate dev`) without the
 * Prisma CLI: fast (tens of ms) and works on PGlite, where the CLI cannot run in-process.
 *
 * Bookkeeping is Prisma's own: rows in `_prisma_migrations` with the sha256 checksum of the file, so
 * `prisma migrate status` / `migrate deploy` agree with what this applied.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlClient, SqlExecutor } from './sql.js';

/** prisma/migrations of this package. */
export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

/** Prisma's own advisory lock key, so this also serialises with a concurrent `prisma migrate`. */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

// Same DDL as Prisma's schema engine creates.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

/** The migrations in `dir`, in name (= creation time) order. */
export function listMigrations(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const buf = readFileSync(join(dir, name, 'migration.sql'));
      return {
        name,
        sql: buf.toString('utf8'),
        checksum: createHash('sha256').update(buf).digest('hex'),
      };
    });
}

async function runScript(tx: SqlExecutor, script: string): Promise<void> {
  if (tx.exec) await tx.exec(script);
  else await tx.query(script); // pg: a parameterless query uses the simple protocol (several statements OK)
}

/**
 * Applies every migration not yet recorded as applied, each in its own transaction under Prisma's
 * advisory lock (transaction-scoped, so it is safe over a connection pool and between processes).
 * Returns the names applied by this call. Throws on a migration Prisma recorded as failed.
 */
export async function applyMigrations(
  sql: SqlClient,
  opts: { dir?: string } = {},
): Promise<string[]> {
  const migrations = listMigrations(opts.dir);
  const applied: string[] = [];
  for (const m of migrations) {
    const done = await sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
      await runScript(tx, CREATE_MIGRATIONS_TABLE);
      const { rows } = await tx.query<{ finished_at: Date | null; rolled_back_at: Date | null }>(
        'SELECT finished_at, rolled_back_at FROM "_prisma_migrations" WHERE migration_name = $1',
        [m.name],
      );
      if (rows.some((r) => r.finished_at !== null && r.rolled_back_at === null)) return false;
      if (rows.some((r) => r.finished_at === null && r.rolled_back_at === null)) {
        throw new Error(
          `Migration ${m.name} is recorded as failed in _prisma_migrations. Fix the database, then ` +
            `run \`prisma migrate resolve --rolled-back ${m.name}\` (in prisma/) and start again.`,
        );
      }
      await runScript(tx, m.sql);
      await tx.query(
        `INSERT INTO "_prisma_migrations"
           (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
         VALUES ($1, $2, now(), $3, NULL, NULL, now(), 1)`,
        [randomUUID(), m.checksum, m.name],
      );
      return true;
    });
    if (done) applied.push(m.name);
  }
  return applied;
}

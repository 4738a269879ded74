import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openDatabase } from './database.js';
import { applyMigrations, listMigrations } from './migrate.js';
import { createPgSqlClient } from './sql-pg.js';
import { testDatabaseUrl } from './testing.js';

const run = promisify(execFile);
const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const prismaCli = createRequire(join(pkgDir, 'package.json')).resolve('prisma/build/index.js');

/** An empty (unmigrated) PostgreSQL database, dropped after the file. */
const created: string[] = [];
async function emptyPostgresDatabase(): Promise<string> {
  const name = `gridflow_test_${Math.random().toString(16).slice(2, 14)}`;
  const c = new pg.Client({
    host: '127.0.0.1',
    port: 5432,
    user: 'postgres',
    database: 'postgres',
  });
  await c.connect();
  await c.query(`CREATE DATABASE "${name}"`);
  await c.end();
  created.push(name);
  return name;
}
afterAll(async () => {
  const c = new pg.Client({
    host: '127.0.0.1',
    port: 5432,
    user: 'postgres',
    database: 'postgres',
  });
  await c.connect();
  for (const name of created) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await c.end();
});

describe('applyMigrations on PostgreSQL', () => {
  it('records migrations so that `prisma migrate status` reports the database up to date', async () => {
    const name = await emptyPostgresDatabase();
    const pool = new pg.Pool({ connectionString: testDatabaseUrl(name), max: 2 });
    try {
      const t = performance.now();
      const applied = await applyMigrations(createPgSqlClient(pool));
      const ms = performance.now() - t;
      console.log(
        `applyMigrations on PostgreSQL (${applied.length} migration(s)): ${ms.toFixed(0)} ms`,
      );
      expect(applied).toEqual(listMigrations().map((m) => m.name));
    } finally {
      await pool.end();
    }
    const { stdout } = await run(process.execPath, [prismaCli, 'migrate', 'status'], {
      cwd: pkgDir,
      env: { ...process.env, DATABASE_URL: testDatabaseUrl(name) },
    });
    expect(stdout).toContain('Database schema is up to date');
  });

  it('applies each migration once when several processes migrate at the same time', async () => {
    const name = await emptyPostgresDatabase();
    const pools = [1, 2, 3].map(
      () => new pg.Pool({ connectionString: testDatabaseUrl(name), max: 2 }),
    );
    try {
      const results = await Promise.all(pools.map((p) => applyMigrations(createPgSqlClient(p))));
      expect(results.flat().sort()).toEqual(
        listMigrations()
          .map((m) => m.name)
          .sort(),
      );
      const { rows } = await pools[0]!.query('SELECT count(*)::int AS n FROM _prisma_migrations');
      expect(rows[0].n).toBe(listMigrations().length);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('rolls back a failing migration completely and records nothing', async () => {
    const name = await emptyPostgresDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'gridflow-mig-'));
    try {
      const { mkdirSync, writeFileSync } = await import('node:fs');
      mkdirSync(join(dir, '001_ok'));
      writeFileSync(join(dir, '001_ok', 'migration.sql'), 'CREATE TABLE a (id int);');
      mkdirSync(join(dir, '002_bad'));
      writeFileSync(
        join(dir, '002_bad', 'migration.sql'),
        'CREATE TABLE b (id int);\nSELECT no_such_function();',
      );
      const pool = new pg.Pool({ connectionString: testDatabaseUrl(name), max: 2 });
      try {
        const sql = createPgSqlClient(pool);
        await expect(applyMigrations(sql, { dir })).rejects.toThrow(/no_such_function/);
        const names = await pool.query('SELECT migration_name FROM _prisma_migrations');
        expect(names.rows).toEqual([{ migration_name: '001_ok' }]);
        const b = await pool.query(`SELECT to_regclass('b') AS t`);
        expect(b.rows[0].t).toBeNull();
      } finally {
        await pool.end();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('embedded PGlite in a data directory', () => {
  it('migrates at open, keeps data across restarts and does not re-apply migrations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridflow-pglite-'));
    try {
      let t = performance.now();
      const first = await openDatabase({ dataDir: dir });
      const openNew = performance.now() - t;
      await first.prisma.workspace.create({ data: { name: 'Kept', slug: 'kept' } });
      // One process per data dir: a second open is refused while the first is open.
      await expect(openDatabase({ dataDir: dir })).rejects.toThrow(/already open in this process/);
      await first.close();

      t = performance.now();
      const second = await openDatabase({ dataDir: dir });
      const openExisting = performance.now() - t;
      console.log(
        `PGlite open: new dir ${openNew.toFixed(0)} ms, existing dir ${openExisting.toFixed(0)} ms`,
      );
      try {
        expect(second.kind).toBe('pglite');
        expect(
          (await second.prisma.workspace.findUniqueOrThrow({ where: { slug: 'kept' } })).name,
        ).toBe('Kept');
        const { rows } = await second.sql.query<{ n: number }>(
          'SELECT count(*) AS n FROM _prisma_migrations',
        );
        expect(rows[0]!.n).toBe(listMigrations().length);
        expect(await applyMigrations(second.sql)).toEqual([]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

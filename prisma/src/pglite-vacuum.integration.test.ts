import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPglite, type Database, type VacuumInfo } from './database.js';

/** PGlite runs PostgreSQL in single-user mode: nothing vacuums it unless we do. */
describe('embedded PGlite vacuum', () => {
  const dirs: string[] = [];
  const open = (opts: Parameters<typeof openPglite>[1] = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'gridflow-vacuum-'));
    dirs.push(dir);
    return openPglite(dir, { migrate: false, ...opts });
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Size of `t` after `rounds` updates of every row, with `between` run after each round. */
  async function churn(
    db: Database,
    rounds: number,
    between: () => Promise<unknown>,
  ): Promise<number> {
    await db.sql.query('CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, pad text NOT NULL)');
    await db.sql.query(
      `INSERT INTO t SELECT i, 0, repeat('x', 200) FROM generate_series(1, 2000) i`,
    );
    for (let r = 0; r < rounds; r++) {
      await db.sql.query('UPDATE t SET v = v + 1');
      await between();
    }
    const rows = await db.sql.query<{ n: string; v: number }>(
      `SELECT pg_relation_size('t') AS n, min(v) AS v FROM t`,
    );
    expect(rows.rows[0]!.v).toBe(rounds);
    return Number(rows.rows[0]!.n);
  }

  it('vacuum() lets the space of updated rows be reused, where the table otherwise only grows', async () => {
    const a = await open();
    const b = await open();
    try {
      const grown = await churn(a, 8, async () => undefined);
      const vacuumed = await churn(b, 8, () => b.vacuum!());
      console.log(
        `[vacuum] table after 8 updates of every row: ${grown} bytes without vacuum, ${vacuumed} with`,
      );
      expect(vacuumed).toBeLessThan(grown / 3);
      const stat = await b.sql.query<{ last_vacuum: Date | null }>(
        `SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 't'`,
      );
      expect(stat.rows[0]!.last_vacuum).toBeInstanceOf(Date);
      expect(await b.vacuum!()).toBeGreaterThanOrEqual(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('vacuums on its schedule, reports each one, and close() stops it', async () => {
    const seen: VacuumInfo[] = [];
    const db = await open({ vacuumEveryMs: 100, onVacuum: (i) => seen.push(i) });
    try {
      await db.sql.query('CREATE TABLE s (id int PRIMARY KEY)');
      const deadline = Date.now() + 15_000;
      while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(seen.length).toBeGreaterThanOrEqual(2);
      for (const i of seen) {
        expect(i.error).toBeUndefined();
        expect(i.ms).toBeGreaterThanOrEqual(0);
      }
      const stat = await db.sql.query<{ last_vacuum: Date | null }>(
        `SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 's'`,
      );
      expect(stat.rows[0]!.last_vacuum).toBeInstanceOf(Date);
    } finally {
      await db.close();
    }
    const after = seen.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(seen.length).toBe(after);
    await expect(db.vacuum!()).rejects.toThrow(/closed/);
  });

  it('never vacuums on its own when no schedule is given', async () => {
    const db = await open();
    try {
      await db.sql.query('CREATE TABLE u (id int PRIMARY KEY)');
      await new Promise((r) => setTimeout(r, 300));
      const stat = await db.sql.query<{ last_vacuum: Date | null }>(
        `SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'u'`,
      );
      expect(stat.rows[0]!.last_vacuum).toBeNull();
    } finally {
      await db.close();
    }
  });
});

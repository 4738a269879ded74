import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messages } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite, type Database } from './database.js';
import { PgliteOnThread } from './pglite-on-thread.js';
import { bindExecuteMessage } from './sql-pglite.js';

/** Ticks of a 10 ms interval on this thread while `fn` runs. */
async function ticksDuring(fn: () => Promise<unknown>): Promise<number> {
  let ticks = 0;
  const iv = setInterval(() => ticks++, 10);
  try {
    await fn();
  } finally {
    clearInterval(iv);
  }
  return ticks;
}

describe('embedded PGlite on its own thread', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openPglite('memory://', { thread: 'own', migrate: false });
  });
  afterAll(() => db?.close());

  it('runs statements off this thread: its event loop keeps turning during a long one', async () => {
    const own = await ticksDuring(() => db.sql.query('SELECT pg_sleep($1)', [0.3]));
    expect(own).toBeGreaterThanOrEqual(10);
    // The same statement on the caller's thread blocks it for the whole statement.
    const caller = await openPglite('memory://', { thread: 'caller', migrate: false });
    try {
      expect(await ticksDuring(() => caller.sql.query('SELECT pg_sleep($1)', [0.3]))).toBe(0);
    } finally {
      await caller.close();
    }
  });

  it("reports PostgreSQL's errors as PGlite does: DatabaseError with its code and the statement", async () => {
    const err = await db.sql
      .query('SELECT * FROM no_such_table WHERE id = $1', [1])
      .catch((e) => e);
    expect(err).toBeInstanceOf(messages.DatabaseError);
    expect(err).toMatchObject({
      code: '42P01',
      query: 'SELECT * FROM no_such_table WHERE id = $1',
    });
    const viaQuery = await db.sql.query('SELEC 1').catch((e) => e);
    expect(viaQuery).toBeInstanceOf(messages.DatabaseError);
    expect(viaQuery.code).toBe('42601');
    // The session is fine afterwards.
    expect((await db.sql.query<{ x: number }>('SELECT $1::int + 1 AS x', [41])).rows).toEqual([
      { x: 42 },
    ]);
  });

  it('keeps a transaction’s statements together while other callers wait, and rolls back on throw', async () => {
    await db.sql.exec!('CREATE TABLE tx_t (n int)');
    const order: string[] = [];
    const tx = db.sql.transaction(async (t) => {
      await t.query('INSERT INTO tx_t VALUES ($1)', [1]);
      order.push('tx insert');
      await new Promise((r) => setTimeout(r, 50));
      const seen = await t.query<{ c: number }>('SELECT count(*)::int AS c FROM tx_t');
      order.push(`tx sees ${seen.rows[0]!.c}`);
    });
    const outside = db.sql.query<{ c: number }>('SELECT count(*)::int AS c FROM tx_t').then((r) => {
      order.push(`outside sees ${r.rows[0]!.c}`);
    });
    await Promise.all([tx, outside]);
    expect(order).toEqual(['tx insert', 'tx sees 1', 'outside sees 1']);

    await expect(
      db.sql.transaction(async (t) => {
        await t.query('INSERT INTO tx_t VALUES ($1)', [2]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await db.sql.query('SELECT n FROM tx_t ORDER BY n')).rows).toEqual([{ n: 1 }]);
  });

  it('passes parameters of any text through unchanged (multi-byte, empty, null, a megabyte)', async () => {
    const big = 'é'.repeat(500_000) + '😀';
    const values = ['Grüße, 世界 😀', '', null, big, JSON.stringify({ s: 'ünï 😀', n: [1, 2] })];
    const r = await db.sql.query<{ a: string; b: string; c: string | null; d: string; e: unknown }>(
      'SELECT $1::text AS a, $2::text AS b, $3::text AS c, $4::text AS d, $5::jsonb AS e',
      values,
    );
    expect(r.rows[0]).toEqual({
      a: values[0],
      b: '',
      c: null,
      d: big,
      e: { s: 'ünï 😀', n: [1, 2] },
    });
    expect(
      (await db.sql.query<{ len: number }>('SELECT octet_length($1::text) AS len', [big])).rows[0]!
        .len,
    ).toBe(Buffer.byteLength(big));
  });

  it('closes after the statements already asked for; later ones fail with a clear error', async () => {
    const own = await openPglite('memory://', { thread: 'own', migrate: false });
    const running = own.sql.query<{ x: number }>('SELECT 7 AS x FROM pg_sleep($1)', [0.2]);
    await own.close();
    expect((await running).rows).toEqual([{ x: 7 }]);
    await expect(own.sql.query('SELECT 1')).rejects.toThrow(/closed/);
  });

  it('a thread that dies fails the statements waiting for it and every later one, without hanging', async () => {
    const lost: Error[] = [];
    const pg = await PgliteOnThread.create({ dataDir: 'memory://', onLost: (e) => lost.push(e) });
    const waiting = pg.query('SELECT pg_sleep(2)');
    await new Promise((r) => setTimeout(r, 50));
    await pg.terminateThreadForTests();
    await expect(waiting).rejects.toThrow(/embedded database thread stopped/);
    await expect(pg.query('SELECT 1')).rejects.toThrow(/embedded database thread stopped/);
    await pg.close();
    // The owner hears of it once (the server exits then).
    expect(lost.map((e) => e.message)).toEqual([expect.stringMatching(/thread stopped/)]);

    // A failed start-up is create()'s error, not a loss.
    await expect(
      PgliteOnThread.create({
        dataDir: '/proc/gridflow-no-such-dir/db',
        onLost: (e) => lost.push(e),
      }),
    ).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(lost).toHaveLength(1);

    // A close is not a loss.
    const closed = await PgliteOnThread.create({
      dataDir: 'memory://',
      onLost: (e) => lost.push(e),
    });
    await closed.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(lost).toHaveLength(1);
  });

  it('keeps its data in a directory across a close and a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridflow-pglite-thread-'));
    try {
      const first = await openPglite(dir, { thread: 'own', migrate: false });
      await first.sql.exec!('CREATE TABLE kept (v text)');
      await first.sql.query('INSERT INTO kept VALUES ($1)', ['still here']);
      await first.close();
      const second = await openPglite(dir, { thread: 'own', migrate: false });
      expect((await second.sql.query('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bindExecuteMessage', () => {
  it('writes Bind (text formats), Describe, Execute and Sync with byte lengths, not string lengths', () => {
    const msg = Buffer.from(bindExecuteMessage('st', ['é', null, '']));
    // B, length, '' portal, 'st', 0 format codes, 3 values: 2 bytes 'é', -1 (NULL), 0 (empty), 0 result formats
    const bind = Buffer.from([
      0x42, 0, 0, 0, 28, 0, 0x73, 0x74, 0, 0, 0, 0, 3, 0, 0, 0, 2, 0xc3, 0xa9, 0xff, 0xff, 0xff,
      0xff, 0, 0, 0, 0, 0, 0,
    ]);
    expect(msg.subarray(0, bind.length)).toEqual(bind);
    expect(msg.subarray(bind.length)).toEqual(
      Buffer.from([0x44, 0, 0, 0, 6, 0x50, 0, 0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0x53, 0, 0, 0, 4]),
    );
  });
});

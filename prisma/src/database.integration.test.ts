import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from '@prisma/client';
import { createTestDatabase } from './testing.js';
import { listMigrations } from './migrate.js';
import type { Database } from './database.js';

/** Behaviour both databases must share: the app and runtime code run unchanged on either. */
describe.each([
  { name: 'postgres', kind: 'postgres' as const },
  { name: 'pglite on its own thread', kind: 'pglite' as const, pgliteThread: 'own' as const },
  { name: 'pglite on the caller thread', kind: 'pglite' as const, pgliteThread: 'caller' as const },
])('$name database', ({ kind, pgliteThread }) => {
  let db: Database;
  beforeAll(async () => {
    db = await createTestDatabase(kind, { pgliteThread });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('has every migration recorded in _prisma_migrations with Prisma checksums', async () => {
    const { rows } = await db.sql.query<{
      migration_name: string;
      checksum: string;
      applied_steps_count: number;
    }>(
      'SELECT migration_name, checksum, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows).toEqual(
      listMigrations().map((m) => ({
        migration_name: m.name,
        checksum: m.checksum,
        applied_steps_count: 1,
      })),
    );
    expect(db.kind).toBe(kind);
  });

  it('creates and reads models with relations through Prisma', async () => {
    const ws = await db.prisma.workspace.create({ data: { name: 'Acme', slug: `acme-${kind}` } });
    const user = await db.prisma.user.create({
      data: { email: `ann-${kind}@example.com`, name: 'Ann' },
    });
    await db.prisma.membership.create({
      data: { workspaceId: ws.id, userId: user.id, role: 'approver' },
    });
    const grid = await db.prisma.grid.create({
      data: {
        workspaceId: ws.id,
        name: 'Weekly post',
        document: { schemaVersion: 1, nodes: [], edges: [] },
      },
    });
    const found = await db.prisma.workspace.findUniqueOrThrow({
      where: { id: ws.id },
      include: { memberships: { include: { user: true } }, grids: true },
    });
    expect(found.memberships[0]?.role).toBe('approver');
    expect(found.memberships[0]?.user.email).toBe(`ann-${kind}@example.com`);
    expect(found.grids.map((g) => g.id)).toEqual([grid.id]);
    expect(found.grids[0]?.status).toBe('draft');
    expect(found.grids[0]?.draftVersion).toBe(1);

    // Unique constraints from the seeds hold.
    await expect(
      db.prisma.membership.create({
        data: { workspaceId: ws.id, userId: user.id, role: 'viewer' },
      }),
    ).rejects.toMatchObject({ code: 'P2002' });
    // Foreign keys too (P2003), on both databases.
    await expect(
      db.prisma.membership.create({
        data: { workspaceId: ws.id, userId: crypto.randomUUID(), role: 'viewer' },
      }),
    ).rejects.toMatchObject({ code: 'P2003' });

    // An interactive Prisma transaction that throws leaves nothing behind.
    await expect(
      db.prisma.$transaction(async (tx) => {
        await tx.grid.create({ data: { workspaceId: ws.id, name: 'doomed', document: {} } });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await db.prisma.grid.count({ where: { workspaceId: ws.id } })).toBe(1);
  });

  it('orders brand knowledge by pgvector cosine distance (<=>) through $queryRaw', async () => {
    const ws = await db.prisma.workspace.create({ data: { name: 'Vec', slug: `vec-${kind}` } });
    const entries = [
      { title: 'east', v: [1, 0, 0] },
      { title: 'north-east', v: [0.7, 0.7, 0] },
      { title: 'up', v: [0, 0, 1] },
    ];
    for (const e of entries) {
      await db.prisma.$executeRaw`
        INSERT INTO brand_knowledge_entries (id, workspace_id, title, content, embedding, embedder, dimension, updated_at)
        VALUES (${crypto.randomUUID()}, ${ws.id}, ${e.title}, ${'text ' + e.title}, ${JSON.stringify(e.v)}::vector,
                'test:3d', 3, now())`;
    }
    const query = JSON.stringify([0.9, 0.1, 0]);
    const rows = await db.prisma.$queryRaw<{ title: string; distance: number }[]>`
      SELECT title, (embedding <=> ${query}::vector)::float8 AS distance
      FROM brand_knowledge_entries
      WHERE workspace_id = ${ws.id} AND embedder = 'test:3d'
      ORDER BY embedding <=> ${query}::vector
      LIMIT 3`;
    expect(rows.map((r) => r.title)).toEqual(['east', 'north-east', 'up']);
    expect(rows[2]!.distance).toBeCloseTo(1, 5); // orthogonal
    expect(rows[0]!.distance).toBeLessThan(rows[1]!.distance);
    // The same search through the plain SQL client.
    const viaSql = await db.sql.query<{ title: string }>(
      `SELECT title FROM brand_knowledge_entries WHERE workspace_id = $1 ORDER BY embedding <=> $2::vector LIMIT 1`,
      [ws.id, JSON.stringify([0, 0.1, 0.9])],
    );
    expect(viaSql.rows).toEqual([{ title: 'up' }]);
  });

  it('keeps only in-flight runs and steps in the queue indexes', async () => {
    const ws = await db.prisma.workspace.create({ data: { name: 'Queue', slug: `queue-${kind}` } });
    const grid = await db.prisma.grid.create({
      data: { workspaceId: ws.id, name: 'g', document: {} },
    });
    const indexSize = async (name: string) =>
      Number(
        (await db.sql.query<{ n: string }>(`SELECT pg_relation_size($1::regclass) AS n`, [name]))
          .rows[0]!.n,
      );
    const runs = indexSize('executions_status_idx');
    const steps = indexSize('execution_steps_status_available_at_idx');
    const before = { runs: await runs, steps: await steps };
    // 2,000 finished runs with 2 steps each: a full index on status would grow by several pages.
    await db.sql.query(
      `WITH r AS (
         INSERT INTO executions (id, workspace_id, grid_id, trigger_type, trigger_data, status, finished_at)
         SELECT 'done-' || i, $1, $2, 'webhook', '{}', 'completed', now() FROM generate_series(1, 2000) i RETURNING id)
       INSERT INTO execution_steps (id, execution_id, workspace_id, node_id, status)
       SELECT r.id || '.' || n, r.id, $1, n, 'completed' FROM r, unnest(ARRAY['a', 'b']) n`,
      [ws.id, grid.id],
    );
    expect(await indexSize('executions_status_idx')).toBe(before.runs);
    expect(await indexSize('execution_steps_status_available_at_idx')).toBe(before.steps);
    // In-flight rows are indexed, and a query for them is answered from the index.
    await db.sql.query(
      `INSERT INTO executions (id, workspace_id, grid_id, trigger_type, trigger_data, status) VALUES ('live-1', $1, $2, 'webhook', '{}', 'running')`,
      [ws.id, grid.id],
    );
    await db.sql.query(
      `INSERT INTO execution_steps (id, execution_id, workspace_id, node_id, status, available_at) VALUES ('live-1.a', 'live-1', $1, 'a', 'running', now() - interval '1 minute')`,
      [ws.id],
    );
    await db.sql.query('SET enable_seqscan = off');
    try {
      const plan = async (q: string) =>
        (await db.sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${q}`)).rows
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      expect(
        await plan(
          `SELECT id FROM execution_steps WHERE status = 'running' AND available_at < now()`,
        ),
      ).toContain('execution_steps_status_available_at_idx');
      expect(
        await plan(`SELECT id FROM executions WHERE status IN ('pending', 'running', 'waiting')`),
      ).toContain('executions_status_idx');
    } finally {
      await db.sql.query('RESET enable_seqscan');
    }
    const found = await db.sql.query<{ id: string }>(
      `SELECT id FROM execution_steps WHERE status = 'running' AND available_at < now() AND workspace_id = $1`,
      [ws.id],
    );
    expect(found.rows.map((r) => r.id)).toEqual(['live-1.a']);
    await db.prisma.workspace.delete({ where: { id: ws.id } });
  });

  it('runs the plain SQL client with the documented value mapping', async () => {
    const { rows, rowCount } = await db.sql.query<Record<string, unknown>>(
      `SELECT count(*) AS n, 9007199254740993::int8 AS big, $1::jsonb AS j, $2::text[] AS arr,
              '2026-01-02T03:04:05.678Z'::timestamptz AS ts, 1.50::numeric AS num`,
      [JSON.stringify([1, { a: 'b' }]), ['x', 'y']],
    );
    expect(rowCount).toBe(1);
    expect(rows[0]).toEqual({
      n: 1,
      big: 9007199254740993n,
      j: [1, { a: 'b' }],
      arr: ['x', 'y'],
      ts: new Date('2026-01-02T03:04:05.678Z'),
      num: '1.50',
    });
  });

  it('commits sql.transaction and rolls it back on throw', async () => {
    const ws = await db.prisma.workspace.create({ data: { name: 'Tx', slug: `tx-${kind}` } });
    const grid = await db.prisma.grid.create({
      data: { workspaceId: ws.id, name: 'g', document: {} },
    });
    const execId = crypto.randomUUID();
    await db.sql.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO executions (id, workspace_id, grid_id, trigger_type, trigger_data) VALUES ($1, $2, $3, 'manual', $4::jsonb)`,
        [execId, ws.id, grid.id, JSON.stringify({ topic: 'x' })],
      );
      await tx.query(
        `INSERT INTO execution_steps (id, execution_id, workspace_id, node_id, ports) VALUES ($1, $2, $3, 'n1', $4::text[])`,
        [`${execId}:n1`, execId, ws.id, ['out']],
      );
    });
    await expect(
      db.sql.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO execution_steps (id, execution_id, workspace_id, node_id, ports) VALUES ($1, $2, $3, 'n2', '{}')`,
          [`${execId}:n2`, execId, ws.id],
        );
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    // A failing statement also rolls back the whole transaction (unique (execution, node, item)).
    await expect(
      db.sql.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO execution_steps (id, execution_id, workspace_id, node_id, ports) VALUES ($1, $2, $3, 'n3', '{}')`,
          [`${execId}:n3`, execId, ws.id],
        );
        await tx.query(
          `INSERT INTO execution_steps (id, execution_id, workspace_id, node_id, ports) VALUES ($1, $2, $3, 'n1', '{}')`,
          [`${execId}:dup`, execId, ws.id],
        );
      }),
    ).rejects.toThrow(/unique|duplicate/i);

    const steps = await db.prisma.executionStep.findMany({ where: { executionId: execId } });
    expect(steps.map((s) => [s.nodeId, s.itemIndex, s.status, s.ports])).toEqual([
      ['n1', -1, 'pending', ['out']],
    ]);
    const exec = await db.prisma.execution.findUniqueOrThrow({ where: { id: execId } });
    expect(exec.triggerData).toEqual({ topic: 'x' });
    expect(exec.status).toBe('pending');

    // rowCount: rows affected by DML.
    const upd = await db.sql.query(
      `UPDATE execution_steps SET status = 'running' WHERE execution_id = $1 AND status = 'pending'`,
      [execId],
    );
    expect(upd.rowCount).toBe(1);
  });

  it('stores Decimal, BigInt autoincrement and enum columns', async () => {
    const ws = await db.prisma.workspace.create({ data: { name: 'Misc', slug: `misc-${kind}` } });
    const usage = await db.prisma.apiUsage.create({
      data: {
        workspaceId: ws.id,
        provider: 'openai',
        totalTokens: 120,
        costUsd: new Prisma.Decimal('0.001234'),
      },
    });
    expect(usage.costUsd.toString()).toBe('0.001234');
    const a = await db.prisma.outboxJob.create({
      data: { jobId: `j1-${kind}`, queue: 'steps', payload: { a: 1 } },
    });
    const b = await db.prisma.outboxJob.create({
      data: { jobId: `j2-${kind}`, queue: 'steps', payload: { a: 2 } },
    });
    expect(typeof a.id).toBe('bigint');
    expect(b.id > a.id).toBe(true);
  });

  it('applyMigrations is a no-op when everything is applied', async () => {
    const { applyMigrations } = await import('./migrate.js');
    expect(await applyMigrations(db.sql)).toEqual([]);
  });
});

describe('postgres connection loss inside a transaction', () => {
  let db: Database;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('rejects the transaction, keeps the process alive and serves the next query', async () => {
    const tx = db.sql.transaction(async (t) => {
      const { rows } = await t.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // Another connection terminates this backend, as a PostgreSQL restart would.
      await db.sql.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await new Promise((r) => setTimeout(r, 200)); // the 'error' event arrives on the idle client
      await t.query('SELECT 1');
    });
    await expect(tx).rejects.toThrow();
    const { rows } = await db.sql.query<{ one: number }>('SELECT 1 AS one');
    expect(rows[0]!.one).toBe(1);
  });
});

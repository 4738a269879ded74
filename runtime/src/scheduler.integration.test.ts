import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, openDatabase, testDatabaseUrl, type Database } from '@gridflow/db';
import { nextRunAt } from './cron.js';
import { firingExecutionId, startScheduler, type DueSchedule } from './scheduler.js';

let db: Database;
let workspaceId: string;
let gridId: string;

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  workspaceId = randomUUID();
  gridId = randomUUID();
  await db.sql.query(`INSERT INTO workspaces (id, name, slug, updated_at) VALUES ($1, 'W', $2, now())`, [workspaceId, `w-${workspaceId}`]);
  await db.sql.query(`INSERT INTO grids (id, workspace_id, name, document, updated_at) VALUES ($1, $2, 'G', '{}', now())`, [gridId, workspaceId]);
}, 120_000);

afterAll(async () => {
  await db?.close();
});

interface ScheduleRow {
  id: string;
  is_active: boolean;
  next_run_at: Date | null;
  last_run_at: Date | null;
  last_execution_id: string | null;
}

async function addSchedule(cron: string, nextRun: Date | null, opts: { timezone?: string; active?: boolean } = {}): Promise<string> {
  const id = randomUUID();
  await db.sql.query(
    `INSERT INTO schedules (id, workspace_id, grid_id, node_id, cron, timezone, is_active, next_run_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())`,
    [id, workspaceId, gridId, `trigger-${id}`, cron, opts.timezone ?? 'UTC', opts.active ?? true, nextRun],
  );
  return id;
}

async function row(id: string): Promise<ScheduleRow> {
  const { rows } = await db.sql.query<ScheduleRow>(`SELECT id, is_active, next_run_at, last_run_at, last_execution_id FROM schedules WHERE id = $1`, [id]);
  return rows[0]!;
}

async function clear(): Promise<void> {
  await db.sql.query(`DELETE FROM schedules`);
}

describe('scheduler on PostgreSQL', () => {
  it('fires a due schedule once, advances next_run_at and stores the execution id', async () => {
    await clear();
    const past = new Date(Date.now() - 5_000);
    const due = await addSchedule('*/5 * * * *', past, { timezone: 'Europe/Berlin' });
    const later = await addSchedule('0 0 1 1 *', new Date(Date.now() + 3_600_000));
    const inactive = await addSchedule('* * * * *', past, { active: false });
    const fired: DueSchedule[] = [];
    const s = startScheduler({
      db,
      intervalMs: 60_000,
      startRun: async (sch) => {
        fired.push(sch);
        return { executionId: `exec-${fired.length}` };
      },
    });
    try {
      await s.tick();
      await s.tick();
    } finally {
      await s.stop();
    }
    expect(fired.map((f) => f.id)).toEqual([due]);
    expect(fired[0]).toMatchObject({ workspaceId, gridId, cron: '*/5 * * * *', timezone: 'Europe/Berlin' });
    expect(fired[0]!.scheduledAt.getTime()).toBe(past.getTime());
    const r = await row(due);
    expect(r.last_execution_id).toBe('exec-1');
    expect(r.last_run_at).not.toBeNull();
    expect(r.next_run_at!.getTime()).toBeGreaterThan(Date.now());
    expect(r.next_run_at!.getTime()).toBe(nextRunAt('*/5 * * * *', 'Europe/Berlin', r.last_run_at!)!.getTime());
    expect(fired[0]!.nextRunAt!.getTime()).toBe(r.next_run_at!.getTime());
    expect((await row(later)).last_run_at).toBeNull();
    expect((await row(inactive)).last_run_at).toBeNull();
  });

  it('gives a new schedule its first time without firing it', async () => {
    await clear();
    const id = await addSchedule('0 9 * * 1-5', null, { timezone: 'America/New_York' });
    let calls = 0;
    const before = new Date();
    const s = startScheduler({ db, intervalMs: 60_000, startRun: async () => void calls++ });
    await s.tick();
    await s.stop();
    const r = await row(id);
    expect(calls).toBe(0);
    expect(r.next_run_at!.getTime()).toBeGreaterThan(Date.now());
    expect(r.next_run_at!.getTime()).toBe(nextRunAt('0 9 * * 1-5', 'America/New_York', before)!.getTime());
    expect(new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', hour12: false }).format(r.next_run_at!)).toBe('09');
  });

  it('fires a long-missed schedule once, then continues from now', async () => {
    await clear();
    const id = await addSchedule('* * * * *', new Date(Date.now() - 3 * 24 * 3_600_000));
    let calls = 0;
    const s = startScheduler({ db, intervalMs: 60_000, startRun: async () => void calls++ });
    await s.tick();
    await s.tick();
    await s.stop();
    expect(calls).toBe(1);
    expect((await row(id)).next_run_at!.getTime()).toBeGreaterThan(Date.now());
  });

  it('deactivates a schedule whose cron is invalid, and keeps firing the others', async () => {
    await clear();
    const bad = await addSchedule('not a cron', new Date(Date.now() - 1000));
    const good = await addSchedule('* * * * *', new Date(Date.now() - 1000));
    const fired: string[] = [];
    const s = startScheduler({ db, intervalMs: 60_000, startRun: async (x) => void fired.push(x.id) });
    await s.tick();
    await s.stop();
    expect(fired).toEqual([good]);
    expect(await row(bad)).toMatchObject({ is_active: false, next_run_at: null });
  });

  it('retries startRun on a transient failure', async () => {
    await clear();
    await addSchedule('* * * * *', new Date(Date.now() - 1000));
    let calls = 0;
    const s = startScheduler({
      db,
      intervalMs: 60_000,
      startRun: async () => {
        calls++;
        if (calls === 1) throw new Error('database hiccup');
      },
    });
    expect(await s.tick()).toBe(1);
    await s.stop();
    expect(calls).toBe(2);
  });

  it('a firing whose scheduler died is fired again after the lease, with the same execution id', async () => {
    await clear();
    const past = new Date(Date.now() - 1000);
    const id = await addSchedule('* * * * *', past);
    // Scheduler A claims the firing, then "dies" inside startRun (it never returns).
    let releaseA!: () => void;
    const firedA: DueSchedule[] = [];
    const a = startScheduler({
      db,
      intervalMs: 60_000,
      firingLeaseMs: 200,
      startRun: (sch) => {
        firedA.push(sch);
        return new Promise<void>((r) => (releaseA = r));
      },
    });
    const until = Date.now() + 5000;
    while (!firedA.length && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(firedA).toHaveLength(1);
    const claimed = await db.sql.query<{ firing_at: Date | null }>(`SELECT firing_at FROM schedules WHERE id = $1`, [id]);
    expect(claimed.rows[0]!.firing_at!.getTime()).toBe(past.getTime());

    // Within the lease nobody else fires it; after it, scheduler B fires the same due time.
    const firedB: DueSchedule[] = [];
    const b = startScheduler({ db, intervalMs: 60_000, firingLeaseMs: 200, startRun: async (sch) => {
      firedB.push(sch);
      return { executionId: sch.executionId };
    } });
    try {
      expect(await b.tick()).toBe(0);
      await new Promise((r) => setTimeout(r, 250));
      expect(await b.tick()).toBe(1);
      expect(firedB[0]!.scheduledAt.getTime()).toBe(past.getTime());
      expect(firedB[0]!.executionId).toBe(firedA[0]!.executionId);
      expect(firedB[0]!.executionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const r = await db.sql.query<{ firing_at: Date | null; last_execution_id: string }>(`SELECT firing_at, last_execution_id FROM schedules WHERE id = $1`, [id]);
      expect(r.rows[0]).toEqual({ firing_at: null, last_execution_id: firedB[0]!.executionId });
      // Nothing more to fire: the next due time is in the future.
      expect(await b.tick()).toBe(0);
    } finally {
      releaseA();
      await a.stop();
      await b.stop();
    }
    // A's late return changes nothing (its firing was settled by B).
    const after = await db.sql.query<{ firing_at: Date | null }>(`SELECT firing_at FROM schedules WHERE id = $1`, [id]);
    expect(after.rows[0]!.firing_at).toBeNull();
    // A different due time gives a different id.
    expect(firingExecutionId(id, new Date(past.getTime() + 60_000))).not.toBe(firedA[0]!.executionId);
  });

  it('several schedulers (separate processes’ pools) never double-fire', async () => {
    await clear();
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push(await addSchedule('* * * * *', new Date(Date.now() - 1000 - i)));
    const { rows } = await db.sql.query<{ name: string }>(`SELECT current_database() AS name`);
    const others = await Promise.all([0, 1, 2].map(() => openDatabase({ databaseUrl: testDatabaseUrl(rows[0]!.name), poolSize: 3 })));
    const fired = new Map<string, number>();
    const schedulers = [db, ...others].map((d) =>
      startScheduler({
        db: d,
        intervalMs: 5,
        batchSize: 7,
        startRun: async (sch) => {
          fired.set(sch.id, (fired.get(sch.id) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 2 + Math.random() * 5));
        },
      }),
    );
    try {
      const deadline = Date.now() + 20_000;
      while (fired.size < ids.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // Let the schedulers keep polling a little: nothing may fire again.
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await Promise.all(schedulers.map((s) => s.stop()));
      await Promise.all(others.map((d) => d.close()));
    }
    expect(fired.size).toBe(ids.length);
    expect([...fired.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);
});

describe('scheduler on PGlite (embedded, one connection)', () => {
  it('fires without deadlocking when startRun uses the same database', async () => {
    const lite = await createTestDatabase('pglite');
    try {
      const ws = randomUUID();
      const grid = randomUUID();
      await lite.sql.query(`INSERT INTO workspaces (id, name, slug, updated_at) VALUES ($1, 'W', $2, now())`, [ws, `w-${ws}`]);
      await lite.sql.query(`INSERT INTO grids (id, workspace_id, name, document, updated_at) VALUES ($1, $2, 'G', '{}', now())`, [grid, ws]);
      const id = randomUUID();
      await lite.sql.query(
        `INSERT INTO schedules (id, workspace_id, grid_id, node_id, cron, timezone, next_run_at, updated_at) VALUES ($1, $2, $3, 't', '* * * * *', 'UTC', $4, now())`,
        [id, ws, grid, new Date(Date.now() - 1000)],
      );
      const s = startScheduler({
        db: lite,
        intervalMs: 60_000,
        startRun: async () => {
          // The engine would write the execution in its own transaction on the same connection.
          await lite.sql.transaction(async (tx) => tx.query('SELECT 1'));
          return { executionId: 'exec-lite' };
        },
      });
      expect(await s.tick()).toBe(1);
      await s.stop();
      const { rows } = await lite.sql.query<{ last_execution_id: string }>(`SELECT last_execution_id FROM schedules WHERE id = $1`, [id]);
      expect(rows[0]!.last_execution_id).toBe('exec-lite');
    } finally {
      await lite.close();
    }
  }, 60_000);
});

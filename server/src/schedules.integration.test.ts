/**
 * Schedules through the real wiring (`startSchedules` → engine.startRun) on PostgreSQL: a due time
 * starts exactly one run, with the id derived from the schedule and the due time, even when the
 * firing is fired again (its first scheduler died after starting the run, before settling it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firingExecutionId } from '@gridflow/runtime/scheduler';
import { simpleDoc, startTestServer, type TestServer, type TestUser } from './testing/harness.js';
import { startSchedules } from './runtime-wiring.js';
import { createLogger } from './ops/logger.js';

let t: TestServer;
let owner: TestUser;
beforeAll(async () => {
  t = await startTestServer({ engine: true });
  owner = await t.signup('schedules');
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('schedules (server wiring, PostgreSQL)', () => {
  it('a due time starts one run with the derived id; firing it again starts nothing new', async () => {
    const g = await owner.agent.post('/api/grids').send({ name: 'every minute', document: simpleDoc({ mode: 'schedule', cron: '* * * * *', timezone: 'UTC' }) });
    expect((await owner.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({})).status).toBe(201);
    const sched = await t.db.prisma.schedule.findFirstOrThrow({ where: { gridId: g.body.grid.id } });
    const due = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);
    await t.db.sql.query(`UPDATE schedules SET next_run_at = $2 WHERE id = $1`, [sched.id, due]);

    const engine = t.gf.ctx.engine!;
    const scheduler = startSchedules(t.db, engine, createLogger('silent'), 60_000);
    try {
      await scheduler.tick();
      const id = firingExecutionId(sched.id, due);
      const done = await engine.waitForCompletion(id, 20_000);
      expect(done?.status).toBe('completed');
      const run = await t.db.prisma.execution.findUniqueOrThrow({ where: { id } });
      expect(run).toMatchObject({ gridId: g.body.grid.id, triggerType: 'schedule' });
      expect(run.triggerData).toMatchObject({ scheduledAt: due.toISOString(), scheduleId: sched.id });
      const after = await t.db.prisma.schedule.findUniqueOrThrow({ where: { id: sched.id } });
      expect(after).toMatchObject({ firingAt: null, lastExecutionId: id });

      // As if the scheduler had died after starting the run but before settling the firing.
      await t.db.sql.query(`UPDATE schedules SET firing_at = $2, firing_claimed_at = now() - interval '1 hour' WHERE id = $1`, [sched.id, due]);
      expect(await scheduler.tick()).toBe(1);
      expect(await t.db.prisma.execution.count({ where: { gridId: g.body.grid.id } })).toBe(1);
      expect((await t.db.prisma.schedule.findUniqueOrThrow({ where: { id: sched.id } })).firingAt).toBeNull();
    } finally {
      await scheduler.stop();
    }
  });
});

/**
 * Fires due schedules (the `schedules` table) by calling `startRun`.
 *
 * Claiming: one short transaction selects due rows with `FOR UPDATE SKIP LOCKED`, advances their
 * `next_run_at` to the next cron time, stamps `last_run_at` and records the firing (`firing_at` =
 * the due time, `firing_claimed_at`), then commits; only then is `startRun` called, with an
 * execution id derived from the schedule and the due time, and the firing is cleared once the run
 * exists. Several server processes can run the scheduler against the same PostgreSQL: a due row is
 * claimed by exactly one of them. No lock is held while `startRun` runs (which also keeps
 * single-connection PGlite from deadlocking). A process that dies between the claim and the run
 * leaves the firing recorded: after `firingLeaseMs` another scheduler fires it again with the same
 * execution id, and the engine starts a run with a given id at most once. So each due time gives
 * exactly one run. `startRun` is retried a few times for transient errors; after that the firing
 * is given up (logged), or left for the lease when even that cannot be stored.
 *
 * Missed times (the server was down) fire once, then the schedule continues from now: no catch-up
 * storm. Active rows with `next_run_at` NULL (new schedules) get their first time computed.
 */
import { createHash } from 'node:crypto';
import type { SqlClient, SqlExecutor } from '@gridflow/db';
import { nextRunAt, validateCron } from './cron.js';
import type { NodeLogger } from './node-type.js';

export interface DueSchedule {
  id: string;
  workspaceId: string;
  gridId: string;
  nodeId: string;
  cron: string;
  timezone: string;
  /** The due time being fired (the row's `next_run_at` before it was advanced). */
  scheduledAt: Date;
  /** The time the row now waits for (null: never again). */
  nextRunAt: Date | null;
  /** The run's id for this firing (a UUID derived from the schedule id and the due time). */
  executionId: string;
}

export interface SchedulerOptions {
  db: { sql: SqlClient };
  /** Polling period. Default 1000 ms. */
  intervalMs?: number;
  /** Starts the grid's run; may return the execution id (stored as `last_execution_id`). */
  startRun: (schedule: DueSchedule) => Promise<void | { executionId?: string | null }>;
  /** Rows claimed per transaction. Default 20. */
  batchSize?: number;
  /** Attempts of `startRun` for one firing (transient errors). Default 3. */
  startAttempts?: number;
  log?: NodeLogger;
  /** Clock (tests). */
  now?: () => Date;
  /** A firing claimed this long ago and still recorded (its scheduler died) is fired again. Default 60 s. */
  firingLeaseMs?: number;
}

export interface Scheduler {
  /** Stops polling and waits for the tick in progress. */
  stop(): Promise<void>;
  /** Runs one polling pass now; resolves with the number of schedules fired. */
  tick(): Promise<number>;
}

interface Row {
  id: string;
  workspace_id: string;
  grid_id: string;
  node_id: string;
  cron: string;
  timezone: string;
  next_run_at: Date | string | null;
  firing_at: Date | string | null;
}

/** A UUID (version 8 layout) derived from the schedule and its due time: the same firing, the same run. */
export function firingExecutionId(scheduleId: string, scheduledAt: Date): string {
  const h = createHash('sha256').update(`gridflow-schedule:${scheduleId}:${scheduledAt.toISOString()}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

function dueSchedule(r: Row, scheduledAt: Date, next: Date | null): DueSchedule {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    gridId: r.grid_id,
    nodeId: r.node_id,
    cron: r.cron,
    timezone: r.timezone,
    scheduledAt,
    nextRunAt: next,
    executionId: firingExecutionId(r.id, scheduledAt),
  };
}

const noopLog: NodeLogger = { debug() {}, info() {}, warn() {}, error() {} };

export function startScheduler(opts: SchedulerOptions): Scheduler {
  const intervalMs = opts.intervalMs ?? 1000;
  const batchSize = opts.batchSize ?? 20;
  const attempts = Math.max(1, opts.startAttempts ?? 3);
  const log = opts.log ?? noopLog;
  const now = opts.now ?? (() => new Date());
  const leaseMs = opts.firingLeaseMs ?? 60_000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function claim(tx: SqlExecutor): Promise<{ due: DueSchedule[]; claimed: number }> {
    const at = now();
    const { rows } = await tx.query<Row>(
      `SELECT id, workspace_id, grid_id, node_id, cron, timezone, next_run_at, firing_at
         FROM schedules
        WHERE is_active
          AND ((firing_at IS NULL AND (next_run_at IS NULL OR next_run_at <= $1))
               OR firing_claimed_at <= $3)
        ORDER BY next_run_at NULLS FIRST
        LIMIT $2
        FOR UPDATE SKIP LOCKED`,
      [at, batchSize, new Date(at.getTime() - leaseMs)],
    );
    const due: DueSchedule[] = [];
    for (const r of rows) {
      const valid = validateCron(r.cron, r.timezone);
      if (!valid.ok) {
        await tx.query(`UPDATE schedules SET is_active = false, next_run_at = NULL, updated_at = $2 WHERE id = $1`, [r.id, at]);
        log.error('schedule deactivated: invalid cron', { scheduleId: r.id, gridId: r.grid_id, reason: valid.reason });
        continue;
      }
      if (r.firing_at !== null) {
        // Claimed by a scheduler that did not finish it (it died): fire the same due time again.
        const scheduledAt = new Date(r.firing_at);
        await tx.query(`UPDATE schedules SET firing_claimed_at = $2 WHERE id = $1`, [r.id, at]);
        log.warn('re-firing a schedule whose previous claim did not finish', { scheduleId: r.id, scheduledAt: scheduledAt.toISOString() });
        due.push(dueSchedule(r, scheduledAt, r.next_run_at === null ? null : new Date(r.next_run_at)));
        continue;
      }
      const scheduledAt = r.next_run_at === null ? null : new Date(r.next_run_at);
      const base = scheduledAt && scheduledAt.getTime() > at.getTime() ? scheduledAt : at;
      const next = nextRunAt(r.cron, r.timezone, base);
      if (scheduledAt === null) {
        // A new schedule: only compute its first time.
        await tx.query(`UPDATE schedules SET next_run_at = $2, updated_at = $3 WHERE id = $1`, [r.id, next, at]);
        continue;
      }
      await tx.query(
        `UPDATE schedules SET next_run_at = $2, last_run_at = $3, updated_at = $3, firing_at = $4, firing_claimed_at = $3 WHERE id = $1`,
        [r.id, next, at, scheduledAt],
      );
      due.push(dueSchedule(r, scheduledAt, next));
    }
    return { due, claimed: rows.length };
  }

  /** Clears the recorded firing (only this due time's: a newer claim is left alone). */
  async function settle(s: DueSchedule, executionId: string | null | undefined): Promise<void> {
    await opts.db.sql.query(
      `UPDATE schedules SET firing_at = NULL, firing_claimed_at = NULL,
         last_execution_id = COALESCE($3, last_execution_id)
       WHERE id = $1 AND firing_at = $2`,
      [s.id, s.scheduledAt, executionId ?? null],
    );
  }

  async function fire(s: DueSchedule): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await opts.startRun(s);
        const executionId = res && typeof res === 'object' ? res.executionId : undefined;
        await settle(s, executionId);
        log.info('schedule fired', { scheduleId: s.id, gridId: s.gridId, scheduledAt: s.scheduledAt.toISOString(), executionId });
        return;
      } catch (err) {
        if (attempt >= attempts || stopped) {
          log.error('schedule could not start its run', { scheduleId: s.id, gridId: s.gridId, err });
          // Given up; when even that cannot be stored, the lease fires it again later.
          if (!stopped) await settle(s, null).catch(() => undefined);
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }

  async function tick(): Promise<number> {
    let fired = 0;
    for (;;) {
      const { due, claimed } = await opts.db.sql.transaction(claim);
      await Promise.all(due.map(fire));
      fired += due.length;
      if (claimed < batchSize || stopped) return fired;
    }
  }

  function runTick(): Promise<number> {
    running ??= tick()
      .catch((err) => {
        log.error('scheduler tick failed', { err });
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  function loop(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void runTick().finally(loop);
    }, intervalMs);
    timer.unref?.();
  }

  void runTick().finally(loop);

  return {
    tick: runTick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/**
 * Plain SQL of the step hot path (no Prisma): claiming a step, loading a run's state, and writing
 * a plan's rows in one statement. Table and column names are the ones of prisma/schema.prisma
 * (`executions`, `execution_steps`, `waitpoints`, `outbox_jobs`).
 */
import type { SqlExecutor } from '@gridflow/db';
import type { Json } from './node-type.js';
import type { StepErrorInfo } from './errors.js';
import type { StepStatus } from './engine.js';
import { stepKey, type StepState } from './planner.js';
import type { JobData } from './queue.js';

export const stepId = (executionId: string, nodeId: string, itemIndex: number) =>
  `${executionId}.${nodeId}.${itemIndex}`;
/** BullMQ refuses ':' in custom ids; node ids are [A-Za-z0-9_-], execution ids UUIDs. */
export const stepJobId = (sid: string, attempt: number) => `${sid}.${attempt}`;

export interface StepRowState {
  node_id: string;
  item_index: number;
  status: StepStatus;
  input: Json | null;
  output: Json | null;
  ports: string[] | null;
  error: StepErrorInfo | null;
}

export function toStepState(r: StepRowState): StepState {
  return {
    status: r.status,
    input: r.input ?? null,
    output: r.output ?? null,
    ports: r.ports,
    error: r.error,
  };
}

export async function loadRunSteps(
  tx: SqlExecutor,
  executionId: string,
): Promise<Map<string, StepState>> {
  const res = await tx.query<StepRowState>(
    `SELECT node_id, item_index, status, input, output, ports, error FROM execution_steps WHERE execution_id = $1`,
    [executionId],
  );
  const steps = new Map<string, StepState>();
  for (const r of res.rows) steps.set(stepKey(r.node_id, r.item_index), toStepState(r));
  return steps;
}

export interface NewStepRow {
  id: string;
  nodeId: string;
  itemIndex: number;
  status: StepStatus;
  attempt: number;
  input: Json | null;
  output: Json | null;
  /** Only for steps created finished (skipped, passed through, a trigger completed at start). */
  finished: boolean;
  error?: StepErrorInfo | null;
  ports?: string[] | null;
  /** A step created already claimed ('running') or run ('completed') by this process. */
  startedAt?: Date | null;
  /** With status 'running': the lease (ms from now) after which the sweeper re-runs it elsewhere. */
  leaseMs?: number;
  /** A finished step's end when it is not the statement's time (a step run at its run's start). */
  finishedAt?: Date;
}

export interface OutboxRow {
  jobId: string;
  data: JobData;
  delayMs?: number;
}

/**
 * JSON text of a step's data, computed once per object: a run's trigger data is also its trigger's
 * input and output and the next step's input (one object, serialised once). Step data is never
 * changed once produced (planner and engine build new objects), so the text stays right.
 */
const texts = new WeakMap<object, string>();
export function jsonText(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) as string; // undefined for a function, as before
  let t = texts.get(v);
  if (t === undefined) texts.set(v, (t = JSON.stringify(v)));
  return t;
}
const json = (v: unknown) => (v === undefined || v === null ? null : jsonText(v));

export interface PlanWrite {
  executionId: string;
  workspaceId: string;
  steps: NewStepRow[];
  outbox: OutboxRow[];
  failedSteps: Array<{ id: string; error: StepErrorInfo }>;
  /** SET clauses on executions, with their params appended after the others. */
  execution: {
    seq: number;
    status?: string;
    finished?: boolean;
    error?: StepErrorInfo | null;
    addTotal: number;
    addCompleted: number;
    addFailed: number;
  };
  /** Columns of a new execution row (besides id/workspace_id and the counters): insert instead of update. */
  insertExecution?: Record<string, unknown>;
}

/**
 * A step's whole completion as ONE autocommit statement, applied only if the run is still in the
 * state the plan was computed from (this process's cached copy): `expectSeq`/`expectStatus` on the
 * run row and the step still running under this claim. A concurrent change (another step of the
 * run completing, a cancel, the sweeper taking the step back: each bumps `event_seq` or the
 * status) makes every part a no-op: `ok` is then 0 and the caller takes the transaction path.
 */
export interface CompletionGate {
  expectSeq: number;
  expectStatus: string;
  step: { id: string; attempt: number; startedAt: Date; output: Json; ports: string[] | null };
  /** More writes as CTE bodies (event deliveries), given the gate condition to include. */
  extra?: (params: unknown[], gate: string) => string[];
}

/**
 * One statement: inserts new steps, outbox rows, marks failed loops, and updates the execution row.
 * Every part is idempotent (ON CONFLICT DO NOTHING) so a re-applied plan is harmless. With a gate,
 * the statement also completes the step and answers `ok` (1 applied, 0 nothing done).
 */
export function planStatement(
  p: PlanWrite,
  gate?: CompletionGate,
  /** Without a gate: more writes as CTE bodies (event deliveries), always applied. */
  extra?: (params: unknown[]) => string[],
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const { ctes, main } = planParts(p, params, '', gate, extra);
  return { sql: `${ctes.length ? `WITH ${ctes.join(', ')} ` : ''}${main}`, params };
}

/**
 * New runs' first statements (planStatement with insertExecution) as ONE statement: every run's
 * parts side by side (a group commit of run starts). Params are numbered across all of them.
 */
export function startsStatement(
  starts: Array<{ plan: PlanWrite; extra?: (params: unknown[]) => string[] }>,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const ctes: string[] = [];
  starts.forEach((s, i) => {
    const parts = planParts(s.plan, params, `_${i}`, undefined, s.extra);
    ctes.push(...parts.ctes, `run_${i} AS (${parts.main})`);
  });
  return { sql: `WITH ${ctes.join(', ')} SELECT 1`, params };
}

/** The columns of a started run's row that `startsBatchStatement` writes (the engine's newExecutionRow). */
const START_RUN_COLUMNS = new Set([
  'grid_id',
  'grid_version_id',
  'document',
  'trigger_type',
  'trigger_data',
  'started_by_id',
  'started_at',
  'deadline_at',
]);

/**
 * The first statements of several runs as ONE statement whose text is the same for any number of
 * runs, steps and jobs (every value goes in as a column array, unnested): PostgreSQL prepares it once
 * per connection and the text is never rebuilt. `sink`: the event writes, as one statement body of
 * fixed text over arrays (EventSink.sqlBatch). Null when a start does not fit this shape (it then
 * goes through startsStatement).
 */
export function startsBatchStatement(
  starts: Array<{ plan: PlanWrite; sinkEvents?: unknown[] }>,
  sink?: (params: unknown[], events: unknown[]) => string,
): { sql: string; params: unknown[] } | null {
  const run = Array.from({ length: 17 }, (): unknown[] => []);
  const step = Array.from({ length: 15 }, (): unknown[] => []);
  const job = Array.from({ length: 3 }, (): unknown[] => []);
  const events: unknown[] = [];
  for (const { plan: p, sinkEvents } of starts) {
    const x = p.insertExecution;
    if (!x || p.failedSteps.length) return null;
    for (const k in x) if (!START_RUN_COLUMNS.has(k)) return null;
    if (sinkEvents?.length) {
      if (!sink) return null;
      events.push(...sinkEvents);
    }
    const e = p.execution;
    const r = [
      p.executionId,
      p.workspaceId,
      x.grid_id,
      x.grid_version_id ?? null,
      x.document ?? null,
      x.trigger_type,
      x.trigger_data,
      x.started_by_id ?? null,
      x.started_at ?? null,
      x.deadline_at ?? null,
      e.seq,
      e.addTotal,
      e.addCompleted,
      e.addFailed,
      e.status ?? 'pending',
      e.error === undefined ? null : json(e.error),
      !!e.finished,
    ];
    for (let i = 0; i < r.length; i++) run[i]!.push(r[i]);
    for (const st of p.steps) {
      const v = [
        st.id,
        p.executionId,
        p.workspaceId,
        st.nodeId,
        st.itemIndex,
        st.attempt,
        st.status,
        json(st.input),
        json(st.output),
        json(st.error ?? null),
        st.finished,
        st.finishedAt ?? null,
        st.ports ? JSON.stringify(st.ports) : null,
        st.startedAt ?? null,
        st.leaseMs ?? null,
      ];
      for (let i = 0; i < v.length; i++) step[i]!.push(v[i]);
    }
    for (const o of p.outbox) {
      job[0]!.push(o.jobId);
      job[1]!.push(JSON.stringify(o.data));
      job[2]!.push(Math.max(0, Math.round(o.delayMs ?? 0)));
    }
  }
  const params: unknown[] = [...run, ...step, ...job];
  const sinkBody = sink ? sink(params, events) : undefined;
  return { sql: startsBatchText(sinkBody), params };
}

/** The statement's text (one per sink body text, which is fixed too). */
const startsBatchTexts = new Map<string | undefined, string>();
function startsBatchText(sinkBody: string | undefined): string {
  let t = startsBatchTexts.get(sinkBody);
  if (t !== undefined) return t;
  t = `WITH run AS (
  INSERT INTO executions (id, workspace_id, grid_id, grid_version_id, document, trigger_type, trigger_data, started_by_id, started_at, deadline_at,
                          event_seq, steps_total, steps_completed, steps_failed, status, error, finished_at)
  SELECT id, ws, grid, version, doc, ttype, tdata, by_id, started, deadline, seq, total, done, failed, status, error, CASE WHEN fin THEN now() END
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::jsonb[], $8::text[], $9::timestamptz[], $10::timestamptz[],
                $11::int[], $12::int[], $13::int[], $14::int[], $15::text[], $16::jsonb[], $17::boolean[])
      AS u(id, ws, grid, version, doc, ttype, tdata, by_id, started, deadline, seq, total, done, failed, status, error, fin)),
step AS (
  INSERT INTO execution_steps (id, execution_id, workspace_id, node_id, item_index, attempt, status, input, output, error, finished_at, ports, started_at, available_at)
  SELECT id, ex, ws, node, item, attempt, status, input, output, error, CASE WHEN fin THEN COALESCE(fin_at, now()) END,
         CASE WHEN ports IS NOT NULL THEN ARRAY(SELECT jsonb_array_elements_text(ports)) END, started, now() + make_interval(secs => lease / 1000.0)
    FROM unnest($18::text[], $19::text[], $20::text[], $21::text[], $22::int[], $23::int[], $24::text[], $25::jsonb[], $26::jsonb[], $27::jsonb[],
                $28::boolean[], $29::timestamptz[], $30::jsonb[], $31::timestamptz[], $32::int[])
      AS u(id, ex, ws, node, item, attempt, status, input, output, error, fin, fin_at, ports, started, lease)
  ON CONFLICT (execution_id, node_id, item_index) DO NOTHING),
job AS (
  INSERT INTO outbox_jobs (job_id, queue, payload, available_at)
  SELECT j, 'steps', payload, now() + make_interval(secs => delay / 1000.0) FROM unnest($33::text[], $34::jsonb[], $35::int[]) AS u(j, payload, delay)
  ON CONFLICT (job_id) DO NOTHING)${sinkBody ? `,\nsink AS (${sinkBody})` : ''}
SELECT 1`;
  startsBatchTexts.set(sinkBody, t);
  return t;
}

/** The CTEs and the main statement of planStatement; CTE names end with `tag`. */
function planParts(
  p: PlanWrite,
  params: unknown[],
  tag: string,
  gate?: CompletionGate,
  extra?: (params: unknown[]) => string[],
): { ctes: string[]; main: string } {
  const ex = `$${params.push(p.executionId)}`;
  const ws = `$${params.push(p.workspaceId)}`;
  const ctes: string[] = [];
  const gated = gate ? ' WHERE EXISTS (SELECT 1 FROM ok)' : '';
  const andGated = gate ? ' AND EXISTS (SELECT 1 FROM ok)' : '';
  if (gate) {
    const sets = executionSets(p, params);
    const g = gate.step;
    const sid = `$${params.push(g.id)}`;
    const guard = `id = ${sid} AND status = 'running' AND attempt = $${params.push(g.attempt)}::int AND started_at = $${params.push(g.startedAt)}::timestamptz`;
    ctes.push(
      `ok AS (UPDATE executions SET ${sets.join(', ')} WHERE id = ${ex} AND workspace_id = ${ws} AND event_seq = $${params.push(gate.expectSeq)}::int AND status = $${params.push(gate.expectStatus)}
         AND EXISTS (SELECT 1 FROM execution_steps WHERE ${guard}) RETURNING 1)`,
      `own AS (UPDATE execution_steps SET status = 'completed', output = $${params.push(JSON.stringify(g.output))}::jsonb, ports = $${params.push(g.ports)}::text[], error = NULL, finished_at = now(), updated_at = now()
         WHERE ${guard}${andGated})`,
    );
  }
  if (p.steps.length) {
    const values: string[] = [];
    for (const s of p.steps) {
      const b = params.length;
      params.push(
        s.id,
        s.nodeId,
        s.itemIndex,
        s.status,
        s.attempt,
        json(s.input),
        json(s.output),
        json(s.error ?? null),
        s.finished,
        s.ports ?? null,
        s.startedAt ?? null,
        s.leaseMs ?? null,
        s.finishedAt ?? null,
      );
      values.push(
        `($${b + 1}, ${ex}, ${ws}, $${b + 2}, $${b + 3}::int, $${b + 5}::int, $${b + 4}, $${b + 6}::jsonb, $${b + 7}::jsonb, $${b + 8}::jsonb, CASE WHEN $${b + 9}::boolean THEN COALESCE($${b + 13}::timestamptz, now()) END, $${b + 10}::text[], $${b + 11}::timestamptz, now() + make_interval(secs => $${b + 12}::int / 1000.0))`,
      );
    }
    const cols = `id, execution_id, workspace_id, node_id, item_index, attempt, status, input, output, error, finished_at, ports, started_at, available_at`;
    ctes.push(
      gate
        ? `ins_steps${tag} AS (INSERT INTO execution_steps (${cols})
            SELECT * FROM (VALUES ${values.join(', ')}) v${gated} ON CONFLICT (execution_id, node_id, item_index) DO NOTHING)`
        : `ins_steps${tag} AS (INSERT INTO execution_steps (${cols})
            VALUES ${values.join(', ')} ON CONFLICT (execution_id, node_id, item_index) DO NOTHING)`,
    );
  }
  if (p.outbox.length) {
    const values: string[] = [];
    for (const o of p.outbox) {
      const b = params.length;
      params.push(o.jobId, JSON.stringify(o.data), Math.max(0, Math.round(o.delayMs ?? 0)));
      values.push(
        `($${b + 1}, 'steps', $${b + 2}::jsonb, now() + make_interval(secs => $${b + 3}::int / 1000.0))`,
      );
    }
    ctes.push(
      gate
        ? `ins_outbox${tag} AS (INSERT INTO outbox_jobs (job_id, queue, payload, available_at)
            SELECT * FROM (VALUES ${values.join(', ')}) v${gated} ON CONFLICT (job_id) DO NOTHING)`
        : `ins_outbox${tag} AS (INSERT INTO outbox_jobs (job_id, queue, payload, available_at) VALUES ${values.join(', ')} ON CONFLICT (job_id) DO NOTHING)`,
    );
  }
  for (const f of p.failedSteps) {
    const b = params.length;
    params.push(f.id, JSON.stringify(f.error));
    ctes.push(
      `fail${tag}_${b} AS (UPDATE execution_steps SET status = 'failed', error = $${b + 2}::jsonb, finished_at = now(), updated_at = now() WHERE id = $${b + 1}${andGated})`,
    );
  }
  if (gate) {
    for (const [i, body] of (gate.extra?.(params, 'EXISTS (SELECT 1 FROM ok)') ?? []).entries())
      ctes.push(`extra_${i} AS (${body})`);
    return { ctes, main: `SELECT (SELECT count(*) FROM ok)::int AS ok` };
  }
  for (const [i, body] of (extra?.(params) ?? []).entries())
    ctes.push(`extra${tag}_${i} AS (${body})`);
  const e = p.execution;
  if (p.insertExecution) {
    // A new run: the execution row is inserted by the same statement (its FK checks run at the end).
    const cols = Object.entries({
      ...p.insertExecution,
      event_seq: e.seq,
      steps_total: e.addTotal,
      steps_completed: e.addCompleted,
      steps_failed: e.addFailed,
      ...(e.status ? { status: e.status } : {}),
      ...(e.error !== undefined ? { error: json(e.error) } : {}),
    });
    const cast = (c: string) =>
      c === 'document' || c === 'trigger_data' || c === 'error'
        ? '::jsonb'
        : c === 'started_at' || c === 'deadline_at'
          ? '::timestamptz'
          : '';
    let names = cols.map(([c]) => c).join(', ');
    let values = cols.map(([c, v]) => `$${params.push(v)}${cast(c)}`).join(', ');
    if (e.finished) {
      // A run that ended while it started (every step ran at its start).
      names += ', finished_at';
      values += ', now()';
    }
    return {
      ctes,
      main: `INSERT INTO executions (id, workspace_id, ${names}) VALUES (${ex}, ${ws}, ${values})`,
    };
  }
  const sets = executionSets(p, params);
  return {
    ctes,
    main: `UPDATE executions SET ${sets.join(', ')} WHERE id = ${ex} AND workspace_id = ${ws}`,
  };
}

function executionSets(p: PlanWrite, params: unknown[]): string[] {
  const e = p.execution;
  const sets = [
    `event_seq = $${params.push(e.seq)}::int`,
    `steps_total = steps_total + $${params.push(e.addTotal)}::int`,
    `steps_completed = steps_completed + $${params.push(e.addCompleted)}::int`,
    `steps_failed = steps_failed + $${params.push(e.addFailed)}::int`,
  ];
  if (e.status) sets.push(`status = $${params.push(e.status)}`);
  if (e.finished) sets.push(`finished_at = now()`);
  if (e.error !== undefined) sets.push(`error = $${params.push(json(e.error))}::jsonb`);
  return sets;
}

/** Writes a plan (see planStatement) in one statement. */
export async function writePlan(tx: SqlExecutor, p: PlanWrite): Promise<void> {
  const { sql, params } = planStatement(p);
  await tx.query(sql, params);
}

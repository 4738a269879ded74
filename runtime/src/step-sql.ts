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
 * runs, steps and jobs: PostgreSQL prepares it once per connection and the text is never rebuilt.
 * The rows go in as three JSON documents (arrays of row arrays) built by joining JSON texts: step
 * data already serialised (jsonText) is not serialised or escaped again, as it would be inside a
 * PostgreSQL array parameter. `sink`: the event writes, as one statement body of fixed text
 * (EventSink.sqlBatch). Null when a start does not fit this shape (it then goes through
 * startsStatement).
 */
export function startsBatchStatement(
  starts: Array<{ plan: PlanWrite; sinkEvents?: unknown[] }>,
  sink?: (params: unknown[], events: unknown[]) => string,
): { sql: string; params: unknown[] } | null {
  const runs: string[] = [];
  const steps: string[] = [];
  const jobs: string[] = [];
  const events: unknown[] = [];
  const q = (v: string | null | undefined) => (v == null ? 'null' : JSON.stringify(v));
  const time = (v: unknown) => (v instanceof Date ? `"${v.toISOString()}"` : 'null');
  /** JSON text given as a string (or null). */
  const raw = (v: unknown) => (typeof v === 'string' ? v : 'null');
  for (const { plan: p, sinkEvents } of starts) {
    const x = p.insertExecution;
    if (!x || p.failedSteps.length) return null;
    for (const k in x) if (!START_RUN_COLUMNS.has(k)) return null;
    if (
      typeof x.trigger_data !== 'string' ||
      (x.document != null && typeof x.document !== 'string')
    )
      return null;
    if (sinkEvents?.length) {
      if (!sink) return null;
      for (const e of sinkEvents) events.push(e);
    }
    const e = p.execution;
    const ex = q(p.executionId);
    const ws = q(p.workspaceId);
    runs.push(
      `[${ex},${ws},${q(x.grid_id as string)},${q(x.grid_version_id as string | null)},${raw(x.document)},${q(x.trigger_type as string)},${x.trigger_data},${q(x.started_by_id as string | null)},${time(x.started_at)},${time(x.deadline_at)},${e.seq},${e.addTotal},${e.addCompleted},${e.addFailed},${q(e.status ?? 'pending')},${e.error == null ? 'null' : jsonText(e.error)},${!!e.finished}]`,
    );
    for (const st of p.steps) {
      steps.push(
        `[${q(st.id)},${ex},${ws},${q(st.nodeId)},${st.itemIndex},${st.attempt},${q(st.status)},${json(st.input) ?? 'null'},${json(st.output) ?? 'null'},${json(st.error ?? null) ?? 'null'},${st.finished},${time(st.finishedAt)},${st.ports ? JSON.stringify(st.ports) : 'null'},${time(st.startedAt)},${st.leaseMs ?? 'null'}]`,
      );
    }
    for (const o of p.outbox)
      jobs.push(
        `[${q(o.jobId)},${JSON.stringify(o.data)},${Math.max(0, Math.round(o.delayMs ?? 0))}]`,
      );
  }
  const params: unknown[] = [`[${runs.join(',')}]`, `[${steps.join(',')}]`, `[${jobs.join(',')}]`];
  const sinkBody = sink ? sink(params, events) : undefined;
  return { sql: startsBatchText(sinkBody), params };
}

/** The statement's text (one per sink body text, which is fixed too). JSON `null` data is SQL NULL. */
const startsBatchTexts = new Map<string | undefined, string>();
function startsBatchText(sinkBody: string | undefined): string {
  let t = startsBatchTexts.get(sinkBody);
  if (t !== undefined) return t;
  t = `WITH run AS (
  INSERT INTO executions (id, workspace_id, grid_id, grid_version_id, document, trigger_type, trigger_data, started_by_id, started_at, deadline_at,
                          event_seq, steps_total, steps_completed, steps_failed, status, error, finished_at)
  SELECT r->>0, r->>1, r->>2, r->>3, NULLIF(r->4, 'null'::jsonb), r->>5, r->6, r->>7, (r->>8)::timestamptz, (r->>9)::timestamptz,
         (r->>10)::int, (r->>11)::int, (r->>12)::int, (r->>13)::int, r->>14, NULLIF(r->15, 'null'::jsonb), CASE WHEN (r->>16)::boolean THEN now() END
    FROM jsonb_array_elements($1::jsonb) AS r),
step AS (
  INSERT INTO execution_steps (id, execution_id, workspace_id, node_id, item_index, attempt, status, input, output, error, finished_at, ports, started_at, available_at)
  SELECT s->>0, s->>1, s->>2, s->>3, (s->>4)::int, (s->>5)::int, s->>6, NULLIF(s->7, 'null'::jsonb), NULLIF(s->8, 'null'::jsonb), NULLIF(s->9, 'null'::jsonb),
         CASE WHEN (s->>10)::boolean THEN COALESCE((s->>11)::timestamptz, now()) END,
         CASE WHEN jsonb_typeof(s->12) = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(s->12)) END,
         (s->>13)::timestamptz, now() + make_interval(secs => (s->>14)::int / 1000.0)
    FROM jsonb_array_elements($2::jsonb) AS s
  ON CONFLICT (execution_id, node_id, item_index) DO NOTHING),
job AS (
  INSERT INTO outbox_jobs (job_id, queue, payload, available_at)
  SELECT j->>0, 'steps', j->1, now() + make_interval(secs => (j->>2)::int / 1000.0) FROM jsonb_array_elements($3::jsonb) AS j
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

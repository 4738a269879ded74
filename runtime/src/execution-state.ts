/**
 * Reading a run's state (for reconnecting clients and `waitForCompletion`) and retention pruning.
 * Plain SQL over `@gridflow/db`'s SqlClient.
 */
import type { Database, SqlExecutor } from '@gridflow/db';
import type {
  ExecutionStatus,
  ExecutionSummary,
  RunEvent,
  RuntimeEvent,
  StepEvent,
  StepStatus,
} from './engine.js';
import type { StepErrorInfo } from './errors.js';
import type { Json } from './node-type.js';

interface ExecRow {
  id: string;
  workspace_id: string;
  grid_id: string;
  status: ExecutionStatus;
  error: StepErrorInfo | null;
  event_seq: number;
  started_at: Date | null;
  finished_at: Date | null;
}

interface StepRow {
  node_id: string;
  item_index: number;
  status: StepStatus;
  attempt: number;
  output: Json | null;
  ports: string[] | null;
  error: StepErrorInfo | null;
  started_at: Date | null;
  finished_at: Date | null;
}

/** Output of every completed node by id; item-indexed nodes give an array in item order. */
export async function loadExecutionSummary(
  sql: SqlExecutor,
  executionId: string,
): Promise<ExecutionSummary | null> {
  const ex = (
    await sql.query<ExecRow>(`SELECT id, status, error FROM executions WHERE id = $1`, [
      executionId,
    ])
  ).rows[0];
  if (!ex) return null;
  const steps = await sql.query<{ node_id: string; item_index: number; output: Json }>(
    `SELECT node_id, item_index, output FROM execution_steps WHERE execution_id = $1 AND status = 'completed' ORDER BY node_id, item_index`,
    [executionId],
  );
  const outputs: Record<string, Json> = {};
  for (const s of steps.rows) {
    if (s.item_index < 0) outputs[s.node_id] = s.output;
    else {
      const arr = (
        Array.isArray(outputs[s.node_id]) ? outputs[s.node_id] : (outputs[s.node_id] = [])
      ) as Json[];
      arr[s.item_index] = s.output;
    }
  }
  for (const [k, v] of Object.entries(outputs))
    if (Array.isArray(v)) outputs[k] = Array.from(v, (x) => (x === undefined ? null : x));
  return { id: ex.id, status: ex.status, outputs, ...(ex.error ? { error: ex.error } : {}) };
}

export interface ExecutionState {
  /** The run as a RunEvent, and every step as a StepEvent, all stamped with the run's current seq. */
  run: RunEvent;
  steps: StepEvent[];
  seq: number;
}

/**
 * The current state of a run, for a client that (re)connects: apply it, then live events with a
 * greater seq. Scoped by workspace when `workspaceId` is given.
 */
export async function getExecutionState(
  db: Pick<Database, 'sql'>,
  executionId: string,
  workspaceId?: string,
): Promise<ExecutionState | null> {
  // One snapshot for the run row and its steps: read apart, a step completing in between would be
  // in the steps while the seq is older, and its event would then be sent again after the snapshot.
  const { ex, rows } = await db.sql.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const ex = (
      await tx.query<ExecRow>(
        `SELECT id, workspace_id, grid_id, status, error, event_seq, started_at, finished_at FROM executions WHERE id = $1 ${
          workspaceId ? 'AND workspace_id = $2' : ''
        }`,
        workspaceId ? [executionId, workspaceId] : [executionId],
      )
    ).rows[0];
    if (!ex) return { ex, rows: null };
    const rows = await tx.query<StepRow>(
      `SELECT node_id, item_index, status, attempt, output, ports, error, started_at, finished_at
     FROM execution_steps WHERE execution_id = $1 ORDER BY created_at, started_at NULLS LAST, node_id, item_index`,
      [executionId],
    );
    return { ex, rows };
  });
  if (!ex || !rows) return null;
  const seq = ex.event_seq;
  const run: RunEvent = {
    type: 'run',
    seq,
    executionId: ex.id,
    gridId: ex.grid_id,
    workspaceId: ex.workspace_id,
    status: ex.status,
    startedAt: ex.started_at?.toISOString() ?? null,
    finishedAt: ex.finished_at?.toISOString() ?? null,
    ...(ex.error ? { error: ex.error } : {}),
  };
  const steps = rows.rows.map<StepEvent>((s) => {
    const text = s.output === null || s.output === undefined ? undefined : JSON.stringify(s.output);
    return {
      type: 'step',
      seq,
      executionId: ex.id,
      gridId: ex.grid_id,
      workspaceId: ex.workspace_id,
      nodeId: s.node_id,
      itemIndex: s.item_index < 0 ? null : s.item_index,
      status: s.status,
      attempt: s.attempt,
      startedAt: s.started_at?.toISOString() ?? null,
      finishedAt: s.finished_at?.toISOString() ?? null,
      ...(text !== undefined
        ? {
            outputPreview:
              text.length <= 2048 ? s.output! : { truncated: true, preview: text.slice(0, 2048) },
          }
        : {}),
      ...(s.error ? { error: s.error } : {}),
      ...(s.ports ? { ports: s.ports } : {}),
    };
  });
  return { run, steps, seq };
}

/**
 * Events a client missed after `afterSeq`. Events are not stored one by one: when anything
 * happened since, the answer is the current state (run + every step) stamped with the current
 * seq, which a client applies like live events; [] when nothing changed.
 */
export async function eventsAfter(
  db: Pick<Database, 'sql'>,
  executionId: string,
  afterSeq: number,
  workspaceId?: string,
): Promise<RuntimeEvent[]> {
  const state = await getExecutionState(db, executionId, workspaceId);
  if (!state || state.seq <= afterSeq) return [];
  return [state.run, ...state.steps];
}

/**
 * Retention: clears step input/output (and waitpoint payloads) of runs that finished more than
 * `olderThanDays` days ago. Returns the number of steps cleared.
 */
export async function pruneExecutions(
  db: Pick<Database, 'sql'>,
  opts: { olderThanDays: number; workspaceId?: string },
): Promise<number> {
  const params: unknown[] = [opts.olderThanDays];
  if (opts.workspaceId) params.push(opts.workspaceId);
  const res = await db.sql.query(
    `UPDATE execution_steps SET input = NULL, output = NULL
     WHERE execution_id IN (
       SELECT id FROM executions
       WHERE status IN ('completed', 'failed', 'cancelled')
         AND finished_at < now() - make_interval(days => $1::int) ${opts.workspaceId ? 'AND workspace_id = $2' : ''})
       AND (input IS NOT NULL OR output IS NOT NULL)`,
    params,
  );
  return res.rowCount;
}

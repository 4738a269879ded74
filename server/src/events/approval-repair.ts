/**
 * An approval's final decision is stored first, then the run is resumed. If the resume did not
 * happen (the process died in between, or the database or Redis failed at that moment), the run
 * would wait forever on a decided approval. This repair finds decided approvals whose waitpoint
 * is still waiting (decided more than `graceMs` ago, so a resume in flight is left alone) and
 * resumes them with the same payload the decision route uses. A resume that arrives twice is
 * absorbed by the engine, so running this on several servers at once is harmless.
 */
import type { Database } from '@gridflow/db';
import type { Engine } from '@gridflow/runtime';

export async function resumeDecidedApprovals(
  db: Database,
  engine: Engine,
  graceMs = 10_000,
): Promise<number> {
  const r = await db.sql.query<{
    execution_id: string;
    node_id: string;
    item_index: number;
    status: 'approved' | 'rejected';
    resolved_by_id: string | null;
    comment: string | null;
  }>(
    `SELECT a.execution_id, a.node_id, a.item_index, a.status, a.resolved_by_id,
            (SELECT x.comment FROM approval_actions x
              WHERE x.request_id = a.id AND x.action IN ('approve', 'reject')
              ORDER BY x.created_at DESC LIMIT 1) AS comment
       FROM approval_requests a
       JOIN waitpoints w ON w.execution_id = a.execution_id AND w.node_id = a.node_id AND w.item_index = a.item_index
      WHERE a.status IN ('approved', 'rejected') AND w.status = 'waiting'
        AND a.resolved_at < now() - make_interval(secs => $1::int / 1000.0)
      LIMIT 100`,
    [graceMs],
  );
  let resumed = 0;
  for (const a of r.rows) {
    const res = await engine.resume(
      a.execution_id,
      a.node_id,
      { decision: a.status, approverId: a.resolved_by_id, comment: a.comment },
      a.item_index < 0 ? null : a.item_index,
    );
    if (res === 'resumed') resumed++;
  }
  return resumed;
}

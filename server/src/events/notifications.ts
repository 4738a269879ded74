/**
 * Reactions of the server process to runtime events besides the relay: when a step starts
 * waiting (an approval), the notifications the approval node wrote are pushed to the
 * approvers' socket rooms in this process.
 */
import type { RuntimeEvent } from '@gridflow/runtime';
import type { ServerContext } from '../context.js';

export function onRuntimeEvent(ctx: ServerContext, event: RuntimeEvent): void {
  if (event.type !== 'step' || event.status !== 'waiting') return;
  void ctx.db.sql
    .query<{ id: string; user_id: string; type: string; title: string; link: string | null; data: unknown; created_at: Date }>(
      `SELECT n.id, n.user_id, n.type, n.title, n.link, n.data, n.created_at
         FROM approval_requests a
         JOIN notifications n ON n.workspace_id = a.workspace_id AND n.data->>'approvalId' = a.id
        WHERE a.workspace_id = $1 AND a.execution_id = $2 AND a.node_id = $3 AND a.item_index = $4 AND n.read_at IS NULL
          AND n.created_at > now() - interval '10 minutes'`,
      [event.workspaceId, event.executionId, event.nodeId, event.itemIndex ?? -1],
    )
    .then((r) => {
      for (const n of r.rows) {
        ctx.notifier.toUser(n.user_id, 'notification', { id: n.id, type: n.type, title: n.title, link: n.link, data: n.data, createdAt: n.created_at });
      }
    })
    .catch((err) => ctx.log.warn({ err }, 'approval notification push failed'));
}

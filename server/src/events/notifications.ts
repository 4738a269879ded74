/**
 * Reactions of the server process to runtime events besides the relay: when a step starts
 * waiting (an approval), the approval notifications written by the event sink are pushed to the
 * approvers' socket rooms in this process.
 */
import type { RuntimeEvent } from '@gridflow/runtime';
import type { ServerContext } from '../context.js';

export function onRuntimeEvent(ctx: ServerContext, event: RuntimeEvent): void {
  if (event.type !== 'step' || event.status !== 'waiting') return;
  void ctx.db.sql
    .query<{ id: string; user_id: string; type: string; title: string; link: string | null; data: unknown; created_at: Date }>(
      `SELECT id, user_id, type, title, link, data, created_at FROM notifications
        WHERE workspace_id = $1 AND type = 'approval.requested' AND data->>'executionId' = $2 AND data->>'nodeId' = $3
          AND created_at > now() - interval '10 minutes'`,
      [event.workspaceId, event.executionId, event.nodeId],
    )
    .then((r) => {
      for (const n of r.rows) {
        ctx.notifier.toUser(n.user_id, 'notification', { id: n.id, type: n.type, title: n.title, link: n.link, data: n.data, createdAt: n.created_at });
      }
    })
    .catch((err) => ctx.log.warn({ err }, 'approval notification push failed'));
}

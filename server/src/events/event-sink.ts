/**
 * The runtime's `eventSink`: called inside the step-completion transaction with the step's domain
 * events (ctx.emit) and run completion events. Inserts one EventDelivery per matching active
 * subscription (durable with the step: a rolled-back step delivers nothing, a committed one is
 * delivered by the delivery worker), and in-app notifications for approval requests.
 */
import type { SqlExecutor } from '@gridflow/db';

export const EVENT_NAMES = [
  'execution.completed',
  'execution.failed',
  'approval.requested',
  'approval.decided',
  'post.published',
  'post.failed',
  'content.generated',
  'guard.scored',
] as const;

/** What the runtime hands the sink (tolerant of optional fields). */
export interface SinkEvent {
  type: string;
  workspaceId: string;
  executionId: string;
  gridId?: string;
  nodeId?: string | null;
  itemIndex?: number | null;
  data?: Record<string, unknown>;
  /** Stable id of the event; derived from execution/node/item/type when absent. */
  id?: string;
  occurredAt?: string | Date;
}

export const DEFAULT_MAX_ATTEMPTS = 5;

export function eventIdOf(e: SinkEvent, index: number): string {
  return e.id ?? `${e.executionId}:${e.nodeId ?? 'run'}:${e.itemIndex ?? -1}:${e.type}:${index}`;
}

export function createEventSink(opts: { maxAttempts?: number } = {}) {
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  return async function eventSink(tx: SqlExecutor, events: SinkEvent[]): Promise<void> {
    const perKind = new Map<string, number>();
    for (const e of events) {
      const k = `${e.executionId}:${e.nodeId ?? ''}:${e.itemIndex ?? -1}:${e.type}`;
      const index = perKind.get(k) ?? 0;
      perKind.set(k, index + 1);
      const id = eventIdOf(e, index);
      const occurredAt = e.occurredAt ? new Date(e.occurredAt).toISOString() : new Date().toISOString();
      const payload = {
        id,
        type: e.type,
        occurredAt,
        workspaceId: e.workspaceId,
        executionId: e.executionId,
        gridId: e.gridId ?? null,
        nodeId: e.nodeId ?? null,
        itemIndex: e.itemIndex ?? null,
        data: e.data ?? {},
      };
      await tx.query(
        `INSERT INTO event_deliveries (id, workspace_id, subscription_id, event, payload, idempotency_key, status, max_attempts, next_attempt_at)
         SELECT gen_random_uuid()::text, s.workspace_id, s.id, $2, $3::jsonb, $4, 'pending', $5, now()
           FROM event_subscriptions s
          WHERE s.workspace_id = $1 AND s.is_active AND ($2 = ANY(s.events) OR '*' = ANY(s.events))
         ON CONFLICT (subscription_id, idempotency_key) DO NOTHING`,
        [e.workspaceId, e.type, JSON.stringify(payload), id, maxAttempts],
      );
      if (e.type === 'approval.requested') await notifyApprovers(tx, e);
    }
  };
}

const ROLE_AT_LEAST: Record<string, string[]> = {
  approver: ['approver', 'editor', 'admin', 'owner'],
  editor: ['editor', 'admin', 'owner'],
  admin: ['admin', 'owner'],
  owner: ['owner'],
  viewer: ['viewer', 'approver', 'editor', 'admin', 'owner'],
};

async function notifyApprovers(tx: SqlExecutor, e: SinkEvent): Promise<void> {
  const d = e.data ?? {};
  const userIds = Array.isArray(d.approverUserIds) ? d.approverUserIds.filter((x): x is string => typeof x === 'string') : [];
  const roles = ROLE_AT_LEAST[typeof d.approverRole === 'string' ? d.approverRole : 'approver'] ?? ROLE_AT_LEAST.approver!;
  const title = typeof d.title === 'string' && d.title ? `Approval requested: ${d.title}` : 'Approval requested';
  const data = JSON.stringify({ approvalId: d.approvalId ?? null, executionId: e.executionId, nodeId: e.nodeId ?? null, itemIndex: e.itemIndex ?? null });
  const link = typeof d.approvalId === 'string' ? `/approvals/${d.approvalId}` : null;
  if (userIds.length) {
    await tx.query(
      `INSERT INTO notifications (id, workspace_id, user_id, type, title, link, data)
       SELECT gen_random_uuid()::text, m.workspace_id, m.user_id, 'approval.requested', $2, $3, $4::jsonb
         FROM memberships m WHERE m.workspace_id = $1 AND m.user_id = ANY($5::text[])`,
      [e.workspaceId, title, link, data, userIds],
    );
  } else {
    await tx.query(
      `INSERT INTO notifications (id, workspace_id, user_id, type, title, link, data)
       SELECT gen_random_uuid()::text, m.workspace_id, m.user_id, 'approval.requested', $2, $3, $4::jsonb
         FROM memberships m WHERE m.workspace_id = $1 AND m.role::text = ANY($5::text[])`,
      [e.workspaceId, title, link, data, roles],
    );
  }
}

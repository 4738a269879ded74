/**
 * The runtime's `eventSink`: called inside the step-completion transaction with the step's domain
 * events (ctx.emit) and run completion events. Inserts one EventDelivery per matching active
 * subscription (durable with the step: a rolled-back step delivers nothing, a committed one is
 * delivered by the delivery worker). In-app notifications of approvals are written by the
 * approval node itself.
 */
import type { SqlExecutor } from '@gridflow/db';

export const EVENT_NAMES = [
  'execution.completed',
  'execution.failed',
  'execution.cancelled',
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
    }
  };
}


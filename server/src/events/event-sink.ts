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
  /** Each event's delivery id and payload (the id is stable: a retried write is a no-op). */
  function deliveries(events: SinkEvent[]): Array<{ e: SinkEvent; id: string; payload: string }> {
    const perKind = new Map<string, number>();
    return events.map((e) => {
      const k = `${e.executionId}:${e.nodeId ?? ''}:${e.itemIndex ?? -1}:${e.type}`;
      const index = perKind.get(k) ?? 0;
      perKind.set(k, index + 1);
      const id = eventIdOf(e, index);
      const occurredAt = e.occurredAt
        ? new Date(e.occurredAt).toISOString()
        : new Date().toISOString();
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
      return { e, id, payload: JSON.stringify(payload) };
    });
  }
  /** One INSERT … SELECT per event (params appended to `params`), applied only when `gate` holds. */
  function toSql(events: SinkEvent[], params: unknown[], gate: string): string[] {
    return deliveries(events).map(({ e, id, payload }) => {
      const $ = (v: unknown) => `$${params.push(v)}`;
      const type = $(e.type);
      return `INSERT INTO event_deliveries (id, workspace_id, subscription_id, event, payload, idempotency_key, status, max_attempts, next_attempt_at)
         SELECT gen_random_uuid()::text, s.workspace_id, s.id, ${type}::text, ${$(payload)}::jsonb, ${$(id)}::text, 'pending', ${$(maxAttempts)}::int, now()
           FROM event_subscriptions s
          WHERE s.workspace_id = ${$(e.workspaceId)}::text AND s.is_active AND (${type}::text = ANY(s.events) OR '*' = ANY(s.events)) AND ${gate}
         ON CONFLICT (subscription_id, idempotency_key) DO NOTHING`;
    });
  }
  /** The same writes for any number of events in one INSERT of fixed text (column arrays). */
  function toSqlBatch(params: unknown[], events: SinkEvent[]): string {
    const rows = deliveries(events);
    const $ = (v: unknown) => `$${params.push(v)}`;
    return `INSERT INTO event_deliveries (id, workspace_id, subscription_id, event, payload, idempotency_key, status, max_attempts, next_attempt_at)
         SELECT gen_random_uuid()::text, s.workspace_id, s.id, d.type, d.payload, d.key, 'pending', ${$(maxAttempts)}::int, now()
           FROM unnest(${$(rows.map((r) => r.e.type))}::text[], ${$(rows.map((r) => r.payload))}::jsonb[], ${$(rows.map((r) => r.id))}::text[], ${$(rows.map((r) => r.e.workspaceId))}::text[])
                AS d(type, payload, key, ws)
           JOIN event_subscriptions s ON s.workspace_id = d.ws AND s.is_active AND (d.type = ANY(s.events) OR '*' = ANY(s.events))
         ON CONFLICT (subscription_id, idempotency_key) DO NOTHING`;
  }
  const eventSink = async function eventSink(tx: SqlExecutor, events: SinkEvent[]): Promise<void> {
    if (!events.length) return;
    const params: unknown[] = [];
    const parts = toSql(events, params, 'TRUE');
    await tx.query(`WITH ${parts.map((p, i) => `e${i} AS (${p})`).join(', ')} SELECT 1`, params);
  };
  return Object.assign(eventSink, { sql: toSql, sqlBatch: toSqlBatch });
}

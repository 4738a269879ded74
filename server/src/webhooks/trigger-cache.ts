/**
 * Webhook trigger lookup by path for the hot path: one plain-SQL query on a miss, then cached.
 * Publishing a grid invalidates its entries in this process; other server processes pick the
 * change up when their entry expires (`ttlMs`).
 */
import type { GridDocument } from '@gridflow/runtime';
import type { Db } from '../db.js';
import type { Crypto } from '../deps.js';

export interface WebhookConfig {
  method: 'POST' | 'PUT' | 'GET';
  auth: 'none' | 'hmac';
  responseMode: 'immediate' | 'onComplete';
  responseNodeId?: string;
  responseTimeoutMs: number;
  idempotencyField?: string;
}

export interface CachedTrigger {
  triggerId: string;
  workspaceId: string;
  gridId: string;
  nodeId: string;
  gridVersionId: string;
  document: GridDocument;
  config: WebhookConfig;
  /** Decrypted HMAC secret; null when the trigger has none. */
  secret: string | null;
}

export const TRIGGER_TYPE = 'trigger';

/** The webhook settings of a trigger node's config (defaults as in @gridflow/nodes' trigger schema). */
export function webhookConfigOf(config: Record<string, unknown>, defaultTimeoutMs: number): WebhookConfig | null {
  if (config.mode !== 'webhook') return null;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return {
    method: config.method === 'PUT' || config.method === 'GET' ? config.method : 'POST',
    auth: config.auth === 'hmac' ? 'hmac' : 'none',
    responseMode: config.responseMode === 'onComplete' ? 'onComplete' : 'immediate',
    responseNodeId: str(config.responseNodeId),
    responseTimeoutMs: typeof config.responseTimeoutMs === 'number' ? config.responseTimeoutMs : defaultTimeoutMs,
    idempotencyField: str(config.idempotencyField),
  };
}

interface Row {
  id: string;
  workspace_id: string;
  grid_id: string;
  node_id: string;
  secret_encrypted: string | null;
  published_version_id: string | null;
  document: unknown;
}

export class TriggerCache {
  private readonly entries = new Map<string, { value: CachedTrigger | null; expires: number; gridId: string | null }>();
  private readonly inflight = new Map<string, Promise<CachedTrigger | null>>();
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly crypto: Crypto,
    private readonly defaultTimeoutMs: number,
    private readonly ttlMs = 10_000,
    private readonly negativeTtlMs = 2_000,
  ) {}

  async get(path: string): Promise<CachedTrigger | null> {
    const now = Date.now();
    const hit = this.entries.get(path);
    if (hit && hit.expires > now) return hit.value;
    const pending = this.inflight.get(path);
    if (pending) return pending;
    const gen = this.generation;
    const p = this.load(path)
      .then((value) => {
        // An invalidation while loading means the row may be stale: do not cache it.
        if (gen === this.generation) {
          this.entries.set(path, { value, expires: Date.now() + (value ? this.ttlMs : this.negativeTtlMs), gridId: value?.gridId ?? null });
        }
        return value;
      })
      .finally(() => this.inflight.delete(path));
    this.inflight.set(path, p);
    return p;
  }

  /** Drops every cached entry of a grid (and unknown-path entries, which a publish may now fill). */
  invalidateGrid(gridId: string): void {
    this.generation++;
    for (const [path, e] of this.entries) if (e.gridId === gridId || e.gridId === null) this.entries.delete(path);
  }

  private async load(path: string): Promise<CachedTrigger | null> {
    const r = await this.db.sql.query<Row>(
      `SELECT t.id, t.workspace_id, t.grid_id, t.node_id, t.secret_encrypted, g.published_version_id, v.document
         FROM webhook_triggers t
         JOIN grids g ON g.id = t.grid_id AND g.workspace_id = t.workspace_id
         JOIN grid_versions v ON v.id = g.published_version_id
        WHERE t.path = $1 AND t.is_active AND g.archived_at IS NULL`,
      [path],
    );
    const row = r.rows[0];
    if (!row || !row.published_version_id) return null;
    const document = (typeof row.document === 'string' ? JSON.parse(row.document) : row.document) as GridDocument;
    const node = document.nodes.find((n) => n.id === row.node_id && n.type === TRIGGER_TYPE && !n.disabled);
    if (!node) return null;
    const config = webhookConfigOf(node.config, this.defaultTimeoutMs);
    if (!config) return null;
    return {
      triggerId: row.id,
      workspaceId: row.workspace_id,
      gridId: row.grid_id,
      nodeId: row.node_id,
      gridVersionId: row.published_version_id,
      document,
      config,
      secret: row.secret_encrypted ? this.crypto.decrypt(row.secret_encrypted, `webhook_trigger:${row.id}`) : null,
    };
  }
}

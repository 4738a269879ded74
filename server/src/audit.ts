/**
 * Every write goes to AuditLog: actor, action, entity, before/after (secrets redacted), ip.
 */
import type { Request } from 'express';
import type { Db } from './db.js';
import type { Caller } from './http/route.js';

const SECRET_KEY = /(password|secret|token|keyhash|encrypted|apikey|^key$|authorization|cookie)/i;

/** Deep copy with secret-looking fields replaced by "[redacted]". */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 12 || value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined && typeof v !== 'boolean' ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId?: string | null;
  before?: unknown;
  after?: unknown;
  metadata?: Record<string, unknown>;
}

type AuditWriter = Pick<Db['prisma'], 'auditLog'>;

export async function audit(
  db: AuditWriter,
  ctx: { caller: Caller | null; req: Request; ip: string },
  workspaceId: string,
  entry: AuditEntry,
): Promise<void> {
  const caller = ctx.caller;
  await db.auditLog.create({
    data: {
      workspaceId,
      actorType: caller ? (caller.via === 'apiKey' ? 'api_key' : 'user') : 'system',
      actorId: caller ? (caller.via === 'apiKey' ? caller.apiKeyId : caller.user.id) : null,
      actorLabel: caller ? caller.user.email + (caller.via === 'apiKey' ? ' (api key)' : '') : null,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId ?? null,
      before: entry.before === undefined ? undefined : (redact(entry.before) as object),
      after: entry.after === undefined ? undefined : (redact(entry.after) as object),
      ipAddress: ctx.ip,
      userAgent: typeof ctx.req.headers['user-agent'] === 'string' ? ctx.req.headers['user-agent'].slice(0, 300) : null,
      metadata: (entry.metadata ?? {}) as object,
    },
  });
}

/**
 * Wires the runtime for the server and worker processes: node services (sandbox, SSRF-safe HTTP,
 * embedder, secrets, operator settings), the engine with the server's event sink, and the
 * schedule poller that starts runs of published grids.
 */
import type { Logger } from 'pino';
import type { Database, Config } from '@gridflow/db';
import { decrypt, encrypt } from '@gridflow/db';
import type { Engine, NodeRegistry, Json } from '@gridflow/runtime';
import { createEngine, type EngineOptions, type EngineServices } from '@gridflow/runtime/engine-impl';
import { createSandbox, type SandboxInstance } from '@gridflow/runtime/sandbox';
import { createHttpClient } from '@gridflow/runtime/http-client';
import { startScheduler, type Scheduler } from '@gridflow/runtime/scheduler';
import { createEmbedder } from '@gridflow/nodes/embedding/index';
import { createEventSink } from './events/event-sink.js';
import { parseDocument } from './grids/publish.js';

export interface Services extends EngineServices {
  sandbox: SandboxInstance;
}

export function createServices(
  config: Pick<Config, 'openaiApiKey' | 'openaiBaseUrl' | 'platformUrls' | 'publicUrl' | 'httpAllowPrivate'>,
  crypto: { encrypt(s: string, c?: string): string; decrypt(s: string, c?: string): string } = { encrypt, decrypt },
): Services {
  const embedder = createEmbedder({
    ...(config.openaiApiKey ? { openaiApiKey: config.openaiApiKey } : {}),
    ...(config.openaiBaseUrl ? { openaiBaseUrl: config.openaiBaseUrl } : {}),
  });
  return {
    sandbox: createSandbox(),
    http: (signal) => createHttpClient({ signal, allowPrivateNetwork: config.httpAllowPrivate }),
    embed: (text) => embedder.embed(text),
    encrypt: (s) => crypto.encrypt(s),
    decrypt: (s) => crypto.decrypt(s),
    env: {
      ...(config.openaiApiKey ? { openaiApiKey: config.openaiApiKey } : {}),
      ...(config.openaiBaseUrl ? { openaiBaseUrl: config.openaiBaseUrl } : {}),
      platformBaseUrls: config.platformUrls,
      publicUrl: config.publicUrl,
    },
  };
}

export function engineLogger(log: Logger): NonNullable<EngineOptions['logger']> {
  return {
    debug: (msg, data) => log.debug(data ?? {}, msg),
    info: (msg, data) => log.info(data ?? {}, msg),
    warn: (msg, data) => log.warn(data ?? {}, msg),
    error: (msg, data) => log.error(data ?? {}, msg),
  };
}

export function createGridflowEngine(opts: {
  db: Database;
  registry: NodeRegistry;
  services: EngineServices;
  workers: number;
  redisUrl?: string | undefined;
  queuePrefix?: string;
  log: Logger;
  deliveryMaxAttempts?: number;
}): Engine & { stop(): Promise<void> } {
  return createEngine({
    db: opts.db,
    registry: opts.registry,
    services: opts.services,
    workers: opts.workers,
    ...(opts.redisUrl ? { redisUrl: opts.redisUrl } : {}),
    ...(opts.queuePrefix ? { queuePrefix: opts.queuePrefix } : {}),
    eventSink: createEventSink({ maxAttempts: opts.deliveryMaxAttempts ?? 5 }) as EngineOptions['eventSink'],
    logger: engineLogger(opts.log),
  });
}

/** Polls due schedules and starts runs of the grid's published version. */
export function startSchedules(db: Database, engine: Engine, log: Logger, intervalMs = 1000): Scheduler {
  return startScheduler({
    db,
    intervalMs,
    log: engineLogger(log),
    startRun: async (s) => {
      const r = await db.sql.query<{ id: string; document: unknown }>(
        `SELECT v.id, v.document FROM grids g JOIN grid_versions v ON v.id = g.published_version_id
          WHERE g.id = $1 AND g.workspace_id = $2 AND g.archived_at IS NULL`,
        [s.gridId, s.workspaceId],
      );
      const v = r.rows[0];
      if (!v) return;
      const doc = parseDocument(typeof v.document === 'string' ? JSON.parse(v.document) : v.document, 'version.document');
      return engine.startRun({
        workspaceId: s.workspaceId,
        gridId: s.gridId,
        gridVersionId: v.id,
        document: doc,
        triggerType: 'schedule',
        triggerData: { scheduledAt: s.scheduledAt.toISOString(), scheduleId: s.id, nodeId: s.nodeId } as Json,
      });
    },
  });
}

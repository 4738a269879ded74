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
import { executeNodeOnce } from '@gridflow/runtime/execute-once';
import type { ExecuteNodeOnce } from './deps.js';
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
    encrypt: (s, c) => crypto.encrypt(s, c),
    decrypt: (s, c) => crypto.decrypt(s, c),
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
        // The same firing (re-fired after a scheduler died) never starts a second run.
        executionId: s.executionId,
      });
    },
  });
}

/**
 * "Test this node" for the API: runs one node with the given input, or with the input it had in
 * its latest run (and the other nodes' outputs of that run for expressions). Nothing is stored.
 */
export function createNodeTester(db: Database, registry: NodeRegistry, services: EngineServices): ExecuteNodeOnce {
  return async ({ workspaceId, gridId, document, nodeId, input, trigger }) => {
    const doc = parseDocument(document, 'body.document');
    const node = doc.nodes.find((n) => n.id === nodeId)!;
    let resolvedInput = input;
    let resolvedTrigger = trigger;
    let nodes: Array<{ id: string; name: string; output: Json }> = [];
    if (resolvedInput === undefined || resolvedTrigger === undefined) {
      const last = await db.sql.query<{ execution_id: string; input: Json; trigger_data: Json }>(
        `SELECT s.execution_id, s.input, e.trigger_data FROM execution_steps s JOIN executions e ON e.id = s.execution_id
          WHERE e.workspace_id = $1 AND e.grid_id = $2 AND s.node_id = $3 AND s.input IS NOT NULL
          ORDER BY s.created_at DESC LIMIT 1`,
        [workspaceId, gridId, nodeId],
      );
      const row = last.rows[0];
      if (row) {
        resolvedInput ??= row.input;
        resolvedTrigger ??= row.trigger_data;
        const outs = await db.sql.query<{ node_id: string; output: Json }>(
          `SELECT node_id, output FROM execution_steps WHERE execution_id = $1 AND status = 'completed' AND item_index = -1`,
          [row.execution_id],
        );
        const names = new Map(doc.nodes.map((n) => [n.id, n.name]));
        nodes = outs.rows.filter((o) => names.has(o.node_id)).map((o) => ({ id: o.node_id, name: names.get(o.node_id)!, output: o.output }));
      }
    }
    const result = await executeNodeOnce({
      registry,
      services,
      db,
      node,
      input: resolvedInput ?? null,
      trigger: resolvedTrigger ?? {},
      workspaceId,
      gridId,
      nodes,
      timeoutMs: 30_000,
    });
    return { ...result, input: resolvedInput ?? null } as unknown as Json;
  };
}

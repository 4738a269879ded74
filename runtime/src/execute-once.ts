/**
 * "Test this node": runs one node of a draft once, outside any durable execution, and returns
 * what it produced. Nothing is stored; ctx.emit events are returned, not delivered; a wait is
 * reported, not suspended.
 */
import type { Database } from '@gridflow/db';
import { randomUUID } from 'node:crypto';
import type { GridNode } from './document.js';
import { classifyError, StepTimeoutError, UserError, type StepErrorInfo } from './errors.js';
import type { DomainEvent, Json, NodeContext, NodeRegistry, WaitRequest } from './node-type.js';
import {
  buildNodesScope,
  evaluateTemplateOrExpression,
  resolveConfig,
  type ExpressionScope,
} from './expressions.js';
import type { EngineServices } from './engine-impl.js';
import { migrateDocument, type ValidationRegistry } from './validate.js';

export interface ExecuteNodeOnceOptions {
  registry: NodeRegistry;
  services: EngineServices;
  db: Pick<Database, 'prisma'>;
  node: GridNode;
  input: Json;
  trigger: Json;
  workspaceId: string;
  gridId?: string;
  /** Outputs of other nodes visible to expressions, by node id and name. */
  nodes?: Array<{ id: string; name: string; output: Json }>;
  item?: { value: Json; index: number };
  /** Default 60 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type ExecuteNodeOnceResult =
  | {
      status: 'completed';
      output: Json;
      ports: string[] | null;
      events: DomainEvent[];
      durationMs: number;
      config: unknown;
    }
  | {
      status: 'waiting';
      wait: WaitRequest;
      events: DomainEvent[];
      durationMs: number;
      config: unknown;
    }
  | { status: 'failed'; error: StepErrorInfo; events: DomainEvent[]; durationMs: number };

export async function executeNodeOnce(o: ExecuteNodeOnceOptions): Promise<ExecuteNodeOnceResult> {
  const t0 = performance.now();
  const events: DomainEvent[] = [];
  const ms = () => Math.round((performance.now() - t0) * 100) / 100;
  const type = o.registry.get(o.node.type);
  if (!type) {
    return {
      status: 'failed',
      error: classifyError(
        new UserError(
          `Node type "${o.node.type}" is not installed.`,
          undefined,
          'UNKNOWN_NODE_TYPE',
        ),
      ),
      events,
      durationMs: ms(),
    };
  }
  // Old configs are upgraded like at run time.
  const migrated = migrateDocument(
    { schemaVersion: 1, nodes: [o.node], edges: [], settings: {} as never },
    o.registry as unknown as ValidationRegistry,
  ).document.nodes[0]!;
  const runId = `test-${randomUUID()}`;
  const scope: ExpressionScope = {
    trigger: o.trigger,
    nodes: buildNodesScope(o.nodes ?? []),
    ...(o.item ? { item: o.item.value, itemIndex: o.item.index } : {}),
    run: { id: runId, gridId: o.gridId ?? 'draft', startedAt: new Date().toISOString() },
    input: o.input,
  };
  const ctrl = new AbortController();
  const onOuter = () => ctrl.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onOuter, { once: true });
  const timeoutMs = o.timeoutMs ?? 60_000;
  const timer = setTimeout(
    () =>
      ctrl.abort(
        new StepTimeoutError(`Node "${migrated.name}" did not finish within ${timeoutMs} ms.`),
      ),
    timeoutMs,
  );
  try {
    const resolved = await resolveConfig(migrated.config, scope, {
      sandbox: o.services.sandbox,
      ...(type.rawFields ? { rawFields: type.rawFields } : {}),
      nodeName: migrated.name,
      nodeId: migrated.id,
    });
    const parsed = type.configSchema.safeParse(resolved);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.map(String).join('.');
      throw new UserError(
        `Node "${migrated.name}": setting "${path || '(all)'}" is invalid: ${issue.message}`,
        `config.${path}`,
        'BAD_CONFIG',
      );
    }
    const stepId = `${runId}.${migrated.id}.${o.item?.index ?? -1}`;
    const ctx: NodeContext<unknown> = {
      config: parsed.data,
      input: o.input,
      trigger: o.trigger,
      node: { id: migrated.id, name: migrated.name, type: migrated.type },
      execution: {
        id: runId,
        gridId: o.gridId ?? 'draft',
        workspaceId: o.workspaceId,
        mode: 'test',
      },
      step: {
        id: stepId,
        attempt: 1,
        itemIndex: o.item?.index ?? null,
        idempotencyKey: `gf-${stepId}`,
      },
      ...(o.item ? { item: o.item } : {}),
      signal: ctrl.signal,
      log: { debug() {}, info() {}, warn() {}, error() {} },
      http: o.services.http(ctrl.signal),
      sandbox: o.services.sandbox,
      db: o.db.prisma,
      decrypt: o.services.decrypt,
      encrypt: o.services.encrypt,
      embed: o.services.embed,
      env: o.services.env,
      emit: (e) => {
        events.push(e);
      },
      wait: (request) => ({ kind: 'wait', wait: request }),
      evaluate: (expression, extra) =>
        evaluateTemplateOrExpression(expression, scope, o.services.sandbox, extra),
    };
    const aborted = new Promise<never>((_, reject) =>
      ctrl.signal.addEventListener('abort', () => reject(ctrl.signal.reason), { once: true }),
    );
    aborted.catch(() => {});
    const result = await Promise.race([type.run(ctx as never), aborted]);
    if (result.kind === 'wait')
      return {
        status: 'waiting',
        wait: result.wait,
        events,
        durationMs: ms(),
        config: parsed.data,
      };
    return {
      status: 'completed',
      output: result.output ?? null,
      ports: result.ports ?? null,
      events,
      durationMs: ms(),
      config: parsed.data,
    };
  } catch (err) {
    return {
      status: 'failed',
      error: classifyError(ctrl.signal.aborted ? (ctrl.signal.reason ?? err) : err),
      events,
      durationMs: ms(),
    };
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onOuter);
  }
}

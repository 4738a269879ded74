/**
 * Test helper: `ctx.evaluate` as the runtime builds it (its `evaluateTemplateOrExpression` on the
 * real isolated-vm sandbox) over a scope the test chooses. Never imported by runners.
 */
import { evaluateTemplateOrExpression, type ExpressionScope } from '@gridflow/runtime/expressions';
import type { Json, NodeContext, Sandbox } from '@gridflow/runtime/node-type';

export interface EvaluateLog {
  calls: Array<{ expression: string; extra?: Record<string, Json> }>;
}

export interface TestScope {
  input?: Json;
  trigger?: Json;
  /** Earlier nodes' outputs by name: `{ guard: { score: 1 } }` becomes `nodes.guard.output.score`. */
  outputs?: Record<string, Json>;
  item?: Json;
  itemIndex?: number;
}

export function scopeFrom(s: TestScope): ExpressionScope {
  const nodes: Record<string, { output: Json }> = {};
  for (const [name, output] of Object.entries(s.outputs ?? {})) nodes[name] = { output };
  return {
    trigger: s.trigger ?? null,
    nodes,
    run: { id: 'exec-test', gridId: 'grid-test', startedAt: '2026-11-23T09:00:00.000Z' },
    ...(s.input !== undefined ? { input: s.input } : {}),
    ...(s.item !== undefined ? { item: s.item } : {}),
    ...(s.itemIndex !== undefined ? { itemIndex: s.itemIndex } : {}),
  };
}

export function runtimeEvaluate(
  scope: TestScope,
  sandbox: Sandbox,
  log?: EvaluateLog,
): NodeContext['evaluate'] {
  const full = scopeFrom(scope);
  return async (expression, extra) => {
    log?.calls.push(extra ? { expression, extra } : { expression });
    return evaluateTemplateOrExpression(expression, full, sandbox, extra);
  };
}

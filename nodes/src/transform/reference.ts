/**
 * Resolves a user-written reference (a plain path such as `input.score`, a `{{ }}` template or a bare
 * JS expression) against a step's data. Plain paths into `input`, `trigger` and `item` are read
 * locally (no sandbox round trip); everything else goes through `ctx.evaluate`.
 */
import type { Json, NodeContext } from '@gridflow/runtime/node-type';
import { getPath, isSimplePath, parsePath } from './path.js';

export type ReferenceScope = Pick<NodeContext, 'input' | 'trigger' | 'item' | 'evaluate'>;

const LOCAL_ROOTS = new Set(['input', 'trigger', 'item']);

/** Whether a string is a `{{ }}` template rather than a literal. */
export function isTemplate(value: string): boolean {
  return /\{\{[\s\S]*?\}\}/.test(value);
}

export async function resolveReference(
  ref: string,
  scope: ReferenceScope,
  extra?: Record<string, Json>,
): Promise<unknown> {
  const text = ref.trim();
  if (isTemplate(text)) return extra ? scope.evaluate(text, extra) : scope.evaluate(text);
  if (isSimplePath(text)) {
    const [root, ...rest] = parsePath(text);
    if (typeof root === 'string' && extra && Object.prototype.hasOwnProperty.call(extra, root)) {
      return getPath(extra[root], rest);
    }
    if (typeof root === 'string' && LOCAL_ROOTS.has(root)) {
      const base =
        root === 'input' ? scope.input : root === 'trigger' ? scope.trigger : scope.item?.value;
      return getPath(base, rest);
    }
  }
  return extra ? scope.evaluate(text, extra) : scope.evaluate(text);
}

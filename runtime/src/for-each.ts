/**
 * Names the runtime knows about the for-each node type (defined by `@gridflow/nodes`): the planner
 * runs the nodes reachable from its `item` port once per item and fires `done` with the results.
 * Browser-safe.
 */
export const FOR_EACH_TYPE = 'for-each';
/** Output port whose successors form the loop body. */
export const FOR_EACH_ITEM_PORT = 'item';
/** Output port fired once every item finished, with the per-item results in order. */
export const FOR_EACH_DONE_PORT = 'done';
export const FOR_EACH_DEFAULT_CONCURRENCY = 5;
export const FOR_EACH_MAX_CONCURRENCY = 50;

/** The for-each runner's output: `output({ items })`. */
export function forEachItems(output: unknown): unknown[] | null {
  if (
    output &&
    typeof output === 'object' &&
    Array.isArray((output as { items?: unknown }).items)
  ) {
    return (output as { items: unknown[] }).items;
  }
  return null;
}

export function forEachConcurrency(config: Record<string, unknown> | undefined): number {
  const c = config?.concurrency;
  if (typeof c !== 'number' || !Number.isFinite(c)) return FOR_EACH_DEFAULT_CONCURRENCY;
  return Math.max(1, Math.min(FOR_EACH_MAX_CONCURRENCY, Math.floor(c)));
}

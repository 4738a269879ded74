/**
 * Diff between two grid documents (version a → version b): nodes and edges added, removed or
 * changed, with field-level changes (config fields by path). Pure; used by
 * `GET /api/grids/:id/versions/:a/diff/:b`.
 */
import type { GridDocument, GridEdge, GridNode } from '@gridflow/runtime';

export interface FieldChange {
  /** e.g. `config.prompt`, `name`, `settings.retry.maxAttempts`. */
  path: string;
  before: unknown;
  after: unknown;
  change: 'added' | 'removed' | 'changed';
}

export interface GridDiff {
  nodes: {
    added: GridNode[];
    removed: GridNode[];
    changed: Array<{ id: string; name: string; changes: FieldChange[] }>;
    /** Only the position changed. */
    moved: string[];
  };
  edges: { added: GridEdge[]; removed: GridEdge[]; changed: Array<{ id: string; changes: FieldChange[] }> };
  settings: FieldChange[];
  /** True when nothing but positions differ. */
  identical: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Field changes between two values; objects are walked key by key, arrays and scalars compared whole. */
export function diffValues(before: unknown, after: unknown, path: string, out: FieldChange[] = []): FieldChange[] {
  if (deepEqual(before, after)) return out;
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const k of [...keys].sort()) diffValues(before[k], after[k], path ? `${path}.${k}` : k, out);
    return out;
  }
  out.push({
    path,
    before,
    after,
    change: before === undefined ? 'added' : after === undefined ? 'removed' : 'changed',
  });
  return out;
}

export function diffGrids(a: GridDocument, b: GridDocument): GridDiff {
  const aNodes = new Map(a.nodes.map((n) => [n.id, n]));
  const bNodes = new Map(b.nodes.map((n) => [n.id, n]));
  const nodes: GridDiff['nodes'] = { added: [], removed: [], changed: [], moved: [] };
  for (const n of b.nodes) if (!aNodes.has(n.id)) nodes.added.push(n);
  for (const n of a.nodes) if (!bNodes.has(n.id)) nodes.removed.push(n);
  for (const before of a.nodes) {
    const after = bNodes.get(before.id);
    if (!after) continue;
    const { position: pa, ...ra } = before;
    const { position: pb, ...rb } = after;
    const changes = diffValues(ra, rb, '');
    if (changes.length) nodes.changed.push({ id: after.id, name: after.name, changes });
    else if (!deepEqual(pa, pb)) nodes.moved.push(after.id);
  }
  const aEdges = new Map(a.edges.map((e) => [e.id, e]));
  const bEdges = new Map(b.edges.map((e) => [e.id, e]));
  const edges: GridDiff['edges'] = { added: [], removed: [], changed: [] };
  for (const e of b.edges) if (!aEdges.has(e.id)) edges.added.push(e);
  for (const e of a.edges) if (!bEdges.has(e.id)) edges.removed.push(e);
  for (const before of a.edges) {
    const after = bEdges.get(before.id);
    if (!after) continue;
    const changes = diffValues(before, after, '');
    if (changes.length) edges.changed.push({ id: after.id, changes });
  }
  const settings = diffValues(a.settings, b.settings, 'settings');
  const identical =
    !nodes.added.length && !nodes.removed.length && !nodes.changed.length && !edges.added.length && !edges.removed.length && !edges.changed.length && !settings.length;
  return { nodes, edges, settings, identical };
}

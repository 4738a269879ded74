/**
 * Copy/paste of grid fragments as JSON text, so a selection can be pasted into another grid (or
 * another browser tab). Pasting gives every node a fresh id and a unique name, keeps the edges
 * between pasted nodes and offsets positions so the copy is visible next to the original.
 */
import type { GridEdge, GridNode } from '@gridflow/runtime/document';

export const CLIPBOARD_KIND = 'gridflow/fragment';

export interface Fragment {
  kind: typeof CLIPBOARD_KIND;
  version: 1;
  nodes: GridNode[];
  edges: GridEdge[];
}

export function makeFragment(nodes: GridNode[], edges: GridEdge[], selectedIds: Iterable<string>): Fragment {
  const ids = new Set(selectedIds);
  return {
    kind: CLIPBOARD_KIND,
    version: 1,
    nodes: nodes.filter((n) => ids.has(n.id)),
    edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
  };
}

export function parseFragment(text: string): Fragment | null {
  try {
    const v = JSON.parse(text) as Partial<Fragment>;
    if (v && v.kind === CLIPBOARD_KIND && Array.isArray(v.nodes) && Array.isArray(v.edges)) return v as Fragment;
  } catch {
    /* not ours */
  }
  return null;
}

let counter = 0;
export function newId(prefix = 'n'): string {
  counter = (counter + 1) % 1_000_000;
  const rand = Math.random().toString(36).slice(2, 8);
  return `${prefix}_${Date.now().toString(36)}${counter.toString(36)}${rand}`.slice(0, 40);
}

export function uniqueName(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base;
  const stem = base.replace(/ \d+$/, '');
  for (let i = 2; ; i++) {
    const candidate = `${stem} ${i}`;
    if (!taken.has(candidate)) return candidate;
  }
}

export function pasteFragment(
  fragment: Fragment,
  existing: GridNode[],
  offset: { x: number; y: number } = { x: 40, y: 40 },
): { nodes: GridNode[]; edges: GridEdge[] } {
  const taken = new Set(existing.map((n) => n.name));
  const idMap = new Map<string, string>();
  const nodes = fragment.nodes.map((n) => {
    const id = newId('n');
    idMap.set(n.id, id);
    const name = uniqueName(n.name, taken);
    taken.add(name);
    return { ...n, id, name, position: { x: n.position.x + offset.x, y: n.position.y + offset.y }, config: structuredClone(n.config ?? {}) };
  });
  const edges = fragment.edges
    .filter((e) => idMap.has(e.source) && idMap.has(e.target))
    .map((e) => ({ ...e, id: newId('e'), source: idMap.get(e.source)!, target: idMap.get(e.target)! }));
  return { nodes, edges };
}

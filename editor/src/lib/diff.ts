/**
 * Visual diff between two grid documents: every node and edge of both versions gets a mark
 * (added, removed, changed, unchanged) so the canvas can draw the union with highlights.
 * The server's `GET …/diff` answer is accepted too (`marksFromServerDiff`).
 */
import type { GridDocument, GridEdge, GridNode } from '@gridflow/runtime/document';
import type { ChangedField, VersionDiff } from '../api/types.js';

export type DiffMark = 'added' | 'removed' | 'changed' | 'unchanged';

export interface DiffResult {
  nodes: Record<string, DiffMark>;
  edges: Record<string, DiffMark>;
  changedFields: Record<string, ChangedField[]>;
  /** Union of both documents: removed nodes/edges come from `before`, the rest from `after`. */
  union: { nodes: GridNode[]; edges: GridEdge[] };
  counts: { added: number; removed: number; changed: number };
}

function stable(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  return `{${Object.keys(v as object)
    .sort()
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

function fieldChanges(a: Record<string, unknown>, b: Record<string, unknown>, prefix: string, out: ChangedField[]) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of [...keys].sort()) {
    if (stable(a[k]) !== stable(b[k])) out.push({ path: prefix + k, before: a[k], after: b[k] });
  }
}

/** Node changes that matter to a reviewer; moving a node is not a change. */
export function nodeChanges(a: GridNode, b: GridNode): ChangedField[] {
  const out: ChangedField[] = [];
  if (a.name !== b.name) out.push({ path: 'name', before: a.name, after: b.name });
  if (a.type !== b.type) out.push({ path: 'type', before: a.type, after: b.type });
  if (a.typeVersion !== b.typeVersion) out.push({ path: 'typeVersion', before: a.typeVersion, after: b.typeVersion });
  if (Boolean(a.disabled) !== Boolean(b.disabled)) out.push({ path: 'disabled', before: a.disabled, after: b.disabled });
  if ((a.notes ?? '') !== (b.notes ?? '')) out.push({ path: 'notes', before: a.notes, after: b.notes });
  fieldChanges(a.config ?? {}, b.config ?? {}, 'config.', out);
  return out;
}

const edgeKey = (e: GridEdge) => `${e.source}|${e.sourceHandle}|${e.target}|${e.targetHandle}|${e.kind}`;

export function diffDocuments(before: GridDocument, after: GridDocument): DiffResult {
  const nodes: Record<string, DiffMark> = {};
  const edges: Record<string, DiffMark> = {};
  const changedFields: Record<string, ChangedField[]> = {};
  const bNodes = new Map(before.nodes.map((n) => [n.id, n]));
  const aNodes = new Map(after.nodes.map((n) => [n.id, n]));
  const unionNodes: GridNode[] = [];
  let added = 0;
  let removed = 0;
  let changed = 0;
  for (const n of after.nodes) {
    const old = bNodes.get(n.id);
    if (!old) {
      nodes[n.id] = 'added';
      added++;
    } else {
      const ch = nodeChanges(old, n);
      nodes[n.id] = ch.length ? 'changed' : 'unchanged';
      if (ch.length) {
        changedFields[n.id] = ch;
        changed++;
      }
    }
    unionNodes.push(n);
  }
  for (const n of before.nodes)
    if (!aNodes.has(n.id)) {
      nodes[n.id] = 'removed';
      removed++;
      unionNodes.push(n);
    }
  const bEdges = new Map(before.edges.map((e) => [e.id, e]));
  const aEdges = new Map(after.edges.map((e) => [e.id, e]));
  const bKeys = new Set(before.edges.map(edgeKey));
  const aKeys = new Set(after.edges.map(edgeKey));
  const unionEdges: GridEdge[] = [];
  for (const e of after.edges) {
    const old = bEdges.get(e.id);
    if (old) edges[e.id] = edgeKey(old) === edgeKey(e) ? 'unchanged' : 'changed';
    else edges[e.id] = bKeys.has(edgeKey(e)) ? 'unchanged' : 'added';
    unionEdges.push(e);
  }
  for (const e of before.edges)
    if (!aEdges.has(e.id) && !aKeys.has(edgeKey(e))) {
      edges[e.id] = 'removed';
      unionEdges.push(e);
    }
  return { nodes, edges, changedFields, union: { nodes: unionNodes, edges: unionEdges }, counts: { added, removed, changed } };
}

const idOf = (x: string | { id: string }) => (typeof x === 'string' ? x : x.id);

/** Overrides the local marks with the server's diff answer (same ids). */
export function marksFromServerDiff(local: DiffResult, server: VersionDiff): DiffResult {
  const nodes = { ...local.nodes };
  const edges = { ...local.edges };
  const changedFields = { ...local.changedFields };
  for (const x of server.nodes.added) nodes[idOf(x)] = 'added';
  for (const x of server.nodes.removed) nodes[idOf(x)] = 'removed';
  for (const c of server.nodes.changed) {
    nodes[c.id] = 'changed';
    const fields = c.fields ?? c.changes;
    if (fields?.length) changedFields[c.id] = fields;
  }
  for (const x of server.edges.added) edges[idOf(x)] = 'added';
  for (const x of server.edges.removed) edges[idOf(x)] = 'removed';
  for (const c of server.edges.changed) edges[c.id] = 'changed';
  const count = (m: DiffMark) => Object.values(nodes).filter((x) => x === m).length;
  return { ...local, nodes, edges, changedFields, counts: { added: count('added'), removed: count('removed'), changed: count('changed') } };
}

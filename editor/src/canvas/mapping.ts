/** Grid document ↔ React Flow nodes/edges (1:1: same ids, positions, handles). */
import type { Edge, Node } from '@xyflow/react';
import type { GridDocument, GridEdge, GridNode } from '@gridflow/runtime/document';

export interface GridNodeData extends Record<string, unknown> {
  name: string;
  type: string;
  typeVersion: number;
  config: Record<string, unknown>;
  disabled?: boolean;
  notes?: string;
}

export type FlowNode = Node<GridNodeData, 'grid'>;
export type FlowEdge = Edge<{ kind: GridEdge['kind'] }>;

export function toFlowNode(n: GridNode, prev?: FlowNode): FlowNode {
  const data: GridNodeData = { name: n.name, type: n.type, typeVersion: n.typeVersion, config: n.config ?? {} };
  if (n.disabled) data.disabled = true;
  if (n.notes) data.notes = n.notes;
  return {
    id: n.id,
    type: 'grid',
    position: { ...n.position },
    data,
    ...(prev?.measured ? { measured: prev.measured } : {}),
    ...(prev?.selected ? { selected: true } : {}),
  };
}

export function toFlowEdge(e: GridEdge, prev?: FlowEdge): FlowEdge {
  return {
    id: e.id,
    source: e.source,
    sourceHandle: e.sourceHandle,
    target: e.target,
    targetHandle: e.targetHandle,
    data: { kind: e.kind },
    ...(prev?.selected ? { selected: true } : {}),
  };
}

export function toFlow(doc: Pick<GridDocument, 'nodes' | 'edges'>, prevNodes: FlowNode[] = [], prevEdges: FlowEdge[] = []): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const pn = new Map(prevNodes.map((n) => [n.id, n]));
  const pe = new Map(prevEdges.map((e) => [e.id, e]));
  return { nodes: doc.nodes.map((n) => toFlowNode(n, pn.get(n.id))), edges: doc.edges.map((e) => toFlowEdge(e, pe.get(e.id))) };
}

export function fromFlowNode(n: FlowNode): GridNode {
  const out: GridNode = {
    id: n.id,
    type: n.data.type,
    typeVersion: n.data.typeVersion,
    name: n.data.name,
    position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    config: n.data.config,
  };
  if (n.data.disabled) out.disabled = true;
  if (n.data.notes) out.notes = n.data.notes;
  return out;
}

export function fromFlowEdge(e: FlowEdge): GridEdge {
  const sourceHandle = e.sourceHandle ?? 'out';
  return {
    id: e.id,
    source: e.source,
    sourceHandle,
    target: e.target,
    targetHandle: e.targetHandle ?? 'in',
    kind: e.data?.kind ?? (sourceHandle === 'error' ? 'error' : 'default'),
  };
}

export function toDocument(nodes: FlowNode[], edges: FlowEdge[], settings: GridDocument['settings']): GridDocument {
  return { schemaVersion: 1, nodes: nodes.map(fromFlowNode), edges: edges.map(fromFlowEdge), settings };
}

/** One-line summary of a node's config for the canvas ("platform: linkedin · text: New post…"). */
export function configSummary(config: Record<string, unknown>, max = 60): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(config)) {
    if (v === null || v === undefined || v === '') continue;
    if (/secret|token|password|code$/i.test(k)) continue;
    let s: string;
    if (typeof v === 'string') s = v.replace(/\s+/g, ' ');
    else if (typeof v === 'number' || typeof v === 'boolean') s = String(v);
    else if (Array.isArray(v)) s = v.length && typeof v[0] !== 'object' ? v.join(', ') : `${v.length} item${v.length === 1 ? '' : 's'}`;
    else continue;
    parts.push(`${k}: ${s}`);
    if (parts.join(' · ').length > max) break;
  }
  const out = parts.join(' · ');
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

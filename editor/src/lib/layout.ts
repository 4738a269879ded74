/** Auto-layout with dagre (left to right), framework-free: positions in, positions out. */
import dagre from '@dagrejs/dagre';

export interface LayoutNode {
  id: string;
  width?: number;
  height?: number;
}
export interface LayoutEdge {
  source: string;
  target: string;
}

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 84;

export function layoutGraph(nodes: LayoutNode[], edges: LayoutEdge[], direction: 'LR' | 'TB' = 'LR'): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: direction, nodesep: 40, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.width ?? NODE_WIDTH, height: n.height ?? NODE_HEIGHT });
  for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  const out = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const p = g.node(n.id);
    if (p) out.set(n.id, { x: Math.round(p.x - (n.width ?? NODE_WIDTH) / 2), y: Math.round(p.y - (n.height ?? NODE_HEIGHT) / 2) });
  }
  return out;
}

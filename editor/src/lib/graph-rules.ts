/**
 * Connection checks the canvas runs while the user drags an edge. The rules themselves live once
 * in `@gridflow/runtime/graph-rules` (ports, triggers, error edges, cycles); this adapter feeds them
 * the node-type metadata from `GET /api/node-types` and adds the editor-only duplicate check.
 */
import { canConnect as canConnectTypes, ERROR_PORT, wouldCreateCycle, registryViewFrom, type RegistryView } from '@gridflow/runtime/graph-rules';
import type { NodeTypeInfo } from '../api/types.js';
import { outputsOf } from './ports.js';

export { ERROR_PORT, wouldCreateCycle };

export interface RuleNode {
  id: string;
  type: string;
  /** The node's config: output ports of some types (branch routes) come from it. */
  config?: unknown;
}
export interface RuleEdge {
  id?: string;
  source: string;
  sourceHandle?: string | null;
  target: string;
  targetHandle?: string | null;
}
export interface ConnectionCheck {
  ok: boolean;
  reason?: string;
  kind?: 'default' | 'error';
}

const views = new WeakMap<object, RegistryView>();

export function canConnect(
  nodes: RuleNode[],
  edges: RuleEdge[],
  conn: RuleEdge,
  typeOf: (type: string) => NodeTypeInfo | undefined,
): ConnectionCheck {
  const src = nodes.find((n) => n.id === conn.source);
  const tgt = nodes.find((n) => n.id === conn.target);
  if (!src || !tgt) return { ok: false, reason: 'Both ends must be nodes on this grid' };
  if (src.id === tgt.id) return { ok: false, reason: 'A node cannot connect to itself' };
  let registry = views.get(typeOf);
  if (!registry) {
    registry = { get: (t: string) => typeOf(t) };
    views.set(typeOf, registry);
  }
  // Per-node view: the source's output ports are the ones its current config defines.
  const srcType = typeOf(src.type);
  if (srcType?.dynamicOutputs) {
    const base = registry;
    const view = { ...srcType, outputs: outputsOf(srcType, src.config) };
    registry = { get: (t: string) => (t === src.type ? view : base.get(t)) };
  }
  const check = canConnectTypes(src.type, conn.sourceHandle, tgt.type, conn.targetHandle, registry);
  if (!check.ok) return { ok: false, reason: check.reason };
  const sh = conn.sourceHandle ?? 'out';
  const th = conn.targetHandle ?? 'in';
  if (edges.some((e) => e.source === conn.source && (e.sourceHandle ?? 'out') === sh && e.target === conn.target && (e.targetHandle ?? 'in') === th))
    return { ok: false, reason: 'These ports are already connected' };
  const plain = edges.map((e) => ({ source: e.source, target: e.target }));
  if (wouldCreateCycle(plain, conn.source, conn.target)) return { ok: false, reason: 'This connection would create a loop' };
  return { ok: true, kind: check.kind };
}

export { registryViewFrom };

/** Ids of nodes upstream of `nodeId` (its ancestors), nearest first. */
export function upstreamNodes(edges: RuleEdge[], nodeId: string): string[] {
  const inc = new Map<string, string[]>();
  for (const e of edges) {
    const l = inc.get(e.target);
    if (l) l.push(e.source);
    else inc.set(e.target, [e.source]);
  }
  const order: string[] = [];
  const seen = new Set<string>([nodeId]);
  let frontier = [nodeId];
  while (frontier.length) {
    const next: string[] = [];
    for (const n of frontier)
      for (const p of inc.get(n) ?? [])
        if (!seen.has(p)) {
          seen.add(p);
          order.push(p);
          next.push(p);
        }
    frontier = next;
  }
  return order;
}

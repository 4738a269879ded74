/**
 * Estimated size and handle positions of a canvas node before the browser has measured it (see
 * grid-node.tsx and the `.gnode` styles: 220 px wide, 73 px of header and summary, then 20 px per
 * port row; 10 px handles). React Flow renders every node that has no handle bounds yet, even with
 * `onlyRenderVisibleElements`; nodes handed over with these estimates are culled from the first
 * render, and the estimates are dropped as soon as React Flow measures a node (`dropEstimates`).
 */
import type { NodeChange } from '@xyflow/react';
import { Position } from '@xyflow/react';
import type { NodeTypeInfo } from '../api/types.js';
import { ERROR_PORT } from '../lib/graph-rules.js';
import { outputsOf } from '../lib/ports.js';
import type { FlowNode } from './mapping.js';

const WIDTH = 220;
const HEAD = 73;
const ROW = 20;
const HANDLE_TOP = 67;

/** Height of a node body with `rows` port rows (no problems list): header, summary, ports. */
export function estimatedNodeHeight(rows: number): number {
  return HEAD + rows * ROW;
}

export function withEstimatedGeometry(n: FlowNode, t: NodeTypeInfo | undefined): FlowNode {
  if (n.measured?.width) return n;
  const inputs = t ? t.inputs : [{ name: 'in', label: 'in' }];
  const outputs = t ? outputsOf(t, n.data.config) : [{ name: 'out', label: 'out' }];
  const hasError = t ? !t.isTrigger : true;
  const rows = Math.max(inputs.length, outputs.length + (hasError ? 1 : 0), 1);
  const handles = [
    ...inputs.map((p, i) => ({ id: p.name, type: 'target' as const, position: Position.Left, x: -4, y: HANDLE_TOP + i * ROW, width: 10, height: 10 })),
    ...outputs.map((p, i) => ({ id: p.name, type: 'source' as const, position: Position.Right, x: WIDTH - 6, y: HANDLE_TOP + i * ROW, width: 10, height: 10 })),
    ...(hasError ? [{ id: ERROR_PORT, type: 'source' as const, position: Position.Right, x: WIDTH - 6, y: HANDLE_TOP + outputs.length * ROW, width: 10, height: 10 }] : []),
  ];
  return { ...n, initialWidth: WIDTH, initialHeight: estimatedNodeHeight(rows), handles };
}

/** After React Flow measured nodes: forget their estimated handles so the measured ones are used. */
export function dropEstimates(nodes: FlowNode[], changes: NodeChange<FlowNode>[]): FlowNode[] {
  const measured = new Set<string>();
  for (const c of changes) if (c.type === 'dimensions' && c.dimensions) measured.add(c.id);
  if (measured.size === 0) return nodes;
  let changed = false;
  const out = nodes.map((n) => {
    if (!n.handles || !measured.has(n.id)) return n;
    changed = true;
    const { handles: _h, initialWidth: _w, initialHeight: _hh, ...rest } = n;
    return rest as FlowNode;
  });
  return changed ? out : nodes;
}

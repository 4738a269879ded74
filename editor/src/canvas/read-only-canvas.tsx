/** A read-only canvas for template previews and version diffs (same node component, no editing). */
import { useEffect, useMemo, useState } from 'react';
import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider } from '@xyflow/react';
import type { GridDocument } from '@gridflow/runtime/document';
import { reportFlowError, nodeTypes } from './grid-node.js';
import { OverlayContext, OverlayStore, type NodeOverlay } from './overlay-store.js';
import { toFlow, type FlowNode } from './mapping.js';
import { edgeClass } from './edge-style.js';
import { LevelOfDetail } from './lod.js';
import { LARGE_GRID } from './grid-canvas.js';

export function ReadOnlyCanvas({
  document,
  overlays,
  edgeMarks,
  onNodeClick,
  testId,
  minimap = true,
}: {
  document: Pick<GridDocument, 'nodes' | 'edges'>;
  overlays?: Map<string, NodeOverlay>;
  edgeMarks?: Record<string, string>;
  onNodeClick?: (id: string) => void;
  testId?: string;
  minimap?: boolean;
}) {
  const store = useMemo(() => new OverlayStore(), []);
  useEffect(() => store.setAll(overlays ?? new Map()), [store, overlays]);
  const flow = useMemo(() => toFlow(document), [document]);
  const [nodes, setNodes] = useState<FlowNode[]>(flow.nodes);
  useEffect(() => setNodes(flow.nodes), [flow.nodes]);
  const edges = useMemo(
    () =>
      flow.edges.map((e) => {
        const mark = edgeMarks?.[e.id];
        return { ...e, className: [edgeClass(e), mark ? `edge-diff-${mark}` : ''].join(' '), selectable: false, focusable: false };
      }),
    [flow.edges, edgeMarks],
  );
  return (
    <div className="ro-canvas" data-testid={testId ?? 'readonly-canvas'}>
      <OverlayContext.Provider value={store}>
        <ReactFlowProvider>
          <LevelOfDetail enabled={nodes.length > LARGE_GRID}>
            <ReactFlow
              nodes={nodes}
              edges={edges}
              nodeTypes={nodeTypes}
              onError={reportFlowError}
              onNodesChange={(changes) =>
                setNodes((ns) => {
                  // keep measurements (dimensions) so nodes become visible; ignore moves
                  const dims = new Map(changes.filter((c) => c.type === 'dimensions').map((c) => [c.id, c]));
                  if (dims.size === 0) return ns;
                  return ns.map((n) => {
                    const c = dims.get(n.id);
                    return c && c.type === 'dimensions' && c.dimensions ? { ...n, measured: c.dimensions } : n;
                  });
                })
              }
              nodesDraggable={false}
              nodesConnectable={false}
              elementsSelectable={!!onNodeClick}
              onNodeClick={onNodeClick ? (_, n) => onNodeClick(n.id) : undefined}
              fitView
              minZoom={0.1}
              proOptions={{ hideAttribution: true }}
            >
              <Background gap={16} />
              <Controls showInteractive={false} />
              {minimap && <MiniMap pannable zoomable />}
            </ReactFlow>
          </LevelOfDetail>
        </ReactFlowProvider>
      </OverlayContext.Provider>
    </div>
  );
}

/**
 * The editing canvas: React Flow with the grid node type, background, zoom controls and minimap,
 * plus the large-grid rendering policy. The editor screen renders it, and so does the canvas bench
 * page (bench.html), so what `npm run bench` measures is what users get.
 *
 * Large grids (over LARGE_GRID nodes): open at a readable zoom on the top-left corner (not fitted),
 * with React Flow's visible-only rendering while the nodes are detailed. Zoomed out below LOD_ZOOM
 * every node is mounted once, as its cheap body (lod.ts): zooming and panning further out then
 * changes one CSS transform instead of mounting newly revealed nodes on every frame.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import {
  Background,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  useStore,
  useStoreApi,
  type ReactFlowProps,
} from '@xyflow/react';
import { nodeTypes, reportFlowError } from './grid-node.js';
import { LevelOfDetail, lowDetailSelector } from './lod.js';
import type { FlowEdge, FlowNode } from './mapping.js';

/** Above this many nodes a grid is "large" (see the policy above). */
export const LARGE_GRID = 300;

/** How to cull off-screen nodes: `auto` (the policy above), always, or never (bench comparisons). */
export type CullMode = 'auto' | 'always' | 'never';

export function initialViewportFor(nodes: { position: { x: number; y: number } }[]) {
  if (nodes.length <= LARGE_GRID) return { x: 40, y: 40, zoom: 1 };
  let minX = Infinity;
  let minY = Infinity;
  for (const n of nodes) {
    minX = Math.min(minX, n.position.x);
    minY = Math.min(minY, n.position.y);
  }
  return { x: 40 - minX * 0.8, y: 40 - minY * 0.8, zoom: 0.8 };
}

export type GridCanvasProps = Omit<
  ReactFlowProps<FlowNode, FlowEdge>,
  'nodeTypes' | 'onError' | 'onlyRenderVisibleElements' | 'children'
> & {
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** Shows the "?" button in the zoom controls. */
  onHelp?: () => void;
  minimap?: boolean;
  cull?: CullMode;
  children?: ReactNode;
};

export function GridCanvas({
  nodes,
  edges,
  onHelp,
  minimap = true,
  cull = 'auto',
  children,
  ...rest
}: GridCanvasProps) {
  const large = nodes.length > LARGE_GRID;
  const lowDetail = useStore(lowDetailSelector);
  const visibleOnly = cull === 'always' || (cull === 'auto' && large && !lowDetail);
  useRemeasureOnDetail(lowDetail);
  return (
    <LevelOfDetail>
      <ReactFlow<FlowNode, FlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onError={reportFlowError}
        onlyRenderVisibleElements={visibleOnly}
        minZoom={0.05}
        maxZoom={2}
        defaultEdgeOptions={{ type: 'default' }}
        proOptions={{ hideAttribution: true }}
        aria-label="Grid canvas"
        {...rest}
      >
        <Background gap={20} />
        <Controls showInteractive={false} aria-label="Zoom controls">
          {onHelp && (
            <ControlButton
              onClick={onHelp}
              title="Keyboard shortcuts"
              aria-label="Keyboard shortcuts"
            >
              ?
            </ControlButton>
          )}
        </Controls>
        {minimap && <MiniMap pannable zoomable ariaLabel="Mini map" />}
        {children}
      </ReactFlow>
    </LevelOfDetail>
  );
}

/**
 * Nodes first mounted zoomed out measured their handles on the cheap body's placeholders, which sit
 * where the real handles go unless a problems list grows the node. When the detailed bodies come
 * back, measure the rendered nodes once, in one batch, so edges attach to the real handles.
 */
function useRemeasureOnDetail(lowDetail: boolean) {
  const store = useStoreApi();
  const wasLow = useRef(lowDetail);
  useEffect(() => {
    const was = wasLow.current;
    wasLow.current = lowDetail;
    if (!was || lowDetail) return;
    // After React Flow has committed the visible-only node list (one frame later).
    const raf = requestAnimationFrame(() => {
      const { domNode, updateNodeInternals } = store.getState();
      const updates = new Map<
        string,
        { id: string; nodeElement: HTMLDivElement; force: boolean }
      >();
      for (const el of domNode?.querySelectorAll<HTMLDivElement>('.react-flow__node[data-id]') ??
        []) {
        const id = el.getAttribute('data-id')!;
        updates.set(id, { id, nodeElement: el, force: true });
      }
      if (updates.size) updateNodeInternals(updates, { triggerFitView: false });
    });
    return () => cancelAnimationFrame(raf);
  }, [lowDetail, store]);
}

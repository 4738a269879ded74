/**
 * The editing canvas: React Flow with the grid node type, background, zoom controls and minimap,
 * plus the large-grid rendering policy. The editor screen renders it, and so does the canvas bench
 * page (bench.html), so what `npm run bench` measures is what users get.
 *
 * Large grids (over LARGE_GRID nodes): open at a readable zoom on the top-left corner (not fitted),
 * with React Flow's visible-only rendering. Zoomed out below LOD_ZOOM, React Flow gets the nodes
 * hidden (it mounts none and keeps their measurements) and the overview layer (overview.tsx) draws
 * the whole grid on one <canvas>: a zoom frame then costs one canvas redraw instead of React Flow
 * updating 1,000 mounted nodes. While a zoom gesture goes on above LOD_ZOOM (or comes back from
 * below it), React Flow's mounted nodes stay as they are and the overview layer draws the others;
 * once the zoom settles, the nodes on screen are mounted a few per frame.
 */
import { useCallback, useEffect, useRef, type ReactNode } from 'react';
import {
  Background,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  getViewportForBounds,
  useReactFlow,
  useStore,
  useStoreApi,
  type ReactFlowProps,
} from '@xyflow/react';
import { nodeTypes, reportFlowError } from './grid-node.js';
import { LevelOfDetail, lowDetailSelector } from './lod.js';
import {
  OverviewLayer,
  OverviewMiniMap,
  useOverviewElements,
  useOverviewPointer,
} from './overview.js';
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
  /**
   * Level of detail below LOD_ZOOM; default: large grids only. Large grids switch to the canvas
   * overview (overview.tsx), smaller ones that opt in draw cheap node bodies (lod.tsx).
   */
  levelOfDetail?: boolean;
  children?: ReactNode;
};

/**
 * Fits every node, measured or not. React Flow's fitView waits until *every* node has been measured
 * (and then fits only measured ones), so on a large grid, where off-screen nodes are never rendered,
 * it would not move at all; estimated sizes stand in for the unmeasured nodes here.
 */
export function useFitAll() {
  const store = useStoreApi<FlowNode, FlowEdge>();
  const rf = useReactFlow<FlowNode, FlowEdge>();
  return useCallback(
    (opts: { padding?: number; duration?: number } = {}) => {
      const { nodes, width, height, minZoom, maxZoom } = store.getState();
      if (nodes.length === 0 || !width || !height) return;
      const bounds = rf.getNodesBounds(nodes);
      void rf.setViewport(
        getViewportForBounds(bounds, width, height, minZoom, maxZoom, opts.padding ?? 0.1),
        { duration: opts.duration },
      );
    },
    [store, rf],
  );
}

function FitViewIcon() {
  return (
    <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 30" aria-hidden>
      <path d="M3.692 4.63c0-.53.4-.938.939-.938h5.215V0H4.708C2.13 0 0 2.054 0 4.63v5.216h3.692V4.631zM27.354 0h-5.2v3.692h5.17c.53 0 .984.4.984.939v5.215H32V4.631A4.624 4.624 0 0027.354 0zm.954 24.83c0 .532-.4.94-.939.94h-5.215v3.768h5.215c2.577 0 4.631-2.13 4.631-4.707v-5.139h-3.692v5.139zm-23.677.94c-.531 0-.939-.4-.939-.94v-5.138H0v5.139c0 2.577 2.13 4.707 4.708 4.707h5.138V25.77H4.631z" />
    </svg>
  );
}

export function GridCanvas({
  nodes,
  edges,
  onHelp,
  minimap = true,
  cull = 'auto',
  levelOfDetail,
  children,
  onPaneClick,
  ...rest
}: GridCanvasProps) {
  const large = nodes.length > LARGE_GRID;
  const lod = levelOfDetail ?? large;
  const lowDetail = useStore(lowDetailSelector) && lod;
  const { mode, flowNodes, flowEdges } = useOverviewElements(large && lod, nodes, edges);
  const overview = mode.kind === 'overview';
  // While React Flow holds hidden nodes it must cull: hidden nodes mount no component then.
  const visibleOnly =
    mode.kind !== 'detail' || cull === 'always' || (cull === 'auto' && large && !lowDetail);
  useRemeasureOnDetail(lowDetail && !large);
  useBackgroundHiddenWhileZooming(large);
  const fitAll = useFitAll();
  const overviewClick = useOverviewPointer(nodes, overview);
  const paneClick = useCallback<NonNullable<GridCanvasProps['onPaneClick']>>(
    (e) => {
      if (!overviewClick(e)) onPaneClick?.(e);
    },
    [overviewClick, onPaneClick],
  );
  return (
    <LevelOfDetail enabled={lod && !large}>
      <ReactFlow<FlowNode, FlowEdge>
        nodes={flowNodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
        onError={reportFlowError}
        onlyRenderVisibleElements={visibleOnly}
        minZoom={0.05}
        maxZoom={2}
        defaultEdgeOptions={{ type: 'default' }}
        proOptions={{ hideAttribution: true }}
        aria-label="Grid canvas"
        onPaneClick={paneClick}
        data-overview={overview ? 'on' : 'off'}
        {...rest}
      >
        <Background gap={20} />
        {mode.kind !== 'detail' && (
          <OverviewLayer
            nodes={nodes}
            edges={edges}
            revealed={mode.kind === 'revealing' ? mode.revealed : undefined}
          />
        )}
        <Controls showInteractive={false} showFitView={false} aria-label="Zoom controls">
          <ControlButton
            className="react-flow__controls-fitview"
            onClick={() => fitAll()}
            title="Fit view"
            aria-label="Fit view"
          >
            <FitViewIcon />
          </ControlButton>
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
        {/* Large grids: a canvas minimap (React Flow's draws one SVG node, with a store subscription, per node, and none that is hidden) */}
        {minimap &&
          (large ? (
            <OverviewMiniMap nodes={nodes} />
          ) : (
            <MiniMap pannable zoomable ariaLabel="Mini map" />
          ))}
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

/**
 * Large grids: the dotted background is hidden while the zoom changes (it is repainted over the
 * whole pane at every new scale, a large share of a zoom frame without a GPU) and back 150 ms
 * after the zoom stops. An attribute on React Flow's root, set outside React: no re-render.
 */
function useBackgroundHiddenWhileZooming(enabled: boolean) {
  const store = useStoreApi();
  useEffect(() => {
    if (!enabled) return;
    let last = store.getState().transform[2];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = store.subscribe((s) => {
      const zoom = s.transform[2];
      if (zoom === last) return;
      last = zoom;
      const el = s.domNode;
      if (!el) return;
      if (!timer) el.setAttribute('data-zooming', '');
      clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        el.removeAttribute('data-zooming');
      }, 150);
    });
    return () => {
      unsubscribe();
      clearTimeout(timer);
      store.getState().domNode?.removeAttribute('data-zooming');
    };
  }, [enabled, store]);
}

/**
 * Canvas bench page (bench.html): the editor's canvas component (`GridCanvas`: node types, large-grid
 * policy, level of detail, background, zoom controls, minimap) driven by the editor's own editing
 * state (`useGridEditor`) with a generated 1,000-node / 1,200-edge grid; reports timings on
 * `window.__bench`. Node types are a small fixed catalogue so the page runs without a server.
 */
import { StrictMode, useCallback, useEffect, useMemo } from 'react';
import { createRoot } from 'react-dom/client';
import { ReactFlowProvider, type ReactFlowInstance } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { NodeTypesProvider } from './session.js';
import { GridCanvas, LARGE_GRID, initialViewportFor, type CullMode } from './canvas/grid-canvas.js';
import { OverlayContext, OverlayStore } from './canvas/overlay-store.js';
import { useGridEditor } from './canvas/use-grid-editor.js';
import { edgeClass } from './canvas/edge-style.js';
import type { FlowEdge, FlowNode } from './canvas/mapping.js';
import { benchGrid, BENCH_NODE_TYPES } from './bench-grid.js';

declare global {
  interface Window {
    __bench?: { start: number; firstRender?: number; nodes: number; edges: number };
    __rf?: ReactFlowInstance<FlowNode, FlowEdge>;
  }
}

const params = new URLSearchParams(location.search);
const N = Number(params.get('nodes') ?? 1000);
const E = Number(params.get('edges') ?? 1200);
/** cull=auto (the editor's policy) | always | never: compare rendering strategies. */
const CULL = (params.get('cull') ?? 'auto') as CullMode;
const MINIMAP = params.get('minimap') !== '0';
const start = performance.now();
window.__bench = { start, nodes: N, edges: E };

const byType = new Map(BENCH_NODE_TYPES.map((t) => [t.type, t]));
const typeOf = (t: string) => byType.get(t);

function Bench() {
  const doc = useMemo(() => benchGrid(N, E), []);
  const editor = useGridEditor(doc, { typeOf });
  const edges = useMemo(() => editor.edges.map((e) => ({ ...e, className: edgeClass(e) })), [editor.edges]);
  const viewport = useMemo(() => initialViewportFor(doc.nodes), [doc]);
  const store = useMemo(() => new OverlayStore(), []);
  const onInit = useCallback((rf: ReactFlowInstance<FlowNode, FlowEdge>) => {
    window.__rf = rf;
  }, []);
  useEffect(() => {
    // first frame with a node on screen
    let raf = 0;
    const check = () => {
      if (document.querySelector('.react-flow__node[style*="visibility: visible"]')) {
        window.__bench!.firstRender = performance.now() - start;
        document.body.dataset.ready = '1';
        return;
      }
      raf = requestAnimationFrame(check);
    };
    raf = requestAnimationFrame(check);
    return () => cancelAnimationFrame(raf);
  }, []);
  return (
    <OverlayContext.Provider value={store}>
      <GridCanvas
        nodes={editor.nodes}
        edges={edges}
        onNodesChange={editor.onNodesChange}
        onEdgesChange={editor.onEdgesChange}
        defaultViewport={viewport}
        fitView={doc.nodes.length > 0 && doc.nodes.length <= LARGE_GRID}
        fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
        snapToGrid
        snapGrid={[20, 20]}
        onInit={onInit}
        onHelp={() => {}}
        minimap={MINIMAP}
        cull={CULL}
      />
    </OverlayContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <NodeTypesProvider initial={BENCH_NODE_TYPES}>
      <ReactFlowProvider>
        <Bench />
      </ReactFlowProvider>
    </NodeTypesProvider>
  </StrictMode>,
);

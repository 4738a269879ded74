/**
 * Canvas bench page (bench.html): renders the real canvas node component with a generated
 * 1,000-node / 1,200-edge grid and reports timings on `window.__bench`. Node types are a small
 * fixed catalogue so the page runs without a server.
 */
import { StrictMode, useEffect, useMemo } from 'react';
import { createRoot } from 'react-dom/client';
import { Background, MiniMap, ReactFlow, ReactFlowProvider, applyNodeChanges, type NodeChange } from '@xyflow/react';
import { useCallback, useState } from 'react';
import { dropEstimates, withEstimatedGeometry } from './canvas/node-geometry.js';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { NodeTypesProvider } from './session.js';
import { nodeTypes } from './canvas/grid-node.js';
import { OverlayContext, OverlayStore } from './canvas/overlay-store.js';
import { toFlow, type FlowEdge, type FlowNode } from './canvas/mapping.js';
import { benchGrid, BENCH_NODE_TYPES } from './bench-grid.js';

declare global {
  interface Window {
    __bench?: { start: number; firstRender?: number; nodes: number; edges: number };
  }
}

const params = new URLSearchParams(location.search);
const N = Number(params.get('nodes') ?? 1000);
const E = Number(params.get('edges') ?? 1200);
/** fit=1: fit the whole grid on open (every node rendered); default: the editor's large-grid view. */
const FIT = params.get('fit') === '1';
/** visible=0: render every node (no onlyRenderVisibleElements) to compare both strategies. */
const VISIBLE_ONLY = params.get('visible') !== '0';
const MINIMAP = params.get('minimap') !== '0';
const DEFER = params.get('defer') !== '0';
/** estimate=0: hand nodes over without estimated size/handles (React Flow then renders all of them once). */
const ESTIMATE = params.get('estimate') !== '0';
const start = performance.now();
window.__bench = { start, nodes: N, edges: E };

function Bench() {
  const flow = useMemo(() => {
    const f = toFlow(benchGrid(N, E));
    if (!ESTIMATE) return f;
    const byType = new Map(BENCH_NODE_TYPES.map((t) => [t.type, t]));
    return { ...f, nodes: f.nodes.map((n) => withEstimatedGeometry(n, byType.get(n.data.type))) };
  }, []);
  // Nodes are handed to React Flow one frame after it mounted: the pane then has its size, so
  // onlyRenderVisibleElements culls before the first node render (else all nodes mount, then most unmount).
  const [nodes, setNodes] = useState<FlowNode[]>(DEFER ? [] : flow.nodes);
  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => setNodes((ns) => dropEstimates(applyNodeChanges(changes, ns), changes)), []);
  useEffect(() => {
    if (!DEFER) return;
    const raf = requestAnimationFrame(() => setNodes(flow.nodes));
    return () => cancelAnimationFrame(raf);
  }, [flow.nodes, setNodes]);
  const edges: FlowEdge[] = nodes.length ? flow.edges : [];
  const store = useMemo(() => new OverlayStore(), []);
  useEffect(() => {
    // first frame after mount with nodes measured
    let raf = 0;
    const check = () => {
      const rendered = document.querySelectorAll('.react-flow__node').length;
      if (rendered > 0 && document.querySelector('.react-flow__node[style*="visibility: visible"], .react-flow__node:not([style*="hidden"])')) {
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
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onlyRenderVisibleElements={VISIBLE_ONLY}
        fitView={FIT}
        defaultViewport={{ x: 40, y: 40, zoom: 0.8 }}
        minZoom={0.02}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={20} />
        {MINIMAP && <MiniMap />}
      </ReactFlow>
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

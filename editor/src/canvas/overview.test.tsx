/**
 * The zoomed-out overview of large grids (overview.tsx), through the editor's canvas component:
 * below LOD_ZOOM the overview canvas is shown and React Flow mounts no node or edge element; a click
 * where a node is drawn selects that node (through onNodesChange, like a click on a node); zoomed
 * back in, once the zoom has settled, the visible nodes are React Flow nodes again, the selection kept.
 */
import { describe, expect, it } from 'vitest';
import { act, fireEvent, render, waitFor } from '@testing-library/react';
import { useCallback, useState } from 'react';
import {
  ReactFlowProvider,
  applyNodeChanges,
  useReactFlow,
  type NodeChange,
  type Viewport,
} from '@xyflow/react';
import { NodeTypesProvider } from '../session.js';
import { BENCH_NODE_TYPES, benchGrid } from '../bench-grid.js';
import { GridCanvas, LARGE_GRID } from './grid-canvas.js';
import { LOD_ZOOM } from './lod.js';
import { toFlow, type FlowNode } from './mapping.js';
import { withEstimatedGeometry } from './node-geometry.js';
import { hitTest, nodeBox } from './overview.js';

globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;
(globalThis as { DOMMatrixReadOnly?: unknown }).DOMMatrixReadOnly ??= class {
  m22 = 1;
};
// jsdom has no 2D canvas; the layer draws nothing then (what it draws is checked in the browser).
HTMLCanvasElement.prototype.getContext = (() => null) as unknown as HTMLCanvasElement['getContext'];

const doc = benchGrid(LARGE_GRID + 100, 450);
const byType = new Map(BENCH_NODE_TYPES.map((t) => [t.type, t]));
const flow = toFlow(doc);
const initialNodes = flow.nodes.map((n) => withEstimatedGeometry(n, byType.get(n.data.type)));

let setViewport: (v: Viewport) => void = () => {};
let current: FlowNode[] = [];
function Harness({ zoom }: { zoom: number }) {
  const rf = useReactFlow();
  setViewport = (v) => void rf.setViewport(v);
  const [nodes, setNodes] = useState(initialNodes);
  current = nodes;
  const onNodesChange = useCallback(
    (c: NodeChange<FlowNode>[]) => setNodes((ns) => applyNodeChanges(c, ns)),
    [],
  );
  return (
    <GridCanvas
      nodes={nodes}
      edges={flow.edges}
      onNodesChange={onNodesChange}
      defaultViewport={{ x: 0, y: 0, zoom }}
    />
  );
}

function renderCanvas(zoom: number) {
  return render(
    <div style={{ width: 800, height: 600 }}>
      <NodeTypesProvider initial={BENCH_NODE_TYPES}>
        <ReactFlowProvider>
          <Harness zoom={zoom} />
        </ReactFlowProvider>
      </NodeTypesProvider>
    </div>,
  );
}

describe('overview of a large grid', () => {
  it('hit-tests flow points against node boxes, topmost first', () => {
    const n30 = initialNodes.find((n) => n.id === 'n30')!;
    const b = nodeBox(n30);
    expect(hitTest(initialNodes, { x: b.x + 5, y: b.y + 5 })?.id).toBe('n30');
    expect(hitTest(initialNodes, { x: b.x - 20, y: b.y + 5 })).toBeUndefined();
  });

  it(`below ${LOD_ZOOM * 100}% draws the canvas overview instead of node elements; a click selects the node there; zoomed in, nodes are back`, async () => {
    const { container } = renderCanvas(0.2);
    expect(container.querySelector('[data-testid="grid-overview"]')).not.toBeNull();
    expect(container.querySelector('.react-flow__node')).toBeNull();
    expect(container.querySelector('.react-flow__edge')).toBeNull();
    // the minimap is the overview's (React Flow's draws no hidden node)
    expect(container.querySelector('[data-testid="rf__minimap"] canvas')).not.toBeNull();

    // n30 is in the second layer (x 300, y 650); the pane sits at the page's origin in jsdom.
    const pane = container.querySelector('.react-flow__pane')!;
    await act(async () => {
      fireEvent.click(pane, { clientX: (300 + 100) * 0.2, clientY: (650 + 40) * 0.2 });
    });
    expect(current.filter((n) => n.selected).map((n) => n.id)).toEqual(['n30']);

    // a click on empty pane clears the selection, as on the normal canvas
    await act(async () => {
      fireEvent.click(pane, { clientX: 290 * 0.2, clientY: 640 * 0.2 });
    });
    expect(current.filter((n) => n.selected)).toEqual([]);
    await act(async () => {
      fireEvent.click(pane, { clientX: (300 + 100) * 0.2, clientY: (650 + 40) * 0.2 });
    });

    // zoom back in around n30: the overview stays until the zoom has settled, then the nodes on
    // screen are mounted as React Flow nodes (a few per frame) and the overview goes away
    act(() => setViewport({ x: -200, y: -550, zoom: 1 }));
    expect(container.querySelector('[data-testid="grid-overview"]')).not.toBeNull();
    expect(container.querySelector('.react-flow__node')).toBeNull();
    await waitFor(
      () => expect(container.querySelector('[data-testid="grid-overview"]')).toBeNull(),
      { timeout: 3000 },
    );
    const rendered = container.querySelectorAll('.react-flow__node');
    expect(rendered.length).toBeGreaterThan(0);
    expect(rendered.length).toBeLessThan(40);
    const n30 = container.querySelector('.react-flow__node[data-id="n30"]')!;
    expect(n30.classList.contains('selected')).toBe(true);
    expect(n30.querySelector('[data-testid="grid-node"]')?.getAttribute('data-lod')).toBe('full');
    expect(container.querySelector('.react-flow__edge')).not.toBeNull();
  });

  it('hides the dotted background while the zoom changes, and shows it again once the zoom stops', async () => {
    const { container } = renderCanvas(0.8);
    const root = container.querySelector('.react-flow')!;
    expect(root.hasAttribute('data-zooming')).toBe(false);
    await act(async () => setViewport({ x: 0, y: 0, zoom: 1.2 }));
    expect(root.hasAttribute('data-zooming')).toBe(true);
    // a pan (same zoom) does not count as zooming
    await waitFor(() => expect(root.hasAttribute('data-zooming')).toBe(false), { timeout: 2000 });
    await act(async () => setViewport({ x: 50, y: 20, zoom: 1.2 }));
    expect(root.hasAttribute('data-zooming')).toBe(false);
  });
});

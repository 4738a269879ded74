/**
 * Level of detail (lod.tsx): through the editor's canvas component, a node drawn at a normal zoom
 * shows its name, type, summary, port labels and handles; zoomed out below LOD_ZOOM it draws the
 * cheap body (name only, no handles, labels or badges), and comes back when zoomed in again.
 */
import { describe, expect, it } from 'vitest';
import { act, render } from '@testing-library/react';
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import type { NodeTypeInfo } from '../api/types.js';
import { NodeTypesProvider } from '../session.js';
import { GridCanvas } from './grid-canvas.js';
import { LOD_ZOOM } from './lod.js';
import { OverlayContext, OverlayStore } from './overlay-store.js';
import type { FlowNode } from './mapping.js';

// jsdom has no ResizeObserver (React Flow measures nodes with it); nothing is measured here.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;
// ... nor DOMMatrixReadOnly (read by React Flow's updateNodeInternals for the zoom factor m22).
(globalThis as { DOMMatrixReadOnly?: unknown }).DOMMatrixReadOnly ??= class {
  m22 = 1;
};

const obj = { type: 'object', properties: {} };
const types: NodeTypeInfo[] = [
  {
    type: 'brand-guard', version: 1, label: 'Brand guard', description: '', icon: '🛡️', category: 'content', isTrigger: false,
    inputs: [{ name: 'in', label: 'in' }], outputs: [{ name: 'pass', label: 'pass' }, { name: 'fail', label: 'fail' }], configSchema: obj,
  },
];
const nodes: FlowNode[] = [
  { id: 'g1', type: 'grid', position: { x: 0, y: 0 }, data: { name: 'Check tone', type: 'brand-guard', typeVersion: 1, config: { profile: 'acme' } } },
];

let zoomTo: (zoom: number) => void = () => {};
function ZoomHandle() {
  const rf = useReactFlow();
  zoomTo = (zoom) => void rf.setViewport({ x: 0, y: 0, zoom });
  return null;
}

function renderCanvas(zoom: number) {
  return render(
    <div style={{ width: 800, height: 600 }}>
      <NodeTypesProvider initial={types}>
        <OverlayContext.Provider value={new OverlayStore()}>
          <ReactFlowProvider>
            <ZoomHandle />
            <GridCanvas nodes={nodes} edges={[]} defaultViewport={{ x: 0, y: 0, zoom }} minimap={false} levelOfDetail />
          </ReactFlowProvider>
        </OverlayContext.Provider>
      </NodeTypesProvider>
    </div>,
  );
}

describe('canvas level of detail', () => {
  it('draws the full node at a normal zoom: name, type, summary, port labels and handles', () => {
    const { container } = renderCanvas(1);
    const node = container.querySelector('[data-testid="grid-node"]')!;
    expect(node.getAttribute('data-lod')).toBe('full');
    expect(node.querySelector('[data-testid="node-name"]')?.textContent).toBe('Check tone');
    expect(node.querySelector('.gnode-type')?.textContent).toBe('Brand guard');
    expect(node.querySelector('[data-testid="node-summary"]')?.textContent).toContain('profile: acme');
    expect([...node.querySelectorAll('.port-label')].map((l) => l.textContent)).toEqual(['pass', 'fail', 'on error']);
    expect(node.querySelector('[data-testid="port-out-pass"]')).not.toBeNull();
  });

  it(`draws the cheap body below ${LOD_ZOOM * 100}% zoom and the full node again when zoomed back in`, () => {
    const { container } = renderCanvas(0.2);
    let node = container.querySelector('[data-testid="grid-node"]')!;
    expect(node.getAttribute('data-lod')).toBe('low');
    expect(node.getAttribute('aria-label')).toBe('Brand guard node Check tone');
    expect(node.querySelector('.gnode-lod-name')?.textContent).toBe('Check tone');
    // no labels, badges, summary or real (interactive) handles
    expect(node.querySelector('.port-label, [data-testid="node-summary"], [data-testid="node-status"], [data-testid^="port-"]')).toBeNull();
    // invisible placeholders keep every handle measurable at the same place
    expect([...node.querySelectorAll('.gnode-ghost')].map((h) => h.getAttribute('data-handleid'))).toEqual(['in', 'pass', 'fail', 'error']);

    act(() => zoomTo(1));
    node = container.querySelector('[data-testid="grid-node"]')!;
    expect(node.getAttribute('data-lod')).toBe('full');
    expect(node.querySelector('[data-testid="port-out-fail"]')).not.toBeNull();
  });

  it('keeps small grids detailed at any zoom (the default below LARGE_GRID nodes)', () => {
    const { container } = render(
      <NodeTypesProvider initial={types}>
        <ReactFlowProvider>
          <GridCanvas nodes={nodes} edges={[]} defaultViewport={{ x: 0, y: 0, zoom: 0.2 }} minimap={false} />
        </ReactFlowProvider>
      </NodeTypesProvider>,
    );
    expect(container.querySelector('[data-testid="grid-node"]')?.getAttribute('data-lod')).toBe('full');
  });
});

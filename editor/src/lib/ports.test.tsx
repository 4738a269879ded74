import { describe, expect, it } from 'vitest';
import { render, act } from '@testing-library/react';
import { ReactFlow, ReactFlowProvider } from '@xyflow/react';
import type { NodeTypeInfo } from '../api/types.js';
import { outputsOf } from './ports.js';
import { canConnect } from './graph-rules.js';
import { NodeTypesProvider } from '../session.js';
import { nodeTypes } from '../canvas/grid-node.js';
import type { FlowNode } from '../canvas/mapping.js';

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
  { type: 'trigger', version: 1, label: 'Trigger', description: '', icon: '⚡', category: 'trigger', isTrigger: true, inputs: [], outputs: [{ name: 'out', label: 'out' }], configSchema: obj },
  {
    type: 'branch', version: 1, label: 'Branch', description: '', icon: '🔀', category: 'logic', isTrigger: false,
    inputs: [{ name: 'in', label: 'in' }], outputs: [{ name: 'default', label: 'default' }],
    dynamicOutputs: { field: 'routes', itemName: 'port', itemLabel: 'label', append: ['default'] },
    configSchema: obj,
  },
  { type: 'generate', version: 1, label: 'Generate', description: '', icon: '✍', category: 'content', isTrigger: false, inputs: [{ name: 'in', label: 'in' }], outputs: [{ name: 'out', label: 'out' }], configSchema: obj },
];
const typeOf = (t: string) => types.find((x) => x.type === t);
const branchConfig = { routes: [{ port: 'linkedin', label: 'LinkedIn', expression: 'true' }, { port: 'x' }, { port: 'x' }, { port: 'error' }, { port: '' }] };

describe('config-defined output ports', () => {
  it('lists route ports (deduplicated, reserved names dropped) then the static default', () => {
    expect(outputsOf(types[1]!, branchConfig)).toEqual([
      { name: 'linkedin', label: 'LinkedIn' },
      { name: 'x', label: 'x' },
      { name: 'default', label: 'default' },
    ]);
    expect(outputsOf(types[1]!, {})).toEqual([{ name: 'default', label: 'default' }]);
    expect(outputsOf(types[2]!, branchConfig)).toEqual([{ name: 'out', label: 'out' }]);
  });

  it('validates connections from route ports against the node\'s own config', () => {
    const nodes = [
      { id: 'b', type: 'branch', config: branchConfig },
      { id: 'b2', type: 'branch', config: { routes: [{ port: 'other' }] } },
      { id: 'g', type: 'generate', config: {} },
    ];
    expect(canConnect(nodes, [], { source: 'b', sourceHandle: 'linkedin', target: 'g', targetHandle: 'in' }, typeOf)).toEqual({ ok: true, kind: 'default' });
    expect(canConnect(nodes, [], { source: 'b', sourceHandle: 'default', target: 'g', targetHandle: 'in' }, typeOf).ok).toBe(true);
    // another branch node's route is not a port of this one
    const refused = canConnect(nodes, [], { source: 'b', sourceHandle: 'other', target: 'g', targetHandle: 'in' }, typeOf);
    expect(refused.ok).toBe(false);
    expect(refused.reason).toMatch(/no output "other"/);
    expect(canConnect(nodes, [], { source: 'b2', sourceHandle: 'other', target: 'g', targetHandle: 'in' }, typeOf).ok).toBe(true);
  });

  it('draws one labelled handle per route and redraws when the routes change', async () => {
    const node = (config: Record<string, unknown>): FlowNode => ({ id: 'b', type: 'grid', position: { x: 0, y: 0 }, data: { name: 'Route', type: 'branch', typeVersion: 1, config } });
    const view = (config: Record<string, unknown>) => (
      <NodeTypesProvider initial={types}>
        <ReactFlowProvider>
          <div style={{ width: 800, height: 600 }}>
            <ReactFlow nodes={[node(config)]} edges={[]} nodeTypes={nodeTypes} />
          </div>
        </ReactFlowProvider>
      </NodeTypesProvider>
    );
    const r = render(view(branchConfig));
    const handles = () => [...r.container.querySelectorAll('[data-testid^="port-out-"]')].map((h) => h.getAttribute('data-testid'));
    expect(handles()).toEqual(['port-out-linkedin', 'port-out-x', 'port-out-default', 'port-out-error']);
    expect(r.container.textContent).toContain('LinkedIn');
    await act(async () => r.rerender(view({ routes: [{ port: 'instagram', label: 'Instagram' }] })));
    expect(handles()).toEqual(['port-out-instagram', 'port-out-default', 'port-out-error']);
    expect(r.container.textContent).toContain('Instagram');
  });
});

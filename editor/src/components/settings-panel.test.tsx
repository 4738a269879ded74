import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from '@testing-library/react';
import type { NodeTypeInfo } from '../api/types.js';
import { SettingsPanel } from './settings-panel.js';
import type { FlowNode } from '../canvas/mapping.js';

afterEach(cleanup);

const trigger: NodeTypeInfo = {
  type: 'trigger', version: 1, label: 'Trigger', description: '', icon: 'T', category: 'trigger', isTrigger: true, inputs: [], outputs: [{ name: 'out', label: 'out' }],
  configSchema: { oneOf: [
    { type: 'object', properties: { mode: { type: 'string', const: 'manual' }, fields: { type: 'array', default: [], items: { type: 'object', properties: { name: { type: 'string' } } } } }, required: ['mode'] },
    { type: 'object', properties: { mode: { type: 'string', const: 'webhook' }, path: { type: 'string' } }, required: ['mode', 'path'] },
  ] },
};
const gen: NodeTypeInfo = { type: 'generate', version: 1, label: 'Generate', description: '', icon: 'G', category: 'content', isTrigger: false, inputs: [{ name: 'main', label: 'in' }], outputs: [{ name: 'main', label: 'out' }], configSchema: { type: 'object', properties: { prompt: { type: 'string', minLength: 1 } }, required: ['prompt'] } };
const node = (id: string, type: string, config: Record<string, unknown>): FlowNode => ({ id, type: 'grid', position: { x: 0, y: 0 }, data: { name: id, type, typeVersion: 1, config } });

describe('settings panel', () => {
  it('replaces the form when the selected node changes', () => {
    const a = node('a', 'trigger', { mode: 'manual', fields: [] });
    const b = node('b', 'generate', {});
    const props = { nodes: [a, b], edges: [], problems: [], liveOutputs: {}, gridId: 'g', onChange: () => {}, onClose: () => {}, beforeTest: async () => {} };
    const r = render(<SettingsPanel {...props} node={b} nodeType={gen} />);
    expect(r.container.querySelectorAll('[data-testid="schema-form"]').length).toBe(1);
    r.rerender(<SettingsPanel {...props} node={a} nodeType={trigger} />);
    expect(r.container.querySelectorAll('[data-testid="schema-form"]').length).toBe(1);
    expect(r.container.querySelectorAll('[data-testid="field-prompt"]').length).toBe(0);
    r.rerender(<SettingsPanel {...props} node={b} nodeType={gen} />);
    expect(r.container.querySelectorAll('[data-testid="schema-form"]').length).toBe(1);
    expect(r.container.querySelectorAll('[data-testid="field-mode"]').length).toBe(0);
  });
});

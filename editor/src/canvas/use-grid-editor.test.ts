import { describe, expect, it } from 'vitest';
import { act, renderHook } from '@testing-library/react';
import { emptyGridDocument, type GridDocument } from '@gridflow/runtime/document';
import type { NodeTypeInfo } from '../api/types.js';
import { useGridEditor } from './use-grid-editor.js';
import { makeFragment } from '../lib/clipboard.js';

const obj = { type: 'object', properties: { text: { type: 'string', default: 'hi' } } };
const types: NodeTypeInfo[] = [
  { type: 'trigger', version: 1, label: 'Trigger', description: '', icon: '⚡', category: 'trigger', isTrigger: true, inputs: [], outputs: [{ name: 'out', label: 'out' }], configSchema: obj },
  { type: 'generate', version: 2, label: 'Generate', description: '', icon: '✍', category: 'content', isTrigger: false, inputs: [{ name: 'in', label: 'in' }], outputs: [{ name: 'out', label: 'out' }], configSchema: obj },
];
const typeOf = (t: string) => types.find((x) => x.type === t);

function setup() {
  const edits: GridDocument[] = [];
  const hook = renderHook(() => useGridEditor(emptyGridDocument(), { typeOf, onEdit: (d) => edits.push(d) }));
  return { hook, edits };
}

describe('canvas editing history (undo/redo)', () => {
  it('undoes and redoes add, connect, config change and delete as single steps', () => {
    const { hook, edits } = setup();
    let a = '';
    let b = '';
    act(() => {
      a = hook.result.current.addNode(types[0]!, { x: 0, y: 0 });
    });
    act(() => {
      b = hook.result.current.addNode(types[1]!, { x: 300, y: 0 });
    });
    expect(hook.result.current.nodes.map((n) => n.data.name)).toEqual(['Trigger', 'Generate']);
    expect(hook.result.current.nodes[1]!.data).toMatchObject({ typeVersion: 2, config: { text: 'hi' } });
    act(() => {
      expect(hook.result.current.onConnect({ source: a, sourceHandle: 'out', target: b, targetHandle: 'in' }).ok).toBe(true);
    });
    expect(hook.result.current.edges).toHaveLength(1);
    // Refused: into a trigger, and a duplicate.
    act(() => {
      expect(hook.result.current.onConnect({ source: b, sourceHandle: 'out', target: a, targetHandle: 'in' }).ok).toBe(false);
      expect(hook.result.current.onConnect({ source: a, sourceHandle: 'out', target: b, targetHandle: 'in' }).reason).toMatch(/already connected/);
    });
    act(() => hook.result.current.updateNodeData(b, { config: { text: 'h' } }, 'cfg'));
    act(() => hook.result.current.updateNodeData(b, { config: { text: 'he' } }, 'cfg'));
    act(() => hook.result.current.updateNodeData(b, { config: { text: 'hey' } }, 'cfg'));
    act(() => hook.result.current.selectOnly(a));
    act(() => hook.result.current.deleteSelected());
    expect(hook.result.current.nodes).toHaveLength(1);
    expect(hook.result.current.edges).toHaveLength(0);

    act(() => hook.result.current.undo()); // delete (node + its edge)
    expect(hook.result.current.nodes).toHaveLength(2);
    expect(hook.result.current.edges).toHaveLength(1);
    act(() => hook.result.current.undo()); // typing coalesced into one step
    expect(hook.result.current.nodes.find((n) => n.id === b)!.data.config).toEqual({ text: 'hi' });
    act(() => hook.result.current.undo()); // connect
    expect(hook.result.current.edges).toHaveLength(0);
    act(() => hook.result.current.redo());
    act(() => hook.result.current.redo());
    expect(hook.result.current.edges).toHaveLength(1);
    expect(hook.result.current.nodes.find((n) => n.id === b)!.data.config).toEqual({ text: 'hey' });
    expect(hook.result.current.canRedo).toBe(true);
    // every undo/redo is reported for autosave
    expect(edits.at(-1)!.nodes.find((n) => n.id === b)!.config).toEqual({ text: 'hey' });
  });

  it('pastes a fragment with new ids and unique names, keeping inner edges', () => {
    const { hook } = setup();
    let a = '';
    let b = '';
    act(() => {
      a = hook.result.current.addNode(types[0]!, { x: 0, y: 0 });
      b = hook.result.current.addNode(types[1]!, { x: 300, y: 0 });
    });
    act(() => {
      hook.result.current.onConnect({ source: a, sourceHandle: 'out', target: b, targetHandle: 'in' });
    });
    const doc = hook.result.current.currentDocument();
    act(() => hook.result.current.paste(makeFragment(doc.nodes, doc.edges, [a, b])));
    const names = hook.result.current.nodes.map((n) => n.data.name);
    expect(names).toEqual(['Trigger', 'Generate', 'Trigger 2', 'Generate 2']);
    expect(new Set(hook.result.current.nodes.map((n) => n.id)).size).toBe(4);
    expect(hook.result.current.edges).toHaveLength(2);
    act(() => hook.result.current.undo());
    expect(hook.result.current.nodes).toHaveLength(2);
  });

  it('auto-layout moves nodes left to right along edges, undoable', () => {
    const { hook } = setup();
    let a = '';
    let b = '';
    act(() => {
      a = hook.result.current.addNode(types[0]!, { x: 500, y: 500 });
      b = hook.result.current.addNode(types[1]!, { x: 0, y: 0 });
    });
    act(() => {
      hook.result.current.onConnect({ source: a, sourceHandle: 'out', target: b, targetHandle: 'in' });
    });
    act(() => hook.result.current.autoLayout());
    const pos = (id: string) => hook.result.current.nodes.find((n) => n.id === id)!.position;
    expect(pos(a).x).toBeLessThan(pos(b).x);
    act(() => hook.result.current.undo());
    expect(pos(a)).toEqual({ x: 500, y: 500 });
  });
});

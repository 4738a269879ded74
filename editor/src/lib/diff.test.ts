import { describe, expect, it } from 'vitest';
import type { GridDocument } from '@gridflow/runtime/document';
import { diffDocuments, marksFromServerDiff } from './diff.js';

const settings = { timeoutMs: 1000, nodeTimeoutMs: 1000, retry: { maxAttempts: 1, backoffMs: 0, maxDelayMs: 0 }, errorHandling: 'stop' as const, retentionDays: 30, maxPayloadBytes: 2048 };
const node = (id: string, config: Record<string, unknown> = {}, x = 0) => ({ id, type: 'generate', typeVersion: 1, name: id.toUpperCase(), position: { x, y: 0 }, config });
const edge = (id: string, source: string, target: string, sourceHandle = 'out') => ({ id, source, sourceHandle, target, targetHandle: 'in', kind: 'default' as const });
const doc = (nodes: GridDocument['nodes'], edges: GridDocument['edges']): GridDocument => ({ schemaVersion: 1, nodes, edges, settings });

describe('diff highlighter', () => {
  const before = doc([node('a'), node('b', { text: 'hello' }), node('c')], [edge('e1', 'a', 'b'), edge('e2', 'b', 'c')]);
  const after = doc([node('a', {}, 500), node('b', { text: 'hello world' }), node('d')], [edge('e1', 'a', 'b'), edge('e3', 'b', 'd')]);
  const d = diffDocuments(before, after);

  it('marks added, removed, changed and unchanged nodes', () => {
    expect(d.nodes).toEqual({ a: 'unchanged', b: 'changed', c: 'removed', d: 'added' });
    expect(d.counts).toEqual({ added: 1, removed: 1, changed: 1 });
  });

  it('does not count a move as a change', () => {
    expect(d.nodes.a).toBe('unchanged');
  });

  it('lists changed config fields with before and after', () => {
    expect(d.changedFields.b).toEqual([{ path: 'config.text', before: 'hello', after: 'hello world' }]);
  });

  it('keeps removed nodes and edges in the union so they can be drawn', () => {
    expect(d.union.nodes.map((n) => n.id).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(d.edges).toEqual({ e1: 'unchanged', e2: 'removed', e3: 'added' });
  });

  it('treats a re-created edge between the same ports as unchanged', () => {
    const d2 = diffDocuments(before, doc(before.nodes, [edge('x1', 'a', 'b'), edge('e2', 'b', 'c')]));
    expect(d2.edges.x1).toBe('unchanged');
    expect(d2.edges.e1).toBeUndefined();
  });

  it('accepts the server diff (objects or ids, changes or fields)', () => {
    const m = marksFromServerDiff(diffDocuments(before, before), {
      nodes: { added: [{ id: 'a' }], removed: ['c'], changed: [{ id: 'b', changes: [{ path: 'config.text', before: 1, after: 2 }] }] },
      edges: { added: [], removed: [{ id: 'e2' }], changed: [] },
    });
    expect(m.nodes).toMatchObject({ a: 'added', b: 'changed', c: 'removed' });
    expect(m.edges.e2).toBe('removed');
    expect(m.changedFields.b).toHaveLength(1);
    expect(m.counts).toEqual({ added: 1, removed: 1, changed: 1 });
  });
});

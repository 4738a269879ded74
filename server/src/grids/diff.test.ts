import { describe, expect, it } from 'vitest';
import { gridDocumentSchema, type GridDocumentInput } from '@gridflow/runtime';
import { diffGrids } from './diff.js';

const doc = (d: Partial<GridDocumentInput>) => gridDocumentSchema.parse({ schemaVersion: 1, nodes: [], edges: [], ...d });
const node = (id: string, config: Record<string, unknown> = {}, x = 0) => ({ id, type: 'code', typeVersion: 1, name: id, position: { x, y: 0 }, config });

describe('diffGrids', () => {
  it('reports added, removed and changed nodes with config paths', () => {
    const a = doc({ nodes: [node('a', { code: 'return 1', opts: { n: 1 } }), node('b')], edges: [{ id: 'e1', source: 'a', target: 'b' }] });
    const b = doc({
      nodes: [node('a', { code: 'return 2', opts: { n: 1, m: 2 } }), node('c')],
      edges: [{ id: 'e2', source: 'a', target: 'c' }],
      settings: { retry: { maxAttempts: 3 } } as never,
    });
    const d = diffGrids(a, b);
    expect(d.nodes.added.map((n) => n.id)).toEqual(['c']);
    expect(d.nodes.removed.map((n) => n.id)).toEqual(['b']);
    expect(d.nodes.changed).toEqual([
      {
        id: 'a',
        name: 'a',
        changes: [
          { path: 'config.code', before: 'return 1', after: 'return 2', change: 'changed' },
          { path: 'config.opts.m', before: undefined, after: 2, change: 'added' },
        ],
      },
    ]);
    expect(d.edges.added.map((e) => e.id)).toEqual(['e2']);
    expect(d.edges.removed.map((e) => e.id)).toEqual(['e1']);
    expect(d.settings.map((c) => c.path)).toEqual(['settings.retry.maxAttempts']);
    expect(d.identical).toBe(false);
  });

  it('treats a moved node as identical content', () => {
    const d = diffGrids(doc({ nodes: [node('a', {}, 0)] }), doc({ nodes: [node('a', {}, 50)] }));
    expect(d.nodes.moved).toEqual(['a']);
    expect(d.nodes.changed).toEqual([]);
    expect(d.identical).toBe(true);
  });

  it('reports an edge whose target port changed', () => {
    const a = doc({ nodes: [node('a'), node('b')], edges: [{ id: 'e', source: 'a', target: 'b' }] });
    const b = doc({ nodes: [node('a'), node('b')], edges: [{ id: 'e', source: 'a', target: 'b', sourceHandle: 'true' }] });
    expect(diffGrids(a, b).edges.changed).toEqual([{ id: 'e', changes: [{ path: 'sourceHandle', before: 'out', after: 'true', change: 'changed' }] }]);
  });
});

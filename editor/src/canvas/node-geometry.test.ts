import { describe, expect, it } from 'vitest';
import type { NodeTypeInfo } from '../api/types.js';
import { dropEstimates, withEstimatedGeometry } from './node-geometry.js';
import type { FlowNode } from './mapping.js';

const guard: NodeTypeInfo = { type: 'brand-guard', version: 1, label: 'Brand guard', description: '', icon: '🛡', category: 'content', isTrigger: false, inputs: [{ name: 'in', label: 'in' }], outputs: [{ name: 'pass', label: 'pass' }, { name: 'fail', label: 'fail' }], configSchema: {} };
const node = (id: string): FlowNode => ({ id, type: 'grid', position: { x: 0, y: 0 }, data: { name: id, type: 'brand-guard', typeVersion: 1, config: {} } });

describe('estimated node geometry', () => {
  it('matches the measured layout of the node component (220 px wide, 20 px port rows, handles at 67 + 20 i)', () => {
    // measured in chromium (bench page): brand-guard 220 × 133, handles in (-4,67), pass (214,67), fail (214,87), error (214,107)
    const n = withEstimatedGeometry(node('a'), guard);
    expect([n.initialWidth, n.initialHeight]).toEqual([220, 133]);
    expect(n.handles!.map((h) => [h.id, h.type, h.x, h.y])).toEqual([
      ['in', 'target', -4, 67],
      ['pass', 'source', 214, 67],
      ['fail', 'source', 214, 87],
      ['error', 'source', 214, 107],
    ]);
  });

  it('drops the estimates of nodes React Flow has measured, and only theirs', () => {
    const nodes = [withEstimatedGeometry(node('a'), guard), withEstimatedGeometry(node('b'), guard)];
    const out = dropEstimates(nodes, [{ type: 'dimensions', id: 'a', dimensions: { width: 220, height: 133 } }]);
    expect(out[0]!.handles).toBeUndefined();
    expect(out[0]!.initialHeight).toBeUndefined();
    expect(out[1]).toBe(nodes[1]);
    expect(dropEstimates(nodes, [{ type: 'select', id: 'a', selected: true }])).toBe(nodes);
  });
});

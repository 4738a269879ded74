/**
 * Test helpers: terse grid documents and a registry view for graph/planner tests. Browser-safe.
 */
import { gridDocumentSchema, type GridDocument, type GridDocumentInput } from '../document.js';
import { registryViewFrom, type NodeTypeView } from '../graph-rules.js';

export const testTypeViews: NodeTypeView[] = [
  { type: 'trigger', isTrigger: true, inputs: [], outputs: [{ name: 'out' }] },
  { type: 'noop', inputs: [{ name: 'in' }], outputs: [{ name: 'out' }] },
  { type: 'branch', inputs: [{ name: 'in' }], outputs: [{ name: 'true' }, { name: 'false' }] },
  { type: 'for-each', inputs: [{ name: 'in' }], outputs: [{ name: 'item' }, { name: 'done' }] },
];
export const testRegistryView = registryViewFrom(testTypeViews);

export type NodeSpec = {
  id: string;
  type?: string;
  name?: string;
  config?: Record<string, unknown>;
  disabled?: boolean;
};
/** `a>b`, `a.true>b`, `a!>b` (error edge), `a>b.in2`. */
export type EdgeSpec = string;

export function grid(
  nodes: Array<NodeSpec | string>,
  edges: EdgeSpec[],
  settings: GridDocumentInput['settings'] = {},
): GridDocument {
  return gridDocumentSchema.parse({
    schemaVersion: 1,
    nodes: nodes.map((n, i) => {
      const spec = typeof n === 'string' ? { id: n } : n;
      return {
        id: spec.id,
        type: spec.type ?? (i === 0 ? 'trigger' : 'noop'),
        typeVersion: 1,
        name: spec.name ?? spec.id,
        position: { x: i * 200, y: 0 },
        config: spec.config ?? {},
        ...(spec.disabled ? { disabled: true } : {}),
      };
    }),
    edges: edges.map((spec, i) => {
      const err = spec.includes('!>');
      const [from, to] = spec.split(err ? '!>' : '>') as [string, string];
      const [source, sourceHandle] = from.split('.');
      const [target, targetHandle] = to.split('.');
      return {
        id: `e${i}`,
        source,
        sourceHandle: err ? 'error' : (sourceHandle ?? 'out'),
        target,
        targetHandle: targetHandle ?? 'in',
        kind: err ? 'error' : 'default',
      };
    }),
    settings,
  });
}

/** A generated grid for the canvas bench: a layered DAG with `n` nodes and `e` edges (deterministic). */
import type { GridDocument } from '@gridflow/runtime/document';
import type { NodeTypeInfo } from './api/types.js';

const obj = { type: 'object', properties: { text: { type: 'string' } } };
export const BENCH_NODE_TYPES: NodeTypeInfo[] = [
  { type: 'trigger', version: 1, label: 'Trigger', description: '', icon: '⚡', category: 'trigger', isTrigger: true, inputs: [], outputs: [{ name: 'out', label: 'out' }], configSchema: obj },
  { type: 'generate', version: 1, label: 'Generate post', description: '', icon: '✍️', category: 'content', isTrigger: false, inputs: [{ name: 'in', label: 'in' }], outputs: [{ name: 'out', label: 'out' }], configSchema: obj },
  {
    type: 'brand-guard',
    version: 1,
    label: 'Brand guard',
    description: '',
    icon: '🛡️',
    category: 'content',
    isTrigger: false,
    inputs: [{ name: 'in', label: 'in' }],
    outputs: [
      { name: 'pass', label: 'pass' },
      { name: 'fail', label: 'fail' },
    ],
    configSchema: obj,
  },
];

export function benchGrid(n: number, e: number): GridDocument {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const perLayer = 25;
  const nodes: GridDocument['nodes'] = [];
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / perLayer);
    const type = i === 0 ? 'trigger' : i % 3 === 0 ? 'brand-guard' : 'generate';
    nodes.push({ id: `n${i}`, type, typeVersion: 1, name: `Node ${i}`, position: { x: layer * 300, y: (i % perLayer) * 130 }, config: { text: `Step ${i} of the bench grid` } });
  }
  const edges: GridDocument['edges'] = [];
  const seen = new Set<string>();
  let k = 0;
  while (edges.length < e && k < e * 10) {
    k++;
    const t = 1 + Math.floor(rnd() * (n - 1));
    const tl = Math.floor(t / perLayer);
    if (tl === 0) continue;
    const s = (tl - 1) * perLayer + Math.floor(rnd() * perLayer);
    if (s >= n || s === 0 && tl !== 1) continue;
    const src = nodes[s]!;
    const handle = src.type === 'brand-guard' ? (rnd() < 0.5 ? 'pass' : 'fail') : 'out';
    const key = `${s}-${t}-${handle}`;
    if (seen.has(key)) continue;
    seen.add(key);
    edges.push({ id: `e${edges.length}`, source: src.id, sourceHandle: handle, target: `n${t}`, targetHandle: 'in', kind: 'default' });
  }
  return { schemaVersion: 1, nodes, edges, settings: { timeoutMs: 86_400_000, nodeTimeoutMs: 300_000, retry: { maxAttempts: 1, backoffMs: 1000, maxDelayMs: 60_000 }, errorHandling: 'stop', retentionDays: 30, maxPayloadBytes: 1048576 } };
}

import type { FlowEdge } from './mapping.js';

export function edgeClass(e: FlowEdge): string {
  const kind = e.data?.kind ?? (e.sourceHandle === 'error' ? 'error' : 'default');
  return kind === 'error' ? 'edge-error' : kind === 'conditional' ? 'edge-conditional' : '';
}

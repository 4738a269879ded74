/** Gridflow (placeholder until the server exists). */
import type { System } from './system.js';

export function gridflowSystem(o: { mode: 'scaled' | 'embedded'; workers: number }): System {
  return {
    name: `gridflow-${o.mode}`,
    version: 'dev',
    store: 'executions table',
    async prepare() {
      throw new Error('Gridflow server not available yet');
    },
    async startRound() {
      throw new Error('unreachable');
    },
  };
}

import type { System } from './system.js';
export function n8nSystem(): System {
  return { name: 'n8n', version: '2.8.4', store: 'sqlite', async prepare() { throw new Error('todo'); }, async startRound() { throw new Error('todo'); } };
}

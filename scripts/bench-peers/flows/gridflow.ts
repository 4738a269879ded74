/**
 * Gridflow grid documents for both workloads (runtime/src/document.ts; node types trigger and code
 * from nodes/src/*\/definition.ts).
 * - W1: trigger (webhook /w1-<suffix>, responseMode onComplete, answers with the code node's output) → code.
 * - W3: trigger (webhook /w3-<suffix>, answered at once with 202) → code → code.
 */
import type { GridDocumentInput } from '@gridflow/runtime/document';
import { STEP1_EXPR, STEP2_EXPR } from './code.js';

/**
 * A code node's `input` is its predecessor's output. The webhook trigger outputs
 * `{ body, query, headers, method, receivedAt }` (server/src/webhooks/hooks.routes.ts), like n8n's
 * webhook node, so step 1 reads `input.body`.
 */
export const GRIDFLOW_STEP1 = `const p = input.body;\nreturn ${STEP1_EXPR};`;
export const GRIDFLOW_STEP2 = `const p = input;\nreturn ${STEP2_EXPR};`;

const node = (id: string, type: string, name: string, x: number, config: Record<string, unknown>) => ({
  id,
  type,
  typeVersion: 1,
  name,
  position: { x, y: 0 },
  config,
});
const edge = (source: string, target: string) => ({
  id: `${source}-${target}`,
  source,
  sourceHandle: 'out',
  target,
  targetHandle: 'in',
});

export function gridflowW1(path: string): GridDocumentInput {
  return {
    schemaVersion: 1,
    nodes: [
      node('hook', 'trigger', 'Webhook', 0, { mode: 'webhook', path, method: 'POST', responseMode: 'onComplete', responseNodeId: 'code' }),
      node('code', 'code', 'Code', 220, { code: GRIDFLOW_STEP1 }),
    ],
    edges: [edge('hook', 'code')],
  };
}

export function gridflowW3(path: string): GridDocumentInput {
  return {
    schemaVersion: 1,
    nodes: [
      node('hook', 'trigger', 'Webhook', 0, { mode: 'webhook', path, method: 'POST', responseMode: 'immediate' }),
      node('code1', 'code', 'Code 1', 220, { code: GRIDFLOW_STEP1 }),
      node('code2', 'code', 'Code 2', 440, { code: GRIDFLOW_STEP2 }),
    ],
    edges: [edge('hook', 'code1'), edge('code1', 'code2')],
  };
}

/**
 * n8n workflows (export format) for both workloads. Code nodes read the webhook's body
 * (`$input.first().json.body`) and return one item.
 * - W1: Webhook (POST /webhook/w1, respond when the last node finishes, with its first item's JSON) → Code.
 * - W3: Webhook (POST /webhook/w3, respond immediately) → Code → Code.
 */
import { STEP1_EXPR, STEP2_EXPR } from './code.js';

export const N8N_W1_ID = 'GfBenchW1Flow001';
export const N8N_W3_ID = 'GfBenchW3Flow001';

const webhook = (path: string, responseMode: 'lastNode' | 'onReceived', uuid: string) => ({
  parameters: {
    httpMethod: 'POST',
    path,
    responseMode,
    ...(responseMode === 'lastNode' ? { responseData: 'firstEntryJson' } : {}),
    options: {},
  },
  id: uuid,
  name: 'Webhook',
  type: 'n8n-nodes-base.webhook',
  typeVersion: 2,
  position: [0, 0],
  webhookId: uuid,
});
const code = (name: string, uuid: string, x: number, body: string) => ({
  parameters: { mode: 'runOnceForAllItems', language: 'javaScript', jsCode: body },
  id: uuid,
  name,
  type: 'n8n-nodes-base.code',
  typeVersion: 2,
  position: [x, 0],
});
const link = (to: string) => ({ main: [[{ node: to, type: 'main', index: 0 }]] });

export function n8nWorkflows(): unknown[] {
  return [
    {
      id: N8N_W1_ID,
      name: 'gridflow bench W1',
      active: false,
      nodes: [
        webhook('w1', 'lastNode', '0a5e1c70-0000-4000-8000-000000000001'),
        code('Code', '0a5e1c70-0000-4000-8000-000000000002', 220,
          `const p = $input.first().json.body;\nreturn [{ json: ${STEP1_EXPR} }];`),
      ],
      connections: { Webhook: link('Code') },
      settings: { executionOrder: 'v1' },
      pinData: {},
    },
    {
      id: N8N_W3_ID,
      name: 'gridflow bench W3',
      active: false,
      nodes: [
        webhook('w3', 'onReceived', '0a5e1c70-0000-4000-8000-000000000003'),
        code('Code 1', '0a5e1c70-0000-4000-8000-000000000004', 220,
          `const p = $input.first().json.body;\nreturn [{ json: ${STEP1_EXPR} }];`),
        code('Code 2', '0a5e1c70-0000-4000-8000-000000000005', 440,
          `const p = $input.first().json;\nreturn [{ json: ${STEP2_EXPR} }];`),
      ],
      connections: { Webhook: link('Code 1'), 'Code 1': link('Code 2') },
      settings: { executionOrder: 'v1' },
      pinData: {},
    },
  ];
}

/**
 * The one explicit list of node types. Adding a node type touches its folder and one line here.
 * Not browser-safe as a whole (content nodes use the OpenAI client and node:crypto): the editor gets
 * node types as JSON from `GET /api/node-types` (see `./schema.ts`).
 */
import { createRegistry, type AnyNodeType } from '@gridflow/runtime/node-type';
import { analyticsNode } from './analytics/definition.js';
import { approvalNode } from './approval/definition.js';
import { branchNode } from './branch/definition.js';
import { brandGuardNode } from './brand-guard/definition.js';
import { brandKnowledgeNode } from './brand-knowledge/definition.js';
import { codeNode } from './code/definition.js';
import { delayNode } from './delay/definition.js';
import { forEachNode } from './for-each/definition.js';
import { generateNode } from './generate/definition.js';
import { httpNode } from './http/definition.js';
import { publishNode } from './publish/definition.js';
import { transformNode } from './transform/definition.js';
import { triggerNode } from './trigger/definition.js';

export const nodeTypes: AnyNodeType[] = [
  triggerNode,
  generateNode,
  brandGuardNode,
  brandKnowledgeNode,
  approvalNode,
  publishNode,
  analyticsNode,
  branchNode,
  delayNode,
  codeNode,
  httpNode,
  transformNode,
  forEachNode,
] as AnyNodeType[];

export const registry = createRegistry(nodeTypes);

/**
 * @gridflow/nodes: the node types (one folder each), their registry and their JSON description.
 * Browser-safe subpaths: `@gridflow/nodes/schema` (metadata helpers) and the utility nodes'
 * `@gridflow/nodes/<type>/definition`. Everything else here may pull Node-only code.
 */
export { nodeTypes, registry } from './registry.js';
export {
  describeNodeType,
  describeNodeTypes,
  outputsFromDescription,
  collectSecretPaths,
  type NodeTypeDescription,
  type DynamicOutputs,
  type JsonSchema,
  type Widget,
} from './schema.js';
export {
  triggerNode,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  type TriggerConfig,
} from './trigger/definition.js';
export { checkCron, nextScheduledRuns } from './trigger/schedule.js';
export { branchNode, branchOutputs, type BranchConfig } from './branch/definition.js';
export { codeNode, type CodeConfig } from './code/definition.js';
export { httpNode, type HttpConfig } from './http/definition.js';
export { delayNode, type DelayConfig } from './delay/definition.js';
export { transformNode, type TransformConfig } from './transform/definition.js';
export { forEachNode, type ForEachConfig } from './for-each/definition.js';
export { generateNode } from './generate/definition.js';
export { brandGuardNode } from './brand-guard/definition.js';
export { brandKnowledgeNode } from './brand-knowledge/definition.js';
export { approvalNode } from './approval/definition.js';
export { publishNode } from './publish/definition.js';
export { analyticsNode } from './analytics/definition.js';

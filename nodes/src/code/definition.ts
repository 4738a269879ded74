/**
 * Code: runs the user's JavaScript (an async function body) in the isolated-vm sandbox with the
 * step's data as variables, and outputs what it returns (JSON). No Node APIs, no network; time and
 * memory limited.
 */
import { z } from 'zod';
import { defineNodeType, output, type Json } from '@gridflow/runtime/node-type';
import { UserError } from '@gridflow/runtime/errors';

export const CODE_MAX_TIMEOUT_MS = 10_000;
export const CODE_MAX_MEMORY_MB = 128;

export const DEFAULT_CODE = `// Variables: input (this node's input), trigger (the run's trigger payload),
// item / itemIndex (inside a for-each), nodes (earlier nodes: nodes['Generate post'].output).
// Return any JSON value; it becomes this node's output.
return { ...input };`;

export const codeConfigSchema = z.object({
  code: z
    .string()
    .min(1, 'write some code (it must return a value)')
    .max(100_000, 'code is limited to 100,000 characters')
    .default(DEFAULT_CODE)
    .describe('Body of an async JavaScript function; `return` the output (JSON)')
    .meta({ 'x-gridflow-widget': 'code', 'x-gridflow-language': 'javascript' }),
  timeoutMs: z
    .number()
    .int()
    .min(10)
    .max(CODE_MAX_TIMEOUT_MS)
    .default(1000)
    .describe('Time limit per run, at most 10 s'),
  memoryMb: z
    .number()
    .int()
    .min(8)
    .max(CODE_MAX_MEMORY_MB)
    .default(32)
    .describe('Memory limit, at most 128 MB'),
});

export type CodeConfig = z.infer<typeof codeConfigSchema>;

const NODES_REFERENCE = /\bnodes\b/;

/**
 * The engine also uses a node's `timeoutMs` as its step time limit, and that clock starts before the
 * sandbox does. The sandbox gets less (20%, between 100 ms and 1 s) so endless code ends as the
 * sandbox's CODE_TIMEOUT user error (not retried) rather than as a step timeout (retryable).
 */
export function sandboxTimeout(timeoutMs: number): number {
  const margin = Math.min(1000, Math.max(100, Math.floor(timeoutMs * 0.2)));
  return Math.max(5, timeoutMs - margin);
}

export const codeNode = defineNodeType({
  type: 'code',
  version: 1,
  label: 'Code',
  description:
    'Runs JavaScript in a sandbox (no network or file access) and outputs the JSON it returns.',
  icon: '🧩',
  category: 'utility',
  sideEffectFree: true,
  inputs: [{ name: 'in', label: 'in' }],
  outputs: [{ name: 'out', label: 'out' }],
  configSchema: codeConfigSchema,
  // The code is JavaScript, not a template: `{{` inside it must not be resolved.
  rawFields: ['code'],
  summary: (config) => {
    const lines = config.code
      .split('\n')
      .filter((l) => l.trim() && !l.trim().startsWith('//')).length;
    return `${lines} line${lines === 1 ? '' : 's'} of JavaScript`;
  },
  async run(ctx) {
    const { code, timeoutMs, memoryMb } = ctx.config;
    const globals: Record<string, Json> = {
      input: ctx.input,
      trigger: ctx.trigger,
      item: ctx.item ? ctx.item.value : null,
      itemIndex: ctx.item ? ctx.item.index : null,
      node: { id: ctx.node.id, name: ctx.node.name },
      execution: { id: ctx.execution.id, mode: ctx.execution.mode },
      nodes: {},
    };
    if (NODES_REFERENCE.test(code)) {
      // Outputs of earlier nodes are only fetched when the code mentions them (they can be large).
      try {
        globals.nodes = await ctx.evaluate('nodes');
      } catch (err) {
        ctx.log.warn('outputs of earlier nodes are not available to this code node', {
          error: String(err),
        });
      }
    }
    try {
      const result = await ctx.sandbox.runCode(code, globals, {
        timeoutMs: sandboxTimeout(timeoutMs),
        memoryMb,
        // Runs of this node may share a context (state the code leaves in globals stays, like
        // module state in a serverless function); never across nodes, grids or workspaces.
        reuseKey: `${ctx.execution.workspaceId}/${ctx.execution.gridId}/${ctx.node.id}`,
      });
      if (result === null) ctx.log.info('the code returned null or nothing');
      return output(result);
    } catch (err) {
      if (err instanceof UserError) {
        throw new UserError(
          `Code node "${ctx.node.name}": ${err.message}`,
          err.field ?? 'config.code',
          err.code,
        );
      }
      throw err;
    }
  },
});

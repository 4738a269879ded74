/**
 * Test fixture for engine tests and benches: tiny node types (noop, fail-n-times, slow, wait,
 * delay, emit, big, branch, for-each, side-effect counter), services, and a database with a
 * workspace and a grid. Node-only.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import type { Database } from '@gridflow/db';
import {
  createRegistry,
  defineNodeType,
  output,
  type Json,
  type NodeRegistry,
} from '../node-type.js';
import { NonRetriableError, RetryAfterError, UserError } from '../errors.js';
import { createSandbox, type SandboxInstance } from '../sandbox.js';
import { createHttpClient } from '../http-client.js';
import type { EngineServices } from '../engine-impl.js';

const base = { description: 'test', icon: '•', category: 'utility' as const };
const io = { inputs: [{ name: 'in', label: 'in' }], outputs: [{ name: 'out', label: 'out' }] };

/** Attempts seen per step id (fail-n-times), shared within the process. */
export const attemptsSeen = new Map<string, number>();
/** Calls of side-effect-free `calc` steps per step id (run at a run's start or queued). */
export const calcCalls = new Map<string, number>();

/** A trigger outputting the run's trigger data. */
function triggerType(type: string, label: string, pure: boolean) {
  return defineNodeType({
    ...base,
    ...io,
    type,
    label,
    version: 1,
    isTrigger: true,
    pure,
    inputs: [],
    configSchema: z.object({}).passthrough(),
    run: async (ctx) => output(ctx.trigger),
  });
}

export function testNodeTypes() {
  return [
    triggerType('trigger', 'Trigger', false),
    // Like the product's trigger: run while its run starts (with the side-effect-free steps after it).
    triggerType('pure-trigger', 'Trigger (pure)', true),
    defineNodeType({
      ...base,
      ...io,
      type: 'calc',
      label: 'Calc (side-effect free)',
      version: 1,
      sideEffectFree: true,
      configSchema: z
        .object({
          value: z.unknown().optional(),
          sleepMs: z.number().default(0),
          failTimes: z.number().int().default(0),
          emit: z.boolean().default(false),
        })
        .passthrough(),
      run: async (ctx) => {
        const n = (calcCalls.get(ctx.step.id) ?? 0) + 1;
        calcCalls.set(ctx.step.id, n);
        if (ctx.config.sleepMs) {
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, ctx.config.sleepMs);
            ctx.signal.addEventListener('abort', () => (clearTimeout(t), reject(ctx.signal.reason)), {
              once: true,
            });
          });
        }
        if (n <= ctx.config.failTimes) throw new UserError(`calc failure ${n}`, 'config.failTimes');
        if (ctx.config.emit) ctx.emit({ type: 'content.generated', data: { by: ctx.node.name } });
        return output({ value: (ctx.config.value ?? null) as Json, input: ctx.input, call: n });
      },
    }),
    defineNodeType({
      ...base,
      ...io,
      type: 'noop',
      label: 'No-op',
      version: 1,
      configSchema: z.object({ value: z.unknown().optional() }).passthrough(),
      run: async (ctx) =>
        output(ctx.config.value === undefined ? ctx.input : (ctx.config.value as Json)),
    }),
    defineNodeType({
      ...base,
      ...io,
      type: 'fail-n-times',
      label: 'Fails n times',
      version: 1,
      configSchema: z
        .object({
          times: z.number().int(),
          kind: z.enum(['transient', 'user', 'fatal', 'retry-after']).default('transient'),
        })
        .passthrough(),
      run: async (ctx) => {
        // With `key`: counts calls across runs (a retried run succeeds); else the step's attempt counts.
        const key = typeof ctx.config.key === 'string' ? ctx.config.key : ctx.step.id;
        const n = (attemptsSeen.get(key) ?? 0) + 1;
        attemptsSeen.set(key, n);
        const count = typeof ctx.config.key === 'string' ? n : ctx.step.attempt;
        if (count <= ctx.config.times) {
          const msg = `planned failure ${count}`;
          if (ctx.config.kind === 'user') throw new UserError(msg, 'config.times');
          if (ctx.config.kind === 'fatal') throw new NonRetriableError(msg);
          if (ctx.config.kind === 'retry-after') throw new RetryAfterError(msg, 50);
          throw new Error(msg);
        }
        return output({ attempt: ctx.step.attempt, at: Date.now() });
      },
    }),
    defineNodeType({
      ...base,
      ...io,
      type: 'slow',
      label: 'Slow',
      version: 1,
      configSchema: z
        .object({
          ms: z.number(),
          ignoreSignal: z.boolean().default(false),
          marker: z.string().optional(),
        })
        .passthrough(),
      run: async (ctx) => {
        if (ctx.config.marker)
          appendFileSync(ctx.config.marker, `start ${ctx.step.id} ${process.pid}\n`);
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, ctx.config.ms);
          if (!ctx.config.ignoreSignal)
            ctx.signal.addEventListener(
              'abort',
              () => (clearTimeout(t), reject(ctx.signal.reason)),
              { once: true },
            );
        });
        if (ctx.config.marker)
          appendFileSync(ctx.config.marker, `done ${ctx.step.id} ${process.pid}\n`);
        return output({ slept: ctx.config.ms, input: ctx.input });
      },
    }),
    defineNodeType({
      ...base,
      ...io,
      type: 'approval',
      label: 'Approval',
      version: 1,
      configSchema: z.object({ slowMs: z.number().default(0) }).passthrough(),
      run: async (ctx) => {
        if (ctx.config.slowMs) await new Promise((r) => setTimeout(r, ctx.config.slowMs));
        if (ctx.resume !== undefined) return output({ decision: ctx.resume });
        return ctx.wait({ payload: { question: 'ok?', input: ctx.input } });
      },
    }),
    defineNodeType({
      ...base,
      ...io,
      type: 'delay',
      label: 'Delay',
      version: 1,
      configSchema: z.object({ ms: z.number() }).passthrough(),
      run: async (ctx) => {
        if (ctx.resume !== undefined) return output({ resumed: ctx.resume, at: Date.now() });
        return ctx.wait({
          until: new Date(Date.now() + ctx.config.ms),
          payload: { ms: ctx.config.ms },
        });
      },
    }),
    defineNodeType({
      ...base,
      ...io,
      type: 'emit',
      label: 'Emit',
      version: 1,
      configSchema: z.object({}).passthrough(),
      run: async (ctx) => {
        ctx.emit({
          type: 'content.generated',
          data: { by: ctx.node.name, key: ctx.step.idempotencyKey },
        });
        return output('emitted');
      },
    }),
    defineNodeType({
      ...base,
      ...io,
      type: 'big',
      label: 'Big',
      version: 1,
      configSchema: z.object({ bytes: z.number() }).passthrough(),
      run: async (ctx) => output('x'.repeat(ctx.config.bytes)),
    }),
    defineNodeType({
      ...base,
      type: 'branch',
      label: 'Branch',
      version: 1,
      inputs: [{ name: 'in', label: 'in' }],
      outputs: [
        { name: 'true', label: 'true' },
        { name: 'false', label: 'false' },
      ],
      configSchema: z.object({ condition: z.unknown() }).passthrough(),
      run: async (ctx) => output(ctx.input, [ctx.config.condition ? 'true' : 'false']),
    }),
    defineNodeType({
      ...base,
      type: 'for-each',
      label: 'For each',
      version: 1,
      inputs: [{ name: 'in', label: 'in' }],
      outputs: [
        { name: 'item', label: 'item' },
        { name: 'done', label: 'done' },
      ],
      configSchema: z.object({
        items: z.array(z.json()),
        concurrency: z.number().int().min(1).max(50).default(5),
      }),
      run: async (ctx) => output({ items: ctx.config.items }),
    }),
    defineNodeType({
      ...base,
      ...io,
      type: 'expr',
      label: 'Expression',
      version: 1,
      configSchema: z.object({ value: z.unknown() }).passthrough(),
      run: async (ctx) =>
        output({
          value: (ctx.config.value ?? null) as Json,
          evaluated: await ctx.evaluate('{{ trigger.n * 2 }}'),
        }),
    }),
  ];
}

export function testRegistry(): NodeRegistry {
  return createRegistry(testNodeTypes());
}

export function testServices(sandbox: SandboxInstance): EngineServices {
  return {
    sandbox,
    http: (signal) => createHttpClient({ signal, allowPrivateNetwork: true }),
    embed: async () => {
      throw new Error('embed is not available in runtime tests');
    },
    encrypt: (s) => Buffer.from(s).toString('base64'),
    decrypt: (s) => Buffer.from(s, 'base64').toString(),
    env: { platformBaseUrls: {}, publicUrl: 'http://localhost' },
  };
}

export { createSandbox };

/** A workspace and a grid row for executions to point at. */
export async function seedGrid(db: Database): Promise<{ workspaceId: string; gridId: string }> {
  const slug = `ws-${randomBytes(4).toString('hex')}`;
  const ws = await db.prisma.workspace.create({ data: { name: 'Test', slug } });
  const grid = await db.prisma.grid.create({
    data: { workspaceId: ws.id, name: 'Test grid', document: {} },
  });
  return { workspaceId: ws.id, gridId: grid.id };
}

/** A published grid version (runs of it read the document from there, cached by version id). */
export async function seedVersion(
  db: Database,
  ids: { workspaceId: string; gridId: string },
  document: unknown,
  number = 1,
): Promise<string> {
  const v = await db.prisma.gridVersion.create({
    data: { workspaceId: ids.workspaceId, gridId: ids.gridId, number, document: document as never },
  });
  return v.id;
}

export const uniquePrefix = (name: string) => `gft-${name}-${randomBytes(4).toString('hex')}`;

import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox } from '@gridflow/runtime/sandbox';
import { UserError } from '@gridflow/runtime/errors';
import type { Json } from '@gridflow/runtime/node-type';
import { createFakeContext } from '../testing/fake-context.js';
import { runtimeEvaluate } from '../transform/fake-evaluate.js';
import { codeConfigSchema, codeNode, DEFAULT_CODE, sandboxTimeout } from './definition.js';

// The real isolated-vm sandbox of the runtime (needs --no-node-snapshot: see vitest.config.ts).
const sandbox = createSandbox({ poolSize: 1 });
afterAll(() => sandbox.dispose());

function ctxFor(
  rawConfig: unknown,
  data: {
    input?: Json;
    trigger?: Json;
    item?: { value: Json; index: number };
    outputs?: Record<string, Json>;
  } = {},
) {
  return createFakeContext({
    config: codeConfigSchema.parse(rawConfig),
    input: data.input ?? null,
    trigger: data.trigger ?? null,
    ...(data.item ? { item: data.item } : {}),
    node: { name: 'Shape post' },
    sandbox,
    evaluate: runtimeEvaluate({ outputs: data.outputs ?? {} }, sandbox),
  });
}

describe('code config', () => {
  it('defaults to the example that copies the input', () => {
    expect(codeConfigSchema.parse({})).toEqual({
      code: DEFAULT_CODE,
      timeoutMs: 1000,
      memoryMb: 32,
    });
  });
  it('caps the time and memory limits', () => {
    expect(codeConfigSchema.safeParse({ timeoutMs: 10_001 }).success).toBe(false);
    expect(codeConfigSchema.safeParse({ memoryMb: 129 }).success).toBe(false);
    expect(codeConfigSchema.safeParse({ code: '' }).success).toBe(false);
  });
});

describe('code runner (isolated-vm)', () => {
  it('runs the default code: output is a copy of the input', async () => {
    const input = { title: 'Hello', tags: ['a'] };
    expect(await codeNode.run(ctxFor({}, { input }))).toEqual({ kind: 'output', output: input });
  });

  it('sees input, trigger, item and earlier nodes; may be async', async () => {
    const code = `
      const words = input.text.split(' ').length;
      await Promise.resolve();
      return { words, source: trigger.source, item, itemIndex, score: nodes.guard.output.score };`;
    const result = await codeNode.run(
      ctxFor(
        { code },
        {
          input: { text: 'one two three' },
          trigger: { source: 'rss' },
          item: { value: 'x', index: 2 },
          outputs: { guard: { score: 91 } },
        },
      ),
    );
    expect(result).toEqual({
      kind: 'output',
      output: { words: 3, source: 'rss', item: 'x', itemIndex: 2, score: 91 },
    });
  });

  it('runs of the same node may share state in globals; other nodes, grids and workspaces never see it', async () => {
    const code = 'globalThis.seen = [...(globalThis.seen || []), input];\nreturn seen;';
    const run = (input: Json, ids: { node?: string; grid?: string; ws?: string } = {}) =>
      codeNode.run(
        createFakeContext({
          config: codeConfigSchema.parse({ code }),
          input,
          node: { id: ids.node ?? 'code1', name: 'Remember' },
          execution: { id: `exec-${String(input)}`, gridId: ids.grid ?? 'grid1', workspaceId: ids.ws ?? 'ws1', mode: 'production' },
          sandbox,
        }),
      );
    expect(await run('a')).toEqual({ kind: 'output', output: ['a'] });
    expect(await run('b')).toEqual({ kind: 'output', output: ['a', 'b'] });
    expect(await run('c', { node: 'code2' })).toEqual({ kind: 'output', output: ['c'] });
    expect(await run('d', { grid: 'grid2' })).toEqual({ kind: 'output', output: ['d'] });
    expect(await run('e', { ws: 'ws2' })).toEqual({ kind: 'output', output: ['e'] });
  });

  it('leaves {{ }} in code alone (it is a raw field)', async () => {
    expect(codeNode.rawFields).toContain('code');
    const result = await codeNode.run(ctxFor({ code: "return '{{ not a template }}'" }));
    expect(result).toEqual({ kind: 'output', output: '{{ not a template }}' });
  });

  it('turns a thrown error into a UserError naming the node and the code field', async () => {
    const err = await codeNode
      .run(ctxFor({ code: "throw new Error('no title')" }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/^Code node "Shape post": .*no title/);
    expect((err as UserError).field).toBe('config.code');
  });

  it('stops an endless loop at the time limit', async () => {
    const started = Date.now();
    const err = await codeNode
      .run(ctxFor({ code: 'for (;;) {}', timeoutMs: 200 }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('CODE_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('leaves the sandbox a margin inside the step time limit', () => {
    expect(sandboxTimeout(300)).toBe(200);
    expect(sandboxTimeout(1000)).toBe(800);
    expect(sandboxTimeout(10_000)).toBe(9000);
    expect(sandboxTimeout(10)).toBe(5);
  });

  it('has no Node APIs', async () => {
    const result = await codeNode.run(
      ctxFor({ code: 'return [typeof require, typeof process, typeof fetch]' }),
    );
    expect(result).toEqual({ kind: 'output', output: ['undefined', 'undefined', 'undefined'] });
  });

  it('reports syntax errors as user errors', async () => {
    const err = await codeNode.run(ctxFor({ code: 'return {' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('CODE_SYNTAX');
  });
});

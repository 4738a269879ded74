import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox } from '@gridflow/runtime/sandbox';
import { UserError } from '@gridflow/runtime/errors';
import { forEachConcurrency, forEachItems } from '@gridflow/runtime/for-each';
import type { Json } from '@gridflow/runtime/node-type';
import { createFakeContext } from '../testing/fake-context.js';
import { runtimeEvaluate } from '../transform/fake-evaluate.js';
import { forEachConfigSchema, forEachNode } from './definition.js';

const sandbox = createSandbox({ poolSize: 1 });
afterAll(() => sandbox.dispose());

function run(rawConfig: unknown, input: Json = null) {
  const config = forEachConfigSchema.parse(rawConfig);
  return forEachNode.run(
    createFakeContext({ config, input, evaluate: runtimeEvaluate({ input }, sandbox) }),
  );
}

describe('for-each config', () => {
  it('defaults concurrency to 5 and caps it at 50', () => {
    expect(forEachConfigSchema.parse({ items: '{{ input.posts }}' })).toEqual({
      items: '{{ input.posts }}',
      concurrency: 5,
    });
    expect(forEachConfigSchema.safeParse({ items: 'x', concurrency: 51 }).success).toBe(false);
    expect(forEachConfigSchema.safeParse({ items: 'x', concurrency: 0 }).success).toBe(false);
    expect(forEachConfigSchema.safeParse({ items: '' }).success).toBe(false);
    expect(forEachConfigSchema.safeParse({ items: ['linkedin', 'x'] }).success).toBe(true);
  });
  it('agrees with the planner on the concurrency it reads', () => {
    expect(forEachConcurrency(forEachConfigSchema.parse({ items: 'x' }))).toBe(5);
  });
});

describe('for-each runner', () => {
  it('outputs the resolved list as { items } (the shape the planner reads)', async () => {
    const posts = [{ id: 1 }, { id: 2 }];
    const result = await run({ items: '{{ input.posts }}' }, { posts });
    expect(forEachNode.rawFields).toEqual(['items']);
    expect(result).toEqual({ kind: 'output', output: { items: posts } });
    expect(forEachItems((result as { output: Json }).output)).toEqual(posts);
  });

  it('accepts a fixed list and a bare path or expression', async () => {
    expect(await run({ items: ['linkedin', 'x'] })).toEqual({
      kind: 'output',
      output: { items: ['linkedin', 'x'] },
    });
    expect(await run({ items: 'input.platforms' }, { platforms: ['instagram'] })).toEqual({
      kind: 'output',
      output: { items: ['instagram'] },
    });
    expect(await run({ items: 'input.n.filter((x) => x > 1)' }, { n: [1, 2, 3] })).toEqual({
      kind: 'output',
      output: { items: [2, 3] },
    });
  });

  it('an empty list is fine (done fires with no results)', async () => {
    expect(await run({ items: '{{ input.posts }}' }, { posts: [] })).toEqual({
      kind: 'output',
      output: { items: [] },
    });
  });

  it('anything but a list is a UserError naming the items field', async () => {
    for (const x of [{ a: 1 }, 'some text', 42, null]) {
      const err = await run({ items: '{{ input.x }}' }, { x }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).field).toBe('config.items');
      expect((err as UserError).message).toMatch(/must resolve to a list/);
    }
    const missing = await run({ items: 'input.nothing' }, {}).catch((e: unknown) => e);
    expect((missing as UserError).message).toMatch(/resolved to nothing/);
  });

  it('refuses more than 10,000 items', async () => {
    const big = Array.from({ length: 10_001 }, (_, i) => i);
    const err = await run({ items: '{{ input.big }}' }, { big }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/limit of 10000/);
  });
});

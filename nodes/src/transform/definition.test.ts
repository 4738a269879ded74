import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox } from '@gridflow/runtime/sandbox';
import { UserError } from '@gridflow/runtime/errors';
import type { Json } from '@gridflow/runtime/node-type';
import { createFakeContext } from '../testing/fake-context.js';
import { runtimeEvaluate } from './fake-evaluate.js';
import { transformConfigSchema, transformNode } from './definition.js';

const sandbox = createSandbox({ poolSize: 1 });
afterAll(() => sandbox.dispose());

function run(operations: unknown[], input: Json, trigger: Json = null) {
  return transformNode.run(
    createFakeContext({
      config: transformConfigSchema.parse({ operations }),
      input,
      trigger,
      evaluate: runtimeEvaluate({ input, trigger }, sandbox),
    }),
  );
}

const article = {
  article: { id: 'a1', title: 'Five lessons from our launch', author: { name: 'Ana' } },
  posts: [
    { caption: 'First', likes: 10 },
    { caption: 'Second', likes: 3 },
  ],
  internal: { token: 'x' },
};

describe('transform config', () => {
  it('validates paths with the operation index', () => {
    const r = transformConfigSchema.safeParse({
      operations: [
        { op: 'remove', path: 'a..b' },
        { op: 'pick', paths: [] },
      ],
    });
    expect(r.success).toBe(false);
    const paths = r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['operations.0.path', 'operations.1.paths']));
    expect(transformConfigSchema.parse({})).toEqual({ operations: [] });
  });
});

describe('transform runner', () => {
  it('without operations passes a copy of the input', async () => {
    expect(await run([], article)).toEqual({ kind: 'output', output: article });
  });

  it('set / rename / remove in order, set values may be expressions on input and data', async () => {
    const result = await run(
      [
        { op: 'rename', from: 'article.title', to: 'headline' },
        { op: 'set', path: 'meta.source', value: 'blog' },
        { op: 'set', path: 'meta.shout', value: '{{ data.headline.toUpperCase() }}' },
        { op: 'set', path: 'meta.by', value: 'By {{ input.article.author.name }}' },
        { op: 'set', path: 'meta.card', value: { id: '{{ input.article.id }}', n: 2 } },
        { op: 'remove', path: 'internal' },
        { op: 'rename', from: 'does.not.exist', to: 'x' },
      ],
      article,
    );
    expect(result).toEqual({
      kind: 'output',
      output: {
        article: { id: 'a1', author: { name: 'Ana' } },
        headline: 'Five lessons from our launch',
        posts: article.posts,
        meta: {
          source: 'blog',
          shout: 'FIVE LESSONS FROM OUR LAUNCH',
          by: 'By Ana',
          card: { id: 'a1', n: 2 },
        },
      },
    });
    // The input itself is never modified.
    expect(article.internal).toEqual({ token: 'x' });
  });

  it('pick keeps only the listed (nested) fields', async () => {
    expect(
      await run([{ op: 'pick', paths: ['article.id', 'posts[0].caption', 'nope'] }], article),
    ).toEqual({
      kind: 'output',
      output: { article: { id: 'a1' }, posts: [{ caption: 'First' }] },
    });
  });

  it('map evaluates the expression per element with item and index', async () => {
    const result = await run(
      [
        {
          op: 'map',
          path: 'posts',
          expression: '{{ { text: item.caption + " #" + (index + 1), popular: item.likes > 5 } }}',
          to: 'cards',
        },
        { op: 'map', path: 'posts', expression: 'item.caption' },
      ],
      article,
    );
    expect(result).toMatchObject({
      output: {
        cards: [
          { text: 'First #1', popular: true },
          { text: 'Second #2', popular: false },
        ],
        posts: ['First', 'Second'],
      },
    });
  });

  it('map over the whole data when it is a list', async () => {
    expect(await run([{ op: 'map', path: '', expression: 'item * 2' }], [1, 2, 3])).toEqual({
      kind: 'output',
      output: [2, 4, 6],
    });
  });

  it('map over something that is not a list is a UserError on its path', async () => {
    const err = await run([{ op: 'map', path: 'article', expression: 'item' }], article).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe('config.operations[0].path');
  });

  it('a failing expression names the operation', async () => {
    const err = await run([{ op: 'set', path: 'x', value: '{{ data.missing.deep }}' }], {}).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe('config.operations[0]');
    expect((err as UserError).message).toMatch(/^Transform, operation 1 \(set\): expression/);
  });

  it('refuses prototype pollution paths and scalar inputs', async () => {
    const err = await run([{ op: 'set', path: '__proto__.polluted', value: true }], {}).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await run([], 'text' as Json).catch((e: unknown) => e)).toBeInstanceOf(UserError);
    expect(await run([{ op: 'set', path: 'a', value: 1 }], null)).toEqual({
      kind: 'output',
      output: { a: 1 },
    });
  });
});

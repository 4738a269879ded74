/* eslint-disable @typescript-eslint/no-explicit-any -- node outputs are Json; tests read them loosely and check them with expect */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '@gridflow/db';
import { NonRetriableError, RetryAfterError, type OutputResult } from '@gridflow/runtime';
import { generateConfigSchema, generateNode } from './definition.js';
import { createFakeContext } from '../testing/fake-context.js';
import { startFakeOpenAI, type FakeOpenAI } from '../testing/fake-openai-server.js';
import { seedWorkspace, type SeededWorkspace } from '../testing/content-fixtures.js';

let db: Database;
let fake: FakeOpenAI;
let seed: SeededWorkspace;
beforeAll(async () => {
  [db, fake] = await Promise.all([createTestDatabase('postgres'), startFakeOpenAI()]);
  seed = await seedWorkspace(db.prisma);
});
afterAll(async () => {
  await Promise.all([db?.close(), fake?.close()]);
});

function ctxFor(
  config: Record<string, unknown>,
  opts: { online?: boolean; key?: string; step?: string } = {},
) {
  const online = opts.online ?? true;
  return createFakeContext({
    config: generateConfigSchema.parse(config),
    db: db.prisma,
    node: { id: 'gen1', type: 'generate' },
    execution: {
      id: `exec-${opts.step ?? Math.random().toString(36).slice(2)}`,
      workspaceId: seed.workspaceId,
    },
    env: online ? { openaiApiKey: opts.key ?? fake.apiKey, openaiBaseUrl: fake.url } : {},
  });
}

describe('generate node', () => {
  it('generates n variants through OpenAI with the brand voice, records usage and content', async () => {
    const ctx = ctxFor({
      prompt: 'Announce the spring sourdough workshop',
      platform: 'linkedin',
      variants: 3,
      brandProfileId: seed.brandProfileId,
      temperature: 0.4,
    });
    const res = (await generateNode.run(ctx)) as OutputResult;
    const out = res.output as Record<string, any>;
    expect(out.writer).toBe('openai');
    expect(out.variants).toHaveLength(3);
    expect(out.text).toBe('Variant 1: Announce the spring sourdough workshop');
    expect(out.usage.totalTokens).toBeGreaterThan(0);
    expect(out.usage.costUsd).toBeGreaterThan(0);

    const req = fake.requests.at(-1)!.body as {
      n: number;
      temperature: number;
      messages: Array<{ role: string; content: string }>;
    };
    expect(req.n).toBe(3);
    expect(req.temperature).toBe(0.4);
    expect(req.messages[0]!.content).toContain('Warm, practical');
    expect(req.messages[0]!.content).toContain('Never use these words: guaranteed, cheap');
    expect(req.messages[0]!.content).toContain('3000 characters');

    const usage = await db.prisma.apiUsage.findMany({
      where: { workspaceId: seed.workspaceId, executionId: ctx.execution.id },
    });
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini',
      totalTokens: out.usage.totalTokens,
    });
    expect(usage[0]!.costUsd.toNumber()).toBeCloseTo(out.usage.costUsd, 6);
    const content = await db.prisma.generatedContent.findFirstOrThrow({
      where: { id: out.contentId, workspaceId: seed.workspaceId },
    });
    expect(content).toMatchObject({
      text: out.text,
      platform: 'linkedin',
      brandProfileId: seed.brandProfileId,
      nodeId: 'gen1',
    });
    expect(ctx.events.map((e) => e.type)).toEqual(['content.generated']);
  });

  it('is idempotent per step: a retry returns the stored content without calling OpenAI again', async () => {
    const ctx = ctxFor({ prompt: 'Retry me', platform: 'x' }, { step: 'retry' });
    const first = (await generateNode.run(ctx)) as OutputResult;
    const calls = fake.requests.length;
    const again = (await generateNode.run(
      ctxFor({ prompt: 'Retry me', platform: 'x' }, { step: 'retry' }),
    )) as OutputResult;
    expect(again.output).toEqual(first.output);
    expect(fake.requests.length).toBe(calls);
    expect(
      await db.prisma.generatedContent.count({
        where: { workspaceId: seed.workspaceId, executionId: 'exec-retry' },
      }),
    ).toBe(1);
  });

  it('uses the labelled offline writer without key and base URL', async () => {
    const calls = fake.requests.length;
    const ctx = ctxFor(
      {
        prompt: 'Our bakery opens a second shop in Leeds. Free coffee on opening day.',
        platform: 'x',
        variants: 2,
        brandProfileId: seed.brandProfileId,
      },
      { online: false },
    );
    const out = ((await generateNode.run(ctx)) as OutputResult).output as Record<string, any>;
    expect(out).toMatchObject({ writer: 'offline-template', model: 'offline-template' });
    expect(out.variants).toHaveLength(2);
    expect(out.variants.every((v: { withinLimit: boolean }) => v.withinLimit)).toBe(true);
    expect(out.text).toContain('Acme');
    expect(fake.requests.length).toBe(calls);
    const usage = await db.prisma.apiUsage.findFirstOrThrow({
      where: { workspaceId: seed.workspaceId, executionId: ctx.execution.id },
    });
    expect(usage.provider).toBe('local');
  });

  it('generates an image when enabled', async () => {
    const ctx = ctxFor({
      prompt: 'Croissants at dawn',
      platform: 'instagram',
      image: { enabled: true },
    });
    const out = ((await generateNode.run(ctx)) as OutputResult).output as Record<string, any>;
    expect(out.imageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/images\//);
    const usage = await db.prisma.apiUsage.findMany({
      where: { workspaceId: seed.workspaceId, executionId: ctx.execution.id },
      orderBy: { createdAt: 'asc' },
    });
    expect(usage.map((u) => u.endpoint)).toEqual(['chat.completions', 'images.generate']);
    expect(usage[1]!.costUsd.toNumber()).toBeCloseTo(0.04, 6);
  });

  it('maps errors: 401 names the setting, 429 retries after, 5xx retryable; unknown brand is a user error', async () => {
    const e401 = await generateNode
      .run(ctxFor({ prompt: 'x' }, { key: 'wrong' }))
      .catch((e: unknown) => e);
    expect(e401).toBeInstanceOf(NonRetriableError);
    expect((e401 as Error).message).toMatch(/OPENAI_API_KEY/);
    fake.failNext(1, { status: 429, retryAfter: 5, pathPrefix: '/v1/chat' });
    const e429 = await generateNode.run(ctxFor({ prompt: 'x' })).catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(RetryAfterError);
    expect((e429 as RetryAfterError).retryAfterMs).toBe(5000);
    fake.failNext(1, { status: 503, pathPrefix: '/v1/chat' });
    const e503 = await generateNode.run(ctxFor({ prompt: 'x' })).catch((e: unknown) => e);
    expect(e503).toBeInstanceOf(Error);
    expect(e503).not.toBeInstanceOf(NonRetriableError);
    expect((e503 as Error).message).toContain('503');
    const eBrand = await generateNode
      .run(ctxFor({ prompt: 'x', brandProfileId: 'nope' }))
      .catch((e: unknown) => e);
    expect(eBrand).toMatchObject({ name: 'UserError', field: 'config.brandProfileId' });
  });

  it('rejects bad config at save time', () => {
    expect(generateConfigSchema.safeParse({ prompt: '' }).success).toBe(false);
    expect(generateConfigSchema.safeParse({ prompt: 'x', variants: 6 }).success).toBe(false);
    expect(generateConfigSchema.safeParse({ prompt: 'x', platform: 'myspace' }).success).toBe(
      false,
    );
  });
});

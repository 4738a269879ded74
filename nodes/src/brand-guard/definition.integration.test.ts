/* eslint-disable @typescript-eslint/no-explicit-any -- node outputs are Json; tests read them loosely and check them with expect */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '@gridflow/db';
import type { Json, OutputResult } from '@gridflow/runtime';
import { brandGuardConfigSchema, brandGuardNode } from './definition.js';
import { createFakeContext } from '../testing/fake-context.js';
import { seedWorkspace, type SeededWorkspace } from '../testing/content-fixtures.js';
import { createLocalEmbedder } from '../embedding/local-embedder.js';
import { storeKnowledgeEntry } from '../embedding/knowledge.js';

let db: Database;
let seed: SeededWorkspace;
const embedder = createLocalEmbedder();
beforeAll(async () => {
  db = await createTestDatabase('postgres');
  seed = await seedWorkspace(db.prisma);
  for (const t of [
    'At Acme we bake sourdough the slow way: long ferments, local flour, warm ovens at dawn.',
    'Acme Bakery workshops: practical bread baking for home bakers, with a little playfulness.',
  ]) {
    await storeKnowledgeEntry(db.prisma, seed.workspaceId, seed.brandProfileId, t, embedder);
  }
});
afterAll(() => db?.close());

let n = 0;
function ctxFor(config: Record<string, unknown>, input: Json = null) {
  return createFakeContext({
    config: brandGuardConfigSchema.parse({ brandProfileId: seed.brandProfileId, ...config }),
    input,
    db: db.prisma,
    node: { id: 'guard1', type: 'brand-guard' },
    execution: { id: `exec-guard-${++n}`, workspaceId: seed.workspaceId },
    embed: (t) => embedder.embed(t),
  });
}

const out = (r: unknown) => (r as OutputResult).output as Record<string, any>;

describe('brand-guard node', () => {
  it('passes on-brand text with a high score and voice similarity, storing a GuardResult', async () => {
    const ctx = ctxFor({
      text: 'Acme sourdough workshop: slow ferments, local flour and warm ovens at dawn. Practical baking for home bakers.',
    });
    const res = (await brandGuardNode.run(ctx)) as OutputResult;
    expect(res.ports).toEqual(['pass']);
    const o = out(res);
    expect(o.passed).toBe(true);
    expect(o.score).toBe(100);
    expect(o.voice.similarity).toBeGreaterThan(0.2);
    expect(o.voice.embedder).toBe('local-hash-v1');
    const row = await db.prisma.guardResult.findFirstOrThrow({
      where: { id: o.guardResultId, workspaceId: seed.workspaceId },
    });
    expect(row).toMatchObject({
      passed: true,
      score: 100,
      contentId: o.contentId,
      guard: 'brand_compliance',
    });
    expect(ctx.events[0]).toMatchObject({
      type: 'guard.scored',
      data: { score: 100, passed: true },
    });
  });

  it('block (profile strict): banned term routes to fail with the violation span', async () => {
    const text = 'Guaranteed cheap bread from Acme!';
    const o = await brandGuardNode.run(ctxFor({ text, platform: 'x' }));
    expect((o as OutputResult).ports).toEqual(['fail']);
    const v = out(o).violations.filter((x: { rule: string }) => x.rule === 'banned_term');
    expect(
      v.map((x: { span: { start: number; end: number } }) => text.slice(x.span.start, x.span.end)),
    ).toEqual(['Guaranteed', 'cheap']);
    expect(out(o).passed).toBe(false);
  });

  it('warn: passes with warnings; minScore override fails a lower score under block', async () => {
    const warn = await brandGuardNode.run(
      ctxFor({ text: 'Fresh bread every morning', enforcement: 'warn' }),
    );
    expect((warn as OutputResult).ports).toEqual(['pass']);
    expect(out(warn).passed).toBe(true);
    expect(out(warn).warnings.map((w: { rule: string }) => w.rule)).toContain('required_term');
    const strict = await brandGuardNode.run(
      ctxFor({ text: 'Fresh bread every morning', enforcement: 'block', minScore: 95 }),
    );
    expect((strict as OutputResult).ports).toEqual(['fail']);
    expect(out(strict).score).toBeLessThan(95);
  });

  it('autofix: removes banned terms, adds hashtags and disclaimer, trims, re-scores and passes', async () => {
    const text = `Guaranteed freshness from Acme sourdough, slow ferments and local flour. ${'Warm ovens at dawn. '.repeat(20)}`;
    const res = await brandGuardNode.run(
      ctxFor({
        text,
        platform: 'x',
        enforcement: 'autofix',
        rules: { requiredHashtags: ['AcmeBakes'], disclaimer: '#ad' },
      }),
    );
    const o = out(res);
    expect((res as OutputResult).ports).toEqual(['pass']);
    expect(o.fixedText).not.toMatch(/guaranteed/i);
    expect(o.fixedText.endsWith('#AcmeBakes\n#ad')).toBe(true);
    expect(o.originalScore).toBeLessThan(o.score);
    expect(o.applied.length).toBeGreaterThanOrEqual(3);
    expect(o.text).toBe(o.fixedText);
    const row = await db.prisma.guardResult.findFirstOrThrow({ where: { id: o.guardResultId } });
    expect(row.autoFixed).toBe(true);
  });

  it('attaches to the generate output content and is idempotent per step', async () => {
    const content = await db.prisma.generatedContent.create({
      data: { workspaceId: seed.workspaceId, text: 'Acme bakes sourdough', platform: 'linkedin' },
    });
    const ctx = ctxFor(
      {},
      { text: 'Acme bakes sourdough with local flour', contentId: content.id },
    );
    const first = await brandGuardNode.run(ctx);
    expect(out(first).contentId).toBe(content.id);
    expect(out(first).text).toBe('Acme bakes sourdough with local flour');
    const retry = createFakeContext({
      ...ctx,
      config: ctx.config,
      db: db.prisma,
      execution: ctx.execution,
      node: ctx.node,
      embed: ctx.embed,
      input: ctx.input,
    });
    const second = await brandGuardNode.run(retry);
    expect(second).toEqual(first);
    expect(await db.prisma.guardResult.count({ where: { contentId: content.id } })).toBe(1);
    const updated = await db.prisma.generatedContent.findFirstOrThrow({
      where: { id: content.id },
    });
    expect(updated.complianceScore).toBe(out(first).score);
  });

  it('flags off-brand voice and image palette/font issues', async () => {
    const res = await brandGuardNode.run(
      ctxFor({
        text: 'Acme quarterly earnings exceeded institutional investor expectations.',
        enforcement: 'warn',
        voiceThreshold: 0.5,
        image: { colors: ['#00FF00'], fonts: ['Comic Sans'] },
      }),
    );
    const rules = out(res).violations.map((v: { rule: string }) => v.rule);
    expect(rules).toEqual(expect.arrayContaining(['brand_voice', 'palette', 'font']));
  });

  it('unknown brand profile is a user error naming the field', async () => {
    await expect(
      brandGuardNode.run(ctxFor({ brandProfileId: 'missing', text: 'x' })),
    ).rejects.toMatchObject({ name: 'UserError', field: 'config.brandProfileId' });
  });
});

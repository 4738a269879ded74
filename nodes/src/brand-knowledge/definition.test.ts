/* eslint-disable @typescript-eslint/no-explicit-any -- node outputs are Json; tests read them loosely and check them with expect */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '@gridflow/db';
import { UserError, type Embedding, type Json, type OutputResult } from '@gridflow/runtime';
import {
  BRAND_KNOWLEDGE_MAX_CHARS,
  brandKnowledgeConfigSchema,
  brandKnowledgeNode,
  normalizeEntries,
} from './definition.js';
import { createFakeContext } from '../testing/fake-context.js';
import { seedWorkspace, type SeededWorkspace } from '../testing/content-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from '../testing/fake-openai-server.js';
import { createLocalEmbedder } from '../embedding/local-embedder.js';
import { createEmbedder } from '../embedding/embedder.js';
import { describeNodeType } from '../schema.js';

// PGlite (in-process PostgreSQL with pgvector): the same SQL as production, no server needed.
let db: Database;
let seed: SeededWorkspace;
let other: SeededWorkspace;
let fakeOpenAI: FakeOpenAI;
const local = createLocalEmbedder();
beforeAll(async () => {
  [db, fakeOpenAI] = await Promise.all([createTestDatabase('pglite'), startFakeOpenAI()]);
  seed = await seedWorkspace(db.prisma);
  other = await seedWorkspace(db.prisma);
});
afterAll(async () => {
  await Promise.all([db?.close(), fakeOpenAI?.close()]);
});

let n = 0;
function ctxFor(
  config: Record<string, unknown>,
  opts: {
    workspaceId?: string;
    stepKey?: string;
    embed?: (text: string) => Promise<Embedding>;
  } = {},
) {
  const execution = `exec-knowledge-${++n}`;
  return createFakeContext({
    config: brandKnowledgeConfigSchema.parse({ brandProfileId: seed.brandProfileId, ...config }),
    db: db.prisma,
    node: { id: 'knowledge1', type: 'brand-knowledge' },
    execution: { id: execution, workspaceId: opts.workspaceId ?? seed.workspaceId },
    step: { idempotencyKey: opts.stepKey ?? `gf-${execution}` },
    embed: opts.embed ?? ((t) => local.embed(t)),
  });
}

const out = (r: unknown) => (r as OutputResult).output as Record<string, any>;
const run = async (config: Record<string, unknown>, opts?: Parameters<typeof ctxFor>[1]) =>
  out(await brandKnowledgeNode.run(ctxFor(config, opts)));
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as UserError,
  );
const rowsOf = (brandProfileId: string, workspaceId = seed.workspaceId) =>
  db.prisma.brandKnowledgeEntry.findMany({
    where: { workspaceId, brandProfileId },
    orderBy: { createdAt: 'asc' },
  });

describe('brand-knowledge config and description', () => {
  it('defaults to store mode; k is 1..20; search fields and store fields are shown by mode', () => {
    expect(brandKnowledgeConfigSchema.parse({ brandProfileId: 'bp' })).toEqual({
      brandProfileId: 'bp',
      mode: 'store',
      entries: '',
      source: '',
      tags: [],
      query: '',
      k: 5,
    });
    expect(brandKnowledgeConfigSchema.safeParse({ brandProfileId: 'bp', k: 21 }).success).toBe(
      false,
    );
    expect(brandKnowledgeConfigSchema.safeParse({ brandProfileId: 'bp', k: 0 }).success).toBe(
      false,
    );
    expect(brandKnowledgeConfigSchema.safeParse({ brandProfileId: '' }).success).toBe(false);
    const d = describeNodeType(brandKnowledgeNode as never);
    expect(d).toMatchObject({
      type: 'brand-knowledge',
      label: 'Brand knowledge',
      category: 'content',
      icon: '📚',
      defaultConfig: null, // a brand profile must be chosen
    });
    const props = d.configSchema.properties as Record<string, Record<string, unknown>>;
    expect(props.entries).toMatchObject({
      'x-gridflow-widget': 'expression',
      'x-gridflow-showWhen': { mode: 'store' },
    });
    expect(props.query).toMatchObject({
      'x-gridflow-widget': 'expression',
      'x-gridflow-showWhen': { mode: 'search' },
    });
    expect(props.k).toMatchObject({ minimum: 1, maximum: 20, default: 5 });
    expect(props.mode).toMatchObject({ enum: ['store', 'search'], default: 'store' });
  });

  it('normalises a text, a list of texts and a list of { text, title, source, tags }', () => {
    expect(normalizeEntries('  One voice.  ')).toEqual([
      { text: 'One voice.', tags: [], field: 'config.entries' },
    ]);
    expect(
      normalizeEntries([
        'a',
        { text: 'b', title: 'B', source: 'https://x.example/1', tags: ['t', ' '], url: 'ignored' },
      ]),
    ).toEqual([
      { text: 'a', tags: [], field: 'config.entries[0]' },
      {
        text: 'b',
        title: 'B',
        source: 'https://x.example/1',
        tags: ['t'],
        field: 'config.entries[1].text',
      },
    ]);
  });

  it('refuses more than 500 entries, over-long texts and malformed entries, naming the field', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [Array.from({ length: 501 }, (_, i) => `t${i}`), 'config.entries', /501 entries.*500/],
      [
        ['ok', { text: 'x'.repeat(BRAND_KNOWLEDGE_MAX_CHARS + 1) }],
        'config.entries[1].text',
        /entries\[1\]\.text is 20,001 characters; the limit is 20,000/,
      ],
      [['ok', 'y'.repeat(20_001)], 'config.entries[1]', /20,001 characters/],
      ['z'.repeat(20_001), 'config.entries', /20,001 characters/],
      [[{ title: 'no text' }], 'config.entries[0].text', /has no "text"/],
      [[42], 'config.entries[0]', /is a number/],
      [[{ text: 'a', tags: 'one' }], 'config.entries[0].tags', /list of texts/],
      ['', 'config.entries', /resolved to nothing/],
      [null, 'config.entries', /resolved to nothing/],
    ];
    for (const [value, field, message] of cases) {
      let err: unknown;
      try {
        normalizeEntries(value);
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(UserError);
      expect((err as UserError).field, String(message)).toBe(field);
      expect((err as UserError).message).toMatch(message);
    }
    // Exactly at the limits is fine.
    expect(normalizeEntries(Array.from({ length: 500 }, (_, i) => `t${i}`))).toHaveLength(500);
    expect(normalizeEntries('w'.repeat(20_000))[0]!.text).toHaveLength(20_000);
  });
});

describe('brand-knowledge store', () => {
  it('embeds and stores each entry for the brand, with embedder, dimension, hash, source and tags', async () => {
    const launch =
      'We shipped the approval inbox today. Six weeks, three redesigns, one honest customer call.';
    const posts = [
      {
        title: 'Launch recap',
        text: launch,
        source: 'https://www.linkedin.com/feed/update/urn:li:share:1',
      },
      { text: 'We are hiring a content engineer who writes clearly.', tags: ['hiring'] },
      'Sourdough mornings at Acme: slow ferments and warm ovens.',
    ];
    const o = await run({ entries: posts, source: 'onboarding', tags: ['voice'] });
    expect(o).toMatchObject({ stored: 3, skipped: 0, embedder: 'local-hash-v1', dimension: 512 });
    expect(o.entryIds).toHaveLength(3);
    const rows = await db.prisma.brandKnowledgeEntry.findMany({
      where: { id: { in: o.entryIds }, workspaceId: seed.workspaceId },
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const [a, b, c] = (o.entryIds as string[]).map((id) => byId.get(id)!);
    expect(a).toMatchObject({
      brandProfileId: seed.brandProfileId,
      title: 'Launch recap',
      content: launch,
      category: 'https://www.linkedin.com/feed/update/urn:li:share:1',
      tags: ['voice'],
      embedder: 'local-hash-v1',
      dimension: 512,
      contentHash: createHash('sha256').update(launch).digest('hex'),
    });
    expect(b).toMatchObject({ category: 'onboarding', tags: ['voice', 'hiring'] });
    expect(c!.title).toBe((posts[2] as string).slice(0, 80));
    const vectors = await db.sql.query<{ id: string; dims: number }>(
      `SELECT id, vector_dims(embedding) AS dims FROM brand_knowledge_entries WHERE id = ANY($1::text[])`,
      [o.entryIds],
    );
    expect(vectors.rows.map((r) => Number(r.dims))).toEqual([512, 512, 512]);
  });

  it('skips texts already stored for the brand, repeats and blanks in the batch: a re-delivered step adds nothing', async () => {
    const config = {
      entries: [
        'Flour, water, salt, time.',
        'Bread is a slow craft.',
        '   ',
        'Flour, water, salt, time.',
      ],
    };
    const first = await run(config, { stepKey: 'gf-redelivered' });
    expect(first).toMatchObject({ stored: 2, skipped: 2, existingIds: [] });
    const count = await db.prisma.brandKnowledgeEntry.count({
      where: { workspaceId: seed.workspaceId },
    });
    // The same step again (worker died after storing, step re-delivered), then a new run.
    const again = await run(config, { stepKey: 'gf-redelivered' });
    expect(again).toMatchObject({ stored: 0, skipped: 4, entryIds: [] });
    expect([...again.existingIds].sort()).toEqual([...first.entryIds].sort());
    const mixed = await run({ entries: ['Bread is a slow craft.', 'Crumb over crust.'] });
    expect(mixed).toMatchObject({ stored: 1, skipped: 1 });
    expect(
      await db.prisma.brandKnowledgeEntry.count({ where: { workspaceId: seed.workspaceId } }),
    ).toBe(count + 1);
  });

  it('dedupes per embedder: the same text from OpenAI is a new entry with its own dimension', async () => {
    const openai = createEmbedder({
      openaiApiKey: fakeOpenAI.apiKey,
      openaiBaseUrl: fakeOpenAI.url,
    });
    const text = 'Warm, practical baking advice from Acme.';
    const viaLocal = await run({ entries: text });
    const viaOpenAI = await run({ entries: [text] }, { embed: (t) => openai.embed(t) });
    expect(viaLocal).toMatchObject({ stored: 1, embedder: 'local-hash-v1', dimension: 512 });
    expect(viaOpenAI).toMatchObject({
      stored: 1,
      embedder: 'openai:text-embedding-3-small',
      dimension: 1536,
    });
    const rows = await db.prisma.brandKnowledgeEntry.findMany({
      where: { workspaceId: seed.workspaceId, content: text },
      orderBy: { embedder: 'asc' },
    });
    expect(rows.map((r) => [r.embedder, r.dimension])).toEqual([
      ['local-hash-v1', 512],
      ['openai:text-embedding-3-small', 1536],
    ]);
    expect(await run({ entries: [text] }, { embed: (t) => openai.embed(t) })).toMatchObject({
      stored: 0,
      skipped: 1,
    });
  });

  it('stores nothing when an embedding call fails (the step retries the whole batch)', async () => {
    const brand = await db.prisma.brandProfile.create({
      data: { workspaceId: seed.workspaceId, name: 'Flaky brand' },
    });
    const err = await failure(
      brandKnowledgeNode.run(
        ctxFor(
          { brandProfileId: brand.id, entries: ['one', 'two', 'three'] },
          {
            embed: async (t) => {
              if (t === 'three') throw new Error('embeddings: 503 from the provider');
              return local.embed(t);
            },
          },
        ),
      ),
    );
    expect(String(err)).toMatch(/503/);
    expect(await rowsOf(brand.id)).toEqual([]);
    const retried = await run({ brandProfileId: brand.id, entries: ['one', 'two', 'three'] });
    expect(retried.stored).toBe(3);
  });

  it('an empty list stores nothing without embedding', async () => {
    expect(
      await run({ entries: [] }, { embed: () => Promise.reject(new Error('not called')) }),
    ).toEqual({
      stored: 0,
      skipped: 0,
      entryIds: [],
      existingIds: [],
      embedder: null,
      dimension: null,
    });
  });

  it('refuses a brand profile of another workspace (or none), naming brandProfileId', async () => {
    for (const brandProfileId of [other.brandProfileId, 'choose-a-brand-profile']) {
      const err = await failure(
        brandKnowledgeNode.run(ctxFor({ brandProfileId, entries: ['Hello'] })),
      );
      expect(err).toBeInstanceOf(UserError);
      expect(err.field).toBe('config.brandProfileId');
      expect(err.message).toContain(`"${brandProfileId}" (brandProfileId) was not found`);
    }
    expect(await rowsOf(other.brandProfileId, other.workspaceId)).toEqual([]);
  });

  it('reports over-long entries as a UserError before storing anything', async () => {
    const before = await db.prisma.brandKnowledgeEntry.count();
    const err = await failure(
      brandKnowledgeNode.run(
        ctxFor({ entries: ['fine', { text: 'long '.repeat(5000) }] as Json[] }),
      ),
    );
    expect(err).toBeInstanceOf(UserError);
    expect(err.field).toBe('config.entries[1].text');
    expect(await db.prisma.brandKnowledgeEntry.count()).toBe(before);
  });
});

describe('brand-knowledge search', () => {
  it('returns the k nearest entries of the brand with cosine similarity, best first', async () => {
    const brand = await db.prisma.brandProfile.create({
      data: { workspaceId: seed.workspaceId, name: 'Search brand' },
    });
    await run({
      brandProfileId: brand.id,
      entries: [
        'Fresh sourdough bread baked every morning in our ovens',
        'Quarterly earnings for institutional investors',
        'Weekend bread baking workshops for beginners',
      ],
    });
    // The same texts in another workspace's brand must stay invisible.
    await run(
      {
        brandProfileId: other.brandProfileId,
        entries: ['Fresh sourdough bread baked every morning in our ovens'],
      },
      { workspaceId: other.workspaceId },
    );
    const o = await run({
      brandProfileId: brand.id,
      mode: 'search',
      query: 'sourdough bread baked fresh every morning',
      k: 2,
    });
    expect(o.embedder).toBe('local-hash-v1');
    expect(o.matches).toHaveLength(2);
    expect(o.matches[0].text).toBe('Fresh sourdough bread baked every morning in our ovens');
    expect(Object.keys(o.matches[0]).sort()).toEqual(['id', 'similarity', 'text']);
    expect(o.matches[0].similarity).toBeGreaterThan(o.matches[1].similarity);
    expect(o.matches[0].similarity).toBeLessThanOrEqual(1);
    const rows = await rowsOf(brand.id);
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(o.matches.map((m: any) => m.id)));
    const all = await run({ brandProfileId: brand.id, mode: 'search', query: 'bread', k: 20 });
    expect(all.matches).toHaveLength(3);
  });

  it('an empty query is a UserError naming the query field', async () => {
    const err = await failure(brandKnowledgeNode.run(ctxFor({ mode: 'search', query: '  ' })));
    expect(err).toBeInstanceOf(UserError);
    expect(err.field).toBe('config.query');
  });
});

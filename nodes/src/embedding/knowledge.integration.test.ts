import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '@gridflow/db';
import { createLocalEmbedder } from './local-embedder.js';
import { createEmbedder } from './embedder.js';
import { nearestKnowledge, storeKnowledgeEntry } from './knowledge.js';
import { startFakeOpenAI, type FakeOpenAI } from '../testing/fake-openai-server.js';

let db: Database;
let fake: FakeOpenAI;
beforeAll(async () => {
  [db, fake] = await Promise.all([createTestDatabase('postgres'), startFakeOpenAI()]);
});
afterAll(async () => {
  await Promise.all([db?.close(), fake?.close()]);
});

describe('knowledge entries with pgvector (PostgreSQL)', () => {
  it('stores vectors and finds the nearest of the same embedder, scoped to the workspace', async () => {
    const [ws, other] = await Promise.all([
      db.prisma.workspace.create({ data: { name: 'A', slug: 'kn-a' } }),
      db.prisma.workspace.create({ data: { name: 'B', slug: 'kn-b' } }),
    ]);
    const brand = await db.prisma.brandProfile.create({
      data: { workspaceId: ws.id, name: 'Bakery' },
    });
    const otherBrand = await db.prisma.brandProfile.create({
      data: { workspaceId: other.id, name: 'Bakery' },
    });
    const local = createLocalEmbedder();
    const openai = createEmbedder({ openaiApiKey: fake.apiKey, openaiBaseUrl: fake.url });
    await storeKnowledgeEntry(
      db.prisma,
      ws.id,
      brand.id,
      'Fresh sourdough bread baked every morning',
      local,
    );
    await storeKnowledgeEntry(
      db.prisma,
      ws.id,
      brand.id,
      'Quarterly earnings for institutional investors',
      local,
    );
    // Same text, different embedder: must never be compared with local vectors.
    await storeKnowledgeEntry(
      db.prisma,
      ws.id,
      brand.id,
      'Fresh sourdough bread baked every morning',
      openai,
    );
    // Same brand name, other workspace: invisible.
    await storeKnowledgeEntry(
      db.prisma,
      other.id,
      otherBrand.id,
      'Fresh sourdough bread baked every morning',
      local,
    );

    const q = await local.embed('Our sourdough is baked fresh each morning');
    const hits = await nearestKnowledge(db.prisma, ws.id, brand.id, q, 5);
    expect(hits.map((h) => h.content)).toEqual([
      'Fresh sourdough bread baked every morning',
      'Quarterly earnings for institutional investors',
    ]);
    expect(hits[0]!.similarity).toBeGreaterThan(hits[1]!.similarity);
    expect(hits[0]!.similarity).toBeLessThanOrEqual(1);

    const viaOpenAI = await nearestKnowledge(
      db.prisma,
      ws.id,
      brand.id,
      await openai.embed('sourdough'),
      5,
    );
    expect(viaOpenAI).toHaveLength(1);
    const row = await db.prisma.brandKnowledgeEntry.findFirstOrThrow({
      where: { workspaceId: ws.id, embedder: 'openai:text-embedding-3-small' },
    });
    expect(row.dimension).toBe(1536);
    expect(await nearestKnowledge(db.prisma, ws.id, brand.id, await local.embed(''), 5)).toEqual(
      [],
    );
  });
});

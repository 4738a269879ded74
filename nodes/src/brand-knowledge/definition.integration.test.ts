/**
 * brand-knowledge inside real runs of the engine in embedded mode (PGlite + in-process queue):
 * `{{ }}` entries and query resolved by the runtime, vectors from the local embedder through the
 * engine's `embed` service, dedupe across runs, and a missing brand profile failing the run with a
 * UserError.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '@gridflow/db';
import { createEngine, type EngineInternals } from '@gridflow/runtime/engine-impl';
import { createSandbox } from '@gridflow/runtime/sandbox';
import { createHttpClient } from '@gridflow/runtime/http-client';
import { gridDocumentSchema, type GridDocumentInput } from '@gridflow/runtime/document';
import { validateGrid } from '@gridflow/runtime/validate';
import type { Json } from '@gridflow/runtime/node-type';
import { registry } from '../registry.js';
import { createLocalEmbedder } from '../embedding/local-embedder.js';
import { seedWorkspace, type SeededWorkspace } from '../testing/content-fixtures.js';

const node = (id: string, type: string, config: Record<string, unknown>, x = 0) => ({
  id,
  type,
  typeVersion: 1,
  name: id,
  position: { x, y: 0 },
  config,
});
const edge = (source: string, sourceHandle: string, target: string, targetHandle: string) => ({
  id: `${source}-${target}`,
  source,
  sourceHandle,
  target,
  targetHandle,
  kind: 'default' as const,
});

describe('brand-knowledge in a real run (embedded: PGlite)', () => {
  let db: Database;
  let engine: EngineInternals;
  let seed: SeededWorkspace;
  let gridId: string;
  const sandbox = createSandbox({ poolSize: 1 });
  const embedder = createLocalEmbedder();
  let embedCalls = 0;

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    seed = await seedWorkspace(db.prisma);
    gridId = (
      await db.prisma.grid.create({
        data: { workspaceId: seed.workspaceId, name: 'Knowledge', document: {} },
      })
    ).id;
    engine = createEngine({
      db,
      registry,
      queuePrefix: `gft-knowledge-${randomBytes(4).toString('hex')}`,
      workers: 2,
      services: {
        sandbox,
        http: (signal) => createHttpClient({ signal }),
        embed: (text) => {
          embedCalls++;
          return embedder.embed(text);
        },
        encrypt: (s) => s,
        decrypt: (s) => s,
        env: { platformBaseUrls: {}, publicUrl: 'http://localhost:3000' },
      },
      leaseMs: 10_000,
      sweepIntervalMs: 500,
      staleMs: 5000,
    });
    await engine.start();
  });

  afterAll(async () => {
    await engine?.stop();
    await db?.close();
    sandbox.dispose();
  });

  function grid(brandProfileId: string): GridDocumentInput {
    return {
      schemaVersion: 1,
      nodes: [
        node('start', 'trigger', { mode: 'manual', fields: [] }),
        node(
          'store',
          'brand-knowledge',
          { brandProfileId, entries: '{{ trigger.posts }}', source: 'run-test', tags: ['voice'] },
          200,
        ),
        node(
          'search',
          'brand-knowledge',
          { brandProfileId, mode: 'search', query: '{{ trigger.question }}', k: 2 },
          400,
        ),
      ],
      edges: [edge('start', 'out', 'store', 'main'), edge('store', 'main', 'search', 'main')],
    };
  }

  async function run(doc: GridDocumentInput, trigger: Json) {
    expect(validateGrid(doc, registry).errors).toEqual([]);
    const { executionId } = await engine.startRun({
      workspaceId: seed.workspaceId,
      gridId,
      gridVersionId: null,
      document: gridDocumentSchema.parse(doc),
      triggerType: 'manual',
      triggerData: trigger,
    });
    const summary = await engine.waitForCompletion(executionId, 60_000);
    if (!summary) throw new Error('run did not finish');
    return summary;
  }

  const posts: Array<string | { text: string; title?: string; source?: string }> = [
    { title: 'Morning bake', text: 'Sourdough loaves out of the oven at dawn, crackling crusts.' },
    { text: 'Our workshops teach home bakers the slow way to bread.', source: 'blog' },
    'Quarterly numbers are in: revenue up, costs down.',
  ];
  const trigger = { posts, question: 'fresh sourdough loaves at dawn' } as unknown as Json;

  it('stores the resolved entries, then finds the nearest; a second run stores nothing new', async () => {
    const first = await run(grid(seed.brandProfileId), trigger);
    expect(first.error).toBeUndefined();
    expect(first.status).toBe('completed');
    const stored = first.outputs.store as Record<string, Json>;
    expect(stored).toMatchObject({
      stored: 3,
      skipped: 0,
      embedder: 'local-hash-v1',
      dimension: 512,
    });
    const rows = await db.prisma.brandKnowledgeEntry.findMany({
      where: { workspaceId: seed.workspaceId, brandProfileId: seed.brandProfileId },
      orderBy: { createdAt: 'asc' },
    });
    expect(rows.map((r) => r.id).sort()).toEqual([...(stored.entryIds as string[])].sort());
    expect(new Set(rows.map((r) => `${r.embedder}/${r.dimension}`))).toEqual(
      new Set(['local-hash-v1/512']),
    );
    expect(rows.find((r) => r.title === 'Morning bake')).toMatchObject({
      category: 'run-test',
      tags: ['voice'],
    });
    expect(rows.find((r) => r.content.startsWith('Our workshops'))!.category).toBe('blog');

    const matches = (first.outputs.search as { matches: Array<Record<string, Json>> }).matches;
    expect(matches).toHaveLength(2);
    expect(matches[0]!.text).toBe((posts[0] as { text: string }).text);
    expect(matches[0]!.similarity as number).toBeGreaterThan(matches[1]!.similarity as number);

    const callsBefore = embedCalls;
    const second = await run(grid(seed.brandProfileId), trigger);
    expect(second.status).toBe('completed');
    expect(second.outputs.store).toMatchObject({ stored: 0, skipped: 3, entryIds: [] });
    // One probe embedding for the batch and one for the query: nothing re-embedded.
    expect(embedCalls - callsBefore).toBe(2);
    expect(
      await db.prisma.brandKnowledgeEntry.count({
        where: { workspaceId: seed.workspaceId, brandProfileId: seed.brandProfileId },
      }),
    ).toBe(3);
  });

  it('fails the run with a UserError naming brandProfileId when the brand is not in the workspace', async () => {
    const summary = await run(grid('choose-a-brand-profile'), trigger);
    expect(summary.status).toBe('failed');
    expect(summary.error?.message).toMatch(/"choose-a-brand-profile" \(brandProfileId\)/);
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- node outputs are Json; tests read them loosely and check them with expect */
/**
 * The content pipeline end to end inside real runs of the engine, with the real node registry:
 * trigger → generate → brand-guard → approval → publish → delay → analytics, against the fake
 * OpenAI and fake platform servers (real `openai` client, runtime's SSRF-safe HTTP client).
 * Embedded (PGlite, in-process queue) and scaled (PostgreSQL + BullMQ on Redis).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '@gridflow/db';
import { gridDocumentSchema, type Json, type RuntimeEvent } from '@gridflow/runtime';
import { createEngine, type EngineInternals } from '@gridflow/runtime/engine-impl';
import { createSandbox } from '@gridflow/runtime/sandbox';
import { createHttpClient } from '@gridflow/runtime/http-client';
import { registry } from '../registry.js';
import { createEmbedder } from '../embedding/embedder.js';
import { storeKnowledgeEntry } from '../embedding/knowledge.js';
import { applyApprovalDecision } from '../approval/decision.js';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai-server.js';
import { startFakePlatform, type FakePlatform } from './fake-platform-server.js';
import { seedWorkspace, type SeededWorkspace } from './content-fixtures.js';

const modes = [
  { name: 'embedded (PGlite, in-process queue)', kind: 'pglite' as const, redis: false },
  { name: 'scaled (PostgreSQL, BullMQ on Redis)', kind: 'postgres' as const, redis: true },
];

function contentGrid(brandProfileId: string, approverId: string) {
  const node = (id: string, type: string, config: Record<string, unknown>, x: number) => ({
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
    kind: 'default',
  });
  return gridDocumentSchema.parse({
    schemaVersion: 1,
    nodes: [
      node('trigger', 'trigger', { mode: 'manual' }, 0),
      node(
        'generate',
        'generate',
        {
          prompt: 'Announce {{ trigger.topic }} at Acme sourdough bakery',
          platform: 'linkedin',
          variants: 2,
          brandProfileId,
        },
        200,
      ),
      node(
        'guard',
        'brand-guard',
        {
          brandProfileId,
          text: '{{ nodes.generate.output.text }}',
          platform: 'linkedin',
          enforcement: 'autofix',
          rules: { requiredHashtags: ['AcmeBakes'] },
        },
        400,
      ),
      node(
        'approve',
        'approval',
        {
          title: 'Spring post',
          steps: [{ name: 'Review', approvers: { userIds: [approverId] }, required: 1 }],
          timeout: { afterHours: 48, action: 'reject' },
        },
        600,
      ),
      node('publish', 'publish', { platform: 'linkedin' }, 800),
      node('wait', 'delay', { mode: 'duration', amount: 1, unit: 'seconds' }, 1000),
      node('measure', 'analytics', { mode: 'post' }, 1200),
    ],
    edges: [
      edge('trigger', 'out', 'generate', 'main'),
      edge('generate', 'main', 'guard', 'main'),
      edge('guard', 'pass', 'approve', 'main'),
      edge('approve', 'approved', 'publish', 'main'),
      edge('publish', 'main', 'wait', 'in'),
      edge('wait', 'out', 'measure', 'main'),
    ],
    settings: {},
  });
}

describe.each(modes)('content grid end to end: $name', ({ kind, redis }) => {
  let db: Database;
  let openai: FakeOpenAI;
  let platform: FakePlatform;
  let engine: EngineInternals;
  let seed: SeededWorkspace;
  let gridId: string;
  const sandbox = createSandbox({ poolSize: 1 });
  const events: RuntimeEvent[] = [];

  beforeAll(async () => {
    [db, openai, platform] = await Promise.all([
      createTestDatabase(kind),
      startFakeOpenAI(),
      startFakePlatform(),
    ]);
    openai.setReply(
      (_body, i) =>
        `Acme spring sourdough workshop${i ? ` (take ${i + 1})` : ''}: slow ferments, local flour, warm ovens at dawn. Practical baking for home bakers.`,
    );
    seed = await seedWorkspace(db.prisma);
    gridId = (
      await db.prisma.grid.create({
        data: { workspaceId: seed.workspaceId, name: 'Content pipeline', document: {} },
      })
    ).id;
    const embedder = createEmbedder({ openaiApiKey: openai.apiKey, openaiBaseUrl: openai.url });
    await storeKnowledgeEntry(
      db.prisma,
      seed.workspaceId,
      seed.brandProfileId,
      'At Acme we bake sourdough the slow way: long ferments, local flour, warm ovens at dawn.',
      embedder,
    );
    await db.prisma.socialAccount.create({
      data: {
        workspaceId: seed.workspaceId,
        platform: 'linkedin',
        platformAccountId: 'urn:li:organization:42',
        username: 'acme',
        accessTokenEncrypted: Buffer.from('test-access-token').toString('base64'),
      },
    });
    engine = createEngine({
      db,
      registry,
      ...(redis ? { redisUrl: 'redis://127.0.0.1:6379' } : {}),
      queuePrefix: `gft-content-${randomBytes(4).toString('hex')}`,
      workers: 2,
      sweepIntervalMs: 300,
      services: {
        sandbox,
        http: (signal) => createHttpClient({ signal }),
        embed: (text) => embedder.embed(text),
        encrypt: (s) => Buffer.from(s).toString('base64'),
        decrypt: (s) => Buffer.from(s, 'base64').toString(),
        env: {
          openaiApiKey: openai.apiKey,
          openaiBaseUrl: openai.url,
          platformBaseUrls: { linkedin: platform.url },
          publicUrl: 'http://gridflow.test',
        },
      },
    });
    engine.onEvent((e) => events.push(e));
    await engine.start();
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
    await Promise.all([db?.close(), openai?.close(), platform?.close()]);
    sandbox.dispose();
  });

  it('generates, guards (autofix), waits for approval, publishes once, waits, and measures', async () => {
    const { executionId } = await engine.startRun({
      workspaceId: seed.workspaceId,
      gridId,
      gridVersionId: null,
      document: contentGrid(seed.brandProfileId, seed.users.approver),
      triggerType: 'manual',
      triggerData: { topic: 'the spring workshop' } as Json,
    });

    // The run suspends at the approval step.
    let approval = null;
    for (let i = 0; i < 300 && !approval; i++) {
      approval = await db.prisma.approvalRequest.findFirst({
        where: { workspaceId: seed.workspaceId, executionId },
      });
      if (!approval) await new Promise((r) => setTimeout(r, 100));
    }
    expect(approval).not.toBeNull();
    expect(approval!.status).toBe('pending');
    expect(
      await db.prisma.notification.count({
        where: {
          userId: seed.users.approver,
          data: { path: ['approvalId'], equals: approval!.id },
        },
      }),
    ).toBe(1);
    expect(platform.posts).toHaveLength(0);

    // What the server's decision endpoint does: record the vote, resume the run when final.
    const result = await applyApprovalDecision(db.prisma, {
      workspaceId: seed.workspaceId,
      approvalId: approval!.id,
      userId: seed.users.approver,
      decision: 'approved',
      comment: 'Lovely',
    });
    expect(result.status).toBe('final');
    if (result.status !== 'final') return;
    expect(
      await engine.resume(executionId, result.final.nodeId!, {
        decision: 'approved',
        approverId: result.final.approverId,
        comment: result.final.comment,
      }),
    ).toBe('resumed');

    const summary = await engine.waitForCompletion(executionId, 60_000);
    expect(summary?.status).toBe('completed');
    const out = summary!.outputs as Record<string, any>;
    expect(out['generate'].writer).toBe('openai');
    expect(out['generate'].variants).toHaveLength(2);
    expect(out['guard'].passed).toBe(true);
    expect(out['guard'].fixedText).toContain('#AcmeBakes');
    expect(out['guard'].voice.embedder).toBe('openai:text-embedding-3-small');
    expect(out['approve']).toMatchObject({
      decision: 'approved',
      approverId: seed.users.approver,
      comment: 'Lovely',
    });
    expect(out['publish'].postId).toMatch(/^urn:li:share:/);
    expect(out['measure'].publishedPostId).toBe(out['publish'].publishedPostId);
    expect(out['measure'].metrics.impressions).toBeGreaterThan(0);

    // Exactly one post, with the guarded text; everything recorded in the workspace.
    expect(platform.posts).toHaveLength(1);
    expect(platform.duplicates).toBe(0);
    expect(platform.posts[0]!.text).toBe(out['guard'].fixedText);
    const ws = { workspaceId: seed.workspaceId };
    expect(
      await db.prisma.generatedContent.findFirstOrThrow({
        where: { ...ws, id: out['generate'].contentId },
      }),
    ).toMatchObject({ status: 'published', complianceScore: out['guard'].score });
    expect(await db.prisma.guardResult.count({ where: ws })).toBe(1);
    expect(await db.prisma.publishAttempt.count({ where: ws })).toBe(1);
    expect(await db.prisma.engagementMetric.count({ where: ws })).toBe(1);
    expect(await db.prisma.apiUsage.count({ where: { ...ws, executionId } })).toBe(1);
    const steps = events
      .filter((e) => e.executionId === executionId && e.type === 'step' && e.status === 'completed')
      .map((e) => (e as { nodeId: string }).nodeId);
    expect(steps).toEqual([
      'trigger',
      'generate',
      'guard',
      'approve',
      'publish',
      'wait',
      'measure',
    ]);
  }, 120_000);
});

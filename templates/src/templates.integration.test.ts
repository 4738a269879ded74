/**
 * Every template installs (setup answers applied) and runs to completion on the real engine in
 * embedded mode (PGlite, in-process queue) and scaled mode (PostgreSQL, BullMQ on Redis): real node types, the isolated-vm sandbox, the SSRF-safe
 * HTTP client, the offline writer (no OpenAI key), the local embedder, and the fake platform server
 * speaking each platform's API. Approvals are decided by the test through `applyApprovalDecision`
 * (what the server's approval route calls) and delays are ended like the timer would.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '@gridflow/db';
import {
  createEngine,
  type EngineInternals,
  type EngineServices,
} from '@gridflow/runtime/engine-impl';
import { createSandbox } from '@gridflow/runtime/sandbox';
import { createHttpClient } from '@gridflow/runtime/http-client';
import { gridDocumentSchema, type GridDocument } from '@gridflow/runtime/document';
import type { Json } from '@gridflow/runtime/node-type';
import type { ExecutionSummary } from '@gridflow/runtime/engine';
import { registry } from '@gridflow/nodes';
import { applyApprovalDecision } from '@gridflow/nodes/approval/decision';
import { PLATFORM_RULES, platformLength } from '@gridflow/nodes/brand-guard/platform-limits';
import { createEmbedder } from '@gridflow/nodes/embedding/index';
import { seedWorkspace, type SeededWorkspace } from '@gridflow/nodes/testing/content-fixtures';
import { startFakePlatform, type FakePlatform } from '@gridflow/nodes/testing/fake-platform-server';
import {
  listen,
  readRequest,
  type Listening,
  type RecordedRequest,
} from '@gridflow/nodes/testing/http-util';
import { applySetup, loadTemplates, validateTemplate, type LoadedTemplate } from './index.js';

const templates = new Map(loadTemplates().map((t) => [t.slug, t]));
const tpl = (slug: string) => templates.get(slug)!;

// Reversible stand-in for the crypto helper (real encryption is tested in @gridflow/db).
const enc = (s: string) => `fake-enc:${Buffer.from(s, 'utf8').toString('base64')}`;
const dec = (s: string) => {
  if (!s.startsWith('fake-enc:')) throw new Error('not encrypted');
  return Buffer.from(s.slice(9), 'base64').toString('utf8');
};

const modes = [
  { name: 'embedded: PGlite + in-process queue', kind: 'pglite' as const, redisUrl: undefined },
  {
    name: 'scaled: PostgreSQL + BullMQ on Redis',
    kind: 'postgres' as const,
    redisUrl: 'redis://127.0.0.1:6379',
  },
];

describe.each(modes)('templates run end to end ($name)', ({ kind, redisUrl }) => {
  let db: Database;
  let engine: EngineInternals;
  let fake: FakePlatform;
  let chat: Listening;
  let seed: SeededWorkspace;
  let gridId: string;
  const chatMessages: RecordedRequest[] = [];
  const sandbox = createSandbox({ poolSize: 2 });
  const embedder = createEmbedder({});

  beforeAll(async () => {
    [db, fake] = await Promise.all([createTestDatabase(kind), startFakePlatform()]);
    // A lenient brand so the offline writer's drafts pass; the banned term is checked for real.
    seed = await seedWorkspace(db.prisma, {
      requiredTerms: [],
      bannedTerms: ['guaranteed'],
      enforcementLevel: 'advisory',
      minComplianceScore: 0.5,
    });
    gridId = (
      await db.prisma.grid.create({
        data: { workspaceId: seed.workspaceId, name: 'Template runs', document: {} },
      })
    ).id;
    const accounts: Array<[string, string]> = [
      ['linkedin', 'urn:li:organization:42'],
      ['x', '1449'],
      ['facebook', '555'],
      ['instagram', '1789001'],
    ];
    for (const [platform, platformAccountId] of accounts) {
      await db.prisma.socialAccount.create({
        data: {
          workspaceId: seed.workspaceId,
          platform,
          platformAccountId,
          username: 'acmebakery',
          accessTokenEncrypted: enc('test-access-token'),
        },
      });
    }
    chat = await listen(async (req, res) => {
      chatMessages.push(await readRequest(req));
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    const services: EngineServices = {
      sandbox,
      // The operator setting that lets workers reach local addresses: the fakes listen on loopback.
      http: (signal) => createHttpClient({ signal, allowPrivateNetwork: true }),
      embed: (text) => embedder.embed(text),
      encrypt: enc,
      decrypt: dec,
      env: {
        platformBaseUrls: {
          linkedin: fake.url,
          x: fake.url,
          facebook: fake.url,
          instagram: fake.url,
        },
        publicUrl: 'http://localhost:3000',
      },
    };
    engine = createEngine({
      db,
      registry,
      ...(redisUrl ? { redisUrl } : {}),
      workers: 4,
      services,
      queuePrefix: `gft-templates-${randomBytes(4).toString('hex')}`,
      leaseMs: 10_000,
      sweepIntervalMs: 500,
      staleMs: 5_000,
    });
    await engine.start();
  });

  afterAll(async () => {
    await engine?.stop();
    await Promise.all([db?.close(), fake?.close(), chat?.close()]);
    sandbox.dispose();
  });

  const ROLE_USER = (role: string): string | undefined =>
    ({
      owner: seed.users.owner,
      admin: seed.users.admin,
      editor: seed.users.editor,
      approver: seed.users.approver,
    })[role];

  /** Installs a template: setup answers applied, validated, defaults filled in. */
  function install(t: LoadedTemplate, answers: Record<string, unknown>): GridDocument {
    const doc = applySetup(t, answers);
    const check = validateTemplate({ ...t, document: doc }, registry);
    expect(check.errors).toEqual([]);
    return gridDocumentSchema.parse(doc);
  }

  interface Driven {
    summary: ExecutionSummary;
    decisions: Array<{ nodeId: string; step: number; decision: string }>;
  }

  /**
   * Runs to completion: approvals are decided step by step by an eligible member (the engine is
   * resumed with the final decision, like the server's approval route does), delays are ended.
   */
  async function runToCompletion(
    doc: GridDocument,
    triggerType: 'manual' | 'webhook' | 'schedule',
    triggerData: Json,
    decide: (nodeId: string) => 'approved' | 'rejected' = () => 'approved',
    timeoutMs = 90_000,
  ): Promise<Driven> {
    const { executionId } = await engine.startRun({
      workspaceId: seed.workspaceId,
      gridId,
      gridVersionId: null,
      document: doc,
      triggerType,
      triggerData,
    });
    const decisions: Driven['decisions'] = [];
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const summary = await engine.waitForCompletion(executionId, 250);
      if (summary) return { summary, decisions };
      const waiting = await db.sql.query<{ node_id: string; item_index: number }>(
        `SELECT node_id, item_index FROM execution_steps WHERE execution_id = $1 AND status = 'waiting'`,
        [executionId],
      );
      for (const w of waiting.rows) {
        const node = doc.nodes.find((n) => n.id === w.node_id)!;
        const itemIndex = w.item_index < 0 ? null : w.item_index;
        if (node.type === 'delay') {
          await engine.resume(executionId, node.id, { reason: 'timer' }, itemIndex);
        } else if (node.type === 'approval') {
          const request = await db.prisma.approvalRequest.findFirst({
            where: {
              workspaceId: seed.workspaceId,
              executionId,
              nodeId: node.id,
              status: 'pending',
            },
          });
          if (!request) continue; // created in the same transaction as the wait; seen on the next turn
          const steps = request.steps as Array<{ approverRoles?: string[] }>;
          const role = steps[request.currentStep]?.approverRoles?.find((r) => ROLE_USER(r));
          const decision = decide(node.id);
          const result = await applyApprovalDecision(db.prisma, {
            workspaceId: seed.workspaceId,
            approvalId: request.id,
            userId: ROLE_USER(role!)!,
            decision,
          });
          decisions.push({ nodeId: node.id, step: request.currentStep, decision });
          if (result.status === 'final') {
            const f = result.final;
            await engine.resume(
              executionId,
              node.id,
              {
                decision: f.decision,
                approverId: f.approverId ?? null,
                comment: f.comment ?? null,
              },
              itemIndex,
            );
          }
        }
      }
    }
    throw new Error(`run ${executionId} did not finish within ${timeoutMs} ms`);
  }

  type Out = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const out = (s: ExecutionSummary, nodeId: string) => s.outputs[nodeId] as Out;

  describe('every template', () => {
    it('blog-post-to-linkedin: generate → guard → branch → approval → publish → 24 h delay → analytics', async () => {
      const t = tpl('blog-post-to-linkedin');
      const doc = install(t, { brandProfile: seed.brandProfileId });
      const before = fake.posts.length;
      const { summary, decisions } = await runToCompletion(doc, 'webhook', t.sampleTrigger as Json);
      expect(summary.error).toBeUndefined();
      expect(summary.status).toBe('completed');
      expect(out(summary, 'gen').writer).toBe('offline-template');
      expect(out(summary, 'guard').score).toBeGreaterThanOrEqual(70);
      expect(decisions).toEqual([{ nodeId: 'approval', step: 0, decision: 'approved' }]);
      const posted = fake.posts.slice(before);
      expect(posted).toHaveLength(1);
      expect(posted[0]).toMatchObject({ platform: 'linkedin', target: 'urn:li:organization:42' });
      expect(out(summary, 'publish').postId).toBe(posted[0]!.id);
      expect(out(summary, 'analytics').metrics.impressions).toBeGreaterThan(0);
      expect(out(summary, 'analytics').benchmark.days).toBe(90);
    });

    it('event-live-coverage: X update and Instagram caption, autofixed and published', async () => {
      const t = tpl('event-live-coverage');
      const doc = install(t, { brandProfile: seed.brandProfileId });
      const before = fake.posts.length;
      const { summary } = await runToCompletion(doc, 'schedule', t.sampleTrigger as Json);
      expect(summary.status).toBe('completed');
      expect(out(summary, 'guard_x').text).toContain('#ContentOpsSummit');
      const posted = fake.posts
        .slice(before)
        .map((p) => p.platform)
        .sort();
      expect(posted).toEqual(['instagram', 'x']);
      expect(
        platformLength('x', fake.posts.slice(before).find((p) => p.platform === 'x')!.text),
      ).toBeLessThanOrEqual(280);
    });

    it('weekly-performance-digest: digest of stored metrics, summary sent to chat', async () => {
      const t = tpl('weekly-performance-digest');
      const doc = install(t, { chatWebhookUrl: `${chat.url}/digest` });
      const before = chatMessages.length;
      const { summary } = await runToCompletion(doc, 'schedule', t.sampleTrigger as Json);
      expect(summary.status).toBe('completed');
      expect(out(summary, 'analytics')).toMatchObject({ mode: 'digest', days: 7 });
      const sent = chatMessages.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.path).toBe('/digest');
      expect((sent[0]!.body as { text: string }).text).toBe(out(summary, 'gen').text);
    });

    it('weekly-performance-digest without a chat webhook completes without sending', async () => {
      const t = tpl('weekly-performance-digest');
      const before = chatMessages.length;
      const { summary } = await runToCompletion(
        install(t, {}),
        'schedule',
        t.sampleTrigger as Json,
      );
      expect(summary.status).toBe('completed');
      expect(summary.outputs.post).toBeUndefined();
      expect(chatMessages.length).toBe(before);
    });

    it('caption-ab-test: two variants published, compared after the delay, winner announced', async () => {
      const t = tpl('caption-ab-test');
      const doc = install(t, { chatWebhookUrl: `${chat.url}/ab` });
      const before = fake.posts.length;
      const { summary } = await runToCompletion(doc, 'manual', t.sampleTrigger as Json);
      expect(summary.status).toBe('completed');
      const posted = fake.posts.slice(before);
      expect(posted).toHaveLength(2);
      expect(posted[0]!.text).not.toBe(posted[1]!.text);
      const ab = out(summary, 'ab');
      expect(ab.mode).toBe('ab');
      expect(['A', 'B', 'none']).toContain(ab.winner);
      const message = chatMessages.filter((m) => m.path === '/ab').at(-1)!;
      expect((message.body as { text: string }).text).toBe(out(summary, 'winner').text);
      expect(out(summary, 'winner').text).toMatch(
        /A\/B test on ".*": (variant [AB] wins|no clear winner)/,
      );
    });

    it('agency-compliance-gate: compliant content, two-step approval, published per platform', async () => {
      const t = tpl('agency-compliance-gate');
      const doc = install(t, { brandProfile: seed.brandProfileId });
      const before = fake.posts.length;
      const { summary, decisions } = await runToCompletion(doc, 'webhook', t.sampleTrigger as Json);
      expect(summary.status).toBe('completed');
      expect(out(summary, 'guard').passed).toBe(true);
      expect(decisions.map((d) => d.step)).toEqual([0, 1]);
      expect(fake.posts.slice(before).map((p) => p.platform)).toEqual(
        expect.arrayContaining(['linkedin', 'x']),
      );
      expect(out(summary, 'summary').posts.map((p: Out) => p.platform)).toEqual(['linkedin', 'x']);
    });

    it('agency-compliance-gate: content without the disclaimer is blocked before approval', async () => {
      const t = tpl('agency-compliance-gate');
      const doc = install(t, { brandProfile: seed.brandProfileId });
      const body = {
        ...(t.sampleTrigger as { body: Out }).body,
        text: 'Guaranteed results with our new blend, order today.',
      };
      const before = fake.posts.length;
      const { summary, decisions } = await runToCompletion(doc, 'webhook', {
        body,
        query: {},
        headers: {},
        method: 'POST',
      });
      expect(summary.status).toBe('completed');
      expect(out(summary, 'blocked').status).toBe('blocked');
      expect(decisions).toEqual([]);
      expect(fake.posts.length).toBe(before);
    });

    it('repurpose-brief-per-platform: one draft per platform, checked by brand guard', async () => {
      const t = tpl('repurpose-brief-per-platform');
      const doc = install(t, { brandProfile: seed.brandProfileId });
      const { summary } = await runToCompletion(doc, 'manual', t.sampleTrigger as Json);
      expect(summary.status).toBe('completed');
      const collected = out(summary, 'collect');
      expect(collected.drafts.map((d: Out) => d.platform)).toEqual(['linkedin', 'x', 'facebook']);
      expect([...collected.ready, ...collected.needsEdit].sort()).toEqual([
        'facebook',
        'linkedin',
        'x',
      ]);
      // Ready drafts fit their platform (X counts each link as 23 characters).
      for (const d of collected.drafts.filter((d: Out) => d.status === 'ready')) {
        expect(platformLength(d.platform, d.text), d.platform).toBeLessThanOrEqual(
          PLATFORM_RULES[d.platform as 'x'].maxChars,
        );
      }
    });

    it('repurpose-brief-per-platform: run-form defaults apply (platforms omitted)', async () => {
      const t = tpl('repurpose-brief-per-platform');
      const { summary } = await runToCompletion(
        install(t, { brandProfile: seed.brandProfileId }),
        'manual',
        { brief: 'Short brief about our bakery workshops.' },
      );
      expect(summary.status).toBe('completed');
      expect(out(summary, 'collect').drafts.map((d: Out) => d.platform)).toEqual([
        'linkedin',
        'x',
        'facebook',
      ]);
    });

    it('failed-publish-recovery: a rejected post takes the error edge, notifies chat, and is retried after approval', async () => {
      const t = tpl('failed-publish-recovery');
      const doc = install(t, { chatWebhookUrl: `${chat.url}/alerts` });
      fake.failNext(1, { status: 400, message: 'Invalid token for this page' });
      const before = fake.posts.length;
      const { summary, decisions } = await runToCompletion(doc, 'manual', t.sampleTrigger as Json);
      expect(summary.status).toBe('completed');
      expect(out(summary, 'describe')).toMatchObject({ platform: 'linkedin' });
      expect(out(summary, 'describe').reason).toMatch(/400|Invalid token/);
      const alert = chatMessages.filter((m) => m.path === '/alerts').at(-1)!;
      expect((alert.body as { text: string }).text).toMatch(/^Publishing to linkedin failed: /);
      expect(decisions).toEqual([{ nodeId: 'approval', step: 0, decision: 'approved' }]);
      expect(fake.posts.slice(before)).toHaveLength(1);
      expect(out(summary, 'retry').postId).toBe(fake.posts.at(-1)!.id);
    });

    it('failed-publish-recovery: rejecting the retry drops the post', async () => {
      const t = tpl('failed-publish-recovery');
      fake.failNext(1, { status: 400, message: 'Invalid token for this page' });
      const before = fake.posts.length;
      const { summary } = await runToCompletion(
        install(t, {}),
        'manual',
        t.sampleTrigger as Json,
        () => 'rejected',
      );
      expect(summary.status).toBe('completed');
      expect(out(summary, 'dropped').status).toMatch(/retry rejected/);
      expect(fake.posts.length).toBe(before);
    });

    it('brand-voice-onboarding: each sample post becomes an embedded brand knowledge entry, once', async () => {
      const t = tpl('brand-voice-onboarding');
      const doc = install(t, { brandProfile: seed.brandProfileId });
      const where = { workspaceId: seed.workspaceId, brandProfileId: seed.brandProfileId };
      const before = await db.prisma.brandKnowledgeEntry.count({ where });
      const { summary } = await runToCompletion(doc, 'webhook', t.sampleTrigger as Json);
      expect(summary.error).toBeUndefined();
      expect(summary.status).toBe('completed');
      expect(out(summary, 'summary')).toMatchObject({
        brandProfileId: seed.brandProfileId,
        stored: 2,
        skipped: 0,
        embedder: embedder.name,
        dimension: embedder.dimension,
      });
      const entries = await db.prisma.brandKnowledgeEntry.findMany({
        where: { ...where, id: { in: out(summary, 'summary').entryIds } },
      });
      expect(entries).toHaveLength(2);
      expect(await db.prisma.brandKnowledgeEntry.count({ where })).toBe(before + 2);
      expect(entries.map((e) => e.title).sort()).toEqual(['Hiring post', 'Launch recap']);
      for (const e of entries) {
        expect(e).toMatchObject({
          embedder: 'local-hash-v1',
          dimension: 512,
          category: expect.stringMatching(/^https:\/\/www\.linkedin\.com\/feed\/update\//),
          tags: ['onboarding', 'voice'],
        });
        expect(e.content).not.toMatch(/\s{2,}/);
        expect(e.contentHash).toMatch(/^[0-9a-f]{64}$/);
      }
      const vectors = await db.sql.query<{ dims: number }>(
        `SELECT vector_dims(embedding) AS dims FROM brand_knowledge_entries WHERE workspace_id = $1 AND id = ANY($2::text[])`,
        [seed.workspaceId, entries.map((e) => e.id)],
      );
      expect(vectors.rows.map((r) => Number(r.dims))).toEqual([512, 512]);

      // The same posts again (plus a new one, messy whitespace, for the brand named in the request).
      const body = (t.sampleTrigger as { body: Out }).body;
      const again = await runToCompletion(doc, 'webhook', {
        body: {
          brandProfileId: seed.brandProfileId,
          posts: [...body.posts, { text: '  Behind the scenes:\n\n  our   Friday demo.  ' }],
        },
        query: {},
        headers: {},
        method: 'POST',
      });
      expect(again.summary.status).toBe('completed');
      expect(out(again.summary, 'summary')).toMatchObject({ stored: 1, skipped: 2 });
      const added = await db.prisma.brandKnowledgeEntry.findFirstOrThrow({
        where: { ...where, id: out(again.summary, 'summary').entryIds[0] },
      });
      expect(added).toMatchObject({
        content: 'Behind the scenes: our Friday demo.',
        title: 'Sample post 3',
        category: 'sample-post',
      });
      expect(await db.prisma.brandKnowledgeEntry.count({ where })).toBe(before + 3);
    });

    it('brand-voice-onboarding: a brand profile of no workspace fails the run, naming brandProfileId', async () => {
      const t = tpl('brand-voice-onboarding');
      const doc = install(t, { brandProfile: seed.brandProfileId });
      const { summary } = await runToCompletion(doc, 'webhook', {
        body: { brandProfileId: 'not-a-brand', posts: ['Hello'] },
        query: {},
        headers: {},
        method: 'POST',
      });
      expect(summary.status).toBe('failed');
      expect(summary.error).toMatchObject({ kind: 'user', field: 'config.brandProfileId' });
      expect(summary.error!.message).toMatch(/"not-a-brand" \(brandProfileId\)/);
    });

    it('covers every shipped template', () => {
      expect([...templates.keys()].sort()).toEqual([
        'agency-compliance-gate',
        'blog-post-to-linkedin',
        'brand-voice-onboarding',
        'caption-ab-test',
        'event-live-coverage',
        'failed-publish-recovery',
        'repurpose-brief-per-platform',
        'weekly-performance-digest',
      ]);
    });
  });
});

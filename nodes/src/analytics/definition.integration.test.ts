/* eslint-disable @typescript-eslint/no-explicit-any -- node outputs are Json; tests read them loosely and check them with expect */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '@gridflow/db';
import { RetryAfterError, type OutputResult } from '@gridflow/runtime';
import { analyticsConfigSchema, analyticsNode } from './definition.js';
import { publishConfigSchema, publishNode } from '../publish/definition.js';
import { createFakeContext } from '../testing/fake-context.js';
import { startFakePlatform, type FakePlatform } from '../testing/fake-platform-server.js';
import { createTestHttpClient } from '../testing/test-http-client.js';
import { seedWorkspace, type SeededWorkspace } from '../testing/content-fixtures.js';

let db: Database;
let fake: FakePlatform;
let seed: SeededWorkspace;
let accountId: string;
const http = createTestHttpClient();
const env = () => ({ platformBaseUrls: { linkedin: fake.url, x: fake.url } });

beforeAll(async () => {
  [db, fake] = await Promise.all([createTestDatabase('postgres'), startFakePlatform()]);
  seed = await seedWorkspace(db.prisma);
  accountId = (
    await db.prisma.socialAccount.create({
      data: {
        workspaceId: seed.workspaceId,
        platform: 'linkedin',
        platformAccountId: 'urn:li:organization:9',
        accessTokenEncrypted: `fake-enc:${Buffer.from('test-access-token').toString('base64')}`,
      },
    })
  ).id;
  // 90-day history: ten LinkedIn posts with engagement rates 1 %..10 % (avg 5.5 %, p90 9.1 %), and one too old to count.
  for (let i = 1; i <= 11; i++) {
    const old = i === 11;
    const post = await db.prisma.publishedPost.create({
      data: {
        workspaceId: seed.workspaceId,
        platform: 'linkedin',
        idempotencyKey: `hist-${seed.workspaceId}-${i}`,
        status: 'published',
        platformPostId: `urn:li:share:h${i}`,
        publishedAt: new Date(Date.now() - (old ? 120 : i) * 86_400_000),
      },
    });
    await db.prisma.engagementMetric.create({
      data: {
        workspaceId: seed.workspaceId,
        postId: post.id,
        platform: 'linkedin',
        measuredAt: new Date(Date.now() - i * 3_600_000),
        impressions: 1000,
        likes: old ? 900 : i * 10,
        clicks: i * 5,
      },
    });
  }
});
afterAll(async () => {
  await Promise.all([db?.close(), fake?.close()]);
});

let n = 0;
async function publish(text: string) {
  const ctx = createFakeContext({
    config: publishConfigSchema.parse({ accountId, text }),
    db: db.prisma,
    http,
    execution: { id: `an-pub-${++n}`, workspaceId: seed.workspaceId },
    env: env(),
  });
  return ((await publishNode.run(ctx)) as OutputResult).output as {
    publishedPostId: string;
    postId: string;
  };
}
function ctxFor(config: Record<string, unknown>, input: unknown = null, step = `an-${++n}`) {
  return createFakeContext({
    config: analyticsConfigSchema.parse(config),
    input: input as never,
    db: db.prisma,
    http,
    execution: { id: step, workspaceId: seed.workspaceId },
    env: env(),
  });
}
const out = (r: unknown) => (r as OutputResult).output as Record<string, any>;

describe('analytics node', () => {
  it('fetches metrics through the connector, stores a point, and scores against the 90-day benchmark', async () => {
    const p = await publish('Measured post');
    fake.setMetrics(p.postId, {
      impressions: 2000,
      reach: 1500,
      likes: 150,
      comments: 20,
      shares: 12,
      saves: 0,
      clicks: 60,
    });
    const res = out(await analyticsNode.run(ctxFor({}, { publishedPostId: p.publishedPostId })));
    expect(res.metrics).toEqual({
      impressions: 2000,
      reach: 1500,
      likes: 150,
      comments: 20,
      shares: 12,
      saves: 0,
      clicks: 60,
    });
    expect(res.engagementRate).toBeCloseTo(0.091, 6);
    expect(res.ctr).toBeCloseTo(0.03, 6);
    expect(res.benchmark).toMatchObject({ days: 90, posts: 10 });
    expect(res.benchmark.averageRate).toBeCloseTo(0.055, 6);
    expect(res.benchmark.p90Rate).toBeCloseTo(0.091, 6);
    expect(res.performanceScore).toBe(90);
    const points = await db.prisma.engagementMetric.findMany({
      where: { workspaceId: seed.workspaceId, postId: p.publishedPostId },
    });
    expect(points).toHaveLength(1);
    expect(points[0]!.engagementRate).toBeCloseTo(0.091, 6);
    const stats = fake.requests
      .filter((r) => r.path === '/rest/organizationalEntityShareStatistics')
      .at(-1)!;
    expect(stats.query['shares']).toBe(`List(${p.postId})`); // decoded by the server
    expect(stats.headers['linkedin-version']).toMatch(/^\d{6}$/);
  });

  it('a retried step reuses its point; a new step adds to the time series', async () => {
    const p = await publish('Time series');
    await analyticsNode.run(ctxFor({ publishedPostId: p.publishedPostId }, null, 'an-ts'));
    await analyticsNode.run(ctxFor({ publishedPostId: p.publishedPostId }, null, 'an-ts'));
    expect(await db.prisma.engagementMetric.count({ where: { postId: p.publishedPostId } })).toBe(
      1,
    );
    await analyticsNode.run(ctxFor({ publishedPostId: p.publishedPostId }, null, 'an-ts-2'));
    expect(await db.prisma.engagementMetric.count({ where: { postId: p.publishedPostId } })).toBe(
      2,
    );
  });

  it('A/B mode: two-proportion z-test picks the significant winner', async () => {
    const a = await publish('Variant A');
    const b = await publish('Variant B');
    fake.setMetrics(a.postId, {
      impressions: 1000,
      likes: 200,
      comments: 0,
      shares: 0,
      saves: 0,
      clicks: 10,
    });
    fake.setMetrics(b.postId, {
      impressions: 1000,
      likes: 250,
      comments: 0,
      shares: 0,
      saves: 0,
      clicks: 11,
    });
    const res = out(
      await analyticsNode.run(
        ctxFor({
          mode: 'ab',
          publishedPostId: a.publishedPostId,
          compareWithPostId: b.publishedPostId,
        }),
      ),
    );
    expect(res.winner).toBe('B');
    expect(res.winnerPostId).toBe(b.publishedPostId);
    expect(res.z).toBeCloseTo(-2.677398, 5);
    expect(res.pValue).toBeCloseTo(0.0074196, 6);
    expect(res.confidence).toBeCloseTo(0.99258, 4);
    const clicks = out(
      await analyticsNode.run(
        ctxFor({
          mode: 'ab',
          abMetric: 'clicks',
          publishedPostId: a.publishedPostId,
          compareWithPostId: b.publishedPostId,
        }),
      ),
    );
    expect(clicks.winner).toBe('none');
    expect(clicks.pValue).toBeGreaterThan(0.5);
  });

  it('digest mode aggregates the last N days against the benchmark without API calls', async () => {
    const calls = fake.requests.length;
    const res = out(
      await analyticsNode.run(ctxFor({ mode: 'digest', days: 3, platform: 'linkedin' })),
    );
    expect(fake.requests.length).toBe(calls);
    expect(res.mode).toBe('digest');
    // Posts published in the last 3 days: history posts 1 and 2 plus the ones published by the tests above.
    expect(res.overall.posts).toBeGreaterThanOrEqual(2);
    expect(res.platforms.map((p: { platform: string }) => p.platform)).toEqual(['linkedin']);
    expect(res.overall.benchmark.posts).toBeGreaterThanOrEqual(10);
    expect(res.overall.topPost).not.toBeNull();
  });

  it('maps platform rate limits to RetryAfterError and rejects unknown posts', async () => {
    const p = await publish('Rate limited metrics');
    fake.failNext(1, {
      status: 429,
      retryAfter: 9,
      pathPrefix: '/rest/organizationalEntityShareStatistics',
    });
    const err = await analyticsNode
      .run(ctxFor({ publishedPostId: p.publishedPostId }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as RetryAfterError).retryAfterMs).toBe(9000);
    await expect(analyticsNode.run(ctxFor({ publishedPostId: 'nope' }))).rejects.toMatchObject({
      name: 'UserError',
      field: 'config.publishedPostId',
    });
  });
});

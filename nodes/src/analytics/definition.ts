/**
 * analytics: fetches a published post's metrics from its platform connector, stores them as an
 * EngagementMetric point, and compares the engagement rate with the workspace's rolling 90-day
 * benchmark for that platform (average and p90 → performance score). `ab` mode compares two
 * posts with a two-proportion z-test; `digest` mode summarises the last N days (no API calls).
 */
import { z } from 'zod';
import { defineNodeType, output, UserError, type Json, type NodeContext } from '@gridflow/runtime';
import type { PublishedPost } from '@gridflow/db';
import {
  CONNECTORS,
  PlatformError,
  toRuntimeError,
  type ConnectorPlatform,
} from '../publish/connectors/index.js';
import { withAccountToken } from '../publish/accounts.js';
import {
  benchmarkOf,
  clickThroughRate,
  engagementRate,
  interactions,
  performanceScore,
  twoProportionZTest,
  type Benchmark,
  type MetricCounts,
} from './stats.js';

export const analyticsConfigSchema = z.object({
  mode: z.enum(['post', 'ab', 'digest']).default('post'),
  /** PublishedPost id (post mode, and variant A in ab mode); empty = the input's `publishedPostId`. */
  publishedPostId: z.string().default(''),
  /** Variant B's PublishedPost id (ab mode). */
  compareWithPostId: z.string().default(''),
  /** What counts as a success in the A/B test, per impression. */
  abMetric: z.enum(['engagement', 'clicks']).default('engagement'),
  /** Significance level of the A/B test. */
  alpha: z.number().min(0.001).max(0.2).default(0.05),
  /** Digest: the last N days. */
  days: z.number().int().min(1).max(365).default(7),
  /** Digest: only this platform. */
  platform: z.enum(['linkedin', 'x', 'facebook', 'instagram']).optional(),
});

export type AnalyticsConfig = z.infer<typeof analyticsConfigSchema>;
type Ctx = NodeContext<AnalyticsConfig>;

const DAY = 86_400_000;
export const BENCHMARK_DAYS = 90;

function inputField(input: Json, field: string): string | undefined {
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    const v = (input as Record<string, Json>)[field];
    if (typeof v === 'string') return v;
  }
  return undefined;
}

const round = (n: number, d = 6) => Math.round(n * 10 ** d) / 10 ** d;

function countsOf(m: MetricCounts): MetricCounts {
  return {
    impressions: m.impressions,
    reach: m.reach,
    likes: m.likes,
    comments: m.comments,
    shares: m.shares,
    saves: m.saves,
    clicks: m.clicks,
  };
}

async function loadPost(ctx: Ctx, id: string, field: string): Promise<PublishedPost> {
  const post = await ctx.db.publishedPost.findFirst({
    where: { id, workspaceId: ctx.execution.workspaceId },
  });
  if (!post)
    throw new UserError(
      `Published post "${id}" was not found in this workspace.`,
      field,
      'POST_NOT_FOUND',
    );
  if (post.status !== 'published' || !post.platformPostId)
    throw new UserError(
      `Post "${id}" is not published (status ${post.status}).`,
      field,
      'POST_NOT_PUBLISHED',
    );
  if (post.platform === 'generic')
    throw new UserError(
      'Posts sent through the generic webhook have no platform metrics.',
      field,
      'NO_METRICS',
    );
  return post;
}

/** Fetches and stores one metrics point; a retried step reuses the point it stored. */
async function measure(ctx: Ctx, post: PublishedPost, slot: string) {
  const workspaceId = ctx.execution.workspaceId;
  const stepKey = `${ctx.step.idempotencyKey}:${slot}`;
  const previous = await ctx.db.engagementMetric.findFirst({
    where: { workspaceId, postId: post.id, raw: { path: ['stepKey'], equals: stepKey } },
  });
  if (previous) return previous;
  if (!post.socialAccountId)
    throw new UserError(
      `Post "${post.id}" has no connected account to read metrics with.`,
      'config.publishedPostId',
      'NO_ACCOUNT',
    );
  const account = await ctx.db.socialAccount.findFirst({
    where: { id: post.socialAccountId, workspaceId },
  });
  if (!account)
    throw new UserError(
      `The account that published "${post.id}" was removed. Reconnect it to read metrics.`,
      'config.publishedPostId',
      'NO_ACCOUNT',
    );
  const connector = CONNECTORS[post.platform as ConnectorPlatform];
  let metrics;
  try {
    ({ result: metrics } = await withAccountToken(
      ctx as NodeContext<unknown>,
      account,
      (cctx, acct) => connector.fetchMetrics(cctx, acct, post.platformPostId!),
    ));
  } catch (err) {
    if (err instanceof PlatformError) throw toRuntimeError(err, `${post.platform} metrics`);
    throw err;
  }
  const counts = countsOf(metrics);
  return ctx.db.engagementMetric.create({
    data: {
      workspaceId,
      postId: post.id,
      platform: post.platform,
      measuredAt: new Date(),
      ...counts,
      engagementRate: engagementRate(counts),
      raw: { stepKey, response: metrics.raw } as object,
    },
  });
}

interface PostRate {
  postId: string;
  platform: string;
  counts: MetricCounts;
  engagementRate: number;
  ctr: number;
  publishedAt: Date | null;
  url: string | null;
}

/** The latest metrics point of each post published since `since` (optionally one platform). */
async function latestRates(ctx: Ctx, since: Date, platform?: string): Promise<PostRate[]> {
  const posts = await ctx.db.publishedPost.findMany({
    where: {
      workspaceId: ctx.execution.workspaceId,
      status: 'published',
      publishedAt: { gte: since },
      ...(platform ? { platform } : {}),
    },
    select: {
      id: true,
      platform: true,
      publishedAt: true,
      platformUrl: true,
      engagementMetrics: { orderBy: { measuredAt: 'desc' }, take: 1 },
    },
  });
  return posts
    .filter((p) => p.engagementMetrics.length > 0)
    .map((p) => {
      const counts = countsOf(p.engagementMetrics[0]!);
      return {
        postId: p.id,
        platform: p.platform,
        counts,
        engagementRate: engagementRate(counts),
        ctr: clickThroughRate(counts),
        publishedAt: p.publishedAt,
        url: p.platformUrl,
      };
    });
}

function benchmarkJson(b: Benchmark) {
  return {
    days: BENCHMARK_DAYS,
    posts: b.posts,
    averageRate: round(b.averageRate),
    p90Rate: round(b.p90Rate),
    averageCtr: round(b.averageCtr),
  };
}

async function postReport(ctx: Ctx, post: PublishedPost, slot: string) {
  const point = await measure(ctx, post, slot);
  const counts = countsOf(point);
  const rate = engagementRate(counts);
  const others = (
    await latestRates(ctx, new Date(Date.now() - BENCHMARK_DAYS * DAY), post.platform)
  ).filter((r) => r.postId !== post.id);
  const benchmark = benchmarkOf(others);
  return {
    publishedPostId: post.id,
    platform: post.platform,
    postId: post.platformPostId,
    url: post.platformUrl,
    measuredAt: point.measuredAt.toISOString(),
    metrics: { ...counts },
    interactions: interactions(counts),
    engagementRate: round(rate),
    ctr: round(clickThroughRate(counts)),
    benchmark: benchmarkJson(benchmark),
    performanceScore: performanceScore(rate, benchmark),
  };
}

export const analyticsNode = defineNodeType({
  type: 'analytics',
  version: 1,
  label: 'Analytics',
  description:
    "Reads a post's engagement, scores it against your 90-day benchmark, runs A/B tests, or builds a digest.",
  icon: '📊',
  category: 'content',
  inputs: [{ name: 'main', label: 'in' }],
  outputs: [{ name: 'main', label: 'out' }],
  configSchema: analyticsConfigSchema,
  summary: (c) =>
    c.mode === 'digest'
      ? `digest · last ${c.days} days`
      : c.mode === 'ab'
        ? `A/B · ${c.abMetric}`
        : 'post metrics',
  async run(ctx) {
    const { config } = ctx;
    switch (config.mode) {
      case 'post': {
        const id = config.publishedPostId || inputField(ctx.input, 'publishedPostId');
        if (!id)
          throw new UserError(
            'Which post? Set "published post" or connect a publish node.',
            'config.publishedPostId',
            'POST_MISSING',
          );
        return output(
          await postReport(ctx, await loadPost(ctx, id, 'config.publishedPostId'), 'post'),
        );
      }
      case 'ab': {
        const idA = config.publishedPostId || inputField(ctx.input, 'publishedPostId');
        const idB = config.compareWithPostId;
        if (!idA || !idB)
          throw new UserError(
            'A/B mode needs two posts: "published post" (A) and "compare with" (B).',
            idA ? 'config.compareWithPostId' : 'config.publishedPostId',
            'POST_MISSING',
          );
        const [a, b] = await Promise.all([
          loadPost(ctx, idA, 'config.publishedPostId'),
          loadPost(ctx, idB, 'config.compareWithPostId'),
        ]);
        const ra = await postReport(ctx, a, 'A');
        const rb = await postReport(ctx, b, 'B');
        const success = (r: typeof ra) =>
          config.abMetric === 'clicks' ? r.metrics.clicks : r.interactions;
        const views = (r: typeof ra) => r.metrics.impressions || r.metrics.reach;
        if (views(ra) === 0 || views(rb) === 0) {
          return output({
            mode: 'ab',
            metric: config.abMetric,
            a: ra,
            b: rb,
            winner: 'none',
            winnerPostId: null,
            pValue: null,
            confidence: null,
            z: null,
            lift: null,
            note: 'A variant has no impressions yet.',
          });
        }
        const t = twoProportionZTest(success(ra), views(ra), success(rb), views(rb), config.alpha);
        return output({
          mode: 'ab',
          metric: config.abMetric,
          alpha: config.alpha,
          a: ra,
          b: rb,
          winner: t.winner,
          winnerPostId: t.winner === 'A' ? a.id : t.winner === 'B' ? b.id : null,
          pValue: round(t.pValue, 8),
          confidence: round(t.confidence, 8),
          z: round(t.z, 6),
          lift: t.lift === null ? null : round(t.lift, 6),
          significant: t.winner !== 'none',
        });
      }
      case 'digest': {
        const now = Date.now();
        const since = new Date(now - config.days * DAY);
        const [recent, window90] = await Promise.all([
          latestRates(ctx, since, config.platform),
          latestRates(ctx, new Date(now - BENCHMARK_DAYS * DAY), config.platform),
        ]);
        const platforms = [...new Set(recent.map((r) => r.platform))].sort();
        const sum = (rs: PostRate[], k: keyof MetricCounts) =>
          rs.reduce((s, r) => s + r.counts[k], 0);
        const summarise = (rs: PostRate[], bench: PostRate[]) => {
          const totals = {
            impressions: sum(rs, 'impressions'),
            reach: sum(rs, 'reach'),
            likes: sum(rs, 'likes'),
            comments: sum(rs, 'comments'),
            shares: sum(rs, 'shares'),
            saves: sum(rs, 'saves'),
            clicks: sum(rs, 'clicks'),
          };
          const rate = engagementRate(totals);
          const benchmark = benchmarkOf(bench);
          const top = [...rs].sort((x, y) => y.engagementRate - x.engagementRate)[0];
          return {
            posts: rs.length,
            totals,
            interactions: interactions(totals),
            engagementRate: round(rate),
            ctr: round(clickThroughRate(totals)),
            benchmark: benchmarkJson(benchmark),
            performanceScore: performanceScore(rate, benchmark),
            topPost: top
              ? {
                  publishedPostId: top.postId,
                  url: top.url,
                  engagementRate: round(top.engagementRate),
                }
              : null,
          };
        };
        return output({
          mode: 'digest',
          days: config.days,
          since: since.toISOString(),
          until: new Date(now).toISOString(),
          overall: summarise(recent, window90),
          platforms: platforms.map((p) => ({
            platform: p,
            ...summarise(
              recent.filter((r) => r.platform === p),
              window90.filter((r) => r.platform === p),
            ),
          })),
        });
      }
    }
  },
});

/**
 * publish: posts to a social platform through its connector. Exactly once per step: the
 * PublishedPost row is keyed by the step's idempotency key, so a retried or re-delivered step
 * returns the existing post instead of posting again. Every attempt is logged (PublishAttempt).
 */
import { z } from 'zod';
import {
  defineNodeType,
  NonRetriableError,
  output,
  UserError,
  type Json,
  type NodeContext,
} from '@gridflow/runtime';
import type { PublishedPost, SocialAccount } from '@gridflow/db';
import { PLATFORM_RULES, platformLength } from '../brand-guard/platform-limits.js';
import {
  CONNECTORS,
  PlatformError,
  type ConnectorPlatform,
  type PublishRequest,
  type PublishResponse,
} from './connectors/index.js';
import { withAccountToken } from './accounts.js';
import { toRuntimeError } from './connectors/http.js';

export const SOCIAL_PLATFORMS = ['linkedin', 'x', 'facebook', 'instagram'] as const;
type SocialPlatform = (typeof SOCIAL_PLATFORMS)[number];

export const publishConfigSchema = z
  .object({
    /** A connected SocialAccount; else the workspace's connected account of `platform`. */
    accountId: z.string().min(1).optional(),
    platform: z.enum([...SOCIAL_PLATFORMS, 'generic']).optional(),
    /** Text to post; empty = the input's `text`. */
    text: z.string().default('').meta({ 'x-gridflow-widget': 'textarea' }),
    mediaUrls: z.array(z.string()).default([]),
    link: z.string().optional(),
    /** Generic webhook connector: used for `platform: generic`, or when no account of the platform is connected. */
    webhookUrl: z.string().optional(),
  })
  .refine((c) => c.accountId || c.platform, {
    message: 'Choose an account or a platform',
    path: ['platform'],
  });

export type PublishConfig = z.infer<typeof publishConfigSchema>;

type Ctx = NodeContext<PublishConfig>;

const LABEL: Record<ConnectorPlatform, string> = {
  linkedin: 'LinkedIn',
  x: 'X',
  facebook: 'Facebook',
  instagram: 'Instagram',
  generic: 'webhook',
};

function inputField(input: Json, field: string): string | undefined {
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    const v = (input as Record<string, Json>)[field];
    if (typeof v === 'string') return v;
  }
  return undefined;
}

function checkUrl(value: string, field: string): string {
  try {
    const u = new URL(value);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
    return value;
  } catch {
    throw new UserError(`"${value}" is not a valid http(s) URL.`, field, 'BAD_URL');
  }
}

function postOutput(post: PublishedPost): Json {
  return {
    postId: post.platformPostId,
    url: post.platformUrl,
    platform: post.platform,
    publishedPostId: post.id,
    accountId: post.socialAccountId,
    text: post.text,
    publishedAt: post.publishedAt?.toISOString() ?? null,
  };
}

async function resolveTarget(
  ctx: Ctx,
): Promise<{ platform: ConnectorPlatform; account: SocialAccount | null }> {
  const { config } = ctx;
  const workspaceId = ctx.execution.workspaceId;
  if (config.accountId) {
    const account = await ctx.db.socialAccount.findFirst({
      where: { id: config.accountId, workspaceId },
    });
    if (!account)
      throw new UserError(
        `Social account "${config.accountId}" was not found in this workspace. Pick a connected account.`,
        'config.accountId',
        'ACCOUNT_NOT_FOUND',
      );
    if (account.status === 'revoked')
      throw new UserError(
        `The ${LABEL[account.platform as ConnectorPlatform] ?? account.platform} account "${account.username ?? account.platformAccountId}" was revoked. Reconnect it.`,
        'config.accountId',
        'ACCOUNT_REVOKED',
      );
    return { platform: account.platform as ConnectorPlatform, account };
  }
  const platform = config.platform!;
  if (platform === 'generic') {
    if (!config.webhookUrl)
      throw new UserError(
        'Set the webhook URL for the generic connector.',
        'config.webhookUrl',
        'WEBHOOK_URL_MISSING',
      );
    return { platform, account: null };
  }
  const account = await ctx.db.socialAccount.findFirst({
    where: { workspaceId, platform, status: { in: ['connected', 'expired'] } },
    orderBy: [{ status: 'asc' }, { createdAt: 'asc' }],
  });
  if (account) return { platform, account };
  if (config.webhookUrl) return { platform: 'generic', account: null };
  throw new UserError(
    `No ${LABEL[platform]} account is connected to this workspace. Connect a ${LABEL[platform]} account under Settings → Accounts, or set a webhook URL to use the generic connector.`,
    'config.platform',
    'ACCOUNT_NOT_CONNECTED',
  );
}

/** Outcomes after which the platform may or may not have accepted the post. */
const AMBIGUOUS_CODES = ['network', 'server_error', 'error'];

async function reconcile(
  ctx: Ctx,
  previous: PublishedPost,
  platform: SocialPlatform,
  account: SocialAccount,
  request: PublishRequest,
) {
  const connector = CONNECTORS[platform];
  if (!connector.findRecentPost) return null;
  const last = await ctx.db.publishAttempt.findFirst({
    where: { postId: previous.id, workspaceId: ctx.execution.workspaceId },
    orderBy: { attemptNumber: 'desc' },
  });
  // `publishing` without a failed attempt logged after it: the worker stopped mid-call.
  const ambiguous =
    previous.status === 'publishing' ||
    (last?.status === 'failed' && AMBIGUOUS_CODES.includes(last.errorCode ?? ''));
  if (!ambiguous) return null;
  const since = new Date(previous.createdAt.getTime() - 60_000);
  try {
    const { result } = await withAccountToken(ctx as NodeContext<unknown>, account, (cctx, acct) =>
      connector.findRecentPost!(cctx, acct, request, since),
    );
    return result;
  } catch (err) {
    if (err instanceof PlatformError && err.retryable)
      throw toRuntimeError(err, `${LABEL[platform]} (checking for an earlier post)`);
    // Cannot list posts (e.g. a missing read scope): post again rather than never.
    ctx.log.warn('Could not check the platform for an earlier post of this step', {
      error: err instanceof Error ? err.message : String(err),
    });
    return null;
  }
}

export const publishNode = defineNodeType({
  type: 'publish',
  version: 1,
  label: 'Publish',
  description:
    'Posts to LinkedIn, X, a Facebook Page, Instagram or a webhook — once per step, with retries on rate limits.',
  icon: '📣',
  category: 'content',
  inputs: [{ name: 'main', label: 'in' }],
  outputs: [{ name: 'main', label: 'published' }],
  configSchema: publishConfigSchema,
  summary: (c) => (c.accountId ? 'to connected account' : `to ${c.platform}`),
  async run(ctx) {
    const { config, execution } = ctx;
    const workspaceId = execution.workspaceId;
    const key = ctx.step.idempotencyKey;

    const existing = await ctx.db.publishedPost.findFirst({
      where: { idempotencyKey: key, workspaceId },
    });
    if (existing?.status === 'published') {
      ctx.log.info('Already published by an earlier attempt of this step; not posting again', {
        publishedPostId: existing.id,
      });
      return output(postOutput(existing));
    }

    const text = (config.text || inputField(ctx.input, 'text') || '').trim();
    if (!text)
      throw new UserError(
        'There is no text to publish. Set "text" or connect a node that outputs `text`.',
        'config.text',
        'TEXT_MISSING',
      );
    const mediaUrls = config.mediaUrls.map((u, i) => checkUrl(u, `config.mediaUrls[${i}]`));
    const link = config.link ? checkUrl(config.link, 'config.link') : undefined;
    const { platform, account } = await resolveTarget(ctx);

    if (platform !== 'generic') {
      const rules = PLATFORM_RULES[platform];
      const length = platformLength(platform, text);
      if (length > rules.maxChars) {
        throw new UserError(
          `The text has ${length} characters; ${rules.label} allows ${rules.maxChars}. Shorten it or add a brand guard with autofix before publishing.`,
          'config.text',
          'TEXT_TOO_LONG',
        );
      }
      if (rules.requiresMedia && mediaUrls.length === 0) {
        throw new UserError(
          `${rules.label} posts need an image: set "media URLs".`,
          'config.mediaUrls',
          'MEDIA_REQUIRED',
        );
      }
      if (platform === 'x' && mediaUrls.length)
        ctx.log.warn('X media upload is not supported yet: posting the text only.');
    }

    const contentIdIn = inputField(ctx.input, 'contentId');
    const contentId = contentIdIn
      ? ((
          await ctx.db.generatedContent.findFirst({
            where: { id: contentIdIn, workspaceId },
            select: { id: true },
          })
        )?.id ?? null)
      : null;
    const post = await ctx.db.publishedPost.upsert({
      where: { idempotencyKey: key },
      create: {
        workspaceId,
        idempotencyKey: key,
        platform,
        status: 'publishing',
        socialAccountId: account?.id ?? null,
        contentId,
        executionId: execution.id,
        nodeId: ctx.node.id,
        text,
        mediaUrls,
      },
      update: { status: 'publishing', text, mediaUrls, socialAccountId: account?.id ?? null },
    });
    if (post.workspaceId !== workspaceId)
      throw new NonRetriableError(
        'Idempotency key collision with another workspace.',
        'IDEMPOTENCY_COLLISION',
      );

    const request: PublishRequest = {
      text,
      mediaUrls,
      ...(link ? { link } : {}),
      idempotencyKey: key,
    };
    const logAttempt = async (
      started: number,
      res: { ok: true; response: PublishResponse } | { ok: false; error: PlatformError | Error },
    ) => {
      const err = res.ok ? undefined : res.error;
      // Numbered count + 1; two attempts of one step can overlap (a lease that expired while the
      // first still ran), so a taken number (unique violation) is counted again.
      for (let tries = 1; ; tries++) {
        const attemptNumber =
          (await ctx.db.publishAttempt.count({ where: { postId: post.id } })) + 1;
        try {
          await createAttempt(attemptNumber);
          return;
        } catch (e) {
          if ((e as { code?: unknown }).code !== 'P2002' || tries >= 5) throw e;
        }
      }
      async function createAttempt(attemptNumber: number) {
        await ctx.db.publishAttempt.create({
          data: {
            workspaceId,
            postId: post.id,
            attemptNumber,
            status: res.ok ? 'published' : 'failed',
            httpStatus: res.ok
              ? res.response.httpStatus
              : err instanceof PlatformError
                ? err.httpStatus
                : null,
            errorCode: err ? (err instanceof PlatformError ? err.code : 'error') : null,
            errorMessage: err ? err.message.slice(0, 2000) : null,
            ...(err instanceof PlatformError && err.details !== undefined
              ? { errorDetails: err.details as object }
              : {}),
            platformPostId: res.ok ? res.response.postId : null,
            durationMs: Date.now() - started,
          },
        });
      }
    };

    // An earlier attempt of this step may have posted without us learning it (answer lost, 5xx after
    // accepting, crash mid-call). Platforms other than the webhook take no idempotency key, so ask
    // the platform for the account's recent posts before posting again.
    if (existing && platform !== 'generic' && account) {
      const adopted = await reconcile(ctx, existing, platform, account, request);
      if (adopted) {
        const attemptStarted = Date.now();
        await logAttempt(attemptStarted, {
          ok: true,
          response: {
            postId: adopted.postId,
            url: adopted.url,
            httpStatus: 200,
            sent: { reconciled: true },
          },
        });
        const published = await ctx.db.publishedPost.update({
          where: { id: post.id },
          data: {
            status: 'published',
            platformPostId: adopted.postId,
            platformUrl: adopted.url,
            publishedAt: new Date(),
            attempts: { increment: 1 },
            lastError: null,
          },
        });
        ctx.log.warn(
          'An earlier attempt had been accepted by the platform: adopted that post instead of posting again',
          { postId: adopted.postId },
        );
        if (contentId)
          await ctx.db.generatedContent.updateMany({
            where: { id: contentId, workspaceId },
            data: { status: 'published' },
          });
        ctx.emit({
          type: 'post.published',
          data: {
            publishedPostId: published.id,
            platform,
            postId: adopted.postId,
            url: adopted.url,
            reconciled: true,
          },
        });
        return output(postOutput(published));
      }
    }

    let started = Date.now();
    let response: PublishResponse;
    try {
      if (platform === 'generic') {
        const webhookUrl = checkUrl(config.webhookUrl!, 'config.webhookUrl');
        response = await CONNECTORS.generic.publish(
          { http: ctx.http, baseUrl: webhookUrl, trustedBaseUrl: false },
          { platformAccountId: '', accessToken: '', metadata: {} },
          request,
        );
      } else {
        const connector = CONNECTORS[platform as SocialPlatform];
        const r = await withAccountToken(
          ctx as NodeContext<unknown>,
          account!,
          (cctx, acct) => connector.publish(cctx, acct, request),
          async (authErr) => {
            await logAttempt(started, { ok: false, error: authErr });
            started = Date.now();
          },
        );
        response = r.result;
      }
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      await logAttempt(started, { ok: false, error: e });
      const retryable = !(e instanceof PlatformError) || e.retryable;
      const final = !retryable || e instanceof NonRetriableError || e instanceof UserError;
      await ctx.db.publishedPost.update({
        where: { id: post.id },
        data: {
          status: final ? 'failed' : 'pending',
          lastError: e.message.slice(0, 2000),
          attempts: { increment: 1 },
        },
      });
      if (final)
        ctx.emit({
          type: 'post.failed',
          data: {
            publishedPostId: post.id,
            platform,
            error: e.message,
            code: e instanceof PlatformError ? e.code : 'error',
          },
        });
      if (e instanceof PlatformError) throw toRuntimeError(e, LABEL[platform]);
      throw e;
    }

    await logAttempt(started, { ok: true, response });
    const published = await ctx.db.publishedPost.update({
      where: { id: post.id },
      data: {
        status: 'published',
        platformPostId: response.postId,
        platformUrl: response.url,
        publishedAt: new Date(),
        publishedContent: response.sent as object,
        attempts: { increment: 1 },
        lastError: null,
      },
    });
    if (contentId)
      await ctx.db.generatedContent.updateMany({
        where: { id: contentId, workspaceId },
        data: { status: 'published' },
      });
    ctx.emit({
      type: 'post.published',
      data: { publishedPostId: published.id, platform, postId: response.postId, url: response.url },
    });
    return output(postOutput(published));
  },
});

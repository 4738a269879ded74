/**
 * One real HTTP server emulating the social platform APIs the publish and analytics connectors
 * speak, checking requests the way the real APIs do (bearer token, version header, body fields,
 * length limits) and answering in their shapes:
 * - LinkedIn: `POST /rest/posts` (LinkedIn-Version header; 201 + `x-restli-id`),
 *   `GET /rest/organizationalEntityShareStatistics`, `POST /oauth/v2/accessToken`.
 * - X v2: `POST /2/tweets` (280 weighted chars, else 403), `GET /2/tweets/:id`, `POST /2/oauth2/token`.
 * - Facebook Graph (optional `/vNN.N` prefix): `POST /{page-id}/feed`, `GET /{post-id}/insights`,
 *   `GET /{post-id}?fields=...`, `GET /oauth/access_token` (fb_exchange_token).
 * - Instagram Graph: `POST /{ig-user-id}/media` (container), `POST /{ig-user-id}/media_publish`,
 *   `GET /{media-id}?fields=permalink`, `GET /{media-id}/insights`.
 * - Recent posts (for reconciling ambiguous attempts): `GET /rest/posts?q=author`,
 *   `GET /2/users/:id/tweets`, `GET /{page-id}/feed`, `GET /{ig-user-id}/media`.
 * - Generic webhook: `POST /webhook/...` records the JSON body.
 * Injects 429 (Retry-After) / 5xx for the next N calls, records every request and accepted post,
 * and counts duplicates (same idempotency key, or same text to the same target without one).
 */
import {
  extractHashtags,
  extractMentions,
  PLATFORM_RULES,
  platformLength,
} from '../brand-guard/platform-limits.js';
import {
  bearer,
  listen,
  readRequest,
  sendJson,
  type Fault,
  type RecordedRequest,
} from './http-util.js';
import type { ServerResponse } from 'node:http';

export type FakePlatformName = 'linkedin' | 'x' | 'facebook' | 'instagram' | 'generic';

export interface FakePost {
  platform: FakePlatformName;
  /** The platform's id: `urn:li:share:N`, tweet id, `PAGE_N`, IG media id, webhook receipt id. */
  id: string;
  url: string;
  text: string;
  /** Author URN, page id, IG user id, webhook path. */
  target: string;
  link?: string;
  mediaUrls: string[];
  idempotencyKey?: string;
  token: string;
  body: unknown;
  at: Date;
}

export interface FakeMetrics {
  impressions: number;
  reach: number;
  likes: number;
  comments: number;
  shares: number;
  saves: number;
  clicks: number;
}

export interface FakePlatformOptions {
  /** Valid access tokens. Default `['test-access-token']`. */
  tokens?: string[];
  /** Valid refresh tokens. Default `['test-refresh-token']`. */
  refreshTokens?: string[];
  /** Answer a repeated tweet text with 403 like X does. Default false (the duplicate is accepted and counted). */
  rejectDuplicateTweets?: boolean;
  /** Delay before every answer (simulates API latency). Default 0. */
  latencyMs?: number;
}

export interface FakePlatform {
  url: string;
  requests: RecordedRequest[];
  /** Every accepted post, in order. */
  posts: FakePost[];
  /** Accepted posts that repeat an earlier one (same idempotency key, or same platform+target+text without a key). */
  readonly duplicates: number;
  /** The next `count` requests (optionally only under `pathPrefix`) fail with `status` (+ Retry-After seconds). */
  failNext(count: number, fault: Fault): void;
  addToken(token: string): void;
  revokeToken(token: string): void;
  /** Access tokens issued by the refresh endpoints, in order. */
  issuedTokens: string[];
  setMetrics(postId: string, metrics: Partial<FakeMetrics>): void;
  getMetrics(postId: string): FakeMetrics;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

function defaultMetrics(n: number): FakeMetrics {
  // Deterministic, plausible numbers that differ per post.
  const impressions = 1000 + ((n * 7919) % 4000);
  return {
    impressions,
    reach: Math.round(impressions * 0.8),
    likes: 20 + ((n * 31) % 60),
    comments: 2 + ((n * 13) % 10),
    shares: 1 + ((n * 17) % 8),
    saves: (n * 5) % 6,
    clicks: 10 + ((n * 23) % 50),
  };
}

export async function startFakePlatform(options: FakePlatformOptions = {}): Promise<FakePlatform> {
  const tokens = new Set(options.tokens ?? ['test-access-token']);
  const refreshTokens = new Set(options.refreshTokens ?? ['test-refresh-token']);
  const requests: RecordedRequest[] = [];
  const posts: FakePost[] = [];
  const faults: Fault[] = [];
  const metrics = new Map<string, FakeMetrics>();
  const containers = new Map<
    string,
    { igUser: string; caption: string; mediaUrls: string[]; published?: string }
  >();
  const issuedTokens: string[] = [];
  let seq = 0;
  let latencyMs = options.latencyMs ?? 0;

  const isDuplicate = (p: FakePost, earlier: FakePost[]) =>
    earlier.some((q) =>
      p.idempotencyKey && q.idempotencyKey
        ? p.idempotencyKey === q.idempotencyKey
        : q.platform === p.platform && q.target === p.target && q.text === p.text,
    );

  const listening = await listen(async (req, res) => {
    const r = await readRequest(req);
    requests.push(r);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const faultIndex = faults.findIndex((f) => !f.pathPrefix || r.path.startsWith(f.pathPrefix));
    const fault = faultIndex >= 0 ? faults.splice(faultIndex, 1)[0] : undefined;
    if (fault && !fault.afterAccept) {
      sendFault(res, fault);
      return;
    }
    // With an after-accept fault the handler runs (the post is recorded) but the answer is lost.
    const out = fault ? captureResponse() : res;
    await route(r, out);
    if (fault) sendFault(res, fault);
  });

  function sendFault(res: ServerResponse, fault: Fault) {
    sendJson(
      res,
      fault.status,
      {
        status: fault.status,
        title: fault.status === 429 ? 'Too Many Requests' : 'Server Error',
        detail: fault.message ?? `injected ${fault.status}`,
      },
      fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {},
    );
  }

  function captureResponse(): ServerResponse {
    // A sink with the few methods sendJson uses.
    const sink = { headersSent: false, writeHead: () => sink, end: () => sink };
    return sink as unknown as ServerResponse;
  }

  function record(p: Omit<FakePost, 'at'>): FakePost {
    const post = { ...p, at: new Date() };
    posts.push(post);
    return post;
  }

  function param(r: RecordedRequest, name: string): string | undefined {
    const body = r.body && typeof r.body === 'object' ? (r.body as Record<string, unknown>) : {};
    const v = body[name] ?? r.query[name];
    return v === undefined || v === null ? undefined : String(v);
  }

  async function route(r: RecordedRequest, res: ServerResponse): Promise<void> {
    const idem = r.headers['idempotency-key'] ?? r.headers['x-idempotency-key'];
    // ---------- OAuth refresh endpoints (no bearer needed) ----------
    if (
      r.method === 'POST' &&
      (r.path === '/oauth/v2/accessToken' || r.path === '/2/oauth2/token')
    ) {
      const grant = param(r, 'grant_type');
      const refresh = param(r, 'refresh_token');
      if (grant !== 'refresh_token' || !refresh || !refreshTokens.has(refresh)) {
        sendJson(res, 400, {
          error: 'invalid_grant',
          error_description: 'The provided refresh token is invalid or expired',
        });
        return;
      }
      const access = `refreshed-access-${++seq}`;
      tokens.add(access);
      issuedTokens.push(access);
      const linkedin = r.path === '/oauth/v2/accessToken';
      sendJson(
        res,
        200,
        linkedin
          ? {
              access_token: access,
              expires_in: 5_184_000,
              refresh_token: refresh,
              refresh_token_expires_in: 31_536_000,
            }
          : {
              token_type: 'bearer',
              expires_in: 7200,
              access_token: access,
              scope: 'tweet.read tweet.write users.read offline.access',
              refresh_token: refresh,
            },
      );
      return;
    }
    const graphPath = r.path.replace(/^\/v\d+\.\d+(?=\/)/, '');
    if (r.method === 'GET' && graphPath === '/oauth/access_token') {
      const old = r.query['fb_exchange_token'];
      if (
        r.query['grant_type'] !== 'fb_exchange_token' ||
        !old ||
        !(tokens.has(old) || refreshTokens.has(old))
      ) {
        graphError(
          res,
          400,
          190,
          'Error validating access token: the session is invalid.',
          'OAuthException',
        );
        return;
      }
      const access = `refreshed-access-${++seq}`;
      tokens.add(access);
      issuedTokens.push(access);
      sendJson(res, 200, { access_token: access, token_type: 'bearer', expires_in: 5_183_944 });
      return;
    }

    // ---------- Generic webhook ----------
    if (r.path.startsWith('/webhook/')) {
      if (r.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
      const body = (r.body ?? {}) as Record<string, unknown>;
      const id = `wh_${++seq}`;
      record({
        platform: 'generic',
        id,
        url: `${listening.url}${r.path}/${id}`,
        text: typeof body['text'] === 'string' ? body['text'] : '',
        target: r.path,
        mediaUrls: Array.isArray(body['mediaUrls']) ? (body['mediaUrls'] as string[]) : [],
        ...(idem ? { idempotencyKey: idem } : {}),
        token: bearer(r.headers) ?? '',
        body: r.body,
      });
      sendJson(res, 200, { id, url: `${listening.url}${r.path}/${id}` });
      return;
    }

    // ---------- LinkedIn ----------
    if (r.path.startsWith('/rest/')) {
      const token = bearer(r.headers);
      if (!token || !tokens.has(token)) {
        sendJson(res, 401, {
          status: 401,
          serviceErrorCode: 65600,
          code: 'INVALID_ACCESS_TOKEN',
          message: 'Invalid access token',
        });
        return;
      }
      const version = r.headers['linkedin-version'];
      if (!version || !/^\d{6}(\.\d{2})?$/.test(version)) {
        sendJson(res, 400, {
          status: 400,
          code: 'VERSION_MISSING',
          message:
            'A version must be present. Please specify a version by adding the LinkedIn-Version header.',
        });
        return;
      }
      if (r.method === 'POST' && r.path === '/rest/posts') {
        const body = (r.body ?? {}) as Record<string, unknown>;
        const problems: string[] = [];
        if (
          typeof body['author'] !== 'string' ||
          !/^urn:li:(person|organization):[\w-]+$/.test(body['author'])
        )
          problems.push('/author');
        if (typeof body['commentary'] !== 'string') problems.push('/commentary');
        if (!['PUBLIC', 'CONNECTIONS', 'LOGGED_IN'].includes(String(body['visibility'])))
          problems.push('/visibility');
        const dist = body['distribution'] as Record<string, unknown> | undefined;
        if (!dist || typeof dist['feedDistribution'] !== 'string')
          problems.push('/distribution/feedDistribution');
        if (body['lifecycleState'] !== 'PUBLISHED') problems.push('/lifecycleState');
        if (problems.length) {
          sendJson(res, 422, {
            status: 422,
            code: 'UNPROCESSABLE_ENTITY',
            message: `Field Value validation failed in REQUEST_BODY: ${problems.join(', ')}`,
            errorDetails: {
              inputErrors: problems.map((p) => ({
                input: { inputPath: { fieldPath: p } },
                code: 'FIELD_VALUE_INVALID',
              })),
            },
          });
          return;
        }
        // Commentary is "little text": rendered without escapes and with hashtag templates as #tags.
        const text = (body['commentary'] as string)
          .replace(/\{hashtag\|\\#\|([^}]+)\}/g, '#$1')
          .replace(/\\([\\|{}@[\]()<>#*_~])/g, '$1');
        if (platformLength('linkedin', text) > PLATFORM_RULES.linkedin.maxChars) {
          sendJson(res, 422, {
            status: 422,
            code: 'UNPROCESSABLE_ENTITY',
            message: `/commentary length ${platformLength('linkedin', text)} exceeds the maximum allowed 3000`,
          });
          return;
        }
        const id = `urn:li:share:${7_100_000_000 + ++seq}`;
        const article = (body['content'] as { article?: { source?: string } } | undefined)?.article;
        record({
          platform: 'linkedin',
          id,
          url: `https://www.linkedin.com/feed/update/${id}/`,
          text,
          target: body['author'] as string,
          ...(article?.source ? { link: article.source } : {}),
          mediaUrls: [],
          ...(idem ? { idempotencyKey: idem } : {}),
          token,
          body,
        });
        res.writeHead(201, { 'x-restli-id': id, 'x-linkedin-id': id, 'content-length': '0' });
        res.end();
        return;
      }
      if (r.method === 'GET' && r.path === '/rest/posts') {
        const author = r.query['author'];
        if (r.query['q'] !== 'author' || !author) {
          sendJson(res, 400, { status: 400, message: 'q=author and author are required' });
          return;
        }
        const count = Math.min(100, Number(r.query['count'] ?? 10) || 10);
        const start = Math.max(0, Number(r.query['start'] ?? 0) || 0);
        const elements = posts
          .filter((p) => p.platform === 'linkedin' && p.target === author)
          .reverse()
          .slice(start, start + count)
          .map((p) => ({
            id: p.id,
            author: p.target,
            commentary: (p.body as { commentary?: string }).commentary ?? '',
            createdAt: p.at.getTime(),
            lastModifiedAt: p.at.getTime(),
            lifecycleState: 'PUBLISHED',
            visibility: 'PUBLIC',
          }));
        sendJson(res, 200, { paging: { start, count, links: [] }, elements });
        return;
      }
      if (r.method === 'GET' && r.path === '/rest/organizationalEntityShareStatistics') {
        const shares =
          /^List\((.*)\)$/
            .exec(r.query['shares'] ?? '')?.[1]
            ?.split(',')
            .map(decodeURIComponent) ?? [];
        if (
          r.query['q'] !== 'organizationalEntity' ||
          !r.query['organizationalEntity'] ||
          shares.length === 0
        ) {
          sendJson(res, 400, {
            status: 400,
            message:
              'q=organizationalEntity, organizationalEntity and shares=List(...) are required',
          });
          return;
        }
        const elements = shares
          .filter((s) => posts.some((p) => p.id === s))
          .map((s) => {
            const m = getMetrics(s);
            return {
              organizationalEntity: r.query['organizationalEntity'],
              share: s,
              totalShareStatistics: {
                impressionCount: m.impressions,
                uniqueImpressionsCount: m.reach,
                clickCount: m.clicks,
                likeCount: m.likes,
                commentCount: m.comments,
                shareCount: m.shares,
                engagement: m.impressions
                  ? (m.clicks + m.likes + m.comments + m.shares) / m.impressions
                  : 0,
              },
            };
          });
        sendJson(res, 200, { paging: { count: 10, start: 0, links: [] }, elements });
        return;
      }
      sendJson(res, 404, { status: 404, message: `No route ${r.method} ${r.path}` });
      return;
    }

    // ---------- X ----------
    const timeline = /^\/2\/users\/([^/]+)\/tweets$/.exec(r.path);
    if (timeline && r.method === 'GET') {
      const token = bearer(r.headers);
      if (!token || !tokens.has(token)) {
        sendJson(res, 401, {
          title: 'Unauthorized',
          type: 'about:blank',
          status: 401,
          detail: 'Unauthorized',
        });
        return;
      }
      // One fake X user: every accepted tweet is on its timeline, newest first.
      const max = Math.min(100, Number(r.query['max_results'] ?? 10) || 10);
      const startTime = r.query['start_time'] ? Date.parse(String(r.query['start_time'])) : 0;
      const offset = Math.max(0, Number(r.query['pagination_token'] ?? 0) || 0);
      const timeline = posts
        .filter((p) => p.platform === 'x' && p.at.getTime() >= startTime)
        .reverse();
      const nextToken = offset + max < timeline.length ? String(offset + max) : undefined;
      const data = timeline.slice(offset, offset + max).map((p) => ({
        id: p.id,
        text: p.text,
        edit_history_tweet_ids: [p.id],
        created_at: p.at.toISOString(),
      }));
      sendJson(
        res,
        200,
        data.length
          ? {
              data,
              meta: { result_count: data.length, ...(nextToken ? { next_token: nextToken } : {}) },
            }
          : { meta: { result_count: 0 } },
      );
      return;
    }
    if (r.path === '/2/tweets' || r.path.startsWith('/2/tweets/')) {
      const token = bearer(r.headers);
      if (!token || !tokens.has(token)) {
        sendJson(res, 401, {
          title: 'Unauthorized',
          type: 'about:blank',
          status: 401,
          detail: 'Unauthorized',
        });
        return;
      }
      if (r.method === 'POST' && r.path === '/2/tweets') {
        const body = (r.body ?? {}) as Record<string, unknown>;
        const text = body['text'];
        const media = (body['media'] as { media_ids?: string[] } | undefined)?.media_ids ?? [];
        if ((typeof text !== 'string' || !text) && media.length === 0) {
          sendJson(res, 400, {
            errors: [{ parameters: { text: [] }, message: 'Requires at least one of text, media' }],
            title: 'Invalid Request',
            detail: 'One or more parameters to your request was invalid.',
            type: 'https://api.twitter.com/2/problems/invalid-request',
          });
          return;
        }
        const t = typeof text === 'string' ? text : '';
        if (platformLength('x', t) > PLATFORM_RULES.x.maxChars) {
          sendJson(res, 403, {
            detail: 'You are not permitted to perform this action: Tweet text is too long.',
            type: 'about:blank',
            title: 'Forbidden',
            status: 403,
          });
          return;
        }
        if (
          options.rejectDuplicateTweets &&
          posts.some((p) => p.platform === 'x' && p.text === t)
        ) {
          sendJson(res, 403, {
            detail: 'You are not allowed to create a Tweet with duplicate content.',
            type: 'about:blank',
            title: 'Forbidden',
            status: 403,
          });
          return;
        }
        const id = String(1_860_000_000_000_000_000n + BigInt(++seq));
        record({
          platform: 'x',
          id,
          url: `https://x.com/i/web/status/${id}`,
          text: t,
          target: token,
          mediaUrls: media,
          ...(idem ? { idempotencyKey: idem } : {}),
          token,
          body,
        });
        sendJson(res, 201, { data: { id, text: t, edit_history_tweet_ids: [id] } });
        return;
      }
      const id = r.path.slice('/2/tweets/'.length);
      if (r.method === 'GET' && id) {
        const post = posts.find((p) => p.platform === 'x' && p.id === id);
        if (!post) {
          sendJson(res, 200, {
            errors: [
              {
                value: id,
                detail: `Could not find tweet with id: [${id}].`,
                title: 'Not Found Error',
                resource_type: 'tweet',
                parameter: 'id',
                resource_id: id,
                type: 'https://api.twitter.com/2/problems/resource-not-found',
              },
            ],
          });
          return;
        }
        const m = getMetrics(id);
        sendJson(res, 200, {
          data: {
            id,
            text: post.text,
            edit_history_tweet_ids: [id],
            public_metrics: {
              retweet_count: m.shares,
              reply_count: m.comments,
              like_count: m.likes,
              quote_count: 0,
              bookmark_count: m.saves,
              impression_count: m.impressions,
            },
            non_public_metrics: {
              impression_count: m.impressions,
              url_link_clicks: m.clicks,
              user_profile_clicks: 0,
            },
          },
        });
        return;
      }
      sendJson(res, 404, {
        title: 'Not Found',
        status: 404,
        detail: `No route ${r.method} ${r.path}`,
        type: 'about:blank',
      });
      return;
    }

    // ---------- Facebook / Instagram Graph ----------
    const segments = graphPath.split('/').filter(Boolean);
    if (segments.length >= 1 && segments.length <= 2) {
      const token = bearer(r.headers) ?? param(r, 'access_token');
      if (!token || !tokens.has(token)) {
        graphError(
          res,
          400,
          190,
          'Invalid OAuth access token - Cannot parse access token',
          'OAuthException',
        );
        return;
      }
      const [id, edge] = segments as [string, string | undefined];
      if (r.method === 'POST' && edge === 'feed') {
        const message = param(r, 'message');
        const link = param(r, 'link');
        if (!message && !link)
          return graphError(
            res,
            400,
            100,
            '(#100) Missing message or attachment',
            'OAuthException',
          );
        if (message && platformLength('facebook', message) > PLATFORM_RULES.facebook.maxChars) {
          return graphError(res, 400, 100, '(#100) The message is too long', 'OAuthException');
        }
        const postId = `${id}_${1000 + ++seq}`;
        record({
          platform: 'facebook',
          id: postId,
          url: `https://www.facebook.com/${postId}`,
          text: message ?? '',
          target: id,
          ...(link ? { link } : {}),
          mediaUrls: [],
          ...(idem ? { idempotencyKey: idem } : {}),
          token,
          body: r.body,
        });
        sendJson(res, 200, { id: postId });
        return;
      }
      if (r.method === 'POST' && edge === 'media') {
        const caption = param(r, 'caption') ?? '';
        const imageUrl = param(r, 'image_url');
        const videoUrl = param(r, 'video_url');
        if (!imageUrl && !videoUrl)
          return graphError(
            res,
            400,
            100,
            '(#100) The parameter image_url is required',
            'OAuthException',
          );
        if (platformLength('instagram', caption) > PLATFORM_RULES.instagram.maxChars) {
          return graphError(
            res,
            400,
            100,
            '(#100) The caption is too long: it must be at most 2200 characters',
            'OAuthException',
          );
        }
        if (extractHashtags(caption).length > 30)
          return graphError(
            res,
            400,
            100,
            '(#100) The caption has more than 30 hashtags',
            'OAuthException',
          );
        if (extractMentions(caption).length > 20)
          return graphError(
            res,
            400,
            100,
            '(#100) The caption has more than 20 mentions',
            'OAuthException',
          );
        const containerId = `1790${String(++seq).padStart(11, '0')}`;
        containers.set(containerId, { igUser: id, caption, mediaUrls: [imageUrl ?? videoUrl!] });
        sendJson(res, 200, { id: containerId });
        return;
      }
      if (r.method === 'POST' && edge === 'media_publish') {
        const creation = param(r, 'creation_id');
        const container = creation ? containers.get(creation) : undefined;
        if (!container || container.igUser !== id)
          return graphError(
            res,
            400,
            9007,
            'The media is not ready for publishing, please wait for a moment',
            'OAuthException',
            2207027,
          );
        if (container.published)
          return graphError(
            res,
            400,
            9007,
            'The media has already been published',
            'OAuthException',
            2207008,
          );
        const mediaId = `1791${String(++seq).padStart(11, '0')}`;
        container.published = mediaId;
        record({
          platform: 'instagram',
          id: mediaId,
          url: `https://www.instagram.com/p/FAKE${mediaId.slice(-6)}/`,
          text: container.caption,
          target: id,
          mediaUrls: container.mediaUrls,
          ...(idem ? { idempotencyKey: idem } : {}),
          token,
          body: r.body,
        });
        sendJson(res, 200, { id: mediaId });
        return;
      }
      if (r.method === 'GET' && (edge === 'feed' || edge === 'media')) {
        const platformName = edge === 'feed' ? 'facebook' : 'instagram';
        const limit = Math.min(100, Number(r.query['limit'] ?? 25) || 25);
        // Cursor paging like the Graph API (`after` cursor; `paging.next` while more remain).
        const offset = Math.max(0, Number(r.query['after'] ?? 0) || 0);
        const all = posts.filter((p) => p.platform === platformName && p.target === id).reverse();
        const more = offset + limit < all.length;
        const data = all
          .slice(offset, offset + limit)
          .map((p) =>
            edge === 'feed'
              ? { id: p.id, message: p.text, created_time: p.at.toISOString() }
              : { id: p.id, caption: p.text, permalink: p.url, timestamp: p.at.toISOString() },
          );
        sendJson(res, 200, {
          data,
          paging: more
            ? {
                cursors: { after: String(offset + limit) },
                next: `${listening.url}${r.path}?limit=${limit}&after=${offset + limit}`,
              }
            : {},
        });
        return;
      }
      const post = posts.find(
        (p) => (p.platform === 'facebook' || p.platform === 'instagram') && p.id === id,
      );
      if (r.method === 'GET' && !edge) {
        if (!post)
          return graphError(
            res,
            400,
            100,
            `(#100) Object with ID '${id}' does not exist`,
            'GraphMethodException',
            33,
          );
        const m = getMetrics(id);
        const fields = (r.query['fields'] ?? 'id').split(',');
        const out: Record<string, unknown> = { id };
        for (const f of fields) {
          const name = f.replace(/\..*$/, '');
          if (name === 'permalink' || name === 'permalink_url') out[name] = post.url;
          if (name === 'shares') out['shares'] = { count: m.shares };
          if (name === 'comments')
            out['comments'] = {
              data: [],
              summary: { order: 'ranked', total_count: m.comments, can_comment: true },
            };
          if (name === 'reactions')
            out['reactions'] = {
              data: [],
              summary: { total_count: m.likes, viewer_reaction: 'NONE' },
            };
          if (name === 'like_count') out['like_count'] = m.likes;
          if (name === 'comments_count') out['comments_count'] = m.comments;
          if (name === 'caption' || name === 'message') out[name] = post.text;
        }
        sendJson(res, 200, out);
        return;
      }
      if (r.method === 'GET' && edge === 'insights') {
        if (!post)
          return graphError(
            res,
            400,
            100,
            `(#100) Object with ID '${id}' does not exist`,
            'GraphMethodException',
            33,
          );
        const m = getMetrics(id);
        const values: Record<string, number> =
          post.platform === 'facebook'
            ? {
                post_impressions: m.impressions,
                post_impressions_unique: m.reach,
                post_clicks: m.clicks,
                post_reactions_like_total: m.likes,
              }
            : {
                impressions: m.impressions,
                views: m.impressions,
                reach: m.reach,
                likes: m.likes,
                comments: m.comments,
                shares: m.shares,
                saved: m.saves,
                total_interactions: m.likes + m.comments + m.shares + m.saves,
                profile_activity: m.clicks,
              };
        const wanted = (r.query['metric'] ?? '').split(',').filter(Boolean);
        const unknown = wanted.filter((w) => !(w in values));
        if (wanted.length === 0 || unknown.length) {
          return graphError(
            res,
            400,
            100,
            `(#100) metric[0] must be one of the following values: ${Object.keys(values).join(', ')}`,
            'OAuthException',
          );
        }
        sendJson(res, 200, {
          data: wanted.map((name) => ({
            name,
            period: 'lifetime',
            values: [{ value: values[name] }],
            title: name,
            description: name,
            id: `${id}/insights/${name}/lifetime`,
          })),
          paging: {},
        });
        return;
      }
    }
    sendJson(res, 404, {
      error: {
        message: `Unknown route ${r.method} ${r.path}`,
        type: 'GraphMethodException',
        code: 803,
      },
    });
  }

  function graphError(
    res: ServerResponse,
    status: number,
    code: number,
    message: string,
    type: string,
    subcode?: number,
  ) {
    sendJson(res, status, {
      error: {
        message,
        type,
        code,
        ...(subcode ? { error_subcode: subcode } : {}),
        fbtrace_id: `fake${seq}`,
      },
    });
  }

  function getMetrics(postId: string): FakeMetrics {
    const existing = metrics.get(postId);
    if (existing) return existing;
    const index = posts.findIndex((p) => p.id === postId);
    const m = defaultMetrics(index + 1);
    metrics.set(postId, m);
    return m;
  }

  return {
    url: listening.url,
    requests,
    posts,
    get duplicates() {
      return posts.filter((p, i) => isDuplicate(p, posts.slice(0, i))).length;
    },
    failNext(count, fault) {
      for (let i = 0; i < count; i++) faults.push({ ...fault });
    },
    addToken: (t) => void tokens.add(t),
    revokeToken: (t) => void tokens.delete(t),
    issuedTokens,
    setMetrics(postId, m) {
      metrics.set(postId, { ...getMetrics(postId), ...m });
    },
    getMetrics,
    setLatency(ms) {
      latencyMs = ms;
    },
    close: listening.close,
  };
}

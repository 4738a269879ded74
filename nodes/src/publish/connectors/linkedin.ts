/**
 * LinkedIn Posts API (`POST /rest/posts`, versioned with the `LinkedIn-Version` header; the new
 * post's URN comes back in `x-restli-id`). Commentary uses LinkedIn's "little text" format, so
 * reserved characters are escaped and hashtags written as hashtag templates.
 */
import type { Json } from '@gridflow/runtime';
import { form, json, num, send, tokenFromResponse } from './http.js';
import { PlatformError, type Connector, type ConnectorAccount } from './types.js';

/** The API version this connector was written against (YYYYMM). */
export const LINKEDIN_VERSION = '202511';

const RESERVED = /[\\|{}@[\]()<>#*_~]/g;

/** Escapes little-text reserved characters; `#tag` becomes a hashtag template so it stays a hashtag. */
export function toLittleText(text: string): string {
  const parts: string[] = [];
  let last = 0;
  for (const m of text.matchAll(/(^|[^\p{L}\p{N}_&])#([\p{L}\p{N}_]+)/gu)) {
    const start = m.index! + m[1]!.length;
    parts.push(text.slice(last, start).replace(RESERVED, (c) => `\\${c}`));
    parts.push(`{hashtag|\\#|${m[2]}}`);
    last = start + 1 + m[2]!.length;
  }
  parts.push(text.slice(last).replace(RESERVED, (c) => `\\${c}`));
  return parts.join('');
}

/** The inverse, as LinkedIn renders it. */
export function fromLittleText(text: string): string {
  return text
    .replace(/\{hashtag\|\\#\|([^}]+)\}/g, '#$1')
    .replace(/\\([\\|{}@[\]()<>#*_~])/g, '$1');
}

/** Pages of recent posts read back when checking for an earlier post of a step. */
const MAX_RECONCILE_PAGES = 20;

export function authorUrn(account: ConnectorAccount): string {
  const id = account.platformAccountId;
  if (id.startsWith('urn:li:')) return id;
  return account.metadata['kind'] === 'organization'
    ? `urn:li:organization:${id}`
    : `urn:li:person:${id}`;
}

const headers = (token: string) => ({
  authorization: `Bearer ${token}`,
  'linkedin-version': LINKEDIN_VERSION,
  'x-restli-protocol-version': '2.0.0',
});

export const linkedinConnector: Connector = {
  platform: 'linkedin',
  defaultBaseUrl: 'https://api.linkedin.com',
  async publish(ctx, account, req) {
    const body: Record<string, Json> = {
      author: authorUrn(account),
      commentary: toLittleText(req.text),
      visibility: 'PUBLIC',
      distribution: {
        feedDistribution: 'MAIN_FEED',
        targetEntities: [],
        thirdPartyDistributionChannels: [],
      },
      lifecycleState: 'PUBLISHED',
      isReshareDisabledByAuthor: false,
      ...(req.link ? { content: { article: { source: req.link, title: req.link } } } : {}),
    };
    const j = json(body);
    const res = await send(ctx, 'LinkedIn', '/rest/posts', {
      method: 'POST',
      headers: { ...headers(account.accessToken), ...j.headers },
      body: j.body,
    });
    const urn = res.headers['x-restli-id'] ?? res.headers['x-linkedin-id'];
    if (!urn)
      throw new PlatformError(
        'LinkedIn: the response had no x-restli-id header',
        'server_error',
        res.status,
      );
    return {
      postId: urn,
      url: `https://www.linkedin.com/feed/update/${urn}/`,
      httpStatus: res.status,
      sent: body,
    };
  },
  async findRecentPost(ctx, account, req, since) {
    // Newest first, 100 a page: page back until the posts are older than `since`, however many
    // posts the account made meanwhile (a busy account can have many more than one page).
    const PAGE = 100;
    for (let start = 0; start < PAGE * MAX_RECONCILE_PAGES; start += PAGE) {
      const q = `q=author&author=${encodeURIComponent(authorUrn(account))}&start=${start}&count=${PAGE}&sortBy=LAST_MODIFIED`;
      const res = await send(ctx, 'LinkedIn', `/rest/posts?${q}`, {
        headers: headers(account.accessToken),
      });
      const els =
        (
          res.json as
            | { elements?: Array<{ id?: string; commentary?: string; createdAt?: number }> }
            | undefined
        )?.elements ?? [];
      const hit = els.find(
        (e) =>
          e.id &&
          typeof e.commentary === 'string' &&
          fromLittleText(e.commentary) === req.text &&
          (e.createdAt ?? Date.now()) >= since.getTime(),
      );
      if (hit) return { postId: hit.id!, url: `https://www.linkedin.com/feed/update/${hit.id}/` };
      const oldest = els.at(-1)?.createdAt;
      if (els.length < PAGE || (oldest !== undefined && oldest < since.getTime())) return null;
    }
    return null;
  },
  async fetchMetrics(ctx, account, postId) {
    const org = authorUrn(account);
    const q = `q=organizationalEntity&organizationalEntity=${encodeURIComponent(org)}&shares=List(${encodeURIComponent(postId)})`;
    const res = await send(ctx, 'LinkedIn', `/rest/organizationalEntityShareStatistics?${q}`, {
      headers: headers(account.accessToken),
    });
    const el = (
      res.json as
        { elements?: Array<{ totalShareStatistics?: Record<string, number> }> } | undefined
    )?.elements?.[0];
    if (!el)
      throw new PlatformError(`LinkedIn: no statistics for ${postId}`, 'not_found', res.status);
    const s = el.totalShareStatistics ?? {};
    return {
      impressions: num(s['impressionCount']),
      reach: num(s['uniqueImpressionsCount']),
      likes: num(s['likeCount']),
      comments: num(s['commentCount']),
      shares: num(s['shareCount']),
      saves: 0,
      clicks: num(s['clickCount']),
      raw: res.json as Json,
    };
  },
  async refreshToken(ctx, account, refreshToken) {
    // The real token endpoint lives on www.linkedin.com, not api.linkedin.com.
    const base =
      ctx.baseUrl === 'https://api.linkedin.com' ? 'https://www.linkedin.com' : ctx.baseUrl;
    const f = form({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id:
        typeof account.metadata['clientId'] === 'string' ? account.metadata['clientId'] : undefined,
      client_secret:
        typeof account.metadata['clientSecret'] === 'string'
          ? account.metadata['clientSecret']
          : undefined,
    });
    const res = await send(ctx, 'LinkedIn token refresh', `${base}/oauth/v2/accessToken`, {
      method: 'POST',
      headers: f.headers,
      body: f.body,
    });
    return tokenFromResponse('LinkedIn token refresh', res);
  },
};

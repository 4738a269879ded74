/** X API v2: `POST /2/tweets` (text; 280 weighted characters), metrics from `GET /2/tweets/:id`, OAuth 2.0 refresh at `/2/oauth2/token`. */
import type { Json } from '@gridflow/runtime';
import { form, json, num, send, tokenFromResponse } from './http.js';
import {
  PlatformError,
  type Connector,
  type ConnectorAccount,
  type PublishRequest,
} from './types.js';

/** Media needs the v2 media upload flow first; links are part of the text on X. */
function tweetText(req: PublishRequest): string {
  return req.link && !req.text.includes(req.link) ? `${req.text} ${req.link}` : req.text;
}

function tweetUrl(account: ConnectorAccount, id: string): string {
  const handle =
    typeof account.metadata['username'] === 'string' ? account.metadata['username'] : undefined;
  return handle ? `https://x.com/${handle}/status/${id}` : `https://x.com/i/web/status/${id}`;
}

export const xConnector: Connector = {
  platform: 'x',
  defaultBaseUrl: 'https://api.x.com',
  async publish(ctx, account, req) {
    const text = tweetText(req);
    const body = { text };
    const j = json(body);
    const res = await send(ctx, 'X', '/2/tweets', {
      method: 'POST',
      headers: { authorization: `Bearer ${account.accessToken}`, ...j.headers },
      body: j.body,
    });
    const id = (res.json as { data?: { id?: string } } | undefined)?.data?.id;
    if (!id) throw new PlatformError('X: the response had no tweet id', 'server_error', res.status);
    return { postId: id, url: tweetUrl(account, id), httpStatus: res.status, sent: body };
  },
  async findRecentPost(ctx, account, req, since) {
    // Only tweets since the attempt (start_time), every page of them (next_token).
    const text = tweetText(req);
    const startTime = since.toISOString().replace(/\.\d{3}Z$/, 'Z');
    let token: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = await send(
        ctx,
        'X',
        `/2/users/${encodeURIComponent(account.platformAccountId)}/tweets?max_results=100&tweet.fields=created_at&start_time=${encodeURIComponent(startTime)}${
          token ? `&pagination_token=${encodeURIComponent(token)}` : ''
        }`,
        {
          headers: { authorization: `Bearer ${account.accessToken}` },
        },
      );
      const body = res.json as
        | {
            data?: Array<{ id: string; text: string; created_at?: string }>;
            meta?: { next_token?: string };
          }
        | undefined;
      const hit = (body?.data ?? []).find(
        (t) => t.text === text && (!t.created_at || Date.parse(t.created_at) >= since.getTime()),
      );
      if (hit) return { postId: hit.id, url: tweetUrl(account, hit.id) };
      token = body?.meta?.next_token;
      if (!token) return null;
    }
    return null;
  },
  async fetchMetrics(ctx, account, postId) {
    const res = await send(
      ctx,
      'X',
      `/2/tweets/${encodeURIComponent(postId)}?tweet.fields=public_metrics,non_public_metrics`,
      {
        headers: { authorization: `Bearer ${account.accessToken}` },
      },
    );
    const body = res.json as {
      data?: {
        public_metrics?: Record<string, number>;
        non_public_metrics?: Record<string, number>;
      };
      errors?: Array<{ detail?: string }>;
    };
    if (!body?.data)
      throw new PlatformError(
        `X: ${body?.errors?.[0]?.detail ?? `tweet ${postId} not found`}`,
        'not_found',
        res.status,
      );
    const p = body.data.public_metrics ?? {};
    const np = body.data.non_public_metrics ?? {};
    return {
      impressions: num(np['impression_count'] ?? p['impression_count']),
      reach: 0, // X reports no reach
      likes: num(p['like_count']),
      comments: num(p['reply_count']),
      shares: num(p['retweet_count']) + num(p['quote_count']),
      saves: num(p['bookmark_count']),
      clicks: num(np['url_link_clicks']),
      raw: res.json as Json,
    };
  },
  async refreshToken(ctx, account, refreshToken) {
    const f = form({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id:
        typeof account.metadata['clientId'] === 'string' ? account.metadata['clientId'] : undefined,
    });
    const res = await send(ctx, 'X token refresh', '/2/oauth2/token', {
      method: 'POST',
      headers: f.headers,
      body: f.body,
    });
    return tokenFromResponse('X token refresh', res);
  },
};

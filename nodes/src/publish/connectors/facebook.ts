/** Facebook Page feed: `POST /{page-id}/feed` (message, link), metrics from post insights and the post's summary fields. */
import type { Json } from '@gridflow/runtime';
import { form, num, send } from './http.js';
import { GRAPH_BASE_URL, findRecentGraphPost, graphExchangeToken, graphInsights } from './graph.js';
import { PlatformError, type Connector } from './types.js';

export const facebookConnector: Connector = {
  platform: 'facebook',
  defaultBaseUrl: GRAPH_BASE_URL,
  async publish(ctx, account, req) {
    const link = req.link ?? req.mediaUrls[0];
    const sent = { message: req.text, ...(link ? { link } : {}) };
    const f = form({ ...sent, access_token: account.accessToken });
    const res = await send(
      ctx,
      'Facebook',
      `/${encodeURIComponent(account.platformAccountId)}/feed`,
      { method: 'POST', headers: f.headers, body: f.body },
    );
    const id = (res.json as { id?: string } | undefined)?.id;
    if (!id)
      throw new PlatformError('Facebook: the response had no post id', 'server_error', res.status);
    return { postId: id, url: `https://www.facebook.com/${id}`, httpStatus: res.status, sent };
  },
  async findRecentPost(ctx, account, req, since) {
    const hit = await findRecentGraphPost(
      ctx,
      'Facebook',
      account,
      { name: 'feed', fields: 'id,message,created_time', text: 'message', time: 'created_time' },
      req.text,
      since,
    );
    return hit?.['id'] ? { postId: hit['id'], url: `https://www.facebook.com/${hit['id']}` } : null;
  },
  async fetchMetrics(ctx, account, postId) {
    const insights = await graphInsights(ctx, 'Facebook', account, postId, [
      'post_impressions',
      'post_impressions_unique',
      'post_clicks',
      'post_reactions_like_total',
    ]);
    const fields = await send(
      ctx,
      'Facebook',
      `/${encodeURIComponent(postId)}?fields=shares,comments.summary(true),reactions.summary(true)&access_token=${encodeURIComponent(account.accessToken)}`,
      {},
    );
    const f = fields.json as {
      shares?: { count?: number };
      comments?: { summary?: { total_count?: number } };
      reactions?: { summary?: { total_count?: number } };
    };
    const v = insights.values;
    return {
      impressions: num(v['post_impressions']),
      reach: num(v['post_impressions_unique']),
      likes: num(f?.reactions?.summary?.total_count ?? v['post_reactions_like_total']),
      comments: num(f?.comments?.summary?.total_count),
      shares: num(f?.shares?.count),
      saves: 0,
      clicks: num(v['post_clicks']),
      raw: { insights: insights.raw, fields: fields.json } as Json,
    };
  },
  refreshToken: (ctx, account, token) => graphExchangeToken(ctx, 'Facebook', account, token),
};

/**
 * Instagram Graph API content publishing: create a media container (`POST /{ig-user-id}/media`
 * with image_url and caption), publish it (`POST /{ig-user-id}/media_publish`), then read the
 * permalink. Feed posts need an image.
 */
import type { Json } from '@gridflow/runtime';
import { form, send } from './http.js';
import { GRAPH_BASE_URL, findRecentGraphPost, graphExchangeToken, graphInsights } from './graph.js';
import { PlatformError, type Connector } from './types.js';

export const instagramConnector: Connector = {
  platform: 'instagram',
  defaultBaseUrl: GRAPH_BASE_URL,
  async publish(ctx, account, req) {
    const image = req.mediaUrls[0];
    if (!image)
      throw new PlatformError(
        'Instagram: a feed post needs an image (mediaUrls)',
        'validation',
        null,
      );
    const user = encodeURIComponent(account.platformAccountId);
    const isVideo = /\.(mp4|mov)(\?|$)/i.test(image);
    const sent = {
      caption: req.text,
      ...(isVideo ? { video_url: image, media_type: 'REELS' } : { image_url: image }),
    };
    const c = form({ ...sent, access_token: account.accessToken });
    const container = await send(ctx, 'Instagram', `/${user}/media`, {
      method: 'POST',
      headers: c.headers,
      body: c.body,
    });
    const creationId = (container.json as { id?: string } | undefined)?.id;
    if (!creationId)
      throw new PlatformError(
        'Instagram: the container response had no id',
        'server_error',
        container.status,
      );
    const p = form({ creation_id: creationId, access_token: account.accessToken });
    const published = await send(ctx, 'Instagram', `/${user}/media_publish`, {
      method: 'POST',
      headers: p.headers,
      body: p.body,
    });
    const mediaId = (published.json as { id?: string } | undefined)?.id;
    if (!mediaId)
      throw new PlatformError(
        'Instagram: the publish response had no media id',
        'server_error',
        published.status,
      );
    // The post exists now: a failing permalink lookup must not fail (and re-run) the publish.
    let url: string | null = null;
    try {
      const perm = await send(
        ctx,
        'Instagram',
        `/${mediaId}?fields=permalink&access_token=${encodeURIComponent(account.accessToken)}`,
        {},
      );
      url = (perm.json as { permalink?: string } | undefined)?.permalink ?? null;
    } catch {
      url = null;
    }
    return {
      postId: mediaId,
      url,
      httpStatus: published.status,
      sent: { ...sent, creation_id: creationId } as Json,
    };
  },
  async findRecentPost(ctx, account, req, since) {
    const hit = await findRecentGraphPost(
      ctx,
      'Instagram',
      account,
      {
        name: 'media',
        fields: 'id,caption,permalink,timestamp',
        text: 'caption',
        time: 'timestamp',
      },
      req.text,
      since,
    );
    return hit?.['id'] ? { postId: hit['id'], url: hit['permalink'] ?? null } : null;
  },
  async fetchMetrics(ctx, account, postId) {
    const { values: v, raw } = await graphInsights(ctx, 'Instagram', account, postId, [
      'impressions',
      'reach',
      'likes',
      'comments',
      'shares',
      'saved',
    ]);
    return {
      impressions: v['impressions'] ?? 0,
      reach: v['reach'] ?? 0,
      likes: v['likes'] ?? 0,
      comments: v['comments'] ?? 0,
      shares: v['shares'] ?? 0,
      saves: v['saved'] ?? 0,
      clicks: 0,
      raw: raw as Json,
    };
  },
  refreshToken: (ctx, account, token) => graphExchangeToken(ctx, 'Instagram', account, token),
};

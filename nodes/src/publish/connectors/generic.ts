/**
 * Generic webhook connector: POSTs the post as JSON to a user-given URL, with the step's
 * idempotency key in the `Idempotency-Key` header. The URL is user input, so private addresses
 * stay blocked (SSRF) — the base URL is never trusted here.
 */
import type { Json } from '@gridflow/runtime';
import { json, send } from './http.js';
import type { Connector } from './types.js';

export const genericConnector: Connector = {
  platform: 'generic',
  defaultBaseUrl: '',
  async publish(ctx, _account, req) {
    const body = {
      text: req.text,
      mediaUrls: req.mediaUrls,
      ...(req.link ? { link: req.link } : {}),
      idempotencyKey: req.idempotencyKey,
    };
    const j = json(body);
    const res = await send({ ...ctx, trustedBaseUrl: false }, 'Webhook', ctx.baseUrl, {
      method: 'POST',
      headers: {
        ...j.headers,
        'idempotency-key': req.idempotencyKey,
        ...(_account.accessToken ? { authorization: `Bearer ${_account.accessToken}` } : {}),
      },
      body: j.body,
    });
    const r = (res.json ?? {}) as { id?: unknown; url?: unknown };
    return {
      postId:
        typeof r.id === 'string' || typeof r.id === 'number' ? String(r.id) : req.idempotencyKey,
      url: typeof r.url === 'string' ? r.url : null,
      httpStatus: res.status,
      sent: body as Json,
    };
  },
  async fetchMetrics() {
    throw new Error('The generic webhook connector has no metrics');
  },
};

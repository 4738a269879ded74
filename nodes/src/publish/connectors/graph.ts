/** Shared by the Facebook and Instagram connectors: Graph API insights and long-lived token exchange. */
import { num, send, tokenFromResponse } from './http.js';
import type { ConnectorAccount, ConnectorContext, RefreshedToken } from './types.js';

export const GRAPH_BASE_URL = 'https://graph.facebook.com/v21.0';

export async function graphInsights(
  ctx: ConnectorContext,
  label: string,
  account: ConnectorAccount,
  id: string,
  metrics: string[],
) {
  const res = await send(
    ctx,
    label,
    `/${encodeURIComponent(id)}/insights?metric=${metrics.join(',')}&access_token=${encodeURIComponent(account.accessToken)}`,
    {},
  );
  const data =
    (res.json as { data?: Array<{ name: string; values?: Array<{ value: unknown }> }> } | undefined)
      ?.data ?? [];
  const out: Record<string, number> = {};
  for (const d of data) out[d.name] = num(d.values?.[0]?.value);
  return { values: out, raw: res.json };
}

export async function graphExchangeToken(
  ctx: ConnectorContext,
  label: string,
  account: ConnectorAccount,
  token: string,
): Promise<RefreshedToken> {
  const params = new URLSearchParams({ grant_type: 'fb_exchange_token', fb_exchange_token: token });
  if (typeof account.metadata['clientId'] === 'string')
    params.set('client_id', account.metadata['clientId']);
  if (typeof account.metadata['clientSecret'] === 'string')
    params.set('client_secret', account.metadata['clientSecret']);
  const res = await send(ctx, `${label} token exchange`, `/oauth/access_token?${params}`, {});
  return tokenFromResponse(`${label} token exchange`, res);
}

/**
 * Finds a post of `text` made since `since` on a Graph API edge (Facebook `feed`, Instagram
 * `media`), newest first: pages back (`after` cursors, 100 a page) until the items are older than
 * `since`, however many posts the account made meanwhile.
 */
export async function findRecentGraphPost(
  ctx: ConnectorContext,
  label: string,
  account: ConnectorAccount,
  edge: { name: 'feed' | 'media'; fields: string; text: string; time: string },
  text: string,
  since: Date,
): Promise<Record<string, string | undefined> | null> {
  let after: string | undefined;
  for (let page = 0; page < 20; page++) {
    const res = await send(
      ctx,
      label,
      `/${encodeURIComponent(account.platformAccountId)}/${edge.name}?fields=${edge.fields}&limit=100${
        after ? `&after=${encodeURIComponent(after)}` : ''
      }&access_token=${encodeURIComponent(account.accessToken)}`,
      {},
    );
    const body = res.json as
      | {
          data?: Array<Record<string, string | undefined>>;
          paging?: { cursors?: { after?: string }; next?: string };
        }
      | undefined;
    const items = body?.data ?? [];
    const at = (item: Record<string, string | undefined>) =>
      item[edge.time] ? Date.parse(item[edge.time]!) : Date.now();
    const hit = items.find((item) => item[edge.text] === text && at(item) >= since.getTime());
    if (hit) return hit;
    const oldest = items.at(-1);
    after = body?.paging?.next ? body.paging.cursors?.after : undefined;
    if (!after || !oldest || at(oldest) < since.getTime()) return null;
  }
  return null;
}

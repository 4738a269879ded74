/** Shared by the Facebook and Instagram connectors: Graph API insights and long-lived token exchange. */
import { num, send } from './http.js';
import {
  PlatformError,
  type ConnectorAccount,
  type ConnectorContext,
  type RefreshedToken,
} from './types.js';

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
  const j = res.json as { access_token?: string; expires_in?: number };
  if (!j?.access_token)
    throw new PlatformError(
      `${label} token exchange: no access_token in the response`,
      'auth_expired',
      res.status,
    );
  return {
    accessToken: j.access_token,
    ...(j.expires_in ? { expiresAt: new Date(Date.now() + j.expires_in * 1000) } : {}),
  };
}

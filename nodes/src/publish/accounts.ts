/**
 * Social account tokens: decrypted only in memory, refreshed shortly before expiry or after the
 * platform answers "expired", and stored again encrypted. Shared by publish and analytics.
 */
import { NonRetriableError, type Json, type NodeContext } from '@gridflow/runtime';
import type { SocialAccount } from '@gridflow/db';
import {
  CONNECTORS,
  platformBaseUrl,
  PlatformError,
  type ConnectorAccount,
  type ConnectorContext,
  type ConnectorPlatform,
} from './connectors/index.js';

/** Refresh when the token expires within this window. */
const REFRESH_MARGIN_MS = 5 * 60_000;

type AnyCtx = NodeContext<unknown>;

export function connectorContext(
  ctx: AnyCtx,
  platform: Exclude<ConnectorPlatform, 'generic'>,
): ConnectorContext {
  const { baseUrl, trusted } = platformBaseUrl(ctx.env, platform);
  return { http: ctx.http, baseUrl, trustedBaseUrl: trusted };
}

function accountLabel(account: SocialAccount): string {
  const platform = CONNECTORS[account.platform as ConnectorPlatform]?.platform ?? account.platform;
  return `${platform} account ${account.username ? `@${account.username}` : (account.displayName ?? account.platformAccountId)}`;
}

/**
 * The encryption context of a SocialAccount token column, as the server writes it: the cipher
 * authenticates it, so a token copied to another account or column does not decrypt.
 */
export function tokenContext(accountId: string, column: 'access_token' | 'refresh_token'): string {
  return `social_account:${accountId}:${column}`;
}

async function refresh(
  ctx: AnyCtx,
  account: SocialAccount,
  cctx: ConnectorContext,
  reason: string,
): Promise<SocialAccount> {
  const connector = CONNECTORS[account.platform as ConnectorPlatform];
  const refreshToken = account.refreshTokenEncrypted
    ? ctx.decrypt(account.refreshTokenEncrypted, tokenContext(account.id, 'refresh_token'))
    : undefined;
  // Graph API tokens are exchanged, not refreshed: the current long-lived token is the input.
  const graph = account.platform === 'facebook' || account.platform === 'instagram';
  const input = refreshToken ?? (graph ? ctx.decrypt(account.accessTokenEncrypted, tokenContext(account.id, 'access_token')) : undefined);
  if (!connector?.refreshToken || !input) {
    await ctx.db.socialAccount.updateMany({
      where: { id: account.id, workspaceId: ctx.execution.workspaceId },
      data: { status: 'expired' },
    });
    throw new NonRetriableError(
      `The ${accountLabel(account)} needs to be reconnected: ${reason}.`,
      'ACCOUNT_EXPIRED',
    );
  }
  let fresh;
  try {
    fresh = await connector.refreshToken(cctx, toConnectorAccount(ctx, account), input);
  } catch (err) {
    if (err instanceof PlatformError && !err.retryable) {
      await ctx.db.socialAccount.updateMany({
        where: { id: account.id, workspaceId: ctx.execution.workspaceId },
        data: { status: 'expired' },
      });
      throw new NonRetriableError(
        `The ${accountLabel(account)} needs to be reconnected: the token refresh was refused (${err.message}).`,
        'ACCOUNT_EXPIRED',
      );
    }
    throw err;
  }
  ctx.log.info(`Refreshed the ${accountLabel(account)} token`, { reason });
  return ctx.db.socialAccount.update({
    where: { id: account.id },
    data: {
      accessTokenEncrypted: ctx.encrypt(fresh.accessToken, tokenContext(account.id, 'access_token')),
      ...(fresh.refreshToken
        ? { refreshTokenEncrypted: ctx.encrypt(fresh.refreshToken, tokenContext(account.id, 'refresh_token')) }
        : {}),
      tokenExpiresAt: fresh.expiresAt ?? null,
      status: 'connected',
      lastVerifiedAt: new Date(),
    },
  });
}

export function toConnectorAccount(ctx: AnyCtx, account: SocialAccount): ConnectorAccount {
  return {
    platformAccountId: account.platformAccountId,
    accessToken: ctx.decrypt(account.accessTokenEncrypted, tokenContext(account.id, 'access_token')),
    metadata: {
      ...((account.metadata ?? {}) as Record<string, Json>),
      ...(account.username ? { username: account.username } : {}),
    },
  };
}

/**
 * Runs `fn` with a valid token: refreshes first when the token is (nearly) expired, and once more
 * if the platform answers that it expired. `onAuthRetry` lets callers log the failed attempt.
 */
export async function withAccountToken<T>(
  ctx: AnyCtx,
  account: SocialAccount,
  fn: (cctx: ConnectorContext, acct: ConnectorAccount) => Promise<T>,
  onAuthRetry?: (err: PlatformError) => Promise<void>,
): Promise<{ result: T; account: SocialAccount }> {
  const platform = account.platform as Exclude<ConnectorPlatform, 'generic'>;
  const cctx = connectorContext(ctx, platform);
  let current = account;
  if (current.tokenExpiresAt && current.tokenExpiresAt.getTime() - Date.now() < REFRESH_MARGIN_MS) {
    current = await refresh(ctx, current, cctx, 'its token expired');
  }
  try {
    return { result: await fn(cctx, toConnectorAccount(ctx, current)), account: current };
  } catch (err) {
    if (!(err instanceof PlatformError) || err.code !== 'auth_expired') throw err;
    await onAuthRetry?.(err);
    current = await refresh(ctx, current, cctx, 'the platform refused its token');
    return { result: await fn(cctx, toConnectorAccount(ctx, current)), account: current };
  }
}

/**
 * The connector contract: each platform connector speaks that platform's real API shape through
 * the run's HttpClient, and reports failures as `PlatformError` with a code the publish node
 * turns into a retry decision and a PublishAttempt log line.
 */
import type { HttpClient, Json } from '@gridflow/runtime';
import type { MetricCounts } from '../../analytics/stats.js';

export type ConnectorPlatform = 'linkedin' | 'x' | 'facebook' | 'instagram' | 'generic';

/** `rate_limited`, `server_error`, `network`: retryable. The others are not. */
export type PlatformErrorCode =
  | 'rate_limited'
  | 'server_error'
  | 'network'
  | 'auth_expired'
  | 'validation'
  | 'duplicate'
  | 'not_found'
  | 'forbidden';

export class PlatformError extends Error {
  override name = 'PlatformError';
  constructor(
    message: string,
    readonly code: PlatformErrorCode,
    readonly httpStatus: number | null,
    readonly retryAfterMs?: number,
    readonly details?: Json,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.code === 'rate_limited' || this.code === 'server_error' || this.code === 'network';
  }
}

export interface ConnectorContext {
  http: HttpClient;
  /** API base URL without a trailing slash. */
  baseUrl: string;
  /** True when `baseUrl` is operator configuration (may be a private address), false for user input. */
  trustedBaseUrl: boolean;
}

export interface ConnectorAccount {
  /** LinkedIn author URN or member/organization id, X user id, Facebook page id, Instagram user id. */
  platformAccountId: string;
  accessToken: string;
  metadata: Record<string, Json>;
}

export interface PublishRequest {
  text: string;
  mediaUrls: string[];
  link?: string;
  idempotencyKey: string;
}

export interface PublishResponse {
  postId: string;
  url: string | null;
  httpStatus: number;
  /** What was sent (tokens excluded), stored on the PublishedPost. */
  sent: Json;
}

export interface RefreshedToken {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: Date;
}

export interface MetricsResponse extends MetricCounts {
  raw: Json;
}

export interface Connector {
  platform: ConnectorPlatform;
  /** The real API's base URL, used when no override is configured. */
  defaultBaseUrl: string;
  publish(
    ctx: ConnectorContext,
    account: ConnectorAccount,
    req: PublishRequest,
  ): Promise<PublishResponse>;
  fetchMetrics(
    ctx: ConnectorContext,
    account: ConnectorAccount,
    postId: string,
  ): Promise<MetricsResponse>;
  refreshToken?(
    ctx: ConnectorContext,
    account: ConnectorAccount,
    refreshToken: string,
  ): Promise<RefreshedToken>;
  /**
   * After an ambiguous attempt (answer lost, 5xx, crash mid-call): the account's post with this
   * request's text created since `since`, if the platform did accept it. Lets a retry adopt that
   * post instead of posting twice on platforms without idempotency keys.
   */
  findRecentPost?(
    ctx: ConnectorContext,
    account: ConnectorAccount,
    req: PublishRequest,
    since: Date,
  ): Promise<{ postId: string; url: string | null } | null>;
}

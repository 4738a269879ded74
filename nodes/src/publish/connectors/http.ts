/** Shared HTTP plumbing of the connectors: one request helper and one place mapping status codes to PlatformError codes. */
import {
  NonRetriableError,
  RetryAfterError,
  type HttpRequestOptions,
  type HttpResponse,
  type Json,
} from '@gridflow/runtime';
import { PlatformError, type ConnectorContext, type RefreshedToken } from './types.js';

export function retryAfterMs(headers: Record<string, string>, fallbackMs = 30_000): number {
  const ra = headers['retry-after'];
  if (ra !== undefined) {
    if (/^\d+(\.\d+)?$/.test(ra.trim())) return Math.round(Number(ra) * 1000);
    const at = Date.parse(ra);
    if (Number.isFinite(at)) return Math.max(0, at - Date.now());
  }
  // X: x-rate-limit-reset is the epoch second when the window resets.
  const reset = headers['x-rate-limit-reset'];
  if (reset && /^\d+$/.test(reset)) return Math.max(0, Number(reset) * 1000 - Date.now());
  return fallbackMs;
}

/** A short, human-readable message out of the platforms' various error bodies. */
export function errorMessage(res: HttpResponse): string {
  const j = (res.json && typeof res.json === 'object' ? res.json : {}) as {
    error?: { message?: unknown } | string;
    detail?: unknown;
    message?: unknown;
    error_description?: unknown;
    errors?: Array<{ message?: unknown }>;
  };
  const msg =
    (typeof j.error === 'object' ? j.error?.message : undefined) ??
    j.detail ??
    j.message ??
    j.error_description ??
    j.errors?.[0]?.message ??
    (typeof j.error === 'string' ? j.error : undefined) ??
    res.text.slice(0, 300);
  return String(msg || `HTTP ${res.status}`);
}

/** Maps a non-2xx response to a PlatformError (the Graph API's OAuth errors come as 400 with code 190). */
export function toPlatformError(label: string, res: HttpResponse): PlatformError {
  const msg = `${label}: ${errorMessage(res)} (HTTP ${res.status})`;
  const details = (res.json ?? res.text.slice(0, 1000)) as Json;
  const graphCode = (res.json as { error?: { code?: number } } | undefined)?.error?.code;
  if (
    res.status === 429 ||
    graphCode === 4 ||
    graphCode === 17 ||
    graphCode === 32 ||
    graphCode === 613
  ) {
    return new PlatformError(msg, 'rate_limited', res.status, retryAfterMs(res.headers), details);
  }
  if (res.status >= 500)
    return new PlatformError(msg, 'server_error', res.status, undefined, details);
  if (res.status === 401 || graphCode === 190)
    return new PlatformError(msg, 'auth_expired', res.status, undefined, details);
  if (res.status === 403 && /duplicate/i.test(msg))
    return new PlatformError(msg, 'duplicate', res.status, undefined, details);
  if (res.status === 403)
    return new PlatformError(msg, 'forbidden', res.status, undefined, details);
  if (res.status === 404)
    return new PlatformError(msg, 'not_found', res.status, undefined, details);
  return new PlatformError(msg, 'validation', res.status, undefined, details);
}

export async function send(
  ctx: ConnectorContext,
  label: string,
  path: string,
  options: HttpRequestOptions,
): Promise<HttpResponse> {
  const url = path.startsWith('http') ? path : `${ctx.baseUrl}${path}`;
  let res: HttpResponse;
  try {
    res = await ctx.http.request(url, {
      timeoutMs: 30_000,
      ...options,
      // An operator-configured base URL may be private; anything else (the generic webhook URL a
      // user typed) follows the operator's GRIDFLOW_HTTP_ALLOW_PRIVATE setting of the http client.
      ...(ctx.trustedBaseUrl ? { allowPrivateNetwork: true } : {}),
    });
  } catch (err) {
    throw new PlatformError(
      `${label}: ${err instanceof Error ? err.message : String(err)}`,
      'network',
      null,
    );
  }
  if (res.status < 200 || res.status >= 300) throw toPlatformError(label, res);
  return res;
}

export function form(fields: Record<string, string | undefined>): {
  body: string;
  headers: Record<string, string>;
} {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) params.set(k, v);
  return {
    body: params.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}

export function json(body: unknown): { body: string; headers: Record<string, string> } {
  return { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
}

export function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** The runtime error a PlatformError becomes: rate limit → RetryAfterError, 5xx/network → retryable, else NonRetriableError. */
export function toRuntimeError(err: PlatformError, label: string): Error {
  if (err.code === 'rate_limited')
    return new RetryAfterError(
      `${label} rate limit: ${err.message}`,
      err.retryAfterMs ?? 30_000,
      'RATE_LIMITED',
    );
  if (err.retryable) {
    const transient = new Error(err.message);
    (transient as Error & { code: string }).code = err.code.toUpperCase();
    return transient;
  }
  return new NonRetriableError(err.message, err.code.toUpperCase());
}

/** An OAuth 2 token endpoint's answer (`access_token`, optional `refresh_token`, `expires_in` seconds). */
export function tokenFromResponse(label: string, res: HttpResponse): RefreshedToken {
  const j = res.json as { access_token?: string; refresh_token?: string; expires_in?: number };
  if (!j?.access_token)
    throw new PlatformError(
      `${label}: no access_token in the response`,
      'auth_expired',
      res.status,
    );
  return {
    accessToken: j.access_token,
    ...(j.refresh_token ? { refreshToken: j.refresh_token } : {}),
    ...(j.expires_in ? { expiresAt: new Date(Date.now() + j.expires_in * 1000) } : {}),
  };
}

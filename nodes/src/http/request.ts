/**
 * Pure helpers of the HTTP request node: building the URL, headers and body from the settings, and
 * deciding what a response status means (retry, fail, or pass on).
 */

export interface KeyValue {
  key: string;
  value: string;
}

export class RequestBuildError extends Error {
  override name = 'RequestBuildError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function buildUrl(raw: string, query: KeyValue[]): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new RequestBuildError(`"${raw}" is not a valid URL (include https://)`, 'config.url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RequestBuildError(
      `only http and https URLs are allowed, got ${url.protocol}`,
      'config.url',
    );
  }
  query.forEach((q, i) => {
    if (!q.key)
      throw new RequestBuildError('a query parameter has no name', `config.query[${i}].key`);
    url.searchParams.append(q.key, q.value);
  });
  return url;
}

export function checkHeader(name: string, value: string, field: string): void {
  if (!HEADER_NAME.test(name))
    throw new RequestBuildError(`"${name}" is not a valid header name`, `${field}.key`);
  if (/[\r\n\0]/.test(value))
    throw new RequestBuildError(
      `the value of header "${name}" contains a line break`,
      `${field}.value`,
    );
}

export function hasHeader(headers: Record<string, string>, name: string): boolean {
  const lower = name.toLowerCase();
  return Object.keys(headers).some((k) => k.toLowerCase() === lower);
}

export type StatusAction =
  { action: 'ok' } | { action: 'retry'; retryAfterMs: number } | { action: 'fail' };

export interface StatusPolicy {
  failOnStatus: boolean;
  retryOnStatus: boolean;
  /** 1-based attempt number, for the default backoff. */
  attempt: number;
}

/** Retry-After as milliseconds: delta seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(
  value: string | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/** Default backoff when the server gives no Retry-After: 1 s, 2 s, 4 s… capped at 60 s. */
export function backoffMs(attempt: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
}

/** Whether a status is worth retrying: 408 (timeout), 429 (rate limit) and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function statusAction(
  status: number,
  retryAfterHeader: string | undefined,
  policy: StatusPolicy,
): StatusAction {
  if (status < 400) return { action: 'ok' };
  if (!policy.failOnStatus) return { action: 'ok' };
  if (policy.retryOnStatus && isRetryableStatus(status)) {
    // Capped so a hostile server cannot park the step for days.
    const fromHeader = parseRetryAfter(retryAfterHeader);
    return {
      action: 'retry',
      retryAfterMs: Math.min(fromHeader ?? backoffMs(policy.attempt), 15 * 60_000),
    };
  }
  return { action: 'fail' };
}

/** The first `max` characters of a body, for error messages. */
export function snippet(text: string, max = 200): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

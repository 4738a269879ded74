import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  buildUrl,
  parseRetryAfter,
  RequestBuildError,
  statusAction,
} from './request.js';

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('statusAction', () => {
  const policy = { failOnStatus: true, retryOnStatus: true, attempt: 1 };
  it('retries 408/429/5xx, fails other 4xx, passes < 400', () => {
    expect(statusAction(204, undefined, policy)).toEqual({ action: 'ok' });
    expect(statusAction(408, undefined, policy)).toEqual({ action: 'retry', retryAfterMs: 1000 });
    expect(statusAction(502, undefined, { ...policy, attempt: 2 })).toEqual({
      action: 'retry',
      retryAfterMs: 2000,
    });
    expect(statusAction(401, undefined, policy)).toEqual({ action: 'fail' });
    expect(statusAction(500, undefined, { ...policy, retryOnStatus: false })).toEqual({
      action: 'fail',
    });
    expect(statusAction(500, undefined, { ...policy, failOnStatus: false })).toEqual({
      action: 'ok',
    });
  });
  it('caps a huge Retry-After at 15 minutes and backoff at 60 s', () => {
    expect(statusAction(429, '86400', policy)).toEqual({ action: 'retry', retryAfterMs: 900_000 });
    expect(backoffMs(30)).toBe(60_000);
  });
});

describe('buildUrl', () => {
  it('appends query parameters to existing ones', () => {
    expect(
      buildUrl('https://api.example.com/v1/x?a=1', [{ key: 'b', value: 'two words' }]).toString(),
    ).toBe('https://api.example.com/v1/x?a=1&b=two+words');
  });
  it('names the field of a bad query parameter', () => {
    try {
      buildUrl('https://example.com', [{ key: '', value: 'x' }]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RequestBuildError);
      expect((err as RequestBuildError).field).toBe('config.query[0].key');
    }
  });
});

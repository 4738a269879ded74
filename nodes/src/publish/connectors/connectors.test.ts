import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@gridflow/runtime';
import { fromLittleText, toLittleText } from './linkedin.js';
import { retryAfterMs, toPlatformError } from './http.js';

const res = (
  status: number,
  json: unknown,
  headers: Record<string, string> = {},
): HttpResponse => ({
  status,
  headers,
  text: JSON.stringify(json),
  json,
  url: 'https://api.example/x',
});

describe('LinkedIn little text', () => {
  it('escapes reserved characters and keeps hashtags as hashtag templates, round-tripping', () => {
    const text = 'Workshop (Sat) *fresh* bread_2 <3 @acme ~ | {x} [y] #Sourdough and #2026 \\ end';
    const lt = toLittleText(text);
    expect(lt).toContain('\\(Sat\\)');
    expect(lt).toContain('{hashtag|\\#|Sourdough}');
    expect(lt).not.toMatch(/[^\\]\(/);
    expect(fromLittleText(lt)).toBe(text);
  });
});

describe('platform error mapping', () => {
  it('maps status codes and Graph error codes to retry decisions', () => {
    expect(
      toPlatformError('X', res(429, { title: 'Too Many Requests' }, { 'retry-after': '12' })),
    ).toMatchObject({ code: 'rate_limited', retryAfterMs: 12_000, retryable: true });
    expect(
      toPlatformError('FB', res(400, { error: { message: 'limit', code: 32 } })),
    ).toMatchObject({ code: 'rate_limited', retryable: true });
    expect(
      toPlatformError(
        'FB',
        res(400, { error: { message: 'Invalid OAuth access token', code: 190 } }),
      ),
    ).toMatchObject({ code: 'auth_expired', retryable: false });
    expect(
      toPlatformError(
        'X',
        res(403, { detail: 'You are not allowed to create a Tweet with duplicate content.' }),
      ),
    ).toMatchObject({ code: 'duplicate' });
    expect(toPlatformError('LI', res(422, { message: 'bad field' }))).toMatchObject({
      code: 'validation',
      httpStatus: 422,
      retryable: false,
    });
    expect(toPlatformError('LI', res(503, {}))).toMatchObject({
      code: 'server_error',
      retryable: true,
    });
    expect(toPlatformError('LI', res(422, { message: 'bad field' })).message).toBe(
      'LI: bad field (HTTP 422)',
    );
  });

  it('reads Retry-After seconds or dates and X rate-limit resets', () => {
    expect(retryAfterMs({ 'retry-after': '3' })).toBe(3000);
    const at = new Date(Date.now() + 10_000).toUTCString();
    expect(retryAfterMs({ 'retry-after': at })).toBeGreaterThan(8000);
    expect(
      retryAfterMs({ 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 60) }),
    ).toBeGreaterThan(58_000);
    expect(retryAfterMs({}, 1234)).toBe(1234);
  });
});

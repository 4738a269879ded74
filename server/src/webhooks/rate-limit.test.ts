import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rateLimit } from 'express-rate-limit';
import type { OutgoingHttpHeaders } from 'node:http';
import { FixedWindowLimiter } from './rate-limit.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_123 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** express-rate-limit as the webhook router used it, driven with a minimal request/response. */
function expressRateLimit(windowMs: number, limit: number) {
  const mw = rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    validate: false,
    keyGenerator: (req) => (req as unknown as { key: string }).key,
    handler: () => undefined, // refused: `next` is not called
  });
  return async (key: string) => {
    const headers: Record<string, string> = {};
    let limited = true;
    const res = {
      headersSent: false,
      setHeader: (k: string, v: unknown) => void (headers[k] = String(v)),
      append: (k: string, v: unknown) => void (headers[k] = String(v)),
      once: () => undefined,
    };
    await mw({ key } as never, res as never, () => void (limited = false));
    return { allowed: !limited, headers };
  };
}

function ours(limiter: FixedWindowLimiter, key: string) {
  const headers: OutgoingHttpHeaders = {};
  const allowed = limiter.hit(key, headers);
  return { allowed, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])) };
}

describe('FixedWindowLimiter', () => {
  it.each([
    [1500, 3],
    [60_000, 1000],
    [90_000, 2],
    [2 * 3600_000, 5],
    [2 * 86400_000, 5],
  ])('counts and answers like express-rate-limit (draft-8 headers, Retry-After when refused): window %i ms, limit %i', async (windowMs, limit) => {
    const theirs = expressRateLimit(windowMs, limit);
    const mine = new FixedWindowLimiter(windowMs, limit);
    const steps: Array<[string, number]> = [
      ['ws/a', 0],
      ['ws/a', 10],
      ['ws/b', 200],
      ['ws/a', 300],
      ['ws/a', 0],
      ['ws/a', 0],
      ['ws/b', Math.floor(windowMs / 2)],
      ['ws/a', Math.floor(windowMs / 2)],
      ['ws/a', 1],
      ['ws/é/ü', windowMs * 3],
      ['ws/a', 0],
    ];
    let refused = 0;
    for (const [key, advance] of steps) {
      vi.advanceTimersByTime(advance);
      const expected = await theirs(key);
      expect(expected.headers).toHaveProperty('RateLimit');
      expect(ours(mine, key), `${key} after +${advance} ms`).toEqual(expected);
      if (!expected.allowed) refused++;
    }
    expect(refused > 0).toBe(limit <= 3);
  });

  it('forgets keys not called for a whole window (memory stays bounded)', () => {
    const limiter = new FixedWindowLimiter(1000, 10);
    for (let i = 0; i < 500; i++) limiter.hit(`ws/k${i}`, {});
    expect(limiter.size).toBe(500);
    vi.advanceTimersByTime(1000);
    limiter.hit('ws/k0', {});
    vi.advanceTimersByTime(1000);
    limiter.hit('ws/other', {});
    expect(limiter.size).toBe(2);
  });
});

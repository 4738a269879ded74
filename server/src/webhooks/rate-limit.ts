/**
 * The webhook rate limit, in process: a fixed window per key (it opens at the key's first call and
 * lasts `windowMs`; at most `limit` calls in it), as express-rate-limit's MemoryStore counted before
 * the webhook path left Express, with the headers it sent with `standardHeaders: 'draft-8'`:
 *
 *   RateLimit: "<limit>-in-<window>"; r=<remaining>; t=<seconds to reset>
 *   RateLimit-Policy: "<limit>-in-<window>"; q=<limit>; w=<window seconds>; pk=:<partition key>:
 *   Retry-After: <seconds to reset>   (refused calls only)
 *
 * Memory stays bounded like that store's: keys live in two generations of maps, swapped once per
 * window; a key not called for a whole window is dropped, its window having ended by then.
 */
import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';

interface Window {
  hits: number;
  resetAt: number;
  /** The key's `RateLimit-Policy` value (hashing the key once per key, not per call). */
  policy: string;
}

export class FixedWindowLimiter {
  private current = new Map<string, Window>();
  private previous = new Map<string, Window>();
  private rotateAt = 0;
  private readonly name: string;
  private readonly windowSeconds: number;

  constructor(
    private readonly windowMs: number,
    private readonly limit: number,
  ) {
    this.name = policyName(limit, windowMs);
    this.windowSeconds = Math.ceil(windowMs / 1000);
  }

  /** Counts a call under `key` and sets the rate-limit headers in `headers`; false when over the limit. */
  hit(key: string, headers: OutgoingHttpHeaders, now = Date.now()): boolean {
    if (now >= this.rotateAt) {
      this.previous = this.current;
      this.current = new Map();
      this.rotateAt = now + this.windowMs;
    }
    let w = this.current.get(key);
    if (!w) {
      w = this.previous.get(key);
      if (w) this.previous.delete(key);
      else w = { hits: 0, resetAt: now + this.windowMs, policy: `"${this.name}"; q=${this.limit}; w=${this.windowSeconds}; pk=:${partitionKey(key)}:` };
      this.current.set(key, w);
    }
    if (w.resetAt <= now) {
      w.hits = 0;
      w.resetAt = now + this.windowMs;
    }
    w.hits++;
    const reset = Math.max(0, Math.ceil((w.resetAt - now) / 1000));
    headers['RateLimit'] = `"${this.name}"; r=${Math.max(this.limit - w.hits, 0)}; t=${reset}`;
    headers['RateLimit-Policy'] = w.policy;
    if (w.hits <= this.limit) return true;
    headers['Retry-After'] = String(reset);
    return false;
  }

  /** Keys held (tests: memory stays bounded). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}

/** express-rate-limit's default policy name: "100-in-1min", "5-in-1.5sec", "10-in-2hrs", … */
function policyName(limit: number, windowMs: number): string {
  const seconds = windowMs / 1000;
  const minutes = windowMs / (1000 * 60);
  const hours = windowMs / (1000 * 60 * 60);
  const days = windowMs / (1000 * 60 * 60 * 24);
  if (seconds < 60) return `${limit}-in-${seconds}sec`;
  if (minutes < 60) return `${limit}-in-${minutes}min`;
  if (hours < 24) return `${limit}-in-${hours}hr${hours > 1 ? 's' : ''}`;
  return `${limit}-in-${days}day${days > 1 ? 's' : ''}`;
}

/** express-rate-limit's partition key: base64 of the first 12 hex digits of the key's SHA-256. */
function partitionKey(key: string): string {
  return Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
}

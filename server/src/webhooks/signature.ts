/**
 * HMAC-SHA256 signatures for webhooks, in and out: `X-Gridflow-Signature: sha256=<hex>` over
 * `<timestamp>.<raw body>`, with `X-Gridflow-Timestamp` (unix seconds). Compared in constant time;
 * timestamps outside the tolerance are refused, and a signature seen before is refused (replay).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-gridflow-signature';
export const TIMESTAMP_HEADER = 'x-gridflow-timestamp';
export const DEFAULT_TOLERANCE_S = 300;

export function sign(secret: string, timestamp: number | string, rawBody: Buffer | string): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

export function signedHeaders(secret: string, rawBody: Buffer | string, now = Date.now()): Record<string, string> {
  const ts = Math.floor(now / 1000);
  return { 'X-Gridflow-Timestamp': String(ts), 'X-Gridflow-Signature': sign(secret, ts, rawBody) };
}

export type SignatureCheck =
  | { ok: true; signature: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

export function verifySignature(
  secret: string,
  rawBody: Buffer,
  signatureHeader: string | undefined,
  timestampHeader: string | undefined,
  now = Date.now(),
  toleranceS = DEFAULT_TOLERANCE_S,
): SignatureCheck {
  if (!signatureHeader || !timestampHeader) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(timestampHeader)) return { ok: false, reason: 'malformed' };
  const m = /^sha256=([0-9a-f]{64})$/i.exec(signatureHeader.trim());
  if (!m) return { ok: false, reason: 'malformed' };
  const ts = Number(timestampHeader);
  if (Math.abs(now / 1000 - ts) > toleranceS) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(sign(secret, ts, rawBody).slice(7), 'hex');
  const given = Buffer.from(m[1]!.toLowerCase(), 'hex');
  if (!timingSafeEqual(expected, given)) return { ok: false, reason: 'mismatch' };
  return { ok: true, signature: m[1]!.toLowerCase() };
}

/** Where accepted signatures are remembered, so that the same signed request is refused later. */
export interface ReplayStore {
  /** True when `key` is new (and records it); false for a replay. Throws when the store is unreachable. */
  check(key: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Signatures accepted within the tolerance window, in this process. Enough for one server process
 * (embedded mode); with several, use `redisReplayStore` as well.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  constructor(private readonly windowMs = DEFAULT_TOLERANCE_S * 1000 * 2) {}

  /** True when first seen (and records it); false for a replay. */
  check(key: string, now = Date.now()): boolean {
    if (this.seen.size > 10_000) this.prune(now);
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.windowMs) return false;
    this.seen.set(key, now);
    return true;
  }

  /** Forgets `key` (its request was not accepted after all, e.g. the shared store was down). */
  forget(key: string): void {
    this.seen.delete(key);
  }

  private prune(now: number) {
    for (const [k, at] of this.seen) if (now - at >= this.windowMs) this.seen.delete(k);
  }
}

/**
 * Scaled mode: signatures are remembered in Redis (`SET NX` with the window as expiry), so a request
 * replayed to any server process is refused. Keys hold a hash of the trigger id and signature.
 */
export async function redisReplayStore(
  redisUrl: string,
  windowMs = DEFAULT_TOLERANCE_S * 1000 * 2,
): Promise<ReplayStore> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 2000, lazyConnect: true });
  redis.on('error', () => {}); // reconnects by itself; a failed check answers 503
  return {
    async check(key) {
      const digest = createHash('sha256').update(key).digest('base64url');
      return (await redis.set(`gridflow:webhook-replay:${digest}`, '1', 'PX', windowMs, 'NX')) === 'OK';
    },
    async close() {
      redis.disconnect();
    },
  };
}

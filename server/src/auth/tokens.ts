/**
 * Session tokens and API keys: random secrets given to the client once, stored only as SHA-256
 * hashes (they carry 256 bits of entropy, so a fast hash is safe here, unlike passwords).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'gf_session';
export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function newSessionToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: sha256Hex(token) };
}

/** API key format: `gfk_<8 char prefix>_<secret>`. The prefix is shown in lists to tell keys apart. */
export function newApiKey(): { key: string; prefix: string; keyHash: string } {
  const prefix = randomBytes(6).toString('base64url').slice(0, 8);
  const key = `gfk_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, keyHash: sha256Hex(key) };
}

export function apiKeyPrefix(key: string): string | null {
  const m = /^gfk_([A-Za-z0-9_-]{8})_[A-Za-z0-9_-]{20,}$/.exec(key);
  return m ? m[1]! : null;
}

export function safeEqualHex(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}

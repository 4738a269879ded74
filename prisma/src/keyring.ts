/**
 * Encryption keyring: `GRIDFLOW_ENCRYPTION_KEY` holds one key or a comma-separated list for
 * rotation, `kid:key,kid:key` or bare keys. The first key encrypts; all of them decrypt. A bare
 * key's id is a fingerprint of the key (`k` + 8 hex of its sha256), so a list of bare keys
 * (`NEW,OLD`) rotates without naming ids. Keys are 32 bytes: 64 hex characters or base64(url).
 */
import { createHash } from 'node:crypto';

export interface KeyringEntry {
  kid: string;
  key: Buffer;
}

export interface Keyring {
  /** Encrypts new values. */
  primary: KeyringEntry;
  /** By key id; includes the primary. */
  keys: ReadonlyMap<string, Buffer>;
}

const KID = /^[A-Za-z0-9_-]{1,32}$/;

export function keyFingerprint(key: Buffer): string {
  return 'k' + createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** 32-byte key from hex or base64/base64url text; throws with a message saying what is wrong. */
export function decodeKey(text: string): Buffer {
  const t = text.trim();
  let key: Buffer;
  // All-hex text of even length is hex (a 32-byte key in base64 is 44 characters ending in "=").
  if (/^(?:[0-9a-fA-F]{2})+$/.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t))
    key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  else throw new Error('is neither hex nor base64');
  if (key.length !== 32) {
    throw new Error(
      `decodes to ${key.length} bytes; AES-256 needs 32 bytes (64 hex or 44 base64 characters)`,
    );
  }
  return key;
}

/** Parses `key`, `kid:key` or a comma-separated list of those. */
export function parseKeyring(text: string): Keyring {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new Error('is empty');
  const entries: KeyringEntry[] = parts.map((part, i) => {
    const label = parts.length > 1 ? `key ${i + 1}` : 'the key';
    const colon = part.indexOf(':');
    const kidText = colon >= 0 ? part.slice(0, colon).trim() : undefined;
    const keyText = colon >= 0 ? part.slice(colon + 1) : part;
    if (kidText !== undefined && !KID.test(kidText)) {
      throw new Error(`${label}: key id "${kidText}" must be 1-32 letters, digits, "_" or "-"`);
    }
    let key: Buffer;
    try {
      key = decodeKey(keyText);
    } catch (err) {
      throw new Error(`${label} ${(err as Error).message}`);
    }
    return { kid: kidText ?? keyFingerprint(key), key };
  });
  const keys = new Map<string, Buffer>();
  for (const e of entries) {
    if (keys.has(e.kid)) throw new Error(`key id "${e.kid}" appears twice`);
    keys.set(e.kid, e.key);
  }
  return { primary: entries[0]!, keys };
}

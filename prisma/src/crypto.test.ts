import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCipher, DecryptionError } from './crypto.js';
import { keyFingerprint, parseKeyring } from './keyring.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const b64 = (k: Buffer) => k.toString('base64');

/** Flips one bit in the decoded bytes of part `index` of a gf1 value. */
function tamper(value: string, index: number): string {
  const parts = value.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('createCipher', () => {
  const cipher = createCipher(b64(keyA));

  it('round-trips text, including empty and non-ASCII strings', () => {
    for (const text of ['', 'oauth-token-123', 'Grüße 👋 ünïcødé', 'x'.repeat(100_000)]) {
      expect(cipher.decrypt(cipher.encrypt(text))).toBe(text);
    }
  });

  it('uses a fresh IV: the same plaintext encrypts differently every time', () => {
    const a = cipher.encrypt('same');
    const b = cipher.encrypt('same');
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('produces gf1.<kid>.<iv>.<tag>.<ct> with a 12-byte IV and 16-byte tag and no plaintext', () => {
    const value = cipher.encrypt('secret-token');
    const [version, kid, iv, tag, ct] = value.split('.');
    expect(version).toBe('gf1');
    expect(kid).toBe(keyFingerprint(keyA));
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(ct!, 'base64url')).toHaveLength('secret-token'.length);
    expect(value).not.toContain('secret');
  });

  it.each([
    ['iv', 2],
    ['tag', 3],
    ['ciphertext', 4],
  ])('detects tampering with the %s', (_, index) => {
    const value = cipher.encrypt('do not change me');
    expect(() => cipher.decrypt(tamper(value, index))).toThrow(DecryptionError);
  });

  it('detects a changed key id and malformed values', () => {
    const value = cipher.encrypt('v');
    expect(() => cipher.decrypt(value.replace(/^gf1\.[^.]+\./, 'gf1.other.'))).toThrow(
      /not in GRIDFLOW_ENCRYPTION_KEY/,
    );
    expect(() => cipher.decrypt('plain text')).toThrow(DecryptionError);
    expect(() => cipher.decrypt(value.split('.').slice(0, 4).join('.'))).toThrow(DecryptionError);
    const parts = value.split('.');
    parts[2] = Buffer.alloc(8).toString('base64url'); // short IV
    expect(() => cipher.decrypt(parts.join('.'))).toThrow(DecryptionError);
  });

  it('binds a value to its context', () => {
    const value = cipher.encrypt('token', 'social_account:1:access_token');
    expect(cipher.decrypt(value, 'social_account:1:access_token')).toBe('token');
    expect(() => cipher.decrypt(value, 'social_account:2:access_token')).toThrow(DecryptionError);
    expect(() => cipher.decrypt(value)).toThrow(DecryptionError);
  });

  it('fails with another key, even under the same key id', () => {
    const value = createCipher(`main:${b64(keyA)}`).encrypt('v');
    expect(() => createCipher(`main:${b64(keyB)}`).decrypt(value)).toThrow(/failed authentication/);
    expect(() => createCipher(b64(keyB)).decrypt(value)).toThrow(/not in GRIDFLOW_ENCRYPTION_KEY/);
  });

  it('rotates: the new key encrypts, old values still decrypt, needsRotation tells them apart', () => {
    const old = createCipher(`2025:${b64(keyA)}`);
    const oldValue = old.encrypt('legacy');
    const rotated = createCipher(`2026:${keyB.toString('hex')},2025:${b64(keyA)}`);
    expect(rotated.decrypt(oldValue)).toBe('legacy');
    const fresh = rotated.encrypt('new');
    expect(fresh.split('.')[1]).toBe('2026');
    expect(rotated.needsRotation(oldValue)).toBe(true);
    expect(rotated.needsRotation(fresh)).toBe(false);
    expect(() => old.decrypt(fresh)).toThrow(DecryptionError);
    // Bare keys rotate too: their ids are fingerprints.
    const bare = createCipher(`${b64(keyB)},${b64(keyA)}`);
    expect(bare.decrypt(createCipher(b64(keyA)).encrypt('x'))).toBe('x');
  });
});

describe('parseKeyring', () => {
  it('accepts hex, base64 and base64url keys', () => {
    const hex = parseKeyring(keyA.toString('hex'));
    const base64 = parseKeyring(keyA.toString('base64'));
    const base64url = parseKeyring(keyA.toString('base64url'));
    for (const r of [hex, base64, base64url]) expect(r.primary.key.equals(keyA)).toBe(true);
  });

  it('rejects wrong lengths, bad ids and duplicates with a clear message', () => {
    expect(() => parseKeyring(randomBytes(16).toString('hex'))).toThrow(
      /16 bytes; AES-256 needs 32 bytes/,
    );
    expect(() => parseKeyring('not a key!')).toThrow(/neither hex nor base64/);
    expect(() => parseKeyring(`bad.id:${b64(keyA)}`)).toThrow(/key id "bad.id"/);
    expect(() => parseKeyring(`a:${b64(keyA)},a:${b64(keyB)}`)).toThrow(/appears twice/);
    expect(() => parseKeyring(`${b64(keyA)},short`)).toThrow(/^key 2 /);
    expect(() => parseKeyring(' , ')).toThrow(/empty/);
  });
});

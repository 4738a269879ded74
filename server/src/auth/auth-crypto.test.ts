import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './password.js';
import { apiKeyPrefix, newApiKey, sha256Hex } from './tokens.js';

describe('passwords', () => {
  it('hashes with scrypt and verifies only the right password', async () => {
    const h = await hashPassword('correct horse');
    expect(h).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(h).not.toContain('correct');
    expect(await verifyPassword('correct horse', h)).toBe(true);
    expect(await verifyPassword('correct horsf', h)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
    expect(await hashPassword('correct horse')).not.toBe(h); // salted
  });
});

describe('api keys', () => {
  it('have a visible prefix and are stored as a hash', () => {
    const k = newApiKey();
    expect(apiKeyPrefix(k.key)).toBe(k.prefix);
    expect(k.keyHash).toBe(sha256Hex(k.key));
    expect(apiKeyPrefix('gfk_short')).toBeNull();
  });
});

/**
 * Encryption of secret columns (tokens, webhook secrets): AES-256-GCM, a random 12-byte IV per
 * value, and the key id in the output so old values still decrypt after a key rotation.
 *
 * Format: `gf1.<kid>.<iv>.<tag>.<ciphertext>` (iv, tag, ciphertext base64url). The prefix
 * `gf1.<kid>` and the optional `context` are authenticated (AAD): a value copied to another
 * context, or with its key id changed, fails to decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { getConfig } from './config.js';
import { parseKeyring, type Keyring } from './keyring.js';

export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
}

export interface Cipher {
  /** Encrypts with the primary key. `context` (e.g. `social_account:<id>:access_token`) binds the value to where it is stored. */
  encrypt(plaintext: string, context?: string): string;
  /** Decrypts a value made by `encrypt` with any key of the keyring; throws DecryptionError if it was altered or the key is unknown. */
  decrypt(ciphertext: string, context?: string): string;
  /** True when the value is not encrypted with the current primary key (re-encrypt it on next write). */
  needsRotation(ciphertext: string): boolean;
}

const VERSION = 'gf1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function aad(kid: string, context: string | undefined): Buffer {
  return Buffer.from(`${VERSION}.${kid}.${context ?? ''}`, 'utf8');
}

/** A cipher over an explicit keyring (a Keyring or the GRIDFLOW_ENCRYPTION_KEY text format). */
export function createCipher(keyring: Keyring | string): Cipher {
  const ring = typeof keyring === 'string' ? parseKeyring(keyring) : keyring;
  return {
    encrypt(plaintext, context) {
      const { kid, key } = ring.primary;
      const iv = randomBytes(IV_BYTES);
      const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      c.setAAD(aad(kid, context));
      const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      const tag = c.getAuthTag();
      return [
        VERSION,
        kid,
        iv.toString('base64url'),
        tag.toString('base64url'),
        ct.toString('base64url'),
      ].join('.');
    },
    decrypt(ciphertext, context) {
      const parts = ciphertext.split('.');
      if (parts.length !== 5 || parts[0] !== VERSION) {
        throw new DecryptionError(
          'not a Gridflow encrypted value (expected gf1.<kid>.<iv>.<tag>.<ciphertext>)',
        );
      }
      const [, kid, ivText, tagText, ctText] = parts as [string, string, string, string, string];
      const key = ring.keys.get(kid);
      if (!key)
        throw new DecryptionError(
          `encrypted with key "${kid}", which is not in GRIDFLOW_ENCRYPTION_KEY`,
        );
      const iv = Buffer.from(ivText, 'base64url');
      const tag = Buffer.from(tagText, 'base64url');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
        throw new DecryptionError('malformed encrypted value');
      try {
        const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        d.setAAD(aad(kid, context));
        d.setAuthTag(tag);
        return Buffer.concat([d.update(Buffer.from(ctText, 'base64url')), d.final()]).toString(
          'utf8',
        );
      } catch {
        throw new DecryptionError(
          'encrypted value failed authentication (altered, wrong key or wrong context)',
        );
      }
    },
    needsRotation(ciphertext) {
      return ciphertext.split('.')[1] !== ring.primary.kid;
    },
  };
}

let defaultCipher: { ring: Keyring; cipher: Cipher } | undefined;

function cipher(): Cipher {
  const ring = getConfig().keyring;
  if (defaultCipher?.ring !== ring) defaultCipher = { ring, cipher: createCipher(ring) };
  return defaultCipher.cipher;
}

/** Encrypts with the configured keyring (getConfig()). */
export function encrypt(plaintext: string, context?: string): string {
  return cipher().encrypt(plaintext, context);
}

/** Decrypts with the configured keyring (getConfig()). */
export function decrypt(ciphertext: string, context?: string): string {
  return cipher().decrypt(ciphertext, context);
}

import { describe, expect, it } from 'vitest';
import { ReplayGuard, sign, signedHeaders, verifySignature } from './signature.js';

describe('webhook signatures', () => {
  const body = Buffer.from('{"a":1}');
  const now = 1_800_000_000_000;

  it('accepts a fresh valid signature and rejects tampering', () => {
    const h = signedHeaders('s3cret', body, now);
    expect(verifySignature('s3cret', body, h['X-Gridflow-Signature'], h['X-Gridflow-Timestamp'], now).ok).toBe(true);
    expect(verifySignature('s3cret', Buffer.from('{"a":2}'), h['X-Gridflow-Signature'], h['X-Gridflow-Timestamp'], now)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature('other', body, h['X-Gridflow-Signature'], h['X-Gridflow-Timestamp'], now)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects stale timestamps, malformed and missing headers', () => {
    const ts = Math.floor(now / 1000) - 301;
    expect(verifySignature('s', body, sign('s', ts, body), String(ts), now)).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature('s', body, 'sha1=abc', String(ts), now)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySignature('s', body, undefined, String(ts), now)).toEqual({ ok: false, reason: 'missing' });
    expect(verifySignature('s', body, sign('s', 'x', body), 'x', now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('replay guard refuses a signature seen within the window', () => {
    const g = new ReplayGuard(1000);
    expect(g.check('abc', 0)).toBe(true);
    expect(g.check('abc', 500)).toBe(false);
    expect(g.check('abc', 1500)).toBe(true);
  });
});

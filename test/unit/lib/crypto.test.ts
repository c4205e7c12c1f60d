import { describe, expect, it } from 'vitest';
import { constantTimeEqual, decryptAesGcm, encryptAesGcm, hmacSha256Base64url, randomToken, sha256Base64url } from '../../../src/lib/crypto.js';

describe('lib/crypto', () => {
  it('randomToken: 32 bytes (256 bits) → 43 base64url characters by default, and never repeats', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => randomToken()));
    expect(tokens.size).toBe(1000);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // Larger than the block tokens are drawn from: still exactly that many random bytes.
    expect(Buffer.from(randomToken(5000), 'base64url')).toHaveLength(5000);
  });

  it('sha256Base64url matches a known vector', () => {
    expect(sha256Base64url('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('hmacSha256Base64url matches RFC 4231 test case 2', () => {
    expect(hmacSha256Base64url(Buffer.from('Jefe'), 'what do ya want for nothing?')).toBe(
      Buffer.from('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', 'hex').toString('base64url'),
    );
  });

  it.each([
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'ab', false],
    ['', '', true],
    ['', 'a', false],
    ['é', 'é', true],
    ['é', 'e', false],
  ])('constantTimeEqual(%j, %j) = %s', (a, b, equal) => {
    expect(constantTimeEqual(a, b)).toBe(equal);
  });

  describe('AES-256-GCM envelopes', () => {
    const key = Buffer.alloc(32, 9);

    it('round-trips under its version and associated data, and refuses another aad or version', () => {
      const envelope = encryptAesGcm(key, 'secret', 'kid-1', 'v2');
      expect(envelope.startsWith('v2.')).toBe(true);
      expect(decryptAesGcm(key, envelope, 'kid-1', 'v2')).toBe('secret');
      expect(() => decryptAesGcm(key, envelope, 'kid-2', 'v2')).toThrow();
      expect(() => decryptAesGcm(key, envelope, 'kid-1', 'v1')).toThrow(/unknown AES-GCM envelope/);
    });

    it('pins the tag to 128 bits: a truncated tag is refused before decryption', () => {
      const [version, iv, tag, body] = encryptAesGcm(key, 'secret', 'kid-1').split('.');
      const short = Buffer.from(tag!, 'base64url').subarray(0, 4).toString('base64url');
      expect(() => decryptAesGcm(key, [version, iv, short, body].join('.'), 'kid-1')).toThrow(/128 bits/);
    });
  });
});

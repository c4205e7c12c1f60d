import { describe, expect, it } from 'vitest';
import { VerifiedJwtCache } from '../../../src/tokens/verified-jwt-cache.js';

describe('VerifiedJwtCache', () => {
  const payload = { jti: 'j1', exp: 1_000, sub: 'u1' };

  it('returns the claims of the exact token while unexpired and under the same key generation', () => {
    const cache = new VerifiedJwtCache();
    cache.set('tok.a.b', 1, payload);
    expect(cache.get('tok.a.b', 1, 999)).toEqual(payload);
    expect(cache.get('tok.a.c', 1, 999)).toBeUndefined();
  });

  it('refuses and forgets an entry at its exp (RFC 7519 section 4.1.4: expired at exp)', () => {
    const cache = new VerifiedJwtCache();
    cache.set('t', 1, payload);
    expect(cache.get('t', 1, 1_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('refuses an entry verified under another key generation (keys reloaded)', () => {
    const cache = new VerifiedJwtCache();
    cache.set('t', 1, payload);
    expect(cache.get('t', 2, 10)).toBeUndefined();
    expect(cache.get('t', 1, 10)).toBeUndefined();
  });

  it('never caches a token without a numeric exp as valid', () => {
    const cache = new VerifiedJwtCache();
    cache.set('t', 1, { jti: 'j' });
    expect(cache.get('t', 1, 10)).toBeUndefined();
  });

  it('is bounded: the oldest entry goes first', () => {
    const cache = new VerifiedJwtCache(2);
    cache.set('a', 1, payload);
    cache.set('b', 1, payload);
    cache.set('c', 1, payload);
    expect(cache.size).toBe(2);
    expect(cache.get('a', 1, 10)).toBeUndefined();
    expect(cache.get('c', 1, 10)).toEqual(payload);
  });

  it('hands out frozen copies, so a caller cannot alter what later requests see', () => {
    const cache = new VerifiedJwtCache();
    const claims = { ...payload };
    cache.set('t', 1, claims);
    claims.sub = 'someone-else';
    const got = cache.get('t', 1, 10)!;
    expect(got.sub).toBe('u1');
    expect(Object.isFrozen(got)).toBe(true);
  });
});

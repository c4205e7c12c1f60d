import { describe, expect, it } from 'vitest';
import { formatUserCode, newUserCode, normaliseUserCode, USER_CODE_ALPHABET } from '../../../src/services/device-authorization-service.js';

/** RFC 8628 section 6.1: user codes a person can read off a screen and type without mistakes. */
describe('device user codes', () => {
  it('the alphabet: twenty consonants, no vowels, no digits, none of the look-alikes', () => {
    expect(USER_CODE_ALPHABET).toBe('BCDFGHJKLMNPQRSTVWXZ');
    expect(new Set(USER_CODE_ALPHABET).size).toBe(20);
    for (const ambiguous of 'AEIOUY01258') expect(USER_CODE_ALPHABET).not.toContain(ambiguous);
  });

  it('new codes: eight characters of the alphabet, every character drawn, about uniformly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2_000; i++) {
      const code = newUserCode();
      expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
      for (const ch of code) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(counts.size).toBe(20);
    // 16,000 draws, 800 expected per character: a biased generator would leave this band.
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(600);
      expect(n).toBeLessThan(1_000);
    }
  });

  it('shown as XXXX-XXXX', () => {
    expect(formatUserCode('BCDFGHJK')).toBe('BCDF-GHJK');
  });

  it.each([
    ['BCDF-GHJK', 'BCDFGHJK'],
    ['bcdf-ghjk', 'BCDFGHJK'],
    ['bcdfghjk', 'BCDFGHJK'],
    [' BCDF GHJK ', 'BCDFGHJK'],
    ['BC-DF-GH-JK', 'BCDFGHJK'],
    ['BCDF\u2013GHJK', 'BCDFGHJK'],
    ['BCDF\tGHJK\n', 'BCDFGHJK'],
  ])('%j is entered as %s', (typed, code) => {
    expect(normaliseUserCode(typed)).toBe(code);
  });

  it.each(['', 'BCDF-GHJ', 'BCDF-GHJKL', 'ACDF-GHJK', 'BCDF-0HJK', 'BCDF_GHJK', 'ＢCDF-GHJK', 'x'.repeat(5000)])('%j is no user code', (typed) => {
    expect(normaliseUserCode(typed)).toBeUndefined();
  });
});

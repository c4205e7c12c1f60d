import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, fitsKeyShape, isKeyPart } from '../../../src/lib/page-key.js';

describe('page keys and cursors', () => {
  it('round-trips a key through its cursor (base64url of JSON)', () => {
    const key = ['2026-12-06T17:33:15.123456Z', 'client-ü'];
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).toEqual(key);
    expect(decodeCursor(cursor)).toEqual(key);
  });

  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  it.each([
    ['not base64url', 'a+b/c='],
    ['empty', ''],
    ['not JSON', b64('{oops')],
    ['an object', b64('{"a":"b"}')],
    ['an empty array', b64('[]')],
    ['five parts', b64('["a","b","c","d","e"]')],
    ['a number part', b64('["a",1]')],
    ['a NUL', b64('["a\\u0000"]')],
    ['a lone surrogate', b64('["\\ud800"]')],
    ['an over-long part', b64(JSON.stringify(['x'.repeat(1025)]))],
  ])('refuses a cursor that is %s', (_, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });

  it.each([
    ['2026-12-06T17:33:15.123456Z', true],
    ['2024-02-29T00:00:00.000000Z', true],
    ['2026-02-29T00:00:00.000000Z', false],
    ['2026-02-30T00:00:00.000000Z', false],
    ['2026-12-06T24:00:00.000000Z', false],
    ['0000-01-01T00:00:00.000000Z', false],
    ['2026-12-06T17:33:15.123Z', false],
    ['2026-12-06 17:33:15.123456+00', false],
  ])('a timestamp part %s is %s', (value, ok) => {
    expect(isKeyPart('timestamp', value)).toBe(ok);
  });

  it('checks a key against the shape of its list', () => {
    const shape = ['timestamp', 'uuid'] as const;
    expect(fitsKeyShape(shape, ['2026-12-06T17:33:15.123456Z', '0b6f6f5e-2c1a-4c39-9d55-3f1b6b8f2a10'])).toBe(true);
    expect(fitsKeyShape(shape, ['2026-12-06T17:33:15.123456Z', 'alice'])).toBe(false);
    expect(fitsKeyShape(shape, ['2026-12-06T17:33:15.123456Z'])).toBe(false);
    expect(fitsKeyShape(['text'], ['openid'])).toBe(true);
  });
});

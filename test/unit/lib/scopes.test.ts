import { describe, expect, it } from 'vitest';
import { formatScope, isSubset, parseScope, SCOPE_TOKEN } from '../../../src/lib/scopes.js';

describe('lib/scopes', () => {
  it.each([
    [undefined, []],
    [null, []],
    ['', []],
    ['openid', ['openid']],
    ['openid  email ', ['openid', 'email']],
    ['openid email openid', ['openid', 'email']],
  ])('parseScope(%j) = %j', (input, expected) => {
    expect(parseScope(input)).toEqual(expected);
  });

  it('formatScope joins with single spaces', () => {
    expect(formatScope(new Set(['openid', 'email']))).toBe('openid email');
  });

  it.each([
    [[], [], true],
    [[], ['a'], true],
    [['a'], ['a', 'b'], true],
    [['a', 'b'], ['b', 'a'], true],
    [['c'], ['a', 'b'], false],
    [['a'], [], false],
  ])('isSubset(%j, %j) = %s', (sub, sup, expected) => {
    expect(isSubset(sub, sup)).toBe(expected);
  });

  it.each([
    ['openid', true],
    ['admin:clients:read', true],
    ['https://api.example.com/read', true],
    ['a"b', false],
    ['a\\b', false],
    ['a b', false],
    ['é', false],
    ['', false],
    ['a\u0000', false],
  ])('SCOPE_TOKEN %j → %s (RFC 6749 section 3.3)', (token, ok) => {
    expect(SCOPE_TOKEN.test(token)).toBe(ok);
  });
});

import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, typoThreshold } from '../../../src/lib/did-you-mean.js';

describe('editDistance (Damerau–Levenshtein, optimal string alignment)', () => {
  it.each([
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['serve', 'serve', 0],
    ['serv', 'serve', 1], // insertion
    ['servee', 'serve', 1], // deletion
    ['sarve', 'serve', 1], // substitution
    ['mgirate', 'migrate', 1], // adjacent swap: 1, not 2
    ['redirect-ur', 'redirect-uri', 1],
    ['ACCES_TOKEN_EXPIRE_MINUTES', 'ACCESS_TOKEN_EXPIRE_MINUTES', 1],
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3], // optimal string alignment: a swapped pair is not edited again
  ])('%j → %j is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('didYouMean', () => {
  const commands = ['serve', 'migrate', 'maintenance', 'config', 'admin'];

  it('suggests the closest candidate within the threshold', () => {
    expect(didYouMean('sevre', commands)).toBe('serve');
    expect(didYouMean('migrat', commands)).toBe('migrate');
    expect(didYouMean('maintenace', commands)).toBe('maintenance');
    expect(didYouMean('confgi', commands)).toBe('config');
  });

  it('suggests nothing when every candidate is too far, or for the word itself', () => {
    expect(didYouMean('deploy', commands)).toBeUndefined();
    expect(didYouMean('serve', ['serve'])).toBeUndefined();
    expect(didYouMean('x', [])).toBeUndefined();
  });

  it('allows one edit for words of up to four characters and two from five on', () => {
    expect(typoThreshold('ls')).toBe(1);
    expect(typoThreshold('list')).toBe(1);
    expect(typoThreshold('lists')).toBe(2);
    expect(didYouMean('lsit', ['list'])).toBe('list');
    expect(didYouMean('rm', ['ls'])).toBeUndefined();
    expect(didYouMean('sh', ['show'])).toBeUndefined();
    expect(didYouMean('shw', ['show'])).toBe('show');
    expect(didYouMean('upate', ['update', 'create'])).toBe('update');
  });

  it('takes an explicit threshold, and the first candidate on a tie', () => {
    expect(didYouMean('abcd', ['abxy'], 2)).toBe('abxy');
    expect(didYouMean('abcd', ['abxy'])).toBeUndefined();
    expect(didYouMean('cat', ['bat', 'hat'])).toBe('bat');
  });
});

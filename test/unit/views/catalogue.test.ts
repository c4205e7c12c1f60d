import { describe, expect, it } from 'vitest';
import { negotiateLocale } from '../../../src/lib/locales.js';
import { CATALOGUE, translator } from '../../../src/views/i18n/catalogue.js';

describe('the string catalogue', () => {
  it('every locale has every key, and no string is empty', () => {
    const keys = Object.keys(CATALOGUE.en).sort();
    expect(Object.keys(CATALOGUE.de).sort()).toEqual(keys);
    for (const messages of Object.values(CATALOGUE)) {
      for (const value of Object.values(messages)) expect(value.trim()).not.toBe('');
    }
  });

  it('every placeholder of the English string is in the German one', () => {
    for (const [key, en] of Object.entries(CATALOGUE.en)) {
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(names(CATALOGUE.de[key]!), key).toEqual(names(en));
    }
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    const t = translator('de');
    expect(t('common.support_reference', { requestId: 'r-1' })).toBe('Support-Referenz: r-1');
    expect(t('common.support_reference')).toBe('Support-Referenz: {requestId}');
  });
});

describe('negotiateLocale', () => {
  it.each([
    [undefined, undefined, 'en'],
    ['de-CH en', undefined, 'de'],
    ['fr', 'de', 'de'],
    ['fr ja', undefined, 'en'],
    [undefined, 'fr-FR, de;q=0.8, en;q=0.5', 'de'],
    [undefined, 'en;q=0.2, de;q=0.9', 'de'],
    [undefined, 'de;q=0, en', 'en'],
    [undefined, 'de;q=abc', 'en'],
    [undefined, '*', 'en'],
  ])('ui_locales %s, Accept-Language %s: %s', (ui, accept, expected) => {
    expect(negotiateLocale(ui, accept)).toBe(expected);
  });
});

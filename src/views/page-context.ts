import type { Config } from '../config/config.js';
import type { Locale } from '../lib/locales.js';
import { translator, type Translate } from './i18n/catalogue.js';

/** What the operator's branding settings put on every page and mail. */
export interface Brand {
  productName: string;
}

export function brandFrom(_config: Readonly<Config>): Brand {
  return { productName: 'Authly' };
}

/** Everything a page needs besides its own view: language, strings, brand, and the request id for support. */
export interface PageContext {
  locale: Locale;
  t: Translate;
  brand: Brand;
  requestId: string;
}

export function pageContextOf(config: Readonly<Config>, locale: Locale, requestId: string): PageContext {
  return { locale, t: translator(locale), brand: brandFrom(config), requestId };
}

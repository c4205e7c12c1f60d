import type { Config } from '../config/config.js';
import type { Locale } from '../lib/locales.js';
import { brandAssets } from './brand-assets.js';
import { translator, type Translate } from './i18n/catalogue.js';

/** What the operator's branding settings (BRAND_*) put on every page and mail. */
export interface Brand {
  productName: string;
  /** The logo's src: an /assets/ path (BRAND_LOGO_FILE) or an absolute URL (BRAND_LOGO_URL). */
  logoSrc: string | undefined;
  /** The logo URL's origin, allowed in the pages' CSP img-src; undefined when the logo is served by Authly. */
  logoOrigin: string | undefined;
  supportUrl: string | undefined;
  supportEmail: string | undefined;
  stylesheet: { href: string; integrity: string };
  /** Operator HTML fragments from BRAND_TEMPLATES_DIR, checked at start-up (src/config/brand.ts). */
  headerHtml: string | undefined;
  footerHtml: string | undefined;
}

const brands = new WeakMap<Readonly<Config>, Brand>();

export function brandFrom(config: Readonly<Config>): Brand {
  const cached = brands.get(config);
  if (cached) return cached;
  const assets = brandAssets(config);
  const { brand } = config;
  const result: Brand = {
    productName: brand.productName,
    logoSrc: assets.logoPath ?? brand.logoUrl,
    logoOrigin: brand.logoUrl ? new URL(brand.logoUrl).origin : undefined,
    supportUrl: brand.supportUrl,
    supportEmail: brand.supportEmail,
    stylesheet: { href: assets.stylesheetPath, integrity: assets.stylesheetIntegrity },
    headerHtml: brand.templates.headerHtml,
    footerHtml: brand.templates.footerHtml,
  };
  brands.set(config, result);
  return result;
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

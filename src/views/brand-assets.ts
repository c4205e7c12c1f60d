import { createHash } from 'node:crypto';
import type { Config } from '../config/config.js';
import { buildStylesheet } from './stylesheet.js';

/** A file Authly serves under /assets/: its name carries its content hash, so it is cached for a year. */
export interface Asset {
  body: Buffer;
  contentType: string;
  /** The Subresource Integrity value (W3C SRI section 3.1): sha256 of the exact bytes served. */
  integrity: string;
}

export interface BrandAssets {
  /** Path of the stylesheet, e.g. /assets/authly-3f2a….css. */
  stylesheetPath: string;
  stylesheetIntegrity: string;
  /** Path of the logo file (BRAND_LOGO_FILE), when there is one. */
  logoPath: string | undefined;
  /** Every asset by file name (the last path segment). */
  files: ReadonlyMap<string, Asset>;
}

export const ASSETS_PREFIX = '/assets/';

function asset(body: Buffer, contentType: string): Asset & { hash: string } {
  const digest = createHash('sha256').update(body);
  const base64 = digest.copy().digest('base64');
  return { body, contentType, integrity: `sha256-${base64}`, hash: digest.digest('hex').slice(0, 16) };
}

// Built once per loaded configuration (the stylesheet depends on the brand colours and extra CSS).
const built = new WeakMap<Readonly<Config>, BrandAssets>();

export function brandAssets(config: Readonly<Config>): BrandAssets {
  const cached = built.get(config);
  if (cached) return cached;
  const files = new Map<string, Asset>();
  const css = asset(Buffer.from(buildStylesheet(config.brand), 'utf8'), 'text/css; charset=utf-8');
  const cssName = `authly-${css.hash}.css`;
  files.set(cssName, css);
  let logoPath: string | undefined;
  const logo = config.brand.logoFile;
  if (logo) {
    const file = asset(logo.bytes, logo.contentType);
    const name = `logo-${file.hash}${logo.extension}`;
    files.set(name, file);
    logoPath = ASSETS_PREFIX + name;
  }
  const assets: BrandAssets = { stylesheetPath: ASSETS_PREFIX + cssName, stylesheetIntegrity: css.integrity, logoPath, files };
  built.set(config, assets);
  return assets;
}

import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The operator's branding (BRAND_*), read and checked once at start-up so that a broken logo file or an
 * unsafe template fragment stops the server with a one-line reason instead of breaking pages later.
 */
export interface BrandConfig {
  productName: string;
  /** An absolute http(s) URL of the logo (its origin joins the pages' CSP img-src). */
  logoUrl: string | undefined;
  /** A logo file, served by Authly under /assets/ with a content hash in its name. */
  logoFile: { bytes: Buffer; contentType: string; extension: string } | undefined;
  /** #rrggbb, lower case. */
  primaryColor: string;
  supportUrl: string | undefined;
  supportEmail: string | undefined;
  /** Overrides from BRAND_TEMPLATES_DIR: trusted operator HTML (checked below) and CSS appended to the stylesheet. */
  templates: { headerHtml?: string; footerHtml?: string; extraCss?: string };
}

export class BrandConfigError extends Error {
  override name = 'BrandConfigError';
}

const LOGO_TYPES: Record<string, string> = {
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};
export const MAX_LOGO_BYTES = 256 * 1024;
const MAX_TEMPLATE_BYTES = 64 * 1024;

/**
 * Fragments are the operator's own HTML, but they are checked anyway: the pages' CSP allows no inline
 * script or style (SECURITY.md), so anything that would need one is refused at start-up rather than
 * silently blocked in the browser; so are elements that load or embed other documents.
 */
const UNSAFE_FRAGMENT: [RegExp, string][] = [
  [/<\s*(script|style|iframe|frame|object|embed|base|meta|link|form)\b/i, 'must not contain <$1> elements'],
  [/\son[a-z]+\s*=/i, 'must not contain event handler attributes (on…=)'],
  [/\sstyle\s*=/i, 'must not contain style attributes (put CSS in extra.css)'],
  [/javascript:/i, 'must not contain javascript: URLs'],
];
const UNSAFE_CSS: [RegExp, string][] = [
  [/@import/i, 'must not use @import'],
  [/url\(\s*['"]?\s*(?!\/assets\/|data:)[^)]*\)/i, 'may only use url() of data: or /assets/ (pages load nothing from other origins)'],
  [/<\/?\s*style/i, 'must be plain CSS, not HTML'],
];

function readTemplate(dir: string, name: string): string | undefined {
  const file = path.join(dir, name);
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return undefined;
  }
  if (size > MAX_TEMPLATE_BYTES) throw new BrandConfigError(`BRAND_TEMPLATES_DIR: ${name} is larger than ${MAX_TEMPLATE_BYTES / 1024} KiB`);
  return readFileSync(file, 'utf8');
}

function checked(name: string, text: string | undefined, rules: [RegExp, string][]): string | undefined {
  if (text === undefined) return undefined;
  for (const [pattern, reason] of rules) {
    const match = pattern.exec(text);
    if (match) throw new BrandConfigError(`BRAND_TEMPLATES_DIR: ${name} ${reason.replace('$1', (match[1] ?? '').toLowerCase())}`);
  }
  return text.trim();
}

function loadLogoFile(file: string): BrandConfig['logoFile'] {
  const extension = path.extname(file).toLowerCase();
  const contentType = LOGO_TYPES[extension];
  if (!contentType) throw new BrandConfigError(`BRAND_LOGO_FILE: expected a .svg, .png, .jpg or .webp file (got "${path.basename(file)}")`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new BrandConfigError(`BRAND_LOGO_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (bytes.length > MAX_LOGO_BYTES) throw new BrandConfigError(`BRAND_LOGO_FILE: larger than ${MAX_LOGO_BYTES / 1024} KiB`);
  return { bytes, contentType, extension: extension === '.jpeg' ? '.jpg' : extension };
}

function expandHex(color: string): string {
  const hex = color.slice(1).toLowerCase();
  return `#${hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex}`;
}

export function loadBrand(raw: {
  productName: string;
  logoUrl: string | undefined;
  logoFile: string | undefined;
  primaryColor: string;
  supportUrl: string | undefined;
  supportEmail: string | undefined;
  templatesDir: string | undefined;
  environment: 'development' | 'production';
}): BrandConfig {
  if (raw.logoUrl && raw.logoFile) throw new BrandConfigError('BRAND_LOGO_URL: set BRAND_LOGO_URL or BRAND_LOGO_FILE, not both');
  if (raw.logoUrl) {
    const url = new URL(raw.logoUrl);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && raw.environment === 'development')) {
      throw new BrandConfigError('BRAND_LOGO_URL: expected an https URL (http only in development)');
    }
  }
  for (const [name, value] of [['BRAND_SUPPORT_URL', raw.supportUrl]] as const) {
    if (value && !/^https?:/i.test(value)) throw new BrandConfigError(`${name}: expected an http(s) URL`);
  }
  let templates: BrandConfig['templates'] = {};
  if (raw.templatesDir) {
    const dir = path.resolve(raw.templatesDir);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) throw new BrandConfigError(`BRAND_TEMPLATES_DIR: ${dir} is not a readable directory`);
    templates = {
      headerHtml: checked('header.html', readTemplate(dir, 'header.html'), UNSAFE_FRAGMENT),
      footerHtml: checked('footer.html', readTemplate(dir, 'footer.html'), UNSAFE_FRAGMENT),
      extraCss: checked('extra.css', readTemplate(dir, 'extra.css'), UNSAFE_CSS),
    };
  }
  return {
    productName: raw.productName,
    logoUrl: raw.logoUrl,
    logoFile: raw.logoFile ? loadLogoFile(raw.logoFile) : undefined,
    primaryColor: expandHex(raw.primaryColor),
    supportUrl: raw.supportUrl,
    supportEmail: raw.supportEmail,
    templates,
  };
}

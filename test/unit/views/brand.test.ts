import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';
import { contrast, readableOn, textOn } from '../../../src/views/brand-colors.js';
import { brandAssets } from '../../../src/views/brand-assets.js';
import { html } from '../../../src/views/html.js';
import { layout } from '../../../src/views/page.js';
import { brandFrom, pageContextOf } from '../../../src/views/page-context.js';
import { waitInWords } from '../../../src/views/components.js';

function templatesDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'authly-brand-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('branding (BRAND_*)', () => {
  it('defaults to Authly with no logo, no support links and the default colour', () => {
    const brand = brandFrom(loadConfig({}));
    expect(brand).toMatchObject({ productName: 'Authly', logoSrc: undefined, logoOrigin: undefined, supportUrl: undefined, supportEmail: undefined });
    expect(brand.stylesheet.href).toMatch(/^\/assets\/authly-[0-9a-f]{16}\.css$/);
  });

  it('puts the product name in titles, the logo file under /assets/, and support links in the footer', () => {
    const config = loadConfig({
      BRAND_PRODUCT_NAME: 'Example ID',
      BRAND_LOGO_FILE: 'test/fixtures/brand/logo.svg',
      BRAND_SUPPORT_URL: 'https://help.example.com',
      BRAND_SUPPORT_EMAIL: 'help@example.com',
    });
    const page = layout(pageContextOf(config, 'en', 'r-1'), 'Sign in', html`<h1>x</h1>`).value;
    const logo = brandAssets(config).logoPath!;
    expect(logo).toMatch(/^\/assets\/logo-[0-9a-f]{16}\.svg$/);
    expect(page).toContain('<title>Sign in – Example ID</title>');
    expect(page).toContain(`<img class="logo" src="${logo}" alt="Example ID">`);
    expect(page).toContain('<a href="https://help.example.com">Help</a>');
    expect(page).toContain('<a href="mailto:help@example.com">Contact support</a>');
  });

  it('uses the header and footer fragments and appends extra.css to the served stylesheet', () => {
    const config = loadConfig({ BRAND_TEMPLATES_DIR: 'test/fixtures/brand' });
    const page = layout(pageContextOf(config, 'en', 'r'), 't', html``).value;
    expect(page).toContain('<header class="site-header"><a class="product" href="https://www.example.com/">Example Corp</a></header>');
    expect(page).toContain('<a href="https://www.example.com/imprint">Imprint</a>');
    const css = [...brandAssets(config).files.values()][0]!.body.toString();
    expect(css).toContain('.site-header .product{letter-spacing:.02em}');
  });

  it.each([
    [{ 'header.html': '<script>alert(1)</script>' }, 'BRAND_TEMPLATES_DIR: header.html must not contain <script> elements'],
    [{ 'footer.html': '<a href="#" onclick="x()">x</a>' }, 'BRAND_TEMPLATES_DIR: footer.html must not contain event handler attributes (on…=)'],
    [{ 'footer.html': '<p style="color:red">x</p>' }, 'BRAND_TEMPLATES_DIR: footer.html must not contain style attributes (put CSS in extra.css)'],
    [{ 'header.html': '<a href="javascript:x()">x</a>' }, 'BRAND_TEMPLATES_DIR: header.html must not contain javascript: URLs'],
    [{ 'extra.css': '@import url(https://evil.example/x.css);' }, 'BRAND_TEMPLATES_DIR: extra.css must not use @import'],
    [
      { 'extra.css': 'body{background:url(https://tracker.example/p.png)}' },
      'BRAND_TEMPLATES_DIR: extra.css may only use url() of data: or /assets/ (pages load nothing from other origins)',
    ],
  ])('refuses an unsafe template at start-up: %j', (files, message) => {
    expect(() => loadConfig({ BRAND_TEMPLATES_DIR: templatesDir(files) })).toThrow(new ConfigError(message));
  });

  it.each([
    [{ BRAND_PRIMARY_COLOR: 'blue' }, 'BRAND_PRIMARY_COLOR: expected a hex colour like #2f66d8 (got "blue")'],
    [{ BRAND_LOGO_URL: 'https://a.example/l.png', BRAND_LOGO_FILE: 'test/fixtures/brand/logo.svg' }, 'BRAND_LOGO_URL: set BRAND_LOGO_URL or BRAND_LOGO_FILE, not both'],
    [{ BRAND_LOGO_FILE: 'test/fixtures/brand/header.html' }, 'BRAND_LOGO_FILE: expected a .svg, .png, .jpg or .webp file (got "header.html")'],
    [{ BRAND_LOGO_FILE: 'test/fixtures/brand/missing.png' }, `BRAND_LOGO_FILE: cannot read test/fixtures/brand/missing.png (ENOENT)`],
    [
      { ENVIRONMENT: 'production', BRAND_LOGO_URL: 'http://cdn.example.com/l.png' },
      'BRAND_LOGO_URL: expected an https URL (http only in development)',
    ],
    [{ BRAND_TEMPLATES_DIR: '/nonexistent/authly-brand' }, 'BRAND_TEMPLATES_DIR: /nonexistent/authly-brand is not a readable directory'],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(message));
  });
});

describe('brand colours keep text readable (WCAG 2.2 SC 1.4.3)', () => {
  it.each(['#2f66d8', '#ffdd00', '#777777', '#000000', '#ffffff', '#0a7d38', '#e91e63', '#00ffff'])('%s', (primary) => {
    expect(contrast(textOn(primary), primary)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(readableOn(primary, '#ffffff'), '#ffffff')).toBeGreaterThanOrEqual(4.5);
    expect(contrast(readableOn(primary, '#1b1f26'), '#1b1f26')).toBeGreaterThanOrEqual(4.5);
  });
});

describe('waitInWords', () => {
  it.each([
    ['en', 30, 'in 30 seconds'],
    ['en', 61, 'in 2 minutes'],
    ['en', 900, 'in 15 minutes'],
    ['de', 900, 'in 15 Minuten'],
    ['de', 7200, 'in 2 Stunden'],
  ] as const)('%s %d s: %s', (locale, seconds, words) => {
    expect(waitInWords(locale, seconds)).toBe(words);
  });
});

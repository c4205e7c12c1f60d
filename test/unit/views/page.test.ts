import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, cspSourceFor, layout } from '../../../src/views/page.js';
import { html } from '../../../src/views/html.js';
import { brandFrom, pageContextOf } from '../../../src/views/page-context.js';
import { brandAssets } from '../../../src/views/brand-assets.js';
import { loadConfig } from '../../../src/config/config.js';

const PC = pageContextOf(loadConfig({}), 'de', 'req-1');

describe('views/page', () => {
  it.each([
    ['https://app.example.com/callback?x=1', 'https://app.example.com'],
    ['https://app.example.com:8443/cb', 'https://app.example.com:8443'],
    ['http://127.0.0.1:5000/cb', 'http://127.0.0.1:5000'],
    ['com.example.app:/oauth2redirect', 'com.example.app:'],
  ])('cspSourceFor(%s) = %s', (uri, source) => {
    expect(cspSourceFor(uri)).toBe(source);
  });

  it('the policy denies framing, plugins, base-uri and inline script without a nonce', () => {
    const csp = contentSecurityPolicy({ formAction: ["'self'", 'https://app.example.com'] });
    expect(csp.split('; ')).toEqual([
      "default-src 'none'",
      "style-src 'self'",
      "img-src 'self' data:",
      "script-src 'none'",
      "form-action 'self' https://app.example.com",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ]);
    expect(csp).not.toContain('unsafe');
  });

  it('a script nonce is the only script source allowed', () => {
    expect(contentSecurityPolicy({ formAction: ["'none'"], scriptNonce: 'abc' })).toContain("script-src 'nonce-abc'");
  });

  it('the layout links the served stylesheet with its integrity hash and carries no inline style', async () => {
    const { createHash } = await import('node:crypto');
    const config = loadConfig({});
    const page = layout(pageContextOf(config, 'en', 'r'), 't', html`<p>x</p>`).value;
    const link = /<link rel="stylesheet" href="(\/assets\/authly-[0-9a-f]{16}\.css)" integrity="(sha256-[A-Za-z0-9+/]+=*)">/.exec(page)!;
    const asset = brandAssets(config).files.get(link[1]!.slice('/assets/'.length))!;
    expect(link[2]).toBe(`sha256-${createHash('sha256').update(asset.body).digest('base64')}`);
    expect(page).not.toMatch(/<style|style=/);
  });

  it('the brand logo URL origin joins img-src, and a page may add an image origin', () => {
    const config = loadConfig({ BRAND_LOGO_URL: 'https://cdn.example.com/logo.svg' });
    const csp = contentSecurityPolicy({ formAction: ["'self'"], imgSrc: ['https://app.example.com'] }, brandFrom(config));
    expect(csp).toContain("img-src 'self' data: https://cdn.example.com https://app.example.com");
  });

  it('the layout sends no referrer and escapes the title', () => {
    const page = layout(PC, '<t>', html``).value;
    expect(page).toContain('<meta name="referrer" content="no-referrer">');
    expect(page).toContain('<title>&lt;t&gt; – Authly</title>');
    expect(page).toContain('<html lang="de">');
  });
});

import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, cspSourceFor, layout } from '../../../src/views/page.js';
import { html } from '../../../src/views/html.js';
import { pageContextOf } from '../../../src/views/page-context.js';
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
      expect.stringMatching(/^style-src 'sha256-[A-Za-z0-9+/]+=*'$/),
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

  it('the style hash in the policy matches the inline stylesheet of the layout', async () => {
    const { createHash } = await import('node:crypto');
    const page = layout(PC, 't', html`<p>x</p>`).value;
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(contentSecurityPolicy({ formAction: [] })).toContain(`style-src 'sha256-${hash}'`);
  });

  it('the layout sends no referrer and escapes the title', () => {
    const page = layout(PC, '<t>', html``).value;
    expect(page).toContain('<meta name="referrer" content="no-referrer">');
    expect(page).toContain('<title>&lt;t&gt; – Authly</title>');
    expect(page).toContain('<html lang="de">');
  });
});

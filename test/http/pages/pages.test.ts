import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLiveInteraction } from '../../../src/repositories/interactions-repository.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { csrfToken, formAction, InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl, isInteractionRedirect } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { MetadataDocumentServer } from '../../helpers/metadata-document-server.js';

/** Issue 12 §5: one served stylesheet, branding, the consent page, and every browser-facing answer a page. */
const BRAND = {
  BRAND_PRODUCT_NAME: 'Example ID',
  BRAND_LOGO_FILE: 'test/fixtures/brand/logo.svg',
  BRAND_SUPPORT_URL: 'https://help.example.com/',
  BRAND_SUPPORT_EMAIL: 'help@example.com',
  BRAND_PRIMARY_COLOR: '#0a7d38',
};
const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

function expectPageHeaders(res: LightMyRequestResponse, status: number): void {
  expect(res.statusCode, res.body.slice(0, 400)).toBe(status);
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.headers['cache-control']).toBe('no-store');
  const csp = String(res.headers['content-security-policy']);
  expect(csp).toContain("style-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe');
  // No inline style anywhere, and no script without the page's nonce.
  expect(res.body).not.toMatch(/<style|\sstyle=/);
  expect(res.body).not.toMatch(/<script(?![^>]*nonce=)/);
}

describe('pages people would trust', () => {
  let t: TestApp;
  let client: TestClient;
  let docs: MetadataDocumentServer;

  beforeAll(async () => {
    t = await createTestApp({ ...BRAND, CIMD_ALLOW_LOOPBACK: 'true' });
    docs = await MetadataDocumentServer.start();
    client = await createClient(t.app, {
      clientName: 'Photo Album',
      clientUri: 'https://photos.example.com/',
      logoUri: 'https://cdn.photos.example.com/logo.png',
      policyUri: 'https://photos.example.com/privacy',
      tosUri: 'javascript:alert(1)',
    });
  });
  afterAll(async () => {
    await docs.close();
    await t.close();
  });

  /** The login page of a fresh authorization in a fresh browser. */
  async function loginPage(extra: Record<string, string> = {}, headers: Record<string, string> = {}, clientId = client.clientId) {
    const browser = new InjectBrowser(t.app);
    const start = await browser.get(authorizeUrl(clientId, { scope: 'email openid offline_access profile', ...extra }));
    expect(isInteractionRedirect(start)).toBe(true);
    const location = start.headers.location as string;
    const page = await t.app.inject({ method: 'GET', url: location, headers: { ...headers, cookie: start.cookies.map((c) => `${c.name}=${c.value}`).join('; ') } });
    return { browser, location, page, uid: location.split('/').pop()! };
  }

  async function consentPage(user: User, extra: Record<string, string> = {}, clientId = client.clientId) {
    const { browser, location, uid } = await loginPage(extra, {}, clientId);
    const login = await browser.get(location);
    const consent = await browser.post(formAction(login.body), { csrf_token: csrfToken(login.body), username: user.username, password: TEST_PASSWORD });
    expect(consent.statusCode).toBe(303);
    const page = await browser.get(consent.headers.location as string);
    return { browser, page, uid };
  }

  describe('the stylesheet and the logo', () => {
    it('are served under content-hashed names, cached for a year, and linked with their integrity hash', async () => {
      const { page } = await loginPage();
      expectPageHeaders(page, 200);
      const [, href, integrity] = /<link rel="stylesheet" href="([^"]+)" integrity="([^"]+)">/.exec(page.body)!;
      const css = await t.app.inject({ method: 'GET', url: href! });
      expect(css.statusCode).toBe(200);
      expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
      expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(integrity).toBe(`sha256-${createHash('sha256').update(css.rawPayload).digest('base64')}`);
      expect(href).toBe(`/assets/authly-${createHash('sha256').update(css.rawPayload).digest('hex').slice(0, 16)}.css`);
      // The brand colour and the rules the brief asks for: dark mode, the phone layout, inherited fonts, focus, reduced motion.
      for (const rule of ['--primary:#0a7d38', 'prefers-color-scheme:dark', '@media (max-width:32rem)', 'font:inherit', ':focus-visible', 'prefers-reduced-motion:reduce']) {
        expect(css.body).toContain(rule);
      }

      const [, logo] = /<img class="logo" src="([^"]+)" alt="Example ID">/.exec(page.body)!;
      const image = await t.app.inject({ method: 'GET', url: logo! });
      expect(image.statusCode).toBe(200);
      expect(image.headers['content-type']).toBe('image/svg+xml');
      expect(image.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      // An SVG opened on its own runs nothing.
      expect(image.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; sandbox");
    });

    it('an unknown asset is a 404 (a page for a browser, JSON for an API client)', async () => {
      const page = await t.app.inject({ method: 'GET', url: '/assets/authly-0000000000000000.css', headers: HTML });
      expectPageHeaders(page, 404);
      const api = await t.app.inject({ method: 'GET', url: '/assets/authly-0000000000000000.css' });
      expect(api.statusCode).toBe(404);
      expect(api.json()).toEqual({ error: 'not_found', error_description: 'no route for GET /assets/authly-0000000000000000.css' });
    });
  });

  describe('branding', () => {
    it('names the product in titles and the sign-out page, with support links in the footer', async () => {
      const { page } = await loginPage();
      expect(page.body).toContain('<title>Sign in – Example ID</title>');
      expect(page.body).toContain('<a href="https://help.example.com/">Help</a>');
      expect(page.body).toContain('<a href="mailto:help@example.com">Contact support</a>');
      const signedOut = await t.app.inject({ method: 'GET', url: '/oidc/logout', headers: HTML });
      expectPageHeaders(signedOut, 200);
      expect(signedOut.body).toContain('<title>Signed out – Example ID</title>');
      expect(signedOut.body).not.toContain('Authly');
    });
  });

  describe('language', () => {
    it('follows ui_locales first, then Accept-Language, and lang follows', async () => {
      const german = await loginPage({ ui_locales: 'fr de' }, { 'accept-language': 'en' });
      expect(german.page.body).toContain('<html lang="de">');
      expect(german.page.body).toContain('<h1>Anmelden</h1>');
      expect(german.page.body).toContain('<label for="username">Benutzername oder E-Mail-Adresse</label>');
      const byHeader = await loginPage({}, { 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' });
      expect(byHeader.page.body).toContain('<html lang="de">');
      const english = await loginPage({ ui_locales: 'en' }, { 'accept-language': 'de' });
      expect(english.page.body).toContain('<html lang="en">');
      expect(english.page.body).toContain('<h1>Sign in</h1>');
    });
  });

  describe('the consent page', () => {
    it('shows the logo, the https links (nothing else), sign-in scopes first, the account, and where to revoke', async () => {
      const { page } = await consentPage(await createUser(t.app, { username: 'ada' }));
      expectPageHeaders(page, 200);
      // The client's logo is the one other origin the page may load.
      expect(page.headers['content-security-policy']).toContain("img-src 'self' data: https://cdn.photos.example.com");
      expect(page.body).toContain('<img src="https://cdn.photos.example.com/logo.png" alt="Logo of Photo Album" width="48" height="48">');
      expect(page.body).toContain(
        '<ul class="links" aria-label="About Photo Album"><li><a href="https://photos.example.com/" rel="noopener noreferrer">Website</a></li>' +
          '<li><a href="https://photos.example.com/privacy" rel="noopener noreferrer">Privacy policy</a></li></ul>',
      );
      expect(page.body).not.toContain('javascript:');
      expect(page.body).toContain(
        '<ul class="scopes"><li>Sign you in with your account</li><li>Read your name and basic profile</li><li>Read your email address</li>' +
          '<li>Stay signed in to the application while you are away</li></ul>',
      );
      expect(page.body).toContain('<p><strong>Photo Album</strong> wants to access your account <strong>ada</strong>.</p>');
      expect(page.body).toContain('Signed in as <strong>ada</strong>. Not you?');
      expect(page.body).toContain('under <a href="/account/applications">Connected applications</a> in your account.');
    });

    it('in German, with the standard scopes translated', async () => {
      const { page } = await consentPage(await createUser(t.app, { username: 'grete' }), { ui_locales: 'de' });
      expect(page.body).toContain('<h1>Zugriff erlauben?</h1>');
      expect(page.body).toContain('<li>Sie mit Ihrem Konto anmelden</li><li>Ihren Namen und Ihr Basisprofil lesen</li>');
      expect(page.body).toContain('<p><strong>Photo Album</strong> möchte auf Ihr Konto <strong>grete</strong> zugreifen.</p>');
    });

    it("a metadata-document client's logo and links are shown only from its own origin", async () => {
      const clientId = docs.document('/clients/album.json', {
        redirect_uris: [REDIRECT_URI],
        logo_uri: `${docs.base}/logo.png`,
        client_uri: `${docs.base}/`,
        policy_uri: 'https://photos.example.com/privacy',
        tos_uri: 'https://famous-brand.example/terms',
      });
      const { page } = await consentPage(await createUser(t.app), {}, clientId);
      expect(page.body).toContain(`<img src="${docs.base}/logo.png" alt="Logo of MCP Test Client" width="48" height="48">`);
      expect(page.body).toContain(`<ul class="links" aria-label="About MCP Test Client"><li><a href="${docs.base}/" rel="noopener noreferrer">Website</a></li></ul>`);
      expect(page.body).not.toContain('photos.example.com');
      expect(page.body).not.toContain('famous-brand.example');
    });

    it('"Not you?" signs this browser out and asks again who signs in, into the same authorization', async () => {
      const first = await createUser(t.app);
      const { browser, page, uid } = await consentPage(first);
      const form = /<form method="post" action="([^"]+)" class="account-user">/.exec(page.body)![1]!;
      expect(form).toBe(`/interaction/${uid}/switch-account`);
      const switched = await browser.post(form, { csrf_token: csrfToken(page.body) });
      expect(switched.statusCode).toBe(303);
      expect(switched.headers.location).toBe(`/interaction/${uid}`);
      expect(browser.hasCookie('authly_session')).toBe(false);
      const interaction = await findLiveInteraction(t.app.ctx.db, uid);
      expect(interaction).toMatchObject({ userId: null, sid: null, pendingUserId: null, amr: [] });
      expect(t.logs.some((line) => line.includes('"event":"session.ended"') && line.includes('"reason":"switch_account"'))).toBe(true);

      const login = await browser.get(`/interaction/${uid}`);
      expect(login.body).toContain('name="password"');
      const second = await createUser(t.app);
      const consent = await browser.post(formAction(login.body), { csrf_token: csrfToken(login.body), username: second.username, password: TEST_PASSWORD });
      const again = await browser.get(consent.headers.location as string);
      expect(again.body).toContain(`Signed in as <strong>${second.username}</strong>`);
      const done = await browser.post(formAction(again.body), { csrf_token: csrfToken(again.body), decision: 'allow' });
      expect(done.statusCode).toBe(303);
      expect(new URL(done.headers.location as string).searchParams.get('code')).toMatch(/.+/);
      expect(String(done.headers.location).startsWith(REDIRECT_URI)).toBe(true);
    });

    it('"Not you?" without the CSRF token changes nothing', async () => {
      const { browser, page, uid } = await consentPage(await createUser(t.app));
      const res = await browser.post(`/interaction/${uid}/switch-account`, { csrf_token: 'forged' });
      expectPageHeaders(res, 403);
      expect(res.body).toContain('<p class="error" role="alert">The form has expired. Return to the application and try again.</p>');
      expect(res.body).toContain(`<a class="button secondary" href="/interaction/${uid}">Back to sign-in</a>`);
      expect(browser.hasCookie('authly_session')).toBe(true);
      expect((await findLiveInteraction(t.app.ctx.db, uid))?.userId).not.toBeNull();
      expect(page.statusCode).toBe(200);
    });
  });

  describe('every browser-facing answer is a page', () => {
    it('404: a page for a browser, JSON for an API client', async () => {
      const page = await t.app.inject({ method: 'GET', url: '/no/such/page?x=1', headers: { ...HTML, 'accept-language': 'de' } });
      expectPageHeaders(page, 404);
      expect(page.body).toContain('<h1>Seite nicht gefunden</h1>');
      expect(page.body).toMatch(/<p class="support-reference">Support-Referenz: [0-9a-f-]{36}<\/p>/);
      expect(page.body).toContain(`Support-Referenz: ${page.headers['x-request-id']}`);
      expect(page.body).toContain('<details><summary>Technische Details</summary><p><code>no route for GET /no/such/page</code></p></details>');
      const api = await t.app.inject({ method: 'GET', url: '/no/such/page', headers: { accept: 'application/json' } });
      expect(api.statusCode).toBe(404);
      expect(api.json()).toEqual({ error: 'not_found', error_description: 'no route for GET /no/such/page' });
      const bare = await t.app.inject({ method: 'GET', url: '/no/such/page' });
      expect(bare.json()).toEqual({ error: 'not_found', error_description: 'no route for GET /no/such/page' });
    });

    it('an unknown page under /interaction/ is a page whatever the Accept header', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/interaction/abc/nothing' });
      expectPageHeaders(res, 404);
    });

    it.each(['login', 'consent', 'switch-account'])('GET on the form URL /interaction/:uid/%s goes back to the sign-in page', async (action) => {
      const { uid, browser } = await loginPage();
      const res = await browser.get(`/interaction/${uid}/${action}`);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`/interaction/${uid}`);
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('an expired or unknown sign-in: the message, the support reference and the technical reason', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/interaction/gone-away', headers: HTML });
      expectPageHeaders(res, 400);
      expect(res.body).toContain('<h1>Sign-in problem</h1>');
      expect(res.body).toContain(
        '<p class="error" role="alert">This sign-in request has expired or was already completed. Return to the application and try again.</p>',
      );
      expect(res.body).toContain(`<p class="support-reference">Support reference: ${res.headers['x-request-id']}</p>`);
      expect(res.body).toContain('<code>interaction_expired: no live interaction with this id</code>');
    });

    it('an invalid authorization request: written for the person, the reason below', async () => {
      const res = await t.app.inject({ method: 'GET', url: authorizeUrl('no-such-client'), headers: { ...HTML, 'accept-language': 'de' } });
      expectPageHeaders(res, 400);
      expect(res.body).toContain('<h1>Ungültige Anfrage</h1>');
      expect(res.body).toContain('<code>The application is unknown.</code>');
    });

    it('an invalid authorization request is in the language of its ui_locales', async () => {
      const res = await t.app.inject({ method: 'GET', url: authorizeUrl('no-such-client', { ui_locales: 'de' }), headers: HTML });
      expectPageHeaders(res, 400);
      expect(res.body).toContain('<html lang="de">');
    });
  });
});

describe('429 from the rate limiter on page routes', () => {
  let t: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN_PER_MINUTE: '1', RATE_LIMIT_MAX_REQUESTS: '50' });
    client = await createClient(t.app);
  });
  afterAll(() => t.close());

  it('the sign-in form: a page with the wait in words; API clients keep the JSON', async () => {
    const post = () =>
      t.app.inject({
        method: 'POST',
        url: '/interaction/some-uid/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'de' },
        payload: 'username=a&password=b',
        remoteAddress: '198.51.100.7',
      });
    expect((await post()).statusCode).toBe(400);
    const refused = await post();
    expectPageHeaders(refused, 429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toContain('<h1>Zu viele Anfragen</h1>');
    expect(refused.body).toMatch(/Versuchen Sie es in \d+ (Sekunden?|Minuten?) erneut\./);
    expect(refused.body).toContain('Support-Referenz: ');

    // A browser over the general limit on GET pages reads a page too; the token endpoint keeps JSON.
    for (let i = 0; i < 50; i++) await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', remoteAddress: '198.51.100.8' });
    const page = await t.app.inject({ method: 'GET', url: authorizeUrl(client.clientId), headers: HTML, remoteAddress: '198.51.100.8' });
    expectPageHeaders(page, 429);
    const api = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', remoteAddress: '198.51.100.8' });
    expect(api.statusCode).toBe(429);
    expect(api.json()).toEqual({ error: 'rate_limited', error_description: 'too many requests; try again later' });
  });
});

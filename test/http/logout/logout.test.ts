import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../src/repositories/users-repository.js';
import { signJwt } from '../../../src/tokens/jwt.js';
import { csrfToken, InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl, obtainTokens, setCookieLine } from '../../helpers/oauth-flow.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';

const LOGGED_OUT_URI = 'https://app.example.com/logged-out';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** name → value of every hidden input of a page. */
function hiddenFields(body: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!.replace(/&amp;/g, '&');
  return fields;
}

function logoutUrl(params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params).toString();
  return q ? `/oidc/logout?${q}` : '/oidc/logout';
}

describe('RP-Initiated Logout at /oidc/logout', () => {
  let t: TestApp;
  let client: TestClient;
  let otherClient: TestClient;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app, { postLogoutRedirectUris: [LOGGED_OUT_URI] });
    otherClient = await createClient(t.app, { postLogoutRedirectUris: ['https://other.example.com/bye'] });
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  /** A browser signed in to `client`, with the ID token it got and the session's sid. */
  async function signedIn() {
    const browser = new InjectBrowser(t.app);
    const tokens = await obtainTokens(t.app, browser, client, user.username, { scope: 'openid' });
    const idToken = tokens.id_token!;
    const sid = decodeJwt(idToken).sid as string;
    const cookie = (browser['cookies'] as Map<string, { value: string }>).get('authly_session|/')!.value;
    return { browser, idToken, sid, cookie };
  }

  async function sessionExists(sid: string): Promise<boolean> {
    const { rows } = await t.app.ctx.db.query('SELECT 1 FROM sessions WHERE sid = $1', [sid]);
    return rows.length === 1;
  }

  /** prompt=none through `browser`: 'code' while signed in, else the error it gets. */
  async function silentAuthorization(browser: InjectBrowser): Promise<string> {
    const params = redirectParams(await browser.get(authorizeUrl(client.clientId, { prompt: 'none' })));
    return params.get('code') ? 'code' : params.get('error')!;
  }

  function expectPage(res: LightMyRequestResponse, status: number, text: string) {
    expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.body).toContain(text);
  }

  async function serverHint(claims: Record<string, unknown>): Promise<string> {
    return signJwt(claims, t.app.ctx.keys.signingKey('RS256'), 'JWT');
  }

  describe('with an id_token_hint for the current session', () => {
    it('logs out at once: 303 to the registered URI with state, session deleted, cookie cleared', async () => {
      const { browser, idToken, sid, cookie } = await signedIn();
      const res = await browser.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: LOGGED_OUT_URI, state: 'xyz 1/2' }));
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`${LOGGED_OUT_URI}?state=xyz+1%2F2`);
      expect(res.headers['cache-control']).toBe('no-store');
      const cleared = setCookieLine(res, 'authly_session')!;
      expect(cleared).toMatch(/^authly_session=;/);
      expect(cleared).toContain('Path=/');
      expect(cleared).toContain('HttpOnly');
      expect(cleared).toContain('SameSite=Lax');
      expect(browser.hasCookie('authly_session')).toBe(false);
      expect(await sessionExists(sid)).toBe(false);

      // The session is gone server-side: prompt=none now needs a login, even with the old cookie replayed.
      expect(await silentAuthorization(browser)).toBe('login_required');
      const replay = await t.app.inject({ url: authorizeUrl(client.clientId, { prompt: 'none' }), headers: { cookie: `authly_session=${cookie}` } });
      expect(redirectParams(replay).get('error')).toBe('login_required');
    });

    it('keeps a query the registered URI already has, and adds no state when none was sent', async () => {
      const withQuery = 'https://app.example.com/logged-out?from=authly';
      const c = await createClient(t.app, { postLogoutRedirectUris: [withQuery] });
      const browser = new InjectBrowser(t.app);
      const { id_token } = await obtainTokens(t.app, browser, c, user.username, { scope: 'openid' });
      const res = await browser.get(logoutUrl({ id_token_hint: id_token!, client_id: c.clientId, post_logout_redirect_uri: withQuery }));
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(withQuery);
    });

    it('without post_logout_redirect_uri shows the signed-out page', async () => {
      const { browser, idToken, sid } = await signedIn();
      const res = await browser.get(logoutUrl({ id_token_hint: idToken, state: 'ignored', ui_locales: 'de en' }));
      expectPage(res, 200, 'You are signed out');
      expect(res.headers['content-security-policy']).toContain("form-action 'none'");
      expect(res.body).not.toContain('ignored');
      expect(await sessionExists(sid)).toBe(false);
      expect(await silentAuthorization(browser)).toBe('login_required');
    });

    it('accepts a form POST from the relying party', async () => {
      const { browser, idToken, sid } = await signedIn();
      const res = await browser.post('/oidc/logout', { id_token_hint: idToken, client_id: client.clientId, post_logout_redirect_uri: LOGGED_OUT_URI, state: 's1' });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`${LOGGED_OUT_URI}?state=s1`);
      expect(await sessionExists(sid)).toBe(false);
    });

    it('accepts an expired hint signed by the server: it only identifies the session', async () => {
      const { browser, sid } = await signedIn();
      const past = Math.floor(Date.now() / 1000) - 3600;
      const expired = await serverHint({ iss: TEST_ISSUER, sub: user.id, aud: client.clientId, azp: client.clientId, sid, iat: past - 600, exp: past });
      const res = await browser.get(logoutUrl({ id_token_hint: expired, post_logout_redirect_uri: LOGGED_OUT_URI, state: 'old' }));
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`${LOGGED_OUT_URI}?state=old`);
      expect(await sessionExists(sid)).toBe(false);
    });
  });

  describe('requests that are refused with a 400 page and change nothing', () => {
    it('a hint signed by another key (same kid, same claims)', async () => {
      const { browser, idToken, sid } = await signedIn();
      const { kid } = JSON.parse(Buffer.from(idToken.split('.')[0]!, 'base64url').toString()) as { kid: string };
      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT(decodeJwt(idToken)).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey);
      const res = await browser.get(logoutUrl({ id_token_hint: forged, post_logout_redirect_uri: LOGGED_OUT_URI, state: 'x' }));
      expectPage(res, 400, 'The id_token_hint is not a valid ID token issued by this server.');
      expect(setCookieLine(res, 'authly_session')).toBeUndefined();
      expect(await sessionExists(sid)).toBe(true);
      expect(await silentAuthorization(browser)).toBe('code');
    });

    const NOW = () => Math.floor(Date.now() / 1000);
    it.each<[string, (sid: string) => Promise<string>]>([
      ['not a JWT', async () => 'not-a-jwt'],
      ['unsigned (alg none)', async () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`],
      ['from another issuer', (sid) => serverHint({ iss: 'https://evil.example.com', sub: user.id, aud: client.clientId, sid, exp: NOW() + 60 })],
      ['without sub', (sid) => serverHint({ iss: TEST_ISSUER, aud: client.clientId, sid, exp: NOW() + 60 })],
    ])('a hint that is %s', async (_name, make) => {
      const { browser, sid } = await signedIn();
      const res = await browser.get(logoutUrl({ id_token_hint: await make(sid) }));
      expectPage(res, 400, 'The id_token_hint is not a valid ID token issued by this server.');
      expect(await sessionExists(sid)).toBe(true);
    });

    it('an access token (typ at+jwt) used as the hint', async () => {
      const browser = new InjectBrowser(t.app);
      const tokens = await obtainTokens(t.app, browser, client, user.username, { scope: 'openid' });
      const res = await browser.get(logoutUrl({ id_token_hint: tokens.access_token }));
      expectPage(res, 400, 'The id_token_hint is not a valid ID token issued by this server.');
      expect(await silentAuthorization(browser)).toBe('code');
    });

    it('an unregistered post_logout_redirect_uri: no redirect and no logout', async () => {
      const { browser, idToken, sid } = await signedIn();
      for (const uri of ['https://evil.example.com/', `${LOGGED_OUT_URI}/`, 'https://other.example.com/bye', 'HTTPS://app.example.com/logged-out']) {
        const res = await browser.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: uri, state: 'x' }));
        expectPage(res, 400, 'The post_logout_redirect_uri is not registered for this application.');
      }
      expect(await sessionExists(sid)).toBe(true);
    });

    it('a post_logout_redirect_uri without a client to verify it against', async () => {
      const { browser, sid } = await signedIn();
      const res = await browser.get(logoutUrl({ post_logout_redirect_uri: LOGGED_OUT_URI }));
      expectPage(res, 400, 'A post_logout_redirect_uri needs a client_id or an id_token_hint that identifies the application.');
      expect(await sessionExists(sid)).toBe(true);
    });

    it('a client_id that is not an audience of the hint, or is unknown', async () => {
      const { browser, idToken, sid } = await signedIn();
      const mismatch = await browser.get(logoutUrl({ id_token_hint: idToken, client_id: otherClient.clientId, post_logout_redirect_uri: 'https://other.example.com/bye' }));
      expectPage(mismatch, 400, 'The id_token_hint was not issued to this client_id.');
      const unknown = await browser.get(logoutUrl({ client_id: 'no-such-client' }));
      expectPage(unknown, 400, 'The application is unknown.');
      expect(await sessionExists(sid)).toBe(true);
    });

    it('repeated, oversized, NUL or non-form parameters (GET and POST), never a 5xx', async () => {
      const { browser, idToken, sid } = await signedIn();
      const hint = encodeURIComponent(idToken);
      expectPage(await browser.get(`/oidc/logout?id_token_hint=${hint}&id_token_hint=${hint}`), 400, 'id_token_hint must not be repeated');
      expectPage(await browser.get(`/oidc/logout?state=a&state=b`), 400, 'state must not be repeated');
      expectPage(await browser.get(`/oidc/logout?id_token_hint=${hint}&state=%00`), 400, 'The request could not be processed. Return to the application and try again.');
      expectPage(await browser.get(`/oidc/logout?state=%00`), 400, '<code>parameters must be UTF-8 text without NUL characters</code>');
      expectPage(await browser.get(logoutUrl({ state: 'x'.repeat(2049) })), 400, 'The state parameter is too long.');
      expectPage(await browser.get(logoutUrl({ id_token_hint: 'x'.repeat(9000) })), 400, 'The id_token_hint parameter is too long.');
      const repeatedPost = await t.app.inject({ method: 'POST', url: '/oidc/logout', headers: FORM, payload: 'client_id=a&client_id=b' });
      expectPage(repeatedPost, 400, 'client_id must not be repeated');
      const json = await t.app.inject({ method: 'POST', url: '/oidc/logout', headers: { 'content-type': 'application/json' }, payload: '{}' });
      expect(json.statusCode).toBe(400);
      expect(await sessionExists(sid)).toBe(true);
    });
  });

  describe('without a hint for the current session: confirmation', () => {
    it('no parameters: a confirmation page, then POST with the CSRF token logs out and never redirects', async () => {
      const { browser, sid } = await signedIn();
      const page = await browser.get('/oidc/logout');
      expectPage(page, 200, 'Sign out of Authly?');
      expect(page.headers['content-security-policy']).toContain("form-action 'self';");
      expect(await sessionExists(sid)).toBe(true);
      const fields = hiddenFields(page.body);
      expect(fields).toEqual({ csrf_token: csrfToken(page.body), confirm: 'yes' });

      const done = await browser.post('/oidc/logout', fields);
      expectPage(done, 200, 'You are signed out');
      expect(setCookieLine(done, 'authly_session')).toMatch(/^authly_session=;.*Path=\//);
      expect(await sessionExists(sid)).toBe(false);
      expect(await silentAuthorization(browser)).toBe('login_required');
    });

    it('a confirmation POST without or with a wrong CSRF token gets 403 and no logout', async () => {
      const { browser, sid } = await signedIn();
      const other = await signedIn();
      const page = await browser.get('/oidc/logout');
      const otherToken = csrfToken((await other.browser.get('/oidc/logout')).body);
      const forms: Record<string, string>[] = [
        { confirm: 'yes' },
        { confirm: 'yes', csrf_token: 'wrong' },
        { csrf_token: `${csrfToken(page.body).slice(0, -2)}AA` },
        { confirm: 'yes', csrf_token: otherToken },
      ];
      for (const form of forms) {
        const res = await browser.post('/oidc/logout', form);
        expectPage(res, 403, 'The form has expired.');
        expect(setCookieLine(res, 'authly_session')).toBeUndefined();
      }
      expect(await sessionExists(sid)).toBe(true);
      expect(await silentAuthorization(browser)).toBe('code');
    });

    it('a hint for another session asks first; the confirmed logout then redirects with state', async () => {
      const first = await signedIn();
      const { browser, sid } = await signedIn();
      const page = await browser.get(logoutUrl({ id_token_hint: first.idToken, post_logout_redirect_uri: LOGGED_OUT_URI, state: 'st<1>' }));
      expectPage(page, 200, 'Sign out of Authly?');
      expect(page.body).toContain('<strong>Test App</strong> asked to sign you out.');
      expect(page.body).not.toContain(first.idToken);
      expect(page.headers['content-security-policy']).toContain("form-action 'self' https://app.example.com;");
      const fields = hiddenFields(page.body);
      expect(fields).toMatchObject({ client_id: client.clientId, post_logout_redirect_uri: LOGGED_OUT_URI, state: 'st&lt;1&gt;' });
      fields.state = 'st<1>';

      // The carried fields are bound to the token: swapping one is refused.
      const swapped = await browser.post('/oidc/logout', { ...fields, state: 'other' });
      expectPage(swapped, 403, 'The form has expired.');
      expect(await sessionExists(sid)).toBe(true);

      const done = await browser.post('/oidc/logout', fields);
      expect(done.statusCode).toBe(303);
      expect(done.headers.location).toBe(`${LOGGED_OUT_URI}?state=st%3C1%3E`);
      expect(await sessionExists(sid)).toBe(false);
      expect(await sessionExists(first.sid)).toBe(true);
    });

    it('escapes the client name on the confirmation page', async () => {
      const c = await createClient(t.app, { clientName: '<script>alert(1)</script>' });
      const { browser } = await signedIn();
      const page = await browser.get(logoutUrl({ client_id: c.clientId }));
      expectPage(page, 200, '&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(page.body).not.toContain('<script>');
    });
  });

  describe('without a session', () => {
    it('shows the signed-out page, or redirects to a verified post_logout_redirect_uri', async () => {
      const { browser, idToken } = await signedIn();
      expect((await browser.get(logoutUrl({ id_token_hint: idToken }))).statusCode).toBe(200); // logged out now

      expectPage(await browser.get('/oidc/logout'), 200, 'You are signed out');
      const res = await browser.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: LOGGED_OUT_URI, state: 'again' }));
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`${LOGGED_OUT_URI}?state=again`);
      const confirm = await browser.post('/oidc/logout', { confirm: 'yes', csrf_token: 'x', post_logout_redirect_uri: LOGGED_OUT_URI, client_id: client.clientId });
      expectPage(confirm, 200, 'You are signed out');
    });

    it('clears a stale cookie', async () => {
      const res = await t.app.inject({ url: '/oidc/logout', headers: { cookie: 'authly_session=stale' } });
      expectPage(res, 200, 'You are signed out');
      expect(setCookieLine(res, 'authly_session')).toMatch(/^authly_session=;/);
    });
  });

  it('is advertised as end_session_endpoint in discovery and answers', async () => {
    const doc = (await t.app.inject('/.well-known/openid-configuration')).json() as Record<string, string>;
    expect(doc.end_session_endpoint).toBe(`${TEST_ISSUER}/oidc/logout`);
    const res = await t.app.inject(doc.end_session_endpoint!.slice(TEST_ISSUER.length));
    expectPage(res, 200, 'You are signed out');
  });

  it('a forged hint from a JWKS-shaped key with an unknown kid is refused too', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = await exportJWK(publicKey);
    const forged = await new SignJWT({ iss: TEST_ISSUER, sub: user.id, aud: client.clientId })
      .setProtectedHeader({ alg: 'RS256', kid: 'attacker', typ: 'JWT', jwk })
      .sign(privateKey);
    expectPage(await t.app.inject(logoutUrl({ id_token_hint: forged })), 400, 'The id_token_hint is not a valid ID token issued by this server.');
  });
});

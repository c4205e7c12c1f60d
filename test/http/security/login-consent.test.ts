import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, formAction, InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { authorizeUrl, completeInteraction, FORM, isInteractionRedirect, setCookieLine } from '../../helpers/oauth-flow.js';
import type { User } from '../../../src/repositories/users-repository.js';

const SESSION = 'authly_session';

/** Login and consent pages: CSRF, browser binding, no enumeration, session cookie, headers, escaping. */
describe('login and consent pages', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;
  let disabled: User;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    user = await createUser(t.app);
    disabled = await createUser(t.app, { isActive: false });
  });
  afterAll(() => t.close());

  /** A browser sitting on the login page of a fresh authorization request. */
  async function atLoginPage(overrides: Record<string, string | undefined> = {}, c: TestClient = client) {
    const browser = new InjectBrowser(t.app);
    const start = await browser.get(authorizeUrl(c.clientId, overrides));
    expect(isInteractionRedirect(start)).toBe(true);
    const page = await browser.get(start.headers.location as string);
    expect(page.statusCode).toBe(200);
    return { browser, page, action: formAction(page.body), csrf: csrfToken(page.body), interaction: start.headers.location as string };
  }

  /** A browser sitting on the consent page (signed in), for a client the user never consented to. */
  async function atConsentPage(overrides: Record<string, string | undefined> = {}) {
    const { browser, action, csrf } = await atLoginPage(overrides, await createClient(t.app));
    const login = await browser.post(action, { csrf_token: csrf, username: user.username, password: TEST_PASSWORD });
    expect(isInteractionRedirect(login)).toBe(true);
    const page = await browser.get(login.headers.location as string);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="decision"');
    return { browser, page, action: formAction(page.body), csrf: csrfToken(page.body) };
  }

  function expectErrorPage(res: LightMyRequestResponse, status: number, message: string) {
    expect(res.statusCode).toBe(status);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain(`<p class="error" role="alert">${message}</p>`);
  }

  describe('CSRF protection', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['wrong', 'not-the-token'],
    ])('login with a %s csrf_token → 403, no session cookie', async (_name, token) => {
      const { browser, action } = await atLoginPage();
      const form: Record<string, string> = { username: user.username, password: TEST_PASSWORD };
      if (token !== undefined) form.csrf_token = token;
      const res = await browser.post(action, form);
      expectErrorPage(res, 403, 'The form has expired. Return to the application and try again.');
      expect(setCookieLine(res, SESSION)).toBeUndefined();
      expect(browser.hasCookie(SESSION)).toBe(false);
    });

    it("login with another interaction's csrf_token → 403", async () => {
      const a = await atLoginPage();
      const b = await atLoginPage();
      const res = await a.browser.post(a.action, { csrf_token: b.csrf, username: user.username, password: TEST_PASSWORD });
      expectErrorPage(res, 403, 'The form has expired. Return to the application and try again.');
      expect(setCookieLine(res, SESSION)).toBeUndefined();
    });

    it.each([
      ['missing', undefined],
      ['wrong', 'not-the-token'],
    ])('consent with a %s csrf_token → 403, and no code', async (_name, token) => {
      const { browser, action } = await atConsentPage();
      const form: Record<string, string> = { decision: 'allow' };
      if (token !== undefined) form.csrf_token = token;
      const res = await browser.post(action, form);
      expectErrorPage(res, 403, 'The form has expired. Return to the application and try again.');
    });
  });

  describe('binding to the browser that started the interaction', () => {
    it('another browser posting the login form (valid csrf_token, no interaction cookie) → 400, no session', async () => {
      const { action, csrf } = await atLoginPage();
      const attacker = new InjectBrowser(t.app);
      const res = await attacker.post(action, { csrf_token: csrf, username: user.username, password: TEST_PASSWORD });
      expectErrorPage(res, 400, 'This sign-in request has expired or was already completed. Return to the application and try again.');
      expect(setCookieLine(res, SESSION)).toBeUndefined();
    });

    it('another browser opening the interaction page → 400', async () => {
      const { interaction } = await atLoginPage();
      const res = await new InjectBrowser(t.app).get(interaction);
      expectErrorPage(res, 400, 'This sign-in request has expired or was already completed. Return to the application and try again.');
    });

    it('another browser posting the consent form → 400, no code', async () => {
      const { action, csrf } = await atConsentPage();
      const res = await new InjectBrowser(t.app).post(action, { csrf_token: csrf, decision: 'allow' });
      expectErrorPage(res, 400, 'This sign-in request has expired or was already completed. Return to the application and try again.');
    });

    it('an unknown interaction id → 400', async () => {
      expectErrorPage(
        await t.app.inject('/interaction/does-not-exist'),
        400,
        'This sign-in request has expired or was already completed. Return to the application and try again.',
      );
    });
  });

  describe('no user enumeration', () => {
    it('wrong password, unknown user and disabled user get the identical page', async () => {
      const { browser, action, csrf } = await atLoginPage();
      const attempt = (username: string, password: string) => browser.post(action, { csrf_token: csrf, username, password });
      const NAME = 'someone';
      // The passkey script's nonce is fresh on every page; the support reference is the request id: random
      // per request, it tells nothing of the account.
      const normalize = (res: LightMyRequestResponse, username: string) =>
        res.body
          .split(`value="${username}"`)
          .join(`value="${NAME}"`)
          .replace(/nonce="[^"]+"/g, 'nonce=""')
          .replace(`Support reference: ${String(res.headers['x-request-id'])}`, 'Support reference: REQUEST-ID');

      const wrongPassword = await attempt(user.username, 'wrong password');
      const unknownUser = await attempt('nobody-here', TEST_PASSWORD);
      const disabledUser = await attempt(disabled.username, TEST_PASSWORD);
      for (const res of [wrongPassword, unknownUser, disabledUser]) {
        expect(res.statusCode).toBe(200);
        expect(res.body).toContain('<p class="error" role="alert">Invalid username or password.</p>');
        expect(setCookieLine(res, SESSION)).toBeUndefined();
      }
      expect(normalize(unknownUser, 'nobody-here')).toBe(normalize(wrongPassword, user.username));
      expect(normalize(disabledUser, disabled.username)).toBe(normalize(wrongPassword, user.username));
    });

    it('a disabled user cannot sign in with the right password', async () => {
      const { browser, action, csrf } = await atLoginPage();
      const res = await browser.post(action, { csrf_token: csrf, username: disabled.username, password: TEST_PASSWORD });
      expect(res.statusCode).toBe(200);
      expect(res.headers.location).toBeUndefined();
      expect(browser.hasCookie(SESSION)).toBe(false);
    });

    it('signs in by email too, case-insensitively (control case)', async () => {
      const { browser, action, csrf } = await atLoginPage();
      const res = await browser.post(action, { csrf_token: csrf, username: user.email!.toUpperCase(), password: TEST_PASSWORD });
      expect(res.statusCode).toBe(303);
      expect(browser.hasCookie(SESSION)).toBe(true);
    });
  });

  describe('session cookie', () => {
    it('is HttpOnly, SameSite=Lax, Path=/ and not Secure on an http issuer', async () => {
      const { browser, action, csrf } = await atLoginPage();
      const res = await browser.post(action, { csrf_token: csrf, username: user.username, password: TEST_PASSWORD });
      const line = setCookieLine(res, SESSION)!;
      expect(line).toBeDefined();
      const attrs = line.split(';').map((a) => a.trim().toLowerCase());
      expect(attrs).toContain('httponly');
      expect(attrs).toContain('samesite=lax');
      expect(attrs).toContain('path=/');
      expect(attrs).not.toContain('secure');
      expect(attrs.some((a) => a.startsWith('domain='))).toBe(false);
      // 256 random bits, base64url.
      const value = line.split(';')[0]!.slice(SESSION.length + 1);
      expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('rotates at login: a planted cookie value is never adopted', async () => {
      const { action, csrf, interaction } = await atLoginPage();
      const planted = 'A'.repeat(43);
      const res = await t.app.inject({
        method: 'POST',
        url: action,
        headers: { ...FORM, cookie: `${SESSION}=${planted}; authly_interaction=${interaction.split('/').pop()}` },
        payload: new URLSearchParams({ csrf_token: csrf, username: user.username, password: TEST_PASSWORD }).toString(),
      });
      expect(res.statusCode).toBe(303);
      const line = setCookieLine(res, SESSION)!;
      expect(line.startsWith(`${SESSION}=${planted}`)).toBe(false);
    });

    it('rotates at every login, and the old cookie no longer gives single sign-on', async () => {
      const browser = new InjectBrowser(t.app);
      await completeInteraction(browser, await browser.get(authorizeUrl(client.clientId)), { username: user.username });

      const sessionCookie = async (b: InjectBrowser) => {
        const res = await b.get(authorizeUrl(client.clientId, { prompt: 'login' }));
        const page = await b.get(res.headers.location as string);
        const login = await b.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: TEST_PASSWORD });
        return setCookieLine(login, SESSION)!.split(';')[0]!;
      };
      const first = await sessionCookie(browser);
      const second = await sessionCookie(browser);
      expect(first).not.toBe(second);

      const withCookie = (cookie: string) => t.app.inject({ url: authorizeUrl(client.clientId, { prompt: 'none' }), headers: { cookie } });
      const old = await withCookie(first);
      expect(redirectParams(old).get('error')).toBe('login_required');
      const current = await withCookie(second);
      expect(redirectParams(current).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('a disabled user loses single sign-on at once', async () => {
      const victim = await createUser(t.app);
      const browser = new InjectBrowser(t.app);
      await completeInteraction(browser, await browser.get(authorizeUrl(client.clientId)), { username: victim.username });
      expect(redirectParams(await browser.get(authorizeUrl(client.clientId, { prompt: 'none' }))).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      await t.app.ctx.db.query('UPDATE users SET is_active = false WHERE id = $1', [victim.id]);
      expect(redirectParams(await browser.get(authorizeUrl(client.clientId, { prompt: 'none' }))).get('error')).toBe('login_required');
    });
  });

  describe('page headers', () => {
    it('login and consent pages forbid framing and allow form posts only to self and the client origin', async () => {
      const { page: login } = await atLoginPage();
      const { page: consent } = await atConsentPage();
      for (const res of [login, consent]) {
        expect(res.headers['x-frame-options']).toBe('DENY');
        expect(res.headers['cache-control']).toBe('no-store');
        const csp = res.headers['content-security-policy'];
        expect(typeof csp).toBe('string');
        const directives = Object.fromEntries(
          (csp as string).split(';').map((d) => {
            const [name, ...values] = d.trim().split(/\s+/);
            return [name, values.join(' ')];
          }),
        );
        expect(directives['frame-ancestors']).toBe("'none'");
        expect(directives['form-action']).toBe("'self' https://app.example.com");
        expect(directives['default-src']).toBe("'none'");
        // The login page runs only Authly's passkey script, by its nonce; the consent page no script.
        expect(directives['script-src']).toMatch(res === login ? /^'nonce-[A-Za-z0-9+/]+=*'$/ : /^'none'$/);
        expect(csp).not.toContain('unsafe-inline');
      }
    });

    it('a native client with a private-use scheme gets its scheme in form-action', async () => {
      const nativeClient = await createClient(t.app, { tokenEndpointAuthMethod: 'none', redirectUris: ['com.example.app:/oauth2redirect'] });
      const { page } = await atLoginPage({ redirect_uri: 'com.example.app:/oauth2redirect' }, nativeClient);
      expect(page.headers['content-security-policy']).toContain("form-action 'self' com.example.app:");
    });
  });

  describe('escaping of user-controlled text', () => {
    it('escapes client_name on the login and consent pages, and login_hint in the username field', async () => {
      const evil = await createClient(t.app, { clientName: '<script>alert(1)</script>"\'&', clientUri: 'https://x.example/"><script>alert(2)</script>' });
      const hint = `"><script>alert(3)</script><x a='`;
      const { browser, page, action, csrf } = await atLoginPage({ login_hint: hint }, evil);
      expect(page.body).not.toContain('<script>');
      expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
      expect(page.body).toContain('value="&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;&lt;x a=&#39;"');

      const login = await browser.post(action, { csrf_token: csrf, username: user.username, password: TEST_PASSWORD });
      const consent = await browser.get(login.headers.location as string);
      expect(consent.body).toContain('name="decision"');
      expect(consent.body).not.toContain('<script>');
      expect(consent.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      // client_uri is a link now: the URL parser percent-encodes what could break out of the attribute.
      expect(consent.body).toContain('<a href="https://x.example/%22%3E%3Cscript%3Ealert(2)%3C/script%3E" rel="noopener noreferrer">Website</a>');
      expect(consent.body).not.toContain('<script>alert(2)');
    });

    it('escapes the username echoed after a failed login', async () => {
      const { browser, action, csrf } = await atLoginPage();
      const res = await browser.post(action, { csrf_token: csrf, username: '"><img src=x onerror=alert(1)>', password: 'x' });
      expect(res.body).not.toContain('<img');
      expect(res.body).toContain('value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
    });
  });

  describe('consent decisions', () => {
    it('deny → access_denied with state and iss, and the interaction is finished', async () => {
      const { browser, action, csrf } = await atConsentPage({ state: 'deny-state' });
      const res = await browser.post(action, { csrf_token: csrf, decision: 'deny' });
      expect(res.statusCode).toBe(303);
      expect(Object.fromEntries(redirectParams(res))).toEqual({
        error: 'access_denied',
        error_description: 'the user denied the request',
        state: 'deny-state',
        iss: TEST_ISSUER,
      });
      expect((res.headers.location as string).startsWith(`${REDIRECT_URI}?`)).toBe(true);
      const again = await browser.post(action, { csrf_token: csrf, decision: 'allow' });
      expect(again.statusCode).toBe(400);
      expect(again.headers.location).toBeUndefined();
    });

    it('a missing or unknown decision counts as deny', async () => {
      const { browser, action, csrf } = await atConsentPage();
      const res = await browser.post(action, { csrf_token: csrf, decision: 'maybe' });
      expect(redirectParams(res).get('error')).toBe('access_denied');
    });

    it('double submit of a finished interaction → 400 page and no second code', async () => {
      const { browser, action, csrf } = await atConsentPage();
      const cookie = `authly_interaction=${action.split('/')[2]}`;
      const first = await browser.post(action, { csrf_token: csrf, decision: 'allow' });
      expect(redirectParams(first).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const again = await browser.post(action, { csrf_token: csrf, decision: 'allow' });
      expectErrorPage(again, 400, 'This sign-in request has expired or was already completed. Return to the application and try again.');
      // Replaying the interaction cookie the first response cleared does not help.
      const replay = await t.app.inject({
        method: 'POST',
        url: action,
        headers: { ...FORM, cookie },
        payload: new URLSearchParams({ csrf_token: csrf, decision: 'allow' }).toString(),
      });
      expect(replay.statusCode).toBe(400);
      expect(replay.headers.location).toBeUndefined();
    });

    it('double submit of the login form after the interaction finished → 400 page', async () => {
      const skipClient = await createClient(t.app, { skipConsent: true });
      const { browser, action, csrf } = await atLoginPage({}, skipClient);
      const first = await browser.post(action, { csrf_token: csrf, username: user.username, password: TEST_PASSWORD });
      expect(redirectParams(first).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const again = await browser.post(action, { csrf_token: csrf, username: user.username, password: TEST_PASSWORD });
      expect(again.statusCode).toBe(400);
      expect(again.headers.location).toBeUndefined();
    });
  });
});

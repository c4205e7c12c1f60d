import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { endRefreshGraceWindow } from '../../helpers/refresh-grace.js';
import { basicAuth, createClient, createUser, pkcePair, REDIRECT_URI, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, formAction, InjectBrowser, redirectParams } from '../../helpers/browser.js';
import type { User } from '../../../src/repositories/users-repository.js';

describe('authorization code flow through the login and consent pages', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  function authorizeUrl(challenge: string, extra: Record<string, string> = {}) {
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile email offline_access',
      state: 'st-123',
      nonce: 'n-456',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    });
    return `/oauth/authorize?${q}`;
  }

  async function token(form: Record<string, string>) {
    return t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client.clientId, client.clientSecret!) },
      payload: new URLSearchParams(form).toString(),
    });
  }

  it('logs in, consents, exchanges the code, calls userinfo, refreshes, and reuses the session', async () => {
    const browser = new InjectBrowser(t.app);
    const { verifier, challenge } = pkcePair();

    const start = await browser.get(authorizeUrl(challenge));
    expect(start.statusCode).toBe(303);
    const loginPage = await browser.get(start.headers.location as string);
    expect(loginPage.statusCode).toBe(200);
    expect(loginPage.body).toContain('name="username"');
    expect(loginPage.headers['content-security-policy']).toContain("form-action 'self' https://app.example.com");

    const wrong = await browser.post(formAction(loginPage.body), {
      csrf_token: csrfToken(loginPage.body),
      username: user.username,
      password: 'wrong password',
    });
    expect(wrong.statusCode).toBe(200);
    expect(wrong.body).toContain('Invalid username or password.');

    const login = await browser.post(formAction(loginPage.body), {
      csrf_token: csrfToken(loginPage.body),
      username: user.username,
      password: TEST_PASSWORD,
    });
    expect(login.statusCode).toBe(303);
    const consentPage = await browser.get(login.headers.location as string);
    expect(consentPage.body).toContain('Test App');
    expect(consentPage.body).toContain('Read your email address');
    const consent = await browser.post(formAction(consentPage.body), { csrf_token: csrfToken(consentPage.body), decision: 'allow' });
    expect(consent.statusCode).toBe(303);
    const params = redirectParams(consent);
    expect(params.get('state')).toBe('st-123');
    expect(params.get('iss')).toBe(TEST_ISSUER);
    const code = params.get('code')!;

    const exchange = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
    expect(exchange.statusCode).toBe(200);
    expect(exchange.headers['cache-control']).toBe('no-store');
    const tokens = exchange.json();
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'openid profile email offline_access' });
    expect(tokens.id_token).toBeTypeOf('string');
    expect(tokens.refresh_token).toBeTypeOf('string');

    const info = await t.app.inject({ url: '/oidc/userinfo', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(info.statusCode).toBe(200);
    expect(info.json()).toMatchObject({ sub: user.id, email: user.email, name: 'Test User', preferred_username: user.username });

    const replay = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
    expect(replay.statusCode).toBe(400);
    expect(replay.json()).toEqual({ error: 'invalid_grant', error_description: 'authorization code was already used' });
    // The replay revoked what the first exchange issued (RFC 6749 section 4.1.2).
    const revoked = await t.app.inject({ url: '/oidc/userinfo', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.headers['www-authenticate']).toContain('error="invalid_token"');

    // Single sign-on: a second authorization with the live session skips login and consent.
    const second = pkcePair();
    const sso = await browser.get(authorizeUrl(second.challenge));
    expect(sso.statusCode).toBe(303);
    const ssoParams = redirectParams(sso);
    expect(ssoParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const fresh = await token({
      grant_type: 'authorization_code',
      code: ssoParams.get('code')!,
      redirect_uri: REDIRECT_URI,
      code_verifier: second.verifier,
    });
    expect(fresh.statusCode).toBe(200);

    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: fresh.json().refresh_token, scope: 'openid email' });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json().scope).toBe('openid email');
    // Within the reuse grace window a repeat gets the same successor; after it, a repeat is a replay.
    const repeat = await token({ grant_type: 'refresh_token', refresh_token: fresh.json().refresh_token });
    expect(repeat.json().refresh_token).toBe(refreshed.json().refresh_token);
    await endRefreshGraceWindow(t.app.ctx.db, fresh.json().refresh_token);
    const again = await token({ grant_type: 'refresh_token', refresh_token: fresh.json().refresh_token });
    expect(again.json()).toMatchObject({ error: 'invalid_grant' });
  });
});

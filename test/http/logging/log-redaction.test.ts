import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, formAction, InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { authorizeUrl, exchangeCode, FORM, setCookieLine, tokenRequest, userinfo, type Tokens } from '../../helpers/oauth-flow.js';
import { pkcePair } from '../../helpers/fixtures.js';
import type { User } from '../../../src/repositories/users-repository.js';

/** SECURITY.md: tokens, codes, secrets, passwords and cookies never appear in logs. */
describe('logs carry no credentials', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp({ LOG_LEVEL: 'trace' });
    client = await createClient(t.app);
    user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    const { verifier, challenge } = pkcePair();

    const start = await browser.get(authorizeUrl(client.clientId, { scope: 'openid email offline_access', code_challenge: challenge, state: 'state-secret-123', nonce: 'nonce-secret-456' }));
    const page = await browser.get(start.headers.location as string);
    await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: 'wrong-password-789' });
    const login = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: TEST_PASSWORD });
    secrets.sessionCookie = setCookieLine(login, 'authly_session')!.split(';')[0]!.split('=')[1]!;
    const consentPage = await browser.get(login.headers.location as string);
    const consent = await browser.post(formAction(consentPage.body), { csrf_token: csrfToken(consentPage.body), decision: 'allow' });
    const code = redirectParams(consent).get('code')!;

    const exchange = await exchangeCode(t.app, client, { code, verifier });
    expect(exchange.statusCode).toBe(200);
    const tokens = exchange.json() as Tokens;
    const refreshed = (await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })).json() as Tokens;
    expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(200);
    expect((await userinfo(t.app, refreshed.access_token, 'POST')).statusCode).toBe(200);

    // Failures too: wrong secret, replayed code, revoked tokens, credentials sent where they do not belong.
    await tokenRequest(t.app, { clientId: client.clientId, clientSecret: 'wrong-client-secret-abc' }, { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token! });
    await exchangeCode(t.app, client, { code, verifier });
    await userinfo(t.app, tokens.access_token);
    await t.app.inject({ url: `/oidc/userinfo?access_token=${refreshed.access_token}` });
    await t.app.inject({
      method: 'POST',
      url: `/oauth/token?client_secret=${client.clientSecret}&code=${code}&refresh_token=${refreshed.refresh_token}&password=${TEST_PASSWORD}`,
      headers: FORM,
      payload: 'grant_type=client_credentials',
    });
    await t.app.inject({ url: `/oauth/authorize?client_id=${client.clientId}&redirect_uri=x&id_token_hint=${tokens.id_token}&login_hint=${user.email}` });

    Object.assign(secrets, {
      password: TEST_PASSWORD,
      wrongPassword: 'wrong-password-789',
      code,
      verifier,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token!,
      idToken: tokens.id_token!,
      refreshedAccessToken: refreshed.access_token,
      refreshedRefreshToken: refreshed.refresh_token!,
      clientSecret: client.clientSecret!,
      wrongClientSecret: 'wrong-client-secret-abc',
      basicHeader: basicAuth(client.clientId, client.clientSecret!).slice('Basic '.length),
      state: 'state-secret-123',
      nonce: 'nonce-secret-456',
      csrf: csrfToken(page.body),
      email: user.email!,
    });
  });
  afterAll(() => t.close());

  it('the app logged the requests (the check below is not vacuous)', () => {
    expect(t.logs.length).toBeGreaterThan(20);
    expect(t.logs.some((l) => l.includes('/oauth/token'))).toBe(true);
    expect(t.logs.some((l) => l.includes('/oidc/userinfo'))).toBe(true);
  });

  it.each([
    'password',
    'wrongPassword',
    'code',
    'verifier',
    'accessToken',
    'refreshToken',
    'idToken',
    'refreshedAccessToken',
    'refreshedRefreshToken',
    'clientSecret',
    'wrongClientSecret',
    'basicHeader',
    'sessionCookie',
    'csrf',
    'state',
    'nonce',
    'email',
  ])('no log line contains the %s', (name) => {
    const value = secrets[name]!;
    expect(value.length).toBeGreaterThan(5);
    const hits = t.logs.filter((l) => l.includes(value) || l.includes(encodeURIComponent(value)));
    expect(hits).toEqual([]);
  });

  it('the flow wrote audit lines, and they are among the lines checked above', () => {
    const events = t.logs.map((l) => JSON.parse(l) as { log?: string; event?: string }).filter((l) => l.log === 'audit').map((l) => l.event);
    expect(events).toEqual(expect.arrayContaining(['login.failed', 'login.succeeded', 'consent.granted', 'token.issued', 'token.reuse_detected']));
  });

  it('JWT parts never appear (not even a token signature alone)', () => {
    for (const jwt of [secrets.accessToken!, secrets.idToken!]) {
      const signature = jwt.split('.')[2]!;
      expect(t.logs.filter((l) => l.includes(signature))).toEqual([]);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import type { LightMyRequestResponse } from 'fastify';
import { csrfToken, formAction, InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { authorizeUrl, completeInteraction, exchangeCode, isInteractionRedirect } from '../../helpers/oauth-flow.js';
import { pkcePair } from '../../helpers/fixtures.js';
import type { User } from '../../../src/repositories/users-repository.js';

/** Signs in on the login page behind `start`; true when the login post redirects to the client with a code. */
async function loginGoesStraightToClient(browser: InjectBrowser, start: LightMyRequestResponse, who: User): Promise<boolean> {
  const page = await browser.get(start.headers.location as string);
  expect(page.body).toContain('name="password"');
  const login = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: who.username, password: TEST_PASSWORD });
  return login.statusCode === 303 && (login.headers.location as string).startsWith(`${REDIRECT_URI}?code=`);
}

/** OIDC Core section 3.1.2.1: prompt, max_age and remembered consent decide which pages a signed-in user sees. */
describe('prompt, max_age and consent', () => {
  let t: TestApp;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp();
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  /** A browser signed in and consented for `client`. */
  async function signedIn(client: TestClient) {
    const browser = new InjectBrowser(t.app);
    const done = await completeInteraction(browser, await browser.get(authorizeUrl(client.clientId)), { username: user.username });
    expect(redirectParams(done).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    return browser;
  }

  /** Which page an interaction redirect leads to: 'login' or 'consent'. */
  async function pageOf(browser: InjectBrowser, res: Awaited<ReturnType<InjectBrowser['get']>>) {
    expect(isInteractionRedirect(res)).toBe(true);
    const page = await browser.get(res.headers.location as string);
    if (page.body.includes('name="password"')) return 'login';
    if (page.body.includes('name="decision"')) return 'consent';
    return `other ${page.statusCode}`;
  }

  it('a live session with remembered consent gets a code without any page', async () => {
    const client = await createClient(t.app);
    const browser = await signedIn(client);
    const res = await browser.get(authorizeUrl(client.clientId));
    expect(res.statusCode).toBe(303);
    expect(redirectParams(res).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('the first authorization for a client shows consent, the second does not', async () => {
    const first = await createClient(t.app);
    const second = await createClient(t.app);
    const browser = await signedIn(first);
    expect(await pageOf(browser, await browser.get(authorizeUrl(second.clientId)))).toBe('consent');
  });

  it('asking for more scope than was consented shows consent again', async () => {
    const client = await createClient(t.app);
    const browser = await signedIn(client);
    expect(await pageOf(browser, await browser.get(authorizeUrl(client.clientId, { scope: 'openid email' })))).toBe('consent');
  });

  it('prompt=login forces the login page although a session exists', async () => {
    const client = await createClient(t.app);
    const browser = await signedIn(client);
    expect(await pageOf(browser, await browser.get(authorizeUrl(client.clientId, { prompt: 'login' })))).toBe('login');
  });

  it('max_age=0 forces the login page although a session exists', async () => {
    const client = await createClient(t.app);
    const browser = await signedIn(client);
    expect(await pageOf(browser, await browser.get(authorizeUrl(client.clientId, { max_age: '0' })))).toBe('login');
  });

  it('max_age longer than the session age does not', async () => {
    const client = await createClient(t.app);
    const browser = await signedIn(client);
    const res = await browser.get(authorizeUrl(client.clientId, { max_age: '3600' }));
    expect(redirectParams(res).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('max_age=0 with prompt=none → login_required', async () => {
    const client = await createClient(t.app);
    const browser = await signedIn(client);
    const res = await browser.get(authorizeUrl(client.clientId, { max_age: '0', prompt: 'none' }));
    expect(redirectParams(res).get('error')).toBe('login_required');
  });

  it('after a forced re-login the ID token carries the new auth_time', async () => {
    const client = await createClient(t.app);
    const browser = await signedIn(client);
    await new Promise((r) => setTimeout(r, 1100));
    const { verifier, challenge } = pkcePair();
    const done = await completeInteraction(browser, await browser.get(authorizeUrl(client.clientId, { max_age: '0', code_challenge: challenge })), {
      username: user.username,
    });
    const code = redirectParams(done).get('code')!;
    const tokens = (await exchangeCode(t.app, client, { code, verifier })).json() as { id_token: string };
    const authTime = decodeJwt(tokens.id_token).auth_time as number;
    expect(Math.floor(Date.now() / 1000) - authTime).toBeLessThanOrEqual(1);
  });

  it('prompt=consent forces the consent page although consent is remembered', async () => {
    const client = await createClient(t.app);
    const browser = await signedIn(client);
    expect(await pageOf(browser, await browser.get(authorizeUrl(client.clientId, { prompt: 'consent' })))).toBe('consent');
  });

  it('a client with skipConsent never shows consent', async () => {
    const client = await createClient(t.app, { skipConsent: true });
    const browser = new InjectBrowser(t.app);
    const start = await browser.get(authorizeUrl(client.clientId, { scope: 'openid profile email' }));
    expect(await loginGoesStraightToClient(browser, start, user)).toBe(true);
  });

  it('prompt=select_account is accepted and uses the current account', async () => {
    const client = await createClient(t.app);
    const browser = await signedIn(client);
    const res = await browser.get(authorizeUrl(client.clientId, { prompt: 'select_account' }));
    expect(redirectParams(res).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('REQUIRE_USER_CONSENT=false', () => {
  let t: TestApp;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp({ REQUIRE_USER_CONSENT: 'false' });
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  it('skips the consent page: login goes straight back to the client', async () => {
    const client = await createClient(t.app);
    const browser = new InjectBrowser(t.app);
    const start = await browser.get(authorizeUrl(client.clientId, { scope: 'openid email' }));
    expect(await loginGoesStraightToClient(browser, start, user)).toBe(true);
  });

  it('prompt=consent still shows it', async () => {
    const client = await createClient(t.app);
    const browser = new InjectBrowser(t.app);
    await completeInteraction(browser, await browser.get(authorizeUrl(client.clientId)), { username: user.username });
    const res = await browser.get(authorizeUrl(client.clientId, { prompt: 'consent' }));
    expect(isInteractionRedirect(res)).toBe(true);
    expect((await browser.get(res.headers.location as string)).body).toContain('name="decision"');
  });
});

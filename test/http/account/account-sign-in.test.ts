import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, pkcePair, REDIRECT_URI } from '../../helpers/fixtures.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { completeInteraction, obtainCode, tokenRequest } from '../../helpers/oauth-flow.js';
import { adminCall, adminToken, ADMIN_ENV, tokenFor } from '../admin/admin-helpers.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { findClient, updateClient } from '../../../src/repositories/clients-repository.js';
import { bootstrap } from '../../../src/services/bootstrap.js';
import { ACCOUNT_CLIENT_ID } from '../../../src/services/account/account-client.js';
import { local, signInToAccount } from './account-helpers.js';

/**
 * Issue 12 §4: the account page signs in through Authly's own authorization endpoint with the built-in
 * client `authly-account`; the callback uses the code up and returns only to an /account path.
 */
describe('account sign-in', () => {
  let t: TestApp;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV });
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  const codeRows = async () =>
    (await t.testDb.db.query<{ consumed: boolean; revoked: boolean }>(
      `SELECT c.consumed_at IS NOT NULL AS consumed, g.revoked_at IS NOT NULL AS revoked
       FROM authorization_codes c JOIN grants g ON g.id = c.grant_id WHERE c.client_id = $1`,
      [ACCOUNT_CLIENT_ID],
    )).rows;

  it('the built-in client exists: public, PKCE, one redirect URI on the issuer, openid, no consent', async () => {
    const client = await findClient(t.testDb.db, ACCOUNT_CLIENT_ID);
    expect(client).toMatchObject({
      clientType: 'public',
      tokenEndpointAuthMethod: 'none',
      redirectUris: [`${TEST_ISSUER}/account/callback`],
      grantTypes: ['authorization_code'],
      scope: 'openid',
      skipConsent: true,
      requirePkce: true,
      isActive: true,
    });
  });

  it('a signed-out visit signs in through the authorization endpoint and returns to the page asked for; the code is used up', async () => {
    const b = new InjectBrowser(t.app);
    const first = await b.get('/account/sessions');
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe('/account/sign-in?return_to=%2Faccount%2Fsessions');
    const start = await b.get(first.headers.location as string);
    expect(start.statusCode).toBe(303);
    const authorize = new URL(start.headers.location as string);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${TEST_ISSUER}/oauth/authorize`);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: ACCOUNT_CLIENT_ID,
      redirect_uri: `${TEST_ISSUER}/account/callback`,
      scope: 'openid',
      code_challenge_method: 'S256',
    });
    expect(start.headers['set-cookie']).toMatch(/^authly_account_sign_in=[^;]+; Max-Age=600; Path=\/account\/callback; HttpOnly; SameSite=Lax$/);
    const login = await b.get(local(start.headers.location));
    const done = await completeInteraction(b, login, { username: user.username });
    // No consent page: the account is Authly itself.
    const callbackUrl = local(done.headers.location);
    expect(callbackUrl.startsWith('/account/callback?code=')).toBe(true);
    const callback = await b.get(callbackUrl);
    expect(callback.statusCode).toBe(303);
    expect(callback.headers.location).toBe('/account/sessions');
    expect((await b.get('/account/sessions')).statusCode).toBe(200);

    // The code is used up and its grant revoked: a second visit of the callback is refused.
    expect(await codeRows()).toEqual([{ consumed: true, revoked: true }]);
    const again = await b.get(callbackUrl);
    expect(again.statusCode).toBe(400);
    expect(again.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(again.body).toContain('This sign-in has expired or was already used.');
    expect(again.body).toContain('href="/account/sign-in?return_to=%2Faccount"');
    expect(t.logs.some((l) => l.includes('"event":"account.signed_in"') && l.includes(user.id))).toBe(true);
  });

  it('an existing session is reused: no login form, straight back', async () => {
    const b = new InjectBrowser(t.app);
    const client = await createClient(t.app, { skipConsent: true });
    await obtainCode(b, client, user.username);
    // The single sign-on session opens the account pages at once.
    expect((await b.get('/account')).statusCode).toBe(200);
    // And an explicit sign-in goes through the authorization endpoint without a form.
    const start = await b.get('/account/sign-in?return_to=/account/applications');
    const authorize = await b.get(local(start.headers.location));
    expect(authorize.statusCode).toBe(303);
    expect(local(authorize.headers.location).startsWith('/account/callback?code=')).toBe(true);
    const callback = await b.get(local(authorize.headers.location));
    expect(callback.headers.location).toBe('/account/applications');
  });

  it.each([
    ['https://evil.example/'],
    ['//evil.example/account'],
    ['/\\evil.example'],
    ['/account/../admin'],
    ['/account//evil.example'],
    ['/accountx'],
    ['/account?next=https://evil.example'],
    ['/account#x'],
    ['javascript:alert(1)'],
    ['/oauth/authorize'],
    ['/account/%2e%2e/admin'],
  ])('return_to %s is refused with a page, nothing redirects there', async (returnTo) => {
    const b = new InjectBrowser(t.app);
    const res = await b.get(`/account/sign-in?return_to=${encodeURIComponent(returnTo)}`);
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('This link to the account page is not valid.');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('a trailing slash is dropped (the router ignores it too)', async () => {
    const b = new InjectBrowser(t.app);
    const first = await b.get('/account/sessions/');
    expect(first.headers.location).toBe('/account/sign-in?return_to=%2Faccount%2Fsessions%2F');
    const start = await b.get(first.headers.location as string);
    expect(start.statusCode).toBe(303);
    const done = await completeInteraction(b, await b.get(local(start.headers.location)), { username: user.username });
    expect((await b.get(local(done.headers.location))).headers.location).toBe('/account/sessions');
  });

  it('a repeated return_to is refused with a page', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/account/sign-in?return_to=/account&return_to=/account/sessions' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  /** A sign-in started in `b`, walked to the callback URL without visiting it. */
  async function callbackUrlFor(b: InjectBrowser, returnTo = '/account'): Promise<string> {
    const start = await b.get(`/account/sign-in?return_to=${encodeURIComponent(returnTo)}`);
    const done = await completeInteraction(b, await b.get(local(start.headers.location)), { username: user.username });
    return local(done.headers.location);
  }

  it('a callback in another browser (no sign-in cookie: login CSRF, code injection) is refused and the code used up', async () => {
    const url = await callbackUrlFor(new InjectBrowser(t.app));
    const other = new InjectBrowser(t.app);
    const res = await other.get(url);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('This sign-in has expired or was already used.');
    expect(other.hasCookie('authly_session')).toBe(false);
    const rows = await codeRows();
    expect(rows.every((r) => r.consumed && r.revoked)).toBe(true);
  });

  it('a tampered sign-in cookie is not believed (its return path cannot be changed)', async () => {
    const b = new InjectBrowser(t.app);
    const start = await b.get('/account/sign-in?return_to=/account');
    const cookie = /authly_account_sign_in=([^;]+)/.exec(start.headers['set-cookie'] as string)![1]!;
    const [state, , mac] = cookie.split('.');
    const forged = `${state}.${Buffer.from('/account/sessions').toString('base64url')}.${mac}`;
    const done = await completeInteraction(b, await b.get(local(start.headers.location)), { username: user.username });
    const session = /authly_session=([^;]+)/.exec(String(done.headers['set-cookie']))![1]!;
    const res = await t.app.inject({
      method: 'GET',
      url: local(done.headers.location),
      headers: { cookie: `authly_account_sign_in=${forged}; authly_session=${session}` },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });

  it('a state that does not match the cookie is refused', async () => {
    const b = new InjectBrowser(t.app);
    const url = new URL(await callbackUrlFor(b), TEST_ISSUER);
    url.searchParams.set('state', 'not-the-state');
    const res = await b.get(`${url.pathname}${url.search}`);
    expect(res.statusCode).toBe(400);
  });

  it('the code cannot be redeemed at the token endpoint without the server-held verifier', async () => {
    const b = new InjectBrowser(t.app);
    const url = new URL(await callbackUrlFor(b), TEST_ISSUER);
    const res = await tokenRequest(t.app, { clientId: ACCOUNT_CLIENT_ID }, {
      grant_type: 'authorization_code',
      code: url.searchParams.get('code')!,
      redirect_uri: `${TEST_ISSUER}/account/callback`,
      code_verifier: pkcePair().verifier,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('an error from the authorization endpoint and a callback without a code answer a page with a way back', async () => {
    const b = new InjectBrowser(t.app);
    const denied = await b.get('/account/callback?error=access_denied&state=x');
    expect(denied.statusCode).toBe(400);
    expect(denied.body).toContain('The sign-in did not finish.');
    expect(denied.body).toContain('href="/account/sign-in?return_to=%2Faccount"');
    const bare = await b.get('/account/callback');
    expect(bare.statusCode).toBe(400);
    expect(bare.body).toContain('This sign-in has expired or was already used.');
  });

  it('the built-in client cannot be redirected elsewhere: the authorization endpoint refuses another redirect URI', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/oauth/authorize?${new URLSearchParams({
        response_type: 'code', client_id: ACCOUNT_CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'openid',
        code_challenge: pkcePair().challenge, code_challenge_method: 'S256',
      })}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });

  it('only authly:admin changes the built-in client through the admin API, and every start restores it', async () => {
    const admin = adminCall(t.app, await adminToken(t.app));
    const created = await admin('POST', '/admin/clients', { client_name: 'Operator', grant_types: ['client_credentials'], scope: 'admin:clients:write' });
    const { client_id, client_secret } = created.json() as { client_id: string; client_secret: string };
    const operator = adminCall(t.app, await tokenFor(t.app, client_id, client_secret));
    const refused = await operator('PATCH', `/admin/clients/${ACCOUNT_CLIENT_ID}`, { redirect_uris: ['https://evil.example/cb'] });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'insufficient_privilege', message: 'changing the built-in account client requires authly:admin' });
    expect((await operator('DELETE', `/admin/clients/${ACCOUNT_CLIENT_ID}`)).statusCode).toBe(403);

    await updateClient(t.testDb.db, ACCOUNT_CLIENT_ID, { redirectUris: ['https://evil.example/cb'], skipConsent: false, scope: 'openid profile' });
    await bootstrap(t.app.ctx);
    expect(await findClient(t.testDb.db, ACCOUNT_CLIENT_ID)).toMatchObject({
      redirectUris: [`${TEST_ISSUER}/account/callback`],
      skipConsent: true,
      scope: 'openid',
    });
    await t.testDb.db.query('DELETE FROM clients WHERE client_id = $1', [ACCOUNT_CLIENT_ID]);
    await bootstrap(t.app.ctx);
    expect(await findClient(t.testDb.db, ACCOUNT_CLIENT_ID)).toMatchObject({ redirectUris: [`${TEST_ISSUER}/account/callback`] });
  });

  it('discovery does not list the account', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(res.body).not.toContain('/account');
  });

  it('after signing in, every section opens', async () => {
    const b = new InjectBrowser(t.app);
    await signInToAccount(b, user.username, '/account/security');
    for (const path of ['/account', '/account/security', '/account/sessions', '/account/applications']) {
      const res = await b.get(path);
      expect(res.statusCode, path).toBe(200);
      expect(res.headers['content-security-policy']).toContain("form-action 'self'");
    }
  });
});

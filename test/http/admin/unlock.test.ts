import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfToken, formAction, InjectBrowser } from '../../helpers/browser.js';
import { basicAuth, createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl, FORM } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV } from './admin-helpers.js';

/**
 * POST /admin/users/:id/unlock and POST /admin/clients/:client_id/unlock clear the brute-force throttle's
 * counts of one account or client, from every address (scopes: admin-auth.test.ts).
 */
describe('admin unlock', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, AUTHLY_LOCKOUT_MAX_ATTEMPTS: '2' });
    call = adminCall(t.app, await adminToken(t.app));
    client = await createClient(t.app);
  });
  afterAll(() => t.close());

  async function signIn(ip: string, username: string, password: string) {
    const browser = new InjectBrowser(t.app, ip);
    const start = await browser.get(authorizeUrl(client.clientId));
    const page = await browser.get(start.headers.location as string);
    return browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username, password });
  }

  it('a user unlocked by an admin signs in again from the address that was locked', async () => {
    const user = await createUser(t.app);
    for (let i = 0; i < 2; i++) expect((await signIn('203.0.113.20', user.email!, `wrong-${i}`)).statusCode).toBe(200);
    expect((await signIn('203.0.113.20', user.username, TEST_PASSWORD)).statusCode).toBe(429);
    const res = await call('POST', `/admin/users/${user.id}/unlock`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ user_id: user.id, cleared: 2 });
    expect(t.logs.some((line) => line.includes('"event":"admin.user.unlocked"') && line.includes(user.id))).toBe(true);
    expect((await signIn('203.0.113.20', user.username, TEST_PASSWORD)).statusCode).toBe(303);
  });

  it('a client unlocked by an admin authenticates again from the address that was locked', async () => {
    const service = await createClient(t.app, { grantTypes: ['client_credentials'], redirectUris: [], responseTypes: [], scope: '' });
    const token = (secret: string) =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress: '203.0.113.21',
        headers: { ...FORM, authorization: basicAuth(service.clientId, secret) },
        payload: 'grant_type=client_credentials',
      });
    for (let i = 0; i < 2; i++) expect((await token(`wrong-${i}`)).statusCode).toBe(401);
    expect((await token(service.clientSecret!)).statusCode).toBe(429);
    const res = await call('POST', `/admin/clients/${service.clientId}/unlock`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ client_id: service.clientId, cleared: 1 });
    expect(t.logs.some((line) => line.includes('"event":"admin.client.unlocked"'))).toBe(true);
    expect((await token(service.clientSecret!)).statusCode).toBe(200);
  });

  it('answers 404 for an unknown user or client', async () => {
    expect((await call('POST', '/admin/users/00000000-0000-0000-0000-000000000000/unlock')).statusCode).toBe(404);
    expect((await call('POST', '/admin/clients/no-such-client/unlock')).statusCode).toBe(404);
  });
});

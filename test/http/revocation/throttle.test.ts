import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, createClient } from '../../helpers/fixtures.js';
import { FORM } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

/**
 * Revocation and introspection authenticate clients behind the token endpoint's brute-force throttle, and
 * share its counter: failures at any of the three lock the client_id at all of them.
 */
describe('client authentication throttle at /oauth/revoke and /oauth/introspect', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTHLY_LOCKOUT_MAX_ATTEMPTS: '3', AUTHLY_LOCKOUT_DURATION_SECONDS: '600' });
  });
  afterAll(() => t.close());

  const post = (url: string, clientId: string, secret: string, payload: string) =>
    t.app.inject({ method: 'POST', url, headers: { ...FORM, authorization: basicAuth(clientId, secret) }, payload });

  it.each(['/oauth/revoke', '/oauth/introspect'])('%s: failures lock the client_id, then even the right secret gets 429', async (url) => {
    const client = await createClient(t.app);
    for (let i = 0; i < 3; i++) expect((await post(url, client.clientId, `wrong-${i}`, 'token=x')).statusCode).toBe(401);
    const locked = await post(url, client.clientId, client.clientSecret!, 'token=x');
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toEqual({ error: 'rate_limited', error_description: 'too many failed attempts; try again later' });
    expect(locked.headers['retry-after']).toBeDefined();
    expect(locked.headers['cache-control']).toBe('no-store');
  });

  it('the counter is shared with the token endpoint', async () => {
    const client = await createClient(t.app, { grantTypes: ['client_credentials'], redirectUris: [], responseTypes: [], scope: '' });
    expect((await post('/oauth/revoke', client.clientId, 'wrong-1', 'token=x')).statusCode).toBe(401);
    expect((await post('/oauth/introspect', client.clientId, 'wrong-2', 'token=x')).statusCode).toBe(401);
    expect((await post('/oauth/token', client.clientId, 'wrong-3', 'grant_type=client_credentials')).statusCode).toBe(401);
    for (const [url, payload] of [['/oauth/token', 'grant_type=client_credentials'], ['/oauth/revoke', 'token=x'], ['/oauth/introspect', 'token=x']] as const) {
      expect((await post(url, client.clientId, client.clientSecret!, payload)).statusCode, url).toBe(429);
    }
  });
});

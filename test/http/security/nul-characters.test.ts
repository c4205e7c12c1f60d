import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, REDIRECT_URI, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, InjectBrowser } from '../../helpers/browser.js';
import { authorizeParams, authorizeUrl, FORM } from '../../helpers/oauth-flow.js';

/**
 * SECURITY.md "Everywhere": malformed input yields a 4xx with an OAuth error body, never a 5xx. PostgreSQL
 * text and jsonb cannot hold U+0000, so a NUL that reaches a query must be refused at the edge first.
 */
describe('NUL characters in parameters', () => {
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app, { grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
  });
  afterAll(() => t.close());

  function expectNot5xx(res: LightMyRequestResponse) {
    expect(res.statusCode, res.body.slice(0, 200)).toBeLessThan(500);
    expect(res.statusCode).toBeGreaterThanOrEqual(300);
  }

  const token = (form: Record<string, string>, basic = true) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, ...(basic ? { authorization: basicAuth(client.clientId, client.clientSecret!) } : {}) },
      payload: new URLSearchParams(form).toString(),
    });

  it.each([
    ['client_id (client_secret_post)', { grant_type: 'client_credentials', client_id: 'a\u0000b', client_secret: 'x' }, false],
    ['client_id (public client)', { grant_type: 'authorization_code', client_id: 'a\u0000b', code: 'x', redirect_uri: REDIRECT_URI }, false],
    ['scope', { grant_type: 'client_credentials', scope: 'a\u0000b' }, true],
    ['code', { grant_type: 'authorization_code', code: 'a\u0000b', redirect_uri: REDIRECT_URI, code_verifier: 'a'.repeat(43) }, true],
    ['refresh_token', { grant_type: 'refresh_token', refresh_token: 'a\u0000b' }, true],
  ] as const)('token endpoint: NUL in %s → 4xx OAuth error', async (_name, form, basic) => {
    const res = await token(form, basic);
    expectNot5xx(res);
    expect(res.json().error).toMatch(/^(invalid_request|invalid_client|invalid_grant|invalid_scope)$/);
  });

  it('token endpoint: NUL in the Basic client id → 401 invalid_client', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, authorization: basicAuth('a\u0000b', 'secret') },
      payload: 'grant_type=client_credentials',
    });
    expectNot5xx(res);
    expect(res.json().error).toMatch(/^(invalid_request|invalid_client)$/);
  });

  it('authorize: NUL in client_id → 400 page, no redirect', async () => {
    const res = await t.app.inject(`/oauth/authorize?${authorizeParams('a\u0000b')}`);
    expectNot5xx(res);
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });

  it.each(['state', 'nonce', 'login_hint', 'code_challenge', 'scope', 'prompt', 'max_age', 'response_mode'])(
    'authorize: NUL in %s → 4xx or an error to the redirect URI, never 5xx',
    async (name) => {
      const res = await t.app.inject(`/oauth/authorize?${authorizeParams(client.clientId, { [name]: 'a\u0000b' })}`);
      expectNot5xx(res);
      if (res.statusCode === 303 && !(res.headers.location as string).startsWith('/interaction/')) {
        const location = new URL(res.headers.location as string);
        expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
        expect(location.searchParams.get('error')).toBe('invalid_request');
      }
    },
  );

  it('login: NUL in the username → the generic failure or a 400, never 5xx', async () => {
    const browser = new InjectBrowser(t.app);
    const start = await browser.get(authorizeUrl(client.clientId));
    const page = await browser.get(start.headers.location as string);
    const res = await browser.post(`${start.headers.location as string}/login`, { csrf_token: csrfToken(page.body), username: 'a\u0000b', password: 'x' });
    expectNot5xx(res);
    expect(String(res.headers['set-cookie'] ?? '')).not.toContain('authly_session');
  });

  it('userinfo: NUL in a Bearer token → 401', async () => {
    const res = await t.app.inject({ url: '/oidc/userinfo', headers: { authorization: 'Bearer a\u0000b' } });
    expect(res.statusCode).toBe(401);
  });
});

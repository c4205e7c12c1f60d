import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, InjectBrowser } from '../../helpers/browser.js';
import { authorizeUrl, FORM } from '../../helpers/oauth-flow.js';
import { ADMIN_ENV, adminToken } from '../admin/admin-helpers.js';

/**
 * Issue 10 §2: one guard at the edge (src/http/input-guard.ts) for every string that enters. Each case
 * below answered 500 before it: NUL in a path reached PostgreSQL, a long client_id or login name overflowed
 * the lockout index, deep JSON overflowed the stack, a UTF-16 body was decoded as something else.
 */
describe('input guard at the edge', () => {
  let t: TestApp;
  let client: TestClient;
  let token: string;
  let interaction: string;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV });
    client = await createClient(t.app, { grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    token = await adminToken(t.app);
    const browser = new InjectBrowser(t.app);
    interaction = (await browser.get(authorizeUrl(client.clientId))).headers.location as string;
  });
  afterAll(() => t.close());

  const expectPage = (res: LightMyRequestResponse, status: number) => {
    expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<!doctype html>');
    expect(res.headers.location).toBeUndefined();
  };
  const expectOAuth = (res: LightMyRequestResponse, status = 400, error = 'invalid_request') => {
    expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
    expect(res.json()).toMatchObject({ error });
  };
  const expectAdmin = (res: LightMyRequestResponse, status: number, error: string) => {
    expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
    expect(res.json()).toMatchObject({ error });
    expect(typeof res.json().message).toBe('string');
  };

  describe('NUL and invalid UTF-8 in the path', () => {
    it.each(['%00', '%FF', '%C0%AF', '%ED%A0%80', 'a%00b'])('GET /interaction/<uid>%s → 400 page', async (suffix) => {
      expectPage(await t.app.inject(`${interaction}${suffix}`), 400);
    });
    it('POST /interaction/<uid>%00/login → 400 page', async () => {
      expectPage(await t.app.inject({ method: 'POST', url: `${interaction}%00/login`, headers: FORM, payload: 'username=x' }), 400);
    });
    it('GET /admin/users/%00 → 400 admin error', async () => {
      expectAdmin(await t.app.inject({ url: '/admin/users/%00', headers: { authorization: `Bearer ${token}` } }), 400, 'validation_failed');
    });
    it('GET /oauth/authorize with %00 in the query → 400 page, no redirect', async () => {
      expectPage(await t.app.inject(`${authorizeUrl(client.clientId)}&state=a%00b`), 400);
    });
  });

  describe('lengths are bounded before any lookup or key', () => {
    it('token: a 3,000-character client_id with a wrong secret → 400 invalid_request', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: FORM,
        payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'c'.repeat(3000), client_secret: 'wrong' }).toString(),
      });
      expectOAuth(res);
      expect(res.json().error_description).toBe('client_id is longer than 255 characters');
    });
    it('token: a 3,000-character client_id in Basic → 401 invalid_client', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { ...FORM, authorization: basicAuth('c'.repeat(3000), 'wrong') },
        payload: 'grant_type=client_credentials',
      });
      expectOAuth(res, 401, 'invalid_client');
    });
    it.each(['/oauth/revoke', '/oauth/introspect'])('%s: a 3,000-character client_id → 400', async (url) => {
      const res = await t.app.inject({ method: 'POST', url, headers: FORM, payload: `token=x&client_id=${'c'.repeat(3000)}&client_secret=wrong` });
      expectOAuth(res);
    });
    it('sign-in form: a 3,000-character login name → 400 page', async () => {
      const browser = new InjectBrowser(t.app);
      const start = await browser.get(authorizeUrl(client.clientId));
      const page = await browser.get(start.headers.location as string);
      const res = await browser.post(`${start.headers.location as string}/login`, { csrf_token: csrfToken(page.body), username: 'u'.repeat(3000), password: 'x' });
      expectPage(res, 400);
      expect(String(res.headers['set-cookie'] ?? '')).not.toContain('authly_session');
    });
    it('any parameter beyond the generic limit → 400', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload: `grant_type=client_credentials&x=${'a'.repeat(9000)}` });
      expectOAuth(res);
    });
    it('a parameter name beyond its limit → 400', async () => {
      const res = await t.app.inject(`/.well-known/openid-configuration?${'k'.repeat(300)}=1`);
      expectOAuth(res);
    });
  });

  describe('admin JSON', () => {
    const post = (payload: string, type = 'application/json') =>
      t.app.inject({ method: 'POST', url: '/admin/users', headers: { authorization: `Bearer ${token}`, 'content-type': type }, payload });

    it('nested 5,000 levels deep → 400 validation_failed', async () => {
      expectAdmin(await post(`{"username":${'['.repeat(5000)}${']'.repeat(5000)}}`), 400, 'validation_failed');
      expectAdmin(await post(`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`), 400, 'validation_failed');
    });
    it('brackets inside strings do not count as depth', async () => {
      const res = await post(JSON.stringify({ username: '['.repeat(200), password: 'x' }));
      expect(res.statusCode).toBe(400);
      expect(res.json().fields).not.toHaveProperty('body');
    });
    it('charset=utf-16 → 415', async () => {
      const res = await post(JSON.stringify({ username: 'x' }), 'application/json; charset=utf-16');
      expectAdmin(res, 415, 'unsupported_media_type');
    });
    it('charset=utf-8 (any case, quoted) is accepted', async () => {
      const res = await post(JSON.stringify({ username: 'someone', password: 'a long enough password 123' }), 'application/json; charset="UTF-8"');
      expect(res.statusCode, res.body).toBeLessThan(500);
      expect(res.statusCode).not.toBe(415);
    });
    it.each([
      ['a lone surrogate', '{"username":"a\\ud800b"}'],
      ['a NUL', '{"username":"a\\u0000b"}'],
      ['a NUL in a key', '{"a\\u0000":1}'],
      ['a long string', JSON.stringify({ username: 'u'.repeat(20_000) })],
    ])('a string with %s → 400 validation_failed', async (_name, payload) => {
      expectAdmin(await post(payload), 400, 'validation_failed');
    });
  });

  describe('charsets of form bodies', () => {
    it('token form with charset=utf-16 → 415 invalid_request', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16', authorization: basicAuth(client.clientId, client.clientSecret!) },
        payload: 'grant_type=client_credentials',
      });
      expectOAuth(res, 415);
    });
    it('token form with charset=utf-8 is accepted', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8', authorization: basicAuth(client.clientId, client.clientSecret!) },
        payload: 'grant_type=client_credentials',
      });
      expect(res.statusCode, res.body).toBe(200);
    });
  });

  describe('headers', () => {
    it('a NUL in a header → 400 invalid_request', async () => {
      expectOAuth(await t.app.inject({ url: '/oidc/userinfo', headers: { 'x-custom': 'a\u0000b' } }));
    });
    it('a path parameter beyond 200 characters → 414 page', async () => {
      expectPage(await t.app.inject(`/interaction/${'u'.repeat(300)}`), 414);
    });
  });
});

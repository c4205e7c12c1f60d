import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, type TestClient } from '../../helpers/fixtures.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { authorizeParams, authorizeUrl, FORM } from '../../helpers/oauth-flow.js';

/** SECURITY.md "Everywhere": malformed input yields a 4xx, never a 5xx and never a stack trace. */
describe('malformed input never yields a 5xx', () => {
  let t: TestApp;
  let client: TestClient;
  let interaction: string;
  let interactionCookie: string;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app, { grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    const browser = new InjectBrowser(t.app);
    const start = await browser.get(authorizeUrl(client.clientId));
    interaction = start.headers.location as string;
    interactionCookie = `authly_interaction=${interaction.split('/').pop()}`;
  });
  afterAll(() => t.close());

  function expectClientError(res: LightMyRequestResponse, status?: number) {
    if (status !== undefined) expect(res.statusCode).toBe(status);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.body).not.toMatch(/at [\w.<>]+ \(|node_modules|\/src\//);
    expect(res.body).not.toContain('server_error');
  }

  const auth = () => basicAuth(client.clientId, client.clientSecret!);
  const token = (payload: string | Buffer, headers: Record<string, string> = { ...FORM, authorization: auth() }) =>
    t.app.inject({ method: 'POST', url: '/oauth/token', headers, payload });

  describe('non-UTF-8 percent-encoding', () => {
    it.each([
      ['a value', 'grant_type=client_credentials&scope=%FF'],
      ['a key', 'grant_type=client_credentials&%FF=x'],
      ['an overlong encoding', 'grant_type=client_credentials&scope=%C0%AF'],
      ['a lone surrogate', 'grant_type=client_credentials&scope=%ED%A0%80'],
    ])('token form with %s → 400 invalid_request', async (_name, payload) => {
      const res = await token(payload);
      expectClientError(res, 400);
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'parameters must be UTF-8 text without NUL characters' });
    });

    it('authorize query → 400, no redirect', async () => {
      const res = await t.app.inject(`/oauth/authorize?${authorizeParams(client.clientId)}&state=%FF`);
      expectClientError(res, 400);
      expect(res.headers.location).toBeUndefined();
    });

    it('authorize query with %FF in client_id → 400, no redirect', async () => {
      const res = await t.app.inject('/oauth/authorize?client_id=%FF&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback');
      expectClientError(res, 400);
      expect(res.headers.location).toBeUndefined();
    });

    it('authorize POST form → 400, no redirect', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/oauth/authorize', headers: FORM, payload: `${authorizeParams(client.clientId)}&nonce=%FF` });
      expectClientError(res, 400);
      expect(res.headers.location).toBeUndefined();
    });

    it('login form → 400, no session', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: `${interaction}/login`,
        headers: { ...FORM, cookie: interactionCookie },
        payload: 'csrf_token=x&username=%FF&password=%FE',
      });
      expectClientError(res, 400);
      expect(String(res.headers['set-cookie'] ?? '')).not.toContain('authly_session');
    });

    it.each(['/interaction/%FF', '/interaction/%FF/login', '/oauth/authorize/%FF', '/%FF'])('path %s → 4xx', async (url) => {
      expectClientError(await t.app.inject({ method: url.endsWith('login') ? 'POST' : 'GET', url }));
    });

    it('a session cookie with bad percent-encoding is ignored', async () => {
      const res = await t.app.inject({ url: authorizeUrl(client.clientId, { prompt: 'none' }), headers: { cookie: 'authly_session=%FF%FE' } });
      expect(res.statusCode).toBe(303);
      expect(new URL(res.headers.location as string).searchParams.get('error')).toBe('login_required');
    });

    it('raw non-UTF-8 bytes in the body → 400', async () => {
      const res = await token(Buffer.from([0x67, 0x72, 0x61, 0x6e, 0x74, 0x5f, 0x74, 0x79, 0x70, 0x65, 0x3d, 0xff, 0xfe]));
      expectClientError(res, 400);
    });
  });

  describe('body size', () => {
    it.each([
      ['/oauth/token', { authorization: '' }],
      ['/oidc/userinfo', {}],
    ])('a 70 KB form to %s → 413 invalid_request', async (url, headers) => {
      const payload = `grant_type=client_credentials&scope=${'a'.repeat(70 * 1024)}`;
      const res = await t.app.inject({ method: 'POST', url, headers: { ...FORM, ...headers }, payload });
      expectClientError(res, 413);
      expect(res.json().error).toBe('invalid_request');
    });

    it('a 70 KB form to /oauth/authorize (a page) → 413 HTML page', async () => {
      const payload = `grant_type=client_credentials&scope=${'a'.repeat(70 * 1024)}`;
      const res = await t.app.inject({ method: 'POST', url: '/oauth/authorize', headers: FORM, payload });
      expectClientError(res, 413);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    });

    it('a 70 KB login form → 413', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: `${interaction}/login`,
        headers: { ...FORM, cookie: interactionCookie },
        payload: `csrf_token=x&username=u&password=${'p'.repeat(70 * 1024)}`,
      });
      expectClientError(res, 413);
    });

    it('a 60 KB form (under the body limit) is refused for the parameter beyond its length limit, not crashed on', async () => {
      const res = await token(`grant_type=client_credentials&scope=${'a'.repeat(60 * 1024)}`);
      expectClientError(res, 400);
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'scope is longer than 4096 characters' });
    });

    it('many parameters (5,000 unknown keys) are ignored, not crashed on', async () => {
      const payload = Array.from({ length: 5_000 }, (_, i) => `k${i}=v`).join('&');
      expect((await token(`grant_type=client_credentials&${payload}`)).statusCode).toBe(200);
    });
  });

  describe('content types', () => {
    it.each([
      ['application/json', '{"grant_type":"client_credentials"}'],
      ['application/json', '{"grant_type":'],
      ['application/json', '{"__proto__":{"x":1},"grant_type":"client_credentials"}'],
      ['application/json', `${'['.repeat(5000)}${']'.repeat(5000)}`],
      ['text/plain', 'grant_type=client_credentials'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--x--'],
      ['application/xml', '<grant_type>client_credentials</grant_type>'],
      ['application/x-www-form-urlencoded; charset=iso-8859-1', 'grant_type=client_credentials'],
      ['application/x-www-form-urlencoded, application/json', 'grant_type=client_credentials'],
      ['APPLICATION/X-WWW-FORM-URLENCODED', 'grant_type=client_credentials'],
      ['application/x-www-form-urlencodedx', 'grant_type=client_credentials'],
      ['', 'grant_type=client_credentials'],
      ['*/*', 'grant_type=client_credentials'],
    ])('token endpoint with %s', async (type, payload) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { ...(type ? { 'content-type': type } : {}), authorization: auth() },
        payload,
      });
      expect(res.statusCode).toBeLessThan(500);
      if (res.statusCode !== 200) {
        expectClientError(res);
        expect(res.json().error).toBe('invalid_request');
        expect(res.headers['cache-control']).toBe('no-store');
      }
    });

    it.each([
      ['application/json', JSON.stringify(Object.fromEntries(authorizeParams('x')))],
      ['text/plain', 'client_id=x'],
      ['multipart/form-data; boundary=x', '--x--'],
    ])('authorize POST with %s → 4xx, no redirect', async (type, payload) => {
      const res = await t.app.inject({ method: 'POST', url: '/oauth/authorize', headers: { 'content-type': type }, payload });
      expectClientError(res);
      expect(res.headers.location).toBeUndefined();
    });

    it.each([
      ['application/json', '{"csrf_token":"x","username":"u","password":"p"}'],
      ['text/plain', 'csrf_token=x'],
    ])('login POST with %s → 4xx, no session', async (type, payload) => {
      const res = await t.app.inject({ method: 'POST', url: `${interaction}/login`, headers: { 'content-type': type, cookie: interactionCookie }, payload });
      expectClientError(res);
      expect(String(res.headers['set-cookie'] ?? '')).not.toContain('authly_session');
    });
  });

  describe('odd parameter names and values', () => {
    it.each(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf'])('a form key %s', async (key) => {
      const res = await token(`${key}=x&grant_type=client_credentials`);
      expect(res.statusCode).toBeLessThan(500);
    });

    it.each(['__proto__', 'constructor', 'toString'])('an authorize query key %s', async (key) => {
      const res = await t.app.inject(`/oauth/authorize?${key}=x&${authorizeParams(client.clientId)}`);
      expect(res.statusCode).toBeLessThan(500);
    });

    it.each([
      ['a newline in a value', 'grant_type=client_credentials&scope=a%0Ab'],
      ['an empty key', '=x&grant_type=client_credentials'],
      ['a bare key', 'grant_type=client_credentials&scope'],
      ['broken percent-encoding', 'grant_type=client_credentials&scope=%zz'],
      ['only separators', '&&&==&'],
    ])('%s → 4xx or success, never 5xx', async (_name, payload) => {
      expect((await token(payload)).statusCode).toBeLessThan(500);
    });

    it('a uid that is not a UUID or too long → 4xx', async () => {
      expectClientError(await t.app.inject(`/interaction/${'a'.repeat(300)}`));
      expectClientError(await t.app.inject('/interaction/..%2F..%2Fetc'));
    });

    it.each(['Bearer \u0000', `Bearer ${'a'.repeat(60_000)}`, 'Bearer a.b.c', 'Bearer e30.e30.e30', 'Bearer eyJhbGciOiJub25lIn0.e30.'])(
      'userinfo with Authorization %s → 401',
      async (authorization) => {
        const res = await t.app.inject({ url: '/oidc/userinfo', headers: { authorization: authorization.slice(0, 70_000) } });
        expect(res.statusCode).toBe(401);
      },
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, type TestClient } from '../../helpers/fixtures.js';
import { FORM } from '../../helpers/oauth-flow.js';

const APP_ORIGIN = 'https://app.example.com';
const CORS_HEADERS = [
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-allow-credentials',
  'access-control-expose-headers',
  'access-control-max-age',
];

const corsHeadersOf = (headers: Record<string, unknown>) => Object.fromEntries(CORS_HEADERS.filter((h) => h in headers).map((h) => [h, headers[h]]));

/** The endpoints a browser app calls itself, with the method it uses. */
const CORS_ENDPOINTS = [
  ['POST', '/oauth/token', 'POST'],
  ['POST', '/oauth/par', 'POST'],
  ['POST', '/oauth/revoke', 'POST'],
  ['GET', '/oidc/userinfo', 'GET, POST'],
  ['GET', '/.well-known/jwks.json', 'GET'],
  ['GET', '/.well-known/openid-configuration', 'GET'],
  ['GET', '/.well-known/oauth-authorization-server', 'GET'],
] as const;

/** Never CORS: pages and navigations, the server-to-server introspection, the admin API. */
const NO_CORS_ENDPOINTS = [
  ['GET', '/oauth/authorize?client_id=x'],
  ['POST', '/oauth/introspect'],
  ['GET', '/oidc/logout'],
  ['GET', '/admin/clients'],
  ['GET', '/health'],
  ['GET', '/metrics'],
] as const;

describe('CORS with CORS_ORIGINS set', () => {
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp({ CORS_ORIGINS: `${APP_ORIGIN},http://localhost:3000` });
    client = await createClient(t.app, { grantTypes: ['client_credentials'], scope: 'profile' });
  });
  afterAll(() => t.close());

  it.each(CORS_ENDPOINTS)('preflight %s %s from an allowed origin: 204 with methods and headers, no credentials', async (method, url, methods) => {
    const res = await t.app.inject({
      method: 'OPTIONS',
      url,
      headers: { origin: APP_ORIGIN, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(corsHeadersOf(res.headers)).toEqual({
      'access-control-allow-origin': APP_ORIGIN,
      'access-control-allow-methods': methods,
      'access-control-allow-headers': 'Authorization, Content-Type, DPoP',
      'access-control-max-age': '600',
    });
    expect(res.headers.vary).toBe('Origin');
  });

  it.each(CORS_ENDPOINTS)('preflight %s %s from an unknown origin: 204 without CORS headers (not an error)', async (method, url) => {
    const res = await t.app.inject({ method: 'OPTIONS', url, headers: { origin: 'https://evil.example.net', 'access-control-request-method': method } });
    expect(res.statusCode).toBe(204);
    expect(corsHeadersOf(res.headers)).toEqual({});
    expect(res.headers.vary).toBe('Origin');
  });

  it('origins match exactly: scheme, host and port', async () => {
    for (const origin of ['http://app.example.com', 'https://app.example.com:8443', 'https://sub.app.example.com', 'https://app.example.com.evil.net', 'null']) {
      const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
    const ok = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: 'http://localhost:3000' } });
    expect(ok.headers['access-control-allow-origin']).toBe('http://localhost:3000');
  });

  it('an actual token request from an allowed origin carries the CORS headers, also on errors', async () => {
    const ok = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, origin: APP_ORIGIN, authorization: basicAuth(client.clientId, client.clientSecret!) },
      payload: 'grant_type=client_credentials',
    });
    expect(ok.statusCode).toBe(200);
    expect(corsHeadersOf(ok.headers)).toEqual({ 'access-control-allow-origin': APP_ORIGIN, 'access-control-expose-headers': 'WWW-Authenticate, Retry-After, DPoP-Nonce' });
    expect(ok.headers.vary).toBe('Origin');

    const bad = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, origin: APP_ORIGIN, authorization: basicAuth(client.clientId, 'wrong') },
      payload: 'grant_type=client_credentials',
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(bad.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('a preflight is not a client authentication: no failure is counted, no lockout follows', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await t.app.inject({ method: 'OPTIONS', url: '/oauth/token', headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST' } });
      expect(res.statusCode).toBe(204);
    }
    const after = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, authorization: basicAuth(client.clientId, client.clientSecret!) },
      payload: 'grant_type=client_credentials',
    });
    expect(after.statusCode).toBe(200);
  });

  it.each(NO_CORS_ENDPOINTS)('%s %s never gets CORS headers', async (method, url) => {
    const res = await t.app.inject({ method, url, headers: { origin: APP_ORIGIN } });
    expect(corsHeadersOf(res.headers)).toEqual({});
    // No preflight route: OPTIONS is one more method the path does not take (405 with Allow, RFC 9110
    // section 15.5.6), and the browser sees no CORS headers.
    const preflight = await t.app.inject({ method: 'OPTIONS', url, headers: { origin: APP_ORIGIN, 'access-control-request-method': method } });
    expect(preflight.statusCode).toBe(405);
    expect(preflight.headers.allow).toContain(method);
    expect(preflight.headers.allow).not.toContain('OPTIONS');
    expect(corsHeadersOf(preflight.headers)).toEqual({});
  });

  it('odd preflights never give a 5xx', async () => {
    for (const headers of [{}, { origin: '' }, { origin: APP_ORIGIN }, { origin: APP_ORIGIN, 'access-control-request-method': '' }, { origin: '\u00e9' }]) {
      const res = await t.app.inject({ method: 'OPTIONS', url: '/oauth/token', headers });
      expect(res.statusCode).toBe(204);
    }
  });
});

describe('CORS_ORIGINS=*', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ CORS_ORIGINS: '*' });
  });
  afterAll(() => t.close());

  it('any origin gets "*", never with credentials', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration', headers: { origin: 'https://anyone.example' } });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/oidc/userinfo',
      headers: { origin: 'https://anyone.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('without CORS_ORIGINS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('nothing changes: no CORS headers, no preflight route', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: APP_ORIGIN } });
    expect(res.statusCode).toBe(200);
    expect(corsHeadersOf(res.headers)).toEqual({});
    expect(res.headers.vary).toBeUndefined();
    const preflight = await t.app.inject({ method: 'OPTIONS', url: '/oauth/token', headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST' } });
    expect(preflight.statusCode).toBe(405);
    expect(preflight.headers.allow).toBe('POST');
    expect(corsHeadersOf(preflight.headers)).toEqual({});
  });
});

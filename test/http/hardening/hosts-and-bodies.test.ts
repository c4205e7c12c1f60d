import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAllowed } from '../../../src/http/allowed-hosts.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { FORM } from '../../helpers/oauth-flow.js';
import { adminToken, ADMIN_ENV } from '../admin/admin-helpers.js';

const HOST_ERROR = { error: 'invalid_request', error_description: 'the Host header names a host this server does not serve' };

describe('hostAllowed', () => {
  it.each([
    ['auth.example.com', true],
    ['AUTH.Example.COM', true],
    ['auth.example.com.', true],
    ['a.apps.example.org', true],
    ['x.y.apps.example.org', true],
    ['apps.example.org', false],
    ['evilapps.example.org', false],
    ['example.com', false],
    ['auth.example.com.evil.net', false],
    ['', false],
  ])('%s → %s', (host, expected) => {
    expect(hostAllowed(host, ['auth.example.com', '*.apps.example.org'])).toBe(expected);
  });
});

describe('ALLOWED_HOSTS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ ALLOWED_HOSTS: 'auth.example.com,*.apps.example.org' });
  });
  afterAll(() => t.close());

  it('a listed host is served, whatever the port', async () => {
    for (const host of ['auth.example.com', 'auth.example.com:8443', 'AUTH.EXAMPLE.COM', 'tenant.apps.example.org:443']) {
      const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { host } });
      expect(res.statusCode).toBe(200);
    }
  });

  it.each([
    ['GET', '/.well-known/openid-configuration'],
    ['POST', '/oauth/token'],
    ['GET', '/oauth/authorize?client_id=x'],
    ['GET', '/admin/clients'],
    ['GET', '/no/such/route'],
  ] as const)('another host gets 400 with a JSON error before anything else: %s %s', async (method, url) => {
    const res = await t.app.inject({ method, url, headers: { host: 'evil.example.net', ...FORM }, payload: method === 'POST' ? 'grant_type=x' : undefined });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(HOST_ERROR);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('the health probes and the Prometheus scrape answer any Host (both address the pod or container directly)', async () => {
    for (const url of ['/health', '/health/ready', '/metrics']) {
      const res = await t.app.inject({ method: 'GET', url, headers: { host: '10.244.1.17:8000' } });
      expect(res.statusCode).toBe(200);
    }
  });

  it('X-Forwarded-Host is not believed from an untrusted peer', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { host: 'evil.example.net', 'x-forwarded-host': 'auth.example.com' } });
    expect(res.statusCode).toBe(400);
  });
});

describe('ALLOWED_HOSTS behind a trusted proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ ALLOWED_HOSTS: 'auth.example.com', TRUST_PROXY: '127.0.0.1' });
  });
  afterAll(() => t.close());

  it('the forwarded host is the one checked', async () => {
    const ok = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { host: 'authly:8000', 'x-forwarded-host': 'auth.example.com' } });
    expect(ok.statusCode).toBe(200);
    const bad = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { host: 'auth.example.com', 'x-forwarded-host': 'evil.example.net' } });
    expect(bad.statusCode).toBe(400);
  });
});

describe('body size limit (64 KiB)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
  });
  afterAll(() => t.close());

  const TOO_LARGE = { error: 'invalid_request', error_description: 'Request body is too large' };

  it('an oversized token request gets 413 with an OAuth error, never a 5xx', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload: `grant_type=client_credentials&pad=${'a'.repeat(70 * 1024)}` });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual(TOO_LARGE);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('a form just under the limit is read (and then judged on its content)', async () => {
    // Fifteen 4 KiB parameters: each within its own limit (src/config/input-limits.ts), 60 KiB in all.
    const pad = Array.from({ length: 15 }, (_, i) => `pad${i}=${'a'.repeat(4 * 1024)}`).join('&');
    const res = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload: `grant_type=client_credentials&${pad}` });
    expect(res.statusCode).toBe(401);
  });

  it('an oversized admin JSON body gets 413 too', async () => {
    const token = await adminToken(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/admin/clients',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ client_name: 'x'.repeat(70 * 1024) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual(TOO_LARGE);
  });

  it('a lying Content-Length never gives a 5xx', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: { ...FORM, 'content-length': String(10 * 1024 * 1024) }, payload: 'grant_type=x' });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
  });
});

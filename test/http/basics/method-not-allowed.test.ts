import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

/**
 * RFC 9110 section 15.5.6: a path that exists under other methods is answered 405 with the methods it
 * accepts in Allow, not 404; RFC 9126 section 2.3 asks it of the PAR endpoint in so many words. The
 * answer comes in the reader's shape (OAuth JSON, the admin API's JSON, or a page); a path that does not
 * exist at all stays 404.
 */
const HTML = { accept: 'text/html,application/xhtml+xml' };

describe('405 Method Not Allowed', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it.each([
    ['GET', '/oauth/token', 'POST'],
    ['PUT', '/oauth/token', 'POST'],
    ['GET', '/oauth/introspect', 'POST'],
    ['DELETE', '/oauth/revoke', 'POST'],
    ['GET', '/oauth/par', 'POST'],
    ['PATCH', '/oauth/device_authorization', 'POST'],
    ['DELETE', '/oidc/userinfo', 'GET, HEAD, POST'],
    ['POST', '/.well-known/openid-configuration', 'GET, HEAD'],
    ['POST', '/oauth/register/some-client', 'GET, HEAD, PUT, DELETE'],
  ])('%s %s: 405, Allow: %s, OAuth JSON', async (method, url, allow) => {
    const res = await t.app.inject({ method: method as 'GET', url: `${url}?x=1` });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: `${url} accepts ${allow}, not ${method}` });
  });

  it('the admin API answers in its own shape, before any authentication', async () => {
    const res = await t.app.inject({ method: 'PUT', url: '/admin/clients' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(res.json()).toEqual({ error: 'method_not_allowed', message: '/admin/clients accepts GET, HEAD, POST, not PUT' });
    const unknown = await t.app.inject({ method: 'GET', url: '/admin/no-such-thing' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: 'not_found', message: 'no route for GET /admin/no-such-thing' });
  });

  it('a browser opening the token endpoint gets a page that says what the address is for', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/oauth/token', headers: { ...HTML, 'accept-language': 'de' } });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<h1>Keine Seite</h1>');
    expect(res.body).toContain('<code>/oauth/token accepts POST, not GET</code>');
  });

  it('another method on a page address is a page too, whatever the Accept header', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/account/profile' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<h1>Invalid request</h1>');
  });

  it('a route that takes the method and finds nothing is 404, without Allow', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/assets/authly-0000000000000000.css' });
    expect(res.statusCode).toBe(404);
    expect(res.headers.allow).toBeUndefined();
    const post = await t.app.inject({ method: 'POST', url: '/assets/authly-0000000000000000.css' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('a path no route has is still 404', async () => {
    for (const method of ['GET', 'POST', 'DELETE'] as const) {
      const res = await t.app.inject({ method, url: '/oauth/nothing-here' });
      expect(res.statusCode).toBe(404);
      expect(res.headers.allow).toBeUndefined();
      expect(res.json()).toEqual({ error: 'not_found', error_description: `no route for ${method} /oauth/nothing-here` });
    }
  });
});

describe('405 where CORS is on', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ CORS_ORIGINS: 'https://spa.example' });
  });
  afterAll(async () => t.close());

  it('lists OPTIONS next to the methods of a path that answers preflight', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/oauth/token' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST, OPTIONS');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV } from './admin-helpers.js';

/**
 * SECURITY.md "Everywhere": malformed input is a 4xx, never a 5xx. PostgreSQL text and jsonb cannot hold
 * U+0000, so a NUL must be refused before it reaches a query, wherever it comes in.
 */
describe('admin API: malformed input', () => {
  let t: TestApp;
  let token: string;
  let call: ReturnType<typeof adminCall>;
  let userId: string;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    token = await adminToken(t.app);
    call = adminCall(t.app, token);
    userId = ((await call('POST', '/admin/users', { username: 'target' })).json() as { id: string }).id;
    expect((await call('POST', '/admin/clients', { client_id: 'target', client_name: 'Target', redirect_uris: ['https://t.example.com/cb'] })).statusCode).toBe(201);
  });
  afterAll(() => t.close());

  const NUL = '\u0000';
  it.each([
    ['POST', '/admin/clients', { client_name: `a${NUL}b`, redirect_uris: ['https://t.example.com/cb'] }, { client_name: 'must not contain NUL characters' }],
    ['POST', '/admin/clients', { client_name: 'x', redirect_uris: [`https://t.example.com/${NUL}`] }, { 'redirect_uris.0': 'must not contain NUL characters' }],
    ['PATCH', '/admin/clients/target', { scope: `openid${NUL}` }, { scope: 'must not contain NUL characters' }],
    ['POST', '/admin/users', { username: 'nul', name: `a${NUL}` }, { name: 'must not contain NUL characters' }],
    ['POST', '/admin/users', { username: 'nul', address: { locality: `a${NUL}` } }, { 'address.locality': 'must not contain NUL characters' }],
    ['POST', '/admin/users', { username: 'nul', [`k${NUL}`]: 'v' }, { [`k${NUL}`]: 'must not contain NUL characters' }],
    ['POST', '/admin/scopes', { name: 'nul', description: NUL }, { description: 'must not contain NUL characters' }],
    ['POST', '/admin/resources', { identifier: `urn:a${NUL}`, name: 'x' }, { identifier: 'must not contain NUL characters' }],
    ['POST', '/admin/resources', { identifier: 'urn:a', name: 'x', client_ids: [`a${NUL}`] }, { 'client_ids.0': 'must not contain NUL characters' }],
    ['PATCH', '/admin/clients/target', { allowed_resources: [`urn:${NUL}`] }, { 'allowed_resources.0': 'must not contain NUL characters' }],
  ] as const)('%s %s refuses a NUL in the body with 400', async (method, url, body, fields) => {
    const res = await call(method, url, body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message: 'the request body is not valid', fields });
  });

  it('POST /admin/users/:id/password refuses a NUL in the password with 400', async () => {
    const res = await call('POST', `/admin/users/${userId}/password`, { password: `long enough${NUL}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message: 'the request body is not valid', fields: { password: 'must not contain NUL characters' } });
  });

  it('refuses a NUL in the query with 400', async () => {
    const res = await call('GET', '/admin/users?q=a%00b');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message: 'the query parameters are not valid', fields: { q: 'must not contain NUL characters' } });
  });

  it.each([
    ['GET', '/admin/clients/a%00b'],
    ['PATCH', '/admin/clients/a%00b'],
    ['DELETE', '/admin/clients/a%00b'],
    ['POST', '/admin/clients/a%00b/rotate-secret'],
    ['GET', '/admin/users/a%00b'],
    ['DELETE', '/admin/scopes/a%00b'],
    ['GET', '/admin/resources/https%3A%2F%2Fa%00b'],
    ['PATCH', '/admin/resources/urn%3Aa%00b'],
    ['DELETE', '/admin/resources/urn%3Aa%00b'],
  ] as const)('%s %s (a NUL in the path) is refused at the edge with 400', async (method, url) => {
    const res = await call(method, url, method === 'PATCH' ? {} : undefined);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message: 'the request path is not valid', fields: { path: 'must not contain NUL characters' } });
  });

  it('DELETE /admin/scopes/two%20words (a path id no record can have) is 404', async () => {
    const res = await call('DELETE', '/admin/scopes/two%20words');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'scope not found' });
  });

  it.each([
    ['POST', '/admin/clients'],
    ['PATCH', '/admin/clients/target'],
    ['POST', '/admin/users'],
    ['PATCH', '/admin/users/USER'],
    ['POST', '/admin/users/USER/password'],
    ['POST', '/admin/scopes'],
    ['POST', '/admin/resources'],
    ['PATCH', '/admin/resources/urn%3Aany'],
  ])('%s %s answers malformed JSON with 400', async (method, url) => {
    const res = await t.app.inject({
      method: method as 'POST' | 'PATCH',
      url: url.replace('USER', userId),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: '{"a":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message: 'the request body is not valid JSON', fields: { body: 'not valid JSON' } });
  });

  it('a resource identifier in the path longer than the router admits is refused at the edge with 400', async () => {
    const res = await call('GET', `/admin/resources/${encodeURIComponent(`https://x.example.com/${'a'.repeat(200)}`)}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message: 'the request path is not valid', fields: { path: 'a segment is too long' } });
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await call('POST', '/admin/scopes', { name: 'big', description: 'x'.repeat(70 * 1024) });
    expect(res.statusCode).toBe(413);
  });
});

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findClient } from '../../../src/repositories/clients-repository.js';
import { insertGrant } from '../../../src/repositories/grants-repository.js';
import { updateUser } from '../../../src/repositories/users-repository.js';
import { issueTokens } from '../../../src/services/token-service.js';
import { createUser } from '../../helpers/fixtures.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, tokenFor } from './admin-helpers.js';

/** One route per resource and verb, each with the scope it needs. */
const ROUTES = [
  ['GET', '/admin/status', 'any'],
  ['GET', '/admin/openapi.json', 'any'],
  ['GET', '/admin/clients', 'admin:clients:read'],
  ['GET', '/admin/clients/some-client', 'admin:clients:read'],
  ['POST', '/admin/clients', 'admin:clients:write'],
  ['PATCH', '/admin/clients/some-client', 'admin:clients:write'],
  ['DELETE', '/admin/clients/some-client', 'admin:clients:write'],
  ['POST', '/admin/clients/some-client/rotate-secret', 'admin:clients:write'],
  ['POST', '/admin/clients/some-client/unlock', 'admin:clients:write'],
  ['POST', '/admin/clients/some-client/redirect-uris', 'admin:clients:write'],
  ['DELETE', '/admin/clients/some-client/redirect-uris?redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb', 'admin:clients:write'],
  ['GET', '/admin/users', 'admin:users:read'],
  ['GET', '/admin/users/00000000-0000-0000-0000-000000000000', 'admin:users:read'],
  ['POST', '/admin/users', 'admin:users:write'],
  ['PATCH', '/admin/users/00000000-0000-0000-0000-000000000000', 'admin:users:write'],
  ['DELETE', '/admin/users/00000000-0000-0000-0000-000000000000', 'admin:users:write'],
  ['POST', '/admin/users/00000000-0000-0000-0000-000000000000/password', 'admin:users:write'],
  ['POST', '/admin/users/00000000-0000-0000-0000-000000000000/unlock', 'admin:users:write'],
  ['POST', '/admin/users/00000000-0000-0000-0000-000000000000/invite', 'admin:users:write'],
  ['POST', '/admin/users/00000000-0000-0000-0000-000000000000/send-verification', 'admin:users:write'],
  ['GET', '/admin/scopes', 'admin:scopes:read'],
  ['POST', '/admin/scopes', 'admin:scopes:write'],
  ['DELETE', '/admin/scopes/some-scope', 'admin:scopes:write'],
  ['GET', '/admin/resources', 'admin:resources:read'],
  ['GET', '/admin/resources/https%3A%2F%2Fapi.example.com', 'admin:resources:read'],
  ['POST', '/admin/resources', 'admin:resources:write'],
  ['PATCH', '/admin/resources/https%3A%2F%2Fapi.example.com', 'admin:resources:write'],
  ['DELETE', '/admin/resources/https%3A%2F%2Fapi.example.com', 'admin:resources:write'],
  ['GET', '/admin/audit-events', 'admin:audit:read'],
] as const;

/** Every admin scope but authly:admin, and none at all. */
const SCOPES = [
  'admin:clients:read',
  'admin:clients:write',
  'admin:users:read',
  'admin:users:write',
  'admin:scopes:read',
  'admin:scopes:write',
  'admin:resources:read',
  'admin:resources:write',
  'admin:audit:read',
  '',
];

type Method = (typeof ROUTES)[number][0];

describe('admin API: authentication and authorization', () => {
  let t: TestApp;
  let admin: string;
  /** A client_credentials client per admin scope, plus one with no admin scope at all. */
  const scopedTokens = new Map<string, string>();

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    admin = await adminToken(t.app);
    const call = adminCall(t.app, admin);
    for (const scope of SCOPES) {
      const res = await call('POST', '/admin/clients', { client_name: `scoped ${scope}`, grant_types: ['client_credentials'], scope });
      const { client_id, client_secret } = res.json() as { client_id: string; client_secret: string };
      scopedTokens.set(scope, await tokenFor(t.app, client_id, client_secret));
    }
  });
  afterAll(() => t.close());

  const inject = (method: Method, url: string, authorization?: string, payload?: string) =>
    t.app.inject({
      method,
      url,
      headers: { ...(authorization ? { authorization } : {}), ...(payload ? { 'content-type': 'application/json' } : {}) },
      ...(payload ? { payload } : {}),
    });

  it.each(ROUTES)('%s %s without a token: 401 with a bare Bearer challenge', async (method, url) => {
    const res = await inject(method, url);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="authly"');
    expect(res.json()).toEqual({ error: 'invalid_token', error_description: 'a Bearer access token is required' });
  });

  it('Basic credentials are no credentials here: 401 with a bare Bearer challenge (RFC 6750 section 3.1)', async () => {
    const basic = `Basic ${Buffer.from(`${ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID}:${ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET}`).toString('base64')}`;
    const res = await inject('GET', '/admin/status', basic);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="authly"');
    expect(res.json()).toEqual({ error: 'invalid_token', error_description: 'a Bearer access token is required; the Authorization header uses another scheme' });
  });

  it.each([
    ['a forged JWT', 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', 'the access token is invalid, expired or revoked'],
    ['a Bearer scheme without a token', 'Bearer', 'the Authorization header must carry a Bearer access token'],
    ['a token with a space', 'Bearer abc def', 'the Authorization header must carry a Bearer access token'],
  ])('refuses %s with 401 invalid_token', async (_case, authorization, description) => {
    const res = await inject('GET', '/admin/status', authorization);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="authly", error="invalid_token", error_description="${description}"`);
    expect(res.json()).toEqual({ error: 'invalid_token', error_description: description });
  });

  it('authenticates before reading the body: malformed JSON without a token is 401', async () => {
    const res = await inject('POST', '/admin/clients', undefined, '{not json');
    expect(res.statusCode).toBe(401);
  });

  it('a token of a deactivated client stops working at once', async () => {
    const call = adminCall(t.app, admin);
    const created = (
      await call('POST', '/admin/clients', { client_name: 'soon inactive', grant_types: ['client_credentials'], scope: 'admin:scopes:read' })
    ).json() as { client_id: string; client_secret: string };
    const token = await tokenFor(t.app, created.client_id, created.client_secret);
    expect((await inject('GET', '/admin/scopes', `Bearer ${token}`)).statusCode).toBe(200);
    expect((await call('PATCH', `/admin/clients/${created.client_id}`, { is_active: false })).statusCode).toBe(200);
    expect((await inject('GET', '/admin/scopes', `Bearer ${token}`)).statusCode).toBe(401);
  });

  // Each route against each scoped token: allowed exactly when the token holds the route's scope
  // (or any admin scope for status and the OpenAPI document). A 403 never reaches the handler, so the resources need not exist.
  const cases = ROUTES.flatMap(([method, url, needed]) =>
    SCOPES.map(
      (scope) => [method, url, scope, needed === 'any' ? scope !== '' : scope === needed] as const,
    ),
  );
  it.each(cases)('%s %s with scope "%s": allowed=%s', async (method, url, scope, allowed) => {
    const body = method === 'POST' || method === 'PATCH' ? '{}' : undefined;
    const res = await inject(method, url, `Bearer ${scopedTokens.get(scope)!}`, body);
    if (allowed) {
      expect(res.statusCode).not.toBe(401);
      expect(res.statusCode).not.toBe(403);
      expect(res.statusCode).toBeLessThan(500);
    } else {
      const description = scope === '' && ROUTES.find(([m, u]) => m === method && u === url)![2] === 'any' ? 'the access token has no admin scope' : `the access token lacks the ${ROUTES.find(([m, u]) => m === method && u === url)![2]} scope`;
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ error: 'insufficient_scope', error_description: description });
      expect(res.headers['www-authenticate']).toBe(`Bearer realm="authly", error="insufficient_scope", error_description="${description}"`);
    }
  });

  it('refuses admin scopes on a token issued to a user who is not an administrator', async () => {
    const user = await createUser(t.app);
    const client = (await findClient(t.testDb.db, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID))!;
    const grantId = await insertGrant(t.testDb.db, {
      clientId: client.clientId,
      userId: user.id,
      scope: 'authly:admin',
      authTime: new Date(),
      sid: null,
      nonce: null,
    });
    const issued = await t.testDb.db.transaction((tx) =>
      issueTokens(t.app.ctx, tx, {
        client,
        scopes: ['authly:admin'],
        user: { userId: user.id, grantId, authTime: new Date(), sid: null, nonce: null },
        includeRefreshToken: false,
        includeIdToken: false,
      }),
    );
    const bearer = `Bearer ${issued.response.access_token}`;
    const res = await inject('GET', '/admin/status', bearer);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ error: 'insufficient_scope', error_description: 'the user of this access token is not an administrator' });

    await updateUser(t.testDb.db, user.id, { isAdmin: true });
    expect((await inject('GET', '/admin/status', bearer)).statusCode).toBe(200);
  });

  it('reports the version, the database kind and the counts', async () => {
    const res = await inject('GET', '/admin/status', `Bearer ${admin}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const count = async (table: string) => (await t.testDb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
    expect(res.json()).toEqual({
      version,
      database: t.testDb.db.kind,
      counts: { clients: await count('clients'), users: await count('users') },
    });
    // The admin client, the built-in clients (account page, authly admin login, console), one per scope above and the one deactivated above.
    expect((res.json() as { counts: { clients: number } }).counts.clients).toBe(SCOPES.length + 5);
  });

  it('rate-limits each client address', async () => {
    // Test apps run without rate limits (many requests from one address); this one turns them on.
    const limitedApp = await createTestApp({ ...ADMIN_ENV, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_ADMIN_PER_MINUTE: '20' });
    try {
      const from = (remoteAddress: string) => limitedApp.app.inject({ method: 'GET', url: '/admin/status', remoteAddress });
      for (let i = 0; i < 20; i++) expect((await from('192.0.2.7')).statusCode).toBe(401);
      const limited = await from('192.0.2.7');
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toMatchObject({ error: 'rate_limited' });
      expect((await from('192.0.2.8')).statusCode).toBe(401);
    } finally {
      await limitedApp.close();
    }
  });
});

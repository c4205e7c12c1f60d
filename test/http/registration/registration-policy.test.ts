import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_CLIENT_ID } from '../../../src/services/account/account-client.js';
import { RATE_LIMITED_BODY } from '../../../src/plugins/rate-limit.js';
import { findClient } from '../../../src/repositories/clients-repository.js';
import { metricValue, startReplica, uniqueRedisPrefix, type Replica } from '../../helpers/redis.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { createTestDb, TEST_DATABASE_URL, type TestDb } from '../../helpers/test-db.js';
import { testRedisUrl } from '../../helpers/tools.js';
import { adminCall, adminToken, ADMIN_ENV, ISO_TIMESTAMP, tokenFor } from '../admin/admin-helpers.js';
import { register, WEB_CLIENT } from './registration-helpers.js';

const INVALID_IAT = {
  error: 'invalid_token',
  error_description: 'the initial access token is not valid, expired or used up',
};

async function discovery(t: TestApp): Promise<Record<string, unknown>> {
  return (await t.app.inject('/.well-known/openid-configuration')).json() as Record<string, unknown>;
}

async function clientCount(t: TestApp): Promise<number> {
  return (await t.testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM clients')).rows[0]!.n;
}

describe('REGISTRATION_POLICY=closed', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ REGISTRATION_POLICY: 'closed' });
  });
  afterAll(() => t.close());

  it('is absent from discovery and the endpoint answers 403 access_denied, registering nothing', async () => {
    const doc = await discovery(t);
    expect(doc).not.toHaveProperty('registration_endpoint');
    const before = await clientCount(t);
    const res = await register(t.app, WEB_CLIENT);
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.json()).toEqual({ error: 'access_denied', error_description: 'dynamic client registration is not enabled on this server' });
    expect(await clientCount(t)).toBe(before);
  });
});

describe('REGISTRATION_POLICY=open', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ REGISTRATION_POLICY: 'open', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_REGISTRATION_PER_MINUTE: '3', RATE_LIMIT_MAX_REQUESTS: '2' });
  });
  afterAll(() => t.close());

  it('is advertised in discovery', async () => {
    expect((await discovery(t)).registration_endpoint).toBe(`${TEST_ISSUER}/oauth/register`);
  });

  it('is rate-limited per address by RATE_LIMIT_REGISTRATION_PER_MINUTE (the registration policy, not the general one)', async () => {
    const remoteAddress = '198.51.100.20';
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/oauth/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(WEB_CLIENT), remoteAddress });
      expect(res.statusCode).toBe(201);
      expect(res.headers['ratelimit-limit']).toBe('3');
    }
    const refused = await t.app.inject({ method: 'POST', url: '/oauth/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(WEB_CLIENT), remoteAddress });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual(RATE_LIMITED_BODY);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await metricValue(t.app, 'authly_rate_limit_exceeded_total', { policy: 'registration' })).toBe(1);
    // Another address registers.
    const other = await t.app.inject({ method: 'POST', url: '/oauth/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(WEB_CLIENT), remoteAddress: '198.51.100.21' });
    expect(other.statusCode).toBe(201);
  });
});

const redisUrl = testRedisUrl();

describe.skipIf(!redisUrl)('the registration rate limit is shared by replicas through Redis', () => {
  let testDb: TestDb;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    testDb = await createTestDb();
    const env = { REGISTRATION_POLICY: 'open', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_REGISTRATION_PER_MINUTE: '3', REDIS_URL: redisUrl!, AUTHLY_REDIS_KEY_PREFIX: uniqueRedisPrefix() };
    a = await startReplica(testDb.db, env);
    b = await startReplica(testDb.db, env);
    await a.app.ctx.clients.whenUsable();
    await b.app.ctx.clients.whenUsable();
  });
  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await testDb?.drop();
  });

  it('three registrations on either replica use up the address, the fourth is refused on both', async () => {
    const post = (app: Replica['app']) =>
      app.inject({ method: 'POST', url: '/oauth/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(WEB_CLIENT), remoteAddress: '198.51.100.30' });
    expect((await post(a.app)).statusCode).toBe(201);
    expect((await post(b.app)).statusCode).toBe(201);
    expect((await post(a.app)).statusCode).toBe(201);
    expect((await post(b.app)).statusCode).toBe(429);
    expect((await post(a.app)).statusCode).toBe(429);
  });
});

describe('REGISTRATION_POLICY=initial-access-token', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, REGISTRATION_POLICY: 'initial-access-token' });
    call = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t.close());

  async function mint(body: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
    const res = await call('POST', '/admin/registration-tokens', body);
    expect(res.statusCode).toBe(201);
    return res.json() as { id: string; token: string };
  }

  it('is advertised in discovery; without a token the endpoint answers 401 with a Bearer challenge', async () => {
    expect((await discovery(t)).registration_endpoint).toBe(`${TEST_ISSUER}/oauth/register`);
    const missing = await register(t.app, WEB_CLIENT);
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="authly"');
    expect(missing.json()).toEqual({ error: 'invalid_token', error_description: 'a Bearer access token is required' });
    const bogus = await register(t.app, WEB_CLIENT, { authorization: `Bearer ${'x'.repeat(43)}` });
    expect(bogus.statusCode).toBe(401);
    expect(bogus.json()).toEqual(INVALID_IAT);
  });

  it('mints a token through the admin API (shown once, stored hashed) and lists it without the token', async () => {
    const res = await call('POST', '/admin/registration-tokens', { description: 'MCP rollout', expires_in: '7d', max_uses: 5 });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json() as Record<string, string>;
    expect(body).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
      description: 'MCP rollout',
      max_uses: 5,
      uses: 0,
      expires_at: expect.stringMatching(ISO_TIMESTAMP),
      revoked_at: null,
      created_at: expect.stringMatching(ISO_TIMESTAMP),
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const days = (Date.parse(body.expires_at!) - Date.parse(body.created_at!)) / 86_400_000;
    expect(days).toBeCloseTo(7, 3);
    const stored = JSON.stringify((await t.testDb.db.query('SELECT * FROM initial_access_tokens')).rows);
    expect(stored).not.toContain(body.token!);
    const listed = await call('GET', '/admin/registration-tokens');
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(body.token!);
    const { token: _token, ...shown } = body;
    expect((listed.json() as { items: unknown[] }).items).toContainEqual(shown);
  });

  it('refuses bad token settings with validation_failed', async () => {
    const res = await call('POST', '/admin/registration-tokens', { expires_in: '3 weeks', max_uses: 0, extra: 1 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'validation_failed',
      message: 'the request body is not valid',
      fields: { expires_in: 'expected seconds or a duration such as 90m, 12h or 30d', max_uses: 'expected at least 1', extra: 'unknown field' },
    });
  });

  it('each registration takes one use; when used up, registrations are refused and nothing is written', async () => {
    const { id, token } = await mint({ max_uses: 2 });
    const auth = { authorization: `Bearer ${token}` };
    expect((await register(t.app, WEB_CLIENT, auth)).statusCode).toBe(201);
    // A refused registration does not take a use.
    expect((await register(t.app, { redirect_uris: ['http://bad.example.com/'] }, auth)).statusCode).toBe(400);
    expect((await register(t.app, WEB_CLIENT, auth)).statusCode).toBe(201);
    const before = await clientCount(t);
    const third = await register(t.app, WEB_CLIENT, auth);
    expect(third.statusCode).toBe(401);
    expect(third.json()).toEqual(INVALID_IAT);
    expect(await clientCount(t)).toBe(before);
    const listed = (await call('GET', '/admin/registration-tokens?limit=200')).json() as { items: { id: string; uses: number }[] };
    expect(listed.items.find((item) => item.id === id)).toMatchObject({ uses: 2, max_uses: 2 });
  });

  it('an expired or revoked token is refused', async () => {
    const expiring = await mint({ expires_in: 3600 });
    await t.testDb.db.query("UPDATE initial_access_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [expiring.id]);
    const expired = await register(t.app, WEB_CLIENT, { authorization: `Bearer ${expiring.token}` });
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toEqual(INVALID_IAT);

    const revoking = await mint();
    expect((await register(t.app, WEB_CLIENT, { authorization: `Bearer ${revoking.token}` })).statusCode).toBe(201);
    const revoked = await call('POST', `/admin/registration-tokens/${revoking.id}/revoke`);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ id: revoking.id, uses: 1, max_uses: null, revoked_at: expect.stringMatching(ISO_TIMESTAMP) });
    expect((await register(t.app, WEB_CLIENT, { authorization: `Bearer ${revoking.token}` })).json()).toEqual(INVALID_IAT);
    const unknown = await call('POST', '/admin/registration-tokens/no-such-token/revoke');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: 'not_found', message: 'registration token not found' });
  });

  it('admin:clients:write suffices to mint (such a token registers only ordinary clients); admin:clients:read does not', async () => {
    const make = async (scope: string) => {
      const created = (await call('POST', '/admin/clients', { client_name: scope, grant_types: ['client_credentials'], scope })).json() as { client_id: string; client_secret: string };
      return adminCall(t.app, await tokenFor(t.app, created.client_id, created.client_secret, scope));
    };
    const writer = await make('admin:clients:write');
    const minted = await writer('POST', '/admin/registration-tokens', {});
    expect(minted.statusCode).toBe(201);
    const reader = await make('admin:clients:read');
    const denied = await reader('POST', '/admin/registration-tokens', {});
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toEqual({ error: 'insufficient_scope', error_description: 'the access token lacks the admin:clients:write scope' });
    expect((await reader('GET', '/admin/registration-tokens')).statusCode).toBe(200);
    // Whatever the minting admin holds, a registration with the token cannot ask for an admin scope.
    const { token } = minted.json() as { token: string };
    const res = await register(t.app, { grant_types: ['client_credentials'], scope: 'admin:clients:write' }, { authorization: `Bearer ${token}` });
    expect(res.json()).toEqual({ error: 'invalid_client_metadata', error_description: 'scope: admin scopes cannot be registered: admin:clients:write' });
  });

  it(`a race of N+1 registrations with max_uses N registers exactly N (${TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, async () => {
    const N = 5;
    const { id, token } = await mint({ max_uses: N });
    const before = await clientCount(t);
    const results = await Promise.all(
      Array.from({ length: 3 * N }, () => register(t.app, WEB_CLIENT, { authorization: `Bearer ${token}` })),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([...Array<number>(N).fill(201), ...Array<number>(2 * N).fill(401)]);
    expect(await clientCount(t)).toBe(before + N);
    const row = (await t.testDb.db.query<{ uses: number }>('SELECT uses FROM initial_access_tokens WHERE id = $1', [id])).rows[0]!;
    expect(row.uses).toBe(N);
  });
});

describe('dynamic clients in the admin API', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;
  let dynamic: { client_id: string; client_secret: string; registration_access_token: string };

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, REGISTRATION_POLICY: 'open' });
    call = adminCall(t.app, await adminToken(t.app));
    await t.testDb.db.query("INSERT INTO scopes (name, description) VALUES ('mcp:tools', 'Use the tools')");
    dynamic = (await register(t.app, { client_name: 'Agent', grant_types: ['client_credentials'], scope: 'mcp:tools' })).json() as typeof dynamic;
    await t.testDb.db.query(
      `INSERT INTO clients (client_id, client_name, client_type, token_endpoint_auth_method, grant_types, response_types, redirect_uris, registration_type)
       VALUES ('https://mcp.example.com/client.json', 'CIMD', 'public', 'none', '{authorization_code}', '{code}', '{https://mcp.example.com/cb}', 'metadata_document')`,
    );
  });
  afterAll(() => t.close());

  it('shows registration_type and filters the list by it', async () => {
    const all = (await call('GET', '/admin/clients?limit=200')).json() as { items: { client_id: string; registration_type: string }[] };
    // Newest first.
    expect(all.items.map((c) => [c.client_id, c.registration_type])).toEqual([
      ['https://mcp.example.com/client.json', 'metadata_document'],
      [dynamic.client_id, 'dynamic'],
      ['authly-console', 'admin'],
      ['authly-cli', 'admin'],
      [ACCOUNT_CLIENT_ID, 'admin'],
      [ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, 'admin'],
    ]);
    const dynamicOnly = await call('GET', '/admin/clients?registration_type=dynamic');
    expect(dynamicOnly.statusCode).toBe(200);
    expect(dynamicOnly.json()).toEqual({ limit: 50, next_cursor: null, items: [expect.objectContaining({ client_id: dynamic.client_id, registration_type: 'dynamic', skip_consent: false, require_pkce: true })] });
    expect((await call('GET', '/admin/clients?registration_type=metadata_document')).json()).toMatchObject({ items: [{ registration_type: 'metadata_document' }], next_cursor: null });
    expect(((await call('GET', '/admin/clients?registration_type=admin')).json() as { items: unknown[] }).items).toHaveLength(4);
    const bad = await call('GET', '/admin/clients?registration_type=manual');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({
      error: 'validation_failed',
      message: 'the query parameters are not valid',
      fields: { registration_type: 'expected one of "admin"|"dynamic"|"metadata_document"' },
    });
  });

  it('records last_used_at at the first token, not again the same day; admin clients are not tracked', async () => {
    const issue = () => tokenFor(t.app, dynamic.client_id, dynamic.client_secret, 'mcp:tools');
    await issue();
    // Written in the background: wait for it.
    let lastUsed: Date | null = null;
    for (let i = 0; i < 200 && lastUsed === null; i++) {
      lastUsed = (await findClient(t.testDb.db, dynamic.client_id))!.lastUsedAt;
      if (lastUsed === null) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(lastUsed).toBeInstanceOf(Date);
    const shown = (await call('GET', `/admin/clients/${dynamic.client_id}`)).json() as { last_used_at: string };
    expect(shown.last_used_at).toBe(lastUsed!.toISOString());
    await issue();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await findClient(t.testDb.db, dynamic.client_id))!.lastUsedAt).toEqual(lastUsed);
    expect((await findClient(t.testDb.db, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID))!.lastUsedAt).toBeNull();
  });

  it('an administrator disables and deletes a dynamic client like any other; its registration token then fails', async () => {
    const disabled = await call('PATCH', `/admin/clients/${dynamic.client_id}`, { is_active: false });
    expect(disabled.statusCode).toBe(200);
    const refused = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: dynamic.client_id, client_secret: dynamic.client_secret }).toString(),
    });
    expect(refused.statusCode).toBe(401);
    expect((await call('DELETE', `/admin/clients/${dynamic.client_id}`)).statusCode).toBe(204);
    const read = await t.app.inject({ method: 'GET', url: `/oauth/register/${dynamic.client_id}`, headers: { authorization: `Bearer ${dynamic.registration_access_token}` } });
    expect(read.statusCode).toBe(401);
  });
});

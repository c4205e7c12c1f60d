import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { adminCall, adminToken, ADMIN_ENV, requestToken } from '../http/admin/admin-helpers.js';
import { basicAuth } from '../helpers/fixtures.js';
import { FORM } from '../helpers/oauth-flow.js';
import { metricValue, startReplica, uniqueRedisPrefix, type Replica } from '../helpers/redis.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { testRedisUrl } from '../helpers/tools.js';

/**
 * Issue 4's check: two Authly instances over one database and one Redis behave as one deployment. Each has
 * its own client cache (L1), Redis connections and rate-limit hook, exactly like two pods; they share the
 * database (one PGlite, or one PostgreSQL schema) and a Redis key prefix of their own.
 */
const redisUrl = testRedisUrl();

describe.skipIf(!redisUrl)('two replicas on one database and one Redis', () => {
  let testDb: TestDb;
  let a: Replica;
  let b: Replica;
  let adminA: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    testDb = await createTestDb();
    const env = {
      ...ADMIN_ENV,
      REDIS_URL: redisUrl!,
      AUTHLY_REDIS_KEY_PREFIX: uniqueRedisPrefix(),
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_MAX_REQUESTS: '100',
      RATE_LIMIT_WINDOW_SECONDS: '600',
    };
    a = await startReplica(testDb.db, env);
    b = await startReplica(testDb.db, env);
    await Promise.all([a.app.ctx.clients.whenUsable(), b.app.ctx.clients.whenUsable()]);
    adminA = adminCall(a.app, await adminToken(a.app));
  });
  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await testDb?.drop();
  });

  async function newClient(): Promise<{ id: string; secret: string }> {
    const res = await adminA('POST', '/admin/clients', { client_name: 'Replicated', grant_types: ['client_credentials'], scope: '' });
    expect(res.statusCode).toBe(201);
    const body = res.json() as { client_id: string; client_secret: string };
    return { id: body.client_id, secret: body.client_secret };
  }

  const clientHits = (app: FastifyInstance) => metricValue(app, 'authly_cache_requests_total', { cache: 'clients', result: 'hit' });

  it('shares the general rate limit: 100 per address across both replicas, not per replica', async () => {
    const remoteAddress = '203.0.113.77';
    const get = (app: FastifyInstance) => app.inject({ method: 'GET', url: '/.well-known/openid-configuration', remoteAddress });
    for (let i = 0; i < 50; i++) {
      expect((await get(a.app)).statusCode).toBe(200);
      expect((await get(b.app)).statusCode).toBe(200);
    }
    // A has answered only 50 of them itself, yet refuses the 101st.
    const refused = await get(a.app);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({ error: 'rate_limited', error_description: 'too many requests; try again later' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(500);
    expect((await get(b.app)).statusCode).toBe(429);
    expect(await metricValue(b.app, 'authly_rate_limit_exceeded_total', { policy: 'general' })).toBe(1);
  });

  it('a client created through A is usable through B at once', async () => {
    const client = await newClient();
    expect((await requestToken(b.app, client.id, client.secret)).statusCode).toBe(200);
  });

  it('a secret rotated through A is refused by B at once, although B had the client cached', async () => {
    const client = await newClient();
    expect((await requestToken(b.app, client.id, client.secret)).statusCode).toBe(200);
    const hitsBefore = (await clientHits(b.app)) ?? 0;
    expect((await requestToken(b.app, client.id, client.secret)).statusCode).toBe(200);
    expect(await clientHits(b.app)).toBeGreaterThan(hitsBefore); // B answered from its cache

    const rotated = await adminA('POST', `/admin/clients/${client.id}/rotate-secret`);
    expect(rotated.statusCode).toBe(200);
    const old = await requestToken(b.app, client.id, client.secret);
    expect(old.statusCode).toBe(401);
    expect(old.json()).toMatchObject({ error: 'invalid_client' });
    expect((await requestToken(b.app, client.id, (rotated.json() as { client_secret: string }).client_secret)).statusCode).toBe(200);
  });

  it('a client disabled, then deleted, through A is refused by B at once', async () => {
    const client = await newClient();
    for (let i = 0; i < 2; i++) expect((await requestToken(b.app, client.id, client.secret)).statusCode).toBe(200);
    expect((await adminA('PATCH', `/admin/clients/${client.id}`, { is_active: false })).statusCode).toBe(200);
    expect((await requestToken(b.app, client.id, client.secret)).statusCode).toBe(401);

    expect((await adminA('PATCH', `/admin/clients/${client.id}`, { is_active: true })).statusCode).toBe(200);
    expect((await requestToken(b.app, client.id, client.secret)).statusCode).toBe(200);
    expect((await adminA('DELETE', `/admin/clients/${client.id}`)).statusCode).toBe(204);
    expect((await requestToken(b.app, client.id, client.secret)).statusCode).toBe(401);
  });

  it('a token revoked through A is inactive at B at once', async () => {
    const client = await newClient();
    const token = (await requestToken(b.app, client.id, client.secret)).json() as { access_token: string };
    const introspect = () =>
      b.app.inject({
        method: 'POST',
        url: '/oauth/introspect',
        headers: { ...FORM, authorization: basicAuth(client.id, client.secret) },
        payload: new URLSearchParams({ token: token.access_token }).toString(),
      });
    expect((await introspect()).json()).toMatchObject({ active: true, client_id: client.id });
    const revoked = await a.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { ...FORM, authorization: basicAuth(client.id, client.secret) },
      payload: new URLSearchParams({ token: token.access_token }).toString(),
    });
    expect(revoked.statusCode).toBe(200);
    expect((await introspect()).json()).toEqual({ active: false });
  });
});

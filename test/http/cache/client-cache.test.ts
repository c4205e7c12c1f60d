import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, adminToken, ADMIN_ENV, requestToken } from '../admin/admin-helpers.js';
import { metricValue } from '../../helpers/redis.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

/**
 * One instance without Redis: the client cache is in-process (L1 only) and exact, because every admin
 * write passes through this process. Client authentication at the token endpoint reads through it.
 */
describe('client cache without Redis (one instance)', () => {
  let t: TestApp;
  let admin: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    admin = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t.close());

  const clients = (result: string) => metricValue(t.app, 'authly_cache_requests_total', { cache: 'clients', result });

  async function newClient(clientId?: string) {
    const res = await admin('POST', '/admin/clients', { client_name: 'Cached', grant_types: ['client_credentials'], scope: '', ...(clientId ? { client_id: clientId } : {}) });
    expect(res.statusCode).toBe(201);
    const body = res.json() as { client_id: string; client_secret: string };
    return { id: body.client_id, secret: body.client_secret };
  }

  it('reports readiness with redis disabled and no authly_redis_up series', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/health/ready' })).json()).toEqual({
      status: 'ready',
      checks: {
        database: 'ok',
        redis: 'disabled',
        mail: { delivery: 'dev-files', worker: false, queued: 0, oldest_queued_age_seconds: 0, last_error: null },
        backchannel_logout: { enabled: true, worker: false, queued: 0, oldest_queued_age_seconds: 0, last_error: null },
      },
    });
    expect(await metricValue(t.app, 'authly_redis_up')).toBeUndefined();
    expect(await metricValue(t.app, 'authly_database_up')).toBe(1);
  });

  it('serves repeated client authentications from the cache', async () => {
    const client = await newClient();
    const hits = (await clients('hit')) ?? 0;
    const misses = (await clients('miss')) ?? 0;
    for (let i = 0; i < 3; i++) expect((await requestToken(t.app, client.id, client.secret)).statusCode).toBe(200);
    expect(await clients('miss')).toBe(misses + 1);
    expect(await clients('hit')).toBe(hits + 2);
  });

  it('caches scopes for token requests, and forgets a deleted scope at once', async () => {
    const scopes = (result: string) => metricValue(t.app, 'authly_cache_requests_total', { cache: 'scopes', result });
    expect((await admin('POST', '/admin/scopes', { name: 'cached:read', description: 'Cached' })).statusCode).toBe(201);
    const res = await admin('POST', '/admin/clients', { client_name: 'Scoped', grant_types: ['client_credentials'], scope: 'cached:read' });
    const client = res.json() as { client_id: string; client_secret: string };
    const misses = (await scopes('miss')) ?? 0;
    const hits = (await scopes('hit')) ?? 0;
    for (let i = 0; i < 3; i++) expect((await requestToken(t.app, client.client_id, client.client_secret, 'cached:read')).statusCode).toBe(200);
    expect(await scopes('miss')).toBe(misses + 1);
    expect(await scopes('hit')).toBe(hits + 2);

    expect((await admin('PATCH', `/admin/clients/${client.client_id}`, { scope: '' })).statusCode).toBe(200);
    expect((await admin('DELETE', '/admin/scopes/cached:read')).statusCode).toBe(204);
    expect((await admin('POST', '/admin/scopes', { name: 'cached:read', description: 'Again' })).statusCode).toBe(201);
    expect((await admin('PATCH', `/admin/clients/${client.client_id}`, { scope: 'cached:read' })).statusCode).toBe(200);
    expect((await requestToken(t.app, client.client_id, client.client_secret, 'cached:read')).statusCode).toBe(200);
    // Read again from the database: the deletion dropped the cached row.
    expect(await scopes('miss')).toBe(misses + 2);
  });

  it('does not remember an unknown client: created afterwards, it works at once', async () => {
    const clientId = 'created-after-a-miss';
    expect((await requestToken(t.app, clientId, 'anything')).statusCode).toBe(401);
    const client = await newClient(clientId);
    expect((await requestToken(t.app, client.id, client.secret)).statusCode).toBe(200);
  });

  it('refuses a rotated secret, a disabled and a deleted client at once, although they were cached', async () => {
    const client = await newClient();
    for (let i = 0; i < 2; i++) expect((await requestToken(t.app, client.id, client.secret)).statusCode).toBe(200);
    const rotated = await admin('POST', `/admin/clients/${client.id}/rotate-secret`);
    const secret = (rotated.json() as { client_secret: string }).client_secret;
    expect((await requestToken(t.app, client.id, client.secret)).statusCode).toBe(401);
    expect((await requestToken(t.app, client.id, secret)).statusCode).toBe(200);

    expect((await admin('PATCH', `/admin/clients/${client.id}`, { is_active: false })).statusCode).toBe(200);
    expect((await requestToken(t.app, client.id, secret)).statusCode).toBe(401);
    expect((await admin('PATCH', `/admin/clients/${client.id}`, { is_active: true })).statusCode).toBe(200);
    expect((await requestToken(t.app, client.id, secret)).statusCode).toBe(200);
    expect((await admin('DELETE', `/admin/clients/${client.id}`)).statusCode).toBe(204);
    expect((await requestToken(t.app, client.id, secret)).statusCode).toBe(401);
  });
});

describe('client cache with several workers and no Redis', () => {
  let t: TestApp;

  beforeAll(async () => {
    // WORKERS > 1 needs DATABASE_URL to load; the cache mode only looks at REDIS_URL and WORKERS.
    t = await createTestApp({ ...ADMIN_ENV, WORKERS: '2', DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused' });
  });
  afterAll(() => t.close());

  it('is off (workers could not hear each other\'s invalidations): every lookup is a bypass', async () => {
    await adminToken(t.app);
    await adminToken(t.app);
    expect(await metricValue(t.app, 'authly_cache_requests_total', { cache: 'clients', result: 'hit' })).toBeUndefined();
    expect(await metricValue(t.app, 'authly_cache_requests_total', { cache: 'clients', result: 'bypass' })).toBe(2);
  });
});

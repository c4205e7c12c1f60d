import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, adminToken, ADMIN_ENV, requestToken } from '../http/admin/admin-helpers.js';
import { freePort } from '../helpers/e2e-server.js';
import { logEvents, metricValue, startRedisServer, uniqueRedisPrefix, type RedisServer } from '../helpers/redis.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { hasTool } from '../helpers/tools.js';

/**
 * Issue 4's outage check with a redis-server of our own: Redis dies while Authly runs; requests keep
 * succeeding (cache bypassed, rate limits per process), readiness stays 200 and says so, authly_redis_up
 * drops to 0, one log line is written however many reconnect attempts fail; then the server comes back on
 * the same port and Authly recovers by itself.
 */
/** The back-channel logout queue of these tests: empty, its worker off as in every test app. */
const BACKCHANNEL_IDLE = { enabled: true, worker: false, queued: 0, oldest_queued_age_seconds: 0, last_error: null };

describe.skipIf(!hasTool('redis-server'))('Redis outage', () => {
  let redis: RedisServer;
  let t: TestApp;
  let client: { id: string; secret: string };

  beforeAll(async () => {
    redis = await startRedisServer(await freePort());
    t = await createTestApp({
      ...ADMIN_ENV,
      REDIS_URL: redis.url,
      AUTHLY_REDIS_KEY_PREFIX: uniqueRedisPrefix(),
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_MAX_REQUESTS: '1000',
    });
    await t.app.ctx.clients.whenUsable();
    const admin = adminCall(t.app, await adminToken(t.app));
    const res = await admin('POST', '/admin/clients', { client_name: 'Outage', grant_types: ['client_credentials'], scope: '' });
    const body = res.json() as { client_id: string; client_secret: string };
    client = { id: body.client_id, secret: body.client_secret };
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const ready = async () => (await t.app.inject({ method: 'GET', url: '/health/ready' })).json() as { status: string; checks: Record<string, unknown> };
  const clientCache = (result: string) => metricValue(t.app, 'authly_cache_requests_total', { cache: 'clients', result });

  it('serves from the cache and reports Redis while it is up', async () => {
    for (let i = 0; i < 3; i++) expect((await requestToken(t.app, client.id, client.secret)).statusCode).toBe(200);
    expect(await clientCache('hit')).toBeGreaterThan(0);
    expect(await ready()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok', mail: { delivery: 'dev-files', worker: false, queued: 0, oldest_queued_age_seconds: 0, last_error: null }, backchannel_logout: BACKCHANNEL_IDLE } });
    expect(await metricValue(t.app, 'authly_redis_up')).toBe(1);
    expect(logEvents(t.logs, 'redis.up')).toHaveLength(1);
  });

  it('keeps serving when Redis dies: cache bypassed, readiness 200 with redis unavailable, one log line', async () => {
    const down = t.app.ctx.redis!.waitFor('down');
    await redis.stop();
    await down;
    // Let the driver fail a few reconnect attempts: each must stay silent.
    let attempts = 0;
    await new Promise<void>((resolve) => {
      const onAttempt = () => {
        if (++attempts < 3) return;
        t.app.ctx.redis!.client.off('reconnecting', onAttempt);
        resolve();
      };
      t.app.ctx.redis!.client.on('reconnecting', onAttempt);
    });

    const bypassBefore = (await clientCache('bypass')) ?? 0;
    for (let i = 0; i < 5; i++) expect((await requestToken(t.app, client.id, client.secret)).statusCode).toBe(200);
    expect(await clientCache('bypass')).toBe(bypassBefore + 5);
    expect(await ready()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'unavailable', mail: { delivery: 'dev-files', worker: false, queued: 0, oldest_queued_age_seconds: 0, last_error: null }, backchannel_logout: BACKCHANNEL_IDLE } });
    expect(await metricValue(t.app, 'authly_redis_up')).toBe(0);
    expect(logEvents(t.logs, 'redis.down')).toHaveLength(1);
    expect(logEvents(t.logs, 'redis.down')[0]).toMatchObject({ level: 40, msg: expect.stringContaining('redis unavailable') });
  });

  it('still limits per process while Redis is down (the fallback is a real limit, not a skip)', async () => {
    const remoteAddress = '198.51.100.23';
    const statuses: number[] = [];
    for (let i = 0; i < 1001; i++) {
      statuses.push((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', remoteAddress })).statusCode);
    }
    expect(statuses.slice(0, 1000).every((s) => s === 200)).toBe(true);
    expect(statuses[1000]).toBe(429);
  });

  it('recovers by itself when Redis comes back on the same port', async () => {
    const up = t.app.ctx.redis!.waitFor('up');
    redis = await startRedisServer(redis.port);
    await up;
    await t.app.ctx.clients.whenUsable();
    expect(await ready()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok', mail: { delivery: 'dev-files', worker: false, queued: 0, oldest_queued_age_seconds: 0, last_error: null }, backchannel_logout: BACKCHANNEL_IDLE } });
    expect(await metricValue(t.app, 'authly_redis_up')).toBe(1);
    expect(logEvents(t.logs, 'redis.up')).toHaveLength(2);
    expect(logEvents(t.logs, 'redis.up')[1]).toMatchObject({ msg: 'redis recovered' });
    expect(logEvents(t.logs, 'redis.down')).toHaveLength(1);

    const hitsBefore = (await clientCache('hit')) ?? 0;
    for (let i = 0; i < 3; i++) expect((await requestToken(t.app, client.id, client.secret)).statusCode).toBe(200);
    expect(await clientCache('hit')).toBeGreaterThan(hitsBefore);
  });
});

describe.skipIf(!hasTool('redis-server'))('Redis down at start-up', () => {
  it('starts and serves without it, then connects by itself when it appears', async () => {
    const port = await freePort();
    const t = await createTestApp({ ...ADMIN_ENV, REDIS_URL: `redis://127.0.0.1:${port}`, AUTHLY_REDIS_KEY_PREFIX: uniqueRedisPrefix() });
    let server: RedisServer | undefined;
    try {
      await t.app.ctx.redis!.waitFor('down');
      expect((await requestToken(t.app, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET)).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/health/ready' })).json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'unavailable', mail: { delivery: 'dev-files', worker: false, queued: 0, oldest_queued_age_seconds: 0, last_error: null }, backchannel_logout: BACKCHANNEL_IDLE } });

      const up = t.app.ctx.redis!.waitFor('up');
      server = await startRedisServer(port);
      await up;
      await t.app.ctx.clients.whenUsable();
      expect((await t.app.inject({ method: 'GET', url: '/health/ready' })).json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok', mail: { delivery: 'dev-files', worker: false, queued: 0, oldest_queued_age_seconds: 0, last_error: null }, backchannel_logout: BACKCHANNEL_IDLE } });
      expect(logEvents(t.logs, 'redis.down')).toHaveLength(1);
      expect(logEvents(t.logs, 'redis.up')).toHaveLength(1);
    } finally {
      await t.close();
      await server?.stop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/e2e-server.js';
import { uniqueRedisPrefix } from '../helpers/redis.js';
import { baseServerEnv, buildServer, createScratchDatabase, logFields, spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { TEST_DATABASE_URL } from '../helpers/test-db.js';
import { testRedisUrl } from '../helpers/tools.js';

/**
 * Issue 4's check with real processes: two `node dist/main.js` servers on one PostgreSQL database and one
 * Redis, as two pods behind a load balancer (same issuer, same secrets). PostgreSQL only: an embedded
 * PGlite cannot be shared by processes (test/e2e/two-replicas.test.ts runs the same checks in-process on
 * both databases).
 */
const redisUrl = testRedisUrl();
const ADMIN = { id: 'replica-admin', secret: 'replica-admin-secret-0123456789abcdef' };
const GENERAL_LIMIT = 60;

describe.skipIf(!TEST_DATABASE_URL || !redisUrl)('two Authly processes on one PostgreSQL and one Redis', () => {
  let build: ReturnType<typeof buildServer>;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  const servers: { process: ServerProcess; origin: string }[] = [];
  /**
   * Every request this test sent that counts against the general limit (all from 127.0.0.1; the token
   * endpoint and the admin API have policies of their own and do not).
   */
  let sent = 0;

  beforeAll(async () => {
    build = buildServer();
    database = await createScratchDatabase();
    const ports = [await freePort(), await freePort()];
    const prefix = uniqueRedisPrefix();
    // One after the other: the first applies the migrations.
    for (const port of ports) {
      const server = spawnServer(build.main, {
        ...baseServerEnv(port, ports[0]!),
        AUTHLY_ADMIN_CLIENT_ID: ADMIN.id,
        AUTHLY_ADMIN_CLIENT_SECRET: ADMIN.secret,
        DATABASE_URL: database!.url,
        DATABASE_POOL_MAX: '3',
        REDIS_URL: redisUrl!,
        AUTHLY_REDIS_KEY_PREFIX: prefix,
        RATE_LIMIT_MAX_REQUESTS: String(GENERAL_LIMIT),
        RATE_LIMIT_WINDOW_SECONDS: '600',
        CLEANUP_INTERVAL_MINUTES: '0',
        LOG_LEVEL: 'info',
      });
      await server.waitForLine((l) => l.includes('Authly is running'), 90_000);
      await server.waitForLine((l) => logFields(l)?.event === 'redis.up', 30_000);
      servers.push({ process: server, origin: `http://127.0.0.1:${port}` });
    }
  }, 180_000);

  afterAll(async () => {
    for (const { process: server } of servers) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await database?.drop();
    build?.cleanup();
  }, 60_000);

  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  async function call(replica: 0 | 1, url: string, init: RequestInit = {}): Promise<Response> {
    if (!(init.method === 'POST' && url === '/oauth/token') && !url.startsWith('/admin')) sent++;
    return fetch(servers[replica]!.origin + url, init);
  }
  const form = (replica: 0 | 1, url: string, auth: string, body: Record<string, string>) =>
    call(replica, url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: new URLSearchParams(body).toString(),
    });
  const token = (replica: 0 | 1, id: string, secret: string, scope?: string) =>
    form(replica, '/oauth/token', basic(id, secret), { grant_type: 'client_credentials', ...(scope ? { scope } : {}) });

  async function admin(method: string, url: string, body?: unknown): Promise<Response> {
    const res = await token(0, ADMIN.id, ADMIN.secret, 'authly:admin');
    const { access_token } = (await res.json()) as { access_token: string };
    return call(0, url, {
      method,
      headers: { authorization: `Bearer ${access_token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  }

  it('a client created through one is usable through the other at once; rotation and revocation likewise', async () => {
    const created = (await (await admin('POST', '/admin/clients', { client_name: 'Two processes', grant_types: ['client_credentials'], scope: '' })).json()) as {
      client_id: string;
      client_secret: string;
    };
    const issued = await token(1, created.client_id, created.client_secret);
    expect(issued.status).toBe(200);
    expect((await token(1, created.client_id, created.client_secret)).status).toBe(200); // now from B's cache

    const { access_token } = (await issued.json()) as { access_token: string };
    const auth = basic(created.client_id, created.client_secret);
    expect(await (await form(1, '/oauth/introspect', auth, { token: access_token })).json()).toMatchObject({ active: true });
    expect((await form(0, '/oauth/revoke', auth, { token: access_token })).status).toBe(200);
    expect(await (await form(1, '/oauth/introspect', auth, { token: access_token })).json()).toEqual({ active: false });

    const rotated = await admin('POST', `/admin/clients/${created.client_id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect((await token(1, created.client_id, created.client_secret)).status).toBe(401);
    expect((await token(1, created.client_id, ((await rotated.json()) as { client_secret: string }).client_secret)).status).toBe(200);
  });

  it('shares the general rate limit: the first 429 comes after RATE_LIMIT_MAX_REQUESTS requests in total', async () => {
    const answered = [0, 0];
    let refused: Response | undefined;
    for (let i = 0; sent < GENERAL_LIMIT + 5 && !refused; i++) {
      const replica = (i % 2) as 0 | 1;
      const res = await call(replica, '/.well-known/openid-configuration');
      if (res.status === 429) refused = res;
      else answered[replica]!++;
    }
    expect(refused?.status).toBe(429);
    expect(sent).toBe(GENERAL_LIMIT + 1);
    // Neither process saw the limit's worth of requests by itself.
    expect(Math.max(...answered)).toBeLessThan(GENERAL_LIMIT);
    expect(await refused!.json()).toEqual({ error: 'rate_limited', error_description: 'too many requests; try again later' });
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/config.js';
import type { Db } from '../../../src/db/db.js';
import { openPostgres } from '../../../src/db/postgres-driver.js';
import { startFaultyDbProxy, type FaultyDbProxy } from '../../helpers/faulty-db-proxy.js';
import { basicAuth, createClient, REDIRECT_URI, pkcePair } from '../../helpers/fixtures.js';
import { TEST_ISSUER } from '../../helpers/test-app.js';
import { createTestDb, TEST_DATABASE_URL, type TestDb } from '../../helpers/test-db.js';

const ADMIN_ID = 'outage-admin';
const ADMIN_SECRET = 'outage-admin-secret-0123456789';

/**
 * SECURITY.md: a database that is down gives 503 with Retry-After (temporarily_unavailable), never 500.
 * The app reaches PostgreSQL through a TCP proxy that the test cuts (every connection reset, as during a
 * restart) and restores. PostgreSQL only: PGlite runs in-process and has no connection to lose (its closed
 * instance is covered by the unit tests of the classification).
 */
describe.skipIf(!TEST_DATABASE_URL)('database outage (PostgreSQL behind a cuttable proxy)', () => {
  let testDb: TestDb;
  let proxy: FaultyDbProxy;
  let db: Db;
  let app: FastifyInstance;
  let client: { clientId: string; clientSecret?: string };
  let adminToken: string;

  const tokenRequest = () =>
    app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { authorization: basicAuth(ADMIN_ID, ADMIN_SECRET), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&scope=authly%3Aadmin',
    });

  beforeAll(async () => {
    testDb = await createTestDb();
    proxy = await startFaultyDbProxy(TEST_DATABASE_URL!);
    db = openPostgres({ url: proxy.url, max: 4, searchPath: testDb.schema });
    const config = loadConfig({
      DEFAULT_ISSUER_URL: TEST_ISSUER,
      AUTHLY_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'authly-outage-')),
      JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters',
      AUTHLY_BOOTSTRAP_DEV_MODE: 'false',
      RATE_LIMIT_ENABLED: 'false',
      CLEANUP_INTERVAL_MINUTES: '0',
      LOG_LEVEL: 'silent',
      AUTHLY_ADMIN_CLIENT_ID: ADMIN_ID,
      AUTHLY_ADMIN_CLIENT_SECRET: ADMIN_SECRET,
    });
    app = await buildApp(config, { db });
    await app.ready();
    client = await createClient(app);
    const res = await tokenRequest();
    expect(res.statusCode).toBe(200);
    adminToken = res.json().access_token;
  });

  afterAll(async () => {
    proxy?.restore();
    await app?.close();
    await db?.close();
    await proxy?.close();
    await testDb?.drop();
  });

  it('answers 503 + Retry-After in each audience shape while cut, and recovers once restored', async () => {
    proxy.cut();

    const token = await tokenRequest();
    expect(token.statusCode).toBe(503);
    expect(Number(token.headers['retry-after'])).toBeGreaterThan(0);
    expect(token.headers['cache-control']).toBe('no-store');
    expect(token.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'the database is unavailable; retry later' });
    // Counted apart from bugs in authly_oauth_token_requests_total.
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/authly_oauth_token_requests_total\{grant_type="client_credentials",status="temporarily_unavailable"\} 1\b/);

    const { challenge } = pkcePair();
    const authorize = await app.inject({
      method: 'GET',
      url:
        `/oauth/authorize?response_type=code&client_id=${client.clientId}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}` +
        `&scope=openid&state=s1&code_challenge=${challenge}&code_challenge_method=S256`,
    });
    expect(authorize.statusCode).toBe(503);
    expect(Number(authorize.headers['retry-after'])).toBeGreaterThan(0);
    expect(authorize.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(authorize.body).toContain('Temporarily unavailable');
    expect(authorize.headers.location).toBeUndefined();

    const admin = await app.inject({ method: 'GET', url: '/admin/clients', headers: { authorization: `Bearer ${adminToken}` } });
    expect(admin.statusCode).toBe(503);
    expect(Number(admin.headers['retry-after'])).toBeGreaterThan(0);
    expect(admin.json()).toEqual({ error: 'temporarily_unavailable', message: 'the database is unavailable; retry later' });

    const ready = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    // Liveness does not depend on the database.
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);

    proxy.restore();
    // The pool reconnects by itself: no restart of Authly.
    await expect.poll(async () => (await tokenRequest()).statusCode, { timeout: 20_000, interval: 200 }).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/admin/clients', headers: { authorization: `Bearer ${adminToken}` } })).statusCode).toBe(200);
  }, 60_000);
});

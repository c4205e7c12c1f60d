import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/config.js';
import { openPostgres } from '../../../src/db/postgres-driver.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';
import { metricValue } from '../../helpers/redis.js';

describe('health endpoints', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('/health → 200 {status: ok}, not cached', async () => {
    const res = await t.app.inject('/health');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('/health/ready → 200 with the database check', async () => {
    const res = await t.app.inject('/health/ready');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ready',
      checks: {
        database: 'ok',
        redis: 'disabled',
        mail: { delivery: 'dev-files', worker: false, queued: 0, oldest_queued_age_seconds: 0, last_error: null },
        backchannel_logout: { enabled: true, worker: false, queued: 0, oldest_queued_age_seconds: 0, last_error: null },
      },
    });
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('readiness with the database gone', () => {
  let testDb: TestDb;
  let app: FastifyInstance;

  beforeAll(async () => {
    testDb = await createTestDb();
    const config = loadConfig({
      DEFAULT_ISSUER_URL: 'http://localhost:8000',
      LOG_LEVEL: 'silent',
      JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters',
      AUTHLY_BOOTSTRAP_DEV_MODE: 'false',
      MAIL_WORKER_ENABLED: 'false',
    });
    app = await buildApp(config, { db: testDb.db });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    // The test closed the database; drop the schema (PostgreSQL) over a connection of its own.
    if (testDb.schema && testDb.url) {
      const cleanup = openPostgres({ url: testDb.url, max: 1 });
      await cleanup.query(`DROP SCHEMA IF EXISTS ${testDb.schema} CASCADE`);
      await cleanup.close();
    }
  });

  it('/health/ready → 503 while /health stays 200', async () => {
    expect((await app.inject('/health/ready')).statusCode).toBe(200);
    expect(await metricValue(app, 'authly_database_up')).toBe(1);
    await testDb.db.close();
    const res = await app.inject('/health/ready');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', checks: { database: 'unavailable', redis: 'disabled', mail: { delivery: 'dev-files', worker: false, last_error: null } } });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['retry-after']).toBe('5');
    const live = await app.inject('/health');
    expect(live.statusCode).toBe(200);
    expect(await metricValue(app, 'authly_database_up')).toBe(0);
  });
});

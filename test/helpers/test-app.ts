import { Writable } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createTestDb, type TestDb } from './test-db.js';

export interface TestApp {
  app: FastifyInstance;
  config: Readonly<Config>;
  testDb: TestDb;
  /** Every JSON log line the app wrote. */
  logs: string[];
  close(): Promise<void>;
}

export const TEST_ISSUER = 'http://localhost:8000';

/**
 * A fresh app over a fresh database (own PGlite, or own schema on TEST_DATABASE_URL), configured from
 * `env` on top of test defaults. Use app.inject for requests.
 */
export async function createTestApp(env: Record<string, string> = {}, deps: Pick<AppDeps, 'resolve' | 'now' | 'backchannelLogoutPollIntervalMs'> = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'authly-test-'));
  const config = loadConfig({
    DEFAULT_ISSUER_URL: TEST_ISSUER,
    LOG_LEVEL: 'info',
    AUTHLY_DATA_DIR: dataDir,
    JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters',
    AUTHLY_BOOTSTRAP_DEV_MODE: 'false',
    // Tests send many requests from one address; rate-limit tests turn it on explicitly.
    RATE_LIMIT_ENABLED: 'false',
    // The mail worker is off unless a test asks for it (test/http/mail/): queued mail stays in the outbox.
    MAIL_WORKER_ENABLED: 'false',
    // Likewise the back-channel logout worker (test/http/logout/backchannel-logout.test.ts turns it on).
    BACKCHANNEL_LOGOUT_WORKER_ENABLED: 'false',
    ...env,
  });
  const testDb = await createTestDb();
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const app = await buildApp(config, { db: testDb.db, logStream, ...deps });
  await app.ready();
  return {
    app,
    config,
    testDb,
    logs,
    async close() {
      await app.close();
      await testDb.drop();
    },
  };
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.js';
import { loadConfig, type Config } from '../../../src/config/config.js';
import type { Db } from '../../../src/db/db.js';
import { enqueueMail } from '../../../src/services/mail/mail-outbox.js';
import { TEST_ISSUER } from '../../helpers/test-app.js';

export interface MailApp {
  app: FastifyInstance;
  config: Readonly<Config>;
  logs: string[];
  dataDir: string;
}

/** An app over `db` with its mail worker running (polling every 50 ms), configured from `env`. */
export async function startMailApp(db: Db, env: Record<string, string>): Promise<MailApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'authly-mail-'));
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig({
    DEFAULT_ISSUER_URL: TEST_ISSUER,
    LOG_LEVEL: 'info',
    AUTHLY_DATA_DIR: dataDir,
    JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters',
    AUTHLY_BOOTSTRAP_DEV_MODE: 'false',
    RATE_LIMIT_ENABLED: 'false',
    CLEANUP_INTERVAL_MINUTES: '0',
    MAIL_WORKER_ENABLED: 'true',
    MAIL_RETRY_BASE_SECONDS: '1',
    ...env,
  });
  const app = await buildApp(config, { db, logStream, mailPollIntervalMs: 50 });
  await app.ready();
  return { app, config, logs, dataDir };
}

/** SMTP settings for a test server on 127.0.0.1:port (no TLS: the test server offers none). */
export const smtpEnv = (port: number): Record<string, string> => ({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_STARTTLS: 'off' });

/** A password-reset message as the recovery part queues it, with a single-use link on the issuer. */
export function queueReset(db: Db, to: string, token: string, locale: 'en' | 'de' = 'en'): Promise<string> {
  return enqueueMail(db, {
    to,
    template: 'password_reset',
    locale,
    data: { username: 'alice', link: `${TEST_ISSUER}/recover/${token}`, expiresMinutes: '30' },
  });
}

export async function outboxRows(db: Db): Promise<{ id: string; status: string; attempts: number; last_error: string | null }[]> {
  return (await db.query<{ id: string; status: string; attempts: number; last_error: string | null }>('SELECT id, status, attempts, last_error FROM mail_outbox ORDER BY created_at')).rows;
}

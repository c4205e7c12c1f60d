import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMail } from '../../../src/repositories/mail-outbox-repository.js';
import { logEvents, metricValue } from '../../helpers/redis.js';
import { waitUntil } from '../../helpers/smtp-test-server.js';
import { TEST_ISSUER } from '../../helpers/test-app.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';
import { queueReset, startMailApp, type MailApp } from './mail-helpers.js';

/**
 * Development without SMTP (the README tour): each message is written whole to AUTHLY_DATA_DIR/mail as a
 * .eml file, and the log names recipient, subject and file, never the link.
 */
describe('the dev-files delivery (no SMTP configured, development)', () => {
  let testDb: TestDb;
  let m: MailApp;

  beforeAll(async () => {
    testDb = await createTestDb();
    m = await startMailApp(testDb.db, {});
  });
  afterAll(async () => {
    await m?.app.close();
    await testDb?.drop();
  });

  it('writes <time>-<id>.eml into AUTHLY_DATA_DIR/mail and logs where, without the link', async () => {
    expect(m.app.mailer.delivery).toBe('dev-files');
    const secret = randomBytes(32).toString('base64url');
    const id = await queueReset(testDb.db, 'alice@example.com', secret);
    const dir = path.join(m.dataDir, 'mail');
    await waitUntil(async () => (await findMail(testDb.db, id)) === undefined, 10_000, 'the message to be written');
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^\\d{8}T\\d{6}Z-${id}\\.eml$`));
    const mail = await simpleParser(readFileSync(path.join(dir, files[0]!)));
    expect(mail.subject).toBe('Reset your Authly password');
    expect(mail.messageId).toBe(`<${id}@localhost>`);
    expect(mail.text).toContain(`${TEST_ISSUER}/recover/${secret}`);
    expect(mail.html).toContain(`href="${TEST_ISSUER}/recover/${secret}"`);
    const [written] = logEvents(m.logs, 'mail.written');
    expect(written).toMatchObject({ to: 'alice@example.com', subject: 'Reset your Authly password', file: path.join(dir, files[0]!) });
    expect(m.logs.filter((line) => line.includes(secret))).toEqual([]);
    expect(await metricValue(m.app, 'authly_mail_sent_total')).toBe(1);
    const ready = await m.app.inject('/health/ready');
    expect(ready.json()).toEqual({
      status: 'ready',
      checks: {
        database: 'ok',
        redis: 'disabled',
        mail: { delivery: 'dev-files', worker: true, queued: 0, oldest_queued_age_seconds: 0, last_error: null },
        backchannel_logout: { enabled: true, worker: true, queued: 0, oldest_queued_age_seconds: 0, last_error: null },
      },
    });
  });
});

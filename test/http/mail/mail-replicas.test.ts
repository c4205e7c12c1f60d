import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/e2e-server.js';
import { metricValue } from '../../helpers/redis.js';
import { TestSmtpServer, waitUntil } from '../../helpers/smtp-test-server.js';
import { createTestDb, TEST_DATABASE_URL, type TestDb } from '../../helpers/test-db.js';
import { outboxRows, queueReset, smtpEnv, startMailApp } from './mail-helpers.js';

const MESSAGES = 40;

/**
 * Two replicas' workers share one outbox on PostgreSQL: SKIP LOCKED hands each due row to one of them, so
 * every message is delivered exactly once and both take part. PostgreSQL only (the embedded PGlite is
 * one process's database).
 */
describe.skipIf(!TEST_DATABASE_URL)('two app instances (two mail workers) on one PostgreSQL database', () => {
  let testDb: TestDb;
  let smtp: TestSmtpServer;

  beforeAll(async () => {
    testDb = await createTestDb();
    smtp = await TestSmtpServer.start(await freePort());
    // Each message takes the server a moment, so both workers have rows in hand at the same time.
    smtp.fallback = { accept: true, delayMs: 20 };
  });
  afterAll(async () => {
    await smtp?.stop();
    await testDb?.drop();
  });

  it('delivers each of 40 messages exactly once, by both workers', async () => {
    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i++) ids.push(await queueReset(testDb.db, `user${i}@example.com`, randomBytes(16).toString('hex')));
    // Both replicas start with the whole queue due.
    const wa = await startMailApp(testDb.db, smtpEnv(smtp.port));
    const wb = await startMailApp(testDb.db, smtpEnv(smtp.port));
    try {
      await waitUntil(() => smtp.received.length >= MESSAGES, 30_000, 'every message');
      await waitUntil(async () => (await outboxRows(testDb.db)).length === 0, 10_000, 'the outbox to empty');
      // A last round on both finds nothing due: no message is left to be sent a second time.
      expect(await wa.app.mailer.worker!.runOnce()).toBe(0);
      expect(await wb.app.mailer.worker!.runOnce()).toBe(0);
      const messageIds = smtp.received.map((mail) => mail.messageId);
      expect(messageIds).toHaveLength(MESSAGES);
      expect(new Set(messageIds).size).toBe(MESSAGES);
      expect([...messageIds].sort()).toEqual(ids.map((id) => `<${id}@localhost>`).sort());
      expect(smtp.attempts).toBe(MESSAGES);
      const sentA = (await metricValue(wa.app, 'authly_mail_sent_total')) ?? 0;
      const sentB = (await metricValue(wb.app, 'authly_mail_sent_total')) ?? 0;
      expect(sentA + sentB).toBe(MESSAGES);
      expect(sentA).toBeGreaterThan(0);
      expect(sentB).toBeGreaterThan(0);
    } finally {
      await wa.app.close();
      await wb.app.close();
    }
  });
});

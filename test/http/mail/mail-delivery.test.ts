import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findMail } from '../../../src/repositories/mail-outbox-repository.js';
import { enqueueMail } from '../../../src/services/mail/mail-outbox.js';
import { freePort } from '../../helpers/e2e-server.js';
import { logEvents, metricValue } from '../../helpers/redis.js';
import { startSilentServer, TestSmtpServer, waitUntil } from '../../helpers/smtp-test-server.js';
import { TEST_ISSUER } from '../../helpers/test-app.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';
import { outboxRows, queueReset, smtpEnv, startMailApp, type MailApp } from './mail-helpers.js';

const token = () => randomBytes(32).toString('base64url');

/**
 * Issue 12 §1, mail that is never lost: a real SMTP server over TCP (smtp-server + mailparser) meets the
 * app's own mail worker. Requests only queue; the worker sends, retries and gives up as the server answers.
 */
describe('the mail worker against a real SMTP server', () => {
  let testDb: TestDb;
  let smtp: TestSmtpServer;
  let m: MailApp | undefined;

  beforeAll(async () => {
    testDb = await createTestDb();
    smtp = await TestSmtpServer.start(await freePort());
  });
  afterAll(async () => {
    await smtp?.stop();
    await testDb?.drop();
  });
  beforeEach(async () => {
    await testDb.db.query('DELETE FROM mail_outbox');
    smtp.received.length = 0;
    smtp.attempts = 0;
    smtp.script.length = 0;
    smtp.fallback = { accept: true };
  });
  afterEach(async () => {
    await m?.app.close();
    m = undefined;
  });

  it('delivers a message with a plain-text and an HTML part, absolute links on the issuer, and a Message-ID from the outbox id', async () => {
    m = await startMailApp(testDb.db, smtpEnv(smtp.port));
    const secret = token();
    const id = await queueReset(testDb.db, 'alice@example.com', secret);
    await waitUntil(() => smtp.received.length === 1, 10_000, 'the message');
    const mail = smtp.received[0]!;
    const link = `${TEST_ISSUER}/recover/${secret}`;
    expect(mail.subject).toBe('Reset your Authly password');
    expect(mail.from?.value).toEqual([{ address: 'no-reply@localhost', name: 'Authly' }]);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value : undefined).toEqual([{ address: 'alice@example.com', name: '' }]);
    expect(mail.messageId).toBe(`<${id}@localhost>`);
    expect(mail.text).toBe(
      [
        'Hello alice,',
        'Someone, hopefully you, asked to reset the password of your account.',
        `Choose a new password:\n${link}`,
        'The link works once and expires in 30 minutes.',
        'If you did not ask for this, ignore this message: your password stays as it is.',
        '-- \nThis message was sent by Authly.',
      ].join('\n\n') + '\n',
    );
    expect(mail.html).toContain(`<a href="${link}"`);
    expect(mail.html).toContain('<html lang="en">');
    // Sent: the row (and its single-use link) is gone; the log has the event, never the link.
    await waitUntil(async () => (await findMail(testDb.db, id)) === undefined, 5000, 'the row to go');
    await waitUntil(() => logEvents(m!.logs, 'mail.sent').length === 1, 5000, 'the log line');
    expect(logEvents(m.logs, 'mail.sent')[0]).toMatchObject({ mailId: id, template: 'password_reset', attempt: 1 });
    expect(m.logs.filter((line) => line.includes(secret))).toEqual([]);
    expect(await metricValue(m.app, 'authly_mail_sent_total')).toBe(1);
  });

  it("writes in the row's language (German), subject and body", async () => {
    m = await startMailApp(testDb.db, { ...smtpEnv(smtp.port), SMTP_FROM_NAME: 'Beispiel Login', SMTP_FROM_EMAIL: 'login@example.com' });
    const id = await queueReset(testDb.db, 'bob@example.com', token(), 'de');
    await waitUntil(() => smtp.received.length === 1, 10_000, 'the message');
    const mail = smtp.received[0]!;
    expect(mail.subject).toBe('Setzen Sie Ihr Passwort für Authly zurück');
    expect(mail.from?.value).toEqual([{ address: 'login@example.com', name: 'Beispiel Login' }]);
    expect(mail.messageId).toBe(`<${id}@example.com>`);
    expect(mail.text).toMatch(/^Hallo alice,\n\nJemand, hoffentlich Sie,/);
    expect(mail.html).toContain('<html lang="de">');
  });

  it('a permanent refusal (5xx) marks the message failed at once: not retried', async () => {
    smtp.fallback = { refuse: 550, message: 'No such user' };
    m = await startMailApp(testDb.db, smtpEnv(smtp.port));
    const id = await queueReset(testDb.db, 'nobody@example.com', token());
    await waitUntil(async () => (await findMail(testDb.db, id))?.status === 'failed', 10_000, 'the failure');
    expect(await findMail(testDb.db, id)).toEqual({
      id,
      recipient: 'nobody@example.com',
      template: 'password_reset',
      status: 'failed',
      attempts: 1,
      lastError: 'rejected: EMESSAGE 550: 550 No such user',
    });
    // Its links are cleared with the failure.
    expect((await testDb.db.query('SELECT data FROM mail_outbox WHERE id = $1', [id])).rows[0]).toEqual({ data: {} });
    expect(smtp.attempts).toBe(1);
    expect(await metricValue(m.app, 'authly_mail_failed_total', { reason: 'rejected' })).toBe(1);
    expect(logEvents(m.logs, 'mail.failed')[0]).toMatchObject({ mailId: id, reason: 'rejected', class: 'rejected' });
  });

  it('a temporary refusal (4xx) is retried after a back-off, then delivered once', async () => {
    smtp.script.push({ refuse: 451, message: 'Try again later' });
    m = await startMailApp(testDb.db, smtpEnv(smtp.port));
    const id = await queueReset(testDb.db, 'carol@example.com', token());
    await waitUntil(async () => (await findMail(testDb.db, id))?.lastError?.startsWith('temporary') === true, 10_000, 'the deferral');
    expect(await findMail(testDb.db, id)).toMatchObject({ status: 'queued', attempts: 1, lastError: 'temporary: EMESSAGE 451: 451 Try again later' });
    expect(logEvents(m.logs, 'mail.deferred')[0]).toMatchObject({ mailId: id, class: 'temporary', retryInSeconds: 1 });
    await waitUntil(() => smtp.received.length === 1, 10_000, 'the retry');
    await waitUntil(async () => (await findMail(testDb.db, id)) === undefined, 5000, 'the row to go');
    expect(smtp.attempts).toBe(2);
    expect(logEvents(m.logs, 'mail.sent')[0]).toMatchObject({ mailId: id, attempt: 2 });
  });

  it('temporary failures up to MAIL_MAX_ATTEMPTS, then failed (attempts_exhausted)', async () => {
    smtp.fallback = { refuse: 452, message: 'Mailbox full' };
    m = await startMailApp(testDb.db, { ...smtpEnv(smtp.port), MAIL_MAX_ATTEMPTS: '2' });
    const id = await queueReset(testDb.db, 'dave@example.com', token());
    await waitUntil(async () => (await findMail(testDb.db, id))?.status === 'failed', 10_000, 'the failure');
    expect(await findMail(testDb.db, id)).toMatchObject({ attempts: 2, lastError: 'temporary: EMESSAGE 452: 452 Mailbox full' });
    expect(smtp.attempts).toBe(2);
    expect(await metricValue(m.app, 'authly_mail_failed_total', { reason: 'attempts_exhausted' })).toBe(1);
  });

  it('a row its template cannot render (a missing data key) is failed with reason template, without contacting the server', async () => {
    m = await startMailApp(testDb.db, smtpEnv(smtp.port));
    const id = await enqueueMail(testDb.db, { to: 'erin@example.com', template: 'password_reset', locale: 'en', data: { username: 'erin', expiresMinutes: '30' } });
    await waitUntil(async () => (await findMail(testDb.db, id))?.status === 'failed', 10_000, 'the failure');
    expect(await findMail(testDb.db, id)).toMatchObject({ attempts: 1, lastError: 'template: password_reset: missing data key "link"' });
    expect(smtp.attempts).toBe(0);
    expect(await metricValue(m.app, 'authly_mail_failed_total', { reason: 'template' })).toBe(1);
  });

  it('a slow server: queueing returns at once, the worker waits within its timeout and sends once', async () => {
    smtp.fallback = { accept: true, delayMs: 1500 };
    m = await startMailApp(testDb.db, { ...smtpEnv(smtp.port), MAIL_SEND_TIMEOUT_SECONDS: '10' });
    const id = await queueReset(testDb.db, 'frank@example.com', token());
    // Queueing did not wait for delivery: the server (which answers after 1.5 s) has received nothing yet.
    expect(smtp.received).toHaveLength(0);
    await waitUntil(() => smtp.attempts === 1, 10_000, 'the server to receive it');
    // While the server takes its time, readiness answers at once and reports the message in flight.
    const ready = await m.app.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ checks: { mail: { delivery: 'smtp', worker: true, queued: 1 } } });
    await waitUntil(async () => (await findMail(testDb.db, id)) === undefined, 10_000, 'the row to go');
    expect(smtp.received).toHaveLength(1);
    expect(smtp.attempts).toBe(1);
  });

  it('a hung server (no greeting) times out: the message is deferred, readiness stays 200 and names the timeout', async () => {
    const port = await freePort();
    const silent = await startSilentServer(port);
    try {
      m = await startMailApp(testDb.db, { ...smtpEnv(port), MAIL_SEND_TIMEOUT_SECONDS: '1' });
      const id = await queueReset(testDb.db, 'gina@example.com', token());
      await waitUntil(async () => (await findMail(testDb.db, id))?.lastError?.startsWith('timeout') === true, 10_000, 'the timeout');
      expect(await findMail(testDb.db, id)).toMatchObject({ status: 'queued', attempts: 1 });
      const ready = await m.app.inject('/health/ready');
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ status: 'ready', checks: { mail: { delivery: 'smtp', worker: true, queued: 1, last_error: 'timeout' } } });
    } finally {
      await m?.app.close();
      m = undefined;
      await silent.close();
    }
  });

  it('a server that is down and comes back: nothing lost, nothing sent twice; readiness and metrics report the queue meanwhile', async () => {
    const port = await freePort();
    m = await startMailApp(testDb.db, smtpEnv(port));
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await queueReset(testDb.db, `user${i}@example.com`, token()));
    await waitUntil(async () => (await outboxRows(testDb.db)).every((r) => r.attempts >= 1 && r.last_error?.startsWith('connection')), 10_000, 'the attempts');
    const ready = await m.app.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    const report = (ready.json() as { checks: { mail: Record<string, unknown> } }).checks.mail;
    expect(report).toMatchObject({ delivery: 'smtp', worker: true, queued: 4, last_error: 'connection' });
    expect(report.oldest_queued_age_seconds).toBeGreaterThanOrEqual(0);
    expect(await metricValue(m.app, 'authly_mail_queued')).toBe(4);
    expect(await metricValue(m.app, 'authly_mail_oldest_queued_age_seconds')).toBeGreaterThan(0);
    expect((await outboxRows(testDb.db)).map((r) => r.status)).toEqual(['queued', 'queued', 'queued', 'queued']);

    const server = await TestSmtpServer.start(port);
    try {
      await waitUntil(() => server.received.length === 4, 15_000, 'all four messages');
      await waitUntil(async () => (await outboxRows(testDb.db)).length === 0, 5000, 'the outbox to empty');
      // Nothing more is due: another round claims nothing, and every message arrived exactly once.
      expect(await m.app.mailer.worker!.runOnce()).toBe(0);
      expect(server.received.map((mail) => mail.messageId).sort()).toEqual(ids.map((id) => `<${id}@localhost>`).sort());
      expect(server.attempts).toBe(4);
      expect(await metricValue(m.app, 'authly_mail_queued')).toBe(0);
      expect(await metricValue(m.app, 'authly_mail_sent_total')).toBe(4);
      expect((await m.app.inject('/health/ready')).json()).toMatchObject({ checks: { mail: { queued: 0, oldest_queued_age_seconds: 0, last_error: null } } });
    } finally {
      await m.app.close();
      m = undefined;
      await server.stop();
    }
  });

  it('SMTP_STARTTLS=required and a server that offers no STARTTLS: nothing is sent in clear; deferred as tls', async () => {
    m = await startMailApp(testDb.db, { ...smtpEnv(smtp.port), SMTP_STARTTLS: 'required' });
    const id = await queueReset(testDb.db, 'judy@example.com', token());
    await waitUntil(async () => (await findMail(testDb.db, id))?.lastError?.startsWith('tls') === true, 10_000, 'the deferral');
    expect(await findMail(testDb.db, id)).toMatchObject({ status: 'queued', attempts: 1, lastError: expect.stringMatching(/^tls: /) });
    expect(smtp.attempts).toBe(0);
  });

  it('SMTP AUTH: wrong credentials are retried (class auth, nothing lost while the password is fixed); right ones deliver', async () => {
    const guarded = await TestSmtpServer.start(await freePort(), { user: 'authly', pass: 'right-password' });
    try {
      m = await startMailApp(testDb.db, { ...smtpEnv(guarded.port), SMTP_USERNAME: 'authly', SMTP_PASSWORD: 'wrong-password' });
      const id = await queueReset(testDb.db, 'ken@example.com', token());
      await waitUntil(async () => (await findMail(testDb.db, id))?.lastError?.startsWith('auth') === true, 10_000, 'the deferral');
      expect(await findMail(testDb.db, id)).toMatchObject({ status: 'queued', attempts: 1 });
      expect((await m.app.inject('/health/ready')).json()).toMatchObject({ checks: { mail: { last_error: 'auth', queued: 1 } } });
      await m.app.close();
      // The operator fixes the password and restarts: the queued message goes out.
      m = await startMailApp(testDb.db, { ...smtpEnv(guarded.port), SMTP_USERNAME: 'authly', SMTP_PASSWORD: 'right-password' });
      await testDb.db.query('UPDATE mail_outbox SET next_attempt_at = now()');
      await waitUntil(() => guarded.received.length === 1, 10_000, 'the message');
      await waitUntil(async () => (await findMail(testDb.db, id)) === undefined, 5000, 'the row to go');
    } finally {
      await m?.app.close();
      m = undefined;
      await guarded.stop();
    }
  });

  it('closing the app mid-send does not wait for the server: the message is deferred for another attempt', async () => {
    const slow = await TestSmtpServer.start(await freePort());
    slow.fallback = { accept: true, delayMs: 3000 };
    try {
      m = await startMailApp(testDb.db, { ...smtpEnv(slow.port), MAIL_SEND_TIMEOUT_SECONDS: '30' });
      const id = await queueReset(testDb.db, 'ivan@example.com', token());
      await waitUntil(() => slow.attempts === 1, 10_000, 'the send to begin');
      await m.app.close();
      m = undefined;
      // Had closing waited for the server, the message would have been delivered and its row gone.
      expect(await findMail(testDb.db, id)).toMatchObject({ status: 'queued', attempts: 1, lastError: expect.stringMatching(/^connection: /) });
    } finally {
      await slow.stop();
    }
  });

  it('a row claimed by a worker that died mid-send is claimed again once its lease ends, and sent', async () => {
    m = await startMailApp(testDb.db, { ...smtpEnv(smtp.port), MAIL_WORKER_ENABLED: 'false' });
    const id = await queueReset(testDb.db, 'henry@example.com', token());
    // The dead worker: claimed it under a lease (moved back into the past here instead of waiting it out).
    await testDb.db.query(
      "UPDATE mail_outbox SET status = 'sending', attempts = 1, next_attempt_at = now() + interval '1 hour' WHERE id = $1",
      [id],
    );
    const worker = (await startMailApp(testDb.db, smtpEnv(smtp.port))).app;
    try {
      expect(await worker.mailer.worker!.runOnce()).toBe(0);
      await testDb.db.query("UPDATE mail_outbox SET next_attempt_at = now() - interval '1 second' WHERE id = $1", [id]);
      await waitUntil(() => smtp.received.length === 1, 10_000, 'the message');
      await waitUntil(async () => (await findMail(testDb.db, id)) === undefined, 5000, 'the row to go');
      expect(smtp.attempts).toBe(1);
    } finally {
      await worker.close();
    }
  });
});

import type { Queryable } from '../db/db.js';

export interface QueuedMail {
  recipient: string;
  template: string;
  locale: string;
  data: Record<string, string>;
}

/** Queues one message; pass the transaction of the change it reports, so both commit or neither. */
export async function insertMail(db: Queryable, mail: QueuedMail): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO mail_outbox (recipient, template, locale, data) VALUES ($1, $2, $3, $4) RETURNING id',
    [mail.recipient, mail.template, mail.locale, JSON.stringify(mail.data)],
  );
  return rows[0]!.id;
}

/** A message claimed by one worker for one attempt; `attempt` fences the outcome (see markMailSent). */
export interface ClaimedMail extends QueuedMail {
  id: string;
  /** 1 for the first attempt. */
  attempt: number;
  createdAt: Date;
}

/**
 * Claims up to `limit` due messages for one delivery attempt each: queued ones whose time has come, and
 * ones another worker claimed whose lease ran out (it crashed or hung mid-send). SKIP LOCKED lets the
 * workers of several replicas claim side by side without waiting for, or taking, each other's rows; the
 * lease (next_attempt_at moved `leaseSeconds` ahead) keeps a claimed row from being claimed again while
 * its worker is still sending. The attempt is counted at the claim, so a message that crashes its
 * worker every time still reaches the attempt limit.
 */
export async function claimDueMail(db: Queryable, limit: number, leaseSeconds: number): Promise<ClaimedMail[]> {
  const { rows } = await db.query<{
    id: string;
    recipient: string;
    template: string;
    locale: string;
    data: Record<string, string> | string;
    attempts: number;
    created_at: Date;
  }>(
    `WITH due AS (
       SELECT id FROM mail_outbox
        WHERE status IN ('queued', 'sending') AND next_attempt_at <= now()
        ORDER BY next_attempt_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED
     )
     UPDATE mail_outbox m
        SET status = 'sending', attempts = m.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
       FROM due
      WHERE m.id = due.id
     RETURNING m.id, m.recipient, m.template, m.locale, m.data, m.attempts, m.created_at`,
    [limit, leaseSeconds],
  );
  return rows.map((r) => ({
    id: r.id,
    recipient: r.recipient,
    template: r.template,
    locale: r.locale,
    data: typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, string>) : r.data,
    attempt: r.attempts,
    createdAt: r.created_at,
  }));
}

// Every outcome is written only while the row is still this attempt's (status 'sending', same attempts):
// a worker whose lease ran out and whose row was claimed again must not overwrite the newer attempt.
const THIS_ATTEMPT = "id = $1 AND status = 'sending' AND attempts = $2";

/**
 * The message was accepted by the SMTP server (or written to the development directory): the row goes,
 * and with it the single-use links in its data (the log line and authly_mail_sent_total record the
 * delivery). False when the attempt was no longer this worker's.
 */
export async function markMailSent(db: Queryable, id: string, attempt: number): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM mail_outbox WHERE ${THIS_ATTEMPT}`, [id, attempt]);
  return rowCount === 1;
}

/** A temporary failure: queued again, due after `delaySeconds`. */
export async function scheduleMailRetry(db: Queryable, id: string, attempt: number, delaySeconds: number, error: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE mail_outbox SET status = 'queued', next_attempt_at = now() + make_interval(secs => $3), last_error = $4 WHERE ${THIS_ATTEMPT}`,
    [id, attempt, delaySeconds, error],
  );
  return rowCount === 1;
}

/** Given up (refused for good, attempts spent, or unrenderable): kept with its error for the operator, its links cleared. */
export async function markMailFailed(db: Queryable, id: string, attempt: number, error: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE mail_outbox SET status = 'failed', data = '{}'::jsonb, last_error = $3 WHERE ${THIS_ATTEMPT}`,
    [id, attempt, error],
  );
  return rowCount === 1;
}

export interface MailQueueStats {
  /** Messages not yet sent nor failed (queued, or being sent). */
  queued: number;
  /** Age of the oldest of them; 0 when none. */
  oldestAgeSeconds: number;
}

export async function mailQueueStats(db: Queryable): Promise<MailQueueStats> {
  const { rows } = await db.query<{ queued: number; oldest: number | null }>(
    `SELECT count(*)::int AS queued, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest
       FROM mail_outbox WHERE status IN ('queued', 'sending')`,
  );
  return { queued: Number(rows[0]?.queued ?? 0), oldestAgeSeconds: Math.max(0, Number(rows[0]?.oldest ?? 0)) };
}

/** One message's state (undefined once sent), for tests and operators: never its data. */
export interface MailRecord {
  id: string;
  recipient: string;
  template: string;
  status: 'queued' | 'sending' | 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
}

export async function findMail(db: Queryable, id: string): Promise<MailRecord | undefined> {
  const { rows } = await db.query<{ id: string; recipient: string; template: string; status: MailRecord['status']; attempts: number; last_error: string | null }>(
    'SELECT id, recipient, template, status, attempts, last_error FROM mail_outbox WHERE id = $1',
    [id],
  );
  const r = rows[0];
  return r && { id: r.id, recipient: r.recipient, template: r.template, status: r.status, attempts: r.attempts, lastError: r.last_error };
}

import type { Queryable } from '../db/db.js';
import type { IdTokenSigningAlg } from './clients-repository.js';

/**
 * The outbox of back-channel logouts (OIDC Back-Channel Logout 1.0). Rows are inserted by the statement
 * that ends a session (sessions-repository.ts, endSessions); the worker (src/services/backchannel-logout/)
 * claims, delivers and records them here. The shape is the mail outbox's (mail-outbox-repository.ts):
 * SKIP LOCKED claims under a lease, the attempt counted at the claim, every outcome fenced by the attempt.
 */

/** A logout claimed by one worker for one attempt, with what the delivery needs from its client. */
export interface ClaimedLogout {
  id: string;
  clientId: string;
  sub: string;
  sid: string;
  /** 1 for the first attempt. */
  attempt: number;
  createdAt: Date;
  /** The client's backchannel_logout_uri now; null when it was removed since the session ended. */
  uri: string | null;
  /** The alg of the client's ID tokens: logout tokens are signed the same way (section 2.4). */
  idTokenSignedResponseAlg: IdTokenSigningAlg;
}

/**
 * Claims up to `limit` due logouts: queued ones whose time has come, and ones whose lease ran out (their
 * worker crashed or hung). The URI is read at delivery, so a client that moves its endpoint while a
 * logout waits gets it at the new one.
 */
export async function claimDueLogouts(db: Queryable, limit: number, leaseSeconds: number): Promise<ClaimedLogout[]> {
  const { rows } = await db.query<{
    id: string;
    client_id: string;
    sub: string;
    sid: string;
    attempts: number;
    created_at: Date;
    uri: string | null;
    alg: IdTokenSigningAlg;
  }>(
    `WITH due AS (
       SELECT id FROM backchannel_logout_outbox
        WHERE status IN ('queued', 'sending') AND next_attempt_at <= now()
        ORDER BY next_attempt_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE backchannel_logout_outbox o
          SET status = 'sending', attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
         FROM due
        WHERE o.id = due.id
       RETURNING o.id, o.client_id, o.sub, o.sid, o.attempts, o.created_at
     )
     SELECT claimed.*, c.backchannel_logout_uri AS uri, c.id_token_signed_response_alg AS alg
       FROM claimed JOIN clients c ON c.client_id = claimed.client_id`,
    [limit, leaseSeconds],
  );
  return rows.map((r) => ({
    id: r.id,
    clientId: r.client_id,
    sub: r.sub,
    sid: r.sid,
    attempt: r.attempts,
    createdAt: r.created_at,
    uri: r.uri,
    idTokenSignedResponseAlg: r.alg,
  }));
}

// An outcome is written only while the row is still this attempt's (see mail-outbox-repository.ts).
const THIS_ATTEMPT = "id = $1 AND status = 'sending' AND attempts = $2";

/** Delivered (the client answered 2xx): the row goes. False when the attempt was no longer this worker's. */
export async function markLogoutDelivered(db: Queryable, id: string, attempt: number): Promise<boolean> {
  return (await db.query(`DELETE FROM backchannel_logout_outbox WHERE ${THIS_ATTEMPT}`, [id, attempt])).rowCount === 1;
}

/** A failed attempt that will be retried after `delaySeconds`. */
export async function scheduleLogoutRetry(db: Queryable, id: string, attempt: number, delaySeconds: number, error: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE backchannel_logout_outbox SET status = 'queued', next_attempt_at = now() + make_interval(secs => $3), last_error = $4 WHERE ${THIS_ATTEMPT}`,
    [id, attempt, delaySeconds, error],
  );
  return rowCount === 1;
}

/** Given up: kept with its error for the operator (listLogouts), like failed mail. */
export async function markLogoutFailed(db: Queryable, id: string, attempt: number, error: string): Promise<boolean> {
  const { rowCount } = await db.query(`UPDATE backchannel_logout_outbox SET status = 'failed', last_error = $3 WHERE ${THIS_ATTEMPT}`, [id, attempt, error]);
  return rowCount === 1;
}

export interface LogoutQueueStats {
  /** Logouts not yet delivered nor given up. */
  queued: number;
  /** Age of the oldest of them; 0 when none. */
  oldestAgeSeconds: number;
}

export async function logoutQueueStats(db: Queryable): Promise<LogoutQueueStats> {
  const { rows } = await db.query<{ queued: number; oldest: number | null }>(
    `SELECT count(*)::int AS queued, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest
       FROM backchannel_logout_outbox WHERE status IN ('queued', 'sending')`,
  );
  return { queued: Number(rows[0]?.queued ?? 0), oldestAgeSeconds: Math.max(0, Number(rows[0]?.oldest ?? 0)) };
}

/** The outbox rows (delivered ones are gone), oldest first, for tests and operators. */
export interface LogoutRecord {
  id: string;
  clientId: string;
  sub: string;
  sid: string;
  status: 'queued' | 'sending' | 'failed';
  attempts: number;
  lastError: string | null;
}

export async function listLogouts(db: Queryable): Promise<LogoutRecord[]> {
  const { rows } = await db.query<LogoutRecord>(
    `SELECT id, client_id AS "clientId", sub, sid, status, attempts, last_error AS "lastError"
       FROM backchannel_logout_outbox ORDER BY created_at, id`,
  );
  return rows;
}

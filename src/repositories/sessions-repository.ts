import type { Queryable } from '../db/db.js';
import type { PageKey } from '../lib/page-key.js';
import { keysetPage, type KeysetPage } from './keyset.js';

export interface Session {
  sid: string;
  userId: string;
  authTime: Date;
  createdAt: Date;
  expiresAt: Date;
  /** RFC 8176 methods the sign-in used, and the acr it reached (null: none asked for). */
  amr: string[];
  acr: string | null;
}

export async function insertSession(
  db: Queryable,
  session: { idHash: string; sid: string; userId: string; authTime: Date; expiresAt: Date; amr: string[]; acr: string | null },
): Promise<void> {
  await db.query(
    'INSERT INTO sessions (id_hash, sid, user_id, auth_time, expires_at, amr, acr) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [session.idHash, session.sid, session.userId, session.authTime, session.expiresAt, session.amr, session.acr],
  );
}

/**
 * A new sign-in of the same user in a browser that has a live session: the session gets a new cookie (its
 * id hash), sign-in time, lifetime and methods, and keeps its `sid`. Undefined when the old cookie names no
 * live session of that user (nothing changed).
 */
export async function renewSession(
  db: Queryable,
  previousIdHash: string,
  renewed: { idHash: string; userId: string; authTime: Date; expiresAt: Date; amr: string[]; acr: string | null },
): Promise<{ sid: string; createdAt: Date } | undefined> {
  const { rows } = await db.query<{ sid: string; createdAt: Date }>(
    `UPDATE sessions SET id_hash = $2, auth_time = $4, expires_at = $5, amr = $6, acr = $7
     WHERE id_hash = $1 AND user_id = $3 AND expires_at > now()
     RETURNING sid, created_at AS "createdAt"`,
    [previousIdHash, renewed.idHash, renewed.userId, renewed.authTime, renewed.expiresAt, renewed.amr, renewed.acr],
  );
  return rows[0];
}

/** A live session of an active user, or nothing. */
export async function findLiveSession(db: Queryable, idHash: string): Promise<Session | undefined> {
  const { rows } = await db.query<Session>(
    `SELECT s.sid, s.user_id AS "userId", s.auth_time AS "authTime", s.created_at AS "createdAt", s.expires_at AS "expiresAt",
       s.amr, s.acr
     FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id_hash = $1 AND s.expires_at > now() AND u.is_active`,
    [idHash],
  );
  return rows[0];
}

/**
 * How a session ends. `backchannelLogout` (BACKCHANNEL_LOGOUT_ENABLED): the statement that deletes the
 * sessions also queues a logout token for every client that got a grant in one of them and registered a
 * backchannel_logout_uri (OIDC Back-Channel Logout 1.0 section 2.5). One statement, so the logout is
 * queued exactly when the session ends, in the caller's transaction if there is one, and a session
 * without such clients costs no extra round trip.
 */
export interface SessionEnding {
  backchannelLogout: boolean;
}

/** Deletes the sessions matching `where` (on table sessions); the number deleted. */
async function endSessions(db: Queryable, where: string, params: unknown[], ending: SessionEnding): Promise<number> {
  if (!ending.backchannelLogout) return (await db.query(`DELETE FROM sessions WHERE ${where}`, params)).rowCount;
  // Every data-modifying WITH runs to completion whether or not the outer query reads it (PostgreSQL 7.8.4).
  // Revoked grants count too: the client may keep its own session after its tokens were revoked.
  const { rows } = await db.query<{ ended: number }>(
    `WITH ended AS (DELETE FROM sessions WHERE ${where} RETURNING sid, user_id),
     queued AS (
       INSERT INTO backchannel_logout_outbox (client_id, sub, sid)
       SELECT DISTINCT g.client_id, e.user_id::text, e.sid
         FROM ended e
         JOIN grants g ON g.sid = e.sid
         JOIN clients c ON c.client_id = g.client_id
        WHERE c.backchannel_logout_uri IS NOT NULL
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM ended)::int AS ended, (SELECT count(*) FROM queued)::int AS queued`,
    params,
  );
  return Number(rows[0]?.ended ?? 0);
}

/** Ends the session behind a cookie (its hash), e.g. the one a new sign-in replaces. */
export async function deleteSession(db: Queryable, idHash: string, ending: SessionEnding): Promise<void> {
  await endSessions(db, 'id_hash = $1', [idHash], ending);
}

/** Ends a session by its public id (the `sid` of ID tokens); true when a row was deleted. */
export async function deleteSessionBySid(db: Queryable, sid: string, ending: SessionEnding): Promise<boolean> {
  return (await endSessions(db, 'sid = $1', [sid], ending)) > 0;
}

/** A page of a user's live sessions, newest first (sessions_user_created_idx): never the cookie hash. */
export async function listLiveSessionsOfUser(db: Queryable, userId: string, page: { limit: number; cursor?: PageKey | undefined }): Promise<KeysetPage<Session>> {
  return keysetPage<Session>(
    db,
    {
      columns: 'sid, user_id AS "userId", auth_time AS "authTime", created_at AS "createdAt", expires_at AS "expiresAt", amr, acr',
      from: 'sessions',
      where: ['user_id = $1', 'expires_at > now()'],
      params: [userId],
      key: [
        { sql: 'created_at', part: 'timestamp' },
        { sql: 'sid', part: 'text' },
      ],
      order: 'desc',
    },
    page,
  );
}

/** Ends one session of a user by its public id; false when the user has no such session. */
export async function deleteSessionOfUser(db: Queryable, userId: string, sid: string, ending: SessionEnding): Promise<boolean> {
  return (await endSessions(db, 'user_id = $1 AND sid = $2', [userId, sid], ending)) > 0;
}

/** Ends every session of a user; the number ended. */
export async function deleteSessionsOfUser(db: Queryable, userId: string, ending: SessionEnding): Promise<number> {
  return endSessions(db, 'user_id = $1', [userId], ending);
}

/** Ends every session of a user except the one with public id `keepSid`; the number ended. */
export async function deleteOtherSessionsOfUser(db: Queryable, userId: string, keepSid: string, ending: SessionEnding): Promise<number> {
  return endSessions(db, 'user_id = $1 AND sid <> $2', [userId, keepSid], ending);
}

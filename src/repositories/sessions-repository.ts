import type { Queryable } from '../db/db.js';

export interface Session {
  sid: string;
  userId: string;
  authTime: Date;
  createdAt: Date;
  expiresAt: Date;
}

export async function insertSession(
  db: Queryable,
  session: { idHash: string; sid: string; userId: string; authTime: Date; expiresAt: Date },
): Promise<void> {
  await db.query(
    'INSERT INTO sessions (id_hash, sid, user_id, auth_time, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [session.idHash, session.sid, session.userId, session.authTime, session.expiresAt],
  );
}

/** A live session of an active user, or nothing. */
export async function findLiveSession(db: Queryable, idHash: string): Promise<Session | undefined> {
  const { rows } = await db.query<Session>(
    `SELECT s.sid, s.user_id AS "userId", s.auth_time AS "authTime", s.created_at AS "createdAt", s.expires_at AS "expiresAt"
     FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id_hash = $1 AND s.expires_at > now() AND u.is_active`,
    [idHash],
  );
  return rows[0];
}

export async function deleteSession(db: Queryable, idHash: string): Promise<void> {
  await db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
}

/** Ends a session by its public id (the `sid` of ID tokens); true when a row was deleted. */
export async function deleteSessionBySid(db: Queryable, sid: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM sessions WHERE sid = $1', [sid]);
  return rowCount > 0;
}

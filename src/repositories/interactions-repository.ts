import type { Queryable } from '../db/db.js';

export interface Interaction<P = Record<string, unknown>> {
  uid: string;
  clientId: string;
  params: P;
  userId: string | null;
  authTime: Date | null;
  sid: string | null;
  expiresAt: Date;
  /** A sign-in in progress: the user whose first factor passed, and the methods passed so far. */
  pendingUserId: string | null;
  amr: string[];
}

const SELECT = `SELECT uid, client_id AS "clientId", params, user_id AS "userId",
  auth_time AS "authTime", sid, expires_at AS "expiresAt", pending_user_id AS "pendingUserId", amr FROM interactions`;

export async function insertInteraction(
  db: Queryable,
  interaction: Omit<Interaction<unknown>, 'userId' | 'authTime' | 'sid' | 'pendingUserId' | 'amr'> &
    Partial<Pick<Interaction, 'userId' | 'authTime' | 'sid'>>,
): Promise<void> {
  await db.query(
    `INSERT INTO interactions (uid, client_id, params, user_id, auth_time, sid, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      interaction.uid,
      interaction.clientId,
      JSON.stringify(interaction.params),
      interaction.userId ?? null,
      interaction.authTime ?? null,
      interaction.sid ?? null,
      interaction.expiresAt,
    ],
  );
}

export async function findLiveInteraction<P>(db: Queryable, uid: string): Promise<Interaction<P> | undefined> {
  const { rows } = await db.query<Interaction<P>>(`${SELECT} WHERE uid = $1 AND expires_at > now()`, [uid]);
  return rows[0];
}

export async function recordInteractionLogin(
  db: Queryable,
  uid: string,
  login: { userId: string; authTime: Date; sid: string },
): Promise<void> {
  await db.query('UPDATE interactions SET user_id = $2, auth_time = $3, sid = $4 WHERE uid = $1', [
    uid,
    login.userId,
    login.authTime,
    login.sid,
  ]);
}

/** A factor passed but the sign-in needs another: remember who and which methods, for the next page. */
export async function recordInteractionFactors(db: Queryable, uid: string, userId: string, amr: readonly string[]): Promise<void> {
  await db.query('UPDATE interactions SET pending_user_id = $2, amr = $3 WHERE uid = $1', [uid, userId, [...amr]]);
}

/** Deletes the interaction; false when it was already gone (a double submit), so it finishes once. */
export async function consumeInteraction(db: Queryable, uid: string): Promise<boolean> {
  return (await db.query('DELETE FROM interactions WHERE uid = $1', [uid])).rowCount > 0;
}

/**
 * Extends a live interaction's lifetime to `expiresAt` (never shortens it): called when the browser opens
 * the page, so an interaction nobody opens keeps its short unclaimed lifetime.
 */
export async function extendInteraction(db: Queryable, uid: string, expiresAt: Date): Promise<void> {
  await db.query('UPDATE interactions SET expires_at = $2 WHERE uid = $1 AND expires_at > now() AND expires_at < $2', [uid, expiresAt]);
}

/**
 * Deletes up to `limit` expired interactions; rows another statement holds are skipped, so concurrent
 * callers neither wait nor deadlock. Amortized cleanup: each new interaction removes more dead ones than
 * it adds, so the table holds live rows only, whatever the cleanup job's interval.
 */
export async function deleteSomeExpiredInteractions(db: Queryable, limit: number): Promise<number> {
  const result = await db.query(
    `DELETE FROM interactions WHERE uid IN (
       SELECT uid FROM interactions WHERE expires_at < now() LIMIT $1 FOR UPDATE SKIP LOCKED)`,
    [limit],
  );
  return result.rowCount;
}

/** "Not you?" on the consent page: the interaction forgets who signed in, so it asks again (same request, same uid). */
export async function forgetInteractionLogin(db: Queryable, uid: string): Promise<void> {
  await db.query("UPDATE interactions SET user_id = NULL, auth_time = NULL, sid = NULL, pending_user_id = NULL, amr = '{}' WHERE uid = $1", [uid]);
}

import type { Queryable } from '../db/db.js';

export interface Interaction<P = Record<string, unknown>> {
  uid: string;
  clientId: string;
  params: P;
  userId: string | null;
  authTime: Date | null;
  sid: string | null;
  expiresAt: Date;
}

const SELECT = `SELECT uid, client_id AS "clientId", params, user_id AS "userId",
  auth_time AS "authTime", sid, expires_at AS "expiresAt" FROM interactions`;

export async function insertInteraction(
  db: Queryable,
  interaction: Omit<Interaction<unknown>, 'userId' | 'authTime' | 'sid'> & Partial<Pick<Interaction, 'userId' | 'authTime' | 'sid'>>,
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

/** Deletes the interaction; false when it was already gone (a double submit), so it finishes once. */
export async function consumeInteraction(db: Queryable, uid: string): Promise<boolean> {
  return (await db.query('DELETE FROM interactions WHERE uid = $1', [uid])).rowCount > 0;
}

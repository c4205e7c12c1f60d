import type { Queryable } from '../db/db.js';

export async function findConsentedScopes(db: Queryable, userId: string, clientId: string): Promise<string[]> {
  const { rows } = await db.query<{ scopes: string[] }>(
    'SELECT scopes FROM consents WHERE user_id = $1 AND client_id = $2',
    [userId, clientId],
  );
  return rows[0]?.scopes ?? [];
}

/** Remembers the union of what the user has consented to for this client. */
export async function addConsentedScopes(db: Queryable, userId: string, clientId: string, scopes: string[]): Promise<void> {
  await db.query(
    `INSERT INTO consents (user_id, client_id, scopes) VALUES ($1, $2, $3)
     ON CONFLICT (user_id, client_id) DO UPDATE
       SET scopes = ARRAY(SELECT DISTINCT unnest(consents.scopes || EXCLUDED.scopes) ORDER BY 1), updated_at = now()`,
    [userId, clientId, scopes],
  );
}

export interface ConsentSummary {
  clientId: string;
  scopes: string[];
  createdAt: Date;
}

/** What a user has consented to, per client. */
export async function listConsentsOfUser(db: Queryable, userId: string): Promise<ConsentSummary[]> {
  const { rows } = await db.query<ConsentSummary>(
    'SELECT client_id AS "clientId", scopes, created_at AS "createdAt" FROM consents WHERE user_id = $1 ORDER BY created_at, client_id',
    [userId],
  );
  return rows;
}

/** Forgets a user's consent to a client: the next authorization asks again. True when there was one. */
export async function deleteConsent(db: Queryable, userId: string, clientId: string): Promise<boolean> {
  return (await db.query('DELETE FROM consents WHERE user_id = $1 AND client_id = $2', [userId, clientId])).rowCount > 0;
}

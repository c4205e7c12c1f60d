import type { Queryable } from '../db/db.js';

export type CredentialDeviceType = 'singleDevice' | 'multiDevice';

/** A registered passkey (table webauthn_credentials). */
export interface WebAuthnCredentialRow {
  id: string;
  userId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  signCount: number;
  transports: string[];
  deviceType: CredentialDeviceType;
  backedUp: boolean;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

const SELECT = `SELECT id, user_id AS "userId", public_key AS "publicKey", sign_count AS "signCount", transports,
  device_type AS "deviceType", backed_up AS "backedUp", name, created_at AS "createdAt", last_used_at AS "lastUsedAt"
  FROM webauthn_credentials`;

/** bigint arrives as a string from node-postgres; bytea as a Buffer (a Uint8Array) from both drivers. */
function mapRow(row: WebAuthnCredentialRow): WebAuthnCredentialRow {
  return { ...row, signCount: Number(row.signCount), publicKey: new Uint8Array(row.publicKey) };
}

/** Stores a new credential; undefined when its ID is already registered (to anyone). */
export async function insertCredential(
  db: Queryable,
  credential: Omit<WebAuthnCredentialRow, 'createdAt' | 'lastUsedAt'>,
): Promise<WebAuthnCredentialRow | undefined> {
  const { rows } = await db.query<WebAuthnCredentialRow>(
    `INSERT INTO webauthn_credentials (id, user_id, public_key, sign_count, transports, device_type, backed_up, name)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO NOTHING
     RETURNING id, user_id AS "userId", public_key AS "publicKey", sign_count AS "signCount", transports,
       device_type AS "deviceType", backed_up AS "backedUp", name, created_at AS "createdAt", last_used_at AS "lastUsedAt"`,
    [
      credential.id,
      credential.userId,
      Buffer.from(credential.publicKey),
      credential.signCount,
      credential.transports,
      credential.deviceType,
      credential.backedUp,
      credential.name,
    ],
  );
  return rows[0] ? mapRow(rows[0]) : undefined;
}

export async function findCredential(db: Queryable, id: string): Promise<WebAuthnCredentialRow | undefined> {
  const { rows } = await db.query<WebAuthnCredentialRow>(`${SELECT} WHERE id = $1`, [id]);
  return rows[0] ? mapRow(rows[0]) : undefined;
}

export async function listCredentialsOfUser(db: Queryable, userId: string): Promise<WebAuthnCredentialRow[]> {
  const { rows } = await db.query<WebAuthnCredentialRow>(`${SELECT} WHERE user_id = $1 ORDER BY created_at, id`, [userId]);
  return rows.map(mapRow);
}

export async function countCredentialsOfUser(db: Queryable, userId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webauthn_credentials WHERE user_id = $1', [userId]);
  return rows[0]?.n ?? 0;
}

/**
 * Records a verified assertion. The counter only moves forward: the WHERE makes two parallel uses of
 * one counter value (a replayed or cloned signature racing the real one) succeed at most once; false
 * when the row was gone or the counter did not grow.
 */
export async function recordCredentialUse(
  db: Queryable,
  id: string,
  use: { previousCount: number; signCount: number; backedUp: boolean },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE webauthn_credentials SET sign_count = $3, backed_up = $4, last_used_at = now()
     WHERE id = $1 AND sign_count = $2`,
    [id, use.previousCount, use.signCount, use.backedUp],
  );
  return rowCount > 0;
}

/** Renames one of the user's own credentials; false when it is not theirs (or gone). */
export async function renameCredentialOfUser(db: Queryable, userId: string, id: string, name: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE webauthn_credentials SET name = $3 WHERE id = $2 AND user_id = $1', [userId, id, name]);
  return rowCount > 0;
}

/** Removes one of the user's own credentials; false when it is not theirs (or gone). */
/** Deletes one passkey of the user; its name, or undefined when the user has no passkey with that id. */
export async function deleteCredentialOfUser(db: Queryable, userId: string, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ name: string }>('DELETE FROM webauthn_credentials WHERE id = $2 AND user_id = $1 RETURNING name', [userId, id]);
  return rows[0]?.name;
}

/** Every passkey of a user (the admin's factor reset). */
export async function deleteCredentialsOfUser(db: Queryable, userId: string): Promise<number> {
  return (await db.query('DELETE FROM webauthn_credentials WHERE user_id = $1', [userId])).rowCount;
}

// ---- Challenges -------------------------------------------------------------------------------------

export type ChallengeBinding =
  | { purpose: 'authentication'; interactionUid: string; userId: string | null }
  | { purpose: 'registration'; sid: string };

/** How many outstanding challenges one interaction or session keeps; older ones are dropped. */
const MAX_OUTSTANDING = 5;

/** Stores a new challenge (its hash) for its owner, and drops that owner's oldest beyond MAX_OUTSTANDING. */
export async function insertChallenge(db: Queryable, challengeHash: string, binding: ChallengeBinding, ttlSeconds: number): Promise<void> {
  const interactionUid = binding.purpose === 'authentication' ? binding.interactionUid : null;
  const sid = binding.purpose === 'registration' ? binding.sid : null;
  const userId = binding.purpose === 'authentication' ? binding.userId : null;
  await db.query(
    `INSERT INTO webauthn_challenges (challenge_hash, purpose, interaction_uid, sid, user_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
    [challengeHash, binding.purpose, interactionUid, sid, userId, ttlSeconds],
  );
  const owner = interactionUid !== null ? 'interaction_uid' : 'sid';
  await db.query(
    `DELETE FROM webauthn_challenges WHERE ${owner} = $1 AND challenge_hash NOT IN
       (SELECT challenge_hash FROM webauthn_challenges WHERE ${owner} = $1 ORDER BY created_at DESC, challenge_hash LIMIT $2)`,
    [interactionUid ?? sid, MAX_OUTSTANDING],
  );
}

/**
 * Consumes a challenge: deleted whether or not the ceremony then verifies, so it serves one attempt.
 * Only a live challenge issued for this owner and purpose is returned (the binding of W3C WebAuthn
 * §13.4.3): a challenge of another interaction or session is not found. For authentication, the user
 * the challenge was issued for (second factor) or null (first factor).
 */
export async function consumeChallenge(
  db: Queryable,
  challengeHash: string,
  binding: { purpose: 'authentication'; interactionUid: string } | { purpose: 'registration'; sid: string },
): Promise<{ userId: string | null } | undefined> {
  const owner = binding.purpose === 'authentication' ? 'interaction_uid' : 'sid';
  const value = binding.purpose === 'authentication' ? binding.interactionUid : binding.sid;
  const { rows } = await db.query<{ userId: string | null; live: boolean }>(
    `DELETE FROM webauthn_challenges WHERE challenge_hash = $1 AND purpose = $2 AND ${owner} = $3
     RETURNING user_id AS "userId", expires_at > now() AS live`,
    [challengeHash, binding.purpose, value],
  );
  const row = rows[0];
  return row?.live ? { userId: row.userId } : undefined;
}

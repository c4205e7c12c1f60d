import type { Queryable } from '../db/db.js';

/** A user's TOTP authenticator; the secret only as its AES-GCM envelope. */
export interface TotpRecord {
  userId: string;
  secretCiphertext: string;
  confirmedAt: Date | null;
  lastUsedStep: number | null;
}

export async function findTotp(db: Queryable, userId: string): Promise<TotpRecord | undefined> {
  const { rows } = await db.query<TotpRecord>(
    `SELECT user_id AS "userId", secret_ciphertext AS "secretCiphertext", confirmed_at AS "confirmedAt",
            last_used_step::float8 AS "lastUsedStep"
     FROM user_totp WHERE user_id = $1`,
    [userId],
  );
  return rows[0];
}

/**
 * Starts (or restarts) an enrolment: a pending secret replaces an earlier pending one, never a confirmed
 * authenticator (false then: the user must turn it off first).
 */
export async function upsertPendingTotp(db: Queryable, userId: string, secretCiphertext: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO user_totp (user_id, secret_ciphertext) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = EXCLUDED.secret_ciphertext, created_at = now(), last_used_step = NULL
     WHERE user_totp.confirmed_at IS NULL`,
    [userId, secretCiphertext],
  );
  return rowCount > 0;
}

/**
 * Accepts a code's time step in one atomic UPDATE: only if it is later than every step accepted before,
 * so two requests with one code (or an older code after a newer one) cannot both pass (RFC 6238
 * section 5.2). `confirm`: this first code also confirms a pending enrolment; otherwise the
 * authenticator must already be confirmed.
 */
export async function consumeTotpStep(db: Queryable, userId: string, step: number, confirm: boolean): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE user_totp SET last_used_step = $2, confirmed_at = coalesce(confirmed_at, CASE WHEN $3::boolean THEN now() END)
     WHERE user_id = $1 AND (last_used_step IS NULL OR last_used_step < $2)
       AND (CASE WHEN $3::boolean THEN confirmed_at IS NULL ELSE confirmed_at IS NOT NULL END)`,
    [userId, step, confirm],
  );
  return rowCount > 0;
}

export async function deleteTotp(db: Queryable, userId: string): Promise<boolean> {
  return (await db.query('DELETE FROM user_totp WHERE user_id = $1', [userId])).rowCount > 0;
}

/** Replaces every recovery code of the user with new ones (hashes only). */
export async function replaceRecoveryCodes(db: Queryable, userId: string, codeHashes: readonly string[]): Promise<void> {
  await db.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
  await db.query('INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])', [userId, [...codeHashes]]);
}

/** Spends a recovery code in one atomic UPDATE: of two concurrent uses exactly one gets true. */
export async function consumeRecoveryCode(db: Queryable, userId: string, codeHash: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL',
    [userId, codeHash],
  );
  return rowCount > 0;
}

export async function countUnusedRecoveryCodes(db: Queryable, userId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
  return rows[0]?.n ?? 0;
}

export async function deleteRecoveryCodes(db: Queryable, userId: string): Promise<number> {
  return (await db.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId])).rowCount;
}

/**
 * Whether the user has a second factor the sign-in can ask for: today a confirmed TOTP authenticator. The
 * integrator adds `OR EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = $1)` once passkeys merge.
 */
export async function hasSecondFactor(db: Queryable, userId: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 WHERE EXISTS (SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL)
        OR EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = $1)`,
    [userId],
  );
  return rows.length > 0;
}

/** Whether the user has a confirmed authenticator app (the code form of the second step). */
export async function hasConfirmedTotp(db: Queryable, userId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL', [userId]);
  return rows.length > 0;
}

/**
 * Removes every sign-in factor of a user besides the password (admin reset): TOTP, recovery codes and
 * passkeys. Run it in one transaction. Returns how many kinds of factor were removed.
 */
export async function deleteAllSecondFactors(db: Queryable, userId: string): Promise<number> {
  const totp = await deleteTotp(db, userId);
  const codes = await deleteRecoveryCodes(db, userId);
  const passkeys = (await db.query('DELETE FROM webauthn_credentials WHERE user_id = $1', [userId])).rowCount;
  return (totp ? 1 : 0) + (codes > 0 ? 1 : 0) + (passkeys > 0 ? 1 : 0);
}

import type { Queryable } from '../db/db.js';

/** What a mailed single-use link lets its holder do (migrations/20261206022000_create_user_action_tokens.sql). */
export type ActionPurpose = 'verify_email' | 'reset_password' | 'invitation' | 'change_email';

export interface ActionToken {
  purpose: ActionPurpose;
  userId: string;
  /** The address the link was sent to. */
  email: string;
  expiresAt: Date;
}

export async function insertActionToken(
  db: Queryable,
  token: { tokenHash: string; purpose: ActionPurpose; userId: string; email: string; ttlSeconds: number },
): Promise<void> {
  await db.query(
    `INSERT INTO user_action_tokens (token_hash, purpose, user_id, email, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::int))`,
    [token.tokenHash, token.purpose, token.userId, token.email, token.ttlSeconds],
  );
}

/** A newer link supersedes the user's unused ones of the same purpose: they are marked used. */
export async function supersedeActionTokens(db: Queryable, userId: string, purposes: readonly ActionPurpose[]): Promise<number> {
  const { rowCount } = await db.query(
    'UPDATE user_action_tokens SET consumed_at = now() WHERE user_id = $1 AND purpose = ANY($2::text[]) AND consumed_at IS NULL',
    [userId, purposes],
  );
  return rowCount;
}

/** The link, if unused and unexpired, without consuming it (the page a GET of the link shows). */
export async function findLiveActionToken(db: Queryable, tokenHash: string, purposes: readonly ActionPurpose[]): Promise<ActionToken | undefined> {
  const { rows } = await db.query<ActionToken>(
    `SELECT purpose, user_id AS "userId", email, expires_at AS "expiresAt" FROM user_action_tokens
     WHERE token_hash = $1 AND purpose = ANY($2::text[]) AND consumed_at IS NULL AND expires_at > now()`,
    [tokenHash, purposes],
  );
  return rows[0];
}

/**
 * Uses the link up, in one statement: of two concurrent uses exactly one gets the row back, and an
 * expired or used link gives nothing.
 */
export async function consumeActionToken(db: Queryable, tokenHash: string, purposes: readonly ActionPurpose[]): Promise<ActionToken | undefined> {
  const { rows } = await db.query<ActionToken>(
    `UPDATE user_action_tokens SET consumed_at = now()
     WHERE token_hash = $1 AND purpose = ANY($2::text[]) AND consumed_at IS NULL AND expires_at > now()
     RETURNING purpose, user_id AS "userId", email, expires_at AS "expiresAt"`,
    [tokenHash, purposes],
  );
  return rows[0];
}

export interface RecentSends {
  /** Links of these purposes sent to the user within the window. */
  toUser: number;
  /** Links of any purpose sent to the address within the window. */
  toAddress: number;
  /** Seconds since the user's latest link of these purposes (null: none in the window). */
  sinceLast: number | null;
}

/** How many links went out recently: the resend limits are counted from the links themselves. */
export async function countRecentActionTokens(
  db: Queryable,
  userId: string,
  email: string,
  purposes: readonly ActionPurpose[],
  windowSeconds: number,
): Promise<RecentSends> {
  const { rows } = await db.query<RecentSends>(
    `SELECT
       (SELECT count(*)::int FROM user_action_tokens WHERE user_id = $1 AND purpose = ANY($3::text[])
          AND created_at > now() - make_interval(secs => $4::int)) AS "toUser",
       (SELECT count(*)::int FROM user_action_tokens WHERE lower(email) = lower($2)
          AND created_at > now() - make_interval(secs => $4::int)) AS "toAddress",
       (SELECT extract(epoch FROM now() - max(created_at))::int FROM user_action_tokens WHERE user_id = $1
          AND purpose = ANY($3::text[]) AND created_at > now() - make_interval(secs => $4::int)) AS "sinceLast"`,
    [userId, email, purposes, windowSeconds],
  );
  return rows[0]!;
}

/** The cleanup job's share: links past their lifetime (kept a day for the resend counts). */
export function deleteExpiredActionTokens(db: Queryable, batch: number): Promise<number> {
  return db
    .query(
      `DELETE FROM user_action_tokens WHERE token_hash IN
       (SELECT token_hash FROM user_action_tokens WHERE expires_at < now() - interval '1 day' LIMIT $1)`,
      [batch],
    )
    .then((r) => r.rowCount);
}

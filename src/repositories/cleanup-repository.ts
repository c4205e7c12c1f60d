import type { Queryable } from '../db/db.js';

/**
 * Deletes of rows nobody can use any more, one bounded batch per call: each statement picks at most
 * `batch` primary keys through an index and deletes those, so no call ever scans or holds millions of
 * rows. Callers repeat a delete until it comes back short. Each function returns the rows deleted.
 */

async function count(db: Queryable, sql: string, params: readonly unknown[]): Promise<number> {
  return (await db.query(sql, params)).rowCount;
}

/**
 * Unused codes past their expiry, and used ones once the refresh lifetime has passed too: a used code is
 * kept that long so that a late replay still revokes what its first use issued (RFC 6749 section 4.1.2).
 */
export function deleteExpiredAuthorizationCodes(db: Queryable, batch: number, retentionSeconds: number): Promise<number> {
  return count(
    db,
    `DELETE FROM authorization_codes WHERE code_hash IN
       (SELECT code_hash FROM authorization_codes
        WHERE expires_at < now() AND (consumed_at IS NULL OR expires_at < now() - make_interval(secs => $2::int))
        LIMIT $1)`,
    [batch, retentionSeconds],
  );
}

/** Access tokens past their expiry (revoked or not): their JWT no longer verifies. */
export function deleteExpiredAccessTokens(db: Queryable, batch: number): Promise<number> {
  return count(
    db,
    `DELETE FROM access_tokens WHERE jti IN (SELECT jti FROM access_tokens WHERE expires_at < now() LIMIT $1)`,
    [batch],
  );
}

/**
 * Refresh tokens past their expiry. Rotated and revoked ones are kept until then on purpose: replay
 * detection (RFC 9700 section 4.14.2) needs the rotated row for as long as the token could be presented.
 */
export function deleteExpiredRefreshTokens(db: Queryable, batch: number): Promise<number> {
  return count(
    db,
    `DELETE FROM refresh_tokens WHERE token_hash IN
       (SELECT token_hash FROM refresh_tokens WHERE expires_at < now() LIMIT $1)`,
    [batch],
  );
}

export function deleteExpiredSessions(db: Queryable, batch: number): Promise<number> {
  return count(
    db,
    `DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE expires_at < now() LIMIT $1)`,
    [batch],
  );
}

export function deleteExpiredInteractions(db: Queryable, batch: number): Promise<number> {
  return count(
    db,
    `DELETE FROM interactions WHERE uid IN (SELECT uid FROM interactions WHERE expires_at < now() LIMIT $1)`,
    [batch],
  );
}

/** Failure counters whose window has passed and that hold no lock: the next failure restarts at 1 anyway. */
export function deleteStaleAuthFailures(db: Queryable, batch: number, windowSeconds: number): Promise<number> {
  return count(
    db,
    `DELETE FROM auth_failures WHERE key IN
       (SELECT key FROM auth_failures
        WHERE first_failure_at < now() - make_interval(secs => $2::int) AND (locked_until IS NULL OR locked_until < now())
        LIMIT $1)`,
    [batch, windowSeconds],
  );
}

/**
 * Grants with no code, access token or refresh token left that are revoked or older than the refresh
 * token lifetime. Nothing can be issued under such a grant any more: issuing needs a live code or refresh
 * token, and a grant younger than the refresh lifetime is kept (its first code may be in flight).
 */
export function deleteDeadGrants(db: Queryable, batch: number, retentionSeconds: number): Promise<number> {
  return count(
    db,
    `DELETE FROM grants WHERE id IN
       (SELECT g.id FROM grants g
        WHERE (g.revoked_at IS NOT NULL OR g.created_at < now() - make_interval(secs => $2::int))
          AND NOT EXISTS (SELECT 1 FROM authorization_codes c WHERE c.grant_id = g.id)
          AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id)
          AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id)
        LIMIT $1)`,
    [batch, retentionSeconds],
  );
}

/**
 * Consents of a user and client that have no grant left and were last given longer ago than the retention
 * (the refresh token lifetime): the user has not used the client in that long, so the client asks again.
 */
export function deleteConsentsWithoutGrants(db: Queryable, batch: number, retentionSeconds: number): Promise<number> {
  return count(
    db,
    `DELETE FROM consents WHERE (user_id, client_id) IN
       (SELECT s.user_id, s.client_id FROM consents s
        WHERE s.updated_at < now() - make_interval(secs => $2::int)
          AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.user_id = s.user_id AND g.client_id = s.client_id)
        LIMIT $1)`,
    [batch, retentionSeconds],
  );
}

/**
 * Dynamically registered and metadata-document clients idle for `idleDays` (last token or authorization
 * request; never used: since creation). Their tokens, grants, consents and registration go with them (ON
 * DELETE CASCADE). Admin-registered clients are never deleted here. Returns the deleted client ids, so the
 * caller can drop them from the client cache.
 */
export async function deleteIdleRegisteredClients(db: Queryable, batch: number, idleDays: number): Promise<string[]> {
  const { rows } = await db.query<{ client_id: string }>(
    `DELETE FROM clients WHERE client_id IN
       (SELECT client_id FROM clients
        WHERE registration_type <> 'admin' AND coalesce(last_used_at, created_at) < now() - make_interval(days => $2::int)
        LIMIT $1)
     RETURNING client_id`,
    [batch, idleDays],
  );
  return rows.map((row) => row.client_id);
}

import type { Queryable } from '../db/db.js';

/** Seconds until the longest lock among the keys ends, or 0 when none is locked. */
export async function findLockSeconds(db: Queryable, keys: readonly string[]): Promise<number> {
  const { rows } = await db.query<{ seconds: number | null }>(
    `SELECT ceil(extract(epoch FROM max(locked_until) - now()))::int AS seconds
     FROM auth_failures WHERE key = ANY($1::text[]) AND locked_until > now()`,
    [keys],
  );
  return rows[0]?.seconds ?? 0;
}

/**
 * Counts one failure for a key in one atomic upsert: the count restarts when the window has passed, and
 * the key is locked for `windowSeconds` once it reaches `limit`.
 */
export async function recordAuthFailure(db: Queryable, key: string, limit: number, windowSeconds: number): Promise<void> {
  await db.query(
    `INSERT INTO auth_failures (key, failures, first_failure_at) VALUES ($1, 1, now())
     ON CONFLICT (key) DO UPDATE SET
       failures = CASE WHEN auth_failures.first_failure_at < now() - make_interval(secs => $2::int) THEN 1 ELSE auth_failures.failures + 1 END,
       first_failure_at = CASE WHEN auth_failures.first_failure_at < now() - make_interval(secs => $2::int) THEN now() ELSE auth_failures.first_failure_at END`,
    [key, windowSeconds],
  );
  await db.query(
    `UPDATE auth_failures SET locked_until = now() + make_interval(secs => $3::int)
     WHERE key = $1 AND failures >= $2::int AND (locked_until IS NULL OR locked_until <= now())`,
    [key, limit, windowSeconds],
  );
}

export async function clearAuthFailures(db: Queryable, key: string): Promise<void> {
  await db.query('DELETE FROM auth_failures WHERE key = $1', [key]);
}

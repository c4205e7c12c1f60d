import type { Queryable } from '../db/db.js';
import { batchedStatement } from './batched-statements.js';

/**
 * Seconds until the longest lock among the keys ends, or 0 when none is locked. Every token, introspection
 * and revocation request asks, so concurrent asks share one query (batched-statements.ts).
 */
export const findLockSeconds = batchedStatement(async (db: Queryable, keySets: (readonly string[])[]): Promise<number[]> => {
  const { rows } = await db.query<{ key: string; seconds: number }>(
    `SELECT key, ceil(extract(epoch FROM locked_until - now()))::int AS seconds
     FROM auth_failures WHERE key = ANY($1::text[]) AND locked_until > now()`,
    [[...new Set(keySets.flat())]],
  );
  const locked = new Map(rows.map((row) => [row.key, row.seconds]));
  return keySets.map((keys) => Math.max(0, ...keys.map((key) => locked.get(key) ?? 0)));
});

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

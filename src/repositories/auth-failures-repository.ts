import type { Queryable } from '../db/db.js';
import { batchedStatement } from './batched-statements.js';

/**
 * Failure counters for brute-force protection (src/services/throttle-service.ts), shared by every replica.
 * Keys are keyed hashes of fixed length, so a 3,000-character login or client_id is just another key.
 */
export interface ThrottleCounter {
  key: string;
  /** The keyed hash of the account or client this counter throttles (for an admin unlock); null per address. */
  subject: string | null;
  /** Failures allowed within the window before the key waits. */
  free: number;
  /** The wait after the `free`-th failure; it doubles with each further failure up to maxDelaySeconds. */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
}

/**
 * Seconds until the longest wait among the keys ends, or 0 when none waits. Every token, introspection and
 * revocation request asks, so concurrent asks share one query (batched-statements.ts).
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
 * One upsert that counts an attempt on one key unless the key is waiting. The count restarts when the
 * window has passed; from the `free`-th failure on, the key waits base * 2^(n - free) seconds (at most max).
 * ON CONFLICT DO UPDATE re-reads the row under its lock, so concurrent attempts see each other's counts.
 */
function countOne(p: number, gate: string): string {
  const [key, subject, free, base, max] = [1, 2, 3, 4, 5].map((i) => `$${p + i}`);
  const expired = `f.first_failure_at < now() - make_interval(secs => $1::int)`;
  const n = `(CASE WHEN ${expired} THEN 1 ELSE f.failures + 1 END)`;
  const wait = (count: string) =>
    `CASE WHEN ${count} >= ${free}::int THEN now() + make_interval(secs => least(${max}::int, ${base}::int * power(2, least(${count} - ${free}::int, 30)))) END`;
  return `INSERT INTO auth_failures AS f (key, subject, failures, first_failure_at, locked_until)
    SELECT ${key}::text, ${subject}::text, 1, now(), ${wait('1')}
    WHERE EXISTS (SELECT 1 FROM ${gate})
    ON CONFLICT (key) DO UPDATE SET
      failures = ${n},
      first_failure_at = CASE WHEN ${expired} THEN now() ELSE f.first_failure_at END,
      locked_until = ${wait(n)},
      subject = coalesce(f.subject, EXCLUDED.subject)
    WHERE f.locked_until IS NULL OR f.locked_until <= now()
    RETURNING 1`;
}

/**
 * Counts one attempt on every counter, in order, in one statement, and tells whether it may go ahead. The
 * `checked` keys are only checked (the attempt goes ahead only if none waits), not counted. Each counter is
 * counted only if the ones before it were (and were not waiting), so an attempt refused by an earlier key
 * never counts against a later one. Callers order the counters from the attacker's own (its address) to
 * the victim's (the account), so refused attempts do not lengthen an account's wait, and always in the
 * same order, so that concurrent statements lock rows in one order (no deadlock).
 */
export async function countAttempt(
  db: Queryable,
  windowSeconds: number,
  counters: readonly ThrottleCounter[],
  checked: readonly string[] = [],
): Promise<boolean> {
  const params: unknown[] = [windowSeconds, checked];
  const ctes = [`g AS (SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM auth_failures WHERE key = ANY($2::text[]) AND locked_until > now()))`];
  counters.forEach((c, i) => {
    ctes.push(`c${i} AS (${countOne(2 + i * 5, i === 0 ? 'g' : `c${i - 1}`)})`);
    params.push(c.key, c.subject, c.free, c.baseDelaySeconds, c.maxDelaySeconds);
  });
  const { rows } = await db.query<{ counted: boolean }>(
    `WITH ${ctes.join(',\n')} SELECT EXISTS (SELECT 1 FROM c${counters.length - 1}) AS counted`,
    params,
  );
  return rows[0]?.counted === true;
}

/** After a success: the counters whose attempt was counted in advance start over. */
export async function clearCounters(db: Queryable, keys: readonly string[]): Promise<void> {
  await db.query('DELETE FROM auth_failures WHERE key = ANY($1::text[])', [keys]);
}

/** Admin unlock: every counter of one account or client, whichever address it is paired with. */
export async function clearSubject(db: Queryable, subject: string): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM auth_failures WHERE subject = $1', [subject]);
  return rowCount;
}

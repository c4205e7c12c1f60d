/** Postgres error codes the repositories translate into domain outcomes. */
export const PG_UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(err: unknown): err is { code: string; constraint?: string } {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === PG_UNIQUE_VIOLATION;
}

/**
 * A dependency (the database) cannot answer right now. Thrown by the drivers for faults they recognise
 * themselves (a closed PGlite, a pool that has ended); raw driver errors are classified by storageFault.
 */
export class StorageUnavailable extends Error {
  override name = 'StorageUnavailable';
  readonly code = 'authly_storage_unavailable';
}

/**
 * What a storage error means for the caller:
 * - `unavailable`: the database cannot be reached or is shutting down; 503 + Retry-After, the client retries
 *   (SECURITY.md: a dependency that is down gives 503 with Retry-After, never 500).
 * - `conflict`: a serialization failure or deadlock between concurrent transactions; retrying succeeds, so
 *   it is a 503 with a short Retry-After too, never a 500.
 * - `busy`: a lock or statement timed out (55P03, 57014): the database is overloaded; 503.
 * - `invalid_input`: the input itself cannot be stored (a value longer than its column, bytes that are not
 *   UTF-8); the client's fault, 400 invalid_request (a 5xx would invite retrying the same input).
 */
export type StorageFaultKind = 'unavailable' | 'conflict' | 'busy' | 'invalid_input';

export interface StorageFault {
  kind: StorageFaultKind;
  /** The SQLSTATE or errno that decided it (logged, never sent). */
  code: string;
  /** Seconds for Retry-After on the 503 kinds. */
  retryAfterSeconds: number;
}

/** Node socket errors that mean "the server is not there (now)". */
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * node-postgres reports a lost or never-made connection as a plain Error without a code; these are its
 * messages (pg 8: client.js, pg-pool). Matching on text is fragile, so the test pins each one
 * (test/unit/errors/storage-errors.test.ts) and the fault test exercises the real ones.
 */
const CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
  /^Cannot use a pool after calling end on the pool/,
  /^Connection is closed/,
];

/** Classifies a database error by its SQLSTATE (PostgreSQL Appendix A) or socket errno; undefined: a bug. */
export function storageFault(err: unknown): StorageFault | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  const message = (err as { message?: unknown }).message;
  if (err instanceof StorageUnavailable) return { kind: 'unavailable', code: err.code, retryAfterSeconds: 5 };
  if (typeof code === 'string') {
    if (CONNECTION_ERRNOS.has(code)) return { kind: 'unavailable', code, retryAfterSeconds: 5 };
    // Class 08 connection exception; 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now
    // (starting up or in recovery); class 53 insufficient resources (too many connections, out of memory).
    if (/^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || /^53[0-9A-Z]{3}$/.test(code)) {
      return { kind: 'unavailable', code, retryAfterSeconds: 5 };
    }
    // 40001 serialization_failure, 40P01 deadlock_detected: the transaction was rolled back and may be retried.
    if (code === '40001' || code === '40P01') return { kind: 'conflict', code, retryAfterSeconds: 1 };
    // 55P03 lock_not_available (lock_timeout), 57014 query_canceled (statement_timeout or a cancel).
    if (code === '55P03' || code === '57014') return { kind: 'busy', code, retryAfterSeconds: 2 };
    // 22001 string_data_right_truncation, 22021 character_not_in_repertoire (invalid byte sequence).
    if (code === '22001' || code === '22021') return { kind: 'invalid_input', code, retryAfterSeconds: 0 };
  }
  if (typeof message === 'string' && CONNECTION_MESSAGES.some((pattern) => pattern.test(message))) {
    return { kind: 'unavailable', code: 'connection', retryAfterSeconds: 5 };
  }
  return undefined;
}

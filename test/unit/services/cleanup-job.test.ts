import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Db, Queryable } from '../../../src/db/db.js';
import { loadConfig } from '../../../src/config/config.js';
import { startCleanupJob } from '../../../src/services/cleanup-job.js';
import { Metrics } from '../../../src/services/metrics.js';

const config = loadConfig({ JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters' });

/** A database whose first connection fails and whose later ones hold nothing to delete. */
function flakyDb(): Db & { connections: number } {
  const conn: Queryable = {
    query: async <T>(sql: string) => ({ rows: (sql.includes('pg_try_advisory_lock') ? [{ locked: true }] : []) as T[], rowCount: 0 }),
  };
  const db = {
    kind: 'pglite' as const,
    description: 'stub',
    connections: 0,
    query: conn.query,
    transaction: async <T>(fn: (tx: Queryable) => Promise<T>) => fn(conn),
    async withConnection<T>(fn: (c: Queryable) => Promise<T>): Promise<T> {
      db.connections += 1;
      if (db.connections === 1) throw new Error('connection refused');
      return fn(conn);
    },
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    close: async () => {},
  };
  return db;
}

describe('cleanup job', () => {
  afterEach(() => vi.useRealTimers());

  it('runs every interval (with at most 10% jitter), survives a failed run, and stops', async () => {
    vi.useFakeTimers();
    const db = flakyDb();
    const info = vi.fn();
    const error = vi.fn();
    const job = startCleanupJob({ db, config, metrics: new Metrics(db) }, { info, error }, 1);

    await vi.advanceTimersByTimeAsync(59_000);
    expect(db.connections).toBe(0);
    await vi.advanceTimersByTimeAsync(7_000);
    expect(db.connections).toBe(1);
    expect(error).toHaveBeenCalledWith(expect.objectContaining({ event: 'cleanup.failed' }), 'cleanup failed; retrying at the next interval');

    await vi.advanceTimersByTimeAsync(66_000);
    expect(db.connections).toBe(2);
    expect(info).toHaveBeenCalledWith(expect.objectContaining({ event: 'cleanup.completed' }), 'cleanup completed');

    await job.stop();
    await vi.advanceTimersByTimeAsync(10 * 66_000);
    expect(db.connections).toBe(2);
  });
});

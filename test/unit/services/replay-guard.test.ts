import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/config.js';
import { RedisConnection } from '../../../src/db/redis-connection.js';
import { useOnce } from '../../../src/services/replay-guard.js';
import { uniqueRedisPrefix } from '../../helpers/redis.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';
import { testRedisUrl } from '../../helpers/tools.js';

const config = { redisKeyPrefix: uniqueRedisPrefix() } as Readonly<Config>;
const inAMinute = () => new Date(Date.now() + 60_000);
const silent = { info: () => {}, warn: () => {}, error: () => {} };

let testDb: TestDb;
beforeAll(async () => {
  testDb = await createTestDb();
});
afterAll(async () => testDb.drop());

describe('useOnce on the database (no Redis)', () => {
  it('accepts an identifier once and refuses its replay; namespaces are apart', async () => {
    const ctx = { db: testDb.db, redis: undefined, config };
    expect(await useOnce(ctx, 'dpop_proof', 'jti-1', inAMinute())).toBe(true);
    expect(await useOnce(ctx, 'dpop_proof', 'jti-1', inAMinute())).toBe(false);
    expect(await useOnce(ctx, 'client_assertion', 'jti-1', inAMinute())).toBe(true);
  });

  it('of concurrent uses of one identifier exactly one wins', async () => {
    const ctx = { db: testDb.db, redis: undefined, config };
    const results = await Promise.all(Array.from({ length: 8 }, () => useOnce(ctx, 'dpop_proof', 'raced', inAMinute())));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('concurrent first uses of different identifiers share one statement and all win; a copy in the same batch loses', async () => {
    const ctx = { db: testDb.db, redis: undefined, config };
    const ids = ['batch-a', 'batch-b', 'batch-c', 'batch-a'];
    const results = await Promise.all(ids.map((id) => useOnce(ctx, 'dpop_proof', id, inAMinute())));
    expect(results).toEqual([true, true, true, false]);
  });

  it('an identifier whose time has passed may be used again, whether or not cleanup removed it', async () => {
    const ctx = { db: testDb.db, redis: undefined, config };
    await testDb.db.query(`INSERT INTO used_jtis (namespace, jti_hash, expires_at) VALUES ('dpop_proof', 'x', now() - interval '1 second')`);
    const { recordUsedJti } = await import('../../../src/repositories/used-jtis-repository.js');
    expect(await recordUsedJti(testDb.db, 'dpop_proof', 'x', inAMinute())).toBe(true);
    expect(await useOnce(ctx, 'dpop_proof', 'fresh', inAMinute())).toBe(true);
  });
});

const redisUrl = testRedisUrl();
describe.skipIf(!redisUrl)('useOnce on Redis, shared by two replicas', () => {
  const connections: RedisConnection[] = [];
  async function replica() {
    const redis = new RedisConnection(redisUrl!);
    connections.push(redis);
    redis.start(silent);
    await redis.waitFor('up');
    return { db: testDb.db, redis, config };
  }
  afterAll(async () => {
    for (const connection of connections) await connection.close();
  });

  it('a replay on the other replica is refused, and nothing is written to the database', async () => {
    const [a, b] = [await replica(), await replica()];
    const before = (await testDb.db.query(`SELECT 1 FROM used_jtis`)).rowCount;
    expect(await useOnce(a, 'client_assertion', 'client-1:jti-9', inAMinute())).toBe(true);
    expect(await useOnce(b, 'client_assertion', 'client-1:jti-9', inAMinute())).toBe(false);
    expect((await testDb.db.query(`SELECT 1 FROM used_jtis`)).rowCount).toBe(before);
  });
});

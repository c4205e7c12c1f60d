import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheHub, type CacheSpec } from '../../../src/cache/cache-hub.js';
import { RedisConnection } from '../../../src/db/redis-connection.js';
import { uniqueRedisPrefix } from '../../helpers/redis.js';
import { testRedisUrl } from '../../helpers/tools.js';

/**
 * The shared (Redis) level of the cache against a real Redis: two hubs are two replicas. Each test uses
 * its own keys under a prefix no other test file uses.
 */
const redisUrl = testRedisUrl();

interface Row {
  id: string;
  version: number;
  at: Date;
}

const SPEC: CacheSpec<Row> = {
  name: 'rows',
  l1TtlMs: 60_000,
  l1MaxEntries: 100,
  l2TtlSeconds: 60,
  revive: (json) => ({ ...(json as Row), at: new Date((json as { at: string }).at) }),
};

const silent = { info: () => undefined, warn: () => undefined };

describe.skipIf(!redisUrl)('CacheHub, shared mode (Redis L2 and invalidation across replicas)', () => {
  const prefix = uniqueRedisPrefix();
  const connections: RedisConnection[] = [];
  const db = new Map<string, Row>();
  const loads: string[] = [];
  const load = (id: string) => async () => {
    loads.push(id);
    const row = db.get(id);
    return row && structuredClone(row);
  };

  async function replica() {
    const redis = new RedisConnection(redisUrl!);
    connections.push(redis);
    const hub = new CacheHub({ mode: 'shared', redis, prefix, integrityKey: Buffer.alloc(32, 7) });
    const cache = hub.define(SPEC);
    redis.start(silent);
    await hub.whenUsable();
    return { redis, hub, cache };
  }

  let a: Awaited<ReturnType<typeof replica>>;
  let b: Awaited<ReturnType<typeof replica>>;

  beforeAll(async () => {
    a = await replica();
    b = await replica();
  });
  afterAll(async () => {
    for (const connection of connections) await connection.close();
  });

  it('a row loaded by one replica is served to the other from Redis, dates revived', async () => {
    db.set('r1', { id: 'r1', version: 1, at: new Date('2026-01-02T03:04:05.000Z') });
    await a.cache.get('r1', load('r1'));
    await a.redis.client.ping(); // the write-back went out on this connection before the ping
    const row = await b.cache.get('r1', load('r1'));
    expect(row).toEqual({ id: 'r1', version: 1, at: new Date('2026-01-02T03:04:05.000Z') });
    expect(loads.filter((id) => id === 'r1')).toHaveLength(1);
  });

  it('an invalidation on one replica has reached the other once it resolves', async () => {
    db.set('r2', { id: 'r2', version: 1, at: new Date(0) });
    await b.cache.get('r2', load('r2'));
    expect((await b.cache.get('r2', load('r2')))?.version).toBe(1); // cached in B's L1
    db.set('r2', { id: 'r2', version: 2, at: new Date(0) });
    await a.cache.invalidate('r2');
    expect((await b.cache.get('r2', load('r2')))?.version).toBe(2);
  });

  it('a reader that loaded before an invalidation cannot write its old row back to Redis', async () => {
    db.set('r3', { id: 'r3', version: 1, at: new Date(0) });
    let release!: () => void;
    let loaded!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const wasLoaded = new Promise<void>((resolve) => (loaded = resolve));
    const slow = b.cache.get('r3', async () => {
      const row = await load('r3')();
      loaded();
      await gate; // B has read version 1 from the database; the write and its invalidation land now
      return row;
    });
    await wasLoaded;
    db.set('r3', { id: 'r3', version: 2, at: new Date(0) });
    await a.cache.invalidate('r3');
    release();
    expect((await slow)?.version).toBe(1);
    await b.redis.client.ping(); // B's refused write-back has been processed
    expect(await b.redis.client.get(b.hub.redisKey('rows', 'r3', 'value'))).toBeNull();
    expect((await a.cache.get('r3', load('r3')))?.version).toBe(2);
  });

  it('ignores a value in Redis that does not carry a valid HMAC (forged, or moved from another key)', async () => {
    db.set('r4', { id: 'r4', version: 1, at: new Date(0) });
    db.set('r5', { id: 'r5', version: 1, at: new Date(0) });
    const forged = JSON.stringify({ id: 'r4', version: 666, at: new Date(0) });
    await a.redis.client.set(a.hub.redisKey('rows', 'r4', 'value'), `${Buffer.alloc(32).toString('base64url')}.${forged}`);
    expect((await a.cache.get('r4', load('r4')))?.version).toBe(1);
    // A genuine entry of r5, copied under r4's key, does not verify either (the HMAC binds the key).
    await b.cache.get('r5', load('r5'));
    await b.redis.client.ping();
    const genuine = await b.redis.client.get(b.hub.redisKey('rows', 'r5', 'value'));
    expect(genuine).toMatch(/^[\w-]{43}\.\{/);
    db.set('r6', { id: 'r6', version: 1, at: new Date(0) });
    await a.redis.client.set(a.hub.redisKey('rows', 'r6', 'value'), genuine!);
    const loadsBefore = loads.length;
    expect((await b.cache.get('r6', load('r6')))?.id).toBe('r6');
    expect(loads.length).toBe(loadsBefore + 1); // it went to the database
  });

  it('keys are bounded: a very long id is hashed', () => {
    expect(a.hub.redisKey('rows', 'x'.repeat(5000), 'value')).toMatch(new RegExp(`^${prefix}cache:v:rows:sha256:[0-9a-f]{64}$`));
  });
});

import { describe, expect, it } from 'vitest';
import { CacheHub, type CacheResult, type CacheSpec } from '../../../src/cache/cache-hub.js';
import type { RedisConnection, RedisState } from '../../../src/db/redis-connection.js';

/**
 * The shared mode's outage handling against a scripted Redis: what happens to invalidations that cannot
 * be sent, and when the cache may be used again. (The real thing is in test/deploy/redis-outage.test.ts.)
 */
class FakeRedis {
  isUp = false;
  failing = false;
  readonly store = new Map<string, string>();
  readonly published: string[] = [];
  private readonly listeners: ((state: RedisState) => void)[] = [];
  private handler: ((channel: string, message: string) => void) | undefined;

  readonly client = {
    mget: async (...keys: string[]) => this.run(() => keys.map((k) => this.store.get(k) ?? null)),
    eval: async () => this.run(() => 1),
    publish: async (channel: string, message: string) =>
      this.run(() => {
        this.published.push(message);
        // Delivered to our own subscriber, which acknowledges: one receiver.
        queueMicrotask(() => this.handler?.(channel, message));
        return 1;
      }),
    scan: async () => this.run(() => ['0', []]),
    del: async () => this.run(() => 1),
    multi: () => {
      const ops: (() => void)[] = [];
      const chain = {
        incr: (k: string) => (ops.push(() => this.store.set(k, String(Number(this.store.get(k) ?? 0) + 1))), chain),
        expire: () => chain,
        del: (k: string) => (ops.push(() => this.store.delete(k)), chain),
        exec: async () => this.run(() => ops.forEach((op) => op())),
      };
      return chain;
    },
  };

  private async run<T>(f: () => T): Promise<T> {
    if (this.failing || !this.isUp) throw new Error('redis unavailable');
    return f();
  }

  subscribe(channel: string, handler?: (channel: string, message: string) => void): void {
    if (handler) this.handler = handler;
    void channel;
  }
  onStateChange(listener: (state: RedisState) => void): void {
    this.listeners.push(listener);
  }
  set(state: RedisState): void {
    this.isUp = state === 'up';
    for (const listener of this.listeners) listener(state);
  }
}

const SPEC: CacheSpec<{ id: string }> = { name: 'rows', l1TtlMs: 60_000, l1MaxEntries: 10, l2TtlSeconds: 60, revive: (j) => j as { id: string } };

function setup() {
  const redis = new FakeRedis();
  const results: CacheResult[] = [];
  const hub = new CacheHub({
    mode: 'shared',
    redis: redis as unknown as RedisConnection,
    prefix: 'p:',
    integrityKey: Buffer.alloc(32, 1),
    ackTimeoutMs: 50,
    observe: (_c, r) => results.push(r),
  });
  const cache = hub.define(SPEC);
  const load = async () => ({ id: 'a' });
  return { redis, hub, cache, results, load };
}

const invalidations = (redis: FakeRedis) => redis.published.filter((m) => m.startsWith('{')).map((m) => (JSON.parse(m) as { key: string }).key);

describe('CacheHub shared mode: outages', () => {
  it('bypasses the cache until Redis is up, then uses it', async () => {
    const { redis, hub, cache, results, load } = setup();
    await cache.get('a', load);
    expect(results).toEqual(['bypass']);
    redis.set('up');
    await hub.whenUsable();
    await cache.get('a', load);
    await cache.get('a', load);
    expect(results).toEqual(['bypass', 'miss', 'hit']);
  });

  it('sends an invalidation made during the outage when Redis is back, before using the cache again', async () => {
    const { redis, hub, cache } = setup();
    redis.set('up');
    await hub.whenUsable();
    redis.set('down');
    await cache.invalidate('a'); // cannot be sent now
    expect(hub.usable).toBe(false);
    redis.set('up');
    await hub.whenUsable();
    expect(invalidations(redis)).toEqual(['a']);
    expect(redis.store.get(hub.redisKey('rows', 'a', 'generation'))).toBe('1');
  });

  it('an invalidation that fails while Redis looks up turns the cache off until it has been sent', async () => {
    const { redis, hub, cache, results, load } = setup();
    redis.set('up');
    await hub.whenUsable();
    await cache.get('a', load);
    redis.failing = true;
    await cache.invalidate('a');
    expect(hub.usable).toBe(false);
    await cache.get('a', load);
    expect(results.at(-1)).toBe('bypass');
    redis.failing = false;
    await hub.whenUsable(); // the retry (after a second) sent it
    expect(invalidations(redis)).toEqual(['a']);
  });
});

import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { RedisConnection, RedisState } from '../db/redis-connection.js';

/**
 * Read-through caches for hot, rarely written rows (clients first), in two levels:
 *
 * - L1: a small in-process map with a short TTL, the fast path (no I/O at all on a hit).
 * - L2: Redis, shared by every replica, so a cold replica does not go to the database for each client.
 *
 * Writers (the admin API) call `invalidate` after their transaction committed: it bumps the key's
 * generation in Redis, deletes the L2 value and publishes the key; every replica drops its L1 entry and
 * acknowledges, and the writer waits (bounded) for those acknowledgements, so once the admin API has
 * answered, no replica serves the old row any more ("rotated on one, refused on the other at once").
 *
 * Rules that keep it correct:
 * - Misses are never cached: a client created on replica A works on replica B at once.
 * - A value read from the database is stored only if no invalidation for that key happened meanwhile
 *   (local epoch for L1, Redis generation for L2), so a slow reader cannot put an old row back.
 * - While Redis is configured but down, the cache is bypassed entirely (invalidations could be lost), and
 *   L1 is flushed when it comes back; invalidations that could not be sent are replayed first.
 * - Token revocation state is never cached here: only definitions that admin writes change.
 * - Values in Redis carry an HMAC bound to the cache and key: whoever can write to Redis still cannot
 *   make Authly accept a forged or moved client (a changed redirect URI, a public client). An entry that
 *   does not verify is ignored as if absent.
 */
export type CacheResult = 'hit' | 'miss' | 'bypass';

export type CacheMode =
  /** Redis L2 and pub/sub invalidation across replicas. */
  | 'shared'
  /** L1 only: exact for a single process, where every write passes through this hub. */
  | 'local'
  /** No caching at all (several worker processes without Redis could not hear each other's writes). */
  | 'off';

export interface CacheSpec<T> {
  name: string;
  l1TtlMs: number;
  l1MaxEntries: number;
  l2TtlSeconds: number;
  /** Rebuilds a value from its JSON (dates, for instance). */
  revive(json: unknown): T;
  /**
   * Called whenever this process drops `key` (undefined: everything), whether the invalidation came from
   * here or from another replica: lets state kept outside the cache (the signing keys) follow it. A
   * replica acknowledges another's invalidation only once the returned promise has settled.
   */
  onDrop?(key: string | undefined): void | Promise<void>;
}

export interface CacheHubOptions {
  mode: CacheMode;
  redis?: RedisConnection;
  /** Prefix of every Redis key and channel (several deployments may share one Redis). */
  prefix: string;
  observe?: (cache: string, result: CacheResult) => void;
  /** How long a writer waits for the other replicas to acknowledge an invalidation. */
  ackTimeoutMs?: number;
  /**
   * Shared mode: the key of the HMAC that authenticates every value stored in Redis (derived from the
   * server secret, src/plugins/shared-state.ts). Required: a fixed key would let anyone who can write to
   * Redis forge entries.
   */
  integrityKey?: Buffer;
}

interface InvalidationMessage {
  id: string;
  cache: string;
  key: string;
}

/** More keys than this pending during an outage: drop every L2 value on recovery instead. */
const MAX_PENDING = 10_000;

// Store the value only if the key's generation is still the one seen before reading the database.
const SET_IF_GENERATION = `
if (redis.call('GET', KEYS[2]) or '') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
  return 1
end
return 0`;

export class CacheHub {
  readonly mode: CacheMode;
  private readonly caches = new Map<string, Cache<unknown>>();
  private readonly pending = new Set<string>();
  private pendingOverflow = false;
  private readonly acks = new Map<string, { count: number; expected: number; done: () => void }>();
  private readonly invalidateChannel: string;
  private readonly ackChannel: string;
  /** Shared mode: true while Redis is up and nothing is left to replay. */
  private ready = false;
  private readyWaiters: (() => void)[] = [];
  private recovering = false;

  constructor(readonly options: CacheHubOptions) {
    this.mode = options.mode === 'shared' && !options.redis ? 'local' : options.mode;
    if (this.mode === 'shared' && (options.integrityKey?.length ?? 0) < 32) {
      throw new Error('CacheHub: shared mode needs an integrityKey of at least 32 bytes');
    }
    this.invalidateChannel = `${options.prefix}cache:invalidate`;
    this.ackChannel = `${options.prefix}cache:ack`;
    const redis = options.redis;
    if (this.mode === 'shared' && redis) {
      redis.subscribe(this.invalidateChannel, (channel, message) => this.onMessage(channel, message));
      redis.subscribe(this.ackChannel);
      redis.onStateChange((state) => void this.onRedisState(state));
    }
  }

  define<T>(spec: CacheSpec<T>): Cache<T> {
    const cache = new Cache<T>(this, spec);
    this.caches.set(spec.name, cache as Cache<unknown>);
    return cache;
  }

  /** True when lookups may use the cache right now. */
  get usable(): boolean {
    return this.mode === 'local' || (this.mode === 'shared' && this.ready);
  }

  /** Resolves once lookups use the cache (shared mode: after Redis came up and pending work was done). */
  whenUsable(): Promise<void> {
    if (this.usable || this.mode === 'off') return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Drops `key` from every replica's cache; resolves once they acknowledged (or after a short timeout). */
  async invalidate(name: string, key: string): Promise<void> {
    this.caches.get(name)?.dropLocal(key);
    if (this.mode !== 'shared') return;
    const pendingKey = `${name}\u0000${key}`;
    if (!this.ready) {
      this.remember(pendingKey);
      return;
    }
    try {
      await this.dropShared(name, key);
      await this.publishAndWait(name, key);
    } catch {
      // Redis failed although it looked up (a timeout, a dying connection): stop using the cache until
      // this invalidation has been sent.
      this.remember(pendingKey);
      this.ready = false;
      this.flushLocal();
      void this.recover();
    }
  }

  /** Every L1 entry of every cache (Redis came back, or went away). */
  flushLocal(): void {
    for (const cache of this.caches.values()) cache.dropLocal(undefined);
  }

  observe(cache: string, result: CacheResult): void {
    this.options.observe?.(cache, result);
  }

  redisKey(name: string, key: string, kind: 'value' | 'generation'): string {
    // Client ids are short; anything long (an attacker's client_id) is hashed to keep keys bounded.
    const k = key.length <= 100 ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
    return `${this.options.prefix}cache:${kind === 'value' ? 'v' : 'g'}:${name}:${k}`;
  }

  /** The JSON stored for `key` (null when absent or when its HMAC does not verify) and its generation. */
  async readShared(name: string, key: string): Promise<{ raw: string | null; generation: string }> {
    const [sealed, generation] = await this.options.redis!.client.mget(this.redisKey(name, key, 'value'), this.redisKey(name, key, 'generation'));
    return { raw: sealed ? this.unseal(name, key, sealed) : null, generation: generation ?? '' };
  }

  private mac(name: string, key: string, json: string): Buffer {
    return createHmac('sha256', this.options.integrityKey!).update(`${name}\u0000${key}\u0000${json}`).digest();
  }

  private seal(name: string, key: string, json: string): string {
    return `${this.mac(name, key, json).toString('base64url')}.${json}`;
  }

  private unseal(name: string, key: string, sealed: string): string | null {
    const dot = sealed.indexOf('.');
    if (dot < 0) return null;
    const json = sealed.slice(dot + 1);
    const given = Buffer.from(sealed.slice(0, dot), 'base64url');
    const expected = this.mac(name, key, json);
    return given.length === expected.length && timingSafeEqual(given, expected) ? json : null;
  }

  async writeShared(name: string, key: string, generation: string, value: unknown, ttlSeconds: number): Promise<void> {
    await this.options.redis!.client.eval(
      SET_IF_GENERATION,
      2,
      this.redisKey(name, key, 'value'),
      this.redisKey(name, key, 'generation'),
      generation,
      this.seal(name, key, JSON.stringify(value)),
      String(ttlSeconds),
    );
  }

  private remember(pendingKey: string): void {
    if (this.pending.size >= MAX_PENDING) this.pendingOverflow = true;
    else this.pending.add(pendingKey);
  }

  private async dropShared(name: string, key: string): Promise<void> {
    const generation = this.redisKey(name, key, 'generation');
    // The generation outlives any value (a day versus minutes), so a reader that started before this
    // invalidation can never store what it read.
    await this.options.redis!.client.multi().incr(generation).expire(generation, 86_400).del(this.redisKey(name, key, 'value')).exec();
  }

  private async publishAndWait(name: string, key: string): Promise<void> {
    const id = randomUUID();
    let done!: () => void;
    const acknowledged = new Promise<void>((resolve) => (done = resolve));
    const waiter = { count: 0, expected: Number.POSITIVE_INFINITY, done };
    this.acks.set(id, waiter);
    try {
      const message: InvalidationMessage = { id, cache: name, key };
      // PUBLISH answers how many subscribers received it: that many acknowledgements are awaited.
      waiter.expected = await this.options.redis!.client.publish(this.invalidateChannel, JSON.stringify(message));
      if (waiter.count >= waiter.expected) done();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([acknowledged, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.ackTimeoutMs ?? 1000)))]);
      clearTimeout(timer);
    } finally {
      this.acks.delete(id);
    }
  }

  private onMessage(channel: string, message: string): void {
    if (channel === this.ackChannel) {
      const waiter = this.acks.get(message);
      if (waiter && ++waiter.count >= waiter.expected) waiter.done();
      return;
    }
    let parsed: InvalidationMessage;
    try {
      parsed = JSON.parse(message) as InvalidationMessage;
    } catch {
      return;
    }
    const dropped = this.caches.get(parsed.cache)?.dropLocal(parsed.key);
    const ack = () => void this.options.redis!.client.publish(this.ackChannel, parsed.id).catch(() => undefined);
    if (dropped) void dropped.catch(() => undefined).finally(ack);
    else ack();
  }

  private onRedisState(state: RedisState): void {
    this.ready = false;
    this.flushLocal();
    if (state === 'up') void this.recover();
  }

  /**
   * Sends the invalidations that could not reach Redis, then turns the cache back on. Runs when Redis
   * comes back and after a failed invalidation; retries every second while Redis is up but failing, and
   * leaves it to the next 'up' transition while it is down.
   */
  private async recover(): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      await this.replay();
      // No await between the last pending key and this: nothing can slip in unsent.
      if (this.options.redis!.isUp && this.pending.size === 0 && !this.pendingOverflow) {
        this.flushLocal();
        this.ready = true;
        for (const resolve of this.readyWaiters.splice(0)) resolve();
      }
    } catch {
      if (this.options.redis!.isUp) setTimeout(() => void this.recover(), 1000).unref();
    } finally {
      this.recovering = false;
    }
  }

  /** Invalidations that could not reach Redis during the outage, sent now that it is back. */
  private async replay(): Promise<void> {
    const redis = this.options.redis!.client;
    if (this.pendingOverflow) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.options.prefix}cache:v:*`, 'COUNT', 500);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      this.pendingOverflow = false;
    }
    // Keys remembered while this runs are sent too.
    for (let next = this.pending.values().next(); !next.done; next = this.pending.values().next()) {
      const pendingKey = next.value;
      const [name, key] = pendingKey.split('\u0000') as [string, string];
      await this.dropShared(name, key);
      await redis.publish(this.invalidateChannel, JSON.stringify({ id: randomUUID(), cache: name, key } satisfies InvalidationMessage));
      this.pending.delete(pendingKey);
    }
  }
}

interface Entry<T> {
  value: T;
  expiresAt: number;
}

export class Cache<T> {
  private readonly l1 = new Map<string, Entry<T>>();
  /** Bumped by every invalidation of this cache: a load that saw an older epoch must not be stored. */
  private epoch = 0;

  constructor(
    private readonly hub: CacheHub,
    readonly spec: CacheSpec<T>,
  ) {}

  /** The cached value for `key`, or `load()`'s result (cached only when it is not undefined). */
  async get(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const { name } = this.spec;
    if (!this.hub.usable) {
      this.hub.observe(name, 'bypass');
      return load();
    }
    const entry = this.l1.get(key);
    if (entry && entry.expiresAt > Date.now()) {
      this.hub.observe(name, 'hit');
      return entry.value;
    }
    const epoch = this.epoch;
    if (this.hub.mode === 'local') {
      const value = await load();
      this.hub.observe(name, 'miss');
      if (value !== undefined && epoch === this.epoch) this.putLocal(key, deepFreeze(value));
      return value;
    }

    let generation: string;
    try {
      const shared = await this.hub.readShared(name, key);
      if (shared.raw !== null) {
        const value = deepFreeze(this.spec.revive(JSON.parse(shared.raw)));
        if (epoch === this.epoch) this.putLocal(key, value);
        this.hub.observe(name, 'hit');
        return value;
      }
      generation = shared.generation;
    } catch {
      this.hub.observe(name, 'bypass');
      return load();
    }
    const value = await load();
    this.hub.observe(name, 'miss');
    if (value !== undefined) {
      if (epoch === this.epoch) this.putLocal(key, deepFreeze(value));
      // Not awaited: the answer does not depend on it, and a failure only costs a later miss.
      this.hub.writeShared(name, key, generation, value, this.spec.l2TtlSeconds).catch(() => undefined);
    }
    return value;
  }

  invalidate(key: string): Promise<void> {
    return this.hub.invalidate(this.spec.name, key);
  }

  whenUsable(): Promise<void> {
    return this.hub.whenUsable();
  }

  /** Drops one key (or all, for undefined) from this process only. */
  dropLocal(key: string | undefined): void | Promise<void> {
    this.epoch++;
    if (key === undefined) this.l1.clear();
    else this.l1.delete(key);
    return this.spec.onDrop?.(key);
  }

  get localSize(): number {
    return this.l1.size;
  }

  private putLocal(key: string, value: T): void {
    if (this.l1.size >= this.spec.l1MaxEntries && !this.l1.has(key)) {
      // Oldest insertion first: cheap, and the TTL is short anyway.
      const oldest = this.l1.keys().next();
      if (!oldest.done) this.l1.delete(oldest.value);
    }
    this.l1.set(key, { value, expiresAt: Date.now() + this.spec.l1TtlMs });
  }
}

/** Cached values are shared by concurrent requests: freezing makes an accidental mutation throw. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (!(value instanceof Date)) for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

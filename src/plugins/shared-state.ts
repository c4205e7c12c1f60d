import { CacheHub, type Cache, type CacheMode } from '../cache/cache-hub.js';
import { FallbackWindowCounter, LocalWindowCounter, RedisWindowCounter, type WindowCounter } from '../cache/rate-limit-counter.js';
import type { Config } from '../config/config.js';
import { RedisConnection, type RedisLog } from '../db/redis-connection.js';
import type { Client } from '../repositories/clients-repository.js';
import type { Resource } from '../repositories/resources-repository.js';
import { RESOURCE_CACHE } from '../services/resource-lookup.js';
import type { Scope } from '../repositories/scopes-repository.js';
import { CLIENT_CACHE } from '../services/client-lookup.js';
import { SCOPE_CACHE } from '../services/scope-policy.js';
import type { Metrics } from '../services/metrics.js';
import { deriveKey, resolveServerSecret } from '../services/server-secret.js';

/**
 * What replicas share through Redis (REDIS_URL), or keep per process without it: the client cache and
 * the rate-limit counters. Redis is optional at every moment: Authly starts and serves without it.
 */
export interface SharedState {
  redis: RedisConnection | undefined;
  clients: Cache<Client>;
  scopes: Cache<Scope>;
  resources: Cache<Resource>;
  counter: WindowCounter;
  /** Tells every replica (this one included) that the signing keys changed in the database. */
  announceKeysChanged(): Promise<void>;
  /** Connects to Redis in the background (logging through `log`). */
  start(log: RedisLog): void;
  close(): Promise<void>;
}

/**
 * - REDIS_URL with AUTHLY_REDIS_CACHE: L1 + Redis, invalidated across replicas ('shared').
 * - Otherwise one process: L1 only ('local'), exact because every admin write passes through it.
 * - Otherwise WORKERS > 1: no cache ('off'). Workers cannot hear each other's invalidations, and the
 *   lookups it saves are single-row primary-key reads; relaying through the cluster primary is not worth
 *   its complexity when Redis does this properly. Several replicas (hosts, pods) likewise need Redis:
 *   without it each keeps its L1 up to 30 s after another replica changed a client.
 */
export function cacheModeFor(config: Pick<Config, 'redisUrl' | 'redisCache' | 'workers'>): CacheMode {
  if (config.redisUrl && config.redisCache) return 'shared';
  return config.workers > 1 ? 'off' : 'local';
}

/**
 * The signing keys ride on the cache hub's invalidation messages: nothing of them is cached in Redis
 * (private keys stay in the database), only the "reload your keys" signal is carried.
 */
const SIGNING_KEYS_SIGNAL = 'signing-keys';

export function createSharedState(config: Readonly<Config>, metrics: Metrics, hooks: { onKeysChanged?: () => Promise<void> } = {}): SharedState {
  const redis = config.redisUrl && (config.redisCache || config.redisRateLimit) ? new RedisConnection(config.redisUrl) : undefined;
  const hub = new CacheHub({
    mode: cacheModeFor(config),
    redis,
    prefix: config.redisKeyPrefix,
    observe: (cache, result) => metrics.cacheRequests.inc({ cache, result }),
    integrityKey: deriveKey(resolveServerSecret(config), 'cache-integrity'),
  });
  const shared = redis && config.redisRateLimit ? new RedisWindowCounter(redis, config.redisKeyPrefix) : undefined;
  if (redis) metrics.watchRedis(() => redis.isUp);
  const keySignal = hub.define<never>({
    name: SIGNING_KEYS_SIGNAL,
    l1TtlMs: 0,
    l1MaxEntries: 0,
    l2TtlSeconds: 1,
    revive: () => {
      throw new Error('the signing-keys signal holds no values');
    },
    onDrop: () => hooks.onKeysChanged?.(),
  });
  return {
    redis,
    clients: hub.define(CLIENT_CACHE),
    scopes: hub.define(SCOPE_CACHE),
    resources: hub.define(RESOURCE_CACHE),
    counter: new FallbackWindowCounter(new LocalWindowCounter(), shared, redis),
    announceKeysChanged: () => keySignal.invalidate('all'),
    start: (log) => redis?.start(log),
    close: async () => redis?.close(),
  };
}

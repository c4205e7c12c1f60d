import { sha256Base64url } from '../lib/crypto.js';
import { recordUsedJti } from '../repositories/used-jtis-repository.js';
import type { ServiceContext } from './context.js';

/** What may be presented only once; each is its own namespace. */
export type ReplayNamespace = 'dpop_proof' | 'client_assertion';

/**
 * True when `id` is used here for the first time (within `namespace`, until `expiresAt`); false for a
 * replay, on any replica. Redis (SET NX with the remaining lifetime) when configured and up, else the
 * `used_jtis` table. While Redis is down, replicas fall back to PostgreSQL; a proof first seen through
 * Redis and replayed through PostgreSQL during that outage would pass (a window of one proof lifetime),
 * which is the price of not failing every DPoP and private_key_jwt request while Redis is away.
 */
export async function useOnce(
  ctx: Pick<ServiceContext, 'db' | 'redis' | 'config'>,
  namespace: ReplayNamespace,
  id: string,
  expiresAt: Date,
): Promise<boolean> {
  const hash = sha256Base64url(id);
  const ttlMs = Math.max(1000, expiresAt.getTime() - Date.now());
  if (ctx.redis?.isUp) {
    try {
      const set = await ctx.redis.client.set(`${ctx.config.redisKeyPrefix}jti:${namespace}:${hash}`, '1', 'PX', ttlMs, 'NX');
      return set === 'OK';
    } catch {
      // Redis went away mid-request: PostgreSQL answers instead.
    }
  }
  return recordUsedJti(ctx.db, namespace, hash, new Date(Date.now() + ttlMs));
}

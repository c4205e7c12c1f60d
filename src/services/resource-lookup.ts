import type { CacheSpec } from '../cache/cache-hub.js';
import { findResource, type Resource } from '../repositories/resources-repository.js';
import type { ServiceContext } from './context.js';

/**
 * Resources are read on every token and authorization request that names one (RFC 8707) and written only
 * through the admin API, which invalidates them. Same bounds as the client cache (src/services/client-lookup.ts).
 */
export const RESOURCE_CACHE: CacheSpec<Resource> = {
  name: 'resources',
  l1TtlMs: 30_000,
  l1MaxEntries: 10_000,
  l2TtlSeconds: 300,
  revive(json) {
    const resource = json as Resource & { createdAt: string; updatedAt: string };
    return { ...resource, createdAt: new Date(resource.createdAt), updatedAt: new Date(resource.updatedAt) };
  },
};

type ResourceCtx = Pick<ServiceContext, 'db' | 'resources'>;

/** A resource by canonical identifier, through the cache (never caching "not found"). Frozen: do not mutate. */
export function lookupResource(ctx: ResourceCtx, identifier: string): Promise<Resource | undefined> {
  return ctx.resources.get(identifier, () => findResource(ctx.db, identifier));
}

/** Drops a changed or deleted resource from every replica's cache. */
export function invalidateResource(ctx: Pick<ServiceContext, 'resources'>, identifier: string): Promise<void> {
  return ctx.resources.invalidate(identifier);
}

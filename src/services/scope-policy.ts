import type { CacheSpec } from '../cache/cache-hub.js';
import { InvalidScope } from '../errors/oauth-errors.js';
import { parseScope, SCOPE_TOKEN } from '../lib/scopes.js';
import type { Client } from '../repositories/clients-repository.js';
import { findScopes, type Scope } from '../repositories/scopes-repository.js';
import type { ServiceContext } from './context.js';

/** Scopes that only make sense with a user: never granted to client_credentials. */
export const USER_ONLY_SCOPES = new Set(['openid', 'profile', 'email', 'phone', 'address', 'offline_access']);

/**
 * Scopes are read on every token and authorization request and written only through the admin API, which
 * only creates (a miss is never cached, so a new scope works at once) and deletes them (and invalidates).
 */
export const SCOPE_CACHE: CacheSpec<Scope> = {
  name: 'scopes',
  l1TtlMs: 30_000,
  l1MaxEntries: 10_000,
  l2TtlSeconds: 300,
  revive(json) {
    const scope = json as Scope & { createdAt: string };
    return { ...scope, createdAt: new Date(scope.createdAt) };
  },
};

type ScopeCtx = Pick<ServiceContext, 'db' | 'scopes'>;

/** The registered scopes among `names`, through the cache. */
async function knownScopes(ctx: ScopeCtx, names: readonly string[]): Promise<Scope[]> {
  const found = await Promise.all(names.map((name) => ctx.scopes.get(name, async () => (await findScopes(ctx.db, [name]))[0])));
  return found.filter((scope) => scope !== undefined);
}

/**
 * The scopes a request may have: each must be a valid scope-token and within the client's registered
 * scope (RFC 6749 section 3.3). Without a requested scope, the client's default scopes apply.
 */
export async function resolveRequestedScopes(
  ctx: ScopeCtx,
  client: Client,
  requested: string | undefined,
  defaults: (allowed: string[]) => Promise<string[]> | string[],
): Promise<string[]> {
  const allowed = parseScope(client.scope);
  if (requested === undefined) return defaults(allowed);
  const scopes = parseScope(requested);
  const bad = scopes.find((s) => !SCOPE_TOKEN.test(s));
  if (bad !== undefined) throw new InvalidScope('scope contains invalid characters');
  const unknown = scopes.filter((s) => !allowed.includes(s));
  if (unknown.length > 0) throw new InvalidScope(`scope not allowed for this client: ${unknown.join(' ')}`);
  const known = await knownScopes(ctx, scopes);
  if (known.length !== scopes.length) throw new InvalidScope('unknown scope requested');
  return scopes;
}

/** Default scopes for a user-facing request: the registered scopes marked default. */
export async function defaultUserScopes(ctx: ScopeCtx, allowed: string[]): Promise<string[]> {
  const scopes = await knownScopes(ctx, allowed);
  return scopes.filter((s) => s.isDefault).map((s) => s.name);
}

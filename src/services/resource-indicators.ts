import { InvalidScope, InvalidTarget } from '../errors/oauth-errors.js';
import { canonicalResourceIdentifier, MAX_RESOURCE_IDENTIFIER_LENGTH } from '../lib/resource-identifier.js';
import type { AccessTokenFormat, Client } from '../repositories/clients-repository.js';
import type { Resource } from '../repositories/resources-repository.js';
import type { SigningAlg } from '../tokens/key-store.js';
import type { ServiceContext } from './context.js';
import { lookupResource } from './resource-lookup.js';
import { isAdminScope } from '../lib/scopes.js';
import { USER_ONLY_SCOPES } from './scope-policy.js';

/**
 * Resource indicators (RFC 8707): which APIs a token is for. The resources of a request become the access
 * token's `aud` and narrow its scopes to what those resources accept; no resource means the issuer, as
 * before RFC 8707 support (or DEFAULT_RESOURCE when configured).
 */

/** More resources than this in one request is refused: an access token is meant for a handful of APIs. */
export const MAX_RESOURCES_PER_REQUEST = 16;

/**
 * The `resource` values of a request in canonical form, without duplicates. RFC 8707 section 2: each must
 * be an absolute URI without a fragment, else invalid_target.
 */
export function canonicalResources(values: readonly string[]): string[] {
  if (values.length > MAX_RESOURCES_PER_REQUEST) throw new InvalidTarget(`at most ${MAX_RESOURCES_PER_REQUEST} resource values are accepted`);
  const identifiers: string[] = [];
  for (const value of values) {
    const canonical = canonicalResourceIdentifier(value);
    // The reason names the rule, never echoes the value (RFC 6749 section 5.2 limits error_description's characters).
    if (!canonical.ok) throw new InvalidTarget(`resource ${canonical.reason}`);
    // Percent-encoding can lengthen an identifier; the bound holds for the form that becomes a lookup key.
    if (canonical.identifier.length > MAX_RESOURCE_IDENTIFIER_LENGTH) throw new InvalidTarget('resource is too long');
    if (!identifiers.includes(canonical.identifier)) identifiers.push(canonical.identifier);
  }
  return identifiers;
}

/** True when `client` may ask for `identifier` (clients.allowed_resources; null: every registered resource). */
export function mayRequestResource(client: Client, identifier: string): boolean {
  return client.allowedResources === null || client.allowedResources.includes(identifier);
}

/**
 * The registered resources behind canonical identifiers, each one the client may ask for; else invalid_target
 * (RFC 8707 section 2: unknown, or not one this client may have). Unknown and not-allowed read the same, so a
 * client cannot probe which resources exist.
 */
export async function requestedResources(ctx: Pick<ServiceContext, 'db' | 'resources'>, client: Client, identifiers: readonly string[]): Promise<Resource[]> {
  const found = await Promise.all(identifiers.map((identifier) => lookupResource(ctx, identifier)));
  return found.map((resource, i) => {
    if (!resource || !mayRequestResource(client, identifiers[i]!)) {
      throw new InvalidTarget('resource is not a registered resource this client may request');
    }
    return resource;
  });
}

/**
 * The resource of a request that names none: DEFAULT_RESOURCE, unless the request is for Authly's own admin
 * API (admin scopes keep the issuer, so the admin CLI and console keep working), the client may not ask for
 * it, or it is not registered (yet): the issuer then, as without DEFAULT_RESOURCE. Falling back to the
 * issuer is never broader than what was configured: an API checking `aud` refuses such a token, and the
 * resources are managed at run time, so the default may be created after start-up (warned at start-up,
 * src/services/bootstrap.ts).
 */
export async function defaultResources(ctx: Pick<ServiceContext, 'db' | 'resources' | 'config'>, client: Client, scopes: readonly string[]): Promise<Resource[]> {
  const identifier = ctx.config.defaultResource;
  if (identifier === undefined || scopes.some(isAdminScope) || !mayRequestResource(client, identifier)) return [];
  const resource = await lookupResource(ctx, identifier);
  return resource ? [resource] : [];
}

/**
 * The access token's scopes for `resources`: the scopes some resource accepts, plus the OpenID Connect user
 * scopes, which are for Authly's userinfo whatever the audience. No resource: every scope (the issuer's).
 * When the client asked for scopes explicitly and none of them is left, the request fails with
 * invalid_scope (RFC 6749 section 3.3 lets the server narrow, but a token with nothing the client asked for
 * is no answer); otherwise the token response's `scope` tells the client what it got.
 */
export function scopesForResources(scopes: readonly string[], resources: readonly Resource[], explicitlyRequested: boolean): string[] {
  if (resources.length === 0) return [...scopes];
  const accepted = new Set(resources.flatMap((r) => r.scopes));
  const kept = scopes.filter((s) => accepted.has(s) || USER_ONLY_SCOPES.has(s));
  if (explicitlyRequested && scopes.length > 0 && kept.length === 0) {
    throw new InvalidScope('none of the requested scopes is accepted by the requested resource');
  }
  return kept;
}

/** The `aud` claim for `resources` (RFC 8707 section 2; RFC 9068 section 3): one string, or an array of several. */
export function audienceClaim(issuer: string, audience: readonly string[]): string | string[] {
  if (audience.length === 0) return issuer;
  return audience.length === 1 ? audience[0]! : [...audience];
}

/** How an access token for `resources` is made. */
export interface AccessTokenSettings {
  format: AccessTokenFormat;
  ttlSeconds: number;
  alg: SigningAlg;
}

/**
 * The resource's own access-token format, lifetime and alg override the client's and the server's. With
 * several resources: the shortest lifetime set by any; jwt unless every one asks for opaque (a resource
 * that introspects accepts a JWT too, one that verifies locally cannot read an opaque token); their alg when
 * they agree, else JWT_ALGORITHM. An alg the key store holds no key for falls back to JWT_ALGORITHM.
 */
export function accessTokenSettings(
  ctx: Pick<ServiceContext, 'config' | 'keys'>,
  client: Client,
  resources: readonly Resource[],
): AccessTokenSettings {
  const { config } = ctx;
  const formats = resources.map((r) => r.accessTokenFormat);
  const ttls = resources.map((r) => r.accessTokenTtlSeconds).filter((t): t is number => t !== null);
  const algs = [...new Set(resources.map((r) => r.signingAlg))];
  const fallbackFormat = client.accessTokenFormat ?? config.accessTokenFormat;
  const format =
    resources.length === 0 || formats.every((f) => f === null)
      ? fallbackFormat
      : formats.every((f) => (f ?? fallbackFormat) === 'opaque')
        ? 'opaque'
        : 'jwt';
  const alg = algs.length === 1 && algs[0] !== null && ctx.keys.algorithms.includes(algs[0]!) ? algs[0]! : config.jwtAlgorithm;
  return { format, ttlSeconds: ttls.length > 0 ? Math.min(...ttls) : config.accessTokenTtlSeconds, alg };
}

/**
 * The resources of a token issued under a grant (code exchange, refresh): RFC 8707 section 2.2 lets the
 * request name some of the resources granted (downscoping), never another; naming none means all of them.
 * A grant for no resource gets DEFAULT_RESOURCE (defaultResources), or the issuer.
 */
export async function grantedResources(
  ctx: Pick<ServiceContext, 'db' | 'resources' | 'config'>,
  client: Client,
  granted: readonly string[],
  requested: readonly string[],
  scopes: readonly string[],
): Promise<Resource[]> {
  if (requested.length > 0) {
    if (requested.some((r) => !granted.includes(r))) throw new InvalidTarget('resource was not part of the authorization grant');
    return requestedResources(ctx, client, requested);
  }
  if (granted.length > 0) return requestedResources(ctx, client, granted);
  return defaultResources(ctx, client, scopes);
}

/**
 * Whether a grant's tokens may take the one-statement paths (which write the access token with the grant's
 * full scope and the issuer's audience): only when no resource can be involved. The statements themselves
 * also require a grant that names no resources.
 */
export function mayIssueForIssuer(ctx: Pick<ServiceContext, 'config'>, requested: readonly string[]): boolean {
  return requested.length === 0 && ctx.config.defaultResource === undefined;
}

/** DEFAULT_RESOURCE when it names no registered resource (start-up warns: tokens keep the issuer's aud). */
export async function unregisteredDefaultResource(ctx: Pick<ServiceContext, 'db' | 'resources' | 'config'>): Promise<string | undefined> {
  const identifier = ctx.config.defaultResource;
  if (identifier === undefined) return undefined;
  return (await lookupResource(ctx, identifier)) ? undefined : identifier;
}

/** The name and identifier of each resource an authorization is for, for the consent page. */
export async function consentResources(
  ctx: Pick<ServiceContext, 'db' | 'resources'>,
  identifiers: readonly string[],
): Promise<{ name: string; identifier: string }[]> {
  const found = await Promise.all(identifiers.map((identifier) => lookupResource(ctx, identifier)));
  return identifiers.map((identifier, i) => ({ identifier, name: found[i]?.name ?? identifier }));
}

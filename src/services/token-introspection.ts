import type { Client } from '../repositories/clients-repository.js';
import { findLiveRefreshToken } from '../repositories/tokens-repository.js';
import { epochSeconds } from '../lib/time.js';
import { hashOpaqueToken } from '../tokens/opaque-token.js';
import { findLiveAccessTokenByValue } from './access-token-verifier.js';
import type { ServiceContext } from './context.js';
import { lookupResource } from './resource-lookup.js';
import { lookupOrder } from './token-type-hint.js';

export interface ActiveIntrospection {
  active: true;
  scope?: string;
  client_id: string;
  sub: string;
  aud: string | string[];
  iss: string;
  exp: number;
  iat: number;
  token_type: 'Bearer' | 'DPoP' | 'refresh_token';
  jti?: string;
  username?: string;
  /** RFC 9449 section 6.2: the DPoP key the token is bound to. */
  cnf?: { jkt: string };
}

export type IntrospectionResponse = { active: false } | ActiveIntrospection;

/** RFC 7662 section 2.2: an inactive token gets exactly this, with no hint of why. */
export const INACTIVE: { active: false } = Object.freeze({ active: false });

/**
 * Who may introspect what: a client may introspect the tokens issued to it, access tokens whose `aud`
 * names its client_id (a resource server registered as a client), and access tokens whose `aud` names a
 * resource it acts for (resource_clients: the API's own client, RFC 8707). Anyone else's token is reported
 * inactive, exactly like an unknown one (RFC 7662 section 4: the answer must not reveal tokens to parties
 * that have no business with them). The acting-for check runs only when the caller is not the owner, and
 * reads the token's resources through the resource cache (each carries its acting clients), so an API
 * introspecting every request it serves costs no query beyond the token's own.
 */
export async function mayIntrospect(
  ctx: Pick<ServiceContext, 'db' | 'config' | 'resources'>,
  caller: Client,
  owner: string,
  aud: unknown,
): Promise<boolean> {
  if (owner === caller.clientId) return true;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (audiences.includes(caller.clientId)) return true;
  // The issuer is no resource: nobody acts for it.
  const identifiers = audiences.filter((a): a is string => typeof a === 'string' && a !== ctx.config.issuer);
  const resources = await Promise.all(identifiers.map((identifier) => lookupResource(ctx, identifier)));
  return resources.some((resource) => resource?.clientIds.includes(caller.clientId) === true);
}

/**
 * RFC 7662: the token's state as the database knows it right now. Access tokens go through the same
 * lookup as userinfo (signature, issuer, typ, expiry; then revocation, disabled user or client, revoked
 * grant); refresh tokens through its refresh-token counterpart (also: not yet rotated). The hint only
 * orders the lookups.
 */
export async function introspectToken(ctx: ServiceContext, caller: Client, token: string, hint: string | undefined): Promise<IntrospectionResponse> {
  for (const kind of lookupOrder(hint)) {
    if (kind === 'access_token') {
      const live = await findLiveAccessTokenByValue(ctx, token);
      if (!live) continue;
      const { record, claims } = live;
      if (!(await mayIntrospect(ctx, caller, record.clientId, claims.aud))) return INACTIVE;
      return {
        active: true,
        ...(record.scope ? { scope: record.scope } : {}),
        client_id: record.clientId,
        sub: claims.sub!,
        aud: claims.aud!,
        iss: claims.iss!,
        exp: claims.exp!,
        iat: claims.iat!,
        // RFC 9449 section 6.2: a DPoP-bound token says so, with the thumbprint of its key.
        token_type: record.dpopJkt ? 'DPoP' : 'Bearer',
        // An opaque token's jti is its hash: not reported.
        ...(claims.jti ? { jti: claims.jti } : {}),
        ...(record.username ? { username: record.username } : {}),
        ...(record.dpopJkt ? { cnf: { jkt: record.dpopJkt } } : {}),
      };
    }
    const live = await findLiveRefreshToken(ctx.db, hashOpaqueToken(token));
    if (!live) continue;
    // Refresh tokens have no audience claim; they are only ever presented to this issuer's token endpoint.
    if (!(await mayIntrospect(ctx, caller, live.clientId, undefined))) return INACTIVE;
    return {
      active: true,
      ...(live.scope ? { scope: live.scope } : {}),
      client_id: live.clientId,
      sub: live.userId,
      aud: ctx.config.issuer,
      iss: ctx.config.issuer,
      exp: epochSeconds(live.expiresAt),
      iat: epochSeconds(live.createdAt),
      token_type: 'refresh_token',
      username: live.username,
      // RFC 9449 section 5: a public client's refresh token bound to its DPoP key.
      ...(live.dpopJkt ? { cnf: { jkt: live.dpopJkt } } : {}),
    };
  }
  return INACTIVE;
}

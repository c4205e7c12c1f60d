import type { JWTPayload } from 'jose';
import { InvalidToken } from '../errors/oauth-errors.js';
import { parseScope } from '../lib/scopes.js';
import { findLiveAccessToken, findLiveAccessTokenWithUser, type LiveAccessTokenRecord } from '../repositories/tokens-repository.js';
import type { User } from '../repositories/users-repository.js';
import { nowSeconds } from '../lib/time.js';
import { verifyJwt } from '../tokens/jwt.js';
import type { KeyStore } from '../tokens/key-store.js';
import { VerifiedJwtCache } from '../tokens/verified-jwt-cache.js';
import type { ServiceContext } from './context.js';

export interface VerifiedAccessToken extends LiveAccessTokenRecord {
  scopes: string[];
}

export interface LiveAccessToken {
  record: LiveAccessTokenRecord;
  /** The verified JWT claims (iss, sub, aud, exp, iat, ...). */
  claims: JWTPayload;
}

/** One cache of verified signatures per key store (that is, per app instance). */
const verifiedTokens = new WeakMap<KeyStore, VerifiedJwtCache>();

function verifiedCache(keys: KeyStore): VerifiedJwtCache {
  let cache = verifiedTokens.get(keys);
  if (!cache) verifiedTokens.set(keys, (cache = new VerifiedJwtCache()));
  return cache;
}

/** The claims of an access token signed by Authly (signature, issuer, typ; expiry unless ignored) with a jti, or undefined. */
export async function accessTokenClaims(ctx: ServiceContext, token: string, options: { ignoreExpiry?: boolean } = {}): Promise<JWTPayload | undefined> {
  const cache = options.ignoreExpiry ? undefined : verifiedCache(ctx.keys);
  const generation = ctx.keys.generation;
  const cached = cache?.get(token, generation, nowSeconds());
  if (cached) return cached;
  try {
    const claims = await verifyJwt(token, ctx.keys, { issuer: ctx.config.issuer, typ: 'at+jwt', ...options });
    if (typeof claims.jti !== 'string') return undefined;
    cache?.set(token, generation, claims);
    return claims;
  } catch {
    return undefined;
  }
}

/**
 * The one database check of a verified access token (userinfo, admin API, introspection): the lookup that
 * knows about revocation, disabled users and clients and revoked grants.
 */
async function liveRecord(ctx: ServiceContext, claims: JWTPayload): Promise<LiveAccessToken | undefined> {
  const record = await findLiveAccessToken(ctx.db, claims.jti!);
  return record ? { record, claims } : undefined;
}

/** A live access token (signature, issuer, typ, expiry, then the database), or undefined: introspection. */
export async function findLiveAccessTokenByValue(ctx: ServiceContext, token: string): Promise<LiveAccessToken | undefined> {
  const claims = await accessTokenClaims(ctx, token);
  return claims ? liveRecord(ctx, claims) : undefined;
}

/**
 * Checks an access token presented to Authly itself (userinfo, admin API): the JWT signature, issuer and
 * typ, and then the same database lookup as introspection. Throws InvalidToken otherwise.
 */
export async function verifyAccessToken(ctx: ServiceContext, token: string): Promise<VerifiedAccessToken> {
  const claims = await accessTokenClaims(ctx, token);
  if (!claims) throw new InvalidToken('the access token is invalid or expired');
  const live = await liveRecord(ctx, claims);
  if (!live) throw new InvalidToken('the access token is invalid, expired or revoked');
  return { ...live.record, scopes: parseScope(live.record.scope) };
}

/**
 * verifyAccessToken for userinfo: the same checks and the same database lookup, which also brings the
 * token's user (undefined for client_credentials tokens) in the same round trip.
 */
export async function verifyAccessTokenWithUser(ctx: ServiceContext, token: string): Promise<VerifiedAccessToken & { user: User | undefined }> {
  const claims = await accessTokenClaims(ctx, token);
  if (!claims) throw new InvalidToken('the access token is invalid or expired');
  const live = await findLiveAccessTokenWithUser(ctx.db, claims.jti!);
  if (!live) throw new InvalidToken('the access token is invalid, expired or revoked');
  return { ...live.token, scopes: parseScope(live.token.scope), user: live.user };
}

/** RFC 6750 section 2.1: `Authorization: Bearer <token>`; the query form is not accepted. */
export function bearerToken(authorization: string | undefined): string {
  if (!authorization) {
    const err = new InvalidToken('a Bearer access token is required');
    err.noCredentials = true;
    throw err;
  }
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization.trim());
  if (!match) throw new InvalidToken('the Authorization header must carry a Bearer access token');
  return match[1]!;
}

import type { JWTPayload } from 'jose';
import { InvalidToken } from '../errors/oauth-errors.js';
import { parseScope } from '../lib/scopes.js';
import { findLiveAccessToken, findLiveAccessTokenWithUser, type LiveAccessTokenRecord } from '../repositories/tokens-repository.js';
import type { User } from '../repositories/users-repository.js';
import { epochSeconds, nowSeconds } from '../lib/time.js';
import { verifyJwt } from '../tokens/jwt.js';
import { opaqueAccessTokenJtiOf } from '../tokens/opaque-token.js';
import type { KeyStore } from '../tokens/key-store.js';
import { VerifiedJwtCache } from '../tokens/verified-jwt-cache.js';
import type { ServiceContext } from './context.js';
import { withDpopChallenge } from './dpop/dpop-resource.js';
import { audienceClaim } from './resource-indicators.js';

export interface VerifiedAccessToken extends LiveAccessTokenRecord {
  scopes: string[];
}

export interface LiveAccessToken {
  record: LiveAccessTokenRecord;
  /** The verified JWT claims (iss, sub, aud, exp, iat, ...); for an opaque token, the same from its row. */
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
async function jwtAccessTokenClaims(ctx: ServiceContext, token: string, options: { ignoreExpiry?: boolean }): Promise<JWTPayload | undefined> {
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
 * The jti under which an access token is recorded: an opaque token's hash, or a JWT's verified jti (with
 * its claims), or undefined for anything else. An opaque token's expiry is its row's.
 */
export async function accessTokenReference(
  ctx: ServiceContext,
  token: string,
  options: { ignoreExpiry?: boolean } = {},
): Promise<{ jti: string; claims?: JWTPayload } | undefined> {
  const opaqueJti = opaqueAccessTokenJtiOf(token);
  if (opaqueJti) return { jti: opaqueJti };
  const claims = await jwtAccessTokenClaims(ctx, token, options);
  return claims && { jti: claims.jti!, claims };
}

/** The resource identifiers an access token is for (access_tokens.audience); empty: the issuer. */
export function audienceOf(record: Pick<LiveAccessTokenRecord, 'audience'>): string[] {
  return record.audience ? record.audience.split(' ') : [];
}

/** An opaque token's claims, as its JWT form would carry them: everything comes from its row. */
function recordClaims(ctx: ServiceContext, record: LiveAccessTokenRecord): JWTPayload {
  return {
    iss: ctx.config.issuer,
    sub: record.userId ?? record.clientId,
    aud: audienceClaim(ctx.config.issuer, audienceOf(record)),
    exp: epochSeconds(record.expiresAt),
    iat: epochSeconds(record.issuedAt),
    client_id: record.clientId,
    scope: record.scope,
  };
}

/** A live access token (signature, issuer, typ, expiry, then the database), or undefined: introspection. */
export async function findLiveAccessTokenByValue(ctx: ServiceContext, token: string): Promise<LiveAccessToken | undefined> {
  const reference = await accessTokenReference(ctx, token);
  // The one database check: it knows about revocation, disabled users and clients and revoked grants.
  const record = reference && (await findLiveAccessToken(ctx.db, reference.jti));
  return record && { record, claims: reference.claims ?? recordClaims(ctx, record) };
}

/**
 * Checks an access token presented to Authly itself (userinfo, admin API): the JWT signature, issuer and
 * typ (or an opaque token's hash), and then the same database lookup as introspection. Throws InvalidToken
 * otherwise.
 */
export async function verifyAccessToken(ctx: ServiceContext, token: string): Promise<VerifiedAccessToken> {
  const live = await findLiveAccessTokenByValue(ctx, token);
  if (!live) throw new InvalidToken('the access token is invalid, expired or revoked');
  // RFC 9449 section 7.2: a DPoP-bound token is never accepted as a Bearer token (the admin API takes Bearer only).
  if (live.record.dpopJkt) throw withDpopChallenge(ctx, new InvalidToken('a DPoP-bound access token is not accepted here as a Bearer token'));
  return { ...live.record, scopes: parseScope(live.record.scope) };
}

/**
 * verifyAccessToken for userinfo: the same checks and the same database lookup, which also brings the
 * token's user (undefined for client_credentials tokens) in the same round trip. The two come apart, so
 * the caller does not copy the token again to take the user off it.
 */
export async function verifyAccessTokenWithUser(ctx: ServiceContext, token: string): Promise<{ token: VerifiedAccessToken; user: User | undefined }> {
  const reference = await accessTokenReference(ctx, token);
  const live = reference && (await findLiveAccessTokenWithUser(ctx.db, reference.jti));
  if (!live) throw new InvalidToken('the access token is invalid, expired or revoked');
  return { token: { ...live.token, scopes: parseScope(live.token.scope) }, user: live.user };
}

/** RFC 6750 section 2.1: the b64token syntax of a Bearer credential. */
export const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * RFC 6750 section 2.1: `Authorization: Bearer <token>`; the query form is not accepted. No header, or
 * another scheme (Basic, say), is a request without credentials: section 3.1 asks for a challenge with
 * no error code then.
 */
export function bearerToken(authorization: string | undefined): string {
  const match = authorization === undefined ? null : /^Bearer (\S+)$/i.exec(authorization.trim());
  if (match && BEARER_TOKEN.test(match[1]!)) return match[1]!;
  if (authorization && /^\s*Bearer(\s|$)/i.test(authorization)) throw new InvalidToken('the Authorization header must carry a Bearer access token');
  const err = new InvalidToken(authorization ? 'a Bearer access token is required; the Authorization header uses another scheme' : 'a Bearer access token is required');
  err.noCredentials = true;
  throw err;
}

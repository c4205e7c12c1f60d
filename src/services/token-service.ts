import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/db.js';
import type { AccessTokenFormat, Client } from '../repositories/clients-repository.js';
import type { Resource } from '../repositories/resources-repository.js';
import { insertAccessAndRefreshTokens, insertAccessToken, type AccessTokenRecord } from '../repositories/tokens-repository.js';
import { epochSeconds, nowSeconds } from '../lib/time.js';
import { atHash, signJwt } from '../tokens/jwt.js';
import { newOpaqueAccessToken, newOpaqueToken } from '../tokens/opaque-token.js';
import type { SigningAlg } from '../tokens/key-store.js';
import type { ServiceContext } from './context.js';
import { accessTokenSettings, audienceClaim, type AccessTokenSettings } from './resource-indicators.js';

export interface TokenResponse {
  access_token: string;
  /** RFC 9449 section 5: DPoP for a token bound to the proof's key. */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/** The token response, with what the audit log records about it. */
export interface IssuedTokens {
  response: TokenResponse;
  jti: string;
  subject: string;
  /** The access token's resource identifiers (RFC 8707); empty: the issuer. */
  audience: string[];
}

export interface IssueRequest {
  client: Client;
  scopes: string[];
  /** The user-bound part; absent for client_credentials. */
  user?: {
    userId: string;
    grantId: string;
    authTime: Date;
    sid: string | null;
    nonce: string | null;
    /** The grant's sign-in methods (RFC 8176) and acr, for the ID token; absent or null: not recorded. */
    amr?: string[] | null;
    acr?: string | null;
  };
  includeRefreshToken: boolean;
  /** RFC 6749 section 6: a rotated refresh token keeps the scope of the one it replaces. */
  refreshTokenScopes?: string[];
  includeIdToken: boolean;
  /** The access token's resources (RFC 8707): its aud, format, lifetime and alg; none: the issuer. */
  resources?: readonly Resource[];
  /** The resources the refresh token remembers (the grant's): a later refresh may ask for one of them. */
  refreshTokenResources?: readonly string[];
  /** RFC 9449: the DPoP key thumbprint the access token is bound to (cnf.jkt); absent: a Bearer token. */
  dpopJkt?: string;
  /** RFC 9449 section 5: the key the refresh token is bound to (public clients); absent or null: not bound. */
  refreshTokenDpopJkt?: string | null;
}

/**
 * Tokens whose rows are written but which are not signed yet: what a grant's transaction returns, so the
 * signatures (an RS256 ID token costs more than the whole transaction) are made after the commit, without
 * holding a pooled connection and row locks. Nothing stored depends on a signature.
 */
export interface RecordedTokens {
  req: IssueRequest;
  iat: number;
  jti: string;
  format: AccessTokenFormat;
  settings: AccessTokenSettings;
  /** Set for opaque access tokens: the value whose hash is the jti. */
  opaqueAccessToken?: string;
  refreshToken?: string;
}

/** What a grant's new tokens are made of, drawn before anything is written. */
export interface FreshTokens {
  iat: number;
  /** iat as the rows' created_at. */
  issuedAt: Date;
  format: AccessTokenFormat;
  settings: AccessTokenSettings;
  jti: string;
  /** Set for opaque access tokens: the value whose hash is the jti. */
  opaqueAccessToken?: string;
  /** Drawn only when the grant issues a refresh token. */
  refreshToken?: { value: string; hash: string };
  accessExpiresAt: Date;
  refreshExpiresAt: Date;
}

export function freshTokens(
  ctx: ServiceContext,
  client: Client,
  withRefreshToken: boolean,
  resources: readonly Resource[] = [],
): FreshTokens {
  const { config } = ctx;
  // One clock reading for everything, so introspection's exp - iat is exactly the lifetime.
  const iat = nowSeconds();
  const settings = accessTokenSettings(ctx, client, resources);
  const format = settings.format;
  const opaque = format === 'opaque' ? newOpaqueAccessToken() : undefined;
  return {
    iat,
    issuedAt: new Date(iat * 1000),
    format,
    settings,
    jti: opaque?.jti ?? randomUUID(),
    ...(opaque ? { opaqueAccessToken: opaque.value } : {}),
    ...(withRefreshToken ? { refreshToken: newOpaqueToken() } : {}),
    accessExpiresAt: new Date((iat + settings.ttlSeconds) * 1000),
    refreshExpiresAt: new Date((iat + config.refreshTokenTtlSeconds) * 1000),
  };
}

/** The RecordedTokens of `fresh` once its rows are written for `req`. */
export function recordedFrom(fresh: FreshTokens, req: IssueRequest): RecordedTokens {
  const { iat, jti, format, settings, opaqueAccessToken } = fresh;
  return {
    req,
    iat,
    jti,
    format,
    settings,
    ...(opaqueAccessToken !== undefined ? { opaqueAccessToken } : {}),
    ...(req.includeRefreshToken && fresh.refreshToken ? { refreshToken: fresh.refreshToken.value } : {}),
  };
}

/**
 * Writes the access token's row (its jti: a UUID for a JWT, the hash for an opaque token) and the refresh
 * token's (its hash) through `tx`, so that a grant issues atomically.
 */
export async function recordTokens(ctx: ServiceContext, tx: Queryable, req: IssueRequest): Promise<RecordedTokens> {
  const fresh = freshTokens(ctx, req.client, Boolean(req.user && req.includeRefreshToken), req.resources);
  const accessRecord: AccessTokenRecord = {
    jti: fresh.jti,
    grantId: req.user?.grantId ?? null,
    clientId: req.client.clientId,
    userId: req.user?.userId ?? null,
    scope: req.scopes.join(' '),
    audience: audienceColumn(req.resources),
    issuedAt: fresh.issuedAt,
    expiresAt: fresh.accessExpiresAt,
    dpopJkt: req.dpopJkt ?? null,
  };
  if (req.user && fresh.refreshToken) {
    // Both rows in one statement: one round trip fewer on every code exchange and refresh.
    await insertAccessAndRefreshTokens(tx, accessRecord, {
      tokenHash: fresh.refreshToken.hash,
      grantId: req.user.grantId,
      clientId: req.client.clientId,
      userId: req.user.userId,
      scope: (req.refreshTokenScopes ?? req.scopes).join(' '),
      resources: [...(req.refreshTokenResources ?? [])],
      issuedAt: accessRecord.issuedAt,
      expiresAt: fresh.refreshExpiresAt,
      dpopJkt: req.refreshTokenDpopJkt ?? null,
    });
  } else {
    await insertAccessToken(tx, accessRecord);
  }
  return recordedFrom(fresh, req);
}

/** access_tokens.audience: the resource identifiers, space-separated; null for the issuer. */
function audienceColumn(resources: readonly Resource[] | undefined): string | null {
  return resources && resources.length > 0 ? resources.map((r) => r.identifier).join(' ') : null;
}

/** The ID token's alg: the client's id_token_signed_response_alg while the server holds its key, else RS256. */
function idTokenAlg(ctx: ServiceContext, client: Client): SigningAlg {
  return ctx.keys.algorithms.includes(client.idTokenSignedResponseAlg) ? client.idTokenSignedResponseAlg : 'RS256';
}

/** Signs what recordTokens wrote (after the transaction committed) and builds the token response. */
export async function finishTokens(ctx: ServiceContext, recorded: RecordedTokens): Promise<IssuedTokens> {
  const { config, keys } = ctx;
  const { req, iat, jti, settings } = recorded;
  const scope = req.scopes.join(' ');
  const subject = req.user?.userId ?? req.client.clientId;
  const accessToken =
    recorded.opaqueAccessToken ??
    (await signJwt(
      {
        iss: config.issuer,
        sub: subject,
        aud: audienceClaim(config.issuer, (req.resources ?? []).map((r) => r.identifier)),
        exp: iat + settings.ttlSeconds,
        iat,
        jti,
        client_id: req.client.clientId,
        scope,
        ...(req.user ? { auth_time: epochSeconds(req.user.authTime) } : {}),
        // RFC 9449 section 6.1: the confirmation of the DPoP key the token is bound to.
        ...(req.dpopJkt ? { cnf: { jkt: req.dpopJkt } } : {}),
      },
      keys.signingKey(settings.alg),
      'at+jwt',
    ));
  const response: TokenResponse = {
    access_token: accessToken,
    token_type: req.dpopJkt ? 'DPoP' : 'Bearer',
    expires_in: settings.ttlSeconds,
    scope,
    ...(recorded.refreshToken ? { refresh_token: recorded.refreshToken } : {}),
  };
  if (req.user && req.includeIdToken) {
    // OIDC Core section 2 and 3.1.3.6; RS256 unless the client registered another alg.
    const idKey = keys.signingKey(idTokenAlg(ctx, req.client));
    response.id_token = await signJwt(
      {
        iss: config.issuer,
        sub: req.user.userId,
        aud: req.client.clientId,
        azp: req.client.clientId,
        exp: iat + config.idTokenTtlSeconds,
        iat,
        auth_time: epochSeconds(req.user.authTime),
        ...(req.user.nonce ? { nonce: req.user.nonce } : {}),
        ...(req.user.sid ? { sid: req.user.sid } : {}),
        // OIDC Core section 2: amr (RFC 8176 values, a JSON array) and acr, as recorded on the grant.
        ...(req.user.amr && req.user.amr.length > 0 ? { amr: req.user.amr } : {}),
        ...(req.user.acr ? { acr: req.user.acr } : {}),
        at_hash: atHash(accessToken, idKey.alg),
      },
      idKey,
      'JWT',
    );
  }
  return { response, jti, subject, audience: (req.resources ?? []).map((r) => r.identifier) };
}

/** recordTokens then finishTokens, for callers with no transaction of their own to end first. */
export async function issueTokens(ctx: ServiceContext, tx: Queryable, req: IssueRequest): Promise<IssuedTokens> {
  return finishTokens(ctx, await recordTokens(ctx, tx, req));
}

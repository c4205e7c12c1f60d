import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/db.js';
import type { AccessTokenFormat, Client } from '../repositories/clients-repository.js';
import { insertAccessAndRefreshTokens, insertAccessToken, type AccessTokenRecord } from '../repositories/tokens-repository.js';
import { epochSeconds, nowSeconds } from '../lib/time.js';
import { atHash, signJwt } from '../tokens/jwt.js';
import { newOpaqueAccessToken, newOpaqueToken } from '../tokens/opaque-token.js';
import type { SigningAlg } from '../tokens/key-store.js';
import type { ServiceContext } from './context.js';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
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
  };
  includeRefreshToken: boolean;
  /** RFC 6749 section 6: a rotated refresh token keeps the scope of the one it replaces. */
  refreshTokenScopes?: string[];
  includeIdToken: boolean;
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
  /** Set for opaque access tokens: the value whose hash is the jti. */
  opaqueAccessToken?: string;
  refreshToken?: string;
}

function accessTokenFormat(ctx: ServiceContext, client: Client): AccessTokenFormat {
  return client.accessTokenFormat ?? ctx.config.accessTokenFormat;
}

/**
 * Writes the access token's row (its jti: a UUID for a JWT, the hash for an opaque token) and the refresh
 * token's (its hash) through `tx`, so that a grant issues atomically.
 */
export async function recordTokens(ctx: ServiceContext, tx: Queryable, req: IssueRequest): Promise<RecordedTokens> {
  const { config } = ctx;
  const iat = nowSeconds();
  const format = accessTokenFormat(ctx, req.client);
  const opaque = format === 'opaque' ? newOpaqueAccessToken() : undefined;
  const jti = opaque?.jti ?? randomUUID();
  const accessRecord: AccessTokenRecord = {
    jti,
    grantId: req.user?.grantId ?? null,
    clientId: req.client.clientId,
    userId: req.user?.userId ?? null,
    scope: req.scopes.join(' '),
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date((iat + config.accessTokenTtlSeconds) * 1000),
  };
  const recorded: RecordedTokens = { req, iat, jti, format, ...(opaque ? { opaqueAccessToken: opaque.value } : {}) };
  if (req.user && req.includeRefreshToken) {
    const refresh = newOpaqueToken();
    // Both rows in one statement: one round trip fewer on every code exchange and refresh.
    await insertAccessAndRefreshTokens(tx, accessRecord, {
      tokenHash: refresh.hash,
      grantId: req.user.grantId,
      clientId: req.client.clientId,
      userId: req.user.userId,
      scope: (req.refreshTokenScopes ?? req.scopes).join(' '),
      // Both from the same clock reading, so introspection's exp - iat is exactly the lifetime.
      issuedAt: accessRecord.issuedAt,
      expiresAt: new Date((iat + config.refreshTokenTtlSeconds) * 1000),
    });
    recorded.refreshToken = refresh.value;
  } else {
    await insertAccessToken(tx, accessRecord);
  }
  return recorded;
}

/** The ID token's alg: the client's id_token_signed_response_alg while the server holds its key, else RS256. */
function idTokenAlg(ctx: ServiceContext, client: Client): SigningAlg {
  return ctx.keys.algorithms.includes(client.idTokenSignedResponseAlg) ? client.idTokenSignedResponseAlg : 'RS256';
}

/** Signs what recordTokens wrote (after the transaction committed) and builds the token response. */
export async function finishTokens(ctx: ServiceContext, recorded: RecordedTokens): Promise<IssuedTokens> {
  const { config, keys } = ctx;
  const { req, iat, jti } = recorded;
  const scope = req.scopes.join(' ');
  const subject = req.user?.userId ?? req.client.clientId;
  const accessToken =
    recorded.opaqueAccessToken ??
    (await signJwt(
      {
        iss: config.issuer,
        sub: subject,
        aud: config.issuer,
        exp: iat + config.accessTokenTtlSeconds,
        iat,
        jti,
        client_id: req.client.clientId,
        scope,
        ...(req.user ? { auth_time: epochSeconds(req.user.authTime) } : {}),
      },
      keys.signingKey(config.jwtAlgorithm),
      'at+jwt',
    ));
  const response: TokenResponse = {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: config.accessTokenTtlSeconds,
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
        at_hash: atHash(accessToken, idKey.alg),
      },
      idKey,
      'JWT',
    );
  }
  return { response, jti, subject };
}

/** recordTokens then finishTokens, for callers with no transaction of their own to end first. */
export async function issueTokens(ctx: ServiceContext, tx: Queryable, req: IssueRequest): Promise<IssuedTokens> {
  return finishTokens(ctx, await recordTokens(ctx, tx, req));
}

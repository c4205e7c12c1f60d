import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/db.js';
import type { Client } from '../repositories/clients-repository.js';
import { insertAccessAndRefreshTokens, insertAccessToken } from '../repositories/tokens-repository.js';
import { epochSeconds, nowSeconds } from '../lib/time.js';
import { atHash, signJwt } from '../tokens/jwt.js';
import { newOpaqueToken } from '../tokens/opaque-token.js';
import type { ServiceContext } from './context.js';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
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
 * Issues the token response. Access tokens are RFC 9068 JWTs, recorded by jti so they can be revoked;
 * refresh tokens are opaque and stored as hashes. Writes go through `tx` so a grant issues atomically.
 */
export async function issueTokens(ctx: ServiceContext, tx: Queryable, req: IssueRequest): Promise<TokenResponse> {
  const { config, keys } = ctx;
  const iat = nowSeconds();
  const scope = req.scopes.join(' ');
  const jti = randomUUID();
  const accessExpires = iat + config.accessTokenTtlSeconds;
  const sub = req.user?.userId ?? req.client.clientId;

  const accessToken = await signJwt(
    {
      iss: config.issuer,
      sub,
      aud: config.issuer,
      exp: accessExpires,
      iat,
      jti,
      client_id: req.client.clientId,
      scope,
      ...(req.user ? { auth_time: epochSeconds(req.user.authTime) } : {}),
    },
    keys.signingKey(config.jwtAlgorithm),
    'at+jwt',
  );
  const accessRecord = {
    jti,
    grantId: req.user?.grantId ?? null,
    clientId: req.client.clientId,
    userId: req.user?.userId ?? null,
    scope,
    expiresAt: new Date(accessExpires * 1000),
  };

  const response: TokenResponse = {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: config.accessTokenTtlSeconds,
    scope,
  };

  if (req.user && req.includeRefreshToken) {
    const refresh = newOpaqueToken();
    // Both rows in one statement: one round trip fewer on every code exchange and refresh.
    await insertAccessAndRefreshTokens(tx, accessRecord, {
      tokenHash: refresh.hash,
      grantId: req.user.grantId,
      clientId: req.client.clientId,
      userId: req.user.userId,
      scope: (req.refreshTokenScopes ?? req.scopes).join(' '),
      // Both from the same clock reading, so introspection's exp - iat is exactly the lifetime (the
      // transaction's now() may lie a second earlier than this moment).
      issuedAt: new Date(iat * 1000),
      expiresAt: new Date((iat + config.refreshTokenTtlSeconds) * 1000),
    });
    response.refresh_token = refresh.value;
  } else {
    await insertAccessToken(tx, accessRecord);
  }

  if (req.user && req.includeIdToken) {
    // OIDC Core section 2 and 3.1.3.6. ID tokens use RS256, the algorithm every RP must support.
    const idKey = keys.signingKey('RS256');
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
  return response;
}

import { InvalidToken } from '../errors/oauth-errors.js';
import { parseScope } from '../lib/scopes.js';
import { findLiveAccessToken, type AccessTokenRecord } from '../repositories/tokens-repository.js';
import { verifyJwt } from '../tokens/jwt.js';
import type { ServiceContext } from './context.js';

export interface VerifiedAccessToken extends AccessTokenRecord {
  scopes: string[];
}

/**
 * Checks an access token presented to Authly itself (userinfo, admin API): the JWT signature, issuer and
 * typ, and then the one database lookup that knows about revocation, disabled users and clients.
 */
export async function verifyAccessToken(ctx: ServiceContext, token: string): Promise<VerifiedAccessToken> {
  let jti: unknown;
  try {
    ({ jti } = await verifyJwt(token, ctx.keys, { issuer: ctx.config.issuer, typ: 'at+jwt' }));
  } catch {
    throw new InvalidToken('the access token is invalid or expired');
  }
  const record = typeof jti === 'string' ? await findLiveAccessToken(ctx.db, jti) : undefined;
  if (!record) throw new InvalidToken('the access token is invalid, expired or revoked');
  return { ...record, scopes: parseScope(record.scope) };
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

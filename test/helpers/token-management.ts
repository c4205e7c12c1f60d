import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { insertAccessToken } from '../../src/repositories/tokens-repository.js';
import { signJwt } from '../../src/tokens/jwt.js';
import { basicAuth, type TestClient } from './fixtures.js';
import { FORM, type TokenAuth } from './oauth-flow.js';

/**
 * Requests to the token management endpoints (RFC 7009 revocation, RFC 7662 introspection), with the
 * client authenticating the way tokenRequest does, and a way to mint access tokens with chosen claims.
 */

export type ManagementEndpoint = '/oauth/revoke' | '/oauth/introspect';

export function clientPost(
  app: FastifyInstance,
  url: ManagementEndpoint,
  client: TestClient,
  form: Record<string, string>,
  auth: TokenAuth = {},
): Promise<LightMyRequestResponse> {
  const method = auth.method ?? (client.clientSecret ? 'basic' : 'none');
  const body: Record<string, string> = { ...form };
  const headers: Record<string, string> = { ...FORM, ...auth.headers };
  if (method === 'basic') headers.authorization = basicAuth(client.clientId, client.clientSecret!);
  if (method === 'post') Object.assign(body, { client_id: client.clientId, client_secret: client.clientSecret! });
  if (method === 'none') body.client_id = client.clientId;
  return app.inject({ method: 'POST', url, headers, payload: new URLSearchParams(body).toString() });
}

export const revoke = (app: FastifyInstance, client: TestClient, form: Record<string, string>, auth?: TokenAuth) =>
  clientPost(app, '/oauth/revoke', client, form, auth);

export const introspect = (app: FastifyInstance, client: TestClient, form: Record<string, string>, auth?: TokenAuth) =>
  clientPost(app, '/oauth/introspect', client, form, auth);

export interface MintOptions {
  clientId: string;
  userId?: string;
  grantId?: string;
  scope?: string;
  aud?: string | string[];
  /** JWT exp and database expiry, in seconds from now (negative: already expired). Default 600. */
  expiresIn?: number;
  /** false: sign the JWT but record nothing (an unknown jti). */
  record?: boolean;
}

/** An RFC 9068 access token signed with the server's own key, recorded like issued ones unless told not to. */
export async function mintAccessToken(app: FastifyInstance, options: MintOptions): Promise<string> {
  const { config, keys, db } = app.ctx;
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + (options.expiresIn ?? 600);
  const jti = randomUUID();
  const scope = options.scope ?? 'openid';
  const token = await signJwt(
    { iss: config.issuer, sub: options.userId ?? options.clientId, aud: options.aud ?? config.issuer, exp, iat, jti, client_id: options.clientId, scope },
    keys.signingKey(config.jwtAlgorithm),
    'at+jwt',
  );
  if (options.record !== false) {
    await insertAccessToken(db, {
      jti,
      grantId: options.grantId ?? null,
      clientId: options.clientId,
      userId: options.userId ?? null,
      scope,
      issuedAt: new Date(iat * 1000),
      expiresAt: new Date(exp * 1000),
    });
  }
  return token;
}

import { createHash } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewClient } from '../../../src/repositories/clients-repository.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { obtainTokens, tokenRequest, userinfo, type Tokens } from '../../helpers/oauth-flow.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { introspect, revoke } from '../../helpers/token-management.js';

const OPAQUE = /^[A-Za-z0-9_-]{43}$/;
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

function atHash(token: string, hash: 'sha256' | 'sha512'): string {
  const digest = createHash(hash).update(token, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** ACCESS_TOKEN_FORMAT and the per-client access_token_format and id_token_signed_response_alg. */
describe('access token formats and ID token algorithms', () => {
  let t: TestApp;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp({ ACCESS_TOKEN_FORMAT: 'opaque', JWT_ALGORITHM: 'ES256' });
    user = await createUser(t.app);
    await t.app.ctx.db.query("INSERT INTO scopes (name, description) VALUES ('api:read', 'API')");
  });
  afterAll(() => t.close());

  const serviceClient = (overrides: Partial<NewClient> = {}) =>
    createClient(t.app, { grantTypes: ['client_credentials'], scope: 'api:read', ...overrides });

  async function codeFlow(client: TestClient): Promise<Tokens> {
    return obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, { scope: 'openid email offline_access' });
  }

  async function clientCredentials(client: TestClient): Promise<string> {
    const res = await tokenRequest(t.app, client, { grant_type: 'client_credentials' });
    expect(res.statusCode).toBe(200);
    return (res.json() as Tokens).access_token;
  }

  it('issues opaque access tokens by default (ACCESS_TOKEN_FORMAT=opaque), recorded by hash only', async () => {
    const client = await serviceClient();
    const token = await clientCredentials(client);
    expect(token).toMatch(OPAQUE);
    const { rows } = await t.app.ctx.db.query<{ jti: string }>('SELECT jti FROM access_tokens WHERE client_id = $1', [client.clientId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.jti).toBe(`sha256:${createHash('sha256').update(token).digest('base64url')}`);
    expect(rows[0]!.jti).not.toContain(token);
  });

  it('introspects an opaque token from its row, then reports it inactive once revoked', async () => {
    const client = await serviceClient();
    const token = await clientCredentials(client);
    const res = await introspect(t.app, client, { token });
    const body = res.json() as Record<string, unknown>;
    expect(body).toMatchObject({ active: true, client_id: client.clientId, sub: client.clientId, scope: 'api:read', iss: TEST_ISSUER, aud: TEST_ISSUER, token_type: 'Bearer' });
    expect(body.jti).toBeUndefined();
    expect((body.exp as number) - (body.iat as number)).toBe(t.app.ctx.config.accessTokenTtlSeconds);

    const other = await serviceClient();
    expect((await introspect(t.app, other, { token })).json()).toEqual({ active: false });
    expect((await revoke(t.app, other, { token })).statusCode).toBe(200);
    expect((await introspect(t.app, client, { token })).json()).toMatchObject({ active: true });
    expect((await revoke(t.app, client, { token })).statusCode).toBe(200);
    expect((await introspect(t.app, client, { token })).json()).toEqual({ active: false });
  });

  it('refuses an unknown or altered opaque token', async () => {
    const client = await serviceClient();
    const token = await clientCredentials(client);
    const altered = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    expect((await introspect(t.app, client, { token: altered })).json()).toEqual({ active: false });
    expect((await userinfo(t.app, altered)).statusCode).toBe(401);
  });

  it('serves userinfo for an opaque token, binds at_hash to it, and keeps refresh and access tokens apart', async () => {
    const client = await createClient(t.app);
    const tokens = await codeFlow(client);
    expect(tokens.access_token).toMatch(OPAQUE);
    expect(decodeJwt(tokens.id_token!).at_hash).toBe(atHash(tokens.access_token, 'sha256'));
    const info = await userinfo(t.app, tokens.access_token);
    expect(info.statusCode).toBe(200);
    expect(info.json()).toMatchObject({ sub: user.id, email: user.email });

    // Same shape, different kinds: neither is accepted as the other.
    expect((await userinfo(t.app, tokens.refresh_token!)).statusCode).toBe(401);
    const asRefresh = await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: tokens.access_token });
    expect(asRefresh.statusCode).toBe(400);
    expect(asRefresh.json()).toMatchObject({ error: 'invalid_grant' });

    const refreshed = await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(refreshed.statusCode).toBe(200);
    const next = refreshed.json() as Tokens;
    expect(next.access_token).toMatch(OPAQUE);
    expect((await userinfo(t.app, next.access_token)).statusCode).toBe(200);

    expect((await revoke(t.app, client, { token: next.access_token })).statusCode).toBe(200);
    expect((await userinfo(t.app, next.access_token)).statusCode).toBe(401);
    expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(200);
  });

  it('lets a client override the server default with access_token_format: jwt', async () => {
    const client = await serviceClient({ accessTokenFormat: 'jwt' });
    const token = await clientCredentials(client);
    expect(token).toMatch(JWT);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect((await introspect(t.app, client, { token })).json()).toMatchObject({ active: true, jti: decodeJwt(token).jti });
  });

  it('signs ID tokens with the client id_token_signed_response_alg, verifiable with the JWKS', async () => {
    const jwks = createLocalJWKSet((await t.app.inject('/.well-known/jwks.json')).json() as JSONWebKeySet);
    for (const alg of ['RS256', 'ES256'] as const) {
      const client = await createClient(t.app, { idTokenSignedResponseAlg: alg, accessTokenFormat: 'jwt' });
      const tokens = await codeFlow(client);
      const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer: TEST_ISSUER, audience: client.clientId });
      expect(protectedHeader.alg).toBe(alg);
      expect(payload.at_hash).toBe(atHash(tokens.access_token, 'sha256'));
    }
  });
});

describe('JWT access tokens stay the default', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('issues RFC 9068 JWTs unless a client asks for opaque tokens', async () => {
    const jwtClient = await createClient(t.app, { grantTypes: ['client_credentials'], scope: '' });
    const opaqueClient = await createClient(t.app, { grantTypes: ['client_credentials'], scope: '', accessTokenFormat: 'opaque' });
    const tokenOf = async (client: TestClient) => ((await tokenRequest(t.app, client, { grant_type: 'client_credentials' })).json() as Tokens).access_token;
    expect(await tokenOf(jwtClient)).toMatch(JWT);
    const opaque = await tokenOf(opaqueClient);
    expect(opaque).toMatch(OPAQUE);
    expect((await introspect(t.app, opaqueClient, { token: opaque })).json()).toMatchObject({ active: true, client_id: opaqueClient.clientId });
  });
});

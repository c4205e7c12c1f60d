import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { obtainTokens, tokenRequest, type Tokens } from '../../helpers/oauth-flow.js';
import type { User } from '../../../src/repositories/users-repository.js';

/** RFC 9068 access tokens and OIDC Core section 2 / 3.1.3.6 ID tokens. */
describe('token contents', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;
  let tokens: Tokens;
  let before: number;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    user = await createUser(t.app);
    before = Math.floor(Date.now() / 1000);
    tokens = await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, {
      scope: 'openid profile offline_access',
      nonce: 'nonce-Ω-"quoted"',
    });
  });
  afterAll(() => t.close());

  const jwks = async () => createLocalJWKSet((await t.app.inject('/.well-known/jwks.json')).json());

  it('the token response has the RFC 6749 section 5.1 shape', () => {
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'openid profile offline_access' });
  });

  it('the access token is an RFC 9068 JWT: typ at+jwt and iss, sub, aud, exp, iat, jti, client_id, scope', async () => {
    const header = decodeProtectedHeader(tokens.access_token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    expect(header.kid).toBeTypeOf('string');
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ iss: TEST_ISSUER, sub: user.id, aud: TEST_ISSUER, client_id: client.clientId, scope: 'openid profile offline_access' });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.exp! - claims.iat!).toBe(15 * 60);
    expect(claims.auth_time).toBeTypeOf('number');
    // It verifies against the published keys with the typ RFC 9068 requires.
    await expect(jwtVerify(tokens.access_token, await jwks(), { issuer: TEST_ISSUER, typ: 'at+jwt' })).resolves.toBeDefined();
  });

  it('every access token has its own jti', async () => {
    const refreshed = (await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })).json() as Tokens;
    expect(decodeJwt(refreshed.access_token).jti).not.toBe(decodeJwt(tokens.access_token).jti);
  });

  it('the ID token has iss sub aud exp iat auth_time nonce at_hash azp sid', async () => {
    const header = decodeProtectedHeader(tokens.id_token!);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    const { payload } = await jwtVerify(tokens.id_token!, await jwks(), { issuer: TEST_ISSUER, audience: client.clientId });
    for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'azp', 'sid']) {
      expect(payload, claim).toHaveProperty(claim);
    }
    expect(payload).toMatchObject({ iss: TEST_ISSUER, sub: user.id, aud: client.clientId, azp: client.clientId, nonce: 'nonce-Ω-"quoted"' });
    expect(payload.exp! - payload.iat!).toBe(60 * 60);
    expect(payload.auth_time as number).toBeLessThanOrEqual(payload.iat!);
    expect(payload.auth_time as number).toBeGreaterThanOrEqual(before - 1);
    expect(payload.sid).toBeTypeOf('string');
  });

  it('at_hash is the left half of SHA-256 of the access token, base64url', () => {
    const digest = createHash('sha256').update(tokens.access_token, 'ascii').digest();
    expect(decodeJwt(tokens.id_token!).at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
  });

  it('the ID token carries no personal claims beyond sub (they come from userinfo)', () => {
    const payload = decodeJwt(tokens.id_token!);
    expect(payload.email).toBeUndefined();
    expect(payload.name).toBeUndefined();
  });
});

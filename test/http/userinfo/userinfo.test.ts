import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt, SignJWT } from 'jose';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { obtainTokens, tokenRequest, userinfo, type Tokens } from '../../helpers/oauth-flow.js';
import { insertScope } from '../../../src/repositories/scopes-repository.js';
import type { User } from '../../../src/repositories/users-repository.js';

/** OIDC Core section 5.3 and RFC 6750: Bearer tokens in the header, errors as Bearer challenges. */
describe('userinfo', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;
  let full: Tokens;
  const FULL = 'openid profile email phone address offline_access';

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    user = await createUser(t.app, {
      phoneNumber: '+1 555 0100',
      phoneNumberVerified: true,
      address: { street_address: '1 Main St', locality: 'Springfield', country: 'US' },
      locale: 'en-US',
    });
    full = await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, { scope: FULL });
  });
  afterAll(() => t.close());

  /** A token with a narrower scope from the same grant (refresh may narrow). */
  async function narrowed(scope: string): Promise<string> {
    const first = await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, { scope: FULL });
    const res = await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: first.refresh_token!, scope });
    expect(res.statusCode).toBe(200);
    return (res.json() as Tokens).access_token;
  }

  function expectInvalidToken(res: LightMyRequestResponse) {
    expect(res.statusCode).toBe(401);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="authly", error="invalid_token", error_description="[\x20\x21\x23-\x5B\x5D-\x7E]*"$/);
    expect(res.json().error).toBe('invalid_token');
  }

  it.each(['GET', 'POST'] as const)('%s with a valid token → 200 with no-store', async (method) => {
    const res = await userinfo(t.app, full.access_token, method);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json().sub).toBe(user.id);
  });

  it('sub matches the ID token', () => {
    expect(decodeJwt(full.id_token!).sub).toBe(user.id);
  });

  describe('the token in a form body (RFC 6750 section 2.2)', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    it('POST with access_token in the body → 200 with the claims', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/oidc/userinfo', headers: form, payload: `access_token=${encodeURIComponent(full.access_token)}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ sub: user.id, email: user.email });
    });

    it('a token in both the header and the body → 400 invalid_request with a Bearer challenge (section 2)', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oidc/userinfo',
        headers: { ...form, authorization: `Bearer ${full.access_token}` },
        payload: `access_token=${encodeURIComponent(full.access_token)}`,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_request');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="authly", error="invalid_request"/);
    });

    it('a repeated access_token parameter → 400 invalid_request', async () => {
      const token = encodeURIComponent(full.access_token);
      const res = await t.app.inject({ method: 'POST', url: '/oidc/userinfo', headers: form, payload: `access_token=${token}&access_token=${token}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_request');
    });

    it('a body token that is not a token → 401 invalid_token', async () => {
      expectInvalidToken(await t.app.inject({ method: 'POST', url: '/oidc/userinfo', headers: form, payload: 'access_token=not%20a%20token' }));
    });

    it('the query form is not accepted (section 2.3): a GET with ?access_token= has no credentials', async () => {
      const res = await t.app.inject({ method: 'GET', url: `/oidc/userinfo?access_token=${encodeURIComponent(full.access_token)}` });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="authly"');
    });
  });

  describe('no credentials', () => {
    it.each(['GET', 'POST'] as const)('%s without a token → 401 with a bare Bearer challenge', async (method) => {
      const res = await t.app.inject({ method, url: '/oidc/userinfo' });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="authly"');
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('a token in the query string is not accepted (RFC 9700 section 2.2.2)', async () => {
      const res = await t.app.inject({ url: `/oidc/userinfo?access_token=${full.access_token}` });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="authly"');
    });
  });

  describe('bad tokens → 401 invalid_token', () => {
    /** A JWT signed with the server's own RS256 key, so only the claims or header are wrong. */
    const forge = (header: Record<string, unknown>, claims: Record<string, unknown>) => {
      const signing = t.app.ctx.keys.signingKey('RS256');
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: signing.kid, ...header }).sign(signing.privateKey);
    };
    const realClaims = () => decodeJwt(full.access_token);

    const cases: { name: string; token: () => Promise<string> | string }[] = [
      { name: 'garbage', token: () => 'not-a-jwt' },
      { name: 'three garbage segments', token: () => 'a.b.c' },
      { name: 'tampered payload', token: () => {
        const [h, , s] = full.access_token.split('.');
        const p = Buffer.from(JSON.stringify({ ...realClaims(), scope: 'openid admin' })).toString('base64url');
        return `${h}.${p}.${s}`;
      } },
      { name: 'tampered signature', token: () => `${full.access_token.slice(0, -4)}AAAA` },
      { name: 'alg none', token: () => {
        const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: t.app.ctx.keys.signingKey('RS256').kid })).toString('base64url');
        const p = Buffer.from(JSON.stringify(realClaims())).toString('base64url');
        return `${h}.${p}.`;
      } },
      { name: 'HS256 keyed with the public key (algorithm confusion)', token: async () => {
        const key = t.app.ctx.keys.signingKey('RS256');
        return new SignJWT(realClaims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key.kid }).sign(new TextEncoder().encode(JSON.stringify(key.publicJwk)));
      } },
      { name: 'unknown kid', token: () => forge({ kid: 'nope', typ: 'at+jwt' }, realClaims()) },
      { name: 'wrong issuer (signed by our key)', token: () => forge({ typ: 'at+jwt' }, { ...realClaims(), iss: 'https://evil.example' }) },
      { name: 'expired JWT (signed by our key, real jti)', token: () => forge({ typ: 'at+jwt' }, { ...realClaims(), exp: Math.floor(Date.now() / 1000) - 60 }) },
      { name: 'unknown jti (signed by our key)', token: () => forge({ typ: 'at+jwt' }, { ...realClaims(), jti: '00000000-0000-4000-8000-000000000000' }) },
      { name: 'the ID token used as an access token (typ JWT)', token: () => full.id_token! },
      { name: 'the refresh token used as an access token', token: () => full.refresh_token! },
    ];

    it.each(cases)('$name', async ({ token }) => {
      expectInvalidToken(await userinfo(t.app, await token()));
    });

    // RFC 6750 section 3.1: another scheme is a request without credentials, whose challenge carries no
    // error; a Bearer credential that is malformed is an invalid token.
    const malformed = 'Bearer realm="authly", error="invalid_token", error_description="the Authorization header must carry a Bearer access token"';
    it.each([
      ['Basic credentials', 'Basic dXNlcjpwYXNz', 'Bearer realm="authly"'],
      ['a bare token without a scheme', 'abc.def.ghi', 'Bearer realm="authly"'],
      ['Bearer with no token', 'Bearer ', malformed],
      ['Bearer with a space inside', 'Bearer abc def', malformed],
    ])('%s in the Authorization header', async (_name, authorization, challenge) => {
      const res = await t.app.inject({ url: '/oidc/userinfo', headers: { authorization } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe(challenge);
      expect(res.json().error).toBe('invalid_token');
    });

    it('an expired token (expiry recorded in the database)', async () => {
      const token = await narrowed('openid');
      await t.app.ctx.db.query("UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE jti = $1", [decodeJwt(token).jti]);
      expectInvalidToken(await userinfo(t.app, token));
    });

    it('a revoked token', async () => {
      const token = await narrowed('openid');
      await t.app.ctx.db.query('UPDATE access_tokens SET revoked_at = now() WHERE jti = $1', [decodeJwt(token).jti]);
      expectInvalidToken(await userinfo(t.app, token));
    });

    it('a client_credentials token (no user)', async () => {
      await insertScope(t.app.ctx.db, { name: 'svc', description: '', isDefault: false });
      const service = await createClient(t.app, { grantTypes: ['client_credentials'], scope: 'svc' });
      const token = (await tokenRequest(t.app, service, { grant_type: 'client_credentials' })).json().access_token as string;
      expectInvalidToken(await userinfo(t.app, token));
    });

    it('a token of a disabled client', async () => {
      const other = await createClient(t.app);
      const tokens = await obtainTokens(t.app, new InjectBrowser(t.app), other, user.username);
      expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(200);
      await t.app.ctx.db.query('UPDATE clients SET is_active = false WHERE client_id = $1', [other.clientId]);
      expectInvalidToken(await userinfo(t.app, tokens.access_token));
    });

    it('disabling the user makes the token fail at once', async () => {
      const victim = await createUser(t.app);
      const tokens = await obtainTokens(t.app, new InjectBrowser(t.app), client, victim.username);
      expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(200);
      await t.app.ctx.db.query('UPDATE users SET is_active = false WHERE id = $1', [victim.id]);
      expectInvalidToken(await userinfo(t.app, tokens.access_token));
      expectInvalidToken(await userinfo(t.app, tokens.access_token, 'POST'));
    });
  });

  it('a token without openid → 403 insufficient_scope', async () => {
    const res = await userinfo(t.app, await narrowed('email'));
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="authly", error="insufficient_scope", error_description="the access token lacks the openid scope"',
    );
    expect(res.json()).toEqual({ error: 'insufficient_scope', error_description: 'the access token lacks the openid scope' });
  });

  describe('claims released by scope (OIDC Core section 5.4)', () => {
    const PROFILE = ['name', 'given_name', 'family_name', 'preferred_username', 'locale', 'updated_at'];
    const EMAIL = ['email', 'email_verified'];
    const PHONE = ['phone_number', 'phone_number_verified'];
    const ADDRESS = ['address'];

    it.each([
      ['openid', []],
      ['openid profile', PROFILE],
      ['openid email', EMAIL],
      ['openid phone', PHONE],
      ['openid address', ADDRESS],
      ['openid email phone', [...EMAIL, ...PHONE]],
    ])('%s', async (scope, expected) => {
      const res = await userinfo(t.app, await narrowed(scope));
      expect(res.statusCode).toBe(200);
      expect(Object.keys(res.json()).sort()).toEqual(['sub', ...expected].sort());
    });

    it('the full scope releases the values of the user', async () => {
      const body = (await userinfo(t.app, full.access_token)).json();
      expect(body).toMatchObject({
        sub: user.id,
        name: 'Test User',
        given_name: 'Test',
        family_name: 'User',
        preferred_username: user.username,
        email: user.email,
        email_verified: true,
        phone_number: '+1 555 0100',
        phone_number_verified: true,
        address: { street_address: '1 Main St', locality: 'Springfield', country: 'US' },
      });
      expect(body.password_hash).toBeUndefined();
      expect(body.passwordHash).toBeUndefined();
      expect(body.is_admin).toBeUndefined();
    });
  });
});

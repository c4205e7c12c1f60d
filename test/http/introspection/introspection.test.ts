import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertScope } from '../../../src/repositories/scopes-repository.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { hashOpaqueToken } from '../../../src/tokens/opaque-token.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { basicAuth, createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { FORM, obtainTokens, tokenRequest, type Tokens } from '../../helpers/oauth-flow.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { introspect, mintAccessToken, revoke } from '../../helpers/token-management.js';

/**
 * RFC 7662: POST /oauth/introspect. Who may introspect what: a confidential client, its own tokens and
 * access tokens whose aud names it; everything else (and every inactive token) is exactly {"active":false}.
 */
describe('token introspection', () => {
  let t: TestApp;
  let owner: TestClient;
  let other: TestClient;
  let resourceServer: TestClient;
  let publicClient: TestClient;
  let user: User;
  const browsers = new Map<string, InjectBrowser>();

  beforeAll(async () => {
    // Many failed authentications are asserted here; the throttle has its own test (throttle.test.ts).
    t = await createTestApp({ AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1000' });
    owner = await createClient(t.app);
    other = await createClient(t.app);
    resourceServer = await createClient(t.app, { grantTypes: ['client_credentials'], scope: '' });
    publicClient = await createClient(t.app, { tokenEndpointAuthMethod: 'none' });
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  async function fresh(client: TestClient = owner, who: User = user): Promise<Tokens> {
    const key = `${client.clientId}|${who.id}`;
    let browser = browsers.get(key);
    if (!browser) browsers.set(key, (browser = new InjectBrowser(t.app)));
    return obtainTokens(t.app, browser, client, who.username, { scope: 'openid offline_access' });
  }

  /** The exact inactive answer: the body is byte for byte {"active":false}, with no-store. */
  function expectInactive(res: LightMyRequestResponse) {
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toBe('{"active":false}');
  }

  const refreshRow = async (refreshToken: string) =>
    (
      await t.app.ctx.db.query<{ iat: number; exp: number }>(
        'SELECT floor(extract(epoch FROM created_at))::int AS iat, floor(extract(epoch FROM expires_at))::int AS exp FROM refresh_tokens WHERE token_hash = $1',
        [hashOpaqueToken(refreshToken)],
      )
    ).rows[0]!;

  describe('active tokens', () => {
    it.each([undefined, 'access_token', 'refresh_token', 'bogus_hint'])('an access token, by its client (hint %s)', async (hint) => {
      const tokens = await fresh();
      const res = await introspect(t.app, owner, { token: tokens.access_token, ...(hint ? { token_type_hint: hint } : {}) });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const claims = decodeJwt(tokens.access_token);
      expect(res.json()).toEqual({
        active: true,
        scope: 'openid offline_access',
        client_id: owner.clientId,
        sub: user.id,
        aud: TEST_ISSUER,
        iss: TEST_ISSUER,
        exp: claims.exp,
        iat: claims.iat,
        token_type: 'Bearer',
        jti: claims.jti,
        username: user.username,
      });
    });

    it.each([undefined, 'refresh_token', 'access_token', 'bogus_hint'])('a refresh token, by its client (hint %s)', async (hint) => {
      const tokens = await fresh();
      const res = await introspect(t.app, owner, { token: tokens.refresh_token!, ...(hint ? { token_type_hint: hint } : {}) });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const { iat, exp } = await refreshRow(tokens.refresh_token!);
      expect(res.json()).toEqual({
        active: true,
        scope: 'openid offline_access',
        client_id: owner.clientId,
        sub: user.id,
        aud: TEST_ISSUER,
        iss: TEST_ISSUER,
        exp,
        iat,
        token_type: 'refresh_token',
        username: user.username,
      });
      expect(exp - iat).toBe(t.config.refreshTokenTtlSeconds);
    });

    it('client_secret_post works as well', async () => {
      const tokens = await fresh();
      const res = await introspect(t.app, owner, { token: tokens.access_token }, { method: 'post' });
      expect(res.json()).toMatchObject({ active: true, client_id: owner.clientId });
    });

    it('a client_credentials token: sub is the client, no username', async () => {
      await insertScope(t.app.ctx.db, { name: 'api:read', description: '', isDefault: false });
      const service = await createClient(t.app, { grantTypes: ['client_credentials'], scope: 'api:read' });
      const token = (await tokenRequest(t.app, service, { grant_type: 'client_credentials', scope: 'api:read' })).json().access_token as string;
      const claims = decodeJwt(token);
      expect((await introspect(t.app, service, { token })).json()).toEqual({
        active: true,
        scope: 'api:read',
        client_id: service.clientId,
        sub: service.clientId,
        aud: TEST_ISSUER,
        iss: TEST_ISSUER,
        exp: claims.exp,
        iat: claims.iat,
        token_type: 'Bearer',
        jti: claims.jti,
      });
    });

    it('the successor of a rotated refresh token is active, the rotated one is not', async () => {
      const first = await fresh();
      const second = (await tokenRequest(t.app, owner, { grant_type: 'refresh_token', refresh_token: first.refresh_token! })).json() as Tokens;
      expect((await introspect(t.app, owner, { token: second.refresh_token! })).json()).toMatchObject({ active: true, token_type: 'refresh_token' });
      expectInactive(await introspect(t.app, owner, { token: first.refresh_token! }));
    });
  });

  describe('who may introspect what', () => {
    it("another client gets {active:false} for a client's access and refresh tokens", async () => {
      const tokens = await fresh();
      for (const hint of [undefined, 'access_token', 'refresh_token']) {
        for (const token of [tokens.access_token, tokens.refresh_token!]) {
          expectInactive(await introspect(t.app, other, { token, ...(hint ? { token_type_hint: hint } : {}) }));
          expectInactive(await introspect(t.app, resourceServer, { token, ...(hint ? { token_type_hint: hint } : {}) }));
        }
      }
      // The owner still sees both as active: nothing was changed by the refused look.
      expect((await introspect(t.app, owner, { token: tokens.access_token })).json().active).toBe(true);
      expect((await introspect(t.app, owner, { token: tokens.refresh_token! })).json().active).toBe(true);
    });

    it.each([
      ['aud is the resource server (a string)', () => resourceServer.clientId],
      ['aud lists the resource server among others', () => [TEST_ISSUER, resourceServer.clientId]],
    ])('a client named in aud may introspect the access token: %s', async (_name, aud) => {
      const token = await mintAccessToken(t.app, { clientId: owner.clientId, userId: user.id, aud: aud(), scope: 'openid' });
      const claims = decodeJwt(token);
      expect((await introspect(t.app, resourceServer, { token })).json()).toEqual({
        active: true,
        scope: 'openid',
        client_id: owner.clientId,
        sub: user.id,
        aud: aud(),
        iss: TEST_ISSUER,
        exp: claims.exp,
        iat: claims.iat,
        token_type: 'Bearer',
        jti: claims.jti,
        username: user.username,
      });
      // A client that is neither the owner nor in aud still gets nothing.
      expectInactive(await introspect(t.app, other, { token }));
    });

    it('a public client → 401 invalid_client, even for its own token', async () => {
      const tokens = await fresh(publicClient);
      const res = await introspect(t.app, publicClient, { token: tokens.access_token });
      expect(res.statusCode).toBe(401);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.json()).toEqual({ error: 'invalid_client', error_description: 'public clients may not introspect tokens' });
    });
  });

  describe('every inactive token is exactly {"active":false}', () => {
    /** A JWT signed with the server's own key, so only the claims or header are wrong. */
    const forge = (header: Record<string, unknown>, claims: Record<string, unknown>) => {
      const signing = t.app.ctx.keys.signingKey('RS256');
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: signing.kid, ...header }).sign(signing.privateKey);
    };
    const sql = (text: string, params: unknown[]) => t.app.ctx.db.query(text, params);

    const cases: [string, () => Promise<string> | string][] = [
      ['an unknown random string', () => 'not-a-token'],
      ['three garbage segments', () => 'a.b.c'],
      ['a very long value', () => 'x'.repeat(60_000)],
      ['non-ASCII text', () => 'jeton-\u00e9\u4e2d\u{1F600}'],
      ['a tampered signature', async () => `${(await fresh()).access_token.slice(0, -4)}AAAA`],
      ['a tampered payload', async () => {
        const [h, p, s] = (await fresh()).access_token.split('.');
        const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
        return `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'openid authly:admin' })).toString('base64url')}.${s}`;
      }],
      ['alg none', async () => {
        const claims = decodeJwt((await fresh()).access_token);
        const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: t.app.ctx.keys.signingKey('RS256').kid })).toString('base64url');
        return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
      }],
      ['an unknown kid', async () => forge({ kid: 'nope', typ: 'at+jwt' }, decodeJwt((await fresh()).access_token))],
      ['a wrong issuer (signed by our key)', async () => forge({ typ: 'at+jwt' }, { ...decodeJwt((await fresh()).access_token), iss: 'https://evil.example' })],
      ['the ID token (typ JWT)', async () => (await fresh()).id_token!],
      ['an unknown jti (signed by our key)', () => mintAccessToken(t.app, { clientId: owner.clientId, userId: user.id, record: false })],
      ['an expired access token (JWT exp)', () => mintAccessToken(t.app, { clientId: owner.clientId, userId: user.id, expiresIn: -60 })],
      ['an access token expired in the database', async () => {
        const token = (await fresh()).access_token;
        await sql("UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE jti = $1", [decodeJwt(token).jti]);
        return token;
      }],
      ['a revoked access token (revoked at /oauth/revoke)', async () => {
        const token = (await fresh()).access_token;
        expect((await revoke(t.app, owner, { token })).statusCode).toBe(200);
        return token;
      }],
      ['an access token whose refresh token was revoked (family)', async () => {
        const tokens = await fresh();
        expect((await revoke(t.app, owner, { token: tokens.refresh_token! })).statusCode).toBe(200);
        return tokens.access_token;
      }],
      ['a refresh token revoked at /oauth/revoke', async () => {
        const tokens = await fresh();
        expect((await revoke(t.app, owner, { token: tokens.refresh_token! })).statusCode).toBe(200);
        return tokens.refresh_token!;
      }],
      ['a rotated refresh token', async () => {
        const tokens = await fresh();
        expect((await tokenRequest(t.app, owner, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })).statusCode).toBe(200);
        return tokens.refresh_token!;
      }],
      ['an expired refresh token', async () => {
        const tokens = await fresh();
        await sql("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [hashOpaqueToken(tokens.refresh_token!)]);
        return tokens.refresh_token!;
      }],
      ['an access token of a revoked grant', async () => {
        const tokens = await fresh();
        await sql('UPDATE grants SET revoked_at = now() WHERE id = (SELECT grant_id FROM access_tokens WHERE jti = $1)', [decodeJwt(tokens.access_token).jti]);
        return tokens.access_token;
      }],
      ['a refresh token of a revoked grant', async () => {
        const tokens = await fresh();
        await sql('UPDATE grants SET revoked_at = now() WHERE id = (SELECT grant_id FROM refresh_tokens WHERE token_hash = $1)', [hashOpaqueToken(tokens.refresh_token!)]);
        return tokens.refresh_token!;
      }],
    ];

    it.each(cases)('%s', async (_name, token) => {
      expectInactive(await introspect(t.app, owner, { token: await token() }));
    });

    it.each(['access_token', 'refresh_token'] as const)('the %s of a disabled user', async (kind) => {
      const victim = await createUser(t.app);
      const tokens = await fresh(owner, victim);
      expect((await introspect(t.app, owner, { token: tokens[kind]! })).json().active).toBe(true);
      await sql('UPDATE users SET is_active = false WHERE id = $1', [victim.id]);
      expectInactive(await introspect(t.app, owner, { token: tokens[kind]! }));
    });

    it('an access token of a disabled client (seen by the resource server in its aud)', async () => {
      const doomed = await createClient(t.app);
      const token = await mintAccessToken(t.app, { clientId: doomed.clientId, userId: user.id, aud: resourceServer.clientId });
      expect((await introspect(t.app, resourceServer, { token })).json().active).toBe(true);
      await sql('UPDATE clients SET is_active = false WHERE client_id = $1', [doomed.clientId]);
      expectInactive(await introspect(t.app, resourceServer, { token }));
    });

    it('revoking only the access token leaves its refresh token active', async () => {
      const tokens = await fresh();
      await revoke(t.app, owner, { token: tokens.access_token });
      expectInactive(await introspect(t.app, owner, { token: tokens.access_token }));
      expect((await introspect(t.app, owner, { token: tokens.refresh_token! })).json().active).toBe(true);
    });
  });

  describe('client authentication and malformed requests', () => {
    const post = (headers: Record<string, string>, form: Record<string, string>) =>
      t.app.inject({ method: 'POST', url: '/oauth/introspect', headers: { ...FORM, ...headers }, payload: new URLSearchParams(form).toString() });

    const cases: { name: string; headers: () => Record<string, string>; form: () => Record<string, string>; status: number; body: Record<string, string>; basic: boolean }[] = [
      { name: 'no client authentication', headers: () => ({}), form: () => ({ token: 'x' }), status: 401, body: { error: 'invalid_client', error_description: 'client authentication is required' }, basic: false },
      { name: 'a wrong secret with Basic', headers: () => ({ authorization: basicAuth(owner.clientId, 'wrong') }), form: () => ({ token: 'x' }), status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' }, basic: true },
      { name: 'a wrong secret in the body', headers: () => ({}), form: () => ({ token: 'x', client_id: owner.clientId, client_secret: 'wrong' }), status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' }, basic: false },
      { name: 'a confidential client with client_id only', headers: () => ({}), form: () => ({ token: 'x', client_id: owner.clientId }), status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' }, basic: false },
      { name: 'an unknown client with Basic', headers: () => ({ authorization: basicAuth('nobody', 'secret') }), form: () => ({ token: 'x' }), status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' }, basic: true },
      { name: 'a malformed Basic header', headers: () => ({ authorization: 'Basic !!!' }), form: () => ({ token: 'x' }), status: 401, body: { error: 'invalid_client', error_description: 'invalid HTTP Basic authorization header' }, basic: true },
      { name: 'a public client with client_id only', headers: () => ({}), form: () => ({ token: 'x', client_id: publicClient.clientId }), status: 401, body: { error: 'invalid_client', error_description: 'public clients may not introspect tokens' }, basic: false },
      { name: 'Basic and client_secret together', headers: () => ({ authorization: basicAuth(owner.clientId, owner.clientSecret!) }), form: () => ({ token: 'x', client_secret: owner.clientSecret! }), status: 400, body: { error: 'invalid_request', error_description: 'client authentication must use only one method' }, basic: false },
      { name: 'no token', headers: () => ({ authorization: basicAuth(owner.clientId, owner.clientSecret!) }), form: () => ({}), status: 400, body: { error: 'invalid_request', error_description: 'token is required' }, basic: false },
      { name: 'an empty token', headers: () => ({ authorization: basicAuth(owner.clientId, owner.clientSecret!) }), form: () => ({ token: '' }), status: 400, body: { error: 'invalid_request', error_description: 'token is required' }, basic: false },
    ];

    it.each(cases)('$name → $status', async ({ headers, form, status, body, basic }) => {
      const res = await post(headers(), form());
      expect(res.statusCode).toBe(status);
      expect(res.json()).toEqual(body);
      expect(res.headers['cache-control']).toBe('no-store');
      if (basic) expect(res.headers['www-authenticate']).toBe('Basic realm="authly"');
      else expect(res.headers['www-authenticate']).toBeUndefined();
    });

    it('a disabled client → 401 invalid_client, even for its own live-looking token', async () => {
      const disabled = await createClient(t.app);
      const tokens = await fresh(disabled);
      await t.app.ctx.db.query('UPDATE clients SET is_active = false WHERE client_id = $1', [disabled.clientId]);
      await t.app.ctx.clients.invalidate(disabled.clientId); // as the admin API does after a write
      const res = await introspect(t.app, disabled, { token: tokens.access_token });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
      expect(res.headers['www-authenticate']).toBe('Basic realm="authly"');
    });

    it.each([
      ['token', 'token=a&token=b'],
      ['token_type_hint', 'token=a&token_type_hint=access_token&token_type_hint=refresh_token'],
      ['client_id', 'token=a&client_id=x&client_id=y'],
    ])('a repeated %s → 400 invalid_request', async (name, payload) => {
      const res = await t.app.inject({ method: 'POST', url: '/oauth/introspect', headers: { ...FORM, authorization: basicAuth(owner.clientId, owner.clientSecret!) }, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: `${name} must not be repeated` });
    });

    it.each([
      ['JSON', 'application/json', '{"token":"x"}'],
      ['invalid JSON', 'application/json', '{"token":'],
      ['text', 'text/plain', 'token=x'],
      ['multipart', 'multipart/form-data; boundary=x', '--x--'],
      ['non-UTF-8 form bytes', 'application/x-www-form-urlencoded', 'token=%FF%FE'],
      ['a NUL character', 'application/x-www-form-urlencoded', 'token=a%00b'],
      ['an oversized body', 'application/x-www-form-urlencoded', `token=${'x'.repeat(70 * 1024)}`],
    ])('%s → 4xx invalid_request, never 5xx', async (_name, contentType, payload) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/introspect',
        headers: { 'content-type': contentType, authorization: basicAuth(owner.clientId, owner.clientSecret!) },
        payload,
      });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.json().error).toBe('invalid_request');
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, pkcePair, REDIRECT_URI, type TestClient } from '../../helpers/fixtures.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { exchangeCode, obtainCode, tokenRequest, userinfo, type Tokens } from '../../helpers/oauth-flow.js';
import { hashOpaqueToken } from '../../../src/tokens/opaque-token.js';
import type { User } from '../../../src/repositories/users-repository.js';

/** RFC 6749 section 4.1.3, RFC 7636 section 4.6, RFC 9700 section 2.1.1 and section 4.1.2 (single use). */
describe('token endpoint: authorization_code grant', () => {
  let t: TestApp;
  let client: TestClient;
  let other: TestClient;
  let publicClient: TestClient;
  let noPkceClient: TestClient;
  let noRefreshClient: TestClient;
  let user: User;
  let browser: InjectBrowser;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    other = await createClient(t.app);
    publicClient = await createClient(t.app, { tokenEndpointAuthMethod: 'none' });
    noPkceClient = await createClient(t.app, { requirePkce: false });
    noRefreshClient = await createClient(t.app, { grantTypes: ['authorization_code'] });
    user = await createUser(t.app);
    browser = new InjectBrowser(t.app);
    // Sign in and consent once per client; later codes come straight from single sign-on.
    for (const c of [client, other, publicClient, noPkceClient, noRefreshClient]) {
      await obtainCode(browser, c, user.username, { scope: 'openid profile email offline_access' });
    }
  });
  afterAll(() => t.close());

  const code = (c: TestClient = client, overrides: Record<string, string | undefined> = {}) =>
    obtainCode(browser, c, user.username, { scope: 'openid profile email offline_access', ...overrides });

  function expectInvalidGrant(res: LightMyRequestResponse, description: string) {
    expect(res.statusCode).toBe(400);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ error: 'invalid_grant', error_description: description });
  }

  it('the happy path for a confidential and a public client', async () => {
    for (const c of [client, publicClient]) {
      const res = await exchangeCode(t.app, c, await code(c));
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(Object.keys(res.json()).sort()).toEqual(['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type']);
    }
  });

  describe('invalid_grant', () => {
    it.each([
      ['wrong redirect_uri', { redirect_uri: 'https://app.example.com/other' }, 'redirect_uri does not match the authorization request'],
      ['redirect_uri with a trailing slash', { redirect_uri: `${REDIRECT_URI}/` }, 'redirect_uri does not match the authorization request'],
      ['wrong code_verifier', { code_verifier: pkcePair().verifier }, 'code_verifier does not match the code_challenge'],
      ['code_verifier too short', { code_verifier: 'a'.repeat(42) }, 'code_verifier does not match the code_challenge'],
      ['code_verifier with forbidden characters', { code_verifier: `${'a'.repeat(43)}+` }, 'code_verifier does not match the code_challenge'],
    ])('%s', async (_name, extra, description) => {
      expectInvalidGrant(await exchangeCode(t.app, client, await code(), extra), description);
    });

    it('the challenge itself sent as the verifier (plain downgrade)', async () => {
      const { challenge } = pkcePair();
      const c = await obtainCode(browser, client, user.username, { code_challenge: challenge });
      expectInvalidGrant(await exchangeCode(t.app, client, { code: c.code, verifier: challenge }), 'code_verifier does not match the code_challenge');
    });

    it('missing code_verifier when a challenge was used', async () => {
      const c = await code();
      const res = await tokenRequest(t.app, client, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT_URI });
      expectInvalidGrant(res, 'code_verifier is required');
    });

    it('a code_verifier when no challenge was used (PKCE downgrade, RFC 9700 section 2.1.1)', async () => {
      const c = await obtainCode(browser, noPkceClient, user.username, { code_challenge: undefined, code_challenge_method: undefined });
      expectInvalidGrant(await exchangeCode(t.app, noPkceClient, c), 'code_verifier sent but no code_challenge was used');
    });

    it('the require_pkce=false exception works without a verifier (control case)', async () => {
      const c = await obtainCode(browser, noPkceClient, user.username, { code_challenge: undefined, code_challenge_method: undefined });
      const res = await tokenRequest(t.app, noPkceClient, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT_URI });
      expect(res.statusCode).toBe(200);
    });

    it('an unknown code', async () => {
      expectInvalidGrant(await exchangeCode(t.app, client, { code: 'not-a-code', verifier: pkcePair().verifier }), 'authorization code is invalid');
    });

    it("another client's code is refused, and still works for its own client", async () => {
      const c = await code();
      expectInvalidGrant(await exchangeCode(t.app, other, c), 'authorization code is invalid');
      expectInvalidGrant(await exchangeCode(t.app, publicClient, c), 'authorization code is invalid');
      const own = await exchangeCode(t.app, client, c);
      expect(own.statusCode).toBe(200);
    });

    it('an expired code', async () => {
      const c = await code();
      await t.app.ctx.db.query("UPDATE authorization_codes SET expires_at = now() - interval '1 second' WHERE code_hash = $1", [
        hashOpaqueToken(c.code),
      ]);
      expectInvalidGrant(await exchangeCode(t.app, client, c), 'authorization code has expired');
    });

    it('a failed attempt uses the code up: the right verifier afterwards is refused too', async () => {
      const c = await code();
      expectInvalidGrant(await exchangeCode(t.app, client, c, { code_verifier: pkcePair().verifier }), 'code_verifier does not match the code_challenge');
      expectInvalidGrant(await exchangeCode(t.app, client, c), 'authorization code was already used');
    });

    it('a code of a user who was disabled after the code was issued', async () => {
      const victim = await createUser(t.app);
      const b = new InjectBrowser(t.app);
      const c = await obtainCode(b, client, victim.username);
      await t.app.ctx.db.query('UPDATE users SET is_active = false WHERE id = $1', [victim.id]);
      expectInvalidGrant(await exchangeCode(t.app, client, c), 'authorization grant is no longer valid');
    });
  });

  describe('missing parameters → invalid_request', () => {
    it.each([
      ['code', 'code is required'],
      ['redirect_uri', 'redirect_uri is required'],
    ])('missing %s', async (name, description) => {
      const c = await code();
      const form: Record<string, string> = { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT_URI, code_verifier: c.verifier };
      delete form[name];
      const res = await tokenRequest(t.app, client, form);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: description });
    });
  });

  describe('code reuse (RFC 6749 section 4.1.2)', () => {
    it('a second use fails and revokes every token the first use issued', async () => {
      const c = await code();
      const first = await exchangeCode(t.app, client, c);
      expect(first.statusCode).toBe(200);
      const tokens = first.json() as Tokens;
      expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(200);

      expectInvalidGrant(await exchangeCode(t.app, client, c), 'authorization code was already used');

      const info = await userinfo(t.app, tokens.access_token);
      expect(info.statusCode).toBe(401);
      expect(info.headers['www-authenticate']).toContain('error="invalid_token"');
      const refresh = await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
      expectInvalidGrant(refresh, 'refresh token has been revoked');
    });

    it('also revokes tokens already refreshed from the first use', async () => {
      const c = await code();
      const tokens = (await exchangeCode(t.app, client, c)).json() as Tokens;
      const refreshed = (await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })).json() as Tokens;
      expect((await userinfo(t.app, refreshed.access_token)).statusCode).toBe(200);
      await exchangeCode(t.app, client, c);
      expect((await userinfo(t.app, refreshed.access_token)).statusCode).toBe(401);
      expectInvalidGrant(await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token! }), 'refresh token has been revoked');
    });

    it('two concurrent exchanges of one code: exactly one succeeds', async () => {
      const c = await code();
      const results = await Promise.all([exchangeCode(t.app, client, c), exchangeCode(t.app, client, c)]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400]);
      const winner = results.find((r) => r.statusCode === 200)!.json() as Tokens;
      // The loser is a replay: the winner's tokens are revoked as well.
      expect((await userinfo(t.app, winner.access_token)).statusCode).toBe(401);
    });
  });

  describe('what is issued', () => {
    it('no refresh token without offline_access', async () => {
      const res = await exchangeCode(t.app, client, await code(client, { scope: 'openid email' }));
      expect(res.statusCode).toBe(200);
      expect(res.json().refresh_token).toBeUndefined();
      expect(res.json().scope).toBe('openid email');
    });

    it('no refresh token for a client without the refresh_token grant, even with offline_access', async () => {
      const res = await exchangeCode(t.app, noRefreshClient, await code(noRefreshClient));
      expect(res.statusCode).toBe(200);
      expect(res.json().refresh_token).toBeUndefined();
    });

    it('no ID token without openid', async () => {
      const res = await exchangeCode(t.app, client, await code(client, { scope: 'email offline_access', nonce: undefined }));
      expect(res.statusCode).toBe(200);
      expect(res.json().id_token).toBeUndefined();
      expect(res.json().refresh_token).toBeTypeOf('string');
    });

    it('authorization codes carry at least 128 bits (43+ base64url characters)', async () => {
      const c = await code();
      expect(c.code).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    });
  });
});

import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../src/repositories/users-repository.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { basicAuth, createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { FORM, obtainTokens, tokenRequest, userinfo, type Tokens } from '../../helpers/oauth-flow.js';
import { introspect, mintAccessToken, revoke } from '../../helpers/token-management.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

/** RFC 7009: POST /oauth/revoke. */
describe('token revocation', () => {
  let t: TestApp;
  let owner: TestClient;
  let other: TestClient;
  let publicClient: TestClient;
  let user: User;
  const browsers = new Map<string, InjectBrowser>();

  beforeAll(async () => {
    // Many failed authentications are asserted here; the throttle has its own test (throttle.test.ts).
    t = await createTestApp({ AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1000' });
    owner = await createClient(t.app);
    other = await createClient(t.app);
    publicClient = await createClient(t.app, { tokenEndpointAuthMethod: 'none' });
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  /** Fresh tokens (access, refresh, ID) for `client`; one browser per client keeps the session and consent. */
  async function fresh(client: TestClient = owner): Promise<Tokens> {
    let browser = browsers.get(client.clientId);
    if (!browser) browsers.set(client.clientId, (browser = new InjectBrowser(t.app)));
    return obtainTokens(t.app, browser, client, user.username, { scope: 'openid offline_access' });
  }

  const refresh = (client: TestClient, refreshToken: string) => tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: refreshToken });

  function expectRevokeOk(res: LightMyRequestResponse) {
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
  }

  async function expectAccessRevoked(accessToken: string) {
    expect((await userinfo(t.app, accessToken)).statusCode).toBe(401);
  }

  async function expectAccessLive(accessToken: string) {
    expect((await userinfo(t.app, accessToken)).statusCode).toBe(200);
  }

  async function expectRefreshRevoked(client: TestClient, refreshToken: string) {
    const res = await refresh(client, refreshToken);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_grant', error_description: 'refresh token has been revoked' });
  }

  describe('an access token', () => {
    it.each([undefined, 'access_token', 'refresh_token', 'bogus_hint'])('is revoked, whatever the hint (%s), and only that jti', async (hint) => {
      const tokens = await fresh();
      await expectAccessLive(tokens.access_token);
      expectRevokeOk(await revoke(t.app, owner, { token: tokens.access_token, ...(hint ? { token_type_hint: hint } : {}) }));
      await expectAccessRevoked(tokens.access_token);
      expect((await introspect(t.app, owner, { token: tokens.access_token })).json()).toEqual({ active: false });
      // Only that access token: the refresh token of the same grant still works, and so does its successor access token.
      const refreshed = await refresh(owner, tokens.refresh_token!);
      expect(refreshed.statusCode).toBe(200);
      await expectAccessLive(refreshed.json().access_token);
    });

    it('revoking it twice is still 200', async () => {
      const tokens = await fresh();
      expectRevokeOk(await revoke(t.app, owner, { token: tokens.access_token }));
      expectRevokeOk(await revoke(t.app, owner, { token: tokens.access_token }));
      await expectAccessRevoked(tokens.access_token);
    });

    it('an expired access token of the client is accepted (200) and revoked by jti', async () => {
      const token = await mintAccessToken(t.app, { clientId: owner.clientId, expiresIn: -60 });
      expectRevokeOk(await revoke(t.app, owner, { token }));
      const { rows } = await t.app.ctx.db.query<{ revoked: boolean }>('SELECT revoked_at IS NOT NULL AS revoked FROM access_tokens WHERE jti = $1', [
        decodeJwt(token).jti,
      ]);
      expect(rows).toEqual([{ revoked: true }]);
    });

    it.each(['basic', 'post'] as const)('client_secret_%s authenticates the revocation', async (method) => {
      const tokens = await fresh();
      expectRevokeOk(await revoke(t.app, owner, { token: tokens.access_token }, { method }));
      await expectAccessRevoked(tokens.access_token);
    });
  });

  describe('a refresh token revokes its whole family', () => {
    it.each([undefined, 'refresh_token', 'access_token', 'bogus_hint'])('hint %s', async (hint) => {
      const first = await fresh();
      // One rotation, so the family holds two access tokens and a rotated plus a live refresh token.
      const second = (await refresh(owner, first.refresh_token!)).json() as Tokens;
      await expectAccessLive(first.access_token);
      await expectAccessLive(second.access_token);
      expectRevokeOk(await revoke(t.app, owner, { token: second.refresh_token!, ...(hint ? { token_type_hint: hint } : {}) }));
      await expectAccessRevoked(first.access_token);
      await expectAccessRevoked(second.access_token);
      await expectRefreshRevoked(owner, second.refresh_token!);
      await expectRefreshRevoked(owner, first.refresh_token!);
      expect((await introspect(t.app, owner, { token: second.refresh_token! })).json()).toEqual({ active: false });
    });

    it('other grants of the same client and user are untouched', async () => {
      const a = await fresh();
      const b = await fresh();
      expectRevokeOk(await revoke(t.app, owner, { token: a.refresh_token! }));
      await expectAccessRevoked(a.access_token);
      await expectAccessLive(b.access_token);
      expect((await refresh(owner, b.refresh_token!)).statusCode).toBe(200);
    });

    it('a public client revokes its own refresh token with client_id alone', async () => {
      const tokens = await fresh(publicClient);
      expectRevokeOk(await revoke(t.app, publicClient, { token: tokens.refresh_token! }));
      await expectAccessRevoked(tokens.access_token);
      await expectRefreshRevoked(publicClient, tokens.refresh_token!);
    });

    it('a public client revokes its own access token with client_id alone', async () => {
      const tokens = await fresh(publicClient);
      expectRevokeOk(await revoke(t.app, publicClient, { token: tokens.access_token }));
      await expectAccessRevoked(tokens.access_token);
    });
  });

  describe("another client's token → 200 and not revoked (RFC 7009 section 2.1)", () => {
    it.each([
      ['a confidential client', () => other],
      ['a public client', () => publicClient],
    ])('%s cannot revoke the access or refresh token of another', async (_name, caller) => {
      const tokens = await fresh();
      for (const hint of [undefined, 'access_token', 'refresh_token']) {
        for (const token of [tokens.access_token, tokens.refresh_token!]) {
          expectRevokeOk(await revoke(t.app, caller(), { token, ...(hint ? { token_type_hint: hint } : {}) }));
        }
      }
      await expectAccessLive(tokens.access_token);
      expect((await refresh(owner, tokens.refresh_token!)).statusCode).toBe(200);
    });

    it("the owner's public client cannot revoke a confidential client's token either", async () => {
      const tokens = await fresh(publicClient);
      expectRevokeOk(await revoke(t.app, other, { token: tokens.access_token }));
      expectRevokeOk(await revoke(t.app, other, { token: tokens.refresh_token! }));
      await expectAccessLive(tokens.access_token);
      expect((await refresh(publicClient, tokens.refresh_token!)).statusCode).toBe(200);
    });
  });

  describe('unknown, invalid and foreign tokens → 200 with an empty body', () => {
    const cases: [string, () => Promise<string> | string][] = [
      ['a random string', () => 'not-a-token'],
      ['three garbage segments', () => 'a.b.c'],
      ['a JWT signed by our key with an unknown jti', () => mintAccessToken(t.app, { clientId: owner.clientId, record: false })],
      ['a JWT with a tampered signature', async () => `${(await fresh()).access_token.slice(0, -4)}AAAA`],
      ['the ID token', async () => (await fresh()).id_token!],
      ['a very long value', () => 'x'.repeat(60_000)],
      ['non-ASCII text', () => 'jeton-\u00e9\u4e2d\u{1F600}'],
      ['a bare percent sign', () => '%'],
    ];
    it.each(cases)('%s', async (_name, token) => {
      expectRevokeOk(await revoke(t.app, owner, { token: await token() }));
    });

    it('the ID token revokes nothing', async () => {
      const tokens = await fresh();
      expectRevokeOk(await revoke(t.app, owner, { token: tokens.id_token! }));
      await expectAccessLive(tokens.access_token);
    });
  });

  describe('client authentication, as at the token endpoint', () => {
    const post = (headers: Record<string, string>, form: Record<string, string>) =>
      t.app.inject({ method: 'POST', url: '/oauth/revoke', headers: { ...FORM, ...headers }, payload: new URLSearchParams(form).toString() });

    const cases: { name: string; headers: () => Record<string, string>; form: () => Record<string, string>; status: number; body: Record<string, string>; basic: boolean }[] = [
      { name: 'no client authentication', headers: () => ({}), form: () => ({ token: 'x' }), status: 401, body: { error: 'invalid_client', error_description: 'client authentication is required' }, basic: false },
      { name: 'a wrong secret with Basic', headers: () => ({ authorization: basicAuth(owner.clientId, 'wrong') }), form: () => ({ token: 'x' }), status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' }, basic: true },
      { name: 'a wrong secret in the body', headers: () => ({}), form: () => ({ token: 'x', client_id: owner.clientId, client_secret: 'wrong' }), status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' }, basic: false },
      { name: 'a confidential client with client_id only', headers: () => ({}), form: () => ({ token: 'x', client_id: owner.clientId }), status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' }, basic: false },
      { name: 'an unknown client with Basic', headers: () => ({ authorization: basicAuth('nobody', 'secret') }), form: () => ({ token: 'x' }), status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' }, basic: true },
      { name: 'a malformed Basic header', headers: () => ({ authorization: 'Basic !!!' }), form: () => ({ token: 'x' }), status: 401, body: { error: 'invalid_client', error_description: 'invalid HTTP Basic authorization header' }, basic: true },
      { name: 'a public client sending a secret', headers: () => ({}), form: () => ({ token: 'x', client_id: publicClient.clientId, client_secret: 's' }), status: 401, body: { error: 'invalid_client', error_description: 'public clients do not authenticate with a secret' }, basic: false },
      { name: 'Basic and client_secret together', headers: () => ({ authorization: basicAuth(owner.clientId, owner.clientSecret!) }), form: () => ({ token: 'x', client_secret: owner.clientSecret! }), status: 400, body: { error: 'invalid_request', error_description: 'client authentication must use only one method' }, basic: false },
    ];

    it.each(cases)('$name → $status', async ({ headers, form, status, body, basic }) => {
      const res = await post(headers(), form());
      expect(res.statusCode).toBe(status);
      expect(res.json()).toEqual(body);
      expect(res.headers['cache-control']).toBe('no-store');
      if (basic) expect(res.headers['www-authenticate']).toBe('Basic realm="authly"');
      else expect(res.headers['www-authenticate']).toBeUndefined();
    });

    it('a disabled client → 401, and its token is not revoked', async () => {
      const disabled = await createClient(t.app);
      const tokens = await fresh(disabled);
      await t.app.ctx.db.query('UPDATE clients SET is_active = false WHERE client_id = $1', [disabled.clientId]);
      await t.app.ctx.clients.invalidate(disabled.clientId); // as the admin API does after a write
      const res = await revoke(t.app, disabled, { token: tokens.access_token });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
      expect(res.headers['www-authenticate']).toBe('Basic realm="authly"');
      const { rows } = await t.app.ctx.db.query<{ revoked: boolean }>('SELECT revoked_at IS NOT NULL AS revoked FROM access_tokens WHERE jti = $1', [
        decodeJwt(tokens.access_token).jti,
      ]);
      expect(rows).toEqual([{ revoked: false }]);
    });

    it('a failed authentication revokes nothing', async () => {
      const tokens = await fresh();
      const res = await post({ authorization: basicAuth(owner.clientId, 'wrong') }, { token: tokens.access_token });
      expect(res.statusCode).toBe(401);
      await expectAccessLive(tokens.access_token);
    });
  });

  describe('malformed requests → 400 invalid_request, never 5xx', () => {
    it.each([
      ['no token', {}, 'token is required'],
      ['an empty token', { token: '' }, 'token is required'],
      ['only a hint', { token_type_hint: 'access_token' }, 'token is required'],
    ])('%s', async (_name, form, description) => {
      const res = await revoke(t.app, owner, form as Record<string, string>);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: description });
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it.each([
      ['token', 'token=a&token=b'],
      ['token_type_hint', 'token=a&token_type_hint=access_token&token_type_hint=refresh_token'],
      ['client_id', 'token=a&client_id=x&client_id=y'],
      ['client_secret', 'token=a&client_secret=x&client_secret=y'],
    ])('a repeated %s', async (name, payload) => {
      const res = await t.app.inject({ method: 'POST', url: '/oauth/revoke', headers: { ...FORM, authorization: basicAuth(owner.clientId, owner.clientSecret!) }, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: `${name} must not be repeated` });
    });

    it('a repeated token does not revoke either copy', async () => {
      const tokens = await fresh();
      const payload = new URLSearchParams([['token', tokens.access_token], ['token', tokens.access_token]]).toString();
      const res = await t.app.inject({ method: 'POST', url: '/oauth/revoke', headers: { ...FORM, authorization: basicAuth(owner.clientId, owner.clientSecret!) }, payload });
      expect(res.statusCode).toBe(400);
      await expectAccessLive(tokens.access_token);
    });

    it.each([
      ['JSON', 'application/json', '{"token":"x"}'],
      ['invalid JSON', 'application/json', '{"token":'],
      ['text', 'text/plain', 'token=x'],
      ['multipart', 'multipart/form-data; boundary=x', '--x--'],
      ['non-UTF-8 form bytes', 'application/x-www-form-urlencoded', 'token=%FF%FE'],
      ['a NUL character', 'application/x-www-form-urlencoded', 'token=a%00b'],
      ['an oversized body', 'application/x-www-form-urlencoded', `token=${'x'.repeat(70 * 1024)}`],
    ])('%s', async (_name, contentType, payload) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/revoke',
        headers: { 'content-type': contentType, authorization: basicAuth(owner.clientId, owner.clientSecret!) },
        payload,
      });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.json().error).toBe('invalid_request');
    });

    it('no body at all', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/oauth/revoke', headers: { authorization: basicAuth(owner.clientId, owner.clientSecret!) } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'the request body must be application/x-www-form-urlencoded' });
    });
  });
});

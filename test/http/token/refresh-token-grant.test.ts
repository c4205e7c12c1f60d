import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { obtainTokens, tokenRequest, userinfo, type Tokens } from '../../helpers/oauth-flow.js';
import { hashOpaqueToken } from '../../../src/tokens/opaque-token.js';
import type { User } from '../../../src/repositories/users-repository.js';

/** RFC 6749 section 6 and RFC 9700 section 4.14.2: rotation, reuse detection, scope never widens. */
describe('token endpoint: refresh_token grant', () => {
  let t: TestApp;
  let client: TestClient;
  let other: TestClient;
  let publicClient: TestClient;
  let user: User;
  let browser: InjectBrowser;
  const SCOPE = 'openid email offline_access';

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    other = await createClient(t.app);
    publicClient = await createClient(t.app, { tokenEndpointAuthMethod: 'none' });
    user = await createUser(t.app);
    browser = new InjectBrowser(t.app);
  });
  afterAll(() => t.close());

  const tokens = (c: TestClient = client) => obtainTokens(t.app, browser, c, user.username, { scope: SCOPE });
  const refresh = (refreshToken: string, c: TestClient = client, extra: Record<string, string> = {}) =>
    tokenRequest(t.app, c, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });

  function expectError(res: LightMyRequestResponse, error: string, description: string) {
    expect(res.statusCode).toBe(400);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ error, error_description: description });
  }

  it('rotates: a new refresh token each time, and the old one fails afterwards', async () => {
    const first = await tokens();
    const res = await refresh(first.refresh_token!);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const second = res.json() as Tokens;
    expect(second.refresh_token).toBeTypeOf('string');
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.scope).toBe(SCOPE);
    expect(second.id_token).toBeTypeOf('string');

    expectError(await refresh(first.refresh_token!), 'invalid_grant', 'refresh token was already used; its token family has been revoked');
  });

  it('rotates for public clients too', async () => {
    const first = await tokens(publicClient);
    const second = (await refresh(first.refresh_token!, publicClient)).json() as Tokens;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expectError(await refresh(first.refresh_token!, publicClient), 'invalid_grant', 'refresh token was already used; its token family has been revoked');
  });

  it('reuse of a rotated token revokes the whole family: the newest access and refresh tokens stop working', async () => {
    const first = await tokens();
    const second = (await refresh(first.refresh_token!)).json() as Tokens;
    const third = (await refresh(second.refresh_token!)).json() as Tokens;
    expect((await userinfo(t.app, third.access_token)).statusCode).toBe(200);

    expectError(await refresh(first.refresh_token!), 'invalid_grant', 'refresh token was already used; its token family has been revoked');

    for (const access of [first.access_token, second.access_token, third.access_token]) {
      const info = await userinfo(t.app, access);
      expect(info.statusCode).toBe(401);
      expect(info.headers['www-authenticate']).toContain('error="invalid_token"');
    }
    expectError(await refresh(third.refresh_token!), 'invalid_grant', 'refresh token has been revoked');
  });

  it('another family of the same user and client is untouched by the revocation', async () => {
    const a = await tokens();
    const b = await tokens();
    await refresh(a.refresh_token!);
    await refresh(a.refresh_token!);
    expect((await userinfo(t.app, b.access_token)).statusCode).toBe(200);
    expect((await refresh(b.refresh_token!)).statusCode).toBe(200);
  });

  it('two concurrent refreshes with one token: one succeeds, the other is a replay', async () => {
    const first = await tokens();
    const results = await Promise.all([refresh(first.refresh_token!), refresh(first.refresh_token!)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400]);
    const winner = results.find((r) => r.statusCode === 200)!.json() as Tokens;
    expect((await refresh(winner.refresh_token!)).statusCode).toBe(400);
  });

  describe('scope', () => {
    it('widening → invalid_scope, and the refresh token is not used up', async () => {
      const first = await tokens();
      expectError(await refresh(first.refresh_token!, client, { scope: 'openid email profile' }), 'invalid_scope', 'requested scope exceeds the original grant');
      expectError(await refresh(first.refresh_token!, client, { scope: 'phone' }), 'invalid_scope', 'requested scope exceeds the original grant');
      expect((await refresh(first.refresh_token!)).statusCode).toBe(200);
    });

    it('narrowing works; the access token carries the narrowed scope', async () => {
      const first = await tokens();
      const res = await refresh(first.refresh_token!, client, { scope: 'openid' });
      expect(res.statusCode).toBe(200);
      const narrowed = res.json() as Tokens;
      expect(narrowed.scope).toBe('openid');
      expect(decodeJwt(narrowed.access_token).scope).toBe('openid');
      expect((await userinfo(t.app, narrowed.access_token)).json()).toEqual({ sub: user.id });
    });

    it('narrowing does not shrink the grant: the next refresh may ask for the original scope again', async () => {
      const first = await tokens();
      const narrowed = (await refresh(first.refresh_token!, client, { scope: 'openid' })).json() as Tokens;
      const again = await refresh(narrowed.refresh_token!, client, { scope: SCOPE });
      expect(again.statusCode).toBe(200);
      expect(again.json().scope).toBe(SCOPE);
    });

    it('narrowed to exclude openid → no ID token', async () => {
      const first = await tokens();
      const res = (await refresh(first.refresh_token!, client, { scope: 'email' })).json() as Tokens;
      expect(res.id_token).toBeUndefined();
    });
  });

  describe('invalid_grant', () => {
    it("another client's refresh token → invalid_grant, and it still works for its owner", async () => {
      const first = await tokens();
      expectError(await refresh(first.refresh_token!, other), 'invalid_grant', 'refresh token is invalid');
      expectError(await refresh(first.refresh_token!, publicClient), 'invalid_grant', 'refresh token is invalid');
      expect((await refresh(first.refresh_token!)).statusCode).toBe(200);
    });

    it('an unknown refresh token', async () => {
      expectError(await refresh('no-such-token'), 'invalid_grant', 'refresh token is invalid');
    });

    it('an expired refresh token', async () => {
      const first = await tokens();
      await t.app.ctx.db.query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [
        hashOpaqueToken(first.refresh_token!),
      ]);
      expectError(await refresh(first.refresh_token!), 'invalid_grant', 'refresh token has expired');
    });

    it('the refresh token of a disabled user', async () => {
      const victim = await createUser(t.app);
      const b = new InjectBrowser(t.app);
      const first = await obtainTokens(t.app, b, client, victim.username, { scope: SCOPE });
      await t.app.ctx.db.query('UPDATE users SET is_active = false WHERE id = $1', [victim.id]);
      expectError(await refresh(first.refresh_token!), 'invalid_grant', 'authorization grant is no longer valid');
    });

    it('missing refresh_token → invalid_request', async () => {
      const res = await tokenRequest(t.app, client, { grant_type: 'refresh_token' });
      expectError(res, 'invalid_request', 'refresh_token is required');
    });

    it('an access token used as a refresh token', async () => {
      const first = await tokens();
      expectError(await refresh(first.access_token), 'invalid_grant', 'refresh token is invalid');
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { obtainTokens, tokenRequest, userinfo, type Tokens } from '../../helpers/oauth-flow.js';
import { hashOpaqueToken } from '../../../src/tokens/opaque-token.js';
import { endRefreshGraceWindow } from '../../helpers/refresh-grace.js';
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

    await endRefreshGraceWindow(t.app.ctx.db, first.refresh_token!);
    expectError(await refresh(first.refresh_token!), 'invalid_grant', 'refresh token was already used; its token family has been revoked');
  });

  it('rotates for public clients too', async () => {
    const first = await tokens(publicClient);
    const second = (await refresh(first.refresh_token!, publicClient)).json() as Tokens;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    await endRefreshGraceWindow(t.app.ctx.db, first.refresh_token!);
    expectError(await refresh(first.refresh_token!, publicClient), 'invalid_grant', 'refresh token was already used; its token family has been revoked');
  });

  it('reuse of a rotated token revokes the whole family: the newest access and refresh tokens stop working', async () => {
    const first = await tokens();
    const second = (await refresh(first.refresh_token!)).json() as Tokens;
    const third = (await refresh(second.refresh_token!)).json() as Tokens;
    expect((await userinfo(t.app, third.access_token)).statusCode).toBe(200);

    await endRefreshGraceWindow(t.app.ctx.db, first.refresh_token!);
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
    await endRefreshGraceWindow(t.app.ctx.db, a.refresh_token!);
    expectError(await refresh(a.refresh_token!), 'invalid_grant', 'refresh token was already used; its token family has been revoked');
    expect((await userinfo(t.app, b.access_token)).statusCode).toBe(200);
    expect((await refresh(b.refresh_token!)).statusCode).toBe(200);
  });

  it('two concurrent refreshes with one token (within the grace window): both get the same successor', async () => {
    const first = await tokens();
    const results = await Promise.all([refresh(first.refresh_token!), refresh(first.refresh_token!)]);
    expect(results.map((r) => r.statusCode)).toEqual([200, 200]);
    const [a, b] = results.map((r) => r.json() as Tokens);
    expect(a!.refresh_token).toBe(b!.refresh_token);
    expect((await refresh(a!.refresh_token!)).statusCode).toBe(200);
  });

  describe('reuse grace window (REFRESH_TOKEN_REUSE_GRACE_SECONDS, default 5)', () => {
    const successorRow = async (refreshToken: string) =>
      (
        await t.app.ctx.db.query<{ successor_hash: string | null; successor_ciphertext: string | null }>(
          'SELECT successor_hash, successor_ciphertext FROM refresh_tokens WHERE token_hash = $1',
          [hashOpaqueToken(refreshToken)],
        )
      ).rows[0]!;

    it('a repeat returns the same refresh token with a fresh access and ID token of the same grant', async () => {
      const first = await tokens();
      const second = (await refresh(first.refresh_token!)).json() as Tokens;
      const res = await refresh(first.refresh_token!);
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const repeat = res.json() as Tokens;
      expect(Object.keys(repeat).sort()).toEqual(['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type']);
      expect(repeat.refresh_token).toBe(second.refresh_token);
      expect(repeat.access_token).not.toBe(second.access_token);
      expect(repeat.scope).toBe(SCOPE);
      expect(decodeJwt(repeat.id_token!)).toMatchObject({ sub: user.id, aud: client.clientId });
      expect((await userinfo(t.app, repeat.access_token)).statusCode).toBe(200);
      expect((await userinfo(t.app, second.access_token)).statusCode).toBe(200);
      // Still one successor: it rotates normally, once.
      const third = (await refresh(second.refresh_token!)).json() as Tokens;
      expect(third.refresh_token).not.toBe(second.refresh_token);
    });

    it('the successor is stored only as a hash and an AES-GCM ciphertext, never in plaintext', async () => {
      const first = await tokens();
      const second = (await refresh(first.refresh_token!)).json() as Tokens;
      const row = await successorRow(first.refresh_token!);
      expect(row.successor_hash).toBe(hashOpaqueToken(second.refresh_token!));
      expect(row.successor_ciphertext).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      const { rows } = await t.app.ctx.db.query('SELECT * FROM refresh_tokens');
      expect(JSON.stringify(rows)).not.toContain(second.refresh_token!);
    });

    it('a repeat may narrow the access token scope; a wider scope → invalid_scope and nothing is revoked', async () => {
      const first = await tokens();
      const second = (await refresh(first.refresh_token!, client, { scope: 'openid' })).json() as Tokens;
      expectError(await refresh(first.refresh_token!, client, { scope: 'openid email profile' }), 'invalid_scope', 'requested scope exceeds the original grant');
      const narrowed = (await refresh(first.refresh_token!, client, { scope: 'email' })).json() as Tokens;
      expect(narrowed.refresh_token).toBe(second.refresh_token);
      expect(narrowed.scope).toBe('email');
      expect(narrowed.id_token).toBeUndefined();
      expect(decodeJwt(narrowed.access_token).scope).toBe('email');
      expect((await userinfo(t.app, second.access_token)).statusCode).toBe(200);
      expect((await refresh(second.refresh_token!)).json().scope).toBe(SCOPE);
    });

    it("another client presenting the rotated token within the window → invalid_grant, the family lives", async () => {
      const first = await tokens();
      const second = (await refresh(first.refresh_token!)).json() as Tokens;
      expectError(await refresh(first.refresh_token!, other), 'invalid_grant', 'refresh token is invalid');
      expect((await refresh(second.refresh_token!)).statusCode).toBe(200);
    });

    it('after the window a repeat is a replay: the family is revoked and its ciphertexts forgotten', async () => {
      const first = await tokens();
      const second = (await refresh(first.refresh_token!)).json() as Tokens;
      await endRefreshGraceWindow(t.app.ctx.db, first.refresh_token!);
      expectError(await refresh(first.refresh_token!), 'invalid_grant', 'refresh token was already used; its token family has been revoked');
      expectError(await refresh(second.refresh_token!), 'invalid_grant', 'refresh token has been revoked');
      expect((await userinfo(t.app, second.access_token)).statusCode).toBe(401);
      expect((await successorRow(first.refresh_token!)).successor_ciphertext).toBeNull();
    });

    it('once the successor has itself been rotated, a repeat of its predecessor is a replay even within the window', async () => {
      const first = await tokens();
      const second = (await refresh(first.refresh_token!)).json() as Tokens;
      const third = (await refresh(second.refresh_token!)).json() as Tokens;
      expectError(await refresh(first.refresh_token!), 'invalid_grant', 'refresh token was already used; its token family has been revoked');
      expectError(await refresh(third.refresh_token!), 'invalid_grant', 'refresh token has been revoked');
    });

    it('a revoked successor is never handed out again', async () => {
      const first = await tokens();
      const second = (await refresh(first.refresh_token!)).json() as Tokens;
      await t.app.ctx.db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE token_hash = $1', [hashOpaqueToken(second.refresh_token!)]);
      expectError(await refresh(first.refresh_token!), 'invalid_grant', 'refresh token was already used; its token family has been revoked');
    });

    it('a ciphertext that does not decrypt (other server secret, tampering) is treated as reuse', async () => {
      const first = await tokens();
      const second = (await refresh(first.refresh_token!)).json() as Tokens;
      const other = await tokens();
      await refresh(other.refresh_token!);
      // Moved to another row, the ciphertext fails its associated data (the row's token hash).
      await t.app.ctx.db.query(
        'UPDATE refresh_tokens SET successor_ciphertext = (SELECT successor_ciphertext FROM refresh_tokens WHERE token_hash = $2) WHERE token_hash = $1',
        [hashOpaqueToken(first.refresh_token!), hashOpaqueToken(other.refresh_token!)],
      );
      expectError(await refresh(first.refresh_token!), 'invalid_grant', 'refresh token was already used; its token family has been revoked');
      expectError(await refresh(second.refresh_token!), 'invalid_grant', 'refresh token has been revoked');
    });

    it("a later rotation in the family forgets ciphertexts whose window has passed", async () => {
      const first = await tokens();
      const second = (await refresh(first.refresh_token!)).json() as Tokens;
      await endRefreshGraceWindow(t.app.ctx.db, first.refresh_token!);
      expect((await successorRow(first.refresh_token!)).successor_ciphertext).not.toBeNull();
      await refresh(second.refresh_token!);
      expect((await successorRow(first.refresh_token!)).successor_ciphertext).toBeNull();
      expect((await successorRow(second.refresh_token!)).successor_ciphertext).not.toBeNull();
    });
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

describe('token endpoint: refresh_token grant with REFRESH_TOKEN_REUSE_GRACE_SECONDS=0', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp({ REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' });
    client = await createClient(t.app);
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  it('an immediate repeat is a replay: the family is revoked, and no successor value is kept', async () => {
    const first = await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, { scope: 'openid offline_access' });
    const refresh = (token: string) => tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: token });
    const second = (await refresh(first.refresh_token!)).json() as Tokens;
    const { rows } = await t.app.ctx.db.query<{ successor_hash: string; successor_ciphertext: string | null }>(
      'SELECT successor_hash, successor_ciphertext FROM refresh_tokens WHERE token_hash = $1',
      [hashOpaqueToken(first.refresh_token!)],
    );
    expect(rows[0]).toEqual({ successor_hash: hashOpaqueToken(second.refresh_token!), successor_ciphertext: null });
    const replay = await refresh(first.refresh_token!);
    expect(replay.statusCode).toBe(400);
    expect(replay.json()).toEqual({ error: 'invalid_grant', error_description: 'refresh token was already used; its token family has been revoked' });
    expect((await refresh(second.refresh_token!)).json()).toEqual({ error: 'invalid_grant', error_description: 'refresh token has been revoked' });
  });
});

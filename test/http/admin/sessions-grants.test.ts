import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../src/repositories/users-repository.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl, obtainTokens, tokenRequest, userinfo, type Tokens } from '../../helpers/oauth-flow.js';
import { introspect } from '../../helpers/token-management.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, ISO_TIMESTAMP, tokenFor } from './admin-helpers.js';

const INVALID_TOKEN = { error: 'invalid_token', error_description: 'the access token is invalid, expired or revoked' };

describe('admin API: sessions and grants of a user', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1000' });
    call = adminCall(t.app, await adminToken(t.app));
    client = await createClient(t.app);
  });
  afterAll(() => t.close());

  /** A signed-in browser and code-flow tokens (with a refresh token) for `user` at `c`. */
  async function signIn(user: User, c: TestClient = client): Promise<{ browser: InjectBrowser; tokens: Tokens }> {
    const browser = new InjectBrowser(t.app);
    const tokens = await obtainTokens(t.app, browser, c, user.username, { scope: 'openid offline_access' });
    return { browser, tokens };
  }

  const refresh = (refreshToken: string, c: TestClient = client) =>
    tokenRequest(t.app, c, { grant_type: 'refresh_token', refresh_token: refreshToken });

  async function expectTokensDead(tokens: Tokens, c: TestClient = client) {
    const info = await userinfo(t.app, tokens.access_token);
    expect(info.statusCode).toBe(401);
    expect(info.json()).toEqual(INVALID_TOKEN);
    for (const token of [tokens.access_token, tokens.refresh_token!]) {
      const res = await introspect(t.app, client, { token });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ active: false });
    }
    const res = await refresh(tokens.refresh_token!, c);
    expect(res.statusCode).toBe(c === client ? 400 : 401);
    expect((res.json() as { error: string }).error).toBe(c === client ? 'invalid_grant' : 'invalid_client');
  }

  async function expectTokensLive(tokens: Tokens) {
    expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(200);
    expect((await introspect(t.app, client, { token: tokens.access_token })).json()).toMatchObject({ active: true });
    expect((await introspect(t.app, client, { token: tokens.refresh_token! })).json()).toMatchObject({ active: true });
  }

  /** prompt=none answers with a code while the session lives, login_required once it is gone. */
  async function promptNone(browser: InjectBrowser): Promise<string | null> {
    const res = await browser.get(authorizeUrl(client.clientId, { prompt: 'none' }));
    expect(res.statusCode).toBe(303);
    const params = new URL(res.headers.location as string).searchParams;
    return params.get('code') ?? params.get('error');
  }

  it('lists live sessions without the cookie hash, revokes one and then all', async () => {
    const user = await createUser(t.app);
    const a = await signIn(user);
    const b = await signIn(user);
    await signIn(await createUser(t.app)); // someone else's session is never listed

    const res = await call('GET', `/admin/users/${user.id}/sessions`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json() as { items: { sid: string }[] };
    expect(body).toEqual({
      items: [0, 1].map(() => ({
        sid: expect.stringMatching(/^[A-Za-z0-9_-]{16,}$/),
        auth_time: expect.stringMatching(ISO_TIMESTAMP),
        created_at: expect.stringMatching(ISO_TIMESTAMP),
        expires_at: expect.stringMatching(ISO_TIMESTAMP),
      })),
      limit: 50,
      next_cursor: null,
    });
    expect(res.body).not.toMatch(/id_hash|idHash/);
    const page1 = (await call('GET', `/admin/users/${user.id}/sessions?limit=1`)).json() as { items: { sid: string }[]; next_cursor: string };
    expect(page1.items.map((s) => s.sid)).toEqual([body.items[0]!.sid]);
    const page2 = (await call('GET', `/admin/users/${user.id}/sessions?limit=1&cursor=${page1.next_cursor}`)).json();
    expect(page2).toMatchObject({ items: [{ sid: body.items[1]!.sid }], limit: 1, next_cursor: null });

    expect(await promptNone(a.browser)).not.toBe('login_required');
    expect(await promptNone(b.browser)).not.toBe('login_required');
    // Which browser holds which sid is not visible from outside; revoke one and see exactly one signed out.
    const revoked = await call('DELETE', `/admin/users/${user.id}/sessions/${body.items[0]!.sid}`);
    expect(revoked.statusCode).toBe(204);
    expect(revoked.body).toBe('');
    const outcomes = [await promptNone(a.browser), await promptNone(b.browser)];
    expect(outcomes.filter((o) => o === 'login_required')).toHaveLength(1);
    expect(((await call('GET', `/admin/users/${user.id}/sessions`)).json() as { items: unknown[] }).items).toHaveLength(1);

    const again = await call('DELETE', `/admin/users/${user.id}/sessions/${body.items[0]!.sid}`);
    expect(again.statusCode).toBe(404);
    expect(again.json()).toEqual({ error: 'not_found', message: 'session not found' });

    expect((await call('DELETE', `/admin/users/${user.id}/sessions`)).statusCode).toBe(204);
    expect([await promptNone(a.browser), await promptNone(b.browser)]).toEqual(['login_required', 'login_required']);
    expect((await call('GET', `/admin/users/${user.id}/sessions`)).json()).toEqual({ items: [], limit: 50, next_cursor: null });
    // Ending sessions does not revoke tokens: that is what grants are for.
    await expectTokensLive(a.tokens);
  });

  it('lists grants, revokes one grant with its tokens, then all', async () => {
    const user = await createUser(t.app);
    const first = await signIn(user);
    const second = await signIn(user);

    const res = await call('GET', `/admin/users/${user.id}/grants`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { items: { id: string }[] };
    expect(body).toEqual({
      items: [0, 1].map(() => ({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        client_id: client.clientId,
        scope: 'openid offline_access',
        auth_time: expect.stringMatching(ISO_TIMESTAMP),
        created_at: expect.stringMatching(ISO_TIMESTAMP),
        revoked_at: null,
      })),
      limit: 50,
      next_cursor: null,
    });

    // Newest first: the second sign-in's grant.
    const revoked = await call('DELETE', `/admin/users/${user.id}/grants/${body.items[0]!.id}`);
    expect(revoked.statusCode).toBe(204);
    await expectTokensDead(second.tokens);
    await expectTokensLive(first.tokens);
    const listed = (await call('GET', `/admin/users/${user.id}/grants`)).json() as { items: { revoked_at: string | null }[] };
    expect(listed.items.map((g) => g.revoked_at === null)).toEqual([false, true]);
    // Revoking again is idempotent.
    expect((await call('DELETE', `/admin/users/${user.id}/grants/${body.items[0]!.id}`)).statusCode).toBe(204);

    expect((await call('DELETE', `/admin/users/${user.id}/grants`)).statusCode).toBe(204);
    await expectTokensDead(first.tokens);
    const all = (await call('GET', `/admin/users/${user.id}/grants`)).json() as { items: { revoked_at: string | null }[] };
    expect(all.items.every((g) => typeof g.revoked_at === 'string' && ISO_TIMESTAMP.test(g.revoked_at))).toBe(true);
  });

  it("another user's grant, unknown ids and unknown users are 404", async () => {
    const owner = await createUser(t.app);
    const other = await createUser(t.app);
    await signIn(owner);
    const grantId = ((await call('GET', `/admin/users/${owner.id}/grants`)).json() as { items: { id: string }[] }).items[0]!.id;
    const cases: [string, string, string][] = [
      ['DELETE', `/admin/users/${other.id}/grants/${grantId}`, 'grant not found'],
      ['DELETE', `/admin/users/${owner.id}/grants/not-a-uuid`, 'grant not found'],
      ['DELETE', `/admin/users/${owner.id}/grants/${randomUUID()}`, 'grant not found'],
      ['DELETE', `/admin/users/${owner.id}/sessions/no-such-sid`, 'session not found'],
      ['GET', `/admin/users/${randomUUID()}/grants`, 'user not found'],
      ['GET', `/admin/users/nope/sessions`, 'user not found'],
      ['DELETE', `/admin/users/${randomUUID()}/grants`, 'user not found'],
      ['DELETE', `/admin/users/${randomUUID()}/sessions`, 'user not found'],
    ];
    for (const [method, url, message] of cases) {
      const res = await call(method as 'GET' | 'DELETE', url);
      expect([url, res.statusCode, res.json()]).toEqual([url, 404, { error: 'not_found', message }]);
    }
    // The grant of the owner survived the other user's attempt.
    expect((await call('GET', `/admin/users/${owner.id}/grants`)).json()).toMatchObject({ items: [{ revoked_at: null }] });

    const bad = await call('GET', `/admin/users/${owner.id}/sessions?limit=0&extra=1`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({
      error: 'validation_failed',
      message: 'the query parameters are not valid',
      fields: { limit: 'expected at least 1', extra: 'unknown field' },
    });
  });

  it('needs admin:users:read to list and admin:users:write to revoke', async () => {
    const user = await createUser(t.app);
    const scoped = async (scope: string) => {
      const res = await call('POST', '/admin/clients', {
        client_name: scope,
        grant_types: ['client_credentials'],
        scope,
      });
      const c = res.json() as { client_id: string; client_secret: string };
      return adminCall(t.app, await tokenFor(t.app, c.client_id, c.client_secret, scope));
    };
    const reader = await scoped('admin:users:read');
    const writer = await scoped('admin:users:write');
    for (const path of ['sessions', 'grants']) {
      expect((await reader('GET', `/admin/users/${user.id}/${path}`)).statusCode).toBe(200);
      const denied = await reader('DELETE', `/admin/users/${user.id}/${path}`);
      expect(denied.statusCode).toBe(403);
      expect(denied.json()).toMatchObject({ error: 'insufficient_scope' });
      expect((await writer('DELETE', `/admin/users/${user.id}/${path}`)).statusCode).toBe(204);
      expect((await writer('GET', `/admin/users/${user.id}/${path}`)).statusCode).toBe(403);
      const anonymous = await t.app.inject({ method: 'GET', url: `/admin/users/${user.id}/${path}` });
      expect(anonymous.statusCode).toBe(401);
    }
  });

  it('disabling a user stops their tokens at once (userinfo 401, introspection inactive, refresh invalid_grant)', async () => {
    const user = await createUser(t.app);
    const { tokens } = await signIn(user);
    await expectTokensLive(tokens);
    expect((await call('PATCH', `/admin/users/${user.id}`, { is_active: false })).statusCode).toBe(200);
    await expectTokensDead(tokens);
    const res = await refresh(tokens.refresh_token!);
    expect(res.json()).toEqual({ error: 'invalid_grant', error_description: 'authorization grant is no longer valid' });
  });

  it('disabling a client stops its tokens at once', async () => {
    const own = await createClient(t.app);
    const user = await createUser(t.app);
    const { tokens } = await signIn(user, own);
    expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(200);
    expect((await call('PATCH', `/admin/clients/${own.clientId}`, { is_active: false })).statusCode).toBe(200);
    await expectTokensDead(tokens, own);
  });
});

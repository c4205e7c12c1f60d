import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../src/repositories/users-repository.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { obtainTokens, userinfo, type Tokens } from '../../helpers/oauth-flow.js';
import { introspect } from '../../helpers/token-management.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, ISO_TIMESTAMP, tokenFor } from './admin-helpers.js';

type Listed = { items: { id: string; user_id: string; username: string; revoked_at: string | null }[]; limit: number; next_cursor: string | null };

/** Issue 14: a client's grants, listed and revoked from the client's side (GET/DELETE /admin/clients/{id}/grants). */
describe('admin API: grants of a client', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, LOG_LEVEL: 'info', AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1000' });
    call = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t.close());

  const signIn = (user: User, client: TestClient): Promise<Tokens> =>
    obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, { scope: 'openid offline_access' });
  const live = async (tokens: Tokens, client: TestClient) =>
    (await userinfo(t.app, tokens.access_token)).statusCode === 200 &&
    ((await introspect(t.app, client, { token: tokens.refresh_token! })).json() as { active: boolean }).active;
  const audit = (event: string) => t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === event);

  /** An admin API caller holding only `scope`. */
  async function scoped(scope: string) {
    const created = (await call('POST', '/admin/clients', { client_name: scope, grant_types: ['client_credentials'], scope })).json() as {
      client_id: string;
      client_secret: string;
    };
    return adminCall(t.app, await tokenFor(t.app, created.client_id, created.client_secret, scope));
  }

  it('lists who signed in to a client, newest first, a page at a time', async () => {
    const client = await createClient(t.app);
    const other = await createClient(t.app);
    const [ann, bob] = [await createUser(t.app), await createUser(t.app)];
    await signIn(ann, client);
    await signIn(bob, client);
    await signIn(bob, other); // another client's grant is never listed

    const res = await call('GET', `/admin/clients/${client.clientId}/grants`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      items: [bob, ann].map((u) => ({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        client_id: client.clientId,
        user_id: u.id,
        username: u.username,
        scope: 'openid offline_access',
        auth_time: expect.stringMatching(ISO_TIMESTAMP),
        created_at: expect.stringMatching(ISO_TIMESTAMP),
        revoked_at: null,
      })),
      limit: 50,
      next_cursor: null,
    });
    const first = (await call('GET', `/admin/clients/${client.clientId}/grants?limit=1`)).json() as Listed;
    expect(first.items.map((g) => g.username)).toEqual([bob.username]);
    const second = (await call('GET', `/admin/clients/${client.clientId}/grants?limit=1&cursor=${first.next_cursor}`)).json() as Listed;
    expect(second).toMatchObject({ items: [{ username: ann.username }], next_cursor: null });
  });

  it('revokes one grant with its tokens (204), then all of them ({ revoked: n })', async () => {
    const client = await createClient(t.app);
    const [ann, bob] = [await createUser(t.app), await createUser(t.app)];
    const annTokens = await signIn(ann, client);
    const bobTokens = await signIn(bob, client);
    const [bobGrant] = ((await call('GET', `/admin/clients/${client.clientId}/grants`)).json() as Listed).items;
    expect(bobGrant!.user_id).toBe(bob.id);

    const one = await call('DELETE', `/admin/clients/${client.clientId}/grants/${bobGrant!.id}`);
    expect(one.statusCode).toBe(204);
    expect(one.body).toBe('');
    expect(await live(bobTokens, client)).toBe(false);
    expect(await live(annTokens, client)).toBe(true);
    expect(audit('admin.client.grant_revoked').at(-1)).toMatchObject({ grant_id: bobGrant!.id });

    const all = await call('DELETE', `/admin/clients/${client.clientId}/grants`);
    expect([all.statusCode, all.json()]).toEqual([200, { revoked: 1 }]);
    expect(await live(annTokens, client)).toBe(false);
    expect(audit('admin.client.grants_revoked')).toHaveLength(1);
    const listed = ((await call('GET', `/admin/clients/${client.clientId}/grants`)).json() as Listed).items;
    expect(listed.map((g) => typeof g.revoked_at === 'string')).toEqual([true, true]);
    // Nothing left to revoke.
    expect((await call('DELETE', `/admin/clients/${client.clientId}/grants`)).json()).toEqual({ revoked: 0 });
  });

  it('answers 404 for an unknown client, or a grant that is not this client’s', async () => {
    const client = await createClient(t.app);
    const other = await createClient(t.app);
    const user = await createUser(t.app);
    await signIn(user, other);
    const [otherGrant] = ((await call('GET', `/admin/clients/${other.clientId}/grants`)).json() as Listed).items;
    const cases: [string, string, string][] = [
      ['GET', '/admin/clients/no-such-client/grants', 'client not found'],
      ['DELETE', '/admin/clients/no-such-client/grants', 'client not found'],
      ['DELETE', `/admin/clients/no-such-client/grants/${otherGrant!.id}`, 'client not found'],
      ['DELETE', `/admin/clients/${client.clientId}/grants/${otherGrant!.id}`, 'grant not found'],
      ['DELETE', `/admin/clients/${client.clientId}/grants/not-a-uuid`, 'grant not found'],
      ['DELETE', `/admin/clients/${client.clientId}/grants/${randomUUID()}`, 'grant not found'],
    ];
    for (const [method, url, message] of cases) {
      const res = await call(method as 'GET' | 'DELETE', url);
      expect([url, res.statusCode, res.json()]).toEqual([url, 404, { error: 'not_found', message }]);
    }
    expect(((await call('GET', `/admin/clients/${other.clientId}/grants`)).json() as Listed).items[0]!.revoked_at).toBeNull();
    const bad = await call('GET', `/admin/clients/${client.clientId}/grants?cursor=${Buffer.from('["openid"]').toString('base64url')}`);
    expect([bad.statusCode, bad.json()]).toEqual([
      400,
      { error: 'validation_failed', message: 'the query parameters are not valid', fields: { cursor: 'not a cursor of this list' } },
    ]);
  });

  it('needs admin:users:read to list and admin:users:write to revoke (the items name users)', async () => {
    const client = await createClient(t.app);
    const reader = await scoped('admin:users:read');
    const writer = await scoped('admin:users:write');
    const clientsAdmin = await scoped('admin:clients:write');
    expect((await reader('GET', `/admin/clients/${client.clientId}/grants`)).statusCode).toBe(200);
    expect((await clientsAdmin('GET', `/admin/clients/${client.clientId}/grants`)).json()).toMatchObject({ error: 'insufficient_scope' });
    expect((await reader('DELETE', `/admin/clients/${client.clientId}/grants`)).json()).toMatchObject({ error: 'insufficient_scope' });
    expect((await writer('DELETE', `/admin/clients/${client.clientId}/grants`)).json()).toEqual({ revoked: 0 });
    expect((await t.app.inject({ method: 'GET', url: `/admin/clients/${client.clientId}/grants` })).statusCode).toBe(401);
  });

  it("needs authly:admin to revoke an administrator's grants (privilege rule 4)", async () => {
    const client = await createClient(t.app);
    const admin = await createUser(t.app, { isAdmin: true });
    const adminTokens = await signIn(admin, client);
    const writer = await scoped('admin:users:write');
    const [grant] = ((await call('GET', `/admin/clients/${client.clientId}/grants`)).json() as Listed).items;
    for (const url of [`/admin/clients/${client.clientId}/grants/${grant!.id}`, `/admin/clients/${client.clientId}/grants`]) {
      const denied = await writer('DELETE', url);
      expect([url, denied.statusCode, denied.json()]).toEqual([
        url,
        403,
        { error: 'insufficient_privilege', message: 'changing an administrator requires authly:admin' },
      ]);
    }
    expect(await live(adminTokens, client)).toBe(true);
    expect((await call('DELETE', `/admin/clients/${client.clientId}/grants`)).json()).toEqual({ revoked: 1 });
    expect(await live(adminTokens, client)).toBe(false);
  });

  it("needs authly:admin to revoke the grants of an admin-capable client (privilege rule 3)", async () => {
    const capable = (await call('POST', '/admin/clients', { client_name: 'Capable', grant_types: ['client_credentials'], scope: 'admin:users:read' })).json() as {
      client_id: string;
    };
    const writer = await scoped('admin:users:write');
    const denied = await writer('DELETE', `/admin/clients/${capable.client_id}/grants`);
    expect([denied.statusCode, (denied.json() as { error: string }).error]).toEqual([403, 'insufficient_privilege']);
    expect((await call('DELETE', `/admin/clients/${capable.client_id}/grants`)).json()).toEqual({ revoked: 0 });
  });
});

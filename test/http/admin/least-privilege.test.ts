import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findClient } from '../../../src/repositories/clients-repository.js';
import { findUserById, findUserByUsername, type User } from '../../../src/repositories/users-repository.js';
import { verifyPassword } from '../../../src/services/password-hasher.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { obtainTokens } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, requestToken, tokenFor } from './admin-helpers.js';

/**
 * src/services/admin/privilege-rules.ts: a caller never grants more than it holds. Each refusal is a 403
 * insufficient_privilege in the admin API's error shape, changes nothing, and leaves an audit line; the
 * same requests by a holder of authly:admin succeed (so the refusals are about privilege, not input).
 */

const SCOPE_REFUSED = (scopes: string) => ({
  error: 'insufficient_privilege',
  message: 'assigning admin scopes requires authly:admin or holding each of them',
  fields: { scope: `the access token does not hold ${scopes}` },
});
const IS_ADMIN_REFUSED = {
  error: 'insufficient_privilege',
  message: 'making a user an administrator requires authly:admin',
  fields: { is_admin: 'requires authly:admin' },
};
const CLIENT_REFUSED = { error: 'insufficient_privilege', message: 'changing a client that may be granted admin scopes requires authly:admin' };
const USER_REFUSED = { error: 'insufficient_privilege', message: 'changing an administrator requires authly:admin' };

const BOOTSTRAP = ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID;
/** The bootstrap admin user: bootstrap makes whoever holds this username an administrator at each start. */
const OPERATOR_ENV = { AUTHLY_ADMIN_USERNAME: 'operator', AUTHLY_ADMIN_PASSWORD: 'operator passphrase 0123' };

describe('admin API: least privilege', () => {
  let t: TestApp;
  let admin: ReturnType<typeof adminCall>;
  /** Limited callers: client_credentials clients holding one admin scope each (and one holding two). */
  const limited = {} as Record<'clientsWriter' | 'usersWriter' | 'clientsWriterUsersReader', { id: string; secret: string; call: ReturnType<typeof adminCall> }>;

  const auditLines = () =>
    t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.log === 'audit' && l.event === 'admin.privilege_denied');

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, ...OPERATOR_ENV, AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1000' });
    admin = adminCall(t.app, await adminToken(t.app));
    for (const [name, scope] of [
      ['clientsWriter', 'admin:clients:write'],
      ['usersWriter', 'admin:users:write'],
      ['clientsWriterUsersReader', 'admin:clients:write admin:users:read'],
    ] as const) {
      const res = await admin('POST', '/admin/clients', { client_name: name, grant_types: ['client_credentials'], scope });
      expect(res.statusCode).toBe(201);
      const { client_id, client_secret } = res.json() as { client_id: string; client_secret: string };
      limited[name] = { id: client_id, secret: client_secret, call: adminCall(t.app, await tokenFor(t.app, client_id, client_secret)) };
    }
  });
  afterAll(() => t.close());

  describe('clients', () => {
    it.each([
      ['authly:admin', 'authly:admin'],
      ['openid admin:users:write', 'admin:users:write'],
      ['admin:clients:write admin:users:read', 'admin:users:read'],
    ])('admin:clients:write cannot create a client with scope "%s"', async (scope, missing) => {
      const res = await limited.clientsWriter.call('POST', '/admin/clients', {
        client_id: `escalation-${missing.replace(/:/g, '-')}`,
        client_name: 'escalation',
        grant_types: ['client_credentials'],
        scope,
      });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(SCOPE_REFUSED(missing));
      expect(await findClient(t.testDb.db, `escalation-${missing.replace(/:/g, '-')}`)).toBeUndefined();
    });

    it('a caller may assign exactly the admin scopes it holds', async () => {
      const res = await limited.clientsWriterUsersReader.call('POST', '/admin/clients', {
        client_name: 'peer',
        grant_types: ['client_credentials'],
        scope: 'admin:users:read',
      });
      expect(res.statusCode).toBe(201);
      // Once admin-capable, the new client is out of the limited caller's reach.
      const { client_id } = res.json() as { client_id: string };
      const patch = await limited.clientsWriterUsersReader.call('PATCH', `/admin/clients/${client_id}`, { client_name: 'renamed' });
      expect(patch.statusCode).toBe(403);
      expect(patch.json()).toEqual(CLIENT_REFUSED);
    });

    it('admin:clients:write cannot add authly:admin to its own client, nor mint itself an admin token', async () => {
      const me = limited.clientsWriter;
      const res = await me.call('PATCH', `/admin/clients/${me.id}`, { scope: 'admin:clients:write authly:admin' });
      expect(res.statusCode).toBe(403);
      // Its own client registers admin:clients:write, so it is admin-capable: no change at all is allowed.
      expect(res.json()).toEqual(CLIENT_REFUSED);
      expect((await findClient(t.testDb.db, me.id))!.scope).toBe('admin:clients:write');
      const token = await requestToken(t.app, me.id, me.secret, 'authly:admin');
      expect(token.statusCode).toBe(400);
      expect((token.json() as { error: string }).error).toBe('invalid_scope');
    });

    it('admin:clients:write cannot add an admin scope to an ordinary client', async () => {
      const plain = await createClient(t.app, { grantTypes: ['client_credentials'], redirectUris: [], responseTypes: [], scope: '' });
      const res = await limited.clientsWriter.call('PATCH', `/admin/clients/${plain.clientId}`, { scope: 'authly:admin' });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(SCOPE_REFUSED('authly:admin'));
      expect((await findClient(t.testDb.db, plain.clientId))!.scope).toBe('');
      expect((await requestToken(t.app, plain.clientId, plain.clientSecret!, 'authly:admin')).statusCode).toBe(400);
    });

    it.each([
      ['POST', `/admin/clients/${BOOTSTRAP}/rotate-secret`, undefined],
      ['PATCH', `/admin/clients/${BOOTSTRAP}`, { is_active: false }],
      ['PATCH', `/admin/clients/${BOOTSTRAP}`, { scope: 'admin:scopes:read' }],
      ['PATCH', `/admin/clients/${BOOTSTRAP}`, { client_name: 'harmless looking' }],
      ['DELETE', `/admin/clients/${BOOTSTRAP}`, undefined],
    ] as const)('admin:clients:write cannot touch the bootstrap admin client: %s %s %j', async (method, url, body) => {
      const before = await findClient(t.testDb.db, BOOTSTRAP);
      const res = await limited.clientsWriter.call(method, url, body);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(CLIENT_REFUSED);
      expect(res.body).not.toContain('client_secret');
      expect(await findClient(t.testDb.db, BOOTSTRAP)).toEqual(before);
      expect((await requestToken(t.app, BOOTSTRAP, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET, 'authly:admin')).statusCode).toBe(200);
    });

    it('a code-flow client registering an admin scope is admin-capable too', async () => {
      const res = await admin('POST', '/admin/clients', {
        client_name: 'admin console',
        redirect_uris: [REDIRECT_URI],
        scope: 'openid admin:users:read',
      });
      expect(res.statusCode).toBe(201);
      const { client_id } = res.json() as { client_id: string };
      for (const [method, url, body] of [
        ['PATCH', `/admin/clients/${client_id}`, { redirect_uris: ['https://attacker.example/cb'] }],
        ['PATCH', `/admin/clients/${client_id}`, { grant_types: ['authorization_code', 'client_credentials'] }],
        ['POST', `/admin/clients/${client_id}/rotate-secret`, undefined],
      ] as const) {
        const refused = await limited.clientsWriterUsersReader.call(method, url, body);
        expect(refused.statusCode, `${method} ${url}`).toBe(403);
        expect(refused.json()).toEqual(CLIENT_REFUSED);
      }
      expect((await findClient(t.testDb.db, client_id))!.redirectUris).toEqual([REDIRECT_URI]);
    });

    it('admin:clients:write still manages ordinary clients', async () => {
      const call = limited.clientsWriter.call;
      const created = await call('POST', '/admin/clients', { client_name: 'ordinary', redirect_uris: [REDIRECT_URI], scope: 'openid profile' });
      expect(created.statusCode).toBe(201);
      const { client_id } = created.json() as { client_id: string };
      expect((await call('PATCH', `/admin/clients/${client_id}`, { scope: 'openid', is_active: false })).statusCode).toBe(200);
      expect((await call('POST', `/admin/clients/${client_id}/rotate-secret`)).statusCode).toBe(200);
      expect((await call('DELETE', `/admin/clients/${client_id}`)).statusCode).toBe(204);
    });

    it('authly:admin may create and change admin-capable clients', async () => {
      const created = await admin('POST', '/admin/clients', { client_name: 'second admin', grant_types: ['client_credentials'], scope: 'authly:admin' });
      expect(created.statusCode).toBe(201);
      const { client_id } = created.json() as { client_id: string };
      expect((await admin('PATCH', `/admin/clients/${limited.clientsWriter.id}`, { client_name: 'renamed by the admin' })).statusCode).toBe(200);
      expect((await admin('POST', `/admin/clients/${client_id}/rotate-secret`)).statusCode).toBe(200);
      expect((await admin('DELETE', `/admin/clients/${client_id}`)).statusCode).toBe(204);
    });
  });

  describe('users', () => {
    let root: User;
    let browser: InjectBrowser;
    let codeClient: TestClient;

    beforeAll(async () => {
      root = await createUser(t.app, { isAdmin: true });
      // The administrator is signed in somewhere: a session and a grant the limited caller must not end.
      codeClient = await createClient(t.app);
      browser = new InjectBrowser(t.app);
      await obtainTokens(t.app, browser, codeClient, root.username, { scope: 'openid offline_access' });
    });

    it('admin:users:write cannot create an administrator', async () => {
      const res = await limited.usersWriter.call('POST', '/admin/users', { username: 'mallory-root', password: 'a long passphrase', is_admin: true });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(IS_ADMIN_REFUSED);
      expect(await findUserByUsername(t.testDb.db, 'mallory-root')).toBeUndefined();
    });

    it('admin:users:write cannot promote an ordinary user', async () => {
      const user = await createUser(t.app);
      const res = await limited.usersWriter.call('PATCH', `/admin/users/${user.id}`, { is_admin: true });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(IS_ADMIN_REFUSED);
      expect((await findUserById(t.testDb.db, user.id))!.isAdmin).toBe(false);
    });

    it('admin:users:write cannot set an administrator’s password', async () => {
      const res = await limited.usersWriter.call('POST', `/admin/users/${root.id}/password`, { password: 'chosen by mallory' });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(USER_REFUSED);
      const after = (await findUserById(t.testDb.db, root.id))!;
      expect(await verifyPassword(after.passwordHash, TEST_PASSWORD)).toBe(true);
      expect(await verifyPassword(after.passwordHash, 'chosen by mallory')).toBe(false);
    });

    it.each([
      ['PATCH', '', { email: 'mallory@example.com' }],
      ['PATCH', '', { is_active: false }],
      ['PATCH', '', { is_admin: false }],
      ['DELETE', '', undefined],
      ['DELETE', '/sessions', undefined],
      ['DELETE', '/sessions/some-sid', undefined],
      ['DELETE', '/grants', undefined],
      ['DELETE', '/grants/00000000-0000-0000-0000-000000000000', undefined],
    ] as const)('admin:users:write cannot change an administrator: %s /admin/users/:id%s %j', async (method, sub, body) => {
      const before = await findUserById(t.testDb.db, root.id);
      const res = await limited.usersWriter.call(method, `/admin/users/${root.id}${sub}`, body);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(USER_REFUSED);
      expect(await findUserById(t.testDb.db, root.id)).toEqual(before);
      const sessions = (await admin('GET', `/admin/users/${root.id}/sessions`)).json() as { items: unknown[] };
      expect(sessions.items).toHaveLength(1);
      const grants = (await admin('GET', `/admin/users/${root.id}/grants`)).json() as { items: { revoked_at: string | null }[] };
      expect(grants.items.map((g) => g.revoked_at)).toEqual([null]);
    });

    it('admin:users:write still manages ordinary users, their sessions and grants', async () => {
      const call = limited.usersWriter.call;
      const created = await call('POST', '/admin/users', { username: 'ordinary-user', password: 'a long passphrase', is_admin: false });
      expect(created.statusCode).toBe(201);
      const { id } = created.json() as { id: string };
      expect((await call('PATCH', `/admin/users/${id}`, { name: 'Ordinary' })).statusCode).toBe(200);
      expect((await call('POST', `/admin/users/${id}/password`, { password: 'another passphrase' })).statusCode).toBe(204);
      expect((await call('DELETE', `/admin/users/${id}/sessions`)).statusCode).toBe(204);
      expect((await call('DELETE', `/admin/users/${id}/grants`)).statusCode).toBe(204);
      expect((await call('DELETE', `/admin/users/${id}`)).statusCode).toBe(204);
    });

    it('admin:users:write cannot give a user the configured admin username (bootstrap would promote it)', async () => {
      const operator = (await findUserByUsername(t.testDb.db, OPERATOR_ENV.AUTHLY_ADMIN_USERNAME))!;
      expect(operator.isAdmin).toBe(true);
      // The configured administrator is gone (renamed or deleted by an administrator) until the next start.
      expect((await admin('DELETE', `/admin/users/${operator.id}`)).statusCode).toBe(204);
      const reserved = { error: 'insufficient_privilege', message: 'the configured admin username requires authly:admin', fields: { username: 'reserved for the configured administrator' } };

      const created = await limited.usersWriter.call('POST', '/admin/users', { username: 'OPERATOR', password: 'chosen by mallory' });
      expect(created.statusCode).toBe(403);
      expect(created.json()).toEqual(reserved);
      expect(await findUserByUsername(t.testDb.db, 'operator')).toBeUndefined();

      const user = await createUser(t.app);
      const renamed = await limited.usersWriter.call('PATCH', `/admin/users/${user.id}`, { username: 'operator' });
      expect(renamed.statusCode).toBe(403);
      expect(renamed.json()).toEqual(reserved);
      expect((await findUserById(t.testDb.db, user.id))!.username).toBe(user.username);

      expect((await admin('POST', '/admin/users', { username: 'operator', password: 'operator passphrase 0123' })).statusCode).toBe(201);
    });

    it('authly:admin may create administrators and change them', async () => {
      const created = await admin('POST', '/admin/users', { username: 'second-root', password: 'a long passphrase', is_admin: true });
      expect(created.statusCode).toBe(201);
      const { id } = created.json() as { id: string };
      expect((await admin('POST', `/admin/users/${id}/password`, { password: 'another passphrase' })).statusCode).toBe(204);
      expect((await admin('PATCH', `/admin/users/${id}`, { is_admin: false })).statusCode).toBe(200);
      expect((await admin('DELETE', `/admin/users/${id}`)).statusCode).toBe(204);
    });
  });

  it('every refusal leaves an admin.privilege_denied audit line naming the caller, the target and why', async () => {
    const lines = auditLines();
    expect(lines.length).toBeGreaterThanOrEqual(20);
    expect(lines).toContainEqual(
      expect.objectContaining({ actor: limited.clientsWriter.id, actor_type: 'client', reason: 'admin_capable_client', subject: BOOTSTRAP }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ actor: limited.clientsWriter.id, reason: 'admin_scope_assignment', scope: 'authly:admin' }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ actor: limited.usersWriter.id, reason: 'is_admin_assignment' }));
    const root = lines.find((l) => l.reason === 'admin_user');
    expect(root).toMatchObject({ actor: limited.usersWriter.id, subject: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    // The body of a refusal is the admin API's, the line is the audit log's: neither carries a secret.
    expect(JSON.stringify(lines)).not.toContain(ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET);
  });
});

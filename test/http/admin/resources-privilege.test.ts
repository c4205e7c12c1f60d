import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findResource } from '../../../src/repositories/resources-repository.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, tokenFor } from './admin-helpers.js';

/**
 * Rules 6 and 7 of src/services/admin/privilege-rules.ts, and the route scopes of /admin/resources: each
 * refusal is a 403 in the admin API's shape, changes nothing and leaves an admin.privilege_denied line;
 * the same request by authly:admin succeeds.
 */

const SCOPES_REFUSED = (missing: string) => ({
  error: 'insufficient_privilege',
  message: 'a resource that accepts admin scopes is created, changed or deleted only by authly:admin or a holder of each of them',
  fields: { scopes: `the access token does not hold ${missing}` },
});
const ACTING_REFUSED = (clientId: string) => ({
  error: 'insufficient_privilege',
  message: 'a resource that a client which may be granted admin scopes acts for is changed only by authly:admin',
  fields: { client_ids: `${clientId} may be granted admin scopes; requires authly:admin` },
});
const path = (identifier: string) => `/admin/resources/${encodeURIComponent(identifier)}`;

describe('admin API: resources and least privilege', () => {
  let t: TestApp;
  let admin: ReturnType<typeof adminCall>;
  const callers = {} as Record<'writer' | 'writerUsersRead' | 'reader' | 'clientsWriter', { id: string; call: ReturnType<typeof adminCall> }>;
  /** A confidential client registering an admin scope (admin-capable), and an ordinary one. */
  const ADMIN_CAPABLE = 'ops-console';
  const ORDINARY = 'plain-rs';

  const denied = () =>
    t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.log === 'audit' && l.event === 'admin.privilege_denied');

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    admin = adminCall(t.app, await adminToken(t.app));
    for (const [name, scope] of [
      ['writer', 'admin:resources:write'],
      ['writerUsersRead', 'admin:resources:write admin:users:read'],
      ['reader', 'admin:resources:read'],
      ['clientsWriter', 'admin:clients:write'],
    ] as const) {
      const res = await admin('POST', '/admin/clients', { client_name: name, grant_types: ['client_credentials'], scope });
      expect(res.statusCode).toBe(201);
      const { client_id, client_secret } = res.json() as { client_id: string; client_secret: string };
      callers[name] = { id: client_id, call: adminCall(t.app, await tokenFor(t.app, client_id, client_secret)) };
    }
    for (const [client_id, scope] of [[ADMIN_CAPABLE, 'admin:users:read'], [ORDINARY, '']]) {
      expect((await admin('POST', '/admin/clients', { client_id, client_name: client_id, grant_types: ['client_credentials'], scope })).statusCode).toBe(201);
    }
    expect((await admin('POST', '/admin/scopes', { name: 'orders:read' })).statusCode).toBe(201);
  });
  afterAll(() => t.close());

  describe('route scopes', () => {
    it('admin:resources:read reads but does not write', async () => {
      const { call } = callers.reader;
      expect((await call('GET', '/admin/resources')).statusCode).toBe(200);
      expect((await call('GET', path('https://none.example.com'))).statusCode).toBe(404);
      for (const [method, url, body] of [
        ['POST', '/admin/resources', { identifier: 'https://r.example.com', name: 'r' }],
        ['PATCH', path('https://r.example.com'), { name: 'r' }],
        ['DELETE', path('https://r.example.com'), undefined],
      ] as const) {
        const res = await call(method, url, body);
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.json()).toEqual({ error: 'insufficient_scope', error_description: 'the access token lacks the admin:resources:write scope' });
      }
    });

    it('admin:clients:write cannot read resources', async () => {
      const res = await callers.clientsWriter.call('GET', '/admin/resources');
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ error: 'insufficient_scope', error_description: 'the access token lacks the admin:resources:read scope' });
    });

    it('admin:resources:write manages an ordinary resource and its ordinary acting clients', async () => {
      const { call } = callers.writer;
      const identifier = 'https://orders.example.com';
      const created = await call('POST', '/admin/resources', { identifier, name: 'Orders', scopes: ['orders:read'], client_ids: [ORDINARY] });
      expect(created.statusCode).toBe(201);
      expect((await call('PATCH', path(identifier), { name: 'Orders API', access_token_ttl_seconds: 60 })).statusCode).toBe(200);
      expect((await call('DELETE', path(identifier))).statusCode).toBe(204);
    });
  });

  describe('rule 6: a resource accepting admin scopes', () => {
    it.each([
      [['authly:admin'], 'authly:admin'],
      [['orders:read', 'admin:users:write'], 'admin:users:write'],
      [['admin:resources:write', 'admin:clients:read'], 'admin:clients:read'],
    ])('admin:resources:write cannot create a resource with scopes %j', async (scopes, missing) => {
      const identifier = `https://escalation.example.com/${missing}`;
      const res = await callers.writer.call('POST', '/admin/resources', { identifier, name: 'escalation', scopes });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(SCOPES_REFUSED(missing));
      expect(await findResource(t.testDb.db, identifier)).toBeUndefined();
    });

    it('a caller may create a resource with exactly the admin scopes it holds, and change it', async () => {
      const { call } = callers.writerUsersRead;
      const identifier = 'https://directory.example.com';
      const res = await call('POST', '/admin/resources', { identifier, name: 'Directory', scopes: ['admin:users:read'] });
      expect(res.statusCode).toBe(201);
      expect((await call('PATCH', path(identifier), { name: 'Directory API' })).statusCode).toBe(200);
      // It does not hold every admin scope it would add.
      const widened = await call('PATCH', path(identifier), { scopes: ['admin:users:read', 'admin:users:write'] });
      expect(widened.statusCode).toBe(403);
      expect(widened.json()).toEqual(SCOPES_REFUSED('admin:users:write'));
      expect((await findResource(t.testDb.db, identifier))!.scopes).toEqual(['admin:users:read']);
    });

    it.each([
      ['PATCH', { name: 'renamed' }],
      ['PATCH', { access_token_ttl_seconds: 86_400 }],
      ['PATCH', { scopes: [] }],
      ['DELETE', undefined],
    ] as const)('admin:resources:write cannot %s a resource that accepts an admin scope it lacks: %j', async (method, body) => {
      const identifier = 'https://admin-api.example.com';
      if (!(await findResource(t.testDb.db, identifier))) {
        expect((await admin('POST', '/admin/resources', { identifier, name: 'Admin API', scopes: ['admin:users:read', 'orders:read'] })).statusCode).toBe(201);
      }
      const before = await findResource(t.testDb.db, identifier);
      const res = await callers.writer.call(method, path(identifier), body);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(SCOPES_REFUSED('admin:users:read'));
      expect(await findResource(t.testDb.db, identifier)).toEqual(before);
    });
  });

  describe('rule 7: an admin-capable acting client', () => {
    it('admin:resources:write cannot make an admin-capable client act for a resource', async () => {
      const created = await callers.writer.call('POST', '/admin/resources', { identifier: 'https://a.example.com', name: 'A', client_ids: [ORDINARY, ADMIN_CAPABLE] });
      expect(created.statusCode).toBe(403);
      expect(created.json()).toEqual(ACTING_REFUSED(ADMIN_CAPABLE));
      expect(await findResource(t.testDb.db, 'https://a.example.com')).toBeUndefined();

      expect((await callers.writer.call('POST', '/admin/resources', { identifier: 'https://b.example.com', name: 'B', client_ids: [ORDINARY] })).statusCode).toBe(201);
      const patched = await callers.writer.call('PATCH', path('https://b.example.com'), { client_ids: [ORDINARY, ADMIN_CAPABLE] });
      expect(patched.statusCode).toBe(403);
      expect(patched.json()).toEqual(ACTING_REFUSED(ADMIN_CAPABLE));
      expect((await findResource(t.testDb.db, 'https://b.example.com'))!.clientIds).toEqual([ORDINARY]);
    });

    it.each([
      ['PATCH', { name: 'renamed' }],
      ['PATCH', { client_ids: [] }],
      ['DELETE', undefined],
    ] as const)('admin:resources:write cannot %s a resource an admin-capable client acts for: %j', async (method, body) => {
      const identifier = 'https://console-backend.example.com';
      if (!(await findResource(t.testDb.db, identifier))) {
        expect((await admin('POST', '/admin/resources', { identifier, name: 'Console backend', client_ids: [ADMIN_CAPABLE] })).statusCode).toBe(201);
      }
      const before = await findResource(t.testDb.db, identifier);
      const res = await callers.writer.call(method, path(identifier), body);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(ACTING_REFUSED(ADMIN_CAPABLE));
      expect(await findResource(t.testDb.db, identifier)).toEqual(before);
    });

    it('authly:admin may do all of it', async () => {
      const identifier = 'https://root-made.example.com';
      expect((await admin('POST', '/admin/resources', { identifier, name: 'Root', scopes: ['authly:admin'], client_ids: [ADMIN_CAPABLE] })).statusCode).toBe(201);
      expect((await admin('PATCH', path(identifier), { name: 'Root made', client_ids: [ORDINARY, ADMIN_CAPABLE] })).statusCode).toBe(200);
      expect((await admin('DELETE', path(identifier))).statusCode).toBe(204);
    });
  });

  it('every refusal leaves an admin.privilege_denied line naming the caller, the resource and why', () => {
    const lines = denied();
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines).toContainEqual(
      expect.objectContaining({
        actor: callers.writer.id,
        actor_type: 'client',
        reason: 'admin_scope_resource',
        resource: 'https://escalation.example.com/authly:admin',
        scope: 'authly:admin',
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ actor: callers.writer.id, reason: 'admin_scope_resource', resource: 'https://admin-api.example.com', scope: 'admin:users:read' }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ actor: callers.writer.id, reason: 'admin_capable_acting_client', resource: 'https://a.example.com', subject: ADMIN_CAPABLE }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ actor: callers.writer.id, reason: 'admin_capable_acting_client', resource: 'https://console-backend.example.com', subject: ADMIN_CAPABLE }),
    );
  });
});

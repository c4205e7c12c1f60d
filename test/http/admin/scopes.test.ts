import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, ISO_TIMESTAMP } from './admin-helpers.js';

const BUILT_IN = [
  'openid',
  'profile',
  'email',
  'phone',
  'address',
  'offline_access',
  'authly:admin',
  'admin:clients:read',
  'admin:clients:write',
  'admin:users:read',
  'admin:users:write',
  'admin:scopes:read',
  'admin:scopes:write',
  'admin:resources:read',
  'admin:resources:write',
  'admin:audit:read',
];

describe('admin API: scopes', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    call = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t.close());

  it('lists the built-in scopes by name, a page at a time', async () => {
    const res = await call('GET', '/admin/scopes');
    expect(res.statusCode).toBe(200);
    const body = res.json() as { items: { name: string }[]; limit: number; next_cursor: string | null };
    expect(body).toMatchObject({ limit: 50, next_cursor: null });
    expect(body.items.map((s) => s.name)).toEqual([...BUILT_IN].sort());
    expect(body.items.find((s) => s.name === 'openid')).toEqual({
      name: 'openid',
      description: 'Sign you in with your account',
      is_default: true,
      created_at: expect.stringMatching(ISO_TIMESTAMP),
    });
    const first = (await call('GET', '/admin/scopes?limit=2')).json() as typeof body;
    expect(first.items.map((s) => s.name)).toEqual([...BUILT_IN].sort().slice(0, 2));
    const second = (await call('GET', `/admin/scopes?limit=2&cursor=${first.next_cursor}`)).json() as typeof body;
    expect(second.items.map((s) => s.name)).toEqual([...BUILT_IN].sort().slice(2, 4));
  });

  it('creates a scope (201) that clients may then register; a duplicate is 409', async () => {
    const res = await call('POST', '/admin/scopes', { name: 'reports:read', description: 'Read reports' });
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe('/admin/scopes/reports%3Aread');
    expect(res.json()).toEqual({
      name: 'reports:read',
      description: 'Read reports',
      is_default: false,
      created_at: expect.stringMatching(ISO_TIMESTAMP),
    });
    const client = await call('POST', '/admin/clients', {
      client_name: 'Reporter',
      grant_types: ['client_credentials'],
      scope: 'reports:read',
    });
    expect(client.statusCode).toBe(201);

    const again = await call('POST', '/admin/scopes', { name: 'reports:read' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ error: 'conflict', message: 'a scope with this name already exists', fields: { name: 'already exists' } });
  });

  it.each([
    ['a space', { name: 'two words' }],
    ['a double quote', { name: 'say"hi' }],
    ['a backslash', { name: 'back\\slash' }],
    ['an empty name', { name: '' }],
  ])('refuses a name with %s', async (_case, body) => {
    const res = await call('POST', '/admin/scopes', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'validation_failed',
      message: 'the request body is not valid',
      fields: { name: 'expected a scope-token: printable ASCII without space, double quote or backslash (RFC 6749 section 3.3)' },
    });
  });

  it('refuses unknown fields and wrong types', async () => {
    const res = await call('POST', '/admin/scopes', { name: 'x', is_default: 'no', owner: 'me' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'validation_failed',
      message: 'the request body is not valid',
      fields: { is_default: 'expected boolean, received string', owner: 'unknown field' },
    });
  });

  it.each(BUILT_IN)('refuses to delete the built-in scope %s with 409', async (name) => {
    const res = await call('DELETE', `/admin/scopes/${encodeURIComponent(name)}`);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: 'conflict', message: `${name} is a built-in scope and cannot be deleted` });
  });

  it('refuses to delete a scope a client registers, then deletes it once unused', async () => {
    expect((await call('POST', '/admin/scopes', { name: 'billing' })).statusCode).toBe(201);
    const client = (
      await call('POST', '/admin/clients', { client_name: 'Billing', grant_types: ['client_credentials'], scope: 'reports:read billing' })
    ).json() as { client_id: string };

    const used = await call('DELETE', '/admin/scopes/billing');
    expect(used.statusCode).toBe(409);
    expect(used.json()).toEqual({ error: 'conflict', message: 'billing is registered by 1 client(s); remove it from them first' });

    expect((await call('PATCH', `/admin/clients/${client.client_id}`, { scope: 'reports:read' })).statusCode).toBe(200);
    const res = await call('DELETE', '/admin/scopes/billing');
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    const names = ((await call('GET', '/admin/scopes')).json() as { items: { name: string }[] }).items.map((s) => s.name);
    expect(names).not.toContain('billing');

    const gone = await call('DELETE', '/admin/scopes/billing');
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ error: 'not_found', message: 'scope not found' });
  });
});

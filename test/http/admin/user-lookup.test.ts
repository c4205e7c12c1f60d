import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV } from './admin-helpers.js';

/**
 * Issue 14 §1: wherever the admin API takes a user id (/admin/users/{user}…), a username or an email
 * address names the user too: a UUID that is a user's id, else the username (any case), else an email
 * address held by one user (any case), else 404.
 */
describe('admin API: a user by id, username or email address', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;
  let alice: { id: string };
  let uuidNamed: { id: string };
  let mailNamed: { id: string };
  const NOT_FOUND = { error: 'not_found', message: 'user not found' };

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, LOG_LEVEL: 'info' });
    call = adminCall(t.app, await adminToken(t.app));
    const create = async (body: Record<string, unknown>) => {
      const res = await call('POST', '/admin/users', body);
      expect(res.statusCode).toBe(201);
      return res.json() as { id: string };
    };
    alice = await create({ username: 'lookup-alice', email: 'Alice.Lookup@Example.com' });
    // A username shaped like a UUID that is nobody's id, and one shaped like someone else's address.
    uuidNamed = await create({ username: '00000000-0000-4000-8000-000000000001' });
    mailNamed = await create({ username: 'shared@example.com' });
    await create({ username: 'lookup-other', email: 'shared@example.com' });
  });
  afterAll(() => t.close());

  const idOf = async (reference: string) => {
    const res = await call('GET', `/admin/users/${encodeURIComponent(reference)}`);
    return res.statusCode === 200 ? (res.json() as { id: string }).id : res.statusCode;
  };

  it.each([
    ['its id', () => alice.id],
    ['its username', () => 'lookup-alice'],
    ['its username in another case', () => 'LOOKUP-Alice'],
    ['its email address', () => 'Alice.Lookup@Example.com'],
    ['its email address in another case', () => 'alice.lookup@example.COM'],
  ])('finds a user by %s', async (_, reference) => {
    expect(await idOf(reference())).toBe(alice.id);
  });

  it('takes a UUID that is no id as a username, and a username before an email address', async () => {
    expect(await idOf('00000000-0000-4000-8000-000000000001')).toBe(uuidNamed.id);
    expect(await idOf('shared@example.com')).toBe(mailNamed.id);
  });

  it.each([['an unknown name', 'nobody'], ['an unknown address', 'nobody@example.com'], ['a part of a username', 'lookup'], ['a UUID of nobody', '00000000-0000-4000-8000-000000000002']])(
    'answers 404 for %s',
    async (_, reference) => {
      const res = await call('GET', `/admin/users/${encodeURIComponent(reference)}`);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual(NOT_FOUND);
      expect((await call('DELETE', `/admin/users/${encodeURIComponent(reference)}/sessions`)).json()).toEqual(NOT_FOUND);
    },
  );

  it('works on every user route, and the audit line names the user id', async () => {
    const updated = await call('PATCH', '/admin/users/lookup-alice', { name: 'Alice L.' });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ id: alice.id, name: 'Alice L.' });
    expect((await call('GET', '/admin/users/alice.lookup@example.com/sessions')).json()).toEqual({ items: [], limit: 50, next_cursor: null });
    expect((await call('GET', '/admin/users/lookup-alice/grants')).statusCode).toBe(200);
    expect((await call('POST', '/admin/users/lookup-alice/unlock')).json()).toMatchObject({ user_id: alice.id });
    const audit = (event: string) => t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === event);
    expect(audit('admin.user.updated').at(-1)).toMatchObject({ user_id: alice.id });
    expect(audit('admin.user.unlocked').at(-1)).toMatchObject({ user_id: alice.id });

    expect((await call('DELETE', '/admin/users/Alice.Lookup@example.com')).statusCode).toBe(204);
    expect(audit('admin.user.deleted').at(-1)).toMatchObject({ user_id: alice.id });
    expect(await idOf(alice.id)).toBe(404);
    expect(await idOf('lookup-alice')).toBe(404);
  });

  it('answers 401 before any lookup when the token is missing', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/admin/users/lookup-other' });
    expect(res.statusCode).toBe(401);
  });
});

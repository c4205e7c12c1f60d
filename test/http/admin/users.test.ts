import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUserById } from '../../../src/repositories/users-repository.js';
import { verifyPassword } from '../../../src/services/password-hasher.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, ISO_TIMESTAMP } from './admin-helpers.js';

const BODY_INVALID = 'the request body is not valid';

describe('admin API: users', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    call = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t.close());

  async function create(body: Record<string, unknown>) {
    const res = await call('POST', '/admin/users', body);
    expect(res.statusCode).toBe(201);
    return res.json() as Record<string, unknown> & { id: string };
  }

  it('creates a user with a profile and an argon2id password that is never returned', async () => {
    const res = await call('POST', '/admin/users', {
      username: 'alice',
      email: 'alice@example.com',
      email_verified: true,
      password: 'a long enough password',
      name: 'Alice Liddell',
      given_name: 'Alice',
      family_name: 'Liddell',
      locale: 'en-GB',
      phone_number: '+441234567890',
      birthdate: '1852-05-04',
      address: { locality: 'Oxford', country: 'GB' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json() as { id: string };
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username: 'alice',
      email: 'alice@example.com',
      email_verified: true,
      name: 'Alice Liddell',
      given_name: 'Alice',
      family_name: 'Liddell',
      middle_name: null,
      nickname: null,
      picture: null,
      website: null,
      gender: null,
      birthdate: '1852-05-04',
      zoneinfo: null,
      locale: 'en-GB',
      phone_number: '+441234567890',
      phone_number_verified: false,
      address: { locality: 'Oxford', country: 'GB' },
      is_admin: false,
      is_active: true,
      last_login_at: null,
      created_at: expect.stringMatching(ISO_TIMESTAMP),
      updated_at: expect.stringMatching(ISO_TIMESTAMP),
      has_password: true,
    });
    expect(res.headers.location).toBe(`/admin/users/${body.id}`);
    expect(res.body).not.toMatch(/"password(_hash)?"/);
    expect(res.body).not.toContain('a long enough password');
    expect(res.body).not.toContain('$argon2');

    const stored = await findUserById(t.testDb.db, body.id);
    expect(stored!.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(stored!.passwordHash, 'a long enough password')).toBe(true);

    const shown = await call('GET', `/admin/users/${body.id}`);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toEqual(body);
  });

  it('creates a user without a password', async () => {
    const user = await create({ username: 'nopass' });
    expect(user).toMatchObject({ username: 'nopass', email: null, has_password: false });
  });

  it.each([
    ['the same username in other case', { username: 'ALICE' }, 'a user with this username already exists', { username: 'already taken' }],
    ['the same email in other case', { username: 'alice2', email: 'Alice@Example.com' }, 'a user with this email already exists', { email: 'already taken' }],
  ])('answers 409 for %s', async (_case, body, message, fields) => {
    const res = await call('POST', '/admin/users', body);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: 'conflict', message, fields });
  });

  it.each([
    ['no username', { email: 'x@example.com' }, { username: 'required' }],
    ['a username with a space', { username: 'a b' }, { username: 'expected 1 to 255 letters, digits or . _ @ + -' }],
    ['a bad email', { username: 'bob', email: 'bob' }, { email: 'expected an email address' }],
    ['a short password', { username: 'bob', password: 'short' }, { password: 'expected at least 8 characters' }],
    ['a password hash', { username: 'bob', password_hash: '$argon2id$...' }, { password_hash: 'unknown field' }],
    ['a bad birthdate', { username: 'bob', birthdate: '04/05/1852' }, { birthdate: 'expected YYYY-MM-DD or YYYY' }],
    ['a bad locale', { username: 'bob', locale: 'english please' }, { locale: 'expected a BCP 47 language tag such as en-US' }],
    ['an unknown address field', { username: 'bob', address: { planet: 'Earth' } }, { 'address.planet': 'unknown field' }],
    ['a picture that is no URL', { username: 'bob', picture: 'me.png' }, { picture: 'expected an absolute http(s) URL' }],
    ['a string is_admin', { username: 'bob', is_admin: 'true' }, { is_admin: 'expected boolean, received string' }],
  ])('refuses %s with 400 naming the field', async (_case, body, fields) => {
    const res = await call('POST', '/admin/users', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message: BODY_INVALID, fields });
  });

  it('updates only the fields given; null clears a field; conflicts are 409', async () => {
    const user = await create({ username: 'carol', email: 'carol@example.com', given_name: 'Carol', name: 'Carol C' });
    const res = await call('PATCH', `/admin/users/${user.id}`, { given_name: null, nickname: 'cc', is_admin: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ...user, given_name: null, nickname: 'cc', is_admin: true, updated_at: expect.stringMatching(ISO_TIMESTAMP) });

    const taken = await call('PATCH', `/admin/users/${user.id}`, { email: 'alice@example.com' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toEqual({ error: 'conflict', message: 'a user with this email already exists', fields: { email: 'already taken' } });

    const password = await call('PATCH', `/admin/users/${user.id}`, { password: 'through patch' });
    expect(password.statusCode).toBe(400);
    expect(password.json()).toEqual({ error: 'validation_failed', message: BODY_INVALID, fields: { password: 'unknown field' } });
  });

  it('a new email address is unverified unless the same request says it is verified; the same address in other case keeps it', async () => {
    const user = await create({ username: 'dora', email: 'dora@example.com', email_verified: true });
    const sameAddress = await call('PATCH', `/admin/users/${user.id}`, { email: 'Dora@example.com' });
    expect(sameAddress.json()).toMatchObject({ email: 'Dora@example.com', email_verified: true });

    const moved = await call('PATCH', `/admin/users/${user.id}`, { email: 'dora@elsewhere.example' });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ email: 'dora@elsewhere.example', email_verified: false });

    const vouched = await call('PATCH', `/admin/users/${user.id}`, { email: 'dora@third.example', email_verified: true });
    expect(vouched.json()).toMatchObject({ email: 'dora@third.example', email_verified: true });
  });

  it('sets a password: the new one verifies, the old one no longer does', async () => {
    const user = await create({ username: 'dave', password: 'first password' });
    const res = await call('POST', `/admin/users/${user.id}/password`, { password: 'second password' });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    const stored = await findUserById(t.testDb.db, user.id);
    expect(await verifyPassword(stored!.passwordHash, 'second password')).toBe(true);
    expect(await verifyPassword(stored!.passwordHash, 'first password')).toBe(false);

    const short = await call('POST', `/admin/users/${user.id}/password`, { password: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.json()).toEqual({ error: 'validation_failed', message: BODY_INVALID, fields: { password: 'expected at least 8 characters' } });
    const missing = await call('POST', `/admin/users/${user.id}/password`);
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({ error: 'validation_failed', message: BODY_INVALID, fields: { body: 'required' } });
  });

  // Postgres rejects a malformed uuid (22P02); the API must answer 404, not 500.
  it.each([
    ['GET', 'not-a-uuid', undefined],
    ['PATCH', 'not-a-uuid', { name: 'x' }],
    ['DELETE', 'not-a-uuid', undefined],
    ['GET', '123', undefined],
    ['GET', randomUUID(), undefined],
    ['PATCH', randomUUID(), { name: 'x' }],
    ['DELETE', randomUUID(), undefined],
  ] as const)('answers %s /admin/users/%s with 404', async (method, id, body) => {
    const res = await call(method, `/admin/users/${id}`, body);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'user not found' });
  });

  it.each(['not-a-uuid', randomUUID()])('answers 404 when setting the password of user %s', async (id) => {
    const res = await call('POST', `/admin/users/${id}/password`, { password: 'long enough' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'user not found' });
  });

  it('searches by username, email and name, with LIKE wildcards taken literally, a page at a time', async () => {
    await create({ username: 'search-erin', email: 'erin@search.example' });
    await create({ username: 'search-frank', name: 'Frank 100% Search' });
    await create({ username: 'search-grace', email: 'grace@search.example' });

    const q = async (query: string) => {
      const res = await call('GET', `/admin/users?${query}`);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { items: { username: string }[]; limit: number; next_cursor: string | null };
      return { ...body, usernames: body.items.map((u) => u.username) };
    };
    // Newest first.
    expect((await q('q=search')).usernames).toEqual(['search-grace', 'search-frank', 'search-erin']);
    expect((await q('q=ERIN')).usernames).toEqual(['search-erin']);
    expect((await q('q=search.example')).usernames).toEqual(['search-grace', 'search-erin']);
    expect((await q('q=100%25')).usernames).toEqual(['search-frank']);
    expect((await q('q=%25')).usernames).toEqual(['search-frank']);
    expect((await q('q=search_')).usernames).toEqual([]);
    const first = await q('q=search&limit=1');
    expect(first).toMatchObject({ usernames: ['search-grace'], limit: 1, next_cursor: expect.any(String) });
    const second = await q(`q=search&limit=1&cursor=${first.next_cursor}`);
    expect(second).toMatchObject({ usernames: ['search-frank'], limit: 1, next_cursor: expect.any(String) });
    expect(await q(`q=search&limit=1&cursor=${second.next_cursor}`)).toMatchObject({ usernames: ['search-erin'], next_cursor: null });
    expect(await q('')).toMatchObject({ limit: 50, next_cursor: null });
  });

  it('deletes a user: 204, then 404', async () => {
    const user = await create({ username: 'heidi' });
    const res = await call('DELETE', `/admin/users/${user.id}`);
    expect(res.statusCode).toBe(204);
    expect((await call('GET', `/admin/users/${user.id}`)).statusCode).toBe(404);
    expect((await call('DELETE', `/admin/users/${user.id}`)).statusCode).toBe(404);
  });
});

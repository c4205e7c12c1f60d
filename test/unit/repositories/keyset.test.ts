import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursor } from '../../../src/errors/admin-errors.js';
import type { PageKey } from '../../../src/lib/page-key.js';
import { listScopesPage } from '../../../src/repositories/scopes-repository.js';
import { searchUsers, type User } from '../../../src/repositories/users-repository.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';

/** Keyset pages on the real database (PGlite, or PostgreSQL with TEST_DATABASE_URL). */
describe('keyset pages', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
    // Five users created in one transaction share its now(); two more differ from each other by one
    // microsecond, which a millisecond (JS Date) key would not tell apart.
    await t.db.transaction(async (tx) => {
      for (const n of [1, 2, 3, 4, 5]) await tx.query('INSERT INTO users (username) VALUES ($1)', [`keyset-same-${n}`]);
    });
    await t.db.query(`INSERT INTO users (username, created_at) VALUES ('keyset-micro-1', '2020-01-01T00:00:00.000001Z'), ('keyset-micro-2', '2020-01-01T00:00:00.000002Z')`);
  });
  afterAll(() => t.drop());

  async function walk(limit: number, query = 'keyset-'): Promise<{ pages: string[][]; users: User[] }> {
    const pages: string[][] = [];
    const users: User[] = [];
    let cursor: PageKey | undefined;
    do {
      const page = await searchUsers(t.db, query, { limit, cursor });
      pages.push(page.items.map((u) => u.username));
      users.push(...page.items);
      cursor = page.next ?? undefined;
    } while (cursor && pages.length < 20);
    return { pages, users };
  }

  it('visits every row once, newest first by (created_at, id), whatever the page size', async () => {
    const { rows } = await t.db.query<{ username: string }>(
      `SELECT username FROM users WHERE username LIKE 'keyset-%' ORDER BY created_at DESC, id DESC`,
    );
    const expected = rows.map((r) => r.username);
    expect(expected).toHaveLength(7);
    expect(expected.slice(-2)).toEqual(['keyset-micro-2', 'keyset-micro-1']);
    for (const limit of [1, 2, 3, 7, 50]) {
      const { pages } = await walk(limit);
      expect(pages.flat(), `limit ${limit}`).toEqual(expected);
      expect(pages.every((p) => p.length <= limit)).toBe(true);
    }
  });

  it('says there is no next page when the last page is exactly full', async () => {
    const { pages } = await walk(7);
    expect(pages).toHaveLength(1);
    expect(await searchUsers(t.db, 'keyset-micro', { limit: 2 })).toMatchObject({ next: null });
  });

  it('does not shift when rows are inserted between pages', async () => {
    const first = await searchUsers(t.db, 'keyset-', { limit: 3 });
    await t.db.query(`INSERT INTO users (username) VALUES ('keyset-late')`);
    const rest = await searchUsers(t.db, 'keyset-', { limit: 50, cursor: first.next! });
    expect([...first.items, ...rest.items].map((u) => u.username)).not.toContain('keyset-late');
    expect(first.items.length + rest.items.length).toBe(7);
    await t.db.query(`DELETE FROM users WHERE username = 'keyset-late'`);
  });

  it('pages scopes by name, ascending', async () => {
    const first = await listScopesPage(t.db, { limit: 2 });
    const second = await listScopesPage(t.db, { limit: 2, cursor: first.next! });
    const names = [...first.items, ...second.items].map((s) => s.name);
    expect(names).toEqual([...names].sort());
    expect(second.items[0]!.name > first.items[1]!.name).toBe(true);
  });

  it.each([
    ['a key of another shape', ['openid']],
    ['a text id where a UUID belongs', ['2026-12-06T17:33:15.123456Z', 'alice']],
    ['an impossible timestamp', ['2026-02-30T00:00:00.000000Z', '0b6f6f5e-2c1a-4c39-9d55-3f1b6b8f2a10']],
  ])('refuses %s as InvalidCursor, before SQL', async (_, cursor) => {
    await expect(searchUsers(t.db, undefined, { limit: 5, cursor })).rejects.toBeInstanceOf(InvalidCursor);
  });
});

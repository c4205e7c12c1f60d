import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transactionScope } from '../../../src/db/transaction-scope.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';

/** A service's own transaction inside the audit trail's (src/services/audit-trail.ts) is a savepoint. */
describe('transactionScope', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
    await t.db.query('CREATE TABLE scope_probe (n int PRIMARY KEY)');
  });
  afterAll(() => t.drop());

  const numbers = async () => (await t.db.query<{ n: number }>('SELECT n FROM scope_probe ORDER BY n')).rows.map((r) => r.n);

  it('a nested transaction that throws rolls back alone; the outer one commits the rest', async () => {
    await t.db.transaction(async (tx) => {
      const scoped = transactionScope(t.db, tx);
      await scoped.query('INSERT INTO scope_probe (n) VALUES (1)');
      await expect(
        scoped.transaction(async (inner) => {
          await inner.query('INSERT INTO scope_probe (n) VALUES (2)');
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      // A failed statement inside the savepoint leaves the outer transaction usable too.
      await expect(scoped.transaction((inner) => inner.query('INSERT INTO scope_probe (n) VALUES (1)'))).rejects.toMatchObject({ code: '23505' });
      await scoped.transaction((inner) => inner.query('INSERT INTO scope_probe (n) VALUES (3)'));
      await scoped.withConnection((conn) => conn.query('INSERT INTO scope_probe (n) VALUES (4)'));
    });
    expect(await numbers()).toEqual([1, 3, 4]);
  });

  it('nothing commits when the outer transaction rolls back, nested ones included', async () => {
    await expect(
      t.db.transaction(async (tx) => {
        const scoped = transactionScope(t.db, tx);
        await scoped.transaction((inner) => inner.query('INSERT INTO scope_probe (n) VALUES (10)'));
        throw new Error('outer refused');
      }),
    ).rejects.toThrow('outer refused');
    expect(await numbers()).toEqual([1, 3, 4]);
  });
});

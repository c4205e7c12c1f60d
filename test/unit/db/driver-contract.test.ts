import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';

/**
 * The Db interface means the same on node-postgres and PGlite, so code written against one behaves the
 * same on the other. rowCount follows node-postgres: rows returned by SELECT, rows changed by DML.
 */
describe('Db driver contract', () => {
  let t: TestDb;

  beforeAll(async () => {
    t = await createTestDb();
    await t.db.query('CREATE TABLE contract_probe (id int PRIMARY KEY, v text)');
    await t.db.query("INSERT INTO contract_probe VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  });
  afterAll(() => t.drop());

  it('rowCount of a parameterized SELECT is the number of rows', async () => {
    const res = await t.db.query('SELECT * FROM contract_probe WHERE id >= $1', [2]);
    expect(res.rows).toHaveLength(2);
    expect(res.rowCount).toBe(2);
  });

  it('rowCount of a parameterless SELECT is the number of rows', async () => {
    const res = await t.db.query('SELECT * FROM contract_probe');
    expect(res.rowCount).toBe(3);
  });

  it('rowCount of UPDATE and DELETE is the number of rows changed', async () => {
    expect((await t.db.query("UPDATE contract_probe SET v = 'x' WHERE id <= $1", [2])).rowCount).toBe(2);
    expect((await t.db.query('DELETE FROM contract_probe WHERE id = $1', [99])).rowCount).toBe(0);
    expect((await t.db.query('DELETE FROM contract_probe WHERE id = $1 RETURNING id', [3])).rowCount).toBe(1);
  });

  it('rowCount inside a transaction behaves the same', async () => {
    await t.db.transaction(async (tx) => {
      expect((await tx.query('SELECT * FROM contract_probe WHERE id = $1', [1])).rowCount).toBe(1);
    });
  });

  it('a failing transaction rolls back', async () => {
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query("UPDATE contract_probe SET v = 'rolled' WHERE id = $1", [1]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await t.db.query<{ v: string }>('SELECT v FROM contract_probe WHERE id = $1', [1]);
    expect(rows[0]!.v).toBe('x');
  });
});

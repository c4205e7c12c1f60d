import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/db/migrate.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';

describe('migrations', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(() => t.drop());

  it('creates the schema and a second run applies nothing', async () => {
    const { rows } = await t.db.query<{ name: string }>('SELECT name FROM scopes ORDER BY name');
    expect(rows.map((r) => r.name)).toContain('openid');
    expect(await migrate(t.db, t.schema ? { schema: t.schema } : {})).toEqual([]);
  });
});

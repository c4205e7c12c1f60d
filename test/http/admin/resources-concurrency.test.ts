import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV } from './admin-helpers.js';

/**
 * Writers racing on resources. On PostgreSQL (TEST_DATABASE_URL) each request has its own pooled connection,
 * so the transactions really contend; PGlite serializes them, so there the same assertions check the
 * sequential logic only.
 */
const ROUNDS = 20;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const path = (identifier: string) => `/admin/resources/${encodeURIComponent(identifier)}`;

describe('admin API: resources under concurrent writers', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    call = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t.close());

  it('one registration of an identifier wins, whatever the spelling; the others are 409', async () => {
    const spellings = ['https://race.example.com', 'HTTPS://race.example.com', 'https://RACE.example.com:443', 'https://race.example.com/', 'https://Race.Example.Com'];
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call('POST', '/admin/resources', { identifier: spellings[i % spellings.length], name: `racer ${i}` })),
    );
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([201, ...Array<number>(19).fill(409)]);
    for (const r of responses.filter((r) => r.statusCode === 409)) {
      expect(r.json()).toEqual({ error: 'conflict', message: 'a resource with this identifier already exists', fields: { identifier: 'already exists' } });
    }
    expect(((await call('GET', '/admin/resources')).json() as { items: unknown[] }).items).toHaveLength(1);
  });

  it("a delete racing a client's allowed_resources never leaves the client naming a resource that is gone", async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const identifier = `https://round-${round}.example.com`;
      expect((await call('POST', '/admin/resources', { identifier, name: `round ${round}` })).statusCode).toBe(201);
      const created = await call('POST', '/admin/clients', { client_name: `client ${round}`, grant_types: ['client_credentials'] });
      const { client_id } = created.json() as { client_id: string };

      // A staggered start, so that each side sometimes reaches the database first.
      const [patched, deleted] = await Promise.all([
        call('PATCH', `/admin/clients/${client_id}`, { allowed_resources: [identifier] }),
        delay(round % 5).then(() => call('DELETE', path(identifier))),
      ]);
      // Exactly one of them takes effect, and the loser says why.
      if (patched.statusCode === 200) {
        expect(deleted.statusCode).toBe(409);
        expect(deleted.json()).toEqual({ error: 'conflict', message: `${identifier} is in the allowed_resources of 1 client(s); remove it from them first` });
      } else {
        expect(deleted.statusCode).toBe(204);
        expect(patched.statusCode).toBe(400);
        expect(patched.json()).toEqual({
          error: 'validation_failed',
          message: 'the client registration is not valid',
          fields: { 'allowed_resources.0': 'is not a registered resource' },
        });
      }
      outcomes.add(`${patched.statusCode}/${deleted.statusCode}`);
    }
    const { rows } = await t.testDb.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM clients c, unnest(c.allowed_resources) AS a(identifier)
       WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.identifier = a.identifier)`,
    );
    expect(rows[0]!.n).toBe(0);
    console.log(`[resources-concurrency] ${t.testDb.db.kind}: outcomes ${[...outcomes].join(', ')}`);
  });
});

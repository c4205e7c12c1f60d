import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, type TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl } from '../../helpers/oauth-flow.js';
import { INTERACTION_TTL_SECONDS, INTERACTION_UNCLAIMED_TTL_SECONDS } from '../../../src/services/interaction-service.js';

/**
 * Issue 10 §3: every unauthenticated GET /oauth/authorize persists an interaction row (26,858 rows in 60 s
 * from 40 addresses, each living up to 90 minutes: a 30-minute lifetime plus the cleanup interval). Now a
 * row nobody opens lives INTERACTION_UNCLAIMED_TTL_SECONDS, invalid requests persist nothing, and each new
 * interaction deletes expired ones, so the table holds live rows only, whatever the cleanup interval.
 */
describe('interaction flood', () => {
  let t: TestApp;
  let client: TestClient;
  const N = 40;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
  });
  afterAll(() => t.close());

  const rows = async () => Number((await t.app.ctx.db.query<{ n: string }>('SELECT count(*)::text AS n FROM interactions')).rows[0]!.n);
  const maxLifetimeSeconds = async () =>
    Number((await t.app.ctx.db.query<{ s: string }>('SELECT extract(epoch FROM max(expires_at) - now())::text AS s FROM interactions')).rows[0]!.s);
  const flood = async (url: string) => {
    for (let i = 0; i < N; i++) await t.app.inject(url);
  };

  it('invalid requests persist nothing', async () => {
    const before = await rows();
    await flood(authorizeUrl('no-such-client'));
    await flood(authorizeUrl(client.clientId, { code_challenge_method: 'plain' }));
    expect(await rows()).toBe(before);
  });

  it(`${N} unauthenticated requests: ${N} rows, each living at most the unclaimed lifetime`, async () => {
    const before = await rows();
    await flood(authorizeUrl(client.clientId));
    expect(await rows()).toBe(before + N);
    expect(await maxLifetimeSeconds()).toBeLessThanOrEqual(INTERACTION_UNCLAIMED_TTL_SECONDS + 5);
    expect(INTERACTION_UNCLAIMED_TTL_SECONDS).toBeLessThan(INTERACTION_TTL_SECONDS);
  });

  it('opening the page extends the interaction to the full lifetime', async () => {
    const start = await t.app.inject(authorizeUrl(client.clientId));
    const location = start.headers.location as string;
    const cookie = String(start.headers['set-cookie']).split(';')[0]!;
    expect((await t.app.inject({ url: location, headers: { cookie } })).statusCode).toBe(200);
    const uid = location.split('/').pop()!;
    const { rows: [row] } = await t.app.ctx.db.query<{ s: string }>('SELECT extract(epoch FROM expires_at - now())::text AS s FROM interactions WHERE uid = $1', [uid]);
    expect(Number(row!.s)).toBeGreaterThan(INTERACTION_TTL_SECONDS - 60);
  });

  it('expired rows do not accumulate: the next flood deletes them (before: 2N rows after two floods)', async () => {
    await t.app.ctx.db.query("UPDATE interactions SET expires_at = now() - interval '1 second'");
    await flood(authorizeUrl(client.clientId));
    expect(await rows()).toBe(N);
    expect(Number((await t.app.ctx.db.query<{ n: string }>('SELECT count(*)::text AS n FROM interactions WHERE expires_at <= now()')).rows[0]!.n)).toBe(0);
  });
});

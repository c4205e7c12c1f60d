import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, tokenFor } from '../admin/admin-helpers.js';

describe('POST /admin/maintenance/cleanup', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, CLEANUP_INTERVAL_MINUTES: '0' });
    call = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t.close());

  it('deletes expired rows, answers the counts, logs cleanup.completed and counts the metric', async () => {
    await t.testDb.db.query(`INSERT INTO users (id, username) VALUES ('00000000-0000-4000-8000-0000000000aa', 'expiring')`);
    await t.testDb.db.query(
      `INSERT INTO sessions (id_hash, sid, user_id, auth_time, expires_at)
       SELECT 'h' || n, 's' || n, '00000000-0000-4000-8000-0000000000aa', now(), now() - interval '1 minute' FROM generate_series(1, 3) n`,
    );
    await t.testDb.db.query(
      `INSERT INTO auth_failures (key, failures, first_failure_at) VALUES ('login:ip:x', 1, now() - interval '2 hours')`,
    );
    const res = await call('POST', '/admin/maintenance/cleanup');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const expected = {
      clients: 0,
      authorization_codes: 0,
      access_tokens: 0,
      refresh_tokens: 0,
      sessions: 3,
      interactions: 0,
      auth_failures: 1,
      grants: 0,
      consents: 0,
      user_action_tokens: 0,
      used_jtis: 0,
      pushed_authorization_requests: 0,
      device_authorizations: 0,
      audit_events: 0,
    };
    expect(res.json()).toEqual({ skipped: false, deleted: expected });
    const line = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'cleanup.completed');
    expect(line).toMatchObject({ event: 'cleanup.completed', deleted: expected });
    const metric = await t.app.ctx.metrics.cleanupDeleted.get();
    expect(metric.values.find((v) => v.labels.table === 'auth_failures')?.value).toBe(1);

    expect((await call('POST', '/admin/maintenance/cleanup')).json()).toEqual({
      skipped: false,
      deleted: { ...expected, sessions: 0, auth_failures: 0 },
    });
  });

  it('needs authly:admin: another admin scope is 403, no token 401', async () => {
    const created = (await call('POST', '/admin/clients', { client_name: 'ops', grant_types: ['client_credentials'], scope: 'admin:users:write' })).json() as {
      client_id: string;
      client_secret: string;
    };
    const limited = adminCall(t.app, await tokenFor(t.app, created.client_id, created.client_secret, 'admin:users:write'));
    const denied = await limited('POST', '/admin/maintenance/cleanup');
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ error: 'insufficient_scope', error_description: 'the access token lacks the authly:admin scope' });
    expect((await t.app.inject({ method: 'POST', url: '/admin/maintenance/cleanup' })).statusCode).toBe(401);
  });
});

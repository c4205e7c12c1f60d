import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InjectBrowser } from '../helpers/browser.js';
import { createClient, createUser } from '../helpers/fixtures.js';
import { obtainTokens, userinfo } from '../helpers/oauth-flow.js';
import { adminCli, listenOnLoopback, runCli } from '../helpers/cli.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { ADMIN_ENV } from '../http/admin/admin-helpers.js';

describe('authly admin user sessions|grants and cleanup against a listening server', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    url = await listenOnLoopback(t.app);
  });
  afterAll(() => t.close());

  const admin = adminCli(() => url);

  it('lists and revokes sessions and grants; revoking a grant stops its tokens', async () => {
    const client = await createClient(t.app);
    const user = await createUser(t.app);
    const tokens = await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, { scope: 'openid offline_access' });

    const sessions = await admin('--json', 'user', 'sessions', user.id);
    expect(sessions).toMatchObject({ code: 0, stderr: '' });
    const { items: [session] } = JSON.parse(sessions.stdout) as { items: { sid: string }[] };
    const table = await admin('user', 'sessions', user.id);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^SID +AUTH_TIME +CREATED_AT +EXPIRES_AT\\n${session!.sid} +\\S+ +\\S+ +\\S+\\n$`));

    expect(await admin('user', 'revoke-session', user.id, session!.sid)).toEqual({
      code: 0,
      stdout: `Revoked session ${session!.sid} of user ${user.id}.\n`,
      stderr: '',
    });
    expect(await admin('user', 'revoke-session', user.id, session!.sid)).toEqual({ code: 1, stdout: '', stderr: 'error: session not found\n' });
    expect(await admin('user', 'revoke-sessions', user.id)).toEqual({ code: 0, stdout: `Revoked all sessions of user ${user.id}.\n`, stderr: '' });

    const grants = JSON.parse((await admin('--json', 'user', 'grants', user.id)).stdout) as { items: { id: string; client_id: string }[]; next_cursor: null };
    expect(grants.items).toHaveLength(1);
    expect(grants.items[0]!.client_id).toBe(client.clientId);
    const grantTable = await admin('user', 'grants', user.id);
    expect(grantTable.stdout).toContain(`${grants.items[0]!.id}  ${client.clientId}  openid offline_access`);

    expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(200);
    expect(await admin('user', 'revoke-grant', user.id, grants.items[0]!.id)).toEqual({
      code: 0,
      stdout: `Revoked grant ${grants.items[0]!.id} of user ${user.id}.\n`,
      stderr: '',
    });
    expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(401);
    expect(await admin('user', 'revoke-grants', user.id)).toEqual({ code: 0, stdout: `Revoked all grants of user ${user.id}.\n`, stderr: '' });
    expect(await admin('user', 'revoke-grant', user.id)).toMatchObject({ code: 2, stdout: '' });
  });

  it('lists and revokes the grants of a client (client grants|revoke-grant|revoke-grants)', async () => {
    const client = await createClient(t.app);
    const [ann, bob] = [await createUser(t.app), await createUser(t.app)];
    const annTokens = await obtainTokens(t.app, new InjectBrowser(t.app), client, ann.username, { scope: 'openid offline_access' });
    const bobTokens = await obtainTokens(t.app, new InjectBrowser(t.app), client, bob.username, { scope: 'openid offline_access' });

    const table = (await admin('client', 'grants', client.clientId, '--limit', '1')).stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^ID +USER_ID +USERNAME +SCOPE +CREATED_AT +REVOKED_AT$/);
    expect(table[1]).toMatch(new RegExp(`^[0-9a-f-]{36}  ${bob.id}  ${bob.username} +openid offline_access +\\S+ +-$`));
    const next = /^\(next: --cursor (\S+)\)$/.exec(table[2]!)![1]!;
    expect((await admin('client', 'grants', client.clientId, '--limit', '1', '--cursor', next)).stdout).toContain(ann.username);

    const grants = JSON.parse((await admin('--json', 'client', 'grants', client.clientId)).stdout) as { items: { id: string; username: string }[] };
    const bobGrant = grants.items.find((g) => g.username === bob.username)!;
    expect(await admin('client', 'revoke-grant', client.clientId, bobGrant.id)).toEqual({
      code: 0,
      stdout: `Revoked grant ${bobGrant.id} of client ${client.clientId}.\n`,
      stderr: '',
    });
    expect((await userinfo(t.app, bobTokens.access_token)).statusCode).toBe(401);
    expect((await userinfo(t.app, annTokens.access_token)).statusCode).toBe(200);
    expect(await admin('client', 'revoke-grants', client.clientId)).toEqual({ code: 0, stdout: `Revoked 1 grant(s) of client ${client.clientId}.\n`, stderr: '' });
    expect((await userinfo(t.app, annTokens.access_token)).statusCode).toBe(401);
    expect(await admin('client', 'revoke-grants', 'no-such-client')).toEqual({ code: 1, stdout: '', stderr: 'error: client not found\n' });
  });

  it('cleanup prints the counts per table', async () => {
    await t.testDb.db.query(
      `INSERT INTO auth_failures (key, failures, first_failure_at) VALUES ('cli:a', 1, now() - interval '1 day'), ('cli:b', 1, now() - interval '1 day')`,
    );
    const res = await admin('cleanup');
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toMatch(/^skipped: +false\n/);
    expect(res.stdout).toMatch(/\ndeleted\.auth_failures: +2\n/);
    const json = JSON.parse((await admin('--json', 'cleanup')).stdout) as { deleted: Record<string, number> };
    expect(json.deleted.auth_failures).toBe(0);
  });
});

describe('authly maintenance', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'authly-maintenance-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // The embedded database in a scratch directory, like `authly migrate`'s test.
  it('runs cleanup straight against the configured database and prints the counts', async () => {
    expect((await runCli(['migrate'], { env: { AUTHLY_DATA_DIR: dataDir } })).code).toBe(0);
    expect(await runCli(['maintenance'], { env: { AUTHLY_DATA_DIR: dataDir } })).toEqual({
      code: 0,
      stdout: [
        'clients',
        'authorization_codes',
        'access_tokens',
        'refresh_tokens',
        'sessions',
        'interactions',
        'auth_failures',
        'grants',
        'consents',
        'user_action_tokens',
        'used_jtis',
        'pushed_authorization_requests',
        'device_authorizations',
        'audit_events',
      ]
        .map((table) => `Deleted 0 from ${table}\n`)
        .join(''),
      stderr: '',
    });
    expect(await runCli(['maintenance', 'now'])).toEqual({ code: 2, stdout: '', stderr: 'authly: unknown command: maintenance now (see authly --help)\n' });
  }, 120_000);
});

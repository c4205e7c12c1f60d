import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCli, listenOnLoopback } from '../helpers/cli.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { ADMIN_ENV } from '../http/admin/admin-helpers.js';
import { register, WEB_CLIENT } from '../http/registration/registration-helpers.js';

describe('authly admin registration-token and client list --registration-type', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, REGISTRATION_POLICY: 'initial-access-token' });
    url = await listenOnLoopback(t.app);
  });
  afterAll(() => t.close());
  const admin = adminCli(() => url);

  it('creates a token (printed once), lists it without the token, and revokes it', async () => {
    const created = await admin('registration-token', 'create', '--description', 'MCP', '--expires-in', '12h', '--max-uses', '3');
    expect(created.code).toBe(0);
    expect(created.stderr).toBe('Store the token now: it is shown only once.\n');
    const token = Object.fromEntries(
      created.stdout.trimEnd().split('\n').map((line) => /^(\S+):\s+(.*)$/.exec(line)!.slice(1, 3) as [string, string]),
    );
    expect(token).toMatchObject({ description: 'MCP', max_uses: '3', uses: '0', revoked_at: '-', token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });

    const registered = await register(t.app, WEB_CLIENT, { authorization: `Bearer ${token.token}` });
    expect(registered.statusCode).toBe(201);

    const listed = await admin('registration-token', 'list');
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+DESCRIPTION\s+USES\s+MAX_USES\s+EXPIRES_AT\s+REVOKED_AT$/);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${token.id}\\s+MCP\\s+1\\s+3\\s+\\d{4}-\\S+\\s+-$`)));
    expect(listed.stdout).not.toContain(token.token);

    expect(await admin('registration-token', 'revoke', token.id!)).toEqual({ code: 0, stdout: `Revoked registration token ${token.id}.\n`, stderr: '' });
    expect((await register(t.app, WEB_CLIENT, { authorization: `Bearer ${token.token}` })).statusCode).toBe(401);
    expect(await admin('registration-token', 'create', '--max-uses', 'many')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: the request body is not valid (max_uses: expected a whole number)\n',
    });
  });

  it('lists only the dynamically registered clients with --registration-type dynamic', async () => {
    const listed = await admin('client', 'list', '--registration-type', 'dynamic');
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines.slice(1)).toEqual([expect.stringMatching(/\s+Web MCP client\s+client_secret_basic\s+authorization_code, refresh_token\s+true\s+dynamic$/)]);
    expect(lines).toHaveLength(2); // the header and the one client; no next page
    const admins = await admin('--json', 'client', 'list', '--registration-type', 'admin');
    // The bootstrap admin client and the built-in clients of the account page, `authly admin login` and the console.
    const listedAdmins = JSON.parse(admins.stdout) as { items: { client_id: string; registration_type: string }[] };
    expect(listedAdmins.items).toHaveLength(4);
    expect(listedAdmins.items.map((c) => [c.client_id, c.registration_type]).sort()).toEqual(
      [[ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, 'admin'], ['authly-account', 'admin'], ['authly-cli', 'admin'], ['authly-console', 'admin']].sort(),
    );
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUserById } from '../../src/repositories/users-repository.js';
import { verifyPassword } from '../../src/services/password-hasher.js';
import { adminCli, adminCredentials, listenOnLoopback, runCli } from '../helpers/cli.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { ADMIN_ENV } from '../http/admin/admin-helpers.js';

/** A port nothing listens on: bound once by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('authly admin CLI against a listening server', () => {
  let t: TestApp;
  let url: string;
  let emptyDir: string;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    url = await listenOnLoopback(t.app);
    emptyDir = mkdtempSync(path.join(tmpdir(), 'authly-cli-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(emptyDir, { recursive: true, force: true });
  });

  const creds = () => adminCredentials(url);
  const admin = adminCli(() => url);
  const adminJson = async (...argv: string[]) => {
    const res = await admin('--json', ...argv);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(res.stdout) as Record<string, unknown>;
  };
  /** `key: value` lines as an object. */
  const record = (text: string) =>
    Object.fromEntries(text.trimEnd().split('\n').map((line) => /^(\S+):\s+(.*)$/.exec(line)!.slice(1, 3) as [string, string]));

  it('creates, lists, shows, updates, rotates and deletes a client', async () => {
    const created = await admin(
      'client', 'create', '--id', 'cli-web', '--name', 'CLI Web',
      '--redirect-uri', 'https://cli.example.com/cb', '--redirect-uri', 'http://127.0.0.1:8080/cb', '--skip-consent', 'true',
    );
    expect(created.code).toBe(0);
    expect(created.stderr).toBe('Store the client_secret now: it is shown only once.\n');
    const fields = record(created.stdout);
    expect(fields).toMatchObject({
      client_id: 'cli-web',
      client_name: 'CLI Web',
      client_type: 'confidential',
      redirect_uris: 'https://cli.example.com/cb, http://127.0.0.1:8080/cb',
      post_logout_redirect_uris: '-',
      grant_types: 'authorization_code',
      skip_consent: 'true',
      client_uri: '-',
      client_secret_expires_at: '0',
    });
    expect(fields.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Keys are aligned into one column.
    expect(new Set(created.stdout.trimEnd().split('\n').map((line) => line.search(/(?<=:\s+)\S/))).size).toBe(1);

    const listed = await admin('client', 'list');
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CLIENT_ID\s+CLIENT_NAME\s+TOKEN_ENDPOINT_AUTH_METHOD\s+GRANT_TYPES\s+IS_ACTIVE\s+REGISTRATION_TYPE$/);
    expect(lines).toContainEqual(expect.stringMatching(/^cli-web\s+CLI Web\s+client_secret_basic\s+authorization_code\s+true\s+admin$/));
    // The admin client, the built-in clients of the account page, of `authly admin login` and of the console,
    // and cli-web, on one page: no "(next: …)" line.
    expect(lines).toHaveLength(6);
    const paged = (await admin('client', 'list', '--limit', '3')).stdout.trimEnd().split('\n');
    expect(paged).toHaveLength(5);
    expect(paged[1]).toMatch(/^cli-web\s/);
    const next = /^\(next: --cursor ([A-Za-z0-9_-]+)\)$/.exec(paged.at(-1)!);
    expect(next).not.toBeNull();
    const rest = (await admin('client', 'list', '--limit', '3', '--cursor', next![1]!)).stdout.trimEnd().split('\n');
    expect(rest).toHaveLength(3);
    expect([...paged.slice(1, -1), ...rest.slice(1)].map((line) => line.split(/\s+/)[0])).toEqual(lines.slice(1).map((line) => line.split(/\s+/)[0]));

    const shown = await admin('client', 'show', 'cli-web');
    expect(shown.code).toBe(0);
    expect(shown.stdout).not.toContain('client_secret:');
    expect(record(shown.stdout)).toMatchObject({ client_id: 'cli-web', client_name: 'CLI Web' });

    const updated = await admin('client', 'update', 'cli-web', '--name', 'Renamed', '--logo-uri', 'https://cli.example.com/logo.png');
    expect(updated.code).toBe(0);
    expect(record(updated.stdout)).toMatchObject({ client_name: 'Renamed', logo_uri: 'https://cli.example.com/logo.png' });
    expect(record((await admin('client', 'update', 'cli-web', '--logo-uri', '')).stdout).logo_uri).toBe('-');

    const rotated = await admin('client', 'rotate-secret', 'cli-web');
    expect(rotated.code).toBe(0);
    expect(record(rotated.stdout).client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(record(rotated.stdout).client_secret).not.toBe(fields.client_secret);

    expect(await admin('client', 'unlock', 'cli-web')).toEqual({ code: 0, stdout: 'Unlocked client cli-web.\n', stderr: '' });
    expect(await admin('client', 'delete', 'cli-web')).toEqual({ code: 0, stdout: 'Deleted client cli-web.\n', stderr: '' });
    expect(await admin('client', 'show', 'cli-web')).toEqual({ code: 1, stdout: '', stderr: 'error: client not found\n' });
  });

  it('prints the API JSON with --json', async () => {
    const created = await adminJson('client', 'create', '--name', 'Service', '--grant-type', 'client_credentials', '--scope', 'admin:users:read');
    expect(created).toMatchObject({ client_name: 'Service', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const id = created.client_id as string;
    const { client_secret: _s, client_secret_expires_at: _e, ...stored } = created;
    expect(await adminJson('client', 'show', id)).toEqual(stored);
    const page = await adminJson('client', 'list', '--limit', '1');
    expect(page).toMatchObject({ items: [{ client_id: id }], limit: 1, next_cursor: expect.any(String) });
    const next = await adminJson('client', 'list', '--limit', '1', '--cursor', page.next_cursor as string);
    expect(next).toMatchObject({ limit: 1, next_cursor: expect.any(String) });
    expect((next.items as { client_id: string }[])[0]!.client_id).not.toBe(id);
    expect(await admin('--json', 'client', 'delete', id)).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('sets and clears the back-channel logout URI and its sid flag', async () => {
    const created = await adminJson(
      'client', 'create', '--id', 'cli-bcl', '--name', 'BCL', '--redirect-uri', 'https://cli.example.com/cb',
      '--backchannel-logout-uri', 'https://cli.example.com/logout', '--backchannel-logout-session-required', 'true',
    );
    expect(created).toMatchObject({ backchannel_logout_uri: 'https://cli.example.com/logout', backchannel_logout_session_required: true });
    expect(await admin('client', 'update', 'cli-bcl', '--backchannel-logout-uri', 'https://cli.example.com/logout#f')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: the client registration is not valid (backchannel_logout_uri: must not contain a fragment (OpenID Connect Back-Channel Logout 1.0 section 2.2))\n',
    });
    expect(await adminJson('client', 'update', 'cli-bcl', '--backchannel-logout-uri', '')).toMatchObject({ backchannel_logout_uri: null });
    expect((await admin('client', 'delete', 'cli-bcl')).code).toBe(0);
  });

  it('sets the ID token alg and the access token format; an empty format returns to the server default', async () => {
    const created = await admin(
      'client', 'create', '--id', 'cli-formats', '--name', 'Formats', '--redirect-uri', 'https://cli.example.com/cb',
      '--id-token-alg', 'RS256', '--access-token-format', 'opaque',
    );
    expect(created.code).toBe(0);
    expect(record(created.stdout)).toMatchObject({ id_token_signed_response_alg: 'RS256', access_token_format: 'opaque' });
    expect(record((await admin('client', 'update', 'cli-formats', '--access-token-format', 'jwt')).stdout).access_token_format).toBe('jwt');
    expect(await adminJson('client', 'update', 'cli-formats', '--access-token-format', '')).toMatchObject({ access_token_format: null });
    // This server holds RS256 keys only (JWT_ALGORITHM unset).
    expect(await admin('client', 'update', 'cli-formats', '--id-token-alg', 'ES256')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: the client registration is not valid (id_token_signed_response_alg: expected one of "RS256" (the algorithms this server holds signing keys for))\n',
    });
    expect((await admin('client', 'update', 'cli-formats', '--id-token-alg', 'none')).stderr).toBe(
      'error: the request body is not valid (id_token_signed_response_alg: expected one of "RS256"|"ES256"|"EdDSA")\n',
    );
    const help = (await runCli(['admin', 'client', 'update', '--help'])).stdout;
    expect(help).toMatch(/^ {2}--id-token-alg VALUE\s+RS256 \(default\)/m);
    expect(help).toMatch(/^ {2}--access-token-format VALUE\s+jwt or opaque/m);
    expect((await admin('client', 'delete', 'cli-formats')).code).toBe(0);
  });

  it('registers a private_key_jwt client with --jwks, switches it to --jwks-uri, and pins --auth-signing-alg', async () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'cli-k1' };
    const created = await adminJson(
      'client', 'create', '--id', 'cli-pkj', '--name', 'Key client', '--grant-type', 'client_credentials',
      '--auth-method', 'private_key_jwt', '--jwks', JSON.stringify({ keys: [jwk] }), '--auth-signing-alg', 'ES256',
    );
    expect(created).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] }, jwks_uri: null, token_endpoint_auth_signing_alg: 'ES256' });
    expect(created.client_secret).toBeUndefined();
    expect(await adminJson('client', 'update', 'cli-pkj', '--jwks', 'null', '--jwks-uri', 'https://cli.example.com/jwks.json')).toMatchObject({
      jwks: null,
      jwks_uri: 'https://cli.example.com/jwks.json',
    });
    expect(await admin('client', 'update', 'cli-pkj', '--jwks-uri', '')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: the client registration is not valid (jwks: private_key_jwt needs the client public keys: jwks or jwks_uri)\n',
    });
    expect((await admin('client', 'delete', 'cli-pkj')).code).toBe(0);
  });

  it('takes an argument that starts with a single - as it is (key ids may), and anything after --', async () => {
    expect((await admin('client', 'create', '--id', '-dash', '--name', 'Dash', '--redirect-uri', 'https://cli.example.com/cb')).code).toBe(0);
    expect(record((await admin('client', 'show', '-dash')).stdout)).toMatchObject({ client_id: '-dash' });
    expect(record((await admin('client', 'show', '--', '-dash')).stdout)).toMatchObject({ client_id: '-dash' });
    expect((await admin('client', 'show', '-dash', '-h')).stdout).toMatch(/^Usage: authly admin client show <client_id>/);
    expect(await admin('client', 'delete', '--', '-dash')).toEqual({ code: 0, stdout: 'Deleted client -dash.\n', stderr: '' });
  });

  it('manages users, with passwords from stdin', async () => {
    const created = await admin('user', 'create', '--username', 'cli-user', '--email', 'cli@example.com', '--name', 'Cli User', '--admin', 'true');
    expect(created.code).toBe(0);
    const id = record(created.stdout).id!;
    expect(record(created.stdout)).toMatchObject({ username: 'cli-user', is_admin: 'true', has_password: 'false' });

    // Piped input ends with a newline, which is not part of the password.
    const withPassword = await runCli(['admin', ...creds(), 'user', 'set-password', id, '--password-stdin'], { stdin: 'from stdin pw\n' });
    expect(withPassword).toEqual({ code: 0, stdout: `Password set for user ${id}.\n`, stderr: '' });
    expect(await verifyPassword((await findUserById(t.testDb.db, id))!.passwordHash, 'from stdin pw')).toBe(true);

    expect((await admin('user', 'set-password', id, '--password', 'from the flag')).code).toBe(0);
    expect(await admin('user', 'unlock', id)).toEqual({ code: 0, stdout: `Unlocked user ${id}.\n`, stderr: '' });
    expect(await admin('user', 'send-verification', id)).toEqual({ code: 0, stdout: `Confirmation link queued for user ${id}.\n`, stderr: '' });
    expect(await admin('user', 'invite', id)).toEqual({ code: 0, stdout: `Invitation queued for user ${id}.\n`, stderr: '' });
    expect(await verifyPassword((await findUserById(t.testDb.db, id))!.passwordHash, 'from the flag')).toBe(true);

    const updated = await admin('user', 'update', id, '--address', '{"country":"FR","locality":"Lyon"}', '--given-name', 'Cli');
    expect(record(updated.stdout)).toMatchObject({ given_name: 'Cli', 'address.country': 'FR', 'address.locality': 'Lyon' });

    const found = await admin('user', 'list', '--query', 'cli-us');
    expect(found.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^ID\s+USERNAME\s+EMAIL\s+NAME\s+IS_ADMIN\s+IS_ACTIVE$/),
      expect.stringMatching(new RegExp(`^${id}\\s+cli-user\\s+cli@example.com\\s+Cli User\\s+true\\s+true$`)),
    ]);
    expect((await admin('user', 'list', '--query', 'nobody')).stdout).toMatch(/\(none\)\n$/);

    expect((await admin('user', 'delete', id)).stdout).toBe(`Deleted user ${id}.\n`);
    expect(await admin('user', 'show', id)).toEqual({ code: 1, stdout: '', stderr: 'error: user not found\n' });
  });

  it('names a user by username or email address (show, update, delete, sessions)', async () => {
    const created = await adminJson('user', 'create', '--username', 'alice', '--email', 'alice@example.com');
    const id = created.id as string;
    expect(record((await admin('user', 'show', 'alice')).stdout)).toMatchObject({ id, username: 'alice' });
    expect(record((await admin('user', 'update', 'alice@example.com', '--name', 'X')).stdout)).toMatchObject({ id, name: 'X' });
    expect((await admin('user', 'sessions', 'ALICE@example.com')).stdout).toMatch(/^SID\s+AUTH_TIME\s+CREATED_AT\s+EXPIRES_AT\n\(none\)\n$/);
    expect((await admin('user', 'show', '--help')).stdout).toMatch(/^Usage: authly admin user show <user>\n[\s\S]*<user>\s+user id, username or email\n/);
    expect(await admin('user', 'delete', 'alice')).toEqual({ code: 0, stdout: 'Deleted user alice.\n', stderr: '' });
    expect(await admin('user', 'show', id)).toEqual({ code: 1, stdout: '', stderr: 'error: user not found\n' });
  });

  it('manages scopes and reports status', async () => {
    expect(record((await admin('scope', 'create', 'reports:read', '--description', 'Read reports', '--default', 'false')).stdout)).toMatchObject({
      name: 'reports:read',
      description: 'Read reports',
      is_default: 'false',
    });
    expect((await admin('scope', 'list', '--limit', '200')).stdout).toMatch(/^reports:read\s+false\s+Read reports$/m);
    expect(await admin('scope', 'delete', 'openid')).toEqual({ code: 1, stdout: '', stderr: 'error: openid is a built-in scope and cannot be deleted\n' });
    expect((await admin('scope', 'delete', 'reports:read')).stdout).toBe('Deleted scope reports:read.\n');

    const status = record((await admin('status')).stdout);
    expect(status).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), database: t.testDb.db.kind, 'counts.clients': '4', 'counts.users': '0' });
  });

  it('prints the OpenAPI document for code generators (`admin openapi`), which needs its admin token', async () => {
    const printed = await admin('openapi');
    expect(printed.code).toBe(0);
    const doc = JSON.parse(printed.stdout) as { openapi: string; paths: Record<string, object> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/admin/openapi.json');
    expect((await t.app.inject({ method: 'GET', url: '/admin/openapi.json' })).statusCode).toBe(401);
  });

  it('shows API errors as one line and exits non-zero', async () => {
    expect(await admin('client', 'create', '--name', 'Bad', '--redirect-uri', 'https://x.example.com/cb#frag')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: the client registration is not valid (redirect_uris.0: must not contain a fragment (RFC 6749 section 3.1.2))\n',
    });
    expect((await admin('user', 'create', '--username', 'x', '--password', 'short')).stderr).toBe(
      'error: the request body is not valid (password: expected at least 8 characters)\n',
    );
    expect(await runCli(['admin', '--url', url, '--client-id', ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, '--client-secret', 'wrong-secret-value', 'status'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: cannot get an admin access token: client authentication failed (invalid_client)\n',
    });
    const closed = await closedPort();
    expect(await runCli(['admin', ...creds().slice(2), '--url', `http://127.0.0.1:${closed}`, 'status'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: cannot reach http://127.0.0.1:${closed}: ECONNREFUSED\n`,
    });
  });

  it('refuses bad usage with exit code 2', async () => {
    const cases: [string[], string][] = [
      [['client', 'frobnicate'], "error: unknown command: client frobnicate (see authly admin --help)\n"],
      [['client', 'show'], 'error: usage: authly admin client show <client_id>\n'],
      [['client', 'list', '--redirect-uri', 'https://x'], "error: --redirect-uri does not apply to 'client list' (see authly admin client list --help)\n"],
      [['client', 'update', 'x', '--skip-consent', 'maybe'], 'error: --skip-consent expects true or false, got maybe\n'],
      [['user', 'update', 'x', '--address', '{nope'], 'error: --address expects JSON\n'],
      [['user', 'set-password', 'x'], 'error: a password is required: --password-stdin (or --password)\n'],
      [['user', 'create', '--username', 'x', '--password', 'a', '--password-stdin'], 'error: use --password or --password-stdin, not both\n'],
      [['status', '--bogus'], 'error: unknown option --bogus (see authly admin status --help)\n'],
    ];
    for (const [argv, stderr] of cases) expect(await admin(...argv), argv.join(' ')).toEqual({ code: 2, stdout: '', stderr });
    expect((await runCli(['admin'])).code).toBe(2);
    expect((await runCli(['admin', 'client'])).stderr).toContain('client rotate-secret');
  });

  it('finds credentials in the environment, then in the development credentials file', async () => {
    const viaEnv = await runCli(['admin', 'status'], {
      env: { AUTHLY_URL: url, AUTHLY_ADMIN_CLIENT_ID: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, AUTHLY_ADMIN_CLIENT_SECRET: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET },
    });
    expect(viaEnv.code).toBe(0);

    const dataDir = mkdtempSync(path.join(tmpdir(), 'authly-cli-data-'));
    try {
      writeFileSync(
        path.join(dataDir, 'admin-credentials.json'),
        JSON.stringify({ client_id: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, client_secret: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET }),
      );
      expect((await runCli(['admin', '--url', url, '--data-dir', dataDir, 'status'])).code).toBe(0);
      expect((await runCli(['admin', 'status'], { env: { AUTHLY_URL: url, AUTHLY_DATA_DIR: dataDir } })).code).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }

    const none = await runCli(['admin', '--url', url, '--data-dir', emptyDir, 'status']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      'error: no admin credentials: pass --client-id and --client-secret, set AUTHLY_ADMIN_CLIENT_ID and ' +
        `AUTHLY_ADMIN_CLIENT_SECRET, run 'authly admin login', or start the server in development to create ${path.join(emptyDir, 'admin-credentials.json')}\n`,
    );
  });

  it('prints help for each level', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^ {2}serve\s/m);
    expect(top.stdout).toMatch(/^ {2}migrate\s/m);
    expect(top.stdout).toMatch(/^ {2}admin\s/m);

    const adminHelp = await runCli(['admin', '--help']);
    expect(adminHelp.code).toBe(0);
    for (const name of ['status', 'client create', 'client rotate-secret', 'user set-password', 'scope delete']) {
      expect(adminHelp.stdout).toMatch(new RegExp(`^ {2}${name}\\s`, 'm'));
    }
    const resourceHelp = await runCli(['admin', 'user', '--help']);
    expect(resourceHelp.stdout).toContain('user set-password');
    expect(resourceHelp.stdout).not.toContain('client create');

    const commandHelp = await runCli(['admin', 'client', 'create', '--help']);
    expect(commandHelp.code).toBe(0);
    expect(commandHelp.stdout).toMatch(/^Usage: authly admin client create \[options\]$/m);
    expect(commandHelp.stdout).toMatch(/^ {2}--redirect-uri VALUE\.\.\.\s+redirect URI \(repeatable\)$/m);
    expect(commandHelp.stdout).toMatch(/^ {2}--url URL\s/m);

    expect(await runCli(['frobnicate'])).toMatchObject({ code: 2, stderr: 'authly: unknown command: frobnicate (see authly --help)\n' });
    expect((await runCli([])).code).toBe(2);
  });
});

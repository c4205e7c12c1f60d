import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findClient } from '../../src/repositories/clients-repository.js';
import { findResource } from '../../src/repositories/resources-repository.js';
import { adminCli, listenOnLoopback, runCli } from '../helpers/cli.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { ADMIN_ENV } from '../http/admin/admin-helpers.js';

/** `key: value` lines as an object. */
const record = (text: string) =>
  Object.fromEntries(text.trimEnd().split('\n').map((line) => /^(\S+):\s+(.*)$/.exec(line)!.slice(1, 3) as [string, string]));

describe('authly admin resource … and --allowed-resource against a listening server', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    url = await listenOnLoopback(t.app);
  });
  afterAll(() => t.close());

  const admin = adminCli(() => url);

  it('creates, lists, shows, updates and deletes a resource', async () => {
    expect((await admin('scope', 'create', 'reports:read')).code).toBe(0);
    expect((await admin('scope', 'create', 'reports:write')).code).toBe(0);
    const acting = record((await admin('client', 'create', '--id', 'reports-rs', '--name', 'Reports RS', '--grant-type', 'client_credentials')).stdout);
    expect(acting.client_id).toBe('reports-rs');

    const created = await admin(
      'resource', 'create', 'HTTPS://Reports.Example.com/api', '--name', 'Reports API', '--scope', 'reports:read  reports:write',
      '--acting-client', 'reports-rs', '--access-token-format', 'opaque', '--access-token-ttl', '300', '--signing-alg', 'RS256',
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(record(created.stdout)).toEqual({
      identifier: 'https://reports.example.com/api',
      name: 'Reports API',
      scopes: 'reports:read, reports:write',
      access_token_format: 'opaque',
      access_token_ttl_seconds: '300',
      signing_alg: 'RS256',
      client_ids: 'reports-rs',
      created_at: expect.stringMatching(/^\d{4}-/),
      updated_at: expect.stringMatching(/^\d{4}-/),
    });

    const listed = await admin('resource', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^IDENTIFIER\s+NAME\s+SCOPES\s+CLIENT_IDS$/),
      expect.stringMatching(/^https:\/\/reports\.example\.com\/api\s+Reports API\s+reports:read, reports:write\s+reports-rs$/),
    ]);

    // Any accepted spelling names it; the CLI percent-encodes the identifier into the path.
    const shown = await admin('--json', 'resource', 'show', 'https://REPORTS.example.com:443/api');
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ identifier: 'https://reports.example.com/api', name: 'Reports API' });

    const updated = await admin('resource', 'update', 'https://reports.example.com/api', '--name', 'Reports', '--scope', '', '--acting-client', '', '--access-token-ttl', '', '--signing-alg', '');
    expect(updated.code).toBe(0);
    expect(record(updated.stdout)).toMatchObject({ name: 'Reports', scopes: '-', client_ids: '-', access_token_ttl_seconds: '-', signing_alg: '-', access_token_format: 'opaque' });
    expect(await findResource(t.testDb.db, 'https://reports.example.com/api')).toMatchObject({ scopes: [], clientIds: [], accessTokenTtlSeconds: null, signingAlg: null });

    expect(await admin('resource', 'delete', 'https://reports.example.com/api')).toEqual({ code: 0, stdout: 'Deleted resource https://reports.example.com/api.\n', stderr: '' });
    expect(await admin('resource', 'show', 'https://reports.example.com/api')).toEqual({ code: 1, stdout: '', stderr: 'error: resource not found\n' });
  });

  it('sets and clears a client’s allowed resources', async () => {
    expect((await admin('resource', 'create', 'urn:example:ledger', '--name', 'Ledger')).code).toBe(0);
    expect((await admin('resource', 'create', 'https://mcp.example.com/', '--name', 'MCP')).code).toBe(0);
    const created = await admin(
      '--json', 'client', 'create', '--id', 'narrow', '--name', 'Narrow', '--redirect-uri', 'https://app.example.com/cb',
      '--allowed-resource', 'urn:example:ledger', '--allowed-resource', 'HTTPS://MCP.example.com',
    );
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ allowed_resources: ['urn:example:ledger', 'https://mcp.example.com'] });

    expect(record((await admin('client', 'update', 'narrow', '--allowed-resource', '')).stdout).allowed_resources).toBe('-');
    expect((await findClient(t.testDb.db, 'narrow'))!.allowedResources).toEqual([]);
    expect((await admin('client', 'update', 'narrow', '--all-resources')).code).toBe(0);
    expect((await findClient(t.testDb.db, 'narrow'))!.allowedResources).toBeNull();

    expect(await admin('client', 'update', 'narrow', '--allowed-resource', 'https://nowhere.example.com')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: the client registration is not valid (allowed_resources.0: is not a registered resource)\n',
    });
    const help = (await runCli(['admin', 'client', 'update', '--help'])).stdout;
    expect(help).toMatch(/^ {2}--allowed-resource VALUE\.\.\.\s+resource identifier the client may ask for/m);
    expect(help).toMatch(/^ {2}--all-resources\s+the client may ask for every registered resource/m);
  });

  it('shows API errors as one line, and refuses bad usage with exit code 2', async () => {
    expect(await admin('resource', 'create', 'https://x.example.com/#frag', '--name', 'X')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: the request body is not valid (identifier: must not contain a fragment (RFC 8707 section 2))\n',
    });
    expect(await admin('resource', 'create', 'https://x.example.com', '--name', 'X', '--scope', 'openid')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: the resource is not valid (scopes.0: is an OpenID Connect user scope: it belongs to userinfo, not to a resource)\n',
    });
    const cases: [string[], string][] = [
      [['resource', 'create', 'https://x.example.com', '--access-token-ttl', '5m'], 'error: --access-token-ttl expects a whole number, got 5m\n'],
      [['resource', 'show'], 'error: usage: authly admin resource show <identifier>\n'],
      [['resource', 'list', '--scope', 'x'], "error: --scope does not apply to 'resource list' (see authly admin resource list --help)\n"],
      [['client', 'update', 'narrow', '--allowed-resource', 'urn:example:ledger', '--all-resources'], 'error: use --allowed-resource or --all-resources, not both\n'],
    ];
    for (const [argv, stderr] of cases) expect(await admin(...argv), argv.join(' ')).toEqual({ code: 2, stdout: '', stderr });
  });

  it('prints help for the resource commands', async () => {
    const overview = await runCli(['admin', 'resource', '--help']);
    expect(overview.code).toBe(0);
    for (const name of ['resource list', 'resource show', 'resource create', 'resource update', 'resource delete']) {
      expect(overview.stdout).toMatch(new RegExp(`^ {2}${name}\\s`, 'm'));
    }
    expect(overview.stdout).not.toContain('client create');
    const create = await runCli(['admin', 'resource', 'create', '--help']);
    expect(create.stdout).toMatch(/^Usage: authly admin resource create <identifier> \[options\]$/m);
    expect(create.stdout).toMatch(/^ {2}--scope VALUE\s+space-separated scopes the resource accepts/m);
    expect(create.stdout).toMatch(/^ {2}--acting-client VALUE\.\.\.\s+client_id of a confidential client/m);
    expect(create.stdout).toMatch(/^ {2}--access-token-ttl N\s+access token lifetime in seconds/m);
  });
});

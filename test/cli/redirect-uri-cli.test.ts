import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCli, listenOnLoopback, runCli } from '../helpers/cli.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { ADMIN_ENV } from '../http/admin/admin-helpers.js';

const FIRST = 'https://app.example.com/cb';
const SECOND = 'https://app.example.com/other?x=1&y=2';

/** Issue 14 §4: `authly admin client redirect-uri add|remove`, against a listening server. */
describe('authly admin client redirect-uri add|remove', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    url = await listenOnLoopback(t.app);
  });
  afterAll(() => t.close());

  const admin = adminCli(() => url);
  const redirectUris = async (clientId: string) =>
    (JSON.parse((await admin('--json', 'client', 'show', clientId)).stdout) as { redirect_uris: string[] }).redirect_uris;

  it('adds and removes one redirect URI, keeping the others', async () => {
    const created = await admin('--json', 'client', 'create', '--name', 'CLI redirects', '--redirect-uri', FIRST);
    const { client_id: clientId } = JSON.parse(created.stdout) as { client_id: string };

    expect(await admin('client', 'redirect-uri', 'add', clientId, SECOND)).toEqual({
      code: 0,
      stdout: `Added ${SECOND} to client ${clientId}.\nRedirect URIs:\n  ${FIRST}\n  ${SECOND}\n`,
      stderr: '',
    });
    // Idempotent: the same line, the same list.
    expect((await admin('client', 'redirect-uri', 'add', clientId, SECOND)).code).toBe(0);
    expect(await redirectUris(clientId)).toEqual([FIRST, SECOND]);

    expect(await admin('client', 'redirect-uri', 'remove', clientId, FIRST)).toEqual({
      code: 0,
      stdout: `Removed ${FIRST} from client ${clientId}.\nRedirect URIs:\n  ${SECOND}\n`,
      stderr: '',
    });
    expect(await admin('client', 'redirect-uri', 'remove', clientId, FIRST)).toEqual({ code: 1, stdout: '', stderr: 'error: redirect URI not found\n' });
    const last = await admin('client', 'redirect-uri', 'remove', clientId, SECOND);
    expect(last.code).toBe(1);
    expect(last.stderr).toContain('redirect_uris: at least one redirect URI is required for authorization_code');
    expect(await redirectUris(clientId)).toEqual([SECOND]);

    const json = await admin('--json', 'client', 'redirect-uri', 'add', clientId, FIRST);
    expect(JSON.parse(json.stdout)).toMatchObject({ client_id: clientId, redirect_uris: [SECOND, FIRST] });
  });

  it('reports a bad URI and an unknown client as errors, and a missing argument as usage', async () => {
    const bad = await admin('client', 'redirect-uri', 'add', 'no-such-client', 'https://app.example.com/#x');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('redirect_uri: must not contain a fragment (RFC 6749 section 3.1.2)');
    expect(await admin('client', 'redirect-uri', 'add', 'no-such-client', FIRST)).toEqual({ code: 1, stdout: '', stderr: 'error: client not found\n' });
    expect(await admin('client', 'redirect-uri', 'remove', 'no-such-client')).toMatchObject({ code: 2, stdout: '' });
  });

  it('documents them, and says that client update --redirect-uri replaces the whole list', async () => {
    const group = await runCli(['admin', 'client', 'redirect-uri', '--help']);
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/^ {2}client redirect-uri add +add one redirect URI/m);
    expect(group.stdout).toMatch(/^ {2}client redirect-uri remove +remove one redirect URI/m);
    expect((await runCli(['admin', 'client', 'redirect-uri', 'add', '--help'])).stdout).toMatch(
      /^Usage: authly admin client redirect-uri add <client_id> <redirect_uri>\n/,
    );
    const update = (await runCli(['admin', 'client', 'update', '--help'])).stdout;
    expect(update).toContain("--redirect-uri replaces the whole list, use 'client redirect-uri add'");
    expect(update).toMatch(/^ {2}--redirect-uri VALUE\.\.\. +redirect URI \(repeatable\); replaces the whole list: use 'client redirect-uri add\|remove' to change one$/m);
  });
});

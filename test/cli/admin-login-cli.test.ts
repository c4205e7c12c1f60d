import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/authly-cli.js';
import type { User } from '../../src/repositories/users-repository.js';
import { InjectBrowser } from '../helpers/browser.js';
import { approveDevice, enterUserCode } from '../helpers/device-flow.js';
import { createUser } from '../helpers/fixtures.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

interface Running {
  done: Promise<number>;
  stdout: () => string;
  stderr: () => string;
}

/** `authly admin login` against a real listening server; the person approves on /device in a browser (app.inject). */
describe('authly admin login (device grant)', () => {
  let t: TestApp;
  let url: string;
  let configHome: string;
  let admin: User;
  let plainUser: User;

  beforeAll(async () => {
    t = await createTestApp({ DEVICE_CODE_INTERVAL_SECONDS: '1' });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    configHome = mkdtempSync(path.join(tmpdir(), 'authly-login-'));
    admin = await createUser(t.app, { isAdmin: true });
    plainUser = await createUser(t.app);
  });
  afterAll(async () => {
    await t.close();
    rmSync(configHome, { recursive: true, force: true });
  });

  const env = () => ({ XDG_CONFIG_HOME: configHome });
  const loginFile = () => path.join(configHome, 'authly', 'admin-login.json');

  function start(argv: string[], extraEnv: Record<string, string> = {}): Running {
    let stdout = '';
    let stderr = '';
    const done = run(argv, {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      stdin: Readable.from(['']),
      env: { ...env(), ...extraEnv },
    });
    return { done, stdout: () => stdout, stderr: () => stderr };
  }

  /** Waits until the CLI has printed the code to enter, and returns it. */
  async function userCodeOf(cli: Running): Promise<string> {
    for (;;) {
      const match = /enter the code ([A-Z]{4}-[A-Z]{4})/.exec(cli.stderr());
      if (match) return match[1]!;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('prints the URI and code, polls until an administrator approves, stores the token (0600), and admin commands use it', async () => {
    const cli = start(['admin', 'login', '--url', url]);
    const code = await userCodeOf(cli);
    expect(cli.stderr()).toContain(`To sign in, open ${url.replace('127.0.0.1', 'localhost').replace(/:\d+$/, ':8000')}/device in a browser and enter the code ${code}`);
    const page = await approveDevice(new InjectBrowser(t.app), code, admin.username);
    expect(page.statusCode).toBe(200);
    expect(await cli.done).toBe(0);
    expect(cli.stdout()).toBe('');
    expect(cli.stderr()).toContain(`Signed in to ${url} as ${admin.id}`);

    expect(statSync(loginFile()).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(loginFile())).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(loginFile(), 'utf8'))[url];
    expect(stored).toMatchObject({ scope: 'openid offline_access authly:admin', user: admin.id, refresh_token: expect.any(String) });

    const listed = start(['admin', '--url', url, '--json', 'client', 'list']);
    expect(await listed.done).toBe(0);
    expect(JSON.parse(listed.stdout()).items.map((c: { client_id: string }) => c.client_id)).toContain('authly-cli');
  });

  it('an expired stored access token is renewed with the refresh token (rotated, stored again)', async () => {
    const before = JSON.parse(readFileSync(loginFile(), 'utf8'));
    before[url].expires_at = 0;
    writeFileSync(loginFile(), JSON.stringify(before));
    const status = start(['admin', '--url', url, 'status']);
    expect(await status.done).toBe(0);
    const after = JSON.parse(readFileSync(loginFile(), 'utf8'))[url];
    expect(after.expires_at).toBeGreaterThan(Date.now() / 1000);
    expect(after.refresh_token).not.toBe(before[url].refresh_token);
    expect(after.access_token).not.toBe(before[url].access_token);
  });

  it('logout revokes the refresh token and forgets the login', async () => {
    const stored = JSON.parse(readFileSync(loginFile(), 'utf8'))[url];
    const out = start(['admin', 'logout', '--url', url]);
    expect(await out.done).toBe(0);
    expect(out.stderr()).toBe(`Logged out of ${url}.\n`);
    expect(existsSync(loginFile())).toBe(false);
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: stored.refresh_token, client_id: 'authly-cli' }).toString(),
    });
    expect(refresh.statusCode).toBe(400);
    expect(refresh.json().error).toBe('invalid_grant');
    const after = start(['admin', '--url', url, 'status']);
    expect(await after.done).toBe(1);
    expect(after.stderr()).toContain("run 'authly admin login'");
  });

  it('--print writes only the token to stdout and stores nothing; AUTHLY_ADMIN_TOKEN uses it', async () => {
    const cli = start(['admin', 'login', '--url', url, '--print']);
    await approveDevice(new InjectBrowser(t.app), await userCodeOf(cli), admin.username);
    expect(await cli.done).toBe(0);
    const token = cli.stdout().trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(existsSync(loginFile())).toBe(false);
    const status = start(['admin', '--url', url, 'status'], { AUTHLY_ADMIN_TOKEN: token, XDG_CONFIG_HOME: path.join(configHome, 'none') });
    expect(await status.done).toBe(0);
  });

  it('a user who is not an administrator gets no admin token, and nothing is stored', async () => {
    const cli = start(['admin', 'login', '--url', url]);
    await approveDevice(new InjectBrowser(t.app), await userCodeOf(cli), plainUser.username);
    expect(await cli.done).toBe(1);
    expect(cli.stderr()).toContain(`error: ${plainUser.id} is not an administrator: the token holds no admin scope\n`);
    expect(existsSync(loginFile())).toBe(false);
  });

  it('denied in the browser → exit 1 with the reason', async () => {
    const cli = start(['admin', 'login', '--url', url]);
    const page = await enterUserCode(new InjectBrowser(t.app), await userCodeOf(cli), 'deny');
    expect(page.statusCode).toBe(200);
    expect(await cli.done).toBe(1);
    expect(cli.stderr()).toContain('error: the login was denied in the browser\n');
  });

  it('login --help, and --print refused elsewhere', async () => {
    const help = start(['admin', 'login', '--help']);
    expect(await help.done).toBe(0);
    expect(help.stdout()).toContain('Usage: authly admin login [--url URL] [--print]');
    const stray = start(['admin', '--url', url, 'status', '--print']);
    expect(await stray.done).toBe(2);
    expect(stray.stderr()).toBe("error: --print does not apply to 'status' (see authly admin status --help)\n");
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/admin-commands.js';
import { adminCli, listenOnLoopback, runCli } from '../helpers/cli.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { ADMIN_ENV } from '../http/admin/admin-helpers.js';

/** Issue 14 §4: --help at every level, "did you mean", --json errors with the text mode's exit codes. */

describe('--help at every level', () => {
  const levels: [string[], string][] = [
    [['--help'], 'Usage: authly <command> [options]'],
    [['-h'], 'Usage: authly <command> [options]'],
    [['serve', '--help'], 'Usage: authly serve [options]'],
    [['migrate', '--help'], 'Usage: authly migrate [options]'],
    [['migrate', '-h'], 'Usage: authly migrate [options]'],
    [['maintenance', '--help'], 'Usage: authly maintenance [options]'],
    [['config', '--help'], 'Usage: authly config check [--env-file FILE] [--strict] [--json]'],
    [['config', 'check', '--help'], 'Usage: authly config check [--env-file FILE] [--strict] [--json]'],
    [['admin', '--help'], 'Usage: authly admin <command> ...'],
    [['admin', 'login', '--help'], 'Usage: authly admin login [--url URL] [--print]'],
    [['admin', 'logout', '--help'], 'Usage: authly admin logout [--url URL]'],
    [['admin', 'client', '--help'], 'Usage: authly admin client ...'],
  ];

  it.each(levels)('authly %j prints its usage on stdout and exits 0', async (argv, usage) => {
    const result = await runCli(argv);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.split('\n')[0]).toBe(usage);
  });

  it('every admin command has its own --help, naming each of its options', async () => {
    for (const command of COMMANDS) {
      const result = await runCli(['admin', ...command.name.split(' '), '--help']);
      expect(result, command.name).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout, command.name).toMatch(new RegExp(`^Usage: authly admin ${command.name}\\b`));
      for (const option of [...(command.body ?? []), ...(command.query ?? [])]) expect(result.stdout, command.name).toContain(`--${option.flag}`);
    }
  });

  it('the top-level help names every command and the exit codes', async () => {
    const { stdout } = await runCli(['--help']);
    for (const name of ['serve', 'migrate', 'maintenance', 'config check', 'admin']) expect(stdout).toMatch(new RegExp(`^ {2}${name}\\s`, 'm'));
    expect(stdout).toContain('Exit codes: 0 done, 1 failed, 2 usage or configuration error.');
  });

  it('a command without its subcommand prints its help on stderr and exits 2', async () => {
    expect(await runCli([])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^Usage: authly <command>/) });
    expect(await runCli(['config'])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^Usage: authly config check/) });
    expect(await runCli(['admin'])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^Usage: authly admin <command>/) });
  });
});

describe('did you mean', () => {
  const cases: [string[], string][] = [
    [['sevre'], 'authly: unknown command: sevre; did you mean serve? (see authly --help)\n'],
    [['mgirate'], 'authly: unknown command: mgirate; did you mean migrate? (see authly --help)\n'],
    [['maintenace'], 'authly: unknown command: maintenace; did you mean maintenance? (see authly --help)\n'],
    [['admn', 'status'], 'authly: unknown command: admn; did you mean admin? (see authly --help)\n'],
    [['deploy'], 'authly: unknown command: deploy (see authly --help)\n'],
    [['--verison'], 'authly: unknown option: --verison; did you mean --version? (see authly --help)\n'],
    [['serve', '--hlep'], 'authly: unknown option --hlep; did you mean --help? (see authly serve --help)\n'],
    [['migrate', '--jsn'], 'authly: unknown option --jsn; did you mean --json? (see authly migrate --help)\n'],
    [['config', 'chek'], 'authly: unknown command: config chek; did you mean config check? (see authly config --help)\n'],
    [['config', 'check', '--strcit'], 'authly: unknown option --strcit; did you mean --strict? (see authly config --help)\n'],
    [['config', 'check', '--env-fil', 'x'], 'authly: unknown option --env-fil; did you mean --env-file? (see authly config --help)\n'],
    [['admin', 'cliet', 'list'], 'error: unknown command: cliet list; did you mean client list? (see authly admin --help)\n'],
    [['admin', 'client', 'lsit'], 'error: unknown command: client lsit; did you mean client list? (see authly admin --help)\n'],
    [['admin', 'usr'], 'error: unknown command: usr; did you mean user? (see authly admin --help)\n'],
    [['admin', 'logn'], 'error: unknown command: logn; did you mean login? (see authly admin --help)\n'],
    [['admin', 'frobnicate'], 'error: unknown command: frobnicate (see authly admin --help)\n'],
    [
      ['admin', 'client', 'create', '--redirect-ur', 'https://app.example.com/cb'],
      'error: unknown option --redirect-ur; did you mean --redirect-uri? (see authly admin client create --help)\n',
    ],
    [['admin', 'user', 'list', '--limt', '5'], 'error: unknown option --limt; did you mean --limit? (see authly admin user list --help)\n'],
    [['admin', 'login', '--prnt'], 'error: unknown option --prnt; did you mean --print? (see authly admin login --help)\n'],
    // Known to another command, close to one of this command's: the same hint.
    [['admin', 'client', 'list', '--limits', '5'], 'error: unknown option --limits; did you mean --limit? (see authly admin client list --help)\n'],
    [['admin', 'client', 'list', '--redirect-uri', 'x'], "error: --redirect-uri does not apply to 'client list' (see authly admin client list --help)\n"],
    [['admin', 'status', '--bogus'], 'error: unknown option --bogus (see authly admin status --help)\n'],
  ];

  it.each(cases)('authly %j exits 2 and names the closest', async (argv, stderr) => {
    expect(await runCli(argv)).toEqual({ code: 2, stdout: '', stderr });
  });
});

/** A port nothing listens on: bound once by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('--json errors: one JSON object on stderr, the same exit code as the text', () => {
  const emptyDir = mkdtempSync(path.join(tmpdir(), 'authly-cli-json-'));
  afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

  /** Runs argv as text and with --json: both fail with `code`; the JSON is the error, the text its message. */
  async function both(argv: string[], code: number, env: Record<string, string> = {}) {
    const text = await runCli(argv, { env });
    const json = await runCli([...argv.slice(0, 1), '--json', ...argv.slice(1)], { env });
    expect(text, argv.join(' ')).toMatchObject({ code, stdout: '' });
    expect(json, argv.join(' ')).toMatchObject({ code, stdout: '' });
    expect(json.stderr.endsWith('}\n') && json.stderr.split('\n').length === 2, json.stderr).toBe(true);
    const body = JSON.parse(json.stderr) as { error: string; message: string; fields?: Record<string, string> };
    expect(text.stderr).toContain(body.message);
    return body;
  }

  it('usage errors are {"error":"usage"} with exit code 2', async () => {
    expect(await both(['sevre'], 2)).toEqual({ error: 'usage', message: 'unknown command: sevre; did you mean serve? (see authly --help)' });
    expect(await both(['migrate', '--bogus'], 2)).toEqual({ error: 'usage', message: 'unknown option --bogus (see authly migrate --help)' });
    expect(await both(['admin', 'client', 'show'], 2)).toEqual({ error: 'usage', message: 'usage: authly admin client show <client_id>' });
    expect(await both(['admin', 'client', 'create', '--redirect-ur', 'x'], 2)).toEqual({
      error: 'usage',
      message: 'unknown option --redirect-ur; did you mean --redirect-uri? (see authly admin client create --help)',
    });
    expect(await both(['admin', 'client', 'update', 'x', '--skip-consent', 'maybe'], 2)).toEqual({ error: 'usage', message: '--skip-consent expects true or false, got maybe' });
  });

  it('a configuration error is {"error":"configuration"} with exit code 2', async () => {
    expect(await both(['migrate'], 2, { AUTHLY_DATA_DIR: emptyDir, DATABASE_URL: 'mysql://nope' })).toEqual({
      error: 'configuration',
      message: 'DATABASE_URL: expected a postgres:// URL',
    });
  });

  it('a server that cannot be reached is {"error":"unreachable"}, missing credentials {"error":"no_credentials"}, exit code 1', async () => {
    const closed = await closedPort();
    expect(await both(['admin', 'status', '--url', `http://127.0.0.1:${closed}`, '--client-id', 'a', '--client-secret', 'b'], 1)).toEqual({
      error: 'unreachable',
      message: `cannot reach http://127.0.0.1:${closed}: ECONNREFUSED`,
    });
    const none = await both(['admin', 'status', '--url', `http://127.0.0.1:${closed}`, '--data-dir', emptyDir], 1);
    expect(none).toMatchObject({ error: 'no_credentials', message: expect.stringMatching(/^no admin credentials: /) });
  });

  it('--json after -- is an argument, not the option', async () => {
    expect(await runCli(['admin', 'client', 'show', '--', '--json'], { env: { AUTHLY_URL: 'http://127.0.0.1:9', AUTHLY_DATA_DIR: emptyDir } })).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^error: no admin credentials/),
    });
  });

  describe('against a listening server', () => {
    let t: TestApp;
    let url: string;
    beforeAll(async () => {
      t = await createTestApp(ADMIN_ENV);
      url = await listenOnLoopback(t.app);
    });
    afterAll(async () => {
      await t.close();
    });
    const admin = adminCli(() => url);

    it("an API error carries the API's error code and fields, exit code 1", async () => {
      const bad = ['client', 'create', '--name', 'Bad', '--redirect-uri', 'https://x.example.com/cb#frag'];
      const text = await admin(...bad);
      const json = await admin('--json', ...bad);
      expect(text).toEqual({
        code: 1,
        stdout: '',
        stderr: 'error: the client registration is not valid (redirect_uris.0: must not contain a fragment (RFC 6749 section 3.1.2))\n',
      });
      expect(json.code).toBe(1);
      expect(json.stdout).toBe('');
      expect(JSON.parse(json.stderr)).toEqual({
        error: 'validation_failed',
        message: 'the client registration is not valid',
        fields: { 'redirect_uris.0': 'must not contain a fragment (RFC 6749 section 3.1.2)' },
      });

      const missing = await admin('--json', 'client', 'show', 'no-such-client');
      expect(missing).toMatchObject({ code: 1, stdout: '' });
      expect(JSON.parse(missing.stderr)).toEqual({ error: 'not_found', message: 'client not found' });
    });

    it("a refused admin token carries the token endpoint's OAuth error code", async () => {
      const result = await runCli(['admin', '--json', '--url', url, '--client-id', ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, '--client-secret', 'wrong-secret-value', 'status']);
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(JSON.parse(result.stderr)).toEqual({
        error: 'invalid_client',
        message: 'cannot get an admin access token: client authentication failed (invalid_client)',
      });
    });
  });
});

/**
 * `authly admin --help` must not load the server (Fastify, the database drivers, the services): the admin
 * CLI's static imports, followed from the entry point, stay inside src/cli, src/config, src/lib and the one
 * module of names it shares with the services. Server modules are loaded only by `import()` in the commands
 * that run them.
 */
describe('the CLI entry point loads no server module up front', () => {
  const SRC = path.resolve(import.meta.dirname, '../../src');
  function staticImports(file: string, seen = new Set<string>()): Set<string> {
    if (seen.has(file)) return seen;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, specifier] of text.matchAll(/^import (?!type )[^'"]*?from '([^']+)';$/gm)) {
      if (specifier!.startsWith('.')) staticImports(path.resolve(path.dirname(file), specifier!.replace(/\.js$/, '.ts')), seen);
      else seen.add(specifier!);
    }
    return seen;
  }

  it('imports only node: built-ins and light modules', () => {
    const modules = [...staticImports(path.join(SRC, 'cli/authly.ts'))].map((m) => (m.startsWith(SRC) ? path.relative(SRC, m) : m));
    expect(modules.filter((m) => !m.startsWith('node:') && !/^(cli|config|lib)\//.test(m))).toEqual(['services/admin/cli-client-names.ts', 'errors/startup-errors.ts']);
    expect(modules).not.toContain('config/config.ts');
    expect(modules).toContain('cli/admin-cli.ts');
  });
});

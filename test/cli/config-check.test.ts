import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/**
 * `authly config check` (issue 14 §4): the environment with an env file under it, checked without starting.
 * Every run names its file with --env-file, so a developer's ./.env never changes the outcome.
 */
describe('authly config check', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'authly-config-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const envFile = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const check = (file: string, env: Record<string, string> = {}, ...flags: string[]) => runCli(['config', 'check', '--env-file', file, ...flags], { env });

  it('a valid configuration: exit 0', async () => {
    const file = envFile('valid.env', 'PORT=8080\nACCESS_TOKEN_EXPIRE_MINUTES=30\n');
    expect(await check(file)).toEqual({ code: 0, stdout: 'The configuration is valid.\n', stderr: '' });
  });

  it('names every invalid value and each unknown variable that looks like Authly\'s: exit 1', async () => {
    const file = envFile('bad.env', '# a comment\nACCES_TOKEN_EXPIRE_MINUTES=30\nPORT=80a\nexport LOG_LEVEL=loud\n');
    expect(await check(file, { SMTP_HOSTNAME: 'mail' })).toEqual({
      code: 1,
      stdout: [
        'error: PORT: expected a whole number (got "80a")',
        'error: LOG_LEVEL: Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent" (got "loud")',
        `warning: ACCES_TOKEN_EXPIRE_MINUTES (set in ${file}) is not a variable Authly reads; did you mean ACCESS_TOKEN_EXPIRE_MINUTES?`,
        'warning: SMTP_HOSTNAME is not a variable Authly reads (Authly reads other SMTP_* variables)',
        'The configuration is not valid: 2 errors, 2 warnings.',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('the environment wins over the file, as for the server (process.loadEnvFile)', async () => {
    const file = envFile('overridden.env', 'PORT=not-a-port\n');
    expect(await check(file, { PORT: '9000' })).toMatchObject({ code: 0 });
    expect(await check(envFile('good-port.env', 'PORT=9000\n'), { PORT: 'x' })).toMatchObject({ code: 1, stdout: expect.stringContaining('error: PORT: ') });
  });

  it('warnings alone pass; --strict makes them fail', async () => {
    const file = envFile('typo.env', 'ACCES_TOKEN_EXPIRE_MINUTES=30\n');
    // The warning names the file the variable came from, as given.
    const warning = `warning: ACCES_TOKEN_EXPIRE_MINUTES (set in ${file}) is not a variable Authly reads; did you mean ACCESS_TOKEN_EXPIRE_MINUTES?\n`;
    expect(await check(file)).toEqual({ code: 0, stdout: `${warning}The configuration is valid (1 warning).\n`, stderr: '' });
    expect(await check(file, {}, '--strict')).toEqual({
      code: 1,
      stdout: `${warning}The configuration is not valid: 0 errors, 1 warning (--strict).\n`,
      stderr: '',
    });
  });

  it('--json prints {ok, errors, warnings}', async () => {
    const file = envFile('json.env', 'PORT=80a\nACCES_TOKEN_EXPIRE_MINUTES=30\n');
    const result = await check(file, {}, '--json');
    expect(result).toMatchObject({ code: 1, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      errors: [{ variable: 'PORT', message: 'expected a whole number (got "80a")' }],
      warnings: [
        {
          variable: 'ACCES_TOKEN_EXPIRE_MINUTES',
          message: `ACCES_TOKEN_EXPIRE_MINUTES (set in ${file}) is not a variable Authly reads; did you mean ACCESS_TOKEN_EXPIRE_MINUTES?`,
        },
      ],
    });
    const strict = await check(envFile('json-typo.env', 'ACCES_TOKEN_EXPIRE_MINUTES=30\n'), {}, '--json', '--strict');
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout)).toMatchObject({ ok: false, errors: [] });
    const valid = await check(envFile('json-valid.env', ''), {}, '--json');
    expect(valid.code).toBe(0);
    expect(JSON.parse(valid.stdout)).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('checks production rules without starting anything', async () => {
    const file = envFile('prod.env', 'ENVIRONMENT=production\nDATABASE_URL=postgres://authly@db/authly\n');
    expect(await check(file)).toEqual({
      code: 1,
      stdout: 'error: JWT_SECRET_KEY: required in production\nThe configuration is not valid: 1 error, 0 warnings.\n',
      stderr: '',
    });
  });

  it('a missing --env-file is a usage error: exit 2, as text or JSON', async () => {
    const missing = path.join(dir, 'missing.env');
    expect(await check(missing)).toEqual({ code: 2, stdout: '', stderr: `authly: --env-file: ${missing} does not exist\n` });
    const json = await check(missing, {}, '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toEqual({ error: 'usage', message: `--env-file: ${missing} does not exist` });
  });
});

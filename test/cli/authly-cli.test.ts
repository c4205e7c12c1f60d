import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { runCli } from '../helpers/cli.js';

describe('authly migrate', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'authly-migrate-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // Always the embedded database in a scratch directory: the command's logic does not depend on the driver.
  it('applies pending migrations, printing their names, then has nothing to do', async () => {
    const names = readdirSync(MIGRATIONS_DIR)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => f.replace(/\.sql$/, ''));
    expect(names.length).toBeGreaterThan(0);
    expect(await runCli(['migrate'], { env: { AUTHLY_DATA_DIR: dataDir } })).toEqual({
      code: 0,
      stdout: names.map((n) => `Applied ${n}\n`).join(''),
      stderr: '',
    });
    expect(await runCli(['migrate'], { env: { AUTHLY_DATA_DIR: dataDir } })).toEqual({ code: 0, stdout: 'No pending migrations.\n', stderr: '' });
    // Two on-disk PGlite start-ups: slow on a busy machine.
  }, 120_000);

  it('reports a configuration error in one line with exit code 2', async () => {
    expect(await runCli(['migrate'], { env: { AUTHLY_DATA_DIR: dataDir, DATABASE_URL: 'mysql://nope' } })).toEqual({
      code: 2,
      stdout: '',
      stderr: 'authly: configuration error: DATABASE_URL: expected a postgres:// URL\n',
    });
  });

  it('refuses extra arguments', async () => {
    expect(await runCli(['migrate', 'now'], { env: {} })).toEqual({ code: 2, stdout: '', stderr: 'authly: unknown command: migrate now (see authly --help)\n' });
  });
});

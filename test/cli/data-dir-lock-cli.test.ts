import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** `authly migrate` and `authly maintenance` open the embedded database too, so they honour its lock (runCli passes no ambient DATABASE_URL: PGlite on both drivers). */
describe('authly migrate|maintenance on a data directory in use', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'authly-cli-lock-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses in one line with exit code 1 while a live process holds the lock, then runs once it is free', async () => {
    // The parent of this test process: alive, and not this process.
    writeFileSync(path.join(dataDir, 'pglite.lock'), `${process.ppid}\n`);
    const line = `authly: data directory in use by pid ${process.ppid}: ${dataDir} (stop that process, or set AUTHLY_DATA_DIR to another directory)\n`;
    for (const command of ['migrate', 'maintenance']) {
      expect(await runCli([command], { env: { AUTHLY_DATA_DIR: dataDir } }), command).toEqual({ code: 1, stdout: '', stderr: line });
    }
    expect(readFileSync(path.join(dataDir, 'pglite.lock'), 'utf8')).toBe(`${process.ppid}\n`);

    rmSync(path.join(dataDir, 'pglite.lock'));
    const migrated = await runCli(['migrate'], { env: { AUTHLY_DATA_DIR: dataDir } });
    expect(migrated.code).toBe(0);
    expect(migrated.stderr).toBe('');
  });
});

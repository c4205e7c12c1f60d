import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { buildServer, createScratchDatabase } from '../helpers/server-process.js';

/**
 * `authly migrate` as the Kubernetes migration job runs it: the compiled CLI in a process of its own,
 * against the configured database (PostgreSQL with TEST_DATABASE_URL, else the embedded one). It applies
 * the migrations, exits 0 by itself — it never starts the server, so a listening port would keep it
 * alive — and a second run has nothing to do.
 */
describe('authly migrate (a real process)', () => {
  let build: ReturnType<typeof buildServer>;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    build = buildServer();
    database = await createScratchDatabase();
    env = {
      PATH: process.env.PATH ?? '',
      AUTHLY_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'authly-migrate-proc-')),
      // A port that would clash if the server were started: the job must not even try.
      PORT: '1',
      LOG_LEVEL: 'info',
      ...(database ? { DATABASE_URL: database.url } : {}),
    };
  }, 120_000);
  afterAll(async () => {
    await database?.drop();
    build.cleanup();
  });

  const migrate = () =>
    spawnSync(process.execPath, [path.join(build.dir, 'dist/cli/authly.js'), 'migrate'], { cwd: build.dir, env, encoding: 'utf8', timeout: 90_000 });

  it('applies every migration, exits 0, then reports nothing pending', () => {
    const names = readdirSync(MIGRATIONS_DIR)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => f.replace(/\.sql$/, ''));
    const first = migrate();
    expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: '' });
    expect(first.stdout).toBe(names.map((n) => `Applied ${n}\n`).join(''));
    expect(first.stdout).not.toContain('Authly is running');

    const second = migrate();
    expect({ status: second.status, stdout: second.stdout, stderr: second.stderr }).toEqual({ status: 0, stdout: 'No pending migrations.\n', stderr: '' });
  }, 180_000);
});

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import type { Db } from '../../src/db/db.js';
import { openPostgres } from '../../src/db/postgres-driver.js';
import { InjectBrowser } from '../helpers/browser.js';
import { freePort } from '../helpers/e2e-server.js';
import { createClient, createUser, type TestClient } from '../helpers/fixtures.js';
import { obtainTokens, tokenRequest, userinfo, type Tokens } from '../helpers/oauth-flow.js';
import { introspect } from '../helpers/token-management.js';
import { hasTool } from '../helpers/tools.js';

/**
 * Backup and disaster recovery for real: a database of its own on the local PostgreSQL, migrated by
 * scripts/migrate_database.sh, tokens issued by a running Authly, backup_database.sh, the schema wiped,
 * disaster_recovery.sh, and a new server on the restored database that still accepts the tokens issued
 * before the backup (and only those). Runs when TEST_DATABASE_URL names a PostgreSQL server (CI's
 * PostgreSQL pass); the PGlite pass has no server to dump.
 */
const ADMIN_URL = process.env.TEST_DATABASE_URL || undefined;
const ROOT = path.resolve(import.meta.dirname, '../..');
// Authly's CLI straight from the TypeScript sources (jiti comes with node-pg-migrate), so the scripts
// run the code under test without a build.
const AUTHLY_CLI = `${path.join(ROOT, 'node_modules/.bin/jiti')} ${path.join(ROOT, 'src/cli/authly.ts')}`;
const JWT_SECRET_KEY = 'backup-restore-test-secret-key-at-least-32-characters';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, 'scripts', script), args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

interface Running {
  app: FastifyInstance;
  issuer: string;
  db: Db;
  close(): Promise<void>;
}

/** A real Authly on `url` (same secret key every time, as a restored deployment must have). */
async function startAuthly(url: string, port: number, dataDir: string): Promise<Running> {
  const db = openPostgres({ url, max: 5 });
  const issuer = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    DEFAULT_ISSUER_URL: issuer,
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: url,
    JWT_SECRET_KEY,
    AUTHLY_DATA_DIR: dataDir,
    AUTHLY_BOOTSTRAP_DEV_MODE: 'false',
    AUTOMIGRATE: 'false',
    CLEANUP_INTERVAL_MINUTES: '0',
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: 'warn',
  });
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const app = await buildApp(config, { db, logStream: sink });
  await app.listen({ host: '127.0.0.1', port });
  return {
    app,
    issuer,
    db,
    async close() {
      await app.close();
      await db.close();
    },
  };
}

describe.skipIf(!ADMIN_URL || !hasTool('pg_dump') || !hasTool('pg_restore') || !hasTool('psql'))('backup → wipe → restore on PostgreSQL', () => {
  const dbName = `authly_dr_${randomBytes(5).toString('hex')}`;
  let admin: Db;
  let url: string;
  let work: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    admin = openPostgres({ url: ADMIN_URL!, max: 1 });
    await admin.query(`CREATE DATABASE ${dbName}`);
    const target = new URL(ADMIN_URL!);
    target.pathname = `/${dbName}`;
    url = target.toString();
    work = mkdtempSync(path.join(tmpdir(), 'authly-dr-'));
    // The scripts run outside the checkout, so no developer .env is read; the CLI sees only this.
    env = { DATABASE_URL: url, AUTHLY_CLI, AUTHLY_DATA_DIR: path.join(work, 'data'), JWT_SECRET_KEY };
  });
  afterAll(async () => {
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('restores a backup after the data is lost, and tokens issued before the backup still work', async () => {
    // 1. migrate_database.sh creates the schema; a second run has nothing to do.
    const migrated = await run('migrate_database.sh', [], env, work);
    expect(migrated.stderr).toBe('');
    expect(migrated.stdout).toContain('Applied 20261124150000_create_core_schema');
    expect(migrated.status).toBe(0);
    const again = await run('migrate_database.sh', [], env, work);
    expect(again.stdout.trim()).toBe('No pending migrations.');

    // 2. A running Authly issues tokens: a client_credentials JWT, and a user's code flow with a refresh token.
    const port = await freePort();
    let server = await startAuthly(url, port, path.join(work, 'data'));
    const user = await createUser(server.app);
    const service: TestClient = await createClient(server.app, { grantTypes: ['client_credentials'], scope: 'openid' });
    const webClient: TestClient = await createClient(server.app);
    const serviceToken = (await tokenRequest(server.app, service, { grant_type: 'client_credentials' })).json() as Tokens;
    const userTokens = await obtainTokens(server.app, new InjectBrowser(server.app), webClient, user.username, { scope: 'openid offline_access' });
    expect(userTokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    const jwksBefore = (await (await fetch(`${server.issuer}/.well-known/jwks.json`)).json()) as JSONWebKeySet;

    // 3. backup_database.sh while the server runs.
    const backup = await run('backup_database.sh', ['--dir', path.join(work, 'backups')], env, work);
    expect(backup.status).toBe(0);
    const file = backup.stdout.trim().split('\n').at(-1)!;
    expect(file).toMatch(/\/authly-\d{8}T\d{6}Z\.dump$/);
    expect(existsSync(`${file}.sha256`)).toBe(true);

    // A token issued after the backup: the restored database must not know it.
    const lateToken = (await tokenRequest(server.app, service, { grant_type: 'client_credentials' })).json() as Tokens;
    expect((await introspect(server.app, service, { token: lateToken.access_token })).json()).toMatchObject({ active: true });
    await server.close();

    // 4. Disaster: the schema and everything in it is gone.
    const wipe = openPostgres({ url, max: 1 });
    await wipe.query('DROP SCHEMA public CASCADE');
    await wipe.query('CREATE SCHEMA public');
    const { rows } = await wipe.query<{ n: string }>(`SELECT count(*)::text AS n FROM information_schema.tables WHERE table_schema = 'public'`);
    expect(rows[0]!.n).toBe('0');
    await wipe.close();

    // 5. disaster_recovery.sh refuses without confirmation, then restores with --yes.
    const refused = await run('disaster_recovery.sh', [file], env, work);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('refusing to restore without confirmation');
    const restored = await run('disaster_recovery.sh', ['--yes', '--clean', file], env, work);
    expect(restored.stderr).toContain('Checksum OK');
    // The service and web clients, and the built-in clients of the account page, `authly admin login` and the console.
    expect(restored.stderr).toMatch(/clients: 5, users: 1, signing keys: [1-9]/);
    expect(restored.status).toBe(0);
    // The target now holds Authly's tables: restoring again needs --clean.
    const noClean = await run('disaster_recovery.sh', ['--yes', file], env, work);
    expect(noClean.status).toBe(1);
    expect(noClean.stderr).toContain("already holds Authly's tables; use --clean");

    // 6. A new server on the restored database.
    server = await startAuthly(url, port, path.join(work, 'data-restored'));
    try {
      const jwksAfter = (await (await fetch(`${server.issuer}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
      expect(jwksAfter.keys.map((k) => k.kid).sort()).toEqual(jwksBefore.keys.map((k) => k.kid).sort());
      // The JWTs issued before the backup verify against the restored JWKS…
      const keys = createLocalJWKSet(jwksAfter);
      const verified = await jwtVerify(serviceToken.access_token, keys, { issuer: server.issuer, typ: 'at+jwt' });
      expect(verified.payload.client_id).toBe(service.clientId);
      await jwtVerify(userTokens.id_token!, keys, { issuer: server.issuer, audience: webClient.clientId });
      // …are active for introspection, and work at userinfo…
      expect((await introspect(server.app, service, { token: serviceToken.access_token })).json()).toMatchObject({ active: true, client_id: service.clientId });
      expect((await userinfo(server.app, userTokens.access_token)).json()).toMatchObject({ sub: user.id });
      // …and the refresh token rotates.
      const refreshed = await tokenRequest(server.app, webClient, { grant_type: 'refresh_token', refresh_token: userTokens.refresh_token! });
      expect(refreshed.statusCode).toBe(200);
      expect((refreshed.json() as Tokens).refresh_token).not.toBe(userTokens.refresh_token);
      // The token issued after the backup is unknown here.
      expect((await introspect(server.app, service, { token: lateToken.access_token })).json()).toEqual({ active: false });

      // 7. The restored deployment passes the post-deployment checks, and maintenance runs on it.
      const smoke = await run('post_deployment_tests.sh', [server.issuer], env, work);
      expect(smoke.stdout).toContain('All checks passed');
      expect(smoke.status).toBe(0);
      const maintenance = await run('maintenance.sh', ['cleanup', 'vacuum', 'report'], env, work);
      expect(maintenance.stderr).toContain('vacuumed public.clients');
      expect(maintenance.stdout).toMatch(/refresh_tokens/);
      expect(maintenance.status).toBe(0);
    } finally {
      await server.close();
    }
    // A long scenario: three CLI runs from the TypeScript sources, two server starts, dump and restore.
  }, 180_000);
});

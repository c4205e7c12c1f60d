import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/config.js';
import { findClient, listClients } from '../../../src/repositories/clients-repository.js';
import { findUserByUsername, updateUser } from '../../../src/repositories/users-repository.js';
import { bootstrap, DEV_ADMIN_CLIENT_ID } from '../../../src/services/bootstrap.js';
import { ACCOUNT_CLIENT_ID } from '../../../src/services/account/account-client.js';
import { CLI_CLIENT_ID } from '../../../src/services/admin/cli-client.js';
import { CONSOLE_CLIENT_ID } from '../../../src/services/admin/console-client.js';
import { hashPassword, verifyPassword } from '../../../src/services/password-hasher.js';
import { deriveKey } from '../../../src/services/server-secret.js';
import { basicAuth } from '../../helpers/fixtures.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';

const SECRET_KEY = 'bootstrap-test-key-that-is-at-least-32-chars';

describe('start-up bootstrap', () => {
  let t: TestDb;
  const dirs: string[] = [];
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterEach(async () => {
    // Each case starts from empty admin tables; the schema and its built-in scopes stay.
    await t.db.query('DELETE FROM clients');
    await t.db.query('DELETE FROM users');
  });
  afterAll(async () => {
    await t.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function config(env: Record<string, string>) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'authly-bootstrap-'));
    dirs.push(dataDir);
    return loadConfig({ AUTHLY_DATA_DIR: dataDir, JWT_SECRET_KEY: SECRET_KEY, LOG_LEVEL: 'silent', AUTHLY_BOOTSTRAP_DEV_MODE: 'false', ...env });
  }

  /** Builds the app on the shared database (as a restart would), asks for a token, closes. */
  async function start(cfg: ReturnType<typeof loadConfig>, credentials?: [string, string]) {
    const app = await buildApp(cfg, { db: t.db });
    try {
      let tokenStatus: number | undefined;
      if (credentials) {
        const res = await app.inject({
          method: 'POST',
          url: '/oauth/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(...credentials) },
          payload: 'grant_type=client_credentials&scope=authly%3Aadmin',
        });
        tokenStatus = res.statusCode;
      }
      return { report: app.bootstrapReport, tokenStatus };
    } finally {
      await app.close();
    }
  }

  it('without admin settings creates only the built-in clients (account page, authly admin login, console)', async () => {
    const cfg = config({});
    expect(await bootstrap({ config: cfg, db: t.db, clientSecretKey: deriveKey(SECRET_KEY, 'client-secret') })).toEqual({});
    expect((await listClients(t.db, { limit: 10 })).items.map((c) => c.clientId).sort()).toEqual([ACCOUNT_CLIENT_ID, CLI_CLIENT_ID, CONSOLE_CLIENT_ID]);
  });

  it('creates the configured admin client once, and a changed secret replaces the stored hash', async () => {
    const env = { AUTHLY_ADMIN_CLIENT_ID: 'ops-admin', AUTHLY_ADMIN_CLIENT_SECRET: 'first-secret-0123456789' };
    const first = await start(config(env), ['ops-admin', env.AUTHLY_ADMIN_CLIENT_SECRET]);
    expect(first).toEqual({ report: { adminClientId: 'ops-admin' }, tokenStatus: 200 });
    const created = await findClient(t.db, 'ops-admin');
    expect(created).toMatchObject({
      clientName: 'Authly admin',
      clientType: 'confidential',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['client_credentials'],
      responseTypes: [],
      redirectUris: [],
      scope: 'authly:admin',
      isActive: true,
    });

    // A restart with the same settings changes nothing.
    expect(await start(config(env), ['ops-admin', env.AUTHLY_ADMIN_CLIENT_SECRET])).toEqual(first);
    expect((await listClients(t.db, { limit: 10 })).items).toHaveLength(4); // with the three built-in clients
    expect(await findClient(t.db, 'ops-admin')).toEqual(created);

    // A new secret in the environment: the old one stops working, the new one works.
    const rotated = { ...env, AUTHLY_ADMIN_CLIENT_SECRET: 'second-secret-0123456789' };
    expect((await start(config(rotated), ['ops-admin', rotated.AUTHLY_ADMIN_CLIENT_SECRET])).tokenStatus).toBe(200);
    expect((await start(config(rotated), ['ops-admin', env.AUTHLY_ADMIN_CLIENT_SECRET])).tokenStatus).toBe(401);
  });

  it('creates the admin user once and never overwrites a password changed later', async () => {
    const env = { AUTHLY_ADMIN_USERNAME: 'root', AUTHLY_ADMIN_PASSWORD: 'initial password', AUTHLY_ADMIN_EMAIL: 'root@example.com' };
    await start(config(env));
    const user = await findUserByUsername(t.db, 'root');
    expect(user).toMatchObject({ username: 'root', email: 'root@example.com', isAdmin: true, isActive: true });
    expect(await verifyPassword(user!.passwordHash, 'initial password')).toBe(true);

    await updateUser(t.db, user!.id, { passwordHash: await hashPassword('changed by the admin'), isAdmin: false });
    await start(config({ ...env, AUTHLY_ADMIN_PASSWORD: 'another password' }));
    const after = await findUserByUsername(t.db, 'root');
    expect(after!.id).toBe(user!.id);
    expect(await verifyPassword(after!.passwordHash, 'changed by the admin')).toBe(true);
    // Being the configured admin is re-asserted on every start.
    expect(after!.isAdmin).toBe(true);
  });

  describe('development credentials', () => {
    const devEnv = { ENVIRONMENT: 'development', AUTHLY_BOOTSTRAP_DEV_MODE: 'true' };

    it('generates them on first start into a 0600 file, reuses them after, and rotates when the file is lost', async () => {
      const cfg = config(devEnv);
      const file = path.join(cfg.dataDir, 'admin-credentials.json');

      const first = await start(cfg);
      expect(first.report).toEqual({
        adminClientId: DEV_ADMIN_CLIENT_ID,
        generatedClientSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        credentialsFile: file,
      });
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      expect(saved).toEqual({ url: cfg.issuer, client_id: DEV_ADMIN_CLIENT_ID, client_secret: first.report.generatedClientSecret });
      expect((await start(cfg, [saved.client_id!, saved.client_secret!])).tokenStatus).toBe(200);

      const second = await start(cfg);
      expect(second.report).toEqual({ adminClientId: DEV_ADMIN_CLIENT_ID, credentialsFile: file });
      expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify(saved, null, 2)}\n`);

      rmSync(file);
      const third = await start(cfg, [saved.client_id!, saved.client_secret!]);
      expect(third.tokenStatus).toBe(401);
      expect(third.report.generatedClientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(third.report.generatedClientSecret).not.toBe(saved.client_secret);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const rewritten = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      expect(rewritten.client_secret).toBe(third.report.generatedClientSecret);
      expect((await start(cfg, [DEV_ADMIN_CLIENT_ID, rewritten.client_secret!])).tokenStatus).toBe(200);
      expect((await listClients(t.db, { limit: 10 })).items).toHaveLength(4); // with the three built-in clients
    });

    it('is skipped when an admin client is configured, and when dev mode is off', async () => {
      const configured = config({ ...devEnv, AUTHLY_ADMIN_CLIENT_ID: 'ops-admin', AUTHLY_ADMIN_CLIENT_SECRET: 'first-secret-0123456789' });
      expect((await start(configured)).report).toEqual({ adminClientId: 'ops-admin' });
      expect(existsSync(path.join(configured.dataDir, 'admin-credentials.json'))).toBe(false);

      const off = config({ ENVIRONMENT: 'development', AUTHLY_BOOTSTRAP_DEV_MODE: 'false' });
      expect((await start(off)).report).toEqual({});
      expect(existsSync(path.join(off.dataDir, 'admin-credentials.json'))).toBe(false);
      expect(await findClient(t.db, DEV_ADMIN_CLIENT_ID)).toBeUndefined();
    });

    it('generates exactly once when two replicas start at the same moment', async () => {
      const cfg = config(devEnv);
      const ctx = { config: cfg, db: t.db, clientSecretKey: deriveKey(SECRET_KEY, 'client-secret') };
      // Open the pool's connections first (PostgreSQL), so the three transactions truly overlap.
      await Promise.all([1, 2, 3].map(() => t.db.query('SELECT pg_sleep(0.05)')));
      const reports = await Promise.all([bootstrap(ctx), bootstrap(ctx), bootstrap(ctx)]);
      expect(reports.filter((r) => r.generatedClientSecret !== undefined)).toHaveLength(1);
      const saved = JSON.parse(readFileSync(path.join(cfg.dataDir, 'admin-credentials.json'), 'utf8')) as { client_secret: string };
      expect(saved.client_secret).toBe(reports.find((r) => r.generatedClientSecret)!.generatedClientSecret);
      expect((await listClients(t.db, { limit: 10 })).items).toHaveLength(4); // with the three built-in clients
    });
  });
});

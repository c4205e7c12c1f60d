import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/config.js';
import { migrate } from '../../../src/db/migrate.js';
import { openPglite } from '../../../src/db/pglite-driver.js';
import { TEST_DATABASE_URL } from '../../helpers/test-db.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser } from '../../helpers/fixtures.js';
import { obtainTokens } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, tokenFor } from './admin-helpers.js';

interface Row {
  event: string;
  actor: string | null;
  actor_type: string | null;
  client_id: string | null;
  subject: string | null;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  changes: Record<string, Record<string, unknown>> | null;
}

const rowsOf = async (t: TestApp, where = 'true', params: unknown[] = []): Promise<Row[]> =>
  (
    await t.testDb.db.query<Row>(
      `SELECT event, actor, actor_type, client_id, subject, ip, request_id, details, changes FROM audit_events WHERE ${where} ORDER BY occurred_at, event`,
      params,
    )
  ).rows;

const auditLines = (t: TestApp, event: string) =>
  t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.log === 'audit' && l.event === event);

const PASSWORD = 'Correct-Horse-Battery-Staple-77';
const NEW_PASSWORD = 'Another-Long-Passphrase-88';

/** Issue 14 §2: every admin write stores one row in its own transaction, with a diff that holds no secret. */
describe('audit trail: admin writes', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;
  const secrets: string[] = [PASSWORD, NEW_PASSWORD, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET];

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    call = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t.close());

  /** The one row the request with this response's x-request-id stored. */
  const rowOf = async (res: { headers: Record<string, unknown> }) => {
    const rows = await rowsOf(t, 'request_id = $1', [res.headers['x-request-id']]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, actor_type: 'client', client_id: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, ip: '127.0.0.1' });
    return rows[0]!;
  };

  it('clients: create, update, rotate, delete, each one row with the diff; the secret only as {changed: true}', async () => {
    const created = await call('POST', '/admin/clients', { client_id: 'trail-app', client_name: 'Trail', redirect_uris: ['https://app.example.com/cb'] });
    expect(created.statusCode).toBe(201);
    secrets.push((created.json() as { client_secret: string }).client_secret);
    const c = await rowOf(created);
    expect(c).toMatchObject({ event: 'admin.client.created', subject: 'trail-app', details: {} });
    expect(c.changes).toMatchObject({ client_name: { to: 'Trail' }, redirect_uris: { to: ['https://app.example.com/cb'] }, client_secret: { changed: true } });
    expect(Object.values(c.changes!).every((change) => !('from' in change))).toBe(true);

    const updated = await call('PATCH', '/admin/clients/trail-app', { client_name: 'Trail 2', redirect_uris: ['https://app.example.com/cb', 'https://app.example.com/cb2'] });
    expect(updated.statusCode).toBe(200);
    expect((await rowOf(updated)).changes).toEqual({
      client_name: { from: 'Trail', to: 'Trail 2' },
      redirect_uris: { from: ['https://app.example.com/cb'], to: ['https://app.example.com/cb', 'https://app.example.com/cb2'] },
    });

    const rotated = await call('POST', '/admin/clients/trail-app/rotate-secret');
    expect(rotated.statusCode).toBe(200);
    secrets.push((rotated.json() as { client_secret: string }).client_secret);
    expect(await rowOf(rotated)).toMatchObject({ event: 'admin.client.secret_rotated', subject: 'trail-app', changes: { client_secret: { changed: true } } });

    const deleted = await call('DELETE', '/admin/clients/trail-app');
    expect(deleted.statusCode).toBe(204);
    const d = await rowOf(deleted);
    expect(d).toMatchObject({ event: 'admin.client.deleted', subject: 'trail-app' });
    expect(d.changes).toMatchObject({ client_name: { from: 'Trail 2' }, client_secret: { changed: true } });
    expect(Object.values(d.changes!).every((change) => !('to' in change))).toBe(true);
  });

  it('users: create, update, set password, delete; the password never stored', async () => {
    const created = await call('POST', '/admin/users', { username: 'trail-user', email: 'trail@example.com', password: PASSWORD });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as { id: string }).id;
    expect(await rowOf(created)).toMatchObject({
      event: 'admin.user.created',
      subject: id,
      details: { user_id: id },
      changes: { username: { to: 'trail-user' }, email: { to: 'trail@example.com' }, password: { changed: true } },
    });
    const updated = await call('PATCH', `/admin/users/${id}`, { name: 'Trail User' });
    expect((await rowOf(updated)).changes).toEqual({ name: { from: null, to: 'Trail User' } });
    const password = await call('POST', `/admin/users/${id}/password`, { password: NEW_PASSWORD });
    expect(password.statusCode).toBe(204);
    expect(await rowOf(password)).toMatchObject({ event: 'admin.user.password_set', subject: id, changes: { password: { changed: true } } });
    const deleted = await call('DELETE', `/admin/users/${id}`);
    expect(deleted.statusCode).toBe(204);
    expect(await rowOf(deleted)).toMatchObject({ event: 'admin.user.deleted', subject: id, changes: { username: { from: 'trail-user' } } });
  });

  it('scopes, resources, registration tokens and signing keys', async () => {
    const scope = await call('POST', '/admin/scopes', { name: 'trail:read', description: 'Read trails' });
    expect(await rowOf(scope)).toMatchObject({ event: 'admin.scope.created', subject: 'trail:read', changes: { description: { to: 'Read trails' } } });

    const resource = await call('POST', '/admin/resources', { identifier: 'https://trail.example.com', name: 'Trails', scopes: ['trail:read'] });
    expect(resource.statusCode).toBe(201);
    expect(await rowOf(resource)).toMatchObject({ event: 'admin.resource.created', subject: 'https://trail.example.com', changes: { name: { to: 'Trails' }, scopes: { to: ['trail:read'] } } });
    const renamed = await call('PATCH', `/admin/resources/${encodeURIComponent('https://trail.example.com')}`, { name: 'Trail API' });
    expect((await rowOf(renamed)).changes).toEqual({ name: { from: 'Trails', to: 'Trail API' } });
    const gone = await call('DELETE', `/admin/resources/${encodeURIComponent('https://trail.example.com')}`);
    expect(await rowOf(gone)).toMatchObject({ event: 'admin.resource.deleted', changes: { name: { from: 'Trail API' } } });

    const token = await call('POST', '/admin/registration-tokens', { description: 'for trails', max_uses: 3 });
    expect(token.statusCode).toBe(201);
    const { id, token: value } = token.json() as { id: string; token: string };
    secrets.push(value);
    expect(await rowOf(token)).toMatchObject({ event: 'admin.registration_token.created', subject: id, changes: { description: { to: 'for trails' }, max_uses: { to: 3 } } });
    const revoked = await call('POST', `/admin/registration-tokens/${id}/revoke`);
    expect((await rowOf(revoked)).changes).toEqual({ revoked_at: { from: null, to: expect.any(String) } });

    const rotated = await call('POST', '/admin/keys/rotate', {});
    expect(rotated.statusCode).toBe(200);
    const [change] = (rotated.json() as { changes: { kid: string; kind: string }[] }).changes;
    const keyRow = await rowOf(rotated);
    expect(keyRow).toMatchObject({ event: 'admin.keys.rotated', subject: change!.kid, details: { kid: change!.kid, reason: 'create' }, changes: { status: { to: 'next' } } });
    const retired = await call('POST', `/admin/keys/${change!.kid}/revoke`);
    expect(retired.statusCode).toBe(200);
    expect((await rowOf(retired)).changes).toMatchObject({ status: { from: 'next', to: 'revoked' } });
  });

  it('keeps the log line exactly as before, written once, after the commit', async () => {
    const res = await call('POST', '/admin/scopes', { name: 'trail:log', description: 'x' });
    const lines = auditLines(t, 'admin.scope.created').filter((l) => l.request_id === res.headers['x-request-id']);
    expect(lines).toEqual([
      expect.objectContaining({
        log: 'audit',
        event: 'admin.scope.created',
        scope: 'trail:log',
        actor: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID,
        actor_type: 'client',
        client_id: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID,
        ip: '127.0.0.1',
        msg: 'admin.scope.created',
      }),
    ]);
  });

  it('read-only routes store nothing', async () => {
    const before = (await rowsOf(t)).length;
    for (const url of ['/admin/clients', '/admin/users', '/admin/scopes', '/admin/keys', '/admin/audit-events']) expect((await call('GET', url)).statusCode).toBe(200);
    await t.app.auditWriter.flush();
    expect((await rowsOf(t)).length).toBe(before);
  });

  it('atomic: when the audit row cannot be stored, the change is rolled back and the request fails', async () => {
    await call('POST', '/admin/clients', { client_id: 'trail-atomic', client_name: 'Before', grant_types: ['client_credentials'] });
    // A constraint that refuses exactly this event's row makes the insert fail inside the transaction.
    await t.testDb.db.query(`ALTER TABLE audit_events ADD CONSTRAINT refuse_client_updates CHECK (event <> 'admin.client.updated') NOT VALID`);
    try {
      const res = await call('PATCH', '/admin/clients/trail-atomic', { client_name: 'After', is_active: false });
      expect(res.statusCode).toBeGreaterThanOrEqual(500);
      expect(res.json()).toMatchObject({ error: expect.any(String) });
      expect(auditLines(t, 'admin.client.updated').filter((l) => l.request_id === res.headers['x-request-id'])).toEqual([]);
    } finally {
      await t.testDb.db.query('ALTER TABLE audit_events DROP CONSTRAINT refuse_client_updates');
    }
    const after = await call('GET', '/admin/clients/trail-atomic');
    expect(after.json()).toMatchObject({ client_name: 'Before', is_active: true });
    // The cache saw no uncommitted row either: the client still authenticates.
    const secret = (await call('POST', '/admin/clients/trail-atomic/rotate-secret')).json() as { client_secret: string };
    secrets.push(secret.client_secret);
    expect(await tokenFor(t.app, 'trail-atomic', secret.client_secret)).toEqual(expect.any(String));
    // And a later update goes through with its row.
    const ok = await call('PATCH', '/admin/clients/trail-atomic', { client_name: 'After' });
    expect(ok.statusCode).toBe(200);
    expect((await rowOf(ok)).changes).toEqual({ client_name: { from: 'Before', to: 'After' } });
  });

  it('a refused change (privilege rule) stores admin.privilege_denied and changes nothing', async () => {
    const created = (await call('POST', '/admin/clients', { client_name: 'writer', grant_types: ['client_credentials'], scope: 'admin:clients:write' })).json() as {
      client_id: string;
      client_secret: string;
    };
    secrets.push(created.client_secret);
    const writer = adminCall(t.app, await tokenFor(t.app, created.client_id, created.client_secret, 'admin:clients:write'));
    const res = await writer('PATCH', `/admin/clients/${created.client_id}`, { scope: 'authly:admin' });
    expect(res.statusCode).toBe(403);
    await t.app.auditWriter.flush();
    const rows = await rowsOf(t, 'request_id = $1', [res.headers['x-request-id']]);
    expect(rows.map((r) => [r.event, r.actor])).toEqual([['admin.privilege_denied', created.client_id]]);
  });

  it('no secret, password or token value ever appears in the table', async () => {
    const { rows } = await t.testDb.db.query<{ all: string }>(`SELECT coalesce(json_agg(a)::text, '') AS "all" FROM audit_events a`);
    const text = rows[0]!.all;
    expect(text.length).toBeGreaterThan(100);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/\$argon2/);
  });
});

describe('audit trail: other events (batched writer)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
  });
  afterAll(() => t.close());

  it('stores login.succeeded and consent after a flush; token.issued is not stored by default', async () => {
    const client = await createClient(t.app);
    const user = await createUser(t.app);
    await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, { scope: 'openid' });
    await t.app.auditWriter.flush();
    const rows = await rowsOf(t);
    const login = rows.find((r) => r.event === 'login.succeeded');
    expect(login).toMatchObject({ actor: user.id, actor_type: 'user', client_id: client.clientId, ip: '127.0.0.1', request_id: expect.any(String) });
    expect(rows.some((r) => r.event === 'token.issued')).toBe(false);
    expect(auditLines(t, 'token.issued').length).toBeGreaterThan(0);
  });

  it('writes what is queued when the app closes', async () => {
    const other = await createTestApp(ADMIN_ENV);
    try {
      other.app.ctx.audit.record('session.ended', { actor: 'queued-at-close', actor_type: 'user' });
      await other.app.close();
      const rows = await rowsOf(other, "actor = 'queued-at-close'");
      expect(rows.map((r) => r.event)).toEqual(['session.ended']);
    } finally {
      await other.testDb.drop();
    }
  });
});

// The app's own embedded database (no test-provided one): the queued events are written before it closes.
describe.skipIf(TEST_DATABASE_URL !== undefined)('audit trail: shutdown of an app that owns its database', () => {
  it('writes the queued events, then closes the database', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'authly-audit-close-'));
    try {
      const setup = await openPglite(path.join(dataDir, 'pglite'));
      await migrate(setup);
      await setup.close();
      const config = loadConfig({ AUTHLY_DATA_DIR: dataDir, JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters', LOG_LEVEL: 'silent', MAIL_WORKER_ENABLED: 'false', CLEANUP_INTERVAL_MINUTES: '0' });
      const app = await buildApp(config);
      await app.ready();
      app.ctx.audit.record('session.ended', { actor: 'queued-before-close', actor_type: 'user' });
      await app.close();
      const reopened = await openPglite(path.join(dataDir, 'pglite'));
      const { rows } = await reopened.query<{ event: string }>(`SELECT event FROM audit_events WHERE actor = 'queued-before-close'`);
      await reopened.close();
      expect(rows.map((r) => r.event)).toEqual(['session.ended']);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  // src/main.ts hands its database over: onClose hooks run last-registered first, so a hook of main's own
  // would close it before the app's workers stop and before the queued events are written.
  it('a database handed over with closeDatabase (as main.ts does) is closed last, after the queued events are written', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'authly-audit-close-'));
    try {
      const db = await openPglite(path.join(dataDir, 'pglite'));
      await migrate(db);
      const config = loadConfig({ AUTHLY_DATA_DIR: dataDir, JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters', LOG_LEVEL: 'silent', CLEANUP_INTERVAL_MINUTES: '0' });
      const app = await buildApp(config, { db, closeDatabase: true });
      await app.ready();
      app.ctx.audit.record('session.ended', { actor: 'handed-over', actor_type: 'user' });
      await app.close();
      await expect(db.query('SELECT 1')).rejects.toThrow();
      const reopened = await openPglite(path.join(dataDir, 'pglite'));
      const { rows } = await reopened.query<{ event: string }>(`SELECT event FROM audit_events WHERE actor = 'handed-over'`);
      await reopened.close();
      expect(rows.map((r) => r.event)).toEqual(['session.ended']);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('audit trail: AUDIT_STORE_TOKEN_EVENTS=true', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, AUDIT_STORE_TOKEN_EVENTS: 'true' });
  });
  afterAll(() => t.close());

  it('stores token.issued too, without the token', async () => {
    const token = await adminToken(t.app);
    await t.app.auditWriter.flush();
    const rows = await rowsOf(t, "event = 'token.issued'");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, client_id: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID });
    expect(JSON.stringify(rows)).not.toContain(token);
  });
});

describe('audit trail: retention', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, AUDIT_RETENTION_DAYS: '30' });
  });
  afterAll(() => t.close());

  it('the cleanup deletes events older than AUDIT_RETENTION_DAYS and keeps newer ones', async () => {
    await t.testDb.db.query(
      `INSERT INTO audit_events (event, subject, occurred_at) VALUES ('login.failed', 'old', now() - interval '31 days'), ('login.failed', 'recent', now() - interval '29 days')`,
    );
    const res = await adminCall(t.app, await adminToken(t.app))('POST', '/admin/maintenance/cleanup');
    expect(res.statusCode).toBe(200);
    expect((res.json() as { deleted: Record<string, number> }).deleted.audit_events).toBe(1);
    await t.app.auditWriter.flush();
    expect((await rowsOf(t, "event = 'login.failed'")).map((r) => r.subject)).toEqual(['recent']);
    expect((await rowsOf(t, "event = 'admin.maintenance.cleanup'")).length).toBe(1);
  });
});

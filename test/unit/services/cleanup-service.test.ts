import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import type { Db } from '../../../src/db/db.js';
import { openPostgres } from '../../../src/db/postgres-driver.js';
import { CLEANUP_TABLES, runCleanup, type CleanupResult } from '../../../src/services/cleanup-service.js';
import { Metrics } from '../../../src/services/metrics.js';
import { createTestDb, TEST_DATABASE_URL, type TestDb } from '../../helpers/test-db.js';

const config = loadConfig({ JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters', AUTHLY_LOCKOUT_DURATION_SECONDS: '900' });

const USER = '00000000-0000-4000-8000-000000000001';
const OTHER_USER = '00000000-0000-4000-8000-000000000002';
const G_LIVE = '10000000-0000-4000-8000-000000000001';
const G_OLD = '10000000-0000-4000-8000-000000000002';
const G_REVOKED = '10000000-0000-4000-8000-000000000003';
const G_RECENT = '10000000-0000-4000-8000-000000000004';

/** What the seed below holds that is expired or unusable, per table; everything else must survive. */
const EXPECTED = {
  clients: 3,
  authorization_codes: 3,
  access_tokens: 5,
  refresh_tokens: 3,
  sessions: 3,
  interactions: 2,
  auth_failures: 2,
  grants: 2,
  consents: 1,
  user_action_tokens: 1,
  used_jtis: 2,
  pushed_authorization_requests: 2,
  device_authorizations: 2,
  audit_events: 2,
};

const PAST = "now() - interval '1 hour'";
const FUTURE = "now() + interval '1 hour'";
const LONG_AGO = "now() - interval '30 days'";

async function seed(db: Db): Promise<void> {
  const sql = [
    `INSERT INTO users (id, username) VALUES ('${USER}', 'alice'), ('${OTHER_USER}', 'bob')`,
    `INSERT INTO clients (client_id, client_name, client_type, token_endpoint_auth_method, grant_types, response_types)
     VALUES ('app', 'App', 'public', 'none', '{authorization_code}', '{code}'), ('other', 'Other', 'public', 'none', '{authorization_code}', '{code}')`,
    // Live (has live tokens), old without tokens, revoked (only expired tokens), recent without tokens.
    `INSERT INTO grants (id, client_id, user_id, scope, auth_time, created_at, revoked_at) VALUES
       ('${G_LIVE}', 'app', '${USER}', 'openid', now(), ${LONG_AGO}, NULL),
       ('${G_OLD}', 'app', '${USER}', 'openid', now(), ${LONG_AGO}, NULL),
       ('${G_REVOKED}', 'app', '${USER}', 'openid', now(), now(), now()),
       ('${G_RECENT}', 'app', '${USER}', 'openid', now(), now(), NULL)`,
    `INSERT INTO authorization_codes (code_hash, grant_id, client_id, redirect_uri, expires_at) VALUES
       ('c1', '${G_LIVE}', 'app', 'https://a/cb', ${PAST}), ('c2', '${G_LIVE}', 'app', 'https://a/cb', ${PAST}),
       ('c3', '${G_REVOKED}', 'app', 'https://a/cb', ${PAST}), ('c4', '${G_LIVE}', 'app', 'https://a/cb', ${FUTURE})`,
    // A used code, expired but within the refresh lifetime: kept, so a late replay still revokes its grant.
    `INSERT INTO authorization_codes (code_hash, grant_id, client_id, redirect_uri, expires_at, consumed_at) VALUES
       ('c5', '${G_LIVE}', 'app', 'https://a/cb', now() - interval '1 minute', now() - interval '5 minutes')`,
    `INSERT INTO access_tokens (jti, grant_id, client_id, user_id, scope, expires_at, revoked_at) VALUES
       ('a1', '${G_LIVE}', 'app', '${USER}', 'openid', ${PAST}, NULL), ('a2', '${G_LIVE}', 'app', '${USER}', 'openid', ${PAST}, now()),
       ('a3', '${G_REVOKED}', 'app', '${USER}', 'openid', ${PAST}, now()), ('a4', '${G_REVOKED}', 'app', '${USER}', 'openid', ${PAST}, now()),
       ('a5', NULL, 'app', NULL, '', ${PAST}, NULL), ('a6', '${G_LIVE}', 'app', '${USER}', 'openid', ${FUTURE}, NULL),
       ('a7', NULL, 'app', NULL, '', ${FUTURE}, now())`,
    // Expired (plain, rotated, revoked); rotated but unexpired stays for replay detection; one live.
    `INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at, rotated_at, revoked_at) VALUES
       ('r1', '${G_LIVE}', 'app', '${USER}', 'openid', ${PAST}, NULL, NULL),
       ('r2', '${G_LIVE}', 'app', '${USER}', 'openid', ${PAST}, now(), NULL),
       ('r3', '${G_REVOKED}', 'app', '${USER}', 'openid', ${PAST}, NULL, now()),
       ('r4', '${G_LIVE}', 'app', '${USER}', 'openid', ${FUTURE}, now(), NULL),
       ('r5', '${G_LIVE}', 'app', '${USER}', 'openid', ${FUTURE}, NULL, NULL)`,
    `INSERT INTO sessions (id_hash, sid, user_id, auth_time, expires_at) VALUES
       ('s1', 'sid1', '${USER}', now(), ${PAST}), ('s2', 'sid2', '${USER}', now(), ${PAST}),
       ('s3', 'sid3', '${OTHER_USER}', now(), ${PAST}), ('s4', 'sid4', '${USER}', now(), ${FUTURE})`,
    `INSERT INTO interactions (uid, client_id, params, expires_at) VALUES
       ('i1', 'app', '{}', ${PAST}), ('i2', 'app', '{}', ${PAST}), ('i3', 'app', '{}', ${FUTURE})`,
    // Window 900 s: two stale counters go; a stale one still locked and a fresh one stay.
    `INSERT INTO auth_failures (key, failures, first_failure_at, locked_until) VALUES
       ('f1', 1, ${PAST}, NULL), ('f2', 5, ${PAST}, ${PAST}), ('f3', 5, ${PAST}, ${FUTURE}), ('f4', 1, now(), NULL)`,
    // Mailed links: kept a day past expiry (the resend limits count recent ones), then deleted.
    `INSERT INTO user_action_tokens (token_hash, purpose, user_id, email, expires_at) VALUES
       ('t1', 'reset_password', '${USER}', 'a@example.com', ${LONG_AGO}), ('t2', 'reset_password', '${USER}', 'a@example.com', ${PAST}),
       ('t3', 'verify_email', '${USER}', 'a@example.com', ${FUTURE})`,
    // One-time identifiers: gone once their time has passed.
    `INSERT INTO used_jtis (namespace, jti_hash, expires_at) VALUES
       ('dpop_proof', 'j1', ${PAST}), ('client_assertion', 'j2', ${LONG_AGO}), ('dpop_proof', 'j3', ${FUTURE})`,
    // Pushed authorization requests (RFC 9126): expired ones go, used or not; a live one stays.
    `INSERT INTO pushed_authorization_requests (request_uri_hash, client_id, parameters, expires_at, used_at) VALUES
       ('p1', 'app', '{}', ${PAST}, NULL), ('p2', 'app', '{}', ${PAST}, now()), ('p3', 'app', '{}', ${FUTURE}, NULL)`,
    // Device authorizations (RFC 8628): gone once expired, whatever their status.
    `INSERT INTO device_authorizations (device_code_hash, user_code_hash, client_id, scope, status, interval_seconds, expires_at) VALUES
       ('d1', 'u1', 'app', 'openid', 'pending', 5, ${PAST}), ('d2', 'u2', 'app', 'openid', 'denied', 5, ${LONG_AGO}),
       ('d3', 'u3', 'app', 'openid', 'pending', 5, ${FUTURE})`,
    // alice/app has grants left; bob/app has none and is old; bob/other has none but is recent.
    `INSERT INTO consents (user_id, client_id, scopes, updated_at) VALUES
       ('${USER}', 'app', '{openid}', ${LONG_AGO}), ('${OTHER_USER}', 'app', '{openid}', ${LONG_AGO}),
       ('${OTHER_USER}', 'other', '{openid}', now())`,
    // DYNAMIC_CLIENT_IDLE_DAYS 90: dynamic and metadata-document clients idle longer (or never used and older)
    // go with what was issued to them; a recently used one, a new one and an old admin client stay.
    `INSERT INTO clients (client_id, client_name, client_type, token_endpoint_auth_method, grant_types, response_types,
       registration_type, last_used_at, created_at) VALUES
       ('dyn-idle', 'D', 'public', 'none', '{authorization_code}', '{code}', 'dynamic', now() - interval '100 days', now() - interval '200 days'),
       ('dyn-never', 'D', 'public', 'none', '{authorization_code}', '{code}', 'dynamic', NULL, now() - interval '91 days'),
       ('cimd-idle', 'C', 'public', 'none', '{authorization_code}', '{code}', 'metadata_document', now() - interval '91 days', now() - interval '91 days'),
       ('dyn-recent', 'D', 'public', 'none', '{authorization_code}', '{code}', 'dynamic', now() - interval '10 days', now() - interval '200 days'),
       ('dyn-new', 'D', 'public', 'none', '{authorization_code}', '{code}', 'dynamic', NULL, now()),
       ('admin-old', 'A', 'public', 'none', '{authorization_code}', '{code}', 'admin', NULL, now() - interval '400 days')`,
    `INSERT INTO access_tokens (jti, client_id, scope, expires_at) VALUES ('a-idle', 'dyn-idle', '', ${FUTURE})`,
    // AUDIT_RETENTION_DAYS 365: events older than a year go, a recent one stays.
    `INSERT INTO audit_events (event, subject, occurred_at) VALUES
       ('login.succeeded', 'e1', now() - interval '400 days'), ('admin.client.updated', 'e2', now() - interval '366 days'),
       ('login.failed', 'e3', now() - interval '364 days')`,
  ];
  for (const statement of sql) await db.query(statement);
}

async function keys(db: Db, table: string, column: string): Promise<string[]> {
  const { rows } = await db.query<{ k: string }>(`SELECT ${column}::text AS k FROM ${table} ORDER BY 1`);
  return rows.map((r) => r.k);
}

const NONE = Object.fromEntries(CLEANUP_TABLES.map((t) => [t, 0]));

describe('cleanup service', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await createTestDb();
    await seed(t.db);
  });
  afterEach(() => t.drop());

  it('deletes exactly the expired and unusable rows in batches of 2, keeps live ones, and reports counts', async () => {
    const metrics = new Metrics(t.db);
    const lines: Record<string, unknown>[] = [];
    const result = await runCleanup({ db: t.db, config, metrics }, { batchSize: 2, log: { info: (fields) => lines.push(fields) } });
    expect(result).toEqual({ skipped: false, deleted: EXPECTED });

    expect(await keys(t.db, 'clients', 'client_id')).toEqual(['admin-old', 'app', 'dyn-new', 'dyn-recent', 'other']);
    expect(await keys(t.db, 'authorization_codes', 'code_hash')).toEqual(['c4', 'c5']);
    // a-idle was live, but its client was deleted.
    expect(await keys(t.db, 'access_tokens', 'jti')).toEqual(['a6', 'a7']);
    expect(await keys(t.db, 'refresh_tokens', 'token_hash')).toEqual(['r4', 'r5']);
    expect(await keys(t.db, 'sessions', 'sid')).toEqual(['sid4']);
    expect(await keys(t.db, 'interactions', 'uid')).toEqual(['i3']);
    expect(await keys(t.db, 'auth_failures', 'key')).toEqual(['f3', 'f4']);
    expect(await keys(t.db, 'user_action_tokens', 'token_hash')).toEqual(['t2', 't3']);
    expect(await keys(t.db, 'used_jtis', 'jti_hash')).toEqual(['j3']);
    expect(await keys(t.db, 'pushed_authorization_requests', 'request_uri_hash')).toEqual(['p3']);
    expect(await keys(t.db, 'device_authorizations', 'device_code_hash')).toEqual(['d3']);
    expect(await keys(t.db, 'audit_events', 'subject')).toEqual(['e3']);
    expect(await keys(t.db, 'grants', 'id')).toEqual([G_LIVE, G_RECENT]);
    expect(await keys(t.db, 'consents', "user_id::text || '/' || client_id")).toEqual([`${USER}/app`, `${OTHER_USER}/other`]);

    expect(lines).toEqual([{ event: 'cleanup.completed', deleted: EXPECTED, durationMs: expect.any(Number) }]);
    const counted = (await metrics.cleanupDeleted.get()).values.map((v) => [v.labels.table, v.value]);
    expect(Object.fromEntries(counted)).toEqual(EXPECTED);

    // Nothing left to do: a second run deletes nothing.
    expect(await runCleanup({ db: t.db, config }, { batchSize: 2 })).toEqual({ skipped: false, deleted: NONE });
  });

  it('DYNAMIC_CLIENT_IDLE_DAYS=0 keeps every client; a shorter idle time deletes more', async () => {
    const keep = loadConfig({ JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters', DYNAMIC_CLIENT_IDLE_DAYS: '0' });
    expect((await runCleanup({ db: t.db, config: keep })).deleted.clients).toBe(0);
    const short = loadConfig({ JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters', DYNAMIC_CLIENT_IDLE_DAYS: '5' });
    expect((await runCleanup({ db: t.db, config: short })).deleted.clients).toBe(4);
    expect(await keys(t.db, 'clients', 'client_id')).toEqual(['admin-old', 'app', 'dyn-new', 'other']);
  });

  it('AUDIT_RETENTION_DAYS=0 keeps every audit event; a shorter retention deletes more', async () => {
    const keep = loadConfig({ JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters', AUDIT_RETENTION_DAYS: '0' });
    expect((await runCleanup({ db: t.db, config: keep })).deleted.audit_events).toBe(0);
    expect(await keys(t.db, 'audit_events', 'subject')).toEqual(['e1', 'e2', 'e3']);
    const short = loadConfig({ JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters', AUDIT_RETENTION_DAYS: '30' });
    expect((await runCleanup({ db: t.db, config: short })).deleted.audit_events).toBe(3);
    expect(await keys(t.db, 'audit_events', 'subject')).toEqual([]);
  });

  it('with the default batch size deletes the same rows', async () => {
    expect(await runCleanup({ db: t.db, config })).toEqual({ skipped: false, deleted: EXPECTED });
  });

  it('two runs at once in one process: one cleans, the other skips', async () => {
    const results = await Promise.all([runCleanup({ db: t.db, config }, { batchSize: 2 }), runCleanup({ db: t.db, config }, { batchSize: 2 })]);
    expect(results.map((r) => r.skipped).sort()).toEqual([false, true]);
    expect(results.find((r) => !r.skipped)!.deleted).toEqual(EXPECTED);
    expect(results.find((r) => r.skipped)!.deleted).toEqual(NONE);
  });

  it.runIf(TEST_DATABASE_URL)('replicas (separate pools) running at once never double-count or fail (PostgreSQL)', async () => {
    const replicas = Array.from({ length: 4 }, () => openPostgres({ url: t.url!, max: 2, searchPath: t.schema! }));
    try {
      const results: CleanupResult[] = await Promise.all(replicas.map((db) => runCleanup({ db, config }, { batchSize: 2 })));
      const total = Object.fromEntries(
        CLEANUP_TABLES.map((table) => [table, results.reduce((sum, r) => sum + r.deleted[table], 0)]),
      );
      expect(total).toEqual(EXPECTED);
      expect(results.some((r) => !r.skipped)).toBe(true);
      // The lock was released: a later run gets it and finds nothing.
      expect(await runCleanup({ db: replicas[0]!, config })).toEqual({ skipped: false, deleted: NONE });
    } finally {
      await Promise.all(replicas.map((db) => db.close()));
    }
  });
});

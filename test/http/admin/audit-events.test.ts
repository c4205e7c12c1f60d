import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, tokenFor } from './admin-helpers.js';

type Item = {
  id: string;
  occurred_at: string;
  event: string;
  actor: string | null;
  actor_type: string | null;
  client_id: string | null;
  subject: string | null;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  changes: Record<string, unknown> | null;
};
type Listed = { items: Item[]; limit: number; next_cursor: string | null };

/** Issue 14 §2: GET /admin/audit-events, the audit trail's read side (filters, paging, JSON lines). */
describe('admin API: audit events', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;
  const scopeNames = ['audit-a', 'audit-b', 'audit-c', 'audit-d', 'audit-e'];
  let firstRequestId: string;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    call = adminCall(t.app, await adminToken(t.app));
    for (const name of scopeNames) {
      const res = await call('POST', '/admin/scopes', { name, description: `scope ${name}` });
      expect(res.statusCode).toBe(201);
      firstRequestId ??= String(res.headers['x-request-id']);
    }
    expect((await call('DELETE', '/admin/scopes/audit-e')).statusCode).toBe(204);
    expect((await call('POST', '/admin/clients', { client_name: 'Audited', grant_types: ['client_credentials'] })).statusCode).toBe(201);
  });
  afterAll(() => t.close());

  const list = async (query: string) => {
    const res = await call('GET', `/admin/audit-events${query}`);
    expect(res.statusCode).toBe(200);
    return res.json() as Listed;
  };

  it('answers the page shape of every admin list, newest first, each item complete', async () => {
    const body = await list('?event=admin.*');
    expect(body.limit).toBe(50);
    expect(body.next_cursor).toBeNull();
    expect(body.items.map((i) => i.event)).toEqual([
      'admin.client.created',
      'admin.scope.deleted',
      ...scopeNames.map(() => 'admin.scope.created'),
    ]);
    const deleted = body.items[1]!;
    expect(deleted).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      occurred_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      event: 'admin.scope.deleted',
      actor: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID,
      actor_type: 'client',
      client_id: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID,
      subject: 'audit-e',
      ip: '127.0.0.1',
      request_id: expect.any(String),
      details: { scope: 'audit-e' },
      changes: { description: { from: 'scope audit-e' }, is_default: { from: false } },
    });
  });

  it('filters by exact event, by prefix, by actor, subject, client and request id', async () => {
    expect((await list('?event=admin.scope.created')).items).toHaveLength(5);
    expect((await list('?event=admin.scope.*')).items).toHaveLength(6);
    expect((await list('?event=admin.scope')).items).toHaveLength(0);
    expect((await list('?event=admin.client.*')).items.map((i) => i.event)).toEqual(['admin.client.created']);
    expect((await list(`?event=admin.*&actor=${ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID}`)).items).toHaveLength(7);
    expect((await list('?actor=nobody')).items).toHaveLength(0);
    expect((await list('?subject=audit-c')).items.map((i) => i.event)).toEqual(['admin.scope.created']);
    expect((await list(`?event=admin.*&client_id=${ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID}`)).items).toHaveLength(7);
    const byRequest = await list(`?request_id=${encodeURIComponent(firstRequestId)}`);
    expect(byRequest.items.map((i) => [i.event, i.subject])).toEqual([['admin.scope.created', 'audit-a']]);
  });

  it('filters by time: since is inclusive, until exclusive (RFC 3339 with an offset)', async () => {
    const all = (await list('?event=admin.*')).items;
    const oldest = all[all.length - 1]!.occurred_at;
    expect((await list(`?event=admin.*&since=${encodeURIComponent(oldest)}`)).items).toHaveLength(all.length);
    expect((await list(`?event=admin.*&until=${encodeURIComponent(oldest)}`)).items).toHaveLength(0);
    expect((await list(`?event=admin.*&since=${encodeURIComponent('2999-01-01T00:00:00+02:00')}`)).items).toHaveLength(0);
  });

  it('pages by keyset: every event exactly once, in order', async () => {
    const all = (await list('?event=admin.*')).items.map((i) => i.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const body: Listed = await list(`?event=admin.*&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(body.limit).toBe(2);
      seen.push(...body.items.map((i) => i.id));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  it('exports every matching event as JSON lines, newest first, without a limit', async () => {
    const res = await call('GET', '/admin/audit-events?event=admin.*&format=jsonl&limit=1');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(res.headers['cache-control']).toBe('no-store');
    const lines = res.body.trimEnd().split('\n').map((line) => JSON.parse(line) as Item);
    expect(lines).toEqual((await list('?event=admin.*')).items);
  });

  it('exports more events than one batch (500) in order', async () => {
    const rows = Array.from({ length: 1203 }, (_, i) => `('bulk.event', now() - make_interval(secs => ${i}), '{}'::jsonb)`);
    await t.testDb.db.query(`INSERT INTO audit_events (event, occurred_at, details) VALUES ${rows.join(', ')}`);
    const res = await call('GET', '/admin/audit-events?event=bulk.event&format=jsonl');
    expect(res.statusCode).toBe(200);
    const times = res.body.trimEnd().split('\n').map((line) => Date.parse((JSON.parse(line) as Item).occurred_at));
    expect(times).toHaveLength(1203);
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('refuses a caller without admin:audit:read (403) and one without a token (401)', async () => {
    const created = (await call('POST', '/admin/clients', { client_name: 'reader', grant_types: ['client_credentials'], scope: 'admin:clients:read admin:audit:read' })).json() as {
      client_id: string;
      client_secret: string;
    };
    const clientsOnly = adminCall(t.app, await tokenFor(t.app, created.client_id, created.client_secret, 'admin:clients:read'));
    const refused = await clientsOnly('GET', '/admin/audit-events');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'insufficient_scope' });
    const auditor = adminCall(t.app, await tokenFor(t.app, created.client_id, created.client_secret, 'admin:audit:read'));
    expect((await auditor('GET', '/admin/audit-events')).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/admin/audit-events' })).statusCode).toBe(401);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['limit=x', 'limit'],
    ['cursor=%21%21', 'cursor'],
    [`cursor=${Buffer.from(JSON.stringify(['x'])).toString('base64url')}`, 'cursor'],
    [`cursor=${Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000000Z', 'not-a-uuid'])).toString('base64url')}`, 'cursor'],
    ['since=yesterday', 'since'],
    ['until=2026-01-01', 'until'],
    ['since=2026-01-01T00:00:00', 'since'],
    ['event=Admin.Client', 'event'],
    ['event=admin.*.x', 'event'],
    ['format=csv', 'format'],
    ['colour=red', 'colour'],
  ])('refuses %s with 400 validation_failed naming the field', async (query, field) => {
    const res = await call('GET', `/admin/audit-events?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'validation_failed', fields: { [field]: expect.any(String) } });
  });
});

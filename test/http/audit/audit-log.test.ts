import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_EVENTS } from '../../../src/services/audit.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, createUser, pkcePair, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, formAction, InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { authorizeUrl, completeInteraction, exchangeCode, FORM, tokenRequest, type Tokens } from '../../helpers/oauth-flow.js';
import { adminCall, adminToken, ADMIN_ENV } from '../admin/admin-helpers.js';
import type { User } from '../../../src/repositories/users-repository.js';

interface AuditLine {
  log: 'audit';
  event: string;
  msg: string;
  level: number;
  time: number;
  ip?: string;
  request_id?: string;
  actor?: string | null;
  actor_type?: string;
  client_id?: string;
  [key: string]: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A full flow through every kind of security event, then checks of what the audit log says about it. */
describe('audit log', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;
  let tokens: Tokens;
  let refreshed: Tokens;
  let adminClientId = '';
  const secrets: string[] = [];

  const audit = (): AuditLine[] => t.logs.map((l) => JSON.parse(l) as AuditLine).filter((l) => l.log === 'audit');
  const events = (event: string) => audit().filter((l) => l.event === event);

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, AUTHLY_LOCKOUT_MAX_ATTEMPTS: '2' });
    client = await createClient(t.app, { grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);

    // A failed login, then a successful one, consent, code, tokens.
    const { verifier, challenge } = pkcePair();
    const start = await browser.get(authorizeUrl(client.clientId, { scope: 'openid offline_access', code_challenge: challenge }));
    const page = await browser.get(start.headers.location as string);
    await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: 'wrong-password-1' });
    const login = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: TEST_PASSWORD });
    const done = await completeInteraction(browser, login, { username: user.username });
    const code = redirectParams(done).get('code')!;
    tokens = (await exchangeCode(t.app, client, { code, verifier })).json() as Tokens;
    refreshed = (await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })).json() as Tokens;
    // Revocation, with the client's secret in the body.
    const revoke = await t.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { ...FORM, authorization: basicAuth(client.clientId, client.clientSecret!) },
      payload: new URLSearchParams({ token: refreshed.access_token }).toString(),
    });
    expect(revoke.statusCode).toBe(200);

    // A replay of the rotated refresh token (past the grace window's successor check: the successor was rotated).
    await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token! });
    const replay = await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(replay.statusCode).toBe(400);
    // A replayed code.
    await exchangeCode(t.app, client, { code, verifier });

    // Consent denied on a second authorization with prompt=consent.
    const again = await browser.get(authorizeUrl(client.clientId, { prompt: 'consent', code_challenge: pkcePair().challenge }));
    const denied = await completeInteraction(browser, again, { username: user.username }, 'deny');
    expect(redirectParams(denied).get('error')).toBe('access_denied');

    // Logout with the ID token: the session ends at once.
    const logout = await browser.get(`/oidc/logout?id_token_hint=${tokens.id_token!}`);
    expect(logout.statusCode).toBe(200);

    // A lockout: two failed logins lock the account, the third attempt is refused.
    const other = new InjectBrowser(t.app);
    const start2 = await other.get(authorizeUrl(client.clientId, { code_challenge: pkcePair().challenge }));
    const page2 = await other.get(start2.headers.location as string);
    for (let i = 0; i < 3; i++) {
      await other.post(formAction(page2.body), { csrf_token: csrfToken(page2.body), username: user.username, password: `wrong-password-${i}x` });
    }

    // Admin changes.
    const call = adminCall(t.app, await adminToken(t.app));
    const created = await call('POST', '/admin/clients', {
      client_name: 'Audited',
      redirect_uris: ['https://rp.example.com/cb'],
      grant_types: ['authorization_code'],
    });
    expect(created.statusCode).toBe(201);
    const body = created.json() as { client_id: string; client_secret: string };
    adminClientId = body.client_id;
    const rotated = await call('POST', `/admin/clients/${adminClientId}/rotate-secret`);
    expect(rotated.statusCode).toBe(200);
    expect((await call('DELETE', `/admin/clients/${adminClientId}`)).statusCode).toBe(204);

    secrets.push(
      TEST_PASSWORD,
      'wrong-password-1',
      code,
      verifier,
      tokens.access_token,
      tokens.refresh_token!,
      tokens.id_token!,
      refreshed.access_token,
      refreshed.refresh_token!,
      client.clientSecret!,
      ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET,
      body.client_secret,
      (rotated.json() as { client_secret: string }).client_secret,
    );
  });
  afterAll(() => t.close());

  it('writes the expected events, in order', () => {
    const seen = audit().map((l) => l.event);
    expect(seen).toEqual([
      'login.failed',
      'login.succeeded',
      'consent.granted',
      'token.issued',
      'token.issued',
      'token.revoked',
      'token.issued',
      'token.reuse_detected',
      'token.reuse_detected',
      'consent.denied',
      'session.ended',
      'login.failed',
      'login.failed',
      'login.locked',
      'token.issued',
      'admin.client.created',
      'admin.client.secret_rotated',
      'admin.client.deleted',
    ]);
  });

  it('every line has the event as message, the client address and the request id', () => {
    for (const line of audit()) {
      expect(line.msg).toBe(line.event);
      expect(line.ip).toBe('127.0.0.1');
      expect(line.request_id).toMatch(UUID);
      expect(AUDIT_EVENTS).toContain(line.event);
    }
  });

  it('login and consent name the user and the client', () => {
    expect(events('login.succeeded')[0]).toMatchObject({ actor: user.id, actor_type: 'user', client_id: client.clientId });
    expect(events('login.failed')[0]).toMatchObject({ client_id: client.clientId, reason: 'invalid_credentials' });
    expect(events('login.failed')[0]).not.toHaveProperty('actor');
    expect(events('login.locked')[0]).toMatchObject({ client_id: client.clientId });
    expect(events('consent.granted')[0]).toMatchObject({ actor: user.id, client_id: client.clientId, scope: 'openid offline_access' });
    expect(events('consent.denied')[0]).toMatchObject({ actor: user.id, client_id: client.clientId });
  });

  it('token.issued names the grant type, client, subject and jti, never the token', () => {
    const [first, second] = events('token.issued');
    const jti = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
    expect(first).toEqual(
      expect.objectContaining({ grant_type: 'authorization_code', client_id: client.clientId, actor: client.clientId, subject: user.id, jti: jti(tokens.access_token) }),
    );
    expect(second).toEqual(expect.objectContaining({ grant_type: 'refresh_token', subject: user.id, jti: jti(refreshed.access_token) }));
    expect(events('token.issued').at(-1)).toMatchObject({ grant_type: 'client_credentials', client_id: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID });
  });

  it('reuse, revocation and logout are recorded with the grant, token type and session', () => {
    const [refreshReplay, codeReplay] = events('token.reuse_detected');
    expect(refreshReplay).toMatchObject({ client_id: client.clientId, subject: user.id, reason: 'refresh_token_replayed' });
    expect(refreshReplay!.grant_id).toMatch(UUID);
    expect(codeReplay).toMatchObject({ client_id: client.clientId, reason: 'authorization_code_replayed', grant_id: refreshReplay!.grant_id });
    expect(events('token.revoked')[0]).toMatchObject({ client_id: client.clientId, token_type: 'access_token' });
    expect(events('session.ended')[0]).toMatchObject({ actor: user.id, actor_type: 'user', reason: 'logout' });
  });

  it('admin changes name the acting admin client and the target', () => {
    for (const event of ['admin.client.created', 'admin.client.secret_rotated', 'admin.client.deleted']) {
      expect(events(event)[0]).toMatchObject({ actor: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, actor_type: 'client' });
    }
  });

  it('no audit line carries a secret, password, code or token', () => {
    expect(secrets.every((s) => s.length > 8)).toBe(true);
    const text = audit().map((l) => JSON.stringify(l));
    for (const secret of secrets) expect(text.filter((l) => l.includes(secret))).toEqual([]);
  });

  it('authly_audit_events_total counts each event; every known event has a series from the start', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    const series = res.body.split('\n').filter((l) => l.startsWith('authly_audit_events_total{'));
    expect(series).toHaveLength(AUDIT_EVENTS.length);
    expect(series).toContain('authly_audit_events_total{event="token.reuse_detected"} 2');
    expect(series).toContain('authly_audit_events_total{event="login.failed"} 3');
    expect(series).toContain('authly_audit_events_total{event="admin.user.created"} 0');
  });
});

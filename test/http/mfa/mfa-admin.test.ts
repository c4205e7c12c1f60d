import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { adminCli, listenOnLoopback } from '../../helpers/cli.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, ADMIN_ENV, adminToken } from '../admin/admin-helpers.js';
import { answerMfa, enrolOnAccountPage, MFA_PATH, signInWithPassword, TestClock } from './mfa-helpers.js';

/**
 * The operator's side: discovery advertises the acr values and amr/acr claims; a client's mfa_policy in
 * the admin API and CLI; an administrator resets a user's factors (API and CLI: audited, mailed). The
 * account pages need Authly's own session.
 */
describe('MFA for operators', () => {
  let t: TestApp;
  let client: TestClient;
  let call: ReturnType<typeof adminCall>;
  let url: string;
  const clock = new TestClock();

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV, { now: clock.now });
    client = await createClient(t.app, { skipConsent: true });
    call = adminCall(t.app, await adminToken(t.app));
    url = await listenOnLoopback(t.app);
  });
  afterAll(() => t.close());
  const cli = adminCli(() => url);

  async function enrolledUser() {
    const user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    await signInWithPassword(browser, client, user.username);
    await enrolOnAccountPage(browser, clock);
    clock.advance(30);
    return user;
  }

  async function asksForCode(username: string): Promise<boolean> {
    const { res } = await signInWithPassword(new InjectBrowser(t.app), client, username);
    return MFA_PATH.test(res.headers.location as string);
  }

  it('discovery lists the acr values and the amr and acr claims', async () => {
    const doc = (await t.app.inject('/.well-known/openid-configuration')).json() as Record<string, string[]>;
    expect(doc.acr_values_supported).toEqual(['urn:authly:acr:sf', 'urn:authly:acr:mfa', 'http://schemas.openid.net/pape/policies/2007/06/multi-factor']);
    expect(doc.claims_supported).toEqual(expect.arrayContaining(['amr', 'acr']));
    expect(JSON.stringify(doc)).not.toContain('/account');
  });

  it("a client's mfa_policy through the admin API: set, shown, cleared; other values refused", async () => {
    const created = await call('POST', '/admin/clients', { client_name: 'Policy', redirect_uris: ['https://app.example.com/cb'], mfa_policy: 'required' });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as { client_id: string; mfa_policy: string }).client_id;
    expect((created.json() as { mfa_policy: string }).mfa_policy).toBe('required');
    expect((await call('GET', `/admin/clients/${id}`)).json()).toMatchObject({ mfa_policy: 'required' });
    expect((await call('PATCH', `/admin/clients/${id}`, { mfa_policy: null })).json()).toMatchObject({ mfa_policy: null });
    const bad = await call('PATCH', `/admin/clients/${id}`, { mfa_policy: 'always' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'validation_failed' });
    expect(Object.keys((bad.json() as { fields: Record<string, string> }).fields)).toEqual(['mfa_policy']);
  });

  it("a client's mfa_policy through the CLI", async () => {
    const created = await cli('--json', 'client', 'create', '--name', 'CLI policy', '--redirect-uri', 'https://app.example.com/cb', '--mfa-policy', 'off');
    expect(created.code).toBe(0);
    const id = (JSON.parse(created.stdout) as { client_id: string; mfa_policy: string }).client_id;
    expect(JSON.parse(created.stdout)).toMatchObject({ mfa_policy: 'off' });
    const updated = await cli('--json', 'client', 'update', id, '--mfa-policy', '');
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ mfa_policy: null });
  });

  it("an administrator resets a user's factors: audited, mailed, and the next sign-in asks only for the password", async () => {
    const user = await enrolledUser();
    expect(await asksForCode(user.username)).toBe(true);
    const res = await call('POST', `/admin/users/${user.id}/reset-factors`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ user_id: user.id, removed: 2 });
    expect(await asksForCode(user.username)).toBe(false);
    expect(t.logs.some((l) => l.includes('"event":"admin.user.factors_reset"') && l.includes(user.id))).toBe(true);
    const mail = await t.testDb.db.query<{ change: string }>(`SELECT data->>'change' AS change FROM mail_outbox WHERE recipient = $1 ORDER BY created_at`, [user.email]);
    expect(mail.rows.map((r) => r.change)).toEqual(['totp_enabled', 'factors_reset']);

    expect((await call('POST', '/admin/users/00000000-0000-4000-8000-000000000000/reset-factors')).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'POST', url: `/admin/users/${user.id}/reset-factors` })).statusCode).toBe(401);
  });

  it('authly admin user reset-factors', async () => {
    const user = await enrolledUser();
    expect(await cli('user', 'reset-factors', user.id)).toEqual({ code: 0, stdout: `Second factors reset for user ${user.id}.\n`, stderr: '' });
    expect(await asksForCode(user.username)).toBe(false);
  });

  it('the account pages need a session: a redirect to the account sign-in that returns here', async () => {
    for (const path of ['/account/security/totp', '/account/security/totp/disable', '/account/security/totp/recovery-codes']) {
      const res = await t.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'csrf_token=x' });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`/account/sign-in?return_to=${encodeURIComponent(path)}`);
    }
    const get = await t.app.inject('/account/security/totp');
    expect(get.headers.location).toBe('/account/sign-in?return_to=%2Faccount%2Fsecurity%2Ftotp');
  });

  it('the MFA page offers the code form (a place for other ways is kept for passkeys)', async () => {
    const user = await enrolledUser();
    const browser = new InjectBrowser(t.app);
    const { res } = await signInWithPassword(browser, client, user.username);
    const { page } = await answerMfa(browser, res, 'abcde-fghjk');
    expect(page.headers['content-security-policy']).toContain("script-src 'none'");
    expect(page.body).toContain('<label for="code">Code</label>');
  });
});

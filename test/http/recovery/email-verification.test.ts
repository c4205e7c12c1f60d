import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUserById } from '../../../src/repositories/users-repository.js';
import { csrfToken, formAction, InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl, obtainTokens, userinfo } from '../../helpers/oauth-flow.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { TEST_DATABASE_URL } from '../../helpers/test-db.js';
import { ADMIN_ENV, adminCall, adminToken } from '../admin/admin-helpers.js';
import { hiddenFields, latestLink, outbox, submit, tokenOf } from './recovery-helpers.js';

/**
 * Issue 12 §2: users created without email_verified get a confirmation link (single use, expiring, stored
 * as a hash); email_verified in ID tokens and userinfo is true only after it; a new link from the sign-in
 * page (same answer whatever the address) and from /account/email, rate-limited; invitations; the admin
 * API and REQUIRE_EMAIL_VERIFICATION.
 */
describe('email verification and invitations', () => {
  let t: TestApp;
  let client: TestClient;
  let call: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, REQUIRE_EMAIL_VERIFICATION: 'true' });
    client = await createClient(t.app);
    call = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t.close());

  async function signIn(browser: InjectBrowser, username: string, password = TEST_PASSWORD) {
    const start = await browser.get(authorizeUrl(client.clientId, { scope: 'openid email' }));
    const page = await browser.get(start.headers.location as string);
    return browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username, password });
  }

  it('an admin-created user gets a link; the sign-in stops until it is used; then userinfo says email_verified (ID tokens carry the claim only through userinfo here, OIDC Core 5.4)', async () => {
    const created = await call('POST', '/admin/users', { username: 'vera', email: 'vera@example.com', password: TEST_PASSWORD });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ email_verified: false });
    const mail = (await outbox(t, 'email_verification')).find((m) => m.recipient === 'vera@example.com')!;
    expect(mail.data).toEqual({ username: 'vera', link: expect.stringMatching(/^http:\/\/localhost:8000\/verify-email\?token=[A-Za-z0-9_-]{43}$/), expiresMinutes: '1440' });

    // REQUIRE_EMAIL_VERIFICATION: the right password leads to a page that says so, with a resend button.
    const browser = new InjectBrowser(t.app);
    const stopped = await signIn(browser, 'vera');
    expect(stopped.statusCode).toBe(403);
    expect(stopped.body).toContain('<h1>Confirm your email address first</h1>');
    expect(stopped.headers['set-cookie'] ?? '').not.toContain('authly_session=');
    const resend = await browser.post(formAction(stopped.body), hiddenFields(stopped.body));
    expect(resend.statusCode).toBe(200);
    // Within a minute of the first link, no second one.
    expect((await outbox(t, 'email_verification')).filter((m) => m.recipient === 'vera@example.com')).toHaveLength(1);

    const link = await latestLink(t, 'vera@example.com', 'email_verification');
    const page = await browser.get(link);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Confirm vera@example.com as the email address of the account vera.');
    // The GET (what a mail scanner does) did not use the link.
    const userId = (created.json() as { id: string }).id;
    expect((await findUserById(t.testDb.db, userId))!.emailVerified).toBe(false);
    const forged = await browser.post('/verify-email', { ...hiddenFields(page.body), csrf_token: 'forged' });
    expect(forged.statusCode).toBe(403);
    const confirmed = await browser.post('/verify-email', hiddenFields(page.body));
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toContain('Thank you: vera@example.com is confirmed.');
    expect((await browser.post('/verify-email', hiddenFields(page.body))).statusCode).toBe(400);

    const tokens = await obtainTokens(t.app, new InjectBrowser(t.app), client, 'vera', { scope: 'openid email' });
    expect((await userinfo(t.app, tokens.access_token)).json()).toMatchObject({ email: 'vera@example.com', email_verified: true });
  });

  it('email_verified is false in userinfo while the address is unconfirmed (no REQUIRE_EMAIL_VERIFICATION)', async () => {
    const other = await createTestApp();
    try {
      const c = await createClient(other.app);
      const user = await createUser(other.app, { emailVerified: false });
      const tokens = await obtainTokens(other.app, new InjectBrowser(other.app), c, user.username, { scope: 'openid email' });
      expect((await userinfo(other.app, tokens.access_token)).json()).toMatchObject({ email_verified: false });
    } finally {
      await other.close();
    }
  });

  it('the sign-in page resend form answers the same whatever the address, and mails only a real unverified one', async () => {
    const user = await createUser(t.app, { emailVerified: false });
    const browser = new InjectBrowser(t.app);
    const real = await submit(browser, '/verify-email/resend', { login: user.email! });
    const unknown = await submit(browser, '/verify-email/resend', { login: 'ghost@example.com' });
    const verified = await createUser(t.app);
    const done = await submit(browser, '/verify-email/resend', { login: verified.email! });
    expect([real.statusCode, unknown.statusCode, done.statusCode]).toEqual([200, 200, 200]);
    expect(unknown.body).toBe(real.body.replace(user.email!, 'ghost@example.com'));
    expect(done.body).toBe(real.body.replace(user.email!, verified.email!));
    const mails = await outbox(t, 'email_verification');
    expect(mails.filter((m) => m.recipient === user.email)).toHaveLength(1);
    expect(mails.filter((m) => m.recipient === verified.email)).toHaveLength(0);
    // Rate limit: another request at once sends nothing; five an hour at most.
    await submit(browser, '/verify-email/resend', { login: user.email! });
    expect((await outbox(t, 'email_verification')).filter((m) => m.recipient === user.email)).toHaveLength(1);
    for (let i = 0; i < 6; i++) {
      await t.testDb.db.query("UPDATE user_action_tokens SET created_at = created_at - interval '61 seconds' WHERE user_id = $1", [user.id]);
      await submit(browser, '/verify-email/resend', { login: user.username });
    }
    expect((await outbox(t, 'email_verification')).filter((m) => m.recipient === user.email)).toHaveLength(5);
  });

  it(`concurrent resend requests for one account send one link (the user row is locked while counting; ${TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, async () => {
    const user = await createUser(t.app, { emailVerified: false });
    const browsers = Array.from({ length: 5 }, () => new InjectBrowser(t.app));
    const pages = await Promise.all(browsers.map((b) => b.get('/verify-email/resend')));
    const results = await Promise.all(browsers.map((b, i) => b.post('/verify-email/resend', { csrf_token: csrfToken(pages[i]!.body), login: user.username })));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect((await outbox(t, 'email_verification')).filter((m) => m.recipient === user.email)).toHaveLength(1);
  });

  it('a link for an address the user no longer has confirms nothing', async () => {
    const user = await createUser(t.app, { emailVerified: false });
    await submit(new InjectBrowser(t.app), '/verify-email/resend', { login: user.username });
    const link = await latestLink(t, user.email!, 'email_verification');
    const browser = new InjectBrowser(t.app);
    const fields = hiddenFields((await browser.get(link)).body);
    await t.testDb.db.query("UPDATE users SET email = 'moved-' || email WHERE id = $1", [user.id]);
    expect((await browser.post('/verify-email', fields)).statusCode).toBe(400);
    expect((await findUserById(t.testDb.db, user.id))!.emailVerified).toBe(false);
  });

  it('admin send-verification: 202 and a link; 409 when already verified; 404 for an unknown user', async () => {
    const user = await createUser(t.app, { emailVerified: false });
    const sent = await call('POST', `/admin/users/${user.id}/send-verification`);
    expect(sent.statusCode).toBe(202);
    expect(sent.json()).toEqual({ user_id: user.id, sent: 'email_verification' });
    expect((await outbox(t, 'email_verification')).filter((m) => m.recipient === user.email)).toHaveLength(1);
    const verified = await createUser(t.app);
    const refused = await call('POST', `/admin/users/${verified.id}/send-verification`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({ error: 'conflict', message: 'the user has no unverified email address', fields: { email: 'already verified' } });
    expect((await call('POST', '/admin/users/00000000-0000-4000-8000-000000000000/send-verification')).statusCode).toBe(404);
    expect(t.logs.some((l) => l.includes('"event":"admin.user.verification_sent"') && l.includes(user.id))).toBe(true);
  });

  it('admin invite: a set-your-password link that also confirms the address; the user then signs in', async () => {
    const created = await call('POST', '/admin/users', { username: 'ivy', email: 'ivy@example.com', invite: true });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as { id: string }).id;
    // invite: true sends the invitation instead of a separate confirmation link.
    expect((await outbox(t, 'email_verification')).filter((m) => m.recipient === 'ivy@example.com')).toHaveLength(0);
    const again = await call('POST', `/admin/users/${id}/invite`);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ user_id: id, sent: 'invitation' });
    const invitations = (await outbox(t, 'invitation')).filter((m) => m.recipient === 'ivy@example.com');
    expect(invitations).toHaveLength(2);
    expect(invitations[1]!.data).toEqual({ username: 'ivy', link: expect.stringMatching(/^http:\/\/localhost:8000\/invitation\?token=/), expiresHours: '72' });
    // The second invitation superseded the first.
    const first = new URL(invitations[0]!.data.link!);
    expect((await new InjectBrowser(t.app).get(first.pathname + first.search)).statusCode).toBe(400);

    const browser = new InjectBrowser(t.app);
    const link = await latestLink(t, 'ivy@example.com', 'invitation');
    const page = await browser.get(link);
    expect(page.body).toContain('<h1>Welcome, ivy</h1>');
    const done = await browser.post('/invitation', { ...hiddenFields(page.body), password: 'ivy password', password_confirm: 'ivy password' });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('Your password is set and your email address is confirmed.');
    expect((await findUserById(t.testDb.db, id))!.emailVerified).toBe(true);
    expect((await signIn(new InjectBrowser(t.app), 'ivy', 'ivy password')).statusCode).toBe(303);

    const noEmail = await call('POST', '/admin/users', { username: 'nomail' });
    const refused = await call('POST', `/admin/users/${(noEmail.json() as { id: string }).id}/invite`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({ error: 'conflict', message: 'the user has no email address', fields: { email: 'missing' } });
    const invalid = await call('POST', '/admin/users', { username: 'nomail2', invite: true });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ error: 'validation_failed', fields: { invite: 'an invitation needs an email address' } });
  });

  it('users without an email address are not stopped by REQUIRE_EMAIL_VERIFICATION', async () => {
    const user = await createUser(t.app, { email: null, emailVerified: false });
    expect((await signIn(new InjectBrowser(t.app), user.username)).statusCode).toBe(303);
  });

  it('links are absolute on the issuer', async () => {
    for (const m of await outbox(t)) {
      if (m.data.link) expect(m.data.link.startsWith(`${TEST_ISSUER}/`)).toBe(true);
      if (m.data.link) expect(tokenOf(new URL(m.data.link).search)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfToken, formAction, InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl, obtainTokens, tokenRequest, userinfo } from '../../helpers/oauth-flow.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { TEST_DATABASE_URL } from '../../helpers/test-db.js';
import { EQUAL_ANSWER_MS } from '../../../src/routes/recovery/recovery-routes.js';
import { runCleanup } from '../../../src/services/cleanup-service.js';
import { hiddenFields, latestLink, outbox, submit, tokenOf } from './recovery-helpers.js';

/**
 * Issue 12 §2, "Forgot password?": the same answer whether or not the account exists, a single-use link
 * that expires, the admin API's password rules, and after a reset every session, refresh token and
 * access token of the user revoked, the login throttle cleared and a password_changed mail queued.
 */
describe('password recovery', () => {
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp({ AUTHLY_LOCKOUT_MAX_ATTEMPTS: '3', AUTHLY_LOCKOUT_DURATION_SECONDS: '600' });
    client = await createClient(t.app);
  });
  afterAll(() => t.close());

  async function forgot(browser: InjectBrowser, login: string) {
    return submit(browser, '/forgot-password', { login });
  }

  it('answers an existing and an unknown account with the same page and status, and mails only the real one', async () => {
    const user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    const before = (await outbox(t)).length;
    const timed = async (login: string) => {
      const page = await browser.get('/forgot-password');
      const started = performance.now();
      const res = await browser.post('/forgot-password', { csrf_token: csrfToken(page.body), login });
      return { res, ms: performance.now() - started };
    };
    const { res: real, ms: realMs } = await timed(user.email!);
    const { res: unknown, ms: unknownMs } = await timed('nobody@example.com');
    // Both answers wait for the same floor, so the work for a real account is not visible in the time.
    expect(realMs).toBeGreaterThanOrEqual(EQUAL_ANSWER_MS - 5);
    expect(unknownMs).toBeGreaterThanOrEqual(EQUAL_ANSWER_MS - 5);
    expect(real.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(200);
    // The same browser, so the same CSRF token: the pages differ only in the login typed.
    expect(unknown.body).toBe(real.body.replace(user.email!, 'nobody@example.com'));
    expect(real.body).toContain('If an account matches what you entered, a link is on its way to its email address. The link works once and expires in 30 minutes.');
    const mails = await outbox(t);
    expect(mails.length).toBe(before + 1);
    const mail = mails.at(-1)!;
    expect(mail).toMatchObject({ recipient: user.email, template: 'password_reset', locale: 'en' });
    expect(mail.data).toEqual({ username: user.username, link: expect.stringMatching(/^http:\/\/localhost:8000\/reset-password\?token=[A-Za-z0-9_-]{43}$/), expiresMinutes: '30' });
    expect(mail.data.link!.startsWith(TEST_ISSUER)).toBe(true);
  });

  it('stores only the hash of the link token', async () => {
    const user = await createUser(t.app);
    await forgot(new InjectBrowser(t.app), user.username);
    const token = tokenOf(await latestLink(t, user.email!, 'password_reset'));
    const { rows } = await t.testDb.db.query<{ token_hash: string }>('SELECT token_hash FROM user_action_tokens WHERE user_id = $1', [user.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).not.toContain(token);
    expect(rows[0]!.token_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('needs the form CSRF token: a cross-site post is refused and mails nothing', async () => {
    const user = await createUser(t.app);
    const res = await new InjectBrowser(t.app).post('/forgot-password', { login: user.username, csrf_token: 'forged' });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('The form has expired');
    expect((await outbox(t)).filter((m) => m.recipient === user.email)).toEqual([]);
  });

  it('resets the password: sessions, refresh and access tokens revoked, throttle cleared, mail sent; the link works once', async () => {
    const user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    const tokens = await obtainTokens(t.app, browser, client, user.username, { scope: 'openid offline_access' });
    // Lock the account from this address (three wrong passwords).
    const attacker = new InjectBrowser(t.app);
    for (let i = 0; i < 3; i++) await signIn(attacker, user.username, 'wrong password');
    expect((await signIn(attacker, user.username, TEST_PASSWORD)).statusCode).toBe(429);

    await forgot(new InjectBrowser(t.app), user.username);
    const link = await latestLink(t, user.email!, 'password_reset');
    const reader = new InjectBrowser(t.app);
    // A GET (a mail scanner) only shows the form; twice is fine.
    expect((await reader.get(link)).statusCode).toBe(200);
    const page = await reader.get(link);
    expect(page.body).toContain('<h1>Choose a new password</h1>');
    expect(page.body).toContain('autocomplete="new-password"');
    const fields = hiddenFields(page.body);

    const mismatch = await reader.post('/reset-password', { ...fields, password: 'a new password 1', password_confirm: 'a new password 2' });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body).toContain('The two passwords are not the same.');
    const short = await reader.post('/reset-password', { ...fields, password: 'short', password_confirm: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.body).toContain('The password must have at least 8 characters.');
    const forged = await reader.post('/reset-password', { ...fields, csrf_token: 'forged', password: 'a new password', password_confirm: 'a new password' });
    expect(forged.statusCode).toBe(403);

    const done = await reader.post('/reset-password', { ...fields, password: 'a new password', password_confirm: 'a new password' });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('<h1>Password changed</h1>');
    expect(done.body).toContain('every device signed in to your account was signed out');

    // Every token and session of the user is gone.
    const refreshed = await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(refreshed.statusCode).toBe(400);
    expect(refreshed.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(401);
    const silent = await browser.get(authorizeUrl(client.clientId, { prompt: 'none' }));
    expect(redirectParams(silent).get('error')).toBe('login_required');
    const { rows } = await t.testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [user.id]);
    expect(rows[0]!.n).toBe(0);

    // The mail, and the throttle: the owner signs in at once from the address that was locked.
    const changed = (await outbox(t, 'password_changed')).filter((m) => m.recipient === user.email);
    expect(changed).toEqual([{ recipient: user.email, template: 'password_changed', locale: 'en', data: { username: user.username, accountUrl: `${TEST_ISSUER}/account` } }]);
    expect((await signIn(attacker, user.username, TEST_PASSWORD)).statusCode).toBe(200);
    expect((await signIn(attacker, user.username, 'a new password')).statusCode).toBe(303);

    // Single use.
    const again = await reader.post('/reset-password', { ...fields, password: 'another password', password_confirm: 'another password' });
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('The link is invalid, was already used, or has expired.');
    expect((await reader.get(link)).statusCode).toBe(400);
    const audit = t.logs.filter((l) => l.includes('"event":"user.password_reset"'));
    expect(audit.length).toBe(1);
    expect(audit[0]).not.toContain(tokenOf(link));
  });

  it('refuses an expired link (expires_at moved into the past) on GET and POST', async () => {
    const user = await createUser(t.app);
    await forgot(new InjectBrowser(t.app), user.username);
    const link = await latestLink(t, user.email!, 'password_reset');
    const browser = new InjectBrowser(t.app);
    const fields = hiddenFields((await browser.get(link)).body);
    await t.testDb.db.query("UPDATE user_action_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1", [user.id]);
    const page = await browser.get(link);
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain('This link cannot be used');
    expect(page.body).toContain('href="/forgot-password"');
    const post = await browser.post('/reset-password', { ...fields, password: 'a new password', password_confirm: 'a new password' });
    expect(post.statusCode).toBe(400);
  });

  it('a newer link supersedes the older one; a second request within a minute mails nothing', async () => {
    const user = await createUser(t.app);
    await forgot(new InjectBrowser(t.app), user.username);
    const first = await latestLink(t, user.email!, 'password_reset');
    await forgot(new InjectBrowser(t.app), user.username);
    expect((await outbox(t, 'password_reset')).filter((m) => m.recipient === user.email)).toHaveLength(1);
    // A minute later (moved in the database), a new link replaces the first.
    await t.testDb.db.query("UPDATE user_action_tokens SET created_at = created_at - interval '2 minutes' WHERE user_id = $1", [user.id]);
    await forgot(new InjectBrowser(t.app), user.username);
    const second = await latestLink(t, user.email!, 'password_reset');
    expect(second).not.toBe(first);
    expect((await new InjectBrowser(t.app).get(first)).statusCode).toBe(400);
    expect((await new InjectBrowser(t.app).get(second)).statusCode).toBe(200);
  });

  it('rejects malformed tokens with a page, never a 5xx', async () => {
    const browser = new InjectBrowser(t.app);
    for (const url of ['/reset-password', '/reset-password?token=', '/reset-password?token=abc', `/reset-password?token=${'A'.repeat(43)}`, '/reset-password?token=a&token=b']) {
      const res = await browser.get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    }
  });

  it(`two concurrent uses of one link: exactly one wins (${TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, async () => {
    const user = await createUser(t.app);
    await forgot(new InjectBrowser(t.app), user.username);
    const link = await latestLink(t, user.email!, 'password_reset');
    const fields = hiddenFields((await new InjectBrowser(t.app).get(link)).body);
    const results = await Promise.all(
      ['first racer pw', 'second racer pw', 'third racer pw'].map((pw) => new InjectBrowser(t.app).post('/reset-password', { ...fields, password: pw, password_confirm: pw })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400, 400]);
    expect((await outbox(t, 'password_changed')).filter((m) => m.recipient === user.email)).toHaveLength(1);
  });

  it('the locked-out sign-in page says how long to wait and offers "Forgot password?"', async () => {
    const user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    for (let i = 0; i < 3; i++) await signIn(browser, user.username, 'wrong password');
    const locked = await signIn(browser, user.username, 'wrong password');
    expect(locked.statusCode).toBe(429);
    expect(locked.headers['retry-after']).toMatch(/^(59\d|600)$/);
    expect(locked.body).toContain('<p class="error" role="alert">Too many failed attempts. Try again in 10 minutes.</p>');
    expect(locked.body).toMatch(/<a href="\/forgot-password\?interaction=[A-Za-z0-9_-]+">Forgot password\?<\/a>/);
    const german = await signIn(browser, user.username, 'wrong password', { ui_locales: 'de' });
    expect(german.body).toContain('Zu viele Fehlversuche. Versuchen Sie es in 10 Minuten erneut.');
  });

  it('the cleanup job deletes links a day past their expiry (the resend counts need the recent ones)', async () => {
    const user = await createUser(t.app);
    await forgot(new InjectBrowser(t.app), user.username);
    await t.testDb.db.query("UPDATE user_action_tokens SET expires_at = now() - interval '25 hours' WHERE user_id = $1", [user.id]);
    const result = await runCleanup(t.app.ctx);
    expect(result.deleted.user_action_tokens).toBe(1);
    const { rows } = await t.testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM user_action_tokens WHERE user_id = $1', [user.id]);
    expect(rows[0]!.n).toBe(0);
    expect((await t.testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM user_action_tokens')).rows[0]!.n).toBeGreaterThan(0);
  });

  it('from the sign-in page, the reset leads back to the pending sign-in, which then succeeds', async () => {
    const user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    const start = await browser.get(authorizeUrl(client.clientId));
    const uid = (start.headers.location as string).split('/').pop()!;
    const login = await browser.get(start.headers.location as string);
    const forgotHref = /<a href="([^"]+)">Forgot password\?<\/a>/.exec(login.body)![1]!.replace(/&amp;/g, '&');
    expect(forgotHref).toBe(`/forgot-password?interaction=${uid}`);
    await submit(browser, forgotHref, { login: user.username });
    const link = await latestLink(t, user.email!, 'password_reset');
    expect(link).toMatch(new RegExp(`^/reset-password\\?token=[A-Za-z0-9_-]{43}&interaction=${uid}$`));
    const done = await submit(browser, link, { password: 'back to the app', password_confirm: 'back to the app' });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain(`<a href="/interaction/${uid}">Continue to sign in</a>`);
    const page = await browser.get(`/interaction/${uid}`);
    const signedIn = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: 'back to the app' });
    expect(signedIn.statusCode).toBe(303);
  });

  /** One sign-in attempt in a fresh interaction of `browser`. */
  async function signIn(browser: InjectBrowser, username: string, password: string, extra: Record<string, string> = {}) {
    const start = await browser.get(authorizeUrl(client.clientId, extra));
    const page = await browser.get(start.headers.location as string);
    return browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username, password });
  }
});

describe('password recovery switched off', () => {
  let t: TestApp | undefined;
  afterAll(() => t?.close());

  it('PASSWORD_RECOVERY_ENABLED=false: the sign-in page has no link, the page is 404', async () => {
    t = await createTestApp({ PASSWORD_RECOVERY_ENABLED: 'false' });
    const client = await createClient(t.app);
    const browser = new InjectBrowser(t.app);
    const start = await browser.get(authorizeUrl(client.clientId));
    const page = await browser.get(start.headers.location as string);
    expect(page.body).not.toContain('/forgot-password');
    const res = await browser.get('/forgot-password');
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('This page is not available on this server.');
  });
});

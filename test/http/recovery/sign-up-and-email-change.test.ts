import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUserById, findUserByUsername } from '../../../src/repositories/users-repository.js';
import { csrfToken, formAction, InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl, obtainCode } from '../../helpers/oauth-flow.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { hiddenFields, latestLink, outbox, submit } from './recovery-helpers.js';

/**
 * Issue 12 §2: optional self-registration (REGISTRATION_ENABLED) without telling who has an account, and
 * the account page's email change (the new address confirms, the old one is told, the change applies only
 * when the link is used).
 */
describe('self-registration', () => {
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp({ REGISTRATION_ENABLED: 'true' });
    client = await createClient(t.app);
  });
  afterAll(() => t.close());

  const fields = (username: string, email: string, password = 'a good password') => ({ username, email, password, password_confirm: password });

  it('is linked from the sign-in page, creates an unverified user and mails a link; the user goes on to sign in', async () => {
    const browser = new InjectBrowser(t.app);
    const start = await browser.get(authorizeUrl(client.clientId));
    const login = await browser.get(start.headers.location as string);
    const uid = (start.headers.location as string).split('/').pop()!;
    expect(login.body).toContain(`<a href="/sign-up?interaction=${uid}">Create an account</a>`);
    expect(login.body).toContain('<a href="/verify-email/resend">Did not get the confirmation email?</a>');

    const form = await browser.get(`/sign-up?interaction=${uid}`);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('autocomplete="new-password"');
    const done = await browser.post(formAction(form.body), { ...hiddenFields(form.body), ...fields('newbie', 'newbie@example.com') });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('<h1>Check your email</h1>');
    expect(done.body).toContain(`<a href="/interaction/${uid}">Continue to sign in</a>`);
    const user = (await findUserByUsername(t.testDb.db, 'newbie'))!;
    expect(user).toMatchObject({ email: 'newbie@example.com', emailVerified: false });
    expect((await outbox(t, 'email_verification')).filter((m) => m.recipient === 'newbie@example.com')).toHaveLength(1);

    // Back to the pending sign-in with the new account.
    const page = await browser.get(`/interaction/${uid}`);
    const signedIn = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: 'newbie', password: 'a good password' });
    expect(signedIn.statusCode).toBe(303);
  });

  it('an address already in use answers like a fresh one and mails its owner a reset link instead', async () => {
    const owner = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    const fresh = await submit(browser, '/sign-up', fields('fresh-one', 'fresh-one@example.com'));
    const taken = await submit(browser, '/sign-up', fields('second-one', owner.email!));
    expect(fresh.statusCode).toBe(200);
    expect(taken.statusCode).toBe(200);
    expect(taken.body).toBe(fresh.body.replace('fresh-one@example.com', owner.email!));
    expect(await findUserByUsername(t.testDb.db, 'second-one')).toBeUndefined();
    const toOwner = (await outbox(t)).filter((m) => m.recipient === owner.email);
    expect(toOwner.map((m) => m.template)).toEqual(['password_reset']);
  });

  it('says a taken username is taken (409), and checks the same rules as the admin API', async () => {
    const existing = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    const taken = await submit(browser, '/sign-up', fields(existing.username.toUpperCase(), 'someone-else@example.com'));
    expect(taken.statusCode).toBe(409);
    expect(taken.body).toContain('This username is taken. Choose another.');
    const cases: [Record<string, string>, string][] = [
      [fields('bad name', 'a@example.com'), 'A username has 1 to 255 letters, digits or . _ @ + -'],
      [fields('okname', 'not-an-address'), 'Enter a valid email address.'],
      [fields('okname', 'a@example.com', 'short'), 'The password must have at least 8 characters.'],
      [{ ...fields('okname', 'a@example.com'), password_confirm: 'different password' }, 'The two passwords are not the same.'],
    ];
    for (const [input, message] of cases) {
      const res = await submit(browser, '/sign-up', input);
      expect(res.statusCode, message).toBe(400);
      expect(res.body).toContain(message);
    }
    const forged = await new InjectBrowser(t.app).post('/sign-up', { ...fields('forger', 'forger@example.com'), csrf_token: 'x' });
    expect(forged.statusCode).toBe(403);
  });

  it('is off by default: no link on the sign-in page, 404 on the page', async () => {
    const off = await createTestApp();
    try {
      const c = await createClient(off.app);
      const browser = new InjectBrowser(off.app);
      const start = await browser.get(authorizeUrl(c.clientId));
      const login = await browser.get(start.headers.location as string);
      expect(login.body).not.toContain('/sign-up');
      expect(login.body).toMatch(/<a href="\/forgot-password\?interaction=[A-Za-z0-9_-]+">Forgot password\?<\/a>/);
      expect((await browser.get('/sign-up')).statusCode).toBe(404);
      expect((await browser.post('/sign-up', fields('x', 'x@example.com'))).statusCode).toBe(404);
    } finally {
      await off.close();
    }
  });
});

describe('email change on the account page', () => {
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
  });
  afterAll(() => t.close());

  async function signedIn() {
    const user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    await obtainCode(browser, client, user.username);
    return { user, browser };
  }

  it('needs a session: without one it redirects to the account sign-in', async () => {
    const res = await new InjectBrowser(t.app).get('/account/email');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account/sign-in?return_to=%2Faccount%2Femail');
  });

  it('mails a link to the new address and a notice to the old one; the address changes only when the link is used', async () => {
    const { user, browser } = await signedIn();
    const page = await browser.get('/account/email');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`Your email address: ${user.email} Confirmed.`);
    const csrf = csrfToken(page.body);

    const wrong = await browser.post('/account/email', { csrf_token: csrf, action: 'change', email: 'new-home@example.com', current_password: 'wrong' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('The current password is not right.');
    const forged = await browser.post('/account/email', { csrf_token: 'forged', action: 'change', email: 'new-home@example.com', current_password: TEST_PASSWORD });
    expect(forged.statusCode).toBe(403);

    const sent = await browser.post('/account/email', { csrf_token: csrf, action: 'change', email: 'new-home@example.com', current_password: TEST_PASSWORD });
    expect(sent.statusCode).toBe(200);
    expect(sent.body).toContain('We sent a confirmation link to new-home@example.com. Your address changes when you open it.');
    const notice = (await outbox(t, 'email_changed')).filter((m) => m.recipient === user.email);
    expect(notice).toEqual([{ recipient: user.email, template: 'email_changed', locale: 'en', data: { username: user.username, newEmail: 'new-home@example.com', accountUrl: `${TEST_ISSUER}/account` } }]);
    expect((await findUserById(t.testDb.db, user.id))!.email).toBe(user.email);

    const link = await latestLink(t, 'new-home@example.com', 'email_verification');
    const confirm = await browser.get(link);
    expect(confirm.body).toContain(`Make new-home@example.com the email address of the account ${user.username}.`);
    const done = await browser.post('/verify-email', hiddenFields(confirm.body));
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('The email address of your account is now new-home@example.com.');
    expect(await findUserById(t.testDb.db, user.id)).toMatchObject({ email: 'new-home@example.com', emailVerified: true });
    expect(t.logs.some((l) => l.includes('"event":"user.email_changed"') && l.includes(user.id))).toBe(true);
  });

  it('an address of another account gets the same answer and nothing is sent', async () => {
    const { user, browser } = await signedIn();
    const other = await createUser(t.app);
    const csrf = csrfToken((await browser.get('/account/email')).body);
    const res = await browser.post('/account/email', { csrf_token: csrf, action: 'change', email: other.email!, current_password: TEST_PASSWORD });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`We sent a confirmation link to ${other.email}.`);
    expect((await outbox(t)).filter((m) => m.recipient === other.email || m.recipient === user.email)).toEqual([]);
  });

  it('a link to an address taken meanwhile says so (409) and changes nothing', async () => {
    const { user, browser } = await signedIn();
    const csrf = csrfToken((await browser.get('/account/email')).body);
    await browser.post('/account/email', { csrf_token: csrf, action: 'change', email: 'contested@example.com', current_password: TEST_PASSWORD });
    const link = await latestLink(t, 'contested@example.com', 'email_verification');
    await createUser(t.app, { email: 'contested@example.com' });
    const confirm = await browser.get(link);
    const res = await browser.post('/verify-email', hiddenFields(confirm.body));
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('This email address is already used by another account.');
    expect((await findUserById(t.testDb.db, user.id))!.email).toBe(user.email);
  });

  it('resends a confirmation link for an unconfirmed address, once a minute', async () => {
    const user = await createUser(t.app, { emailVerified: false });
    const browser = new InjectBrowser(t.app);
    await obtainCode(browser, client, user.username);
    const page = await browser.get('/account/email');
    expect(page.body).toContain('Not confirmed yet.');
    const csrf = csrfToken(page.body);
    const sent = await browser.post('/account/email', { csrf_token: csrf, action: 'resend' });
    expect(sent.statusCode).toBe(200);
    expect(sent.body).toContain(`A new confirmation link was sent to ${user.email}.`);
    const again = await browser.post('/account/email', { csrf_token: csrf, action: 'resend' });
    expect(again.statusCode).toBe(429);
    expect(again.body).toContain('A link was sent a moment ago. Wait a minute before you ask for another.');
    expect((await outbox(t, 'email_verification')).filter((m) => m.recipient === user.email)).toHaveLength(1);
  });
});

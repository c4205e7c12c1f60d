import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordInteractionFactors } from '../../../src/repositories/interactions-repository.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { PASSKEY_SCRIPT, PASSKEY_SCRIPT_INTEGRITY } from '../../../src/views/passkey-script.js';
import { InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { completeInteraction } from '../../helpers/oauth-flow.js';
import { FLAGS, SoftwareAuthenticator } from '../../helpers/software-authenticator.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { atLoginPage, passkeySignIn, registerPasskey, signedInBrowser, SIGN_IN_FAILED, signInOptions } from './passkeys-helpers.js';

/**
 * Passkey sign-in through app.inject with a software authenticator: first factor (discoverable, user
 * verified), second factor (the pending user's own credential), and every way an assertion is refused —
 * each with the one generic answer of a failed sign-in.
 */
describe('passkey sign-in', () => {
  let t: TestApp;
  let client: TestClient;
  let alice: User;
  let bob: User;
  const aliceKey = new SoftwareAuthenticator(TEST_ISSUER);
  const aliceSynced = new SoftwareAuthenticator(TEST_ISSUER, undefined, true);
  const bobKey = new SoftwareAuthenticator(TEST_ISSUER);
  let aliceCredential = '';

  const audit = () => t.logs.map((l) => JSON.parse(l) as { log?: string; event?: string; reason?: string; subject?: string }).filter((l) => l.log === 'audit');
  const latestAmr = async (userId: string) =>
    (await t.testDb.db.query<{ amr: string[] }>('SELECT amr FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, sid LIMIT 1', [userId])).rows[0]?.amr;

  beforeAll(async () => {
    t = await createTestApp({ AUTHLY_LOCKOUT_MAX_ATTEMPTS: '3' });
    client = await createClient(t.app);
    alice = await createUser(t.app);
    bob = await createUser(t.app);
    const aliceBrowser = await signedInBrowser(t, client, alice.username);
    const registered = await registerPasskey(aliceBrowser, aliceKey, 'Laptop');
    expect(registered.res.statusCode).toBe(303);
    aliceCredential = registered.credentialId;
    expect((await registerPasskey(aliceBrowser, aliceSynced, 'Phone')).res.statusCode).toBe(303);
    expect((await registerPasskey(await signedInBrowser(t, client, bob.username), bobKey, 'Key')).res.statusCode).toBe(303);
  });

  afterAll(async () => {
    await t.close();
  });

  it('the login page offers the passkey: autofill on the username, the button, and only Authly’s own script by nonce', async () => {
    const { page, uid } = await atLoginPage(t, client);
    expect(page.body).toContain('autocomplete="username webauthn"');
    expect(page.body).toContain(`<form method="post" action="/interaction/${uid}/passkey" class="passkey" data-passkey="sign-in" data-options="/interaction/${uid}/passkey/options" data-conditional="true"`);
    expect(page.body).toContain('<button type="button" class="secondary" data-passkey-start hidden>Sign in with a passkey</button>');
    const csp = page.headers['content-security-policy'] as string;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
    expect(csp).toContain("connect-src 'self'");
    const script = /<script src="([^"]+)" integrity="([^"]+)" nonce="([^"]+)" defer><\/script>/.exec(page.body)!;
    expect(script[1]).toMatch(/^\/assets\/webauthn\.js\?v=[A-Za-z0-9_-]{16}$/);
    expect(script[2]).toBe(PASSKEY_SCRIPT_INTEGRITY);
    expect(script[3]).toBe(nonce);
    // The password form stays the first form of the page.
    expect(page.body.indexOf('name="password"')).toBeLessThan(page.body.indexOf('data-passkey='));
  });

  it('the script is served by Authly with a long cache, and matches its integrity', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/assets/webauthn.js?v=x' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.body).toBe(PASSKEY_SCRIPT);
  });

  it('first factor: options list no credentials and require user verification; a device-bound passkey gives hwk user mfa', async () => {
    const { browser, uid, csrf } = await atLoginPage(t, client);
    const options = await signInOptions(browser, uid, csrf);
    expect(options.rpId).toBe('localhost');
    expect(options.allowCredentials).toEqual([]);
    expect(options.userVerification).toBe('required');
    const assertion = aliceKey.get(options, aliceCredential);
    const res = await browser.post(`/interaction/${uid}/passkey`, { csrf_token: csrf, credential: JSON.stringify(assertion) });
    const done = await completeInteraction(browser, res, { username: alice.username });
    expect(redirectParams(done).get('code')).toMatch(/.+/);
    expect(await latestAmr(alice.id)).toEqual(['hwk', 'user', 'mfa']);
    const line = audit().filter((l) => l.event === 'login.succeeded').at(-1) as { amr?: string; actor?: string };
    expect(line).toMatchObject({ actor: alice.id, amr: 'hwk user mfa' });
  });

  it('a synced passkey gives swk', async () => {
    const { browser, uid, csrf } = await atLoginPage(t, client);
    const res = await passkeySignIn(browser, uid, csrf, aliceSynced);
    const done = await completeInteraction(browser, res, { username: alice.username });
    expect(redirectParams(done).get('code')).toMatch(/.+/);
    expect(await latestAmr(alice.id)).toEqual(['swk', 'user', 'mfa']);
  });

  it.each([
    ['another origin', { origin: 'https://evil.example' }],
    ['another RP ID', { rpId: 'evil.example' }],
    ['a create-type clientData', { type: 'webauthn.create' }],
    ['no user verification (first factor)', { flags: FLAGS.UP }],
    ['a forged signature', { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }],
    ['another user’s user handle', { userHandle: Buffer.from('00000000-0000-0000-0000-000000000000').toString('base64url') }],
  ])('%s is refused with the generic failure', async (_name, overrides) => {
    const { browser, uid, csrf } = await atLoginPage(t, client);
    const res = await passkeySignIn(browser, uid, csrf, aliceKey, aliceCredential, overrides);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`<p class="error" role="alert">${SIGN_IN_FAILED}</p>`);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('a challenge serves one attempt: after a failed assertion, a good one with the same challenge is refused', async () => {
    const { browser, uid, csrf } = await atLoginPage(t, client);
    const options = await signInOptions(browser, uid, csrf);
    const forged = bobKey.get(options, undefined, { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey });
    expect((await browser.post(`/interaction/${uid}/passkey`, { csrf_token: csrf, credential: JSON.stringify(forged) })).statusCode).toBe(200);
    expect(audit().at(-1)).toMatchObject({ event: 'login.failed', reason: 'passkey_verification' });
    const good = await browser.post(`/interaction/${uid}/passkey`, { csrf_token: csrf, credential: JSON.stringify(bobKey.get(options)) });
    expect(good.statusCode).toBe(200);
    expect(good.body).toContain(SIGN_IN_FAILED);
    expect(audit().at(-1)).toMatchObject({ event: 'login.failed', reason: 'passkey_challenge' });
  });

  it('a challenge is bound to its interaction: options of one, assertion to another, is refused', async () => {
    const a = await atLoginPage(t, client);
    const b = await atLoginPage(t, client);
    const options = await signInOptions(a.browser, a.uid, a.csrf);
    const res = await b.browser.post(`/interaction/${b.uid}/passkey`, { csrf_token: b.csrf, credential: JSON.stringify(bobKey.get(options)) });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(SIGN_IN_FAILED);
    expect(audit().at(-1)).toMatchObject({ event: 'login.failed', reason: 'passkey_challenge' });
  });

  it('an unknown credential gets the same answer, and is counted by the login throttle', async () => {
    const stranger = new SoftwareAuthenticator(TEST_ISSUER);
    stranger.create({ challenge: 'AAAA', user: { id: 'AAAA' }, rp: {} });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { browser, uid, csrf } = await atLoginPage(t, client, new InjectBrowser(t.app, '192.0.2.10'));
      const res = await passkeySignIn(browser, uid, csrf, stranger);
      statuses.push(res.statusCode);
      if (res.statusCode === 200) expect(res.body).toContain(`<p class="error" role="alert">${SIGN_IN_FAILED}</p>`);
      else {
        expect(res.body).toContain('<p class="error" role="alert">Too many failed attempts. Try again later.</p>');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(audit().filter((l) => l.event === 'login.failed' && l.reason === 'passkey_unknown_credential')).toHaveLength(3);
    expect(audit().at(-1)).toMatchObject({ event: 'login.locked' });
  });

  it('a signature counter that does not grow (a cloned authenticator) is refused and audited', async () => {
    const clone = new SoftwareAuthenticator(TEST_ISSUER);
    // A user without a passkey yet: with one, a password sign-in asks for it as the second factor.
    const carol = await createUser(t.app);
    const browser = await signedInBrowser(t, client, carol.username);
    const { credentialId } = await registerPasskey(browser, clone, 'Cloned');
    const first = await atLoginPage(t, client);
    expect((await passkeySignIn(first.browser, first.uid, first.csrf, clone, credentialId, { signCount: 7 })).statusCode).toBe(303);
    const second = await atLoginPage(t, client);
    const res = await passkeySignIn(second.browser, second.uid, second.csrf, clone, credentialId, { signCount: 7 });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(SIGN_IN_FAILED);
    expect(audit().filter((l) => l.event === 'passkey.clone_suspected').at(-1)).toMatchObject({ subject: carol.id, reason: 'signature_counter' });
    const { rows } = await t.testDb.db.query<{ n: string }>('SELECT sign_count::text AS n FROM webauthn_credentials WHERE id = $1', [credentialId]);
    expect(rows[0]!.n).toBe('7');
  });

  describe('as the second factor', () => {
    /** An interaction whose password passed for `user` (what the MFA step records), at its passkey step. */
    async function pendingFor(user: User) {
      const at = await atLoginPage(t, client);
      await recordInteractionFactors(t.testDb.db, at.uid, user.id, ['pwd']);
      return at;
    }

    it('the options allow only the pending user’s credentials, with user verification preferred', async () => {
      const { browser, uid, csrf } = await pendingFor(alice);
      const options = await signInOptions(browser, uid, csrf);
      const { rows } = await t.testDb.db.query<{ id: string }>('SELECT id FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, id', [alice.id]);
      expect(options.allowCredentials!.map((c) => c.id)).toEqual(rows.map((r) => r.id));
      expect(options.userVerification).toBe('preferred');
    });

    it('the pending user’s passkey finishes the sign-in with pwd and the key: mfa', async () => {
      const { browser, uid, csrf } = await pendingFor(alice);
      const res = await passkeySignIn(browser, uid, csrf, aliceKey, aliceCredential, { flags: FLAGS.UP });
      const done = await completeInteraction(browser, res, { username: alice.username });
      expect(redirectParams(done).get('code')).toMatch(/.+/);
      expect(await latestAmr(alice.id)).toEqual(['pwd', 'hwk', 'mfa']);
    });

    it('another user’s passkey is refused, on the passkey step with the generic failure', async () => {
      const { browser, uid, csrf } = await pendingFor(alice);
      const res = await passkeySignIn(browser, uid, csrf, bobKey);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<h1>Confirm it is you</h1>');
      expect(res.body).toContain(`<p class="error" role="alert">${SIGN_IN_FAILED}</p>`);
      expect(res.body).toContain('data-conditional="false"');
      expect(audit().filter((l) => l.event === 'login.failed').at(-1)).toMatchObject({ reason: 'passkey_wrong_user' });
    });

    it('a first-factor challenge cannot finish a second-factor step', async () => {
      const { browser, uid, csrf } = await atLoginPage(t, client);
      const options = await signInOptions(browser, uid, csrf);
      await recordInteractionFactors(t.testDb.db, uid, alice.id, ['pwd']);
      const res = await browser.post(`/interaction/${uid}/passkey`, { csrf_token: csrf, credential: JSON.stringify(aliceKey.get(options, aliceCredential)) });
      expect(res.statusCode).toBe(200);
      expect(audit().filter((l) => l.event === 'login.failed').at(-1)).toMatchObject({ reason: 'passkey_challenge' });
    });
  });

  describe('forms', () => {
    it('options without the CSRF token: 403', async () => {
      const { browser, uid } = await atLoginPage(t, client);
      const res = await browser.post(`/interaction/${uid}/passkey/options`, { csrf_token: 'nope' });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ error: 'invalid_csrf_token' });
    });

    it('an assertion without the CSRF token: the 403 page', async () => {
      const { browser, uid } = await atLoginPage(t, client);
      const res = await browser.post(`/interaction/${uid}/passkey`, { csrf_token: 'nope', credential: '{}' });
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('The form has expired. Return to the application and try again.');
    });

    it('options from another browser (no interaction cookie): the expired page', async () => {
      const { uid, csrf } = await atLoginPage(t, client);
      const res = await new InjectBrowser(t.app).post(`/interaction/${uid}/passkey/options`, { csrf_token: csrf });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('This sign-in request has expired or was already completed.');
    });

    it.each(['', 'not json', '{"id":"x"}', JSON.stringify({ id: 'a', rawId: 'a', type: 'public-key', response: { clientDataJSON: '!!' } })])(
      'a malformed credential %j: the generic failure',
      async (credential) => {
        const { browser, uid, csrf } = await atLoginPage(t, client);
        const res = await browser.post(`/interaction/${uid}/passkey`, { csrf_token: csrf, credential });
        expect(res.statusCode).toBe(200);
        expect(res.body).toContain(SIGN_IN_FAILED);
      },
    );

    it('a GET on the form URLs goes back to the interaction', async () => {
      const { browser, uid } = await atLoginPage(t, client);
      for (const path of ['passkey', 'passkey/options']) {
        const res = await browser.get(`/interaction/${uid}/${path}`);
        expect(res.statusCode).toBe(303);
        expect(res.headers.location).toBe(`/interaction/${uid}`);
      }
    });
  });
});

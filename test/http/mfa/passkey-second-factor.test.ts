import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { SoftwareAuthenticator } from '../../helpers/software-authenticator.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { adminCall, ADMIN_ENV, adminToken } from '../admin/admin-helpers.js';
import { passkeySignIn, registerPasskey, signedInBrowser } from '../passkeys/passkeys-helpers.js';
import { MFA_PATH, signInWithPassword } from './mfa-helpers.js';

/**
 * A passkey is an enrolled factor: under MFA_POLICY=optional a user who added one is asked for it after
 * a password (otherwise the password alone would get around the stronger factor); the second step then
 * offers the passkey and no code form, and an administrator's reset removes passkeys too.
 */
describe('a passkey as the enrolled second factor', () => {
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    client = await createClient(t.app, { skipConsent: true });
  });
  afterAll(() => t.close());

  it('a password sign-in goes on to the passkey step, which the passkey completes with mfa', async () => {
    const user = await createUser(t.app);
    const key = new SoftwareAuthenticator(TEST_ISSUER);
    const owner = await signedInBrowser(t, client, user.username);
    const { credentialId } = await registerPasskey(owner, key, 'Laptop');
    const security = await owner.get('/account/security');
    expect(security.body).toContain('<strong>Passkeys set up: 1</strong>');
    expect(security.body).toContain('<strong>Authenticator app: off</strong>');

    const browser = new InjectBrowser(t.app, '10.77.0.1');
    const { res } = await signInWithPassword(browser, client, user.username);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toMatch(MFA_PATH);
    const step = await browser.get(res.headers.location as string);
    expect(step.statusCode).toBe(200);
    expect(step.body).toContain('data-passkey="sign-in"');
    expect(step.body).not.toContain('name="code"');

    const uid = (res.headers.location as string).split('/')[2]!;
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(step.body)![1]!;
    const done = await passkeySignIn(browser, uid, csrf, key, credentialId);
    expect(done.statusCode).toBe(303);
    expect(redirectParams(done).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { rows } = await t.testDb.db.query<{ amr: string[] }>('SELECT amr FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1', [user.id]);
    expect(rows[0]!.amr).toEqual(expect.arrayContaining(['pwd', 'mfa']));
  });

  it("an administrator's factor reset removes the user's passkeys, and the password alone signs in again", async () => {
    const user = await createUser(t.app);
    await registerPasskey(await signedInBrowser(t, client, user.username), new SoftwareAuthenticator(TEST_ISSUER), 'Key');
    const call = adminCall(t.app, await adminToken(t.app));
    const reset = await call('POST', `/admin/users/${user.id}/reset-factors`);
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toEqual({ user_id: user.id, removed: 1 });
    const { rows } = await t.testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webauthn_credentials WHERE user_id = $1', [user.id]);
    expect(rows[0]!.n).toBe(0);
    const { res } = await signInWithPassword(new InjectBrowser(t.app, '10.77.0.2'), client, user.username);
    expect(res.statusCode).toBe(303);
    expect(redirectParams(res).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

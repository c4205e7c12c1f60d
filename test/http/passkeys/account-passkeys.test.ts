import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../src/repositories/users-repository.js';
import { csrfToken, InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { SoftwareAuthenticator } from '../../helpers/software-authenticator.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { accountCsrf, registerPasskey, signedInBrowser } from './passkeys-helpers.js';

/** /account/security/passkeys: list, add (registration ceremony bound to the session), rename, remove. */
describe('account passkeys', () => {
  let t: TestApp;
  let client: TestClient;
  let alice: User;
  let bob: User;
  let aliceBrowser: InjectBrowser;
  let bobBrowser: InjectBrowser;

  const audit = () => t.logs.map((l) => JSON.parse(l) as { log?: string; event?: string; actor?: string }).filter((l) => l.log === 'audit');
  const credentialsOf = async (userId: string) =>
    (
      await t.testDb.db.query<{ id: string; name: string; device_type: string; transports: string[] }>(
        'SELECT id, name, device_type, transports FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, id',
        [userId],
      )
    ).rows;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    alice = await createUser(t.app, { email: 'alice@example.com' });
    bob = await createUser(t.app);
    aliceBrowser = await signedInBrowser(t, client, alice.username);
    bobBrowser = await signedInBrowser(t, client, bob.username);
  });

  afterAll(async () => {
    await t.close();
  });

  it('without a session: to the account sign-in, returning here', async () => {
    const res = await new InjectBrowser(t.app).get('/account/security/passkeys');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account/sign-in?return_to=%2Faccount%2Fsecurity%2Fpasskeys');
  });

  it('the empty list, the add form, and the page’s CSP (Authly’s script by nonce, fetch to self)', async () => {
    const res = await aliceBrowser.get('/account/security/passkeys');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<h1>Passkeys</h1>');
    expect(res.body).toContain('<p>You have no passkeys yet.</p>');
    expect(res.body).toContain('<form method="post" action="/account/security/passkeys" data-passkey="register" data-options="/account/security/passkeys/options"');
    expect(res.body).toContain('<label for="passkey-new-name">Name</label>');
    const csp = res.headers['content-security-policy'] as string;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
    expect(res.body).toContain(`nonce="${nonce}" defer></script>`);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("form-action 'self'");
  });

  it('registration options: discoverable, user verification required, no attestation, RP ID the issuer host', async () => {
    const csrf = await accountCsrf(aliceBrowser);
    const res = await aliceBrowser.post('/account/security/passkeys/options', { csrf_token: csrf });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const options = res.json();
    expect(options).toMatchObject({
      rp: { id: 'localhost', name: 'Authly' },
      user: { id: Buffer.from(alice.id).toString('base64url'), name: 'alice@example.com' },
      attestation: 'none',
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
      excludeCredentials: [],
    });
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('adds a passkey: listed with its name, audited, and a passkey_added mail queued', async () => {
    const key = new SoftwareAuthenticator(TEST_ISSUER);
    const { res, credentialId } = await registerPasskey(aliceBrowser, key, '  Work   laptop ');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account/security/passkeys?done=added');
    const page = await aliceBrowser.get(res.headers.location as string);
    expect(page.body).toContain('<p class="notice" role="status">The passkey was added.</p>');
    expect(page.body).toContain('<h3>Work laptop</h3>');
    expect(page.body).toContain('Stays on one device');
    expect(page.body).toContain('Not used yet.');
    expect(await credentialsOf(alice.id)).toEqual([{ id: credentialId, name: 'Work laptop', device_type: 'singleDevice', transports: ['internal'] }]);
    expect(audit().at(-1)).toMatchObject({ event: 'passkey.added', actor: alice.id });
    const { rows } = await t.testDb.db.query<{ recipient: string; template: string; data: Record<string, string> }>(
      "SELECT recipient, template, data FROM mail_outbox WHERE template = 'passkey_added'",
    );
    expect(rows).toEqual([
      {
        recipient: 'alice@example.com',
        template: 'passkey_added',
        data: { username: alice.username, passkeyName: 'Work laptop', accountUrl: `${TEST_ISSUER}/account/security/passkeys` },
      },
    ]);
  });

  it('a second passkey: the options exclude the first; several per user', async () => {
    const csrf = await accountCsrf(aliceBrowser);
    const options = (await aliceBrowser.post('/account/security/passkeys/options', { csrf_token: csrf })).json();
    expect(options.excludeCredentials.map((c: { id: string }) => c.id)).toEqual((await credentialsOf(alice.id)).map((c) => c.id));
    const { res } = await registerPasskey(aliceBrowser, new SoftwareAuthenticator(TEST_ISSUER, undefined, true), 'Phone');
    expect(res.statusCode).toBe(303);
    expect((await credentialsOf(alice.id)).map((c) => [c.name, c.device_type])).toEqual([
      ['Work laptop', 'singleDevice'],
      ['Phone', 'multiDevice'],
    ]);
  });

  it.each([
    ['another origin', { origin: 'https://evil.example' }],
    ['another RP ID', { rpId: 'evil.example' }],
    ['a get-type clientData', { type: 'webauthn.get' }],
    ['another challenge', { challenge: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }],
    ['no user verification', { flags: 0x01 | 0x40 }],
  ])('%s: refused, nothing stored', async (_name, overrides) => {
    const before = (await credentialsOf(bob.id)).length;
    const { res } = await registerPasskey(bobBrowser, new SoftwareAuthenticator(TEST_ISSUER), 'Bad', overrides);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('<p class="error" role="alert">The passkey could not be added. Try again.</p>');
    expect(res.body).toContain('value="Bad"');
    expect((await credentialsOf(bob.id)).length).toBe(before);
  });

  it('a registration challenge is bound to its session: options of one session, attestation from another, refused', async () => {
    const other = await signedInBrowser(t, client, bob.username);
    const csrfA = await accountCsrf(bobBrowser);
    const options = (await bobBrowser.post('/account/security/passkeys/options', { csrf_token: csrfA })).json();
    const response = new SoftwareAuthenticator(TEST_ISSUER).create(options);
    const res = await other.post('/account/security/passkeys', { csrf_token: await accountCsrf(other), name: 'X', credential: JSON.stringify(response) });
    expect(res.statusCode).toBe(400);
    // The other session could not consume it: it serves its own session, once.
    const ok = await bobBrowser.post('/account/security/passkeys', { csrf_token: csrfA, name: 'X', credential: JSON.stringify(response) });
    expect(ok.statusCode).toBe(303);
    const again = await bobBrowser.post('/account/security/passkeys', { csrf_token: csrfA, name: 'Y', credential: JSON.stringify(response) });
    expect(again.statusCode).toBe(400);
  });

  it('renames its own passkey; another user’s id is answered as not found (no IDOR)', async () => {
    const [first] = await credentialsOf(alice.id);
    const csrf = await accountCsrf(aliceBrowser);
    const res = await aliceBrowser.post('/account/security/passkeys/rename', { csrf_token: csrf, credential_id: first!.id, name: 'Old laptop' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account/security/passkeys?done=renamed');
    expect((await credentialsOf(alice.id))[0]!.name).toBe('Old laptop');
    expect(audit().at(-1)).toMatchObject({ event: 'passkey.renamed', actor: alice.id });

    const stolen = await bobBrowser.post('/account/security/passkeys/rename', { csrf_token: await accountCsrf(bobBrowser), credential_id: first!.id, name: 'Mine' });
    expect(stolen.statusCode).toBe(404);
    expect(stolen.body).toContain('<p class="error" role="alert">That passkey does not exist any more.</p>');
    expect((await credentialsOf(alice.id))[0]!.name).toBe('Old laptop');
  });

  it.each(['', '   ', 'x'.repeat(65), 'bell\u0007name'])('a name %j is refused', async (name) => {
    const [first] = await credentialsOf(alice.id);
    const res = await aliceBrowser.post('/account/security/passkeys/rename', { csrf_token: await accountCsrf(aliceBrowser), credential_id: first!.id, name });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Enter a name of 1 to 64 characters.');
  });

  it('removes its own passkey (the owner is mailed, with its name); another user’s cannot be removed', async () => {
    const [first, second] = await credentialsOf(alice.id);
    const stolen = await bobBrowser.post('/account/security/passkeys/remove', { csrf_token: await accountCsrf(bobBrowser), credential_id: first!.id });
    expect(stolen.statusCode).toBe(404);
    const res = await aliceBrowser.post('/account/security/passkeys/remove', { csrf_token: await accountCsrf(aliceBrowser), credential_id: first!.id });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account/security/passkeys?done=removed');
    expect((await credentialsOf(alice.id)).map((c) => c.id)).toEqual([second!.id]);
    expect(audit().at(-1)).toMatchObject({ event: 'passkey.removed', actor: alice.id });
    const { rows } = await t.testDb.db.query<{ recipient: string; data: Record<string, string> }>(
      "SELECT recipient, data FROM mail_outbox WHERE template = 'passkey_removed'",
    );
    expect(rows).toEqual([
      { recipient: 'alice@example.com', data: { username: alice.username, passkeyName: first!.name, accountUrl: `${TEST_ISSUER}/account/security/passkeys` } },
    ]);
  });

  it.each([
    ['/account/security/passkeys', { name: 'x', credential: '{}' }],
    ['/account/security/passkeys/rename', { credential_id: 'x', name: 'y' }],
    ['/account/security/passkeys/remove', { credential_id: 'x' }],
  ])('POST %s without the CSRF token: 403 page, nothing changes', async (url, form) => {
    const res = await aliceBrowser.post(url, { csrf_token: 'forged', ...form });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('<p class="error" role="alert">The form has expired. Reload the page and try again.</p>');
  });

  it('options without the CSRF token: 403', async () => {
    const res = await aliceBrowser.post('/account/security/passkeys/options', { csrf_token: 'forged' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ error: 'invalid_csrf_token' });
  });

  it('a GET on a form URL goes back to the list', async () => {
    for (const path of ['options', 'rename', 'remove']) {
      const res = await aliceBrowser.get(`/account/security/passkeys/${path}`);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/account/security/passkeys');
    }
  });

  it('the page in German follows Accept-Language', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/account/security/passkeys?done=constructor',
      headers: { 'accept-language': 'de', cookie: (await aliceCookie()) },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<html lang="de">');
    expect(res.body).toContain('<h2>Ihre Passkeys</h2>');
    expect(res.body).not.toContain('class="notice"');
  });

  /** Alice's session cookie, read from a page request's cookie header. */
  async function aliceCookie(): Promise<string> {
    const page = await aliceBrowser.get('/account/security/passkeys');
    expect(csrfToken(page.body)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    return (aliceBrowser as unknown as { cookieHeader(url: string): string }).cookieHeader('/account/security/passkeys');
  }
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, formAction, InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { authorizeUrl, exchangeCode, setCookieLine, type Tokens } from '../../helpers/oauth-flow.js';
import { pkcePair } from '../../helpers/fixtures.js';
import { sha256Base64url } from '../../../src/lib/crypto.js';
import type { User } from '../../../src/repositories/users-repository.js';

/** SECURITY.md: opaque tokens, codes and cookies are stored only as hashes; codes are bound and short lived. */
describe('what the database holds', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;
  let code: string;
  let challenge: string;
  let sessionCookie: string;
  let tokens: Tokens;
  let dump: string;

  beforeAll(async () => {
    t = await createTestApp({ AUTHORIZATION_CODE_EXPIRE_MINUTES: '1' });
    client = await createClient(t.app);
    user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    const pkce = pkcePair();
    challenge = pkce.challenge;
    const start = await browser.get(authorizeUrl(client.clientId, { scope: 'openid offline_access', code_challenge: challenge }));
    const page = await browser.get(start.headers.location as string);
    const login = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: TEST_PASSWORD });
    sessionCookie = setCookieLine(login, 'authly_session')!.split(';')[0]!.split('=')[1]!;
    const consentPage = await browser.get(login.headers.location as string);
    const done = await browser.post(formAction(consentPage.body), { csrf_token: csrfToken(consentPage.body), decision: 'allow' });
    code = redirectParams(done).get('code')!;

    // Read the code row before the exchange consumes it.
    const tables = ['authorization_codes', 'sessions', 'grants', 'interactions', 'consents', 'users', 'clients'];
    const before: unknown[] = [];
    for (const table of tables) before.push((await t.app.ctx.db.query(`SELECT * FROM ${table}`)).rows);
    tokens = (await exchangeCode(t.app, client, { code, verifier: pkce.verifier })).json() as Tokens;
    const after: unknown[] = [];
    for (const table of [...tables, 'access_tokens', 'refresh_tokens', 'signing_keys']) after.push((await t.app.ctx.db.query(`SELECT * FROM ${table}`)).rows);
    dump = JSON.stringify([before, after]);
  });
  afterAll(() => t.close());

  it.each(['code', 'sessionCookie', 'refreshToken', 'accessToken', 'clientSecret', 'password'])('no table holds the raw %s', (name) => {
    const value = { code, sessionCookie, refreshToken: tokens.refresh_token!, accessToken: tokens.access_token, clientSecret: client.clientSecret!, password: TEST_PASSWORD }[
      name
    ]!;
    expect(dump).not.toContain(value);
  });

  it('codes, refresh tokens and sessions are found by their SHA-256', async () => {
    const db = t.app.ctx.db;
    expect((await db.query('SELECT 1 FROM authorization_codes WHERE code_hash = $1', [sha256Base64url(code)])).rows).toHaveLength(1);
    expect((await db.query('SELECT 1 FROM refresh_tokens WHERE token_hash = $1', [sha256Base64url(tokens.refresh_token!)])).rows).toHaveLength(1);
    expect((await db.query('SELECT 1 FROM sessions WHERE id_hash = $1', [sha256Base64url(sessionCookie)])).rows).toHaveLength(1);
    expect((await db.query('SELECT 1 FROM access_tokens WHERE jti = $1', [decodeJwt(tokens.access_token).jti])).rows).toHaveLength(1);
  });

  it('the password is stored as argon2id', async () => {
    const { rows } = await t.app.ctx.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [user.id]);
    expect(rows[0]!.password_hash).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
  });

  it('the code is bound to client, redirect_uri and challenge, and lives AUTHORIZATION_CODE_EXPIRE_MINUTES', async () => {
    const { rows } = await t.app.ctx.db.query<{ client_id: string; redirect_uri: string; code_challenge: string; code_challenge_method: string; lifetime: number }>(
      `SELECT client_id, redirect_uri, code_challenge, code_challenge_method,
              extract(epoch FROM expires_at - created_at)::float AS lifetime
       FROM authorization_codes WHERE code_hash = $1`,
      [sha256Base64url(code)],
    );
    const row = rows[0]!;
    expect(row).toMatchObject({ client_id: client.clientId, redirect_uri: 'https://app.example.com/callback', code_challenge: challenge, code_challenge_method: 'S256' });
    expect(row.lifetime).toBeGreaterThan(55);
    expect(row.lifetime).toBeLessThanOrEqual(61);
  });
});

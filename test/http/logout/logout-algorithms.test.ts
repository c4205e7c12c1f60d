import { createHmac } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../src/repositories/users-repository.js';
import type { SigningAlg } from '../../../src/tokens/key-store.js';
import { signJwt } from '../../../src/tokens/jwt.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { obtainTokens } from '../../helpers/oauth-flow.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';

const LOGGED_OUT_URI = 'https://app.example.com/logged-out';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A client may be given any algorithm the key store holds (id_token_signed_response_alg), so an
 * id_token_hint signed with any of them is one of ours; none and HS* never are.
 */
describe.each<SigningAlg>(['ES256', 'EdDSA'])('RP-Initiated Logout with JWT_ALGORITHM=%s', (alg) => {
  let t: TestApp;
  let client: TestClient;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp({ JWT_ALGORITHM: alg });
    client = await createClient(t.app, { postLogoutRedirectUris: [LOGGED_OUT_URI], idTokenSignedResponseAlg: alg });
    user = await createUser(t.app);
  });
  afterAll(() => t?.close());

  /** A signed-in browser and the claims of an ID token for its session. */
  async function signedIn() {
    const browser = new InjectBrowser(t.app);
    const { id_token } = await obtainTokens(t.app, browser, client, user.username, { scope: 'openid' });
    const sid = decodeJwt(id_token!).sid as string;
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: TEST_ISSUER, sub: user.id, aud: client.clientId, azp: client.clientId, sid, iat: now, exp: now + 300 };
    return { browser, sid, claims };
  }

  const sessionExists = async (sid: string) => (await t.app.ctx.db.query('SELECT 1 FROM sessions WHERE sid = $1', [sid])).rows.length === 1;

  it(`accepts a hint signed with the server's ${alg} key`, async () => {
    const { browser, sid, claims } = await signedIn();
    const hint = await signJwt(claims, t.app.ctx.keys.signingKey(alg), 'JWT');
    const res = await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: LOGGED_OUT_URI, state: 's' })}`);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`${LOGGED_OUT_URI}?state=s`);
    expect(await sessionExists(sid)).toBe(false);
  });

  it.each([
    ['alg none', (kid: string, claims: object) => `${b64({ alg: 'none', kid, typ: 'JWT' })}.${b64(claims)}.`],
    [
      // Algorithm confusion: an HMAC keyed with the public key the JWKS publishes.
      'HS256 keyed with the public JWK',
      (kid: string, claims: object, publicJwk: object) => {
        const input = `${b64({ alg: 'HS256', kid, typ: 'JWT' })}.${b64(claims)}`;
        return `${input}.${createHmac('sha256', JSON.stringify(publicJwk)).update(input).digest('base64url')}`;
      },
    ],
  ])(`refuses a hint with the ${alg} key's kid and %s`, async (_case, forge) => {
    const { browser, sid, claims } = await signedIn();
    const key = t.app.ctx.keys.signingKey(alg);
    const res = await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: forge(key.kid, claims, key.publicJwk) })}`);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('The id_token_hint is not a valid ID token issued by this server.');
    expect(await sessionExists(sid)).toBe(true);
  });
});

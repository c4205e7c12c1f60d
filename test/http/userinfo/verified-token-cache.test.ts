import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { FORM, obtainTokens, userinfo } from '../../helpers/oauth-flow.js';
import type { User } from '../../../src/repositories/users-repository.js';

/**
 * Signature verifications are cached per token (src/tokens/verified-jwt-cache.ts); the database checks
 * are not. A token that userinfo and introspection have already accepted (so its signature is cached)
 * must be refused the moment it is revoked, its user disabled, or it expires in the database.
 */
describe('verified-token cache keeps every database check', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  const introspect = (token: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { ...FORM, authorization: basicAuth(client.clientId, client.clientSecret!) },
      payload: new URLSearchParams({ token }).toString(),
    });

  async function acceptedToken(): Promise<string> {
    const { access_token } = await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, { scope: 'openid' });
    for (let i = 0; i < 2; i++) {
      expect((await userinfo(t.app, access_token)).statusCode).toBe(200);
      expect((await introspect(access_token)).json()).toMatchObject({ active: true });
    }
    return access_token;
  }

  it('a revoked token is refused at once, after being accepted', async () => {
    const token = await acceptedToken();
    const revoke = await t.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { ...FORM, authorization: basicAuth(client.clientId, client.clientSecret!) },
      payload: new URLSearchParams({ token }).toString(),
    });
    expect(revoke.statusCode).toBe(200);
    expect((await userinfo(t.app, token)).statusCode).toBe(401);
    expect((await introspect(token)).json()).toEqual({ active: false });
  });

  it('a token expired in the database is refused, after being accepted', async () => {
    const token = await acceptedToken();
    await t.app.ctx.db.query("UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE jti = $1", [decodeJwt(token).jti]);
    expect((await userinfo(t.app, token)).statusCode).toBe(401);
    expect((await introspect(token)).json()).toEqual({ active: false });
  });

  it("a disabled user's token is refused, after being accepted", async () => {
    const other = await createUser(t.app);
    const { access_token } = await obtainTokens(t.app, new InjectBrowser(t.app), client, other.username, { scope: 'openid' });
    expect((await userinfo(t.app, access_token)).statusCode).toBe(200);
    await t.app.ctx.db.query('UPDATE users SET is_active = false WHERE id = $1', [other.id]);
    expect((await userinfo(t.app, access_token)).statusCode).toBe(401);
    expect((await introspect(access_token)).json()).toEqual({ active: false });
  });

  it('a token altered by one character is refused even though its original is cached', async () => {
    const token = await acceptedToken();
    // A character inside the signature (the last one may carry only padding bits).
    const i = token.lastIndexOf('.') + 10;
    const altered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    expect((await userinfo(t.app, altered)).statusCode).toBe(401);
  });
});
